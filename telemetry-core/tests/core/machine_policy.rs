//! Machine policy files only restrict: `level = off` beats every variable
//! and the remembered choice, `level = errors` leaves only failures, and a
//! file that cannot be trusted (malformed, an unknown level, writable by
//! others, unreadable, not a file) turns telemetry off, with `status`
//! naming the file. The files are read from a test directory through the
//! builder's `policy_dir` (the real paths are fixed under /etc).

#![cfg(unix)]

use crate::config_files::{euid, make_fifo};
use crate::levels::{failures_only, record_a_run, sent_shapes};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use telemetry_core::{Level, MemorySink, Mode, Rule, Telemetry, TelemetryBuilder, POLICY_FILE};
use telemetry_test_support::TempDir;

const APP: &str = "policy-test";

/// A config dir whose notice was seen, a policy dir, and a builder for
/// them with these variables, sending to `sink`.
struct Machine {
    root: TempDir,
}

impl Machine {
    fn new(name: &str) -> Machine {
        let root = TempDir::new(name);
        fs::create_dir(root.join("policy")).unwrap();
        Machine { root }
    }

    fn policy_dir(&self) -> PathBuf {
        self.root.join("policy")
    }

    /// Writes the machine-wide policy file (mode 0644).
    fn policy(&self, text: &str) -> PathBuf {
        let file = self.policy_dir().join(POLICY_FILE);
        fs::write(&file, text).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        file
    }

    /// Writes the app's own policy file.
    fn app_policy(&self, text: &str) -> PathBuf {
        let dir = self.policy_dir().join(APP);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join(POLICY_FILE);
        fs::write(&file, text).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        file
    }

    fn builder(&self, sink: &MemorySink, vars: &[(&str, &str)]) -> TelemetryBuilder {
        Telemetry::builder(APP, "1.0.0")
            .sink(sink.clone())
            .notice(false)
            .config_dir(self.root.join("config"))
            .policy_dir(self.policy_dir())
            .env_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }
}

