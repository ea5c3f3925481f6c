//! The first-run notice: what is collected, what never is, how to opt out.

use std::io::Write;

/// Writes the notice for `app`. The run that shows it sends nothing, so the
/// user can opt out before any data leaves the machine. `changed`: the
/// notice is shown again because the app raised its version; the line
/// says what changed (the app's words, or a plain "it was updated").
pub(crate) fn write_notice(out: &mut dyn Write, app: &str, changed: Option<&str>) {
    let variable = crate::env::app_enabled_variable(app);
    let changed = match changed {
        Some(what) => format!("  What changed since you last saw this notice: {what}\n"),
        None => String::new(),
    };
    let text = format!(
        "\
{app} collects anonymous usage data to help improve it. Nothing is sent by this run.
{changed}  Collected: command and tool names, the flag names {app} declares (never their
    values), durations, success or failure with the error's kind, model names,
    token counts and cost, the OS, architecture, language setting, whether it
    runs in CI (and which CI service or AI coding agent runs it), {app}'s
    version, and a random anonymous id.
  Never collected: argument values, prompts, file contents, paths, error
    messages, host or user names, API keys.
  To opt out, set {variable}=false (this app) or DO_NOT_TRACK=1 (every app).
  To see what would be sent without sending it, set {variable}=log;
    to send failures only, set {variable}=errors.
  To hide this notice but keep telemetry on, set TELEMETRY_HIDE_BANNER=1.
"
    );
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
