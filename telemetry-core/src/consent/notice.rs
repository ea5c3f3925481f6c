//! The first-run notice: what is collected, what never is, how to opt out.

use std::io::Write;

/// Writes the notice for `app`. The run that shows it sends nothing, so the
/// user can opt out before any data leaves the machine.
pub(crate) fn write_notice(out: &mut dyn Write, app: &str) {
    let variable = crate::env::app_enabled_variable(app);
    let text = format!(
        "\
{app} collects anonymous usage data to help improve it. Nothing is sent by this run.
  Collected: command and tool names, the flag names {app} declares (never their
    values), durations, success or failure with the error's kind, model names,
    token counts and cost, the OS, architecture, language setting, whether it
    runs in CI (and which CI service or AI coding agent runs it), {app}'s
    version, and a random anonymous id.
  Never collected: argument values, prompts, file contents, paths, error
    messages, host or user names, API keys.
  To opt out, set {variable}=false (this app) or DO_NOT_TRACK=1 (every app).
  To see what would be sent without sending it, set {variable}=log.
  To hide this notice but keep telemetry on, set TELEMETRY_HIDE_BANNER=1.
"
    );
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
