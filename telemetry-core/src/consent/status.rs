//! The status that explains itself: `telemetry status` as text and JSON.
//!
//! The JSON schema (version 1) is stable: keys are only ever added, and a
//! change of meaning bumps `schema_version`.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema_version` | number | `1` |
//! | `enabled` | bool | whether records are sent |
//! | `mode` | `"on"` \| `"off"` \| `"log"` | `log`: records are printed on stderr, never sent |
//! | `decided_by` | string | the rule that decided: `machine_policy`, `ci_policy`, `do_not_track`, `app_variable`, `telemetry_enabled`, `remembered_choice`, `default`, `no_endpoint`, `disabled_in_code`, or a veto: `invalid_app_name`, `invalid_endpoint`, `invalid_setting` (the user agent, API key or a proxy variable cannot be used), `untrusted_choice_file`, `config_dir_refused`, `id_file_refused`, `notice_marker_refused`, `no_config_dir`, `root_for_another_user` |
//! | `explanation` | string | what decided, naming the variable, file or dir, and what to change (the text form's "Decided by") |
//! | `variable` | string \| null | the deciding variable's name (`DO_NOT_TRACK`, `AGENT_TELEMETRY_ENABLED`, `TELEMETRY_ENABLED`, or the endpoint variable that was refused), when a variable decided |
//! | `value` | string \| null | its value in normalised words: `true`, `false`, `log`, `unrecognised` (never the raw text) |
//! | `config_dir` | string \| null | where the id, the notice marker and the choice live |
//! | `id_file` | string \| null | the anonymous id's file |
//! | `choice_file` | string \| null | the remembered choice's file |
//! | `destination` | string \| null | scheme and host (and port, if not the default) of the endpoint; never its path, query, user or key |
//! | `delivery` | string | the delivery mode (`inline`, `background`, `deferred`, ...) |
//! | `next_upload` | number \| null | deferred delivery only (absent otherwise): when the next upload is due, epoch ms; `null` when it is due now |
//! | `notice_shown` | bool | whether the first-run notice has been shown |
//! | `notice_version_seen` | number \| null | the notice version the marker keeps (the one the user saw); null without a marker |
//! | `level` | `"all"` \| `"errors"` \| `"local"` \| `"off"` | how much is recorded and sent: `errors` sends failed commands and tool calls only; `local` keeps records on this machine |
//! | `policy_file` | string \| null | the machine policy file that restricts (or, untrusted, turned telemetry off) |
//! | `ci_policy` | `"anonymous"` \| `"skip"` \| `"as_user"` \| null | the app's CI policy, when the run is in CI |
//! | `collected` | array of strings | what a record holds |
//! | `not_collected` | array of strings | what is never collected |
//! | `wait_until_ms` | number \| null | while the collector asked to wait (a 429 or 503, or it was unreachable: see the back-off rules), the time until which no process sends, in milliseconds since the epoch |

use crate::consent::ci_policy::CiPolicy;
use crate::consent::decide::{Verdict, Veto};
use crate::consent::level::Level;
use crate::consent::machine_policy::Policy;
use crate::consent::precedence::{Decision, Mode, Rule};
use crate::env::{self, SwitchValue};
use crate::files::choice::CHOICE_FILE;
use crate::files::config_dir::{ConfigItem, NoConfigDir};
use crate::files::user_id::USER_UUID_FILE;
use crate::files::Refusal;
use crate::settings::app_name_rule;
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// What every record may hold.
pub(crate) const COLLECTED: &[&str] = &[
    "command names and the flag names the app declares (never their values)",
    "tool names, durations, success or the error's kind",
    "model names, token counts and cost",
    "session totals",
    "an anonymous random id, the app's version, os, os language, architecture, whether in CI, the CI provider and the AI coding agent",
];

/// What is never collected.
pub(crate) const NOT_COLLECTED: &[&str] = &[
    "argument values, prompts, file contents or paths",
    "error messages",
    "hostnames, user names, API keys",
];

