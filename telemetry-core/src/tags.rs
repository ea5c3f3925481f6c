//! `TELEMETRY_TAGS`: extra `key=value` properties added to every record.

use crate::limits::truncate_at_char_boundary;
pub use crate::limits::{MAX_TAGS, MAX_TAGS_INPUT_LEN, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN};

/// Parses `k=v,k2=v2` with cagent's rules: entries are split on `,`, keys and
/// values are trimmed, and an entry without `=` or with an empty key is
/// dropped. Within the caps above; a repeated key keeps its first value.
#[must_use]
pub fn parse_tags(input: &str) -> Vec<(String, String)> {
    let input = truncate_at_char_boundary(input, MAX_TAGS_INPUT_LEN);
    let mut tags: Vec<(String, String)> = Vec::new();
    for entry in input.split(',') {
        if tags.len() == MAX_TAGS {
            break;
        }
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || key.len() > MAX_TAG_KEY_LEN || tags.iter().any(|(k, _)| k == key) {
            continue;
        }
        let value = truncate_at_char_boundary(value, MAX_TAG_VALUE_LEN);
        tags.push((key.to_owned(), value.to_owned()));
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse_tags(input)
    }

    #[test]
    fn cagent_rules() {
        assert_eq!(
            pairs(" team = core ,env=ci,novalue,=empty-key, k= spaced value "),
            [
                ("team".into(), "core".into()),
                ("env".into(), "ci".into()),
                ("k".into(), "spaced value".into())
            ]
        );
        assert_eq!(pairs("a=b=c"), [("a".into(), "b=c".into())]);
        assert_eq!(pairs("empty="), [("empty".into(), String::new())]);
        assert!(pairs("").is_empty());
    }

    #[test]
    fn huge_input_is_capped() {
        let many: String = (0..100_000).map(|i| format!("k{i}=v,")).collect();
        assert_eq!(pairs(&many).len(), MAX_TAGS);
        let big_value = format!("k={}", "é".repeat(500_000));
        let tags = pairs(&big_value);
        assert_eq!(tags.len(), 1);
        assert!(tags[0].1.len() <= MAX_TAG_VALUE_LEN);
    }

    #[test]
    fn repeated_key_keeps_first() {
        assert_eq!(pairs("a=1,a=2"), [("a".into(), "1".into())]);
    }
}
