//! The first-run notice: what is collected, what never is, how to opt out.

use std::io::Write;

/// Writes the notice for `app`. The run that shows it sends nothing, so the
/// user can opt out before any data leaves the machine.
pub(crate) fn write_notice(out: &mut dyn Write, app: &str) {
    let text = format!(
        "\
{app} collects anonymous usage data to help improve it. Nothing is sent by this run.
  Collected: command and tool names, flag names (never their values), durations,
    success or failure with the error's type, token counts and cost, the OS,
    architecture, language setting, {app}'s version, and a random anonymous id.
  Never collected: argument values, prompts, file contents, paths, error
    messages, host or user names, API keys.
  To opt out, set TELEMETRY_ENABLED=false (or DO_NOT_TRACK=1) in your environment.
  To hide this notice but keep telemetry on, set TELEMETRY_HIDE_BANNER=1.
"
    );
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
