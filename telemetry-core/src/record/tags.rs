//! `TELEMETRY_TAGS`: extra `key=value` properties added to every record.

use crate::record::limits::truncate_at_char_boundary;
use crate::record::limits::{MAX_TAGS, MAX_TAGS_INPUT_LEN, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN};

/// Parses `k=v,k2=v2` with cagent's rules: entries are split on `,`, keys and
/// values are trimmed, and an entry without `=` or with an empty key is
/// dropped. Within the caps above; a repeated key keeps its first value.
#[must_use]
pub(crate) fn parse_tags(input: &str) -> Vec<(String, String)> {
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

#[cfg(test)]
mod properties {
    //! Property tests: every tag is an entry of the input, within the caps.

    use super::*;
    use proptest::prelude::*;

    /// Tag lists: short entries built from the characters that matter.
    fn tag_input() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c=, \t\u{e9}\u{1}\u{2028}]{0,60}",
            prop::collection::vec("[ a-z0-9]{0,6}(=[ a-z0-9=\u{e9}]{0,8})?", 0..80)
                .prop_map(|entries| entries.join(",")),
            "\\PC{0,80}",
        ]
    }

    /// Inputs around the input cap, so that the cut falls inside a multi-byte
    /// character.
    fn long_tag_input() -> impl Strategy<Value = String> {
        (
            (MAX_TAGS_INPUT_LEN - 8)..(MAX_TAGS_INPUT_LEN + 8),
            "[\u{e9}\u{20ac}\u{1f600}=,k]{1,16}",
        )
            .prop_map(|(filler, tail)| format!("{}{tail}", "é,".repeat(filler / 3)))
    }

    fn check_tags(input: &str) -> Result<(), TestCaseError> {
        let parsed = parse_tags(input);
        prop_assert!(parsed.len() <= MAX_TAGS);
        let entries: Vec<(&str, &str)> = input
            .split(',')
            .filter_map(|entry| entry.split_once('='))
            .map(|(key, value)| (key.trim(), value.trim()))
            .collect();
        for (i, (key, value)) in parsed.iter().enumerate() {
            prop_assert!(!key.is_empty() && key.len() <= MAX_TAG_KEY_LEN);
            prop_assert_eq!(key.trim(), key.as_str());
            prop_assert!(!key.contains(',') && !key.contains('='));
            prop_assert!(value.len() <= MAX_TAG_VALUE_LEN && !value.contains(','));
            prop_assert!(
                parsed[..i].iter().all(|(earlier, _)| earlier != key),
                "repeated key"
            );
            // Each tag comes from an entry of the input: its key, and its value
            // (perhaps cut).
            prop_assert!(
                entries
                    .iter()
                    .any(|(k, v)| k == key && v.starts_with(value.as_str())),
                "{:?}={:?} is not in the input",
                key,
                value
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn tags_are_entries_of_the_input_within_the_caps(input in tag_input()) {
            check_tags(&input)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn long_tags_are_cut_on_a_character_boundary(input in long_tag_input()) {
            check_tags(&input)?;
        }
    }
}
