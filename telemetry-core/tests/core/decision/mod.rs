//! `status` says what a run does: one decision, vetoes included, made the
//! same way for `TelemetryBuilder::controls` and for `build`. A test per
//! veto pins `builder.controls().status().enabled ==
//! builder.build().is_enabled()` and the rule each reports, and a property
//! test does the same over generated settings and config dirs.
//!
//! Nothing here records: an endpoint is only parsed, never contacted.

#![cfg(unix)]

use crate::config_files::{euid, make_fifo};
use proptest::prelude::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use telemetry_core::{
    CiPolicy, Level, MemorySink, Mode, Rule, Status, Telemetry, TelemetryBuilder,
    NOTICE_MARKER_FILE, POLICY_FILE, USER_UUID_FILE,
};
use telemetry_test_support::TempDir;

const APP: &str = "decision-test";
const CHOICE_FILE: &str = "telemetry-choice";
/// Never contacted: nothing is recorded.
const ENDPOINT: &str = "http://127.0.0.1:9/v1/events";

mod properties;

/// A builder for `dir` with these variables, the notice on (written
/// nowhere).
fn builder(dir: &Path, vars: &[(&str, &str)]) -> TelemetryBuilder {
    Telemetry::builder(APP, "1.0.0")
        .endpoint(ENDPOINT)
        .config_dir(dir)
        .notice_writer(std::io::sink())
        .env_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// Asks the controls, then builds: both must agree on whether records are
/// sent (`enabled`; a log-only client records and prints, and sends
/// nothing), the mode and the rule. The status the controls gave.
fn agree(make: impl Fn() -> TelemetryBuilder) -> Status {
    let before = make().controls().status();
    let telemetry = make().build();
    let sends = telemetry.is_enabled()
        && telemetry.status().mode == Mode::On
        && telemetry.status().level.sends();
    assert_eq!(before.enabled, sends, "status said:\n{before}");
    assert_eq!(
        before.mode != Mode::Off,
        telemetry.is_enabled(),
        "status said:\n{before}"
    );
    let after = telemetry.status();
    assert_eq!(
        (
            before.mode,
            before.decided_by,
            before.level,
            before.ci_policy
        ),
        (after.mode, after.decided_by, after.level, after.ci_policy),
        "status said:\n{before}\nthe built client says:\n{after}"
    );
    assert_eq!(before.policy_file, after.policy_file);
    before
}

/// Agrees, is off by `rule`, and the explanation names `names`.
fn vetoed(make: impl Fn() -> TelemetryBuilder, rule: Rule, names: &str) -> Status {
    let status = agree(make);
    assert!(!status.enabled);
    assert_eq!(status.mode, Mode::Off);
    assert_eq!(status.decided_by, rule, "{status}");
    let json: serde_json::Value = serde_json::from_str(&status.to_json()).unwrap();
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decided_by"], rule.as_str());
    assert!(
        status.explanation.contains(names),
        "{names:?} not in: {}",
        status.explanation
    );
    assert_eq!(json["explanation"], status.explanation.as_str());
    assert!(status.to_string().contains(&status.explanation));
    status
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A config dir of ours, mode 0700, with the notice already shown, in a
/// new temporary dir named after `label` (which removes it when dropped).
fn seen_dir(label: &str) -> (TempDir, PathBuf) {
    let root = TempDir::new(label);
    let dir = root.join("config");
    fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    marker(&dir, SystemTime::now() - Duration::from_secs(3600));
    (root, dir)
}

/// Plants a notice marker of ours (0600) in `dir`, last modified `at`.
fn marker(dir: &Path, at: SystemTime) {
    let path = dir.join(NOTICE_MARKER_FILE);
    let file = fs::File::create(&path).unwrap();
    chmod(&path, 0o600);
    file.set_modified(at).unwrap();
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn text_of(path: &Path) -> String {
    text(path)
}

#[test]
fn nothing_vetoed_is_on_by_default() {
    let (_root, dir) = seen_dir("decision-default");
    let status = agree(|| builder(&dir, &[]));
    assert!(status.enabled);
    assert_eq!(status.decided_by, Rule::Default);
}

#[test]
fn an_invalid_app_name_is_vetoed() {
    let (_root, dir) = seen_dir("decision-app");
    let make = || {
        Telemetry::builder("no spaces allowed", "1")
            .endpoint(ENDPOINT)
            .config_dir(&dir)
            .env_vars([("LANG", "C")])
    };
    vetoed(make, Rule::InvalidAppName, "no spaces allowed");
}

#[test]
fn an_endpoint_that_is_not_a_url_is_vetoed() {
    let (_root, dir) = seen_dir("decision-not-a-url");
    let status = vetoed(
        || builder(&dir, &[("TELEMETRY_ENDPOINT", "not a url")]),
        Rule::InvalidEndpoint,
        "TELEMETRY_ENDPOINT",
    );
    assert!(status.explanation.contains("not a URL"), "{status}");
    assert_eq!(status.destination, None);
    // The same endpoint set in code.
    vetoed(
        || builder(&dir, &[]).endpoint("not a url"),
        Rule::InvalidEndpoint,
        "not a URL",
    );
}

#[test]
fn an_ftp_endpoint_is_vetoed() {
    let (_root, dir) = seen_dir("decision-ftp");
    let status = vetoed(
        || {
            builder(
                &dir,
                &[
                    ("AGENT_TELEMETRY_ENDPOINT", "x"),
                    ("TELEMETRY_ENDPOINT", "ftp://collector.example/in"),
                ],
            )
        },
        Rule::InvalidEndpoint,
        "ftp://collector.example",
    );
    assert!(status.explanation.contains("not http or https"), "{status}");
    assert_eq!(status.variable.as_deref(), Some("TELEMETRY_ENDPOINT"));
}

#[test]
fn an_endpoint_variable_that_is_not_utf8_is_vetoed() {
    use std::os::unix::ffi::OsStringExt;
    let (_root, dir) = seen_dir("decision-utf8");
    let make = || {
        builder(&dir, &[]).env(|name| {
            (name == "TELEMETRY_ENDPOINT").then(|| std::ffi::OsString::from_vec(vec![0x68, 0xff]))
        })
    };
    vetoed(
        make,
        Rule::InvalidEndpoint,
        "TELEMETRY_ENDPOINT is not valid UTF-8",
    );
}

#[test]
fn an_api_key_that_cannot_be_a_header_is_vetoed() {
    let (_root, dir) = seen_dir("decision-key");
    let status = vetoed(
        || builder(&dir, &[]).api_key("line\nbreak"),
        Rule::InvalidSetting,
        "API key",
    );
    assert!(!status.explanation.contains("line\nbreak"));
}

#[test]
fn a_config_dir_writable_by_others_is_vetoed_with_the_chmod_that_repairs_it() {
    let (_root, dir) = seen_dir("decision-0777");
    chmod(&dir, 0o777);
    let status = vetoed(|| builder(&dir, &[]), Rule::ConfigDirRefused, &text(&dir));
    assert!(
        status
            .explanation
            .contains(&format!("chmod 700 {}", text(&dir))),
        "{status}"
    );
}

#[test]
fn a_symlinked_config_dir_is_vetoed() {
    let (root, real) = seen_dir("decision-symlink");
    let link = root.join("link");
    symlink(&real, &link).unwrap();
    let status = vetoed(|| builder(&link, &[]), Rule::ConfigDirRefused, &text(&link));
    assert!(status.explanation.contains("symbolic link"), "{status}");
}

#[test]
fn another_users_config_dir_is_vetoed() {
    if euid() != 0 {
        return; // Only root can give a dir away.
    }
    let (_root, dir) = seen_dir("decision-theirs");
    std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
    let status = vetoed(|| builder(&dir, &[]), Rule::ConfigDirRefused, &text(&dir));
    assert!(status.explanation.contains("chown"), "{status}");
}

#[test]
fn an_id_file_writable_by_others_is_vetoed() {
    let (_root, dir) = seen_dir("decision-id");
    let id = dir.join(USER_UUID_FILE);
    fs::write(&id, "").unwrap();
    chmod(&id, 0o666);
    vetoed(
        || builder(&dir, &[]),
        Rule::IdFileRefused,
        &format!("chmod 600 {}", text(&id)),
    );
}

#[test]
fn a_notice_marker_writable_by_others_is_vetoed() {
    let (_root, dir) = seen_dir("decision-marker");
    chmod(&dir.join(NOTICE_MARKER_FILE), 0o666);
    vetoed(
        || builder(&dir, &[]),
        Rule::NoticeMarkerRefused,
        &text(&dir.join(NOTICE_MARKER_FILE)),
    );
}

/// Each kind of choice file that cannot be trusted turns telemetry off,
/// whatever the variables say, and `status` names the file.
#[test]
fn an_untrusted_choice_file_is_a_veto_whatever_the_variables_say() {
    let root = TempDir::new("decision-choice");
    let victim = root.join("victim");
    fs::write(&victim, "disabled\n").unwrap();
    type Plant = Box<dyn Fn(&Path)>;
    let mut cases: Vec<(&str, Plant)> = vec![
        (
            "a link",
            Box::new(move |path| symlink(&victim, path).unwrap()),
        ),
        (
            "mode 0666",
            Box::new(|path| {
                fs::write(path, "disabled\n").unwrap();
                chmod(path, 0o666);
            }),
        ),
        ("a FIFO", Box::new(make_fifo)),
        ("a dir", Box::new(|path| fs::create_dir(path).unwrap())),
        ("empty", Box::new(|path| fs::write(path, "").unwrap())),
        (
            "unknown",
            Box::new(|path| fs::write(path, "perhaps\n").unwrap()),
        ),
    ];
    if euid() == 0 {
        cases.push((
            "another user's",
            Box::new(|path| {
                fs::write(path, "disabled\n").unwrap();
                std::os::unix::fs::chown(path, Some(4242), Some(4242)).unwrap();
            }),
        ));
    }
    for (index, (what, plant)) in cases.iter().enumerate() {
        let (_root, dir) = seen_dir(&format!("decision-choice-{index}"));
        let file = dir.join(CHOICE_FILE);
        plant(&file);
        for vars in [
            &[][..],
            &[("TELEMETRY_ENABLED", "true")][..],
            &[("DECISION_TEST_TELEMETRY_ENABLED", "1")][..],
        ] {
            let status = vetoed(
                || builder(&dir, vars),
                Rule::UntrustedChoiceFile,
                &text(&file),
            );
            assert!(
                status.explanation.contains("telemetry disable"),
                "{what}: {status}"
            );
        }
        // A variable that turns it off stays the reason.
        let status = agree(|| builder(&dir, &[("DO_NOT_TRACK", "1")]));
        assert_eq!(status.decided_by, Rule::DoNotTrack, "{what}");
    }
}

/// A byte-order mark, whitespace around the word and its case are read.
#[test]
fn a_choice_with_a_bom_spaces_or_capitals_is_read() {
    for (index, contents) in ["\u{feff}disabled\n", "Disabled \r\n", " DISABLED"]
        .iter()
        .enumerate()
    {
        let (_root, dir) = seen_dir(&format!("decision-known-{index}"));
        let file = dir.join(CHOICE_FILE);
        fs::write(&file, contents).unwrap();
        chmod(&file, 0o600);
        let status = agree(|| builder(&dir, &[]));
        assert_eq!(
            (status.mode, status.decided_by),
            (Mode::Off, Rule::RememberedChoice),
            "{contents:?}"
        );
    }
}

#[test]
fn no_usable_config_dir_is_a_veto_while_the_notice_is_on() {
    // No HOME, no XDG_CONFIG_HOME: no dir at all.
    let make = || {
        Telemetry::builder(APP, "1.0.0")
            .endpoint(ENDPOINT)
            .notice_writer(std::io::sink())
            .env_vars([("LANG", "C")])
    };
    vetoed(make, Rule::NoConfigDir, "HOME");
    // A regular file where the dir should be.
    let root = TempDir::new("decision-no-dir");
    let file = root.join("file");
    fs::write(&file, "x").unwrap();
    vetoed(|| builder(&file, &[]), Rule::NoConfigDir, &text(&file));
    vetoed(
        || builder(&file.join("config"), &[]),
        Rule::NoConfigDir,
        &text(&file.join("config")),
    );
    // Without the notice, nothing to remember: on, with an id for the
    // process only.
    let status = agree(|| builder(&file, &[("TELEMETRY_HIDE_BANNER", "1")]));
    assert!(status.enabled, "{status}");
    let status = agree(|| builder(&file, &[]).notice(false));
    assert!(status.enabled, "{status}");
}

#[test]
fn root_acting_for_another_user_is_a_veto_while_the_notice_is_on() {
    if euid() != 0 {
        return; // `SUDO_UID` means nothing to other users.
    }
    let (root, dir) = seen_dir("decision-sudo");
    let home = text(root.path());
    vetoed(
        || builder(&dir, &[("HOME", &home), ("SUDO_UID", "4242")]),
        Rule::RootForAnotherUser,
        "sudo",
    );
}

/// A marker dated in the future counts as seen: the run sends.
#[test]
fn a_notice_marker_dated_in_the_future_counts_as_seen() {
    let root = TempDir::new("decision-future");
    let dir = root.join("config");
    fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    marker(&dir, SystemTime::now() + Duration::from_secs(86_400));
    let sink = MemorySink::new();
    let notice = telemetry_test_support::MemoryWriter::new();
    let status = agree(|| {
        builder(&dir, &[])
            .sink(sink.clone())
            .notice_writer(notice.clone())
    });
    assert!(status.enabled);
    let telemetry = builder(&dir, &[])
        .sink(sink.clone())
        .notice_writer(notice.clone())
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(sink.records().len(), 1, "sent, not held");
    assert_eq!(notice.text(), "", "no notice again");
}

/// Writes a machine policy file in `dir` with `mode`.
fn policy(dir: &Path, text: &str, mode: u32) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let file = dir.join(POLICY_FILE);
    fs::write(&file, text).unwrap();
    chmod(&file, mode);
    file
}

#[test]
fn a_machine_policy_decides_the_same_for_status_and_the_client() {
    for (text, mode, rule, level) in [
        ("level = off\n", 0o644, Rule::MachinePolicy, Level::Off),
        (
            "level = errors\n",
            0o644,
            Rule::MachinePolicy,
            Level::Errors,
        ),
        ("level = local\n", 0o644, Rule::MachinePolicy, Level::Local),
        ("level = all\n", 0o644, Rule::Default, Level::All),
        ("level = most\n", 0o644, Rule::MachinePolicy, Level::Off),
        ("levelerrors\n", 0o644, Rule::MachinePolicy, Level::Off),
        ("level = all\n", 0o666, Rule::MachinePolicy, Level::Off),
    ] {
        let (root, dir) = seen_dir("decision-policy");
        let policy_dir = root.join("policy");
        let file = policy(&policy_dir, text, mode);
        let status = agree(|| builder(&dir, &[]).policy_dir(&policy_dir));
        assert_eq!(
            (status.decided_by, status.level),
            (rule, level),
            "{text:?} {mode:o}: {status}"
        );
        if rule == Rule::MachinePolicy {
            assert_eq!(status.policy_file.as_deref(), Some(&*text_of(&file)));
            assert!(status.explanation.contains(&text_of(&file)), "{status}");
        }
    }
}

#[test]
fn the_ci_policies_decide_the_same_for_status_and_the_client() {
    let (_root, dir) = seen_dir("decision-ci");
    let ci = [("CI", "true")];
    let status = agree(|| builder(&dir, &ci));
    assert_eq!(
        (status.enabled, status.ci_policy),
        (true, Some(CiPolicy::Anonymous))
    );
    let status = agree(|| builder(&dir, &ci).in_ci(CiPolicy::Skip));
    assert_eq!(status.decided_by, Rule::CiPolicy);
    let status = agree(|| builder(&dir, &ci).in_ci(CiPolicy::AsUser));
    assert!(status.enabled);
    // In CI, no config dir is needed: nothing is written there.
    let status = agree(|| {
        Telemetry::builder(APP, "1.0.0")
            .endpoint(ENDPOINT)
            .notice_writer(std::io::sink())
            .env_vars([("CI", "1")])
    });
    assert!(status.enabled, "{status}");
    // ... but as a user it is.
    vetoed(
        || {
            Telemetry::builder(APP, "1.0.0")
                .endpoint(ENDPOINT)
                .notice_writer(std::io::sink())
                .in_ci(CiPolicy::AsUser)
                .env_vars([("CI", "1")])
        },
        Rule::NoConfigDir,
        "HOME",
    );
    let status = agree(|| builder(&dir, &[("CI", "true"), ("DO_NOT_TRACK", "1")]));
    assert_eq!(status.decided_by, Rule::DoNotTrack);
}
