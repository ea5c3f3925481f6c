//! Request body compression: [`Compression`].
//!
//! Gzip (the `gzip` feature, on by default) uses `flate2` on its pure-Rust
//! `miniz_oxide` backend: no C library, builds with Rust alone. JSON
//! records repeat every key, so a batch shrinks to a small fraction
//! (measured in `docs/delivery.md`). The request then says
//! `Content-Encoding: gzip`, as the OTLP/HTTP specification allows.

// Without `http` nothing is sent, so nothing backs off or is compressed.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

/// How request bodies are compressed, chosen with
/// [`TelemetryBuilder::compression`](crate::TelemetryBuilder::compression).
///
/// The default depends on the wire format: none for cagent's records (a
/// cagent-compatible backend may not accept gzip), gzip for OTLP (every
/// OTLP/HTTP receiver must). Without the `gzip` feature, `Gzip` sends the
/// body uncompressed, and debug mode says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// The body as it is (`identity`).
    None,
    /// `Content-Encoding: gzip`.
    Gzip,
}

impl Compression {
    /// What this build can send for `self`: `Gzip` without the `gzip`
    /// feature is `None`.
    #[must_use]
    pub(crate) fn available(self) -> Compression {
        if cfg!(feature = "gzip") {
            self
        } else {
            Compression::None
        }
    }
}

/// `body` gzipped (fast level: the body is small and sent at once).
#[cfg(feature = "gzip")]
pub(crate) fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .unwrap_or_default()
}

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_round_trips_and_shrinks_json() {
        let body =
            br#"{"records":[{"event":"tool","properties":{"tool_name":"read_file"}}]}"#.repeat(100);
        let compressed = gzip(&body);
        assert!(compressed.len() * 10 < body.len(), "{}", compressed.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, body);
    }
}
