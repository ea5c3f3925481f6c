//! The regression test of a leak: the agent takes every word after the
//! first prompt word as prompt, and `#[tracked_command]` used to send every
//! `--word` of the command line, so `agent --debug run "summarise my notes"
//! --project-falcon-acquires-acme -pHunter2` sent two words of the prompt.
//! Now only the flags the agent declares (`--debug`, `--model`) are sent.
//!
//! Canaries shaped as long flags, short flags with an attached value,
//! `--x=v`, and words after `--`, planted before the command, after it and
//! in the prompt, run the agent as a real process against a loopback
//! collector: none may appear in any request (body, path, header), in the
//! toolkit's stderr (the `--debug` lines and the notice), or in any file
//! under the agent's config and home dirs.

use serde_json::{json, Value};
use std::process::Output;
use telemetry_test_support::agent::{debug_lines, past_notice, stderr};
use telemetry_test_support::canary::Canaries;
use telemetry_test_support::fs::files_under;

/// The flag-shaped canaries of one test, each unique to it.
struct Shapes {
    /// `--canary-long-<hex>`: a long flag.
    long: String,
    /// `-pcanary-short-<hex>`: a short flag with an attached value.
    short: String,
    /// `--canary-name-<hex>=canary-value-<hex>`: `--x=v`.
    x_eq_v: String,
    /// `--model=canary-model-<hex>`: a declared flag with a value.
    model_eq_v: String,
}

impl Shapes {
    fn plant(canaries: &mut Canaries) -> Shapes {
        Shapes {
            long: format!("--{}", canaries.plant("long")),
            short: format!("-p{}", canaries.plant("short")),
            x_eq_v: format!("--{}={}", canaries.plant("name"), canaries.plant("value")),
            model_eq_v: format!("--model={}", canaries.plant("model")),
        }
    }

    fn all(&self) -> [&str; 4] {
        [&self.long, &self.short, &self.x_eq_v, &self.model_eq_v]
    }
}

/// What a run must do: be refused by the agent's parser (exit 2, nothing
/// sent), or succeed and send one command whose `args` are these.
enum Expect {
    Refused,
    Sent(&'static [&'static str]),
}

/// The issue's own words, checked by text as well as the canaries' hex.
const ISSUE_WORDS: [&str; 3] = [
    "project-falcon-acquires-acme",
    "Hunter2",
    "sk_live_51HqCANARY",
];

#[test]
fn no_flag_shaped_canary_leaves_the_agent_in_any_position() {
    let mut canaries = Canaries::new();
    let shapes = Shapes::plant(&mut canaries);
    let [long, short, x_eq_v, model_eq_v] = shapes.all();
    let issue = [
        "--debug",
        "run",
        "summarise my notes",
        "--project-falcon-acquires-acme",
        "-pHunter2",
        "--sk_live_51HqCANARY",
    ];
    let mut prompt = vec!["--debug", "run", "summarise my notes"];
    prompt.extend(shapes.all());
    let mut after_terminator = vec!["--debug", "run", "--model", "gpt-4o", "--"];
    after_terminator.extend(shapes.all());
    after_terminator.push("--debug");

    let cases: Vec<(Vec<&str>, Expect)> = vec![
        // Before the command: the agent knows no such option.
        (vec!["--debug", long, "run", "hi"], Expect::Refused),
        (vec!["--debug", short, "run", "hi"], Expect::Refused),
        (vec!["--debug", x_eq_v, "version"], Expect::Refused),
        (vec!["--debug", model_eq_v, "run", "hi"], Expect::Refused),
        // After the command, before the prompt: an unknown `--` option is
        // refused; `-p...` is no option to the agent, so the prompt begins.
        (vec!["--debug", "run", long, "hi"], Expect::Refused),
        (vec!["--debug", "run", x_eq_v, "hi"], Expect::Refused),
        // Any model is accepted; its value is never sent (an unknown model's
        // name is recorded as `other`).
        (
            vec!["--debug", "run", model_eq_v, "hi"],
            Expect::Sent(&["--debug", "--model"]),
        ),
        (vec!["--debug", "version", long], Expect::Refused),
        (vec!["--debug", "fail", short], Expect::Refused),
        (
            vec!["--debug", "run", short, "hi"],
            Expect::Sent(&["--debug"]),
        ),
        // In the prompt: every word is the prompt's. A word spelled like a
        // declared flag is sent as that name, never with its value.
        (issue.to_vec(), Expect::Sent(&["--debug"])),
        (prompt, Expect::Sent(&["--debug", "--model"])),
        // After `--`: nothing is a flag, declared or not.
        (after_terminator, Expect::Sent(&["--debug", "--model"])),
    ];

    let (collector, agent) = past_notice();
    let mut outputs: Vec<Output> = Vec::new();
    for (args, expect) in &cases {
        let before = collector.records().len();
        let output = agent.run(args);
        let records = collector.records();
        let commands: Vec<&Value> = records[before..]
            .iter()
            .filter(|record| record["event"] == "command")
            .collect();
        match expect {
            Expect::Refused => {
                assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
                assert_eq!(records.len(), before, "{args:?} sent: {records:#?}");
            }
            Expect::Sent(flags) => {
                assert!(output.status.success(), "{args:?}: {output:?}");
                assert_eq!(commands.len(), 1, "{args:?}: {records:#?}");
                assert_eq!(commands[0]["properties"]["args"], json!(flags), "{args:?}");
                assert!(
                    !debug_lines(&output).is_empty(),
                    "{args:?}: --debug printed the records: {output:?}"
                );
            }
        }
        outputs.push(output);
    }
    assert!(collector.records().len() >= 4, "{:#?}", collector.records());

    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for request in collector.requests() {
        places.push(("a request body".to_owned(), request.body.clone()));
        places.push((
            "a request path".to_owned(),
            request.path.clone().into_bytes(),
        ));
        for (name, value) in &request.headers {
            places.push((format!("the {name} header"), value.clone().into_bytes()));
        }
    }
    for ((args, _), output) in cases.iter().zip(&outputs) {
        // The toolkit's stderr: the debug lines, and all other lines but
        // the agent's own messages (which repeat what the user typed).
        let text = stderr(output);
        let toolkit: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("[telemetry]"))
            .collect();
        places.push((
            format!("the debug lines of {args:?}"),
            toolkit.join("\n").into_bytes(),
        ));
        let other: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with("agent:") && !line.starts_with("[telemetry]"))
            .collect();
        places.push((
            format!("the rest of stderr of {args:?}"),
            other.join("\n").into_bytes(),
        ));
    }
    let mut written = files_under(&agent.xdg_config_home());
    written.extend(files_under(&agent.home()));
    assert!(
        written.iter().any(|(path, _)| path.ends_with("user-uuid")),
        "{written:?}"
    );
    for (path, bytes) in written {
        let name = path.to_string_lossy().into_owned();
        places.push((format!("the name of {name}"), name.clone().into_bytes()));
        places.push((name, bytes));
    }

    for (place, bytes) in &places {
        canaries.assert_absent(place, bytes);
        let text = String::from_utf8_lossy(bytes);
        for word in ISSUE_WORDS {
            assert!(!text.contains(word), "{word:?} found in {place}: {text}");
        }
    }
}
