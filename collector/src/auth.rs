//! Who may read, and whose records may be ingested: the bearer token (or
//! HTTP Basic with the token as password, for a browser) and the ingest
//! keys. Comparisons take the same time whatever the guess.

use crate::server::HttpRequest;
use std::collections::BTreeMap;

/// Whether `request` may read the API and the page: always without a
/// token; with one, when `Authorization` carries it.
pub fn may_read(request: &HttpRequest, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let Some(authorization) = request.header("authorization") else {
        return false;
    };
    let (scheme, credentials) = authorization
        .trim()
        .split_once(' ')
        .unwrap_or((authorization, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return same(credentials.as_bytes(), token.as_bytes());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Some(decoded) = base64_decode(credentials) else {
            return false;
        };
        let password = match decoded.iter().position(|&byte| byte == b':') {
            Some(colon) => &decoded[colon + 1..],
            None => return false,
        };
        return same(password, token.as_bytes());
    }
    false
}

/// Whether every record's app accepts the request's `x-api-key`: an app
/// with keys needs one of them; an app without keys is open.
pub fn may_ingest<'a>(
    keys: &BTreeMap<String, Vec<String>>,
    apps: impl IntoIterator<Item = &'a str>,
    presented: Option<&str>,
) -> bool {
    apps.into_iter().all(|app| match keys.get(app) {
        None => true,
        Some(allowed) => presented.is_some_and(|presented| {
            allowed.iter().fold(false, |found, key| {
                found | same(key.as_bytes(), presented.as_bytes())
            })
        }),
    })
}

/// Compares without an early exit on the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in text.bytes().filter(|&byte| byte != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(base64_decode("dXNlcjpzM2NyZXQ=").unwrap(), b"user:s3cret");
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"a", b"ab"));
    }

    #[test]
    fn ingest_keys_bind_only_their_apps() {
        let keys = BTreeMap::from([("a".to_owned(), vec!["k1".to_owned()])]);
        assert!(may_ingest(&keys, ["b"], None));
        assert!(!may_ingest(&keys, ["a", "b"], None));
        assert!(!may_ingest(&keys, ["a"], Some("k2")));
        assert!(may_ingest(&keys, ["a"], Some("k1")));
    }
}
