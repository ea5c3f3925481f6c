//! Property tests for the three parsers of untrusted input: environment
//! switches (through the builder, with `.env_vars(..)`), `TELEMETRY_TAGS`
//! (`tags::parse_tags`) and the command-line privacy filter
//! (`args::flag_names`). None may panic; each output is checked against what
//! the design promises. Case counts are modest to keep the suite fast.

use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::OnceLock;
use telemetry_core::{args, tags, MemorySink, Telemetry};
use telemetry_test_support::TempDir;

// ---------------------------------------------------------------------------
// Environment switches

const ON_WORDS: [&str; 4] = ["1", "true", "yes", "on"];
const OFF_WORDS: [&str; 4] = ["0", "false", "no", "off"];

/// A switch value as the design reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    Unset,
    On,
    Off,
    Other,
}

/// The design's rule: trimmed, any case; unset or blank is unset; anything
/// else, including bytes that are not UTF-8, is neither yes nor no.
fn reading(value: Option<&[u8]>) -> Reading {
    let Some(bytes) = value else {
        return Reading::Unset;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Reading::Other;
    };
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        Reading::Unset
    } else if ON_WORDS.contains(&text.as_str()) {
        Reading::On
    } else if OFF_WORDS.contains(&text.as_str()) {
        Reading::Off
    } else {
        Reading::Other
    }
}

/// Switch values: the words in any case with whitespace around, near
/// misses, arbitrary text, and arbitrary bytes.
fn switch_value() -> impl Strategy<Value = Option<Vec<u8>>> {
    let word = prop::sample::select([ON_WORDS, OFF_WORDS].concat());
    let padded = (
        word,
        any::<u8>(),
        prop::sample::select(vec!["", " ", "\t", "\n ", "\u{a0}", "\u{3000}"]),
        prop::sample::select(vec!["", " ", "\r\n", "\u{2003}", "x", "\u{0}"]),
    )
        .prop_map(|(word, case, before, after)| {
            let word: String = word
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if case >> (i % 8) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            format!("{before}{word}{after}").into_bytes()
        });
    prop_oneof![
        Just(None),
        padded.prop_map(Some),
        "\\PC{0,8}".prop_map(|text| Some(text.into_bytes())),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(Some),
    ]
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn config_dir() -> &'static TempDir {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new("properties"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn opt_out_switches_follow_the_design(
        do_not_track in switch_value(),
        enabled in switch_value(),
        ci in switch_value(),
    ) {
        let mut vars = Vec::new();
        for (name, value) in [("DO_NOT_TRACK", &do_not_track), ("TELEMETRY_ENABLED", &enabled), ("CI", &ci)] {
            if let Some(value) = value {
                vars.push((name, os(value)));
            }
        }
        let sink = MemorySink::new();
        let telemetry = Telemetry::builder("prop-test", "1.0.0")
            .sink(sink.clone())
            .config_dir(config_dir().path())
            .notice(false)
            .notice_writer(std::io::sink())
            .env_vars(vars)
            .build();
        let expected = matches!(reading(do_not_track.as_deref()), Reading::Unset | Reading::Off)
            && matches!(reading(enabled.as_deref()), Reading::Unset | Reading::On);
        prop_assert_eq!(telemetry.is_enabled(), expected);
        telemetry.track_command("run", Vec::<String>::new());
        let events = sink.records();
        prop_assert_eq!(events.len(), usize::from(expected));
        if let Some(record) = events.first() {
            let record = serde_json::to_value(record).unwrap();
            let is_ci = !matches!(reading(ci.as_deref()), Reading::Unset | Reading::Off);
            prop_assert_eq!(&record["properties"]["ci"], &serde_json::Value::Bool(is_ci));
        }
    }

    /// Every variable at once, with arbitrary bytes: `build` never panics,
    /// and a client it returns can record.
    #[test]
    fn any_environment_builds(values in prop::collection::vec(
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40)), 11)
    ) {
        const NAMES: [&str; 11] = [
            "DO_NOT_TRACK", "TELEMETRY_ENABLED", "TELEMETRY_ENDPOINT", "TELEMETRY_TAGS",
            "TELEMETRY_HIDE_BANNER", "XDG_CONFIG_HOME", "HOME", "LC_ALL", "LC_MESSAGES",
            "LANG", "CI",
        ];
        let vars: Vec<(&str, OsString)> = NAMES
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| value.as_deref().map(|value| (*name, os(value))))
            .collect();
        let sink = MemorySink::new();
        // The config dir is given, so random XDG_CONFIG_HOME and HOME values
        // never make directories elsewhere; with a sink, nothing is sent.
        let telemetry = Telemetry::builder("prop-test", "1.0.0")
            .sink(sink.clone())
            .config_dir(config_dir().path())
            .notice(false)
            .notice_writer(std::io::sink())
            .debug(true)
            .debug_writer(std::io::sink())
            .env_vars(vars)
            .build();
        telemetry.track_command("run", ["--x=1"]);
        for record in sink.records() {
            let json = record.to_json();
            prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        }
    }
}

