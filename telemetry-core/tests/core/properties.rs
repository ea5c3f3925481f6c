//! Property tests for the environment switches, through the builder (with
//! `.env_vars(..)`). None may panic; each output is checked against what
//! the design promises. Case counts are modest to keep the suite fast. (The
//! `TELEMETRY_TAGS` parser's and the command-line filter's property tests
//! are unit tests in `tags.rs` and `args.rs`.)

use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::OnceLock;
use telemetry_core::{MemorySink, Telemetry, TelemetryBuilder};
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

/// A builder that records to `sink` and shows no notice. The config dir is
/// given, so random XDG_CONFIG_HOME and HOME values never make directories
/// elsewhere; with a sink, nothing is sent.
fn quiet_builder(sink: &MemorySink) -> TelemetryBuilder {
    Telemetry::builder("prop-test", "1.0.0")
        .sink(sink.clone())
        .config_dir(config_dir().path())
        .notice(false)
        .notice_writer(std::io::sink())
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
        let telemetry = quiet_builder(&sink).env_vars(vars).build();
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
        let telemetry = quiet_builder(&sink)
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
