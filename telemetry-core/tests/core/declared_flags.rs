//! A command's `args` hold only the flag names the app declared: a list on
//! the builder (`flags`), or, with the `clap` feature, the flags of a
//! `clap::Command` (`clap_flags`). Every other dash-word, every value and
//! everything after `--` is dropped; with nothing declared, `args` is `[]`.
//! Through `track_command` and through `#[tracked_command]` (which reads
//! the process's own command line: run here as a child process with a
//! chosen command line).
//!
//! The clap tests need the feature:
//! `cargo test -p telemetry-core --features clap --test core declared_flags`
//! (`cargo test --workspace` turns it on through the root package).

use crate::common::assert_says;
use serde_json::{json, Value};
use telemetry_core::{tracked_command, MemorySink, Telemetry, TelemetryBuilder};
use telemetry_test_support::MemoryWriter;

/// The `args` of the one command `argv` records, on a client built from
/// `builder` (an isolated one with a memory sink).
fn recorded_args(builder: TelemetryBuilder, argv: &[&str]) -> Value {
    let sink = MemorySink::new();
    let telemetry = builder.sink(sink.clone()).build();
    telemetry.track_command("run", argv);
    let records = sink.records();
    assert_eq!(records.len(), 1, "{records:?}");
    serde_json::to_value(&records[0]).unwrap()["properties"]["args"].clone()
}

fn isolated() -> TelemetryBuilder {
    Telemetry::isolated("flags-test", "1.0.0")
}

/// Flag-shaped words a user could type in a prompt or as values.
const CANARIES: [&str; 8] = [
    "--project-falcon-acquires-acme",
    "--sk_live_51HqCANARY",
    "-pHunter2",
    "--x=v",
    "--model=secret-model",
    "-vvv",
    "--",
    "--after-terminator",
];

#[test]
fn with_nothing_declared_args_is_empty() {
    let argv = ["--debug", "-v", "--model=gpt-4", "run", "-pHunter2"];
    assert_eq!(recorded_args(isolated(), &argv), json!([]));
    assert_eq!(recorded_args(isolated(), &CANARIES), json!([]));
}

#[test]
fn only_declared_names_are_kept_in_order() {
    let builder = isolated().flags(["--debug", "--model", "-m"]);
    let argv = [
        "--debug",
        "--project-falcon-acquires-acme",
        "run",
        "-mgpt-4",
        "--verbose",
        "--model=gpt-4",
        "prompt words",
        "--debug",
    ];
    assert_eq!(
        recorded_args(builder, &argv),
        json!(["--debug", "-m", "--model", "--debug"])
    );
}

#[test]
fn a_value_is_dropped_and_its_flag_kept_only_when_declared() {
    let builder = isolated().flags(["--x", "-p"]);
    let argv = ["--x=v", "-pHunter2", "--y=v", "-qHunter2"];
    assert_eq!(recorded_args(builder, &argv), json!(["--x", "-p"]));
    let argv = ["--x=v", "-pHunter2"];
    assert_eq!(recorded_args(isolated().flags(["--y"]), &argv), json!([]));
}

#[test]
fn words_after_the_terminator_are_never_flags() {
    let builder = isolated().flags(["--debug", "--after-terminator"]);
    let argv = ["--debug", "--", "--debug", "--after-terminator"];
    assert_eq!(recorded_args(builder, &argv), json!(["--debug"]));
}

#[test]
fn long_and_short_names_are_distinct() {
    let argv = ["-x", "--x", "-y", "--y"];
    let builder = isolated().flags(["--x", "-y"]);
    assert_eq!(recorded_args(builder, &argv), json!(["--x", "-y"]));
}

#[test]
fn declarations_add_up() {
    let builder = isolated().flags(["--a"]).flags(vec!["--b".to_owned()]);
    assert_eq!(
        recorded_args(builder, &["--a", "--b", "--c"]),
        json!(["--a", "--b"])
    );
}

#[test]
fn a_declared_entry_that_is_no_flag_name_is_ignored_and_counted() {
    let log = MemoryWriter::new();
    let builder =
        isolated()
            .debug_writer(log.clone())
            .flags(["debug", "--model=x", "-ab", "--über", "--ok"]);
    let argv = ["debug", "--model=x", "-ab", "--über", "--ok"];
    assert_eq!(recorded_args(builder, &argv), json!(["--ok"]));
    // The entries themselves are not echoed.
    let said = ["[telemetry] 4 declared flag name(s) ignored"];
    assert_says(&log.text(), &said, &["über"]);
}

#[tracked_command]
fn tracked() {}