/// `telemetry status`: whether telemetry is on, which setting decided, and
/// where everything is. Serialises to the documented JSON schema (module
/// docs); `Display` gives the text form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// Always 1 for this schema.
    pub schema_version: u32,
    /// Whether records are sent.
    pub enabled: bool,
    /// On, off or log-only.
    pub mode: Mode,
    /// The rule that decided.
    pub decided_by: Rule,
    /// What decided, naming the variable, file or dir, and what to change.
    pub explanation: String,
    /// The deciding variable's name, when a variable decided.
    pub variable: Option<String>,
    /// Its value, normalised.
    pub value: Option<SwitchValue>,
    /// The config dir.
    pub config_dir: Option<String>,
    /// The anonymous id's file.
    pub id_file: Option<String>,
    /// The remembered choice's file.
    pub choice_file: Option<String>,
    /// `scheme://host[:port]` of the endpoint.
    pub destination: Option<String>,
    /// The delivery mode.
    pub delivery: String,
    /// Deferred delivery only: when the next upload is due (epoch ms);
    /// `Some(None)` (JSON `null`) when it is due now. Absent in other modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_upload: Option<Option<u64>>,
    /// Whether the first-run notice has been shown.
    pub notice_shown: bool,
    /// The notice version the marker keeps; `None` without a marker.
    pub notice_version_seen: Option<u32>,
    /// How much is recorded and sent.
    pub level: Level,
    /// The machine policy file that restricts, or turned telemetry off.
    pub policy_file: Option<String>,
    /// The app's CI policy, when the run is in CI.
    pub ci_policy: Option<CiPolicy>,
    /// What a record holds.
    pub collected: &'static [&'static str],
    /// What is never collected.
    pub not_collected: &'static [&'static str],
    /// While the collector asked to wait: until when (epoch ms).
    pub wait_until_ms: Option<u64>,
}

impl Status {
    /// Builds the status from the decision ([`Verdict`]), the app name (for
    /// its variable's name), the delivery mode's name, and the notice
    /// version the marker keeps (`None`: no marker).
    pub(crate) fn new(
        verdict: &Verdict,
        app: &str,
        delivery: &str,
        notice_version_seen: Option<u32>,
    ) -> Status {
        let decision = verdict.decision;
        let variable = match (&verdict.veto, decision.rule) {
            (Some(Veto::EndpointNotUtf8 { variable }), _) => Some(variable.clone()),
            (Some(Veto::Endpoint { variable, .. }), _) => variable.clone(),
            (_, Rule::DoNotTrack) => Some(env::DO_NOT_TRACK.to_owned()),
            (_, Rule::AppVariable) => Some(env::app_enabled_variable(app)),
            (_, Rule::TelemetryEnabled) => Some(env::TELEMETRY_ENABLED.to_owned()),
            _ => None,
        };
        let config_dir = verdict.config_dir.as_deref();
        let text = |path: &Path| path.to_string_lossy().into_owned();
        let explanation = match &verdict.veto {
            Some(veto) => explain_veto(veto, app, verdict.destination_url()),
            None if decision.rule == Rule::MachinePolicy => explain_policy(&verdict.policy),
            None => explain_rule(decision, variable.as_deref()),
        };
        Status {
            schema_version: 1,
            enabled: decision.mode == Mode::On && decision.level.sends(),
            mode: decision.mode,
            decided_by: decision.rule,
            explanation,
            variable,
            value: decision.value,
            config_dir: config_dir.map(text),
            id_file: config_dir.map(|dir| text(&dir.join(USER_UUID_FILE))),
            choice_file: config_dir.map(|dir| text(&dir.join(CHOICE_FILE))),
            destination: verdict.endpoint().and_then(destination),
            delivery: delivery.to_owned(),
            next_upload: None,
            notice_shown: notice_version_seen.is_some(),
            notice_version_seen,
            level: decision.level,
            policy_file: verdict.policy.file().map(text),
            ci_policy: verdict.ci,
            collected: COLLECTED,
            not_collected: NOT_COLLECTED,
            wait_until_ms: verdict.wait_until_ms,
        }
    }