// ---------------------------------------------------------------------------
// TELEMETRY_TAGS

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
        (tags::MAX_TAGS_INPUT_LEN - 8)..(tags::MAX_TAGS_INPUT_LEN + 8),
        "[\u{e9}\u{20ac}\u{1f600}=,k]{1,16}",
    )
        .prop_map(|(filler, tail)| format!("{}{tail}", "é,".repeat(filler / 3)))
}

fn check_tags(input: &str) -> Result<(), TestCaseError> {
    let parsed = tags::parse_tags(input);
    prop_assert!(parsed.len() <= tags::MAX_TAGS);
    let entries: Vec<(&str, &str)> = input
        .split(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim()))
        .collect();
    for (i, (key, value)) in parsed.iter().enumerate() {
        prop_assert!(!key.is_empty() && key.len() <= tags::MAX_TAG_KEY_LEN);
        prop_assert_eq!(key.trim(), key.as_str());
        prop_assert!(!key.contains(',') && !key.contains('='));
        prop_assert!(value.len() <= tags::MAX_TAG_VALUE_LEN && !value.contains(','));
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

// ---------------------------------------------------------------------------
// The args filter

/// Arguments: things that look like flags, with and without values,
/// terminators, and arbitrary text.
fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        "--?[a-zA-Z][a-zA-Z0-9_-]{0,10}",
        "-[a-zA-Z][a-zA-Z0-9]{1,10}",
        "--?[a-zA-Z][a-zA-Z0-9_-]{0,6}=\\PC{0,10}",
        "-{0,3}[a-z0-9 =/.\u{e9}-]{0,10}",
        Just("--".to_owned()),
        Just("-".to_owned()),
        "\\PC{0,12}",
        "--[a-z]{60,70}",
    ]
}

/// A flag name as the design defines it.
fn is_flag_name(text: &str) -> bool {
    let body = text
        .strip_prefix("--")
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or("");
    body.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && text.len() <= args::MAX_FLAG_LEN
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_args_filter_outputs_only_flag_names(
        argv in prop::collection::vec(arg(), 0..48),
        secret in "[a-z]{8}",
    ) {
        // A canary as a value and as a positional.
        let mut argv = argv;
        argv.push(format!("--key={secret}"));
        argv.push(format!("-k{secret}"));
        argv.push(secret.clone());
        let flags = args::flag_names(&argv);
        prop_assert!(flags.len() <= args::MAX_FLAGS);
        let before_terminator: Vec<&String> = argv.iter().take_while(|a| *a != "--").collect();
        let mut from = 0;
        for flag in &flags {
            prop_assert!(is_flag_name(flag), "{:?} is not a flag name", flag);
            prop_assert!(!flag.contains(&secret));
            // A single dash names one letter: anything after it may be a
            // value (`-pPASSWORD`).
            let short = !flag.starts_with("--");
            prop_assert!(!short || flag.len() == 2, "{:?}", flag);
            // It is the name part of an argument before any `--`, in order.
            let at = before_terminator[from..].iter().position(|a| {
                *a == flag || a.starts_with(&format!("{flag}=")) || (short && a.starts_with(flag.as_str()))
            });
            prop_assert!(at.is_some(), "{:?} is not from the arguments", flag);
            from += at.unwrap_or(0) + 1;
        }
    }
}
