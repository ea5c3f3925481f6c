//! Request bodies as sent: identity or `Content-Encoding: gzip`, inflated
//! with a bound so that a gzip bomb costs at most the bound in memory.

use super::BodyError;
use flate2::read::MultiGzDecoder;
use std::borrow::Cow;
use std::io::Read;

/// The largest body accepted on the wire (before inflating): 5 MiB.
pub const MAX_BODY: usize = 5 * 1024 * 1024;
/// The largest body after inflating a gzip body: 20 MiB.
pub const MAX_INFLATED: usize = 20 * 1024 * 1024;

/// The body's bytes after its `Content-Encoding` (`identity` or `gzip`; none
/// means identity). Inflating stops as soon as the output passes
/// [`MAX_INFLATED`]: the rest is never inflated.
pub fn decode<'a>(body: &'a [u8], encoding: Option<&str>) -> Result<Cow<'a, [u8]>, BodyError> {
    match encoding.map(str::trim) {
        None | Some("") => Ok(Cow::Borrowed(body)),
        Some(name) if name.eq_ignore_ascii_case("identity") => Ok(Cow::Borrowed(body)),
        Some(name) if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") => {
            inflate(body).map(Cow::Owned)
        }
        Some(other) => Err(BodyError::Unsupported(format!(
            "Content-Encoding {other:?} is not supported (use gzip or identity)"
        ))),
    }
}

fn inflate(body: &[u8]) -> Result<Vec<u8>, BodyError> {
    let limit = u64::try_from(MAX_INFLATED).unwrap_or(u64::MAX) + 1;
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_INFLATED));
    MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|error| {
            BodyError::Malformed(format!("the gzip body does not inflate: {error}"))
        })?;
    if out.len() > MAX_INFLATED {
        return Err(BodyError::TooLarge(
            "the gzip body inflates past 20 MiB".to_owned(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_and_identity_give_the_same_bytes() {
        let data = br#"{"records":[]}"#;
        assert_eq!(&*decode(&gzip(data), Some("gzip")).unwrap(), data);
        assert_eq!(&*decode(data, None).unwrap(), data);
        assert_eq!(&*decode(data, Some("identity")).unwrap(), data);
        assert!(matches!(
            decode(data, Some("br")),
            Err(BodyError::Unsupported(_))
        ));
        assert!(matches!(
            decode(data, Some("gzip")),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn a_bomb_stops_at_the_bound() {
        let zeros = vec![0u8; MAX_INFLATED + 1024];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < MAX_BODY);
        assert!(matches!(
            decode(&bomb, Some("gzip")),
            Err(BodyError::TooLarge(_))
        ));
        let exactly = gzip(&zeros[..MAX_INFLATED]);
        assert_eq!(decode(&exactly, Some("gzip")).unwrap().len(), MAX_INFLATED);
    }
}