    /// The JSON form (the documented schema), pretty-printed.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// One sentence for a rule of precedence: what decided, and what to
/// change.
fn explain_rule(decision: Decision, variable: Option<&str>) -> String {
    let variable = variable.unwrap_or_default();
    let value = decision.value.map(SwitchValue::as_str).unwrap_or_default();
    let off = decision.mode == Mode::Off;
    match decision.rule {
        Rule::DoNotTrack => format!(
            "DO_NOT_TRACK is set ({value}); it turns telemetry off for every app. Unset it to allow telemetry."
        ),
        Rule::AppVariable | Rule::TelemetryEnabled => {
            let scope = if decision.rule == Rule::AppVariable {
                "this app's own variable; it wins over TELEMETRY_ENABLED"
            } else {
                "it applies to every app built on this toolkit"
            };
            let hint = if value == "unrecognised" {
                format!("; {}", env::SWITCH_WORDS)
            } else {
                String::new()
            };
            format!("{variable} is {value} ({scope}{hint}). Change or unset it to change this.")
        }
        Rule::RememberedChoice => format!(
            "the choice remembered by `telemetry {}`. Run `telemetry {}` to change it; a variable (e.g. DO_NOT_TRACK=1) still wins.",
            if off { "disable" } else { "enable" },
            if off { "enable" } else { "disable" },
        ),
        Rule::Default => "the default (nothing set). Run `telemetry disable`, or set DO_NOT_TRACK=1, to turn it off.".to_owned(),
        Rule::NoEndpoint => "there is no endpoint to send to, so nothing is sent.".to_owned(),
        Rule::DisabledInCode => "the app turned telemetry off in its code.".to_owned(),
        Rule::CiPolicy => "this run is in CI, and the app sends nothing from CI (its CI policy is `skip`).".to_owned(),
        // The vetoes are explained by `explain_veto`, the machine policy
        // by `explain_policy`.
        _ => "a setting cannot be used, so nothing is sent.".to_owned(),
    }
}

/// What the machine policy decided, naming its file.
fn explain_policy(policy: &Policy) -> String {
    match policy {
        Policy::Untrusted { file, problem } => format!(
            "the machine policy file {} {problem}, so it cannot be trusted: telemetry is off whatever else is set. An administrator must fix it (owned by root, not writable by others, `level = off | local | errors | all`) or remove it.",
            file.display()
        ),
        Policy::Level { level, file } => {
            let what = match level {
                Level::Off => "telemetry is off on this machine",
                Level::Local => "records are kept on this machine and never sent",
                Level::Errors => "only failed commands and tool calls are sent",
                Level::All => "everything may be sent",
            };
            format!(
                "the machine policy file {} sets level = {level}: {what}, whatever a variable or `telemetry enable` says. Only an administrator can change it.",
                file.display()
            )
        }
        Policy::None => "no machine policy applies.".to_owned(),
    }
}

/// One sentence for a veto: what was refused (the path or the variable),
/// and the fix.
fn explain_veto(veto: &Veto, app: &str, endpoint: Option<&str>) -> String {
    const OFF: &str = "so telemetry is off and nothing is sent";
    match veto {
        Veto::AppName => format!(
            "the app name {app:?} cannot be used (it must be {}), {OFF}. The app's author must fix it.",
            app_name_rule()
        ),
        Veto::EndpointNotUtf8 { variable } => format!(
            "{variable} is not valid UTF-8, {OFF}. Set it to an http:// or https:// URL, or unset it."
        ),
        Veto::Endpoint { variable, problem } => {
            let shown = endpoint.map(shown_endpoint).unwrap_or_default();
            let fix = match variable {
                Some(variable) => format!("Set {variable} to an http:// or https:// URL with a host, or unset it."),
                None => "The app's author must fix the endpoint it sets (an http:// or https:// URL with a host).".to_owned(),
            };
            format!("{problem}{shown}, {OFF}. {fix}")
        }
        Veto::NoHttpSupport => format!(
            "an endpoint is set, but this build has no HTTP sink (the `http` feature is off), {OFF}."
        ),
        Veto::Setting(problem) => format!("{problem}, {OFF}. Fix that setting or variable."),
        Veto::ChoiceFile { path, note } => {
            let path = shell_quote(path);
            format!(
                "the remembered choice's file {path} {note}, so it cannot be trusted: telemetry is off whatever the variables say. Run `telemetry disable` or `telemetry enable` to write it again, or remove it (rm {path})."
            )
        }
        Veto::Refused { item, path, why } => {
            let (what, mode) = match item {
                ConfigItem::Dir => ("the config dir", "700"),
                ConfigItem::UserUuid => ("the anonymous id's file", "600"),
                ConfigItem::NoticeMarker => ("the notice marker", "600"),
            };
            let quoted = shell_quote(path);
            let fix = match why {
                Refusal::WritableByOthers => format!("Run: chmod {mode} {quoted}"),
                Refusal::NotOurs => format!("Give it to your user (chown \"$(id -u)\" {quoted}) or remove it."),
                Refusal::Symlink if *item == ConfigItem::Dir => {
                    format!("Replace the link with a directory of your own: rm {quoted} && mkdir -m 700 {quoted}")
                }
                _ => format!("Remove it (rm {quoted}); it is made again when needed."),
            };
            format!("{what} {} {why}, so it is not trusted: telemetry is off and nothing is sent. {fix}", path.display())
        }
        Veto::NoConfigDir { path: None, .. } => format!(
            "there is no config dir (neither XDG_CONFIG_HOME nor HOME is set) to remember the first-run notice in, {OFF}. Set HOME or XDG_CONFIG_HOME."
        ),
        Veto::NoConfigDir { path: Some(path), why } => {
            let cause = match why {
                NoConfigDir::Unusable(kind) => format!("it cannot be created or written: {kind}"),
                _ => "it cannot be used".to_owned(),
            };
            format!(
                "the config dir {} cannot be used to remember the first-run notice ({cause}), {OFF}. Make it a directory of yours that you can write: mkdir -p -m 700 {}",
                path.display(),
                shell_quote(path)
            )
        }
        Veto::RootForAnotherUser => format!(
            "running as root on behalf of another user (sudo): nothing is written to that user's config dir, {OFF}. Run the command without sudo to use telemetry."
        ),
    }
}

/// An endpoint as `status` may show it: `scheme://host[:port]` when it is
/// a URL, else the text itself, cut short.
fn shown_endpoint(endpoint: &str) -> String {
    match destination(endpoint) {
        Some(shown) => format!(" ({shown})"),
        None => {
            let text: String = endpoint.trim().chars().take(60).collect();
            format!(" ({text:?})")
        }
    }
}

/// A path as one shell word.
fn shell_quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".to_owned());
        let state = match self.mode {
            Mode::On => "on",
            Mode::Off => "off",
            Mode::Log => "log only (records are printed on stderr, nothing is sent)",
        };
        writeln!(f, "Telemetry is {state}.")?;
        writeln!(f, "Decided by: {}", self.explanation)?;
        writeln!(f, "Config dir: {}", or_none(&self.config_dir))?;
        writeln!(f, "Id file:    {}", or_none(&self.id_file))?;
        writeln!(f, "Choice:     {}", or_none(&self.choice_file))?;
        writeln!(f, "Sends to:   {}", or_none(&self.destination))?;
        writeln!(f, "Delivery:   {}", self.delivery)?;
        if let Some(until) = self.wait_until_ms {
            writeln!(
                f,
                "Collector asked to wait until {}",
                crate::delivery::backoff::format_utc(until)
            )?;
        }
        let level = match self.level {
            Level::All => "all (everything is sent)",
            Level::Errors => "errors (only failed commands and tool calls are sent)",
            Level::Local => "local (records are kept on this machine, never sent)",
            Level::Off => "off",
        };
        writeln!(f, "Level:      {level}")?;
        if let Some(file) = &self.policy_file {
            writeln!(f, "Policy:     {file}")?;
        }
        if let Some(ci) = self.ci_policy {
            let what = match ci {
                CiPolicy::Anonymous => {
                    "no notice, no files, an id for this run only (\"ephemeral_id\": true)"
                }
                CiPolicy::Skip => "nothing is sent from CI",
                CiPolicy::AsUser => "treated like any other machine",
            };
            writeln!(
                f,
                "CI:         this run is in CI; the app's CI policy is {ci}: {what}"
            )?;
        }
        match self.next_upload {
            Some(Some(at)) => writeln!(f, "Next upload: at {at} (epoch ms)")?,
            Some(None) => writeln!(f, "Next upload: due now")?,
            None => {}
        }
        match self.notice_version_seen {
            Some(version) => writeln!(f, "Notice:     shown (version {version})")?,
            None => writeln!(f, "Notice:     not shown yet")?,
        }
        writeln!(f, "Collected:")?;
        for item in self.collected {
            writeln!(f, "  - {item}")?;
        }
        writeln!(f, "Never collected:")?;
        for item in self.not_collected {
            writeln!(f, "  - {item}")?;
        }
        Ok(())
    }
}