/// Run as a child process by
/// `tracked_command_keeps_the_declared_flags_of_the_command_line`, with a
/// command line chosen there.
#[test]
#[ignore = "a child process of tracked_command_keeps_the_declared_flags_of_the_command_line"]
fn tracked_command_child() {
    let sink = MemorySink::new();
    let telemetry = isolated()
        .sink(sink.clone())
        .flags(["--exact", "--nocapture", "--project-falcon-acquires-acme"])
        .build();
    telemetry.scope(tracked);
    let record = serde_json::to_value(&sink.records()[0]).unwrap();
    println!("args={}", record["properties"]["args"]);
}

#[test]
fn tracked_command_keeps_the_declared_flags_of_the_command_line() {
    // libtest takes the words after `--` as test-name filters; with
    // `--exact`, they match no test.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "declared_flags::tracked_command_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
            "--",
            "--project-falcon-acquires-acme",
            "-pHunter2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    // `--test-threads` and `--ignored` are not declared; the canary is, but
    // comes after `--`.
    assert!(
        stdout.contains(r#"args=["--exact","--nocapture"]"#),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[cfg(feature = "clap")]
mod clap_command {
    use super::{isolated, recorded_args, CANARIES};
    use clap::{Arg, ArgAction, Command};
    use serde_json::json;

    fn cli() -> Command {
        Command::new("agent")
            .version("1.0.0")
            .arg(
                Arg::new("debug")
                    .long("debug")
                    .short('d')
                    .global(true)
                    .action(ArgAction::SetTrue),
            )
            .arg(Arg::new("config").long("config").alias("conf"))
            .subcommand(
                Command::new("run")
                    .arg(
                        Arg::new("model")
                            .long("model")
                            .short('m')
                            .visible_alias("llm")
                            .short_alias('M'),
                    )
                    .arg(Arg::new("prompt").num_args(1..).trailing_var_arg(true))
                    .subcommand(
                        Command::new("deep")
                            .arg(Arg::new("level").long("level").visible_short_alias('L')),
                    ),
            )
            .subcommand(
                Command::new("sync")
                    .long_flag("sync")
                    .short_flag('S')
                    .long_flag_alias("synchronise")
                    .disable_help_flag(true),
            )
    }

    fn args_of(command: &Command, argv: &[&str]) -> serde_json::Value {
        recorded_args(isolated().clap_flags(command), argv)
    }

    #[test]
    fn long_and_short_names_and_aliases_of_every_subcommand() {
        let argv = [
            "--debug",
            "-d",
            "--config=x",
            "--conf",
            "run",
            "--model",
            "-mx",
            "--llm=x",
            "-M",
            "deep",
            "--level=3",
            "-L3",
            "-S",
            "--sync",
            "--synchronise",
        ];
        let expected: Vec<&str> = [
            "--debug",
            "-d",
            "--config",
            "--conf",
            "--model",
            "-m",
            "--llm",
            "-M",
            "--level",
            "-L",
            "-S",
            "--sync",
            "--synchronise",
        ]
        .to_vec();
        assert_eq!(args_of(&cli(), &argv), json!(expected));
    }

    #[test]
    fn the_help_and_version_flags_clap_generates_are_declared() {
        let argv = ["--help", "-h", "--version", "-V"];
        assert_eq!(args_of(&cli(), &argv), json!(argv));
        let bare = Command::new("bare")
            .disable_help_flag(true)
            .arg(Arg::new("x").long("x"));
        assert_eq!(args_of(&bare, &argv), json!([]));
    }

    #[test]
    fn a_built_command_declares_the_same() {
        let mut built = cli();
        built.build();
        let argv = [
            "--debug",
            "--help",
            "-V",
            "run",
            "--model=x",
            "--undeclared",
        ];
        assert_eq!(args_of(&built, &argv), args_of(&cli(), &argv));
        assert_eq!(
            args_of(&built, &argv),
            json!(["--debug", "--help", "-V", "--model"])
        );
    }

    #[test]
    fn positionals_values_and_canaries_are_dropped() {
        let mut argv = vec!["run", "--model=gpt-4", "summarise", "my", "notes"];
        argv.extend(CANARIES);
        // The canary `--model=secret-model` is a declared name and a value.
        assert_eq!(args_of(&cli(), &argv), json!(["--model", "--model"]));
    }

    #[test]
    fn a_list_and_a_command_add_up() {
        let builder = isolated().flags(["--extra"]).clap_flags(&cli());
        assert_eq!(
            recorded_args(builder, &["--extra", "--debug", "--other"]),
            json!(["--extra", "--debug"])
        );
    }

    #[test]
    fn names_that_are_no_flag_names_are_not_declared() {
        // A long name outside ASCII letters, digits, `-` and `_`, and a
        // short one that is not an ASCII letter, can never be recorded.
        let odd = Command::new("odd")
            .arg(Arg::new("a").long("über"))
            .arg(Arg::new("b").short('1'))
            .arg(Arg::new("c").long("plain"));
        assert_eq!(
            args_of(&odd, &["--über", "-1", "--plain"]),
            json!(["--plain"])
        );
    }
}