fn json(status: &telemetry_core::Status) -> Value {
    serde_json::from_str(&status.to_json()).unwrap()
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn level_off_beats_telemetry_enabled_true_and_telemetry_enable() {
    let machine = Machine::new("policy-off");
    let file = machine.policy("# managed by IT\nlevel = off\n");
    let sink = MemorySink::new();
    let vars = [
        ("TELEMETRY_ENABLED", "true"),
        ("POLICY_TEST_TELEMETRY_ENABLED", "1"),
    ];
    machine.builder(&sink, &vars).controls().enable().unwrap();
    let status = machine.builder(&sink, &vars).controls().status();
    assert_eq!(
        (status.mode, status.decided_by),
        (Mode::Off, Rule::MachinePolicy)
    );
    let json = json(&status);
    assert_eq!(json["decided_by"], "machine_policy");
    assert_eq!(json["policy_file"], text(&file));
    assert_eq!(json["level"], "off");
    assert!(status.explanation.contains(&text(&file)), "{status}");
    assert!(status.to_string().contains(&text(&file)));
    let telemetry = machine.builder(&sink, &vars).build();
    assert!(!telemetry.is_enabled());
    assert_eq!(telemetry.status().decided_by, Rule::MachinePolicy);
    record_a_run(&telemetry);
    assert!(sink.records().is_empty());
    // Log-only mode records nothing either.
    let telemetry = machine
        .builder(&sink, &[("TELEMETRY_ENABLED", "log")])
        .build();
    assert!(!telemetry.is_enabled());
}

#[test]
fn level_errors_leaves_only_the_failures_whatever_else_says_all() {
    let machine = Machine::new("policy-errors");
    machine.policy("level = all\n");
    let file = machine.app_policy("level = errors # failures only, please\n");
    let sink = MemorySink::new();
    let make = || machine.builder(&sink, &[("TELEMETRY_ENABLED", "true")]);
    let status = make().controls().status();
    assert!(status.enabled);
    assert_eq!(status.level, Level::Errors);
    assert_eq!(status.decided_by, Rule::MachinePolicy);
    assert_eq!(status.policy_file.as_deref(), Some(&*text(&file)));
    let telemetry = make().build();
    record_a_run(&telemetry);
    assert_eq!(sent_shapes(&sink), failures_only());
}

#[test]
fn a_policy_never_raises_a_stricter_choice() {
    let machine = Machine::new("policy-no-raise");
    machine.policy("level = all\n");
    let sink = MemorySink::new();
    machine
        .builder(&sink, &[])
        .controls()
        .enable_errors_only()
        .unwrap();
    let telemetry = machine.builder(&sink, &[]).build();
    let status = telemetry.status();
    assert_eq!(
        (status.level, status.decided_by),
        (Level::Errors, Rule::RememberedChoice)
    );
    record_a_run(&telemetry);
    assert_eq!(sent_shapes(&sink), failures_only());
    // And a variable that turns it off still does.
    let status = machine
        .builder(&sink, &[("DO_NOT_TRACK", "1")])
        .controls()
        .status();
    assert_eq!(status.decided_by, Rule::DoNotTrack);
}

#[test]
fn a_policy_that_cannot_be_trusted_turns_telemetry_off_and_status_names_it() {
    type Plant = fn(&Path);
    let mut cases: Vec<(&str, Plant, &str)> = vec![
        (
            "malformed",
            |p| fs::write(p, "level off\n").unwrap(),
            "line (1)",
        ),
        (
            "an unknown level",
            |p| fs::write(p, "level = some\n").unwrap(),
            "not off, local, errors or all",
        ),
        (
            "world-writable",
            |p| {
                fs::write(p, "level = all\n").unwrap();
                fs::set_permissions(p, fs::Permissions::from_mode(0o666)).unwrap();
            },
            "writable by users other than root",
        ),
        ("a FIFO", make_fifo, "cannot be read"),
        ("a dir", |p| fs::create_dir(p).unwrap(), "cannot be read"),
        (
            "not UTF-8",
            |p| fs::write(p, b"level = \xff\n").unwrap(),
            "cannot be read",
        ),
    ];
    if euid() == 0 {
        cases.push((
            "another user's",
            |p| {
                fs::write(p, "level = all\n").unwrap();
                std::os::unix::fs::chown(p, Some(4242), Some(4242)).unwrap();
            },
            "not owned by root",
        ));
    } else {
        cases.push((
            "unreadable",
            |p| {
                fs::write(p, "level = all\n").unwrap();
                fs::set_permissions(p, fs::Permissions::from_mode(0o200)).unwrap();
            },
            "cannot be read",
        ));
    }
    for (what, plant, says) in cases {
        for app_file in [false, true] {
            let machine = Machine::new("policy-untrusted");
            let file = if app_file {
                fs::create_dir(machine.policy_dir().join(APP)).unwrap();
                machine.policy_dir().join(APP).join(POLICY_FILE)
            } else {
                machine.policy_dir().join(POLICY_FILE)
            };
            plant(&file);
            let sink = MemorySink::new();
            let make = || machine.builder(&sink, &[("TELEMETRY_ENABLED", "true")]);
            let status = make().controls().status();
            assert_eq!(
                (status.enabled, status.decided_by),
                (false, Rule::MachinePolicy),
                "{what}: {status}"
            );
            assert_eq!(status.policy_file.as_deref(), Some(&*text(&file)), "{what}");
            assert!(
                status.explanation.contains(&text(&file)),
                "{what}: {status}"
            );
            assert!(status.explanation.contains(says), "{what}: {status}");
            let telemetry = make().build();
            assert!(!telemetry.is_enabled(), "{what}");
            assert_eq!(telemetry.status().decided_by, Rule::MachinePolicy);
            record_a_run(&telemetry);
            assert!(sink.records().is_empty(), "{what}");
        }
    }
}

#[test]
fn comments_blank_lines_other_keys_and_case_are_read() {
    let machine = Machine::new("policy-format");
    machine.policy("\n# level = off\n  Level = ERRORS  # shout\nreport_to = it@example\n");
    let sink = MemorySink::new();
    let status = machine.builder(&sink, &[]).controls().status();
    assert_eq!(status.level, Level::Errors, "{status}");
    // No file, or a file without `level`: nothing restricts.
    let machine = Machine::new("policy-none");
    let status = machine.builder(&sink, &[]).controls().status();
    assert_eq!((status.level, status.policy_file), (Level::All, None));
    machine.policy("# nothing yet\n");
    let status = machine.builder(&sink, &[]).controls().status();
    assert_eq!(
        (status.level, status.decided_by),
        (Level::All, Rule::Default)
    );
}

#[test]
fn level_local_records_and_sends_nothing() {
    let machine = Machine::new("policy-local");
    machine.policy("level = local\n");
    let sink = MemorySink::new();
    let telemetry = machine.builder(&sink, &[]).build();
    let status = telemetry.status();
    assert_eq!(status.level, Level::Local);
    assert!(!status.enabled, "nothing is sent: {status}");
    assert!(telemetry.is_enabled(), "records are made");
    record_a_run(&telemetry);
    assert!(sink.records().is_empty());
}