/// `scheme://host[:port]` of an endpoint, dropping user, password, path,
/// query and fragment; `None` when it does not parse or has no host.
#[cfg(feature = "http")]
pub(crate) fn destination(endpoint: &str) -> Option<String> {
    let url = reqwest::Url::parse(endpoint.trim()).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// Without the `http` feature (no URL parser, and an endpoint is never
/// used): the scheme and the authority without its user part.
#[cfg(not(feature = "http"))]
pub(crate) fn destination(endpoint: &str) -> Option<String> {
    let (scheme, rest) = endpoint.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let valid = !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric());
    let scheme = scheme.to_ascii_lowercase();
    // The scheme's default port is left out, as the URL parser does.
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let host = match host.strip_suffix(default_port) {
        Some(bare) if !default_port.is_empty() => bare,
        _ => host,
    };
    (valid && !host.is_empty() && !host.contains(char::is_whitespace))
        .then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::decide::Destination;
    use crate::consent::precedence::Inputs;
    use crate::files::choice::Choice;
    use std::ffi::OsStr;

    /// A status for a decision that no veto changed, of an app `agent`
    /// without config dir whose records go to a sink.
    fn status_of(decision: Decision) -> Status {
        status_with(decision, "agent", None, None)
    }

    /// The same, with this app, config dir and endpoint, the notice shown.
    fn status_with(
        decision: Decision,
        app: &str,
        config_dir: Option<&Path>,
        endpoint: Option<&str>,
    ) -> Status {
        let verdict = Verdict {
            policy: Policy::None,
            ci: None,
            ephemeral: false,
            decision,
            veto: None,
            config_dir: config_dir.map(Path::to_owned),
            destination: match endpoint {
                Some(url) => Destination::Endpoint {
                    url: url.to_owned(),
                    variable: None,
                },
                None => Destination::Sink,
            },
            elevated: false,
            wait_until_ms: None,
        };
        Status::new(&verdict, app, "inline", Some(1))
    }

    /// The decision of these variables and this remembered choice.
    fn decision(
        dnt: Option<&str>,
        app: Option<&str>,
        generic: Option<&str>,
        choice: Choice,
    ) -> Decision {
        crate::consent::precedence::decide(Inputs {
            do_not_track: dnt.map(OsStr::new),
            app_enabled: app.map(OsStr::new),
            telemetry_enabled: generic.map(OsStr::new),
            remembered: choice,
            has_destination: true,
        })
    }

    #[test]
    fn the_json_has_exactly_the_documented_keys() {
        let status = status_with(
            decision(None, None, None, Choice::None),
            "agent",
            Some(Path::new("/home/u/.config/agent")),
            Some("https://collector.example/v1/events"),
        );
        let json = serde_json::to_value(&status).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "schema_version",
            "enabled",
            "mode",
            "decided_by",
            "explanation",
            "variable",
            "value",
            "config_dir",
            "id_file",
            "choice_file",
            "destination",
            "delivery",
            "notice_shown",
            "notice_version_seen",
            "level",
            "policy_file",
            "ci_policy",
            "collected",
            "not_collected",
            "wait_until_ms",
        ];
        want.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["enabled"], true);
        assert_eq!(json["mode"], "on");
        assert_eq!(json["decided_by"], "default");
        assert_eq!(json["variable"], serde_json::Value::Null);
        assert_eq!(json["id_file"], "/home/u/.config/agent/user-uuid");
        assert_eq!(
            json["choice_file"],
            "/home/u/.config/agent/telemetry-choice"
        );
        assert_eq!(json["destination"], "https://collector.example");
        assert_eq!(json["collected"].as_array().unwrap().len(), COLLECTED.len());
        // Every key is documented in the module docs' table.
        let docs = include_str!("status.rs");
        for key in want {
            assert!(
                docs.contains(&format!("//! | `{key}` |")),
                "{key} undocumented"
            );
        }
    }

    #[test]
    fn the_app_variable_is_named_and_its_value_normalised() {
        let decision = decision(None, Some(" FALSE "), Some("true"), Choice::Enabled);
        let status = status_with(decision, "my-agent", None, None);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["enabled"], false);
        assert_eq!(json["decided_by"], "app_variable");
        assert_eq!(json["variable"], "MY_AGENT_TELEMETRY_ENABLED");
        assert_eq!(json["value"], "false");
        assert_eq!(json["config_dir"], serde_json::Value::Null);
        let text = status.to_string();
        assert!(text.contains("Telemetry is off."), "{text}");
        assert!(
            text.contains("MY_AGENT_TELEMETRY_ENABLED is false"),
            "{text}"
        );
    }

    #[test]
    fn an_unrecognised_value_is_not_echoed() {
        let status = status_of(decision(None, None, Some("sk-secret-value"), Choice::None));
        let all = format!("{}{}", status.to_json(), status);
        assert!(!all.contains("sk-secret"), "{all}");
        assert!(all.contains("unrecognised"));
        assert!(all.contains("use true, false or log"));
    }

    #[test]
    fn the_destination_shows_only_scheme_and_host() {
        let status = status_with(
            decision(None, None, None, Choice::None),
            "agent",
            None,
            Some("https://alice:s3cr3t@host/private-path?key=k3y#fr4g"),
        );
        assert_eq!(status.destination.as_deref(), Some("https://host"));
        let all = format!("{}{}", status.to_json(), status);
        for secret in ["alice", "s3cr3t", "private-path", "k3y", "fr4g"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        for (endpoint, shown) in [
            (
                "http://127.0.0.1:4318/v1/logs",
                Some("http://127.0.0.1:4318"),
            ),
            ("https://h:443/x", Some("https://h")),
            ("http://[::1]:8080/", Some("http://[::1]:8080")),
            ("https://user:pass@host/path?key=x", Some("https://host")),
            ("not a url", None),
        ] {
            assert_eq!(destination(endpoint).as_deref(), shown, "{endpoint}");
        }
    }

    #[test]
    fn the_text_says_what_to_change() {
        let remembered = status_of(decision(None, None, None, Choice::Disabled));
        assert!(remembered.to_string().contains("Run `telemetry enable`"));
        let log = status_of(decision(None, None, Some("log"), Choice::None));
        assert_eq!(log.mode, Mode::Log);
        assert!(!log.enabled);
        assert!(log.to_string().contains("log only"));
        let dnt = status_of(decision(Some("1"), None, None, Choice::Enabled));
        assert_eq!(dnt.variable.as_deref(), Some("DO_NOT_TRACK"));
        assert!(dnt.to_string().contains("Unset it"));
    }
}
