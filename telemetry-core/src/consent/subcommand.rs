//! A ready-made `clap` subcommand: `telemetry status [--json] | show
//! [--json] [--last N] | enable [--errors-only | --local-only] | disable | delete | reset-id` (the
//! `clap` feature).
//!
//! Add [`command`] to your app's `clap::Command`, and when it matched, hand
//! its matches to [`run`] with the [`Controls`] of your builder (not a built
//! client: running these commands records nothing).
//!
//! ```
//! use telemetry_core::{subcommand, Telemetry};
//!
//! let app = clap::Command::new("my-cli").subcommand(subcommand::command());
//! let matches = app.try_get_matches_from(["my-cli", "telemetry", "status", "--json"]).unwrap();
//! if let Some(("telemetry", matches)) = matches.subcommand() {
//!     let controls = Telemetry::builder("my-cli", "1.0.0")
//!         .env_vars([("DO_NOT_TRACK", "1")])
//!         .controls();
//!     let mut out = Vec::new();
//!     subcommand::run(&controls, matches, &mut out).unwrap();
//!     let status: serde_json::Value = serde_json::from_slice(&out).unwrap();
//!     assert_eq!(status["decided_by"], "do_not_track");
//! }
//! ```

use crate::consent::controls::{ControlError, Controls, Deletion};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::io::Write;

/// The subcommand's name.
pub const NAME: &str = "telemetry";

/// `telemetry status [--json] | enable | disable | delete | reset-id`, ready to add
/// to an app's command with `.subcommand(..)`.
#[must_use]
pub fn command() -> Command {
    Command::new(NAME)
        .about("Show or change this app's anonymous usage telemetry")
        .subcommand_required(true)
        .subcommand(
            Command::new("status")
                .about("Say whether telemetry is on, which setting decided, and where data goes")
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(ArgAction::SetTrue)
                        .help("Print the status as JSON (a stable schema)"),
                ),
        )
        .subcommand(
            Command::new("enable")
                .about("Turn telemetry on for this app (remembered)")
                .arg(
                    Arg::new("errors-only")
                        .long("errors-only")
                        .action(ArgAction::SetTrue)
                        .help("Send only failed commands and failed tool calls"),
                )
                .arg(
                    Arg::new("local-only")
                        .long("local-only")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("errors-only")
                        .help("Keep records in the local history only; send nothing"),
                ),
        )
        .subcommand(
            Command::new("show")
                .about("Print what was sent, from the local history (works when telemetry is off)")
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(ArgAction::SetTrue)
                        .help("Print a JSON array of the records as sent, oldest first"),
                )
                .arg(
                    Arg::new("last")
                        .long("last")
                        .value_name("N")
                        .value_parser(clap::value_parser!(usize))
                        .help("Only the last N records"),
                ),
        )
        .subcommand(
            Command::new("disable")
                .about("Turn telemetry off for this app (remembered); deletes anything unsent"),
        )
        .subcommand(Command::new("delete").about(
            "Ask the collector to erase what it holds for this id, then do what disable does",
        ))
        .subcommand(
            Command::new("reset-id")
                .about("Forget the anonymous id; the next record has a new one"),
        )
}

/// Runs the matched `telemetry` subcommand (the matches of [`command`])
/// on `controls`, writing its output to `out`. Records and sends nothing.
pub fn run(
    controls: &Controls,
    matches: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), ControlError> {
    let text = match matches.subcommand() {
        Some(("status", options)) => {
            let status = controls.status();
            if options.get_flag("json") {
                format!("{}\n", status.to_json())
            } else {
                status.to_string()
            }
        }
        Some(("show", options)) => controls.show(
            options.get_flag("json"),
            options.get_one::<usize>("last").copied(),
        )?,
        Some(("enable", options)) if options.get_flag("local-only") => {
            controls.enable_local_only()?;
            said(
                "Telemetry enabled for this app, local only: records are kept in the local history (`telemetry show`) and nothing is sent.",
                STILL_WINS,
            )
        }
        Some(("enable", options)) if options.get_flag("errors-only") => {
            controls.enable_errors_only()?;
            said(
                "Telemetry enabled for this app, failures only: only failed commands and tool calls are sent.",
                STILL_WINS,
            )
        }
        Some(("enable", _)) => {
            controls.enable()?;
            said("Telemetry enabled for this app.", STILL_WINS)
        }
        Some(("disable", _)) => {
            controls.disable()?;
            "Telemetry disabled for this app: nothing more is sent; the anonymous id, anything unsent and the local history were deleted.\n".to_owned()
        }
        Some(("delete", _)) => match controls.delete()? {
            Deletion::Delivered => said(
                "Deletion requested: the collector was asked to erase every record with this app's anonymous id.",
                ERASED,
            ),
            Deletion::Pending => said(
                "The collector could not be reached: the deletion request is kept and sent by a later run (the only thing sent while telemetry is off).",
                ERASED,
            ),
            _ => said(
                "There was no anonymous id, so nothing to erase.",
                "Telemetry disabled: anything unsent and the local history were deleted.",
            ),
        },
        Some(("reset-id", _)) => {
            controls.reset_id()?;
            "Anonymous id forgotten: the next record carries a new one.\n".to_owned()
        }
        _ => USAGE.to_owned(),
    };
    out.write_all(text.as_bytes()).map_err(ControlError::Output)
}

/// Printed for matches that are not of [`command`].
const USAGE: &str =
    "usage: telemetry status [--json] | show [--json] [--last N] | enable [--errors-only | --local-only] | disable | delete | reset-id\n";
/// Said after each `enable`: the variables still decide first.
const STILL_WINS: &str = "A variable such as DO_NOT_TRACK=1 still wins.";
/// Said after a `delete` that had an id to erase.
const ERASED: &str =
    "Telemetry disabled: the id, anything unsent and the local history were deleted.";

/// What a subcommand prints: what it did, then what still holds.
fn said(done: &str, then: &str) -> String {
    format!("{done} {then}\n")
}
