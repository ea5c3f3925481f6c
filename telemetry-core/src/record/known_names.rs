//! Names from a known set: [`known_or_other`] keeps a name the app knows and
//! sends any other as `other`.

use std::borrow::Cow;

/// The name sent in place of one outside the known set.
pub const OTHER_NAME: &str = "other";

/// `name` itself when it is one of `known` (compared exactly), else
/// [`OTHER_NAME`] (`other`).
///
/// Use it for names the user can choose, such as a model name from a
/// `--model` flag or a config file: the app accepts any name, and the
/// record holds only names its authors listed, so a private model, a typo
/// or a pasted secret is never sent.
///
/// ```
/// use telemetry_core::known_or_other;
///
/// const MODELS: &[&str] = &["gpt-4o", "claude-sonnet-4", "llama3"];
/// assert_eq!(known_or_other("gpt-4o", MODELS), "gpt-4o");
/// assert_eq!(known_or_other("acme-internal-finetune-v7", MODELS), "other");
///
/// # let telemetry = telemetry_core::Telemetry::disabled();
/// let model = "my-private-model";
/// telemetry.record_token_usage(known_or_other(model, MODELS), 1200, 300, 0.01);
/// ```
#[must_use]
pub fn known_or_other(name: &str, known: &[&'static str]) -> Cow<'static, str> {
    Cow::Borrowed(known_in(name, known).copied().unwrap_or(OTHER_NAME))
}

/// The entry of `known` that is `name`: the one rule of a known set (the
/// builder's `known_models` uses it too).
pub(crate) fn known_in<'a, S: AsRef<str>>(name: &str, known: &'a [S]) -> Option<&'a S> {
    known.iter().find(|candidate| candidate.as_ref() == name)
}

#[cfg(test)]
mod tests {
    use super::known_or_other;

    const KNOWN: &[&str] = &["gpt-4o", "llama3"];

    #[test]
    fn a_known_name_is_kept_any_other_is_other() {
        assert_eq!(known_or_other("gpt-4o", KNOWN), "gpt-4o");
        assert_eq!(known_or_other("llama3", KNOWN), "llama3");
        assert_eq!(known_or_other("GPT-4o", KNOWN), "other");
        assert_eq!(known_or_other("gpt-4o ", KNOWN), "other");
        assert_eq!(known_or_other("", KNOWN), "other");
        assert_eq!(known_or_other("gpt-4o", &[]), "other");
    }
}
