//! The privacy filter for command-line arguments, its first stage: what is
//! a flag name at all. The second stage, keeping only the names the app
//! declared, is `DeclaredFlags` in `declared_flags.rs`.

use crate::record::limits::{MAX_FLAGS, MAX_FLAG_LEN};

/// The first stage alone (every flag name kept), for the tests of this
/// stage.
#[cfg(test)]
pub(crate) fn flag_names<I, S>(args: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    flag_names_where(args, |_| true)
}

/// Keeps only the names of flags for which `keep` is true (the cap of
/// [`MAX_FLAGS`] applies to the names kept): `--model=gpt-4` becomes
/// `--model`, `-v` stays `-v`, and positionals, values, and everything
/// after a `--` terminator are dropped.
///
/// A flag name is a leading `-` or `--` followed by ASCII letters, digits,
/// `-` or `_`. Anything else (`-` alone, `-5`, `--a/b`, a prompt that starts
/// with a dash and has spaces) is not a flag name and is dropped, so no value
/// can slip through this filter dressed as a flag. A single dash names one
/// letter: what follows it may be an attached value (`-pPASSWORD`, `-j8`),
/// so `-pPASSWORD` becomes `-p` (and bundled flags such as `-abc` become
/// `-a`).
///
/// A client's `keep` is the names its app declared
/// ([`TelemetryBuilder::flags`](crate::TelemetryBuilder::flags)).
pub(crate) fn flag_names_where<I, S>(args: I, keep: impl Fn(&str) -> bool) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut flags = Vec::new();
    for arg in args {
        let arg = arg.as_ref();
        if arg == "--" {
            break;
        }
        if let Some(name) = flag_name(arg).filter(|name| keep(name)) {
            if flags.len() == MAX_FLAGS {
                break;
            }
            flags.push(name.to_owned());
        }
    }
    flags
}

/// This process's command line, without the program's name: what a
/// `#[tracked_command]` takes its flag names from.
pub(crate) fn process_args() -> impl Iterator<Item = String> {
    std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
}

/// The flag name `arg` gives, if any: the part before `=`, and for a single
/// dash only the one letter after it.
pub(crate) fn flag_name(arg: &str) -> Option<&str> {
    let name = arg.split_once('=').map_or(arg, |(name, _value)| name);
    let body = name.strip_prefix("--").or_else(|| name.strip_prefix('-'))?;
    let valid = body
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && body
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !valid || name.len() > MAX_FLAG_LEN {
        return None;
    }
    if name.starts_with("--") {
        Some(name)
    } else {
        // `-` and one ASCII letter: two bytes.
        name.get(..2)
    }
}

#[cfg(test)]
mod tests {
    use super::flag_names;

    #[test]
    fn values_and_positionals_are_dropped() {
        let args = [
            "--model=gpt-4",
            "my secret prompt",
            "-v",
            "--debug",
            "file.txt",
        ];
        assert_eq!(flag_names(args), ["--model", "-v", "--debug"]);
    }

    #[test]
    fn things_that_only_look_like_flags_are_dropped() {
        let args = ["-", "-5", "--", "--after-terminator"];
        assert!(flag_names(args).is_empty());
        let args = ["--a/b", "-x y", "--=value", "--ünïcode", "---triple"];
        assert!(flag_names(args).is_empty(), "{:?}", flag_names(args));
    }

    #[test]
    fn a_value_attached_to_a_short_flag_is_dropped() {
        let args = ["-pHunter2", "-j8", "-abc", "-o=out.txt", "-v"];
        assert_eq!(flag_names(args), ["-p", "-j", "-a", "-o", "-v"]);
    }

    #[test]
    fn flag_count_and_length_are_capped() {
        let many: Vec<String> = (0..100).map(|i| format!("--flag{i}")).collect();
        assert_eq!(flag_names(&many).len(), super::MAX_FLAGS);
        let long = format!("--{}", "x".repeat(200));
        assert!(flag_names([long]).is_empty());
    }
}

#[cfg(test)]
mod properties {
    //! Property tests: the filter outputs only flag names, never a value.

    use super::*;
    use proptest::prelude::*;

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
            && text.len() <= MAX_FLAG_LEN
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
            let flags = flag_names(&argv);
            prop_assert!(flags.len() <= MAX_FLAGS);
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
}
