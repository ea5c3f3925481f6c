//! End to end: `agent telemetry status` says what the agent's runs do, for
//! every veto a user can meet (a 0777 or symlinked config dir, an endpoint
//! that is not a URL or not http, a remembered choice that cannot be
//! trusted, no usable config dir) and for a notice marker dated in the
//! future. Each case runs the agent as a process against a loopback
//! collector and checks that `status --json` and the run agree.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};
use telemetry_test_support::agent::{stderr, stdout, Agent, NOTICE_START};
use telemetry_test_support::collector::Collector;

const CHOICE_FILE: &str = "telemetry-choice";

/// `status --json` and the plain `status`, with `env`.
fn statuses(agent: &Agent, env: &[(&str, &str)]) -> (serde_json::Value, String) {
    let text = agent.run_ok(&["telemetry", "status"], env);
    (agent.status_json(env), stdout(&text))
}

/// Status says off, decided by `rule`, and its text names `names`; then a
/// run records and sends nothing, shows no notice, and its debug log says
/// `says`.
fn off_everywhere(
    agent: &Agent,
    collector: &Collector,
    env: &[(&str, &str)],
    rule: &str,
    names: &str,
    says: &str,
) {
    let (json, text) = statuses(agent, env);
    assert_eq!(json["enabled"], false, "{json}");
    assert_eq!(json["decided_by"], rule, "{json}");
    assert_ne!(json["decided_by"], "default");
    assert!(text.contains("Telemetry is off."), "{text}");
    assert!(text.contains(names), "{names:?} not in:\n{text}");
    let run = agent.run_ok(&["--debug", "version"], env);
    let err = stderr(&run);
    assert!(!err.contains(NOTICE_START), "{err}");
    assert!(err.contains(says), "{says:?} not in:\n{err}");
    assert_eq!(collector.connections(), 0, "{err}");
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// An agent whose config dir exists (mode 0700) with the notice shown long
/// ago, sending to a fresh collector.
fn seen(collector: &Collector) -> Agent {
    let agent = Agent::new(&collector.url());
    let dir = agent.config_dir();
    fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o700);
    set_marker(&dir, SystemTime::now() - Duration::from_secs(3600));
    agent
}

fn set_marker(dir: &Path, at: SystemTime) {
    let marker = dir.join(telemetry_core::NOTICE_MARKER_FILE);
    fs::write(&marker, "").unwrap();
    chmod(&marker, 0o600);
    fs::File::options()
        .write(true)
        .open(&marker)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

/// A veto on the config dir: `refuse` makes the seen agent's dir
/// unusable and returns what status must name.
fn off_for_config_dir(refuse: impl FnOnce(&Agent) -> String, says: &str) {
    let collector = Collector::start().unwrap();
    let agent = seen(&collector);
    let names = refuse(&agent);
    off_everywhere(&agent, &collector, &[], "config_dir_refused", &names, says);
}

/// A veto on the endpoint: `TELEMETRY_ENDPOINT=endpoint`.
fn off_for_endpoint(endpoint: &str, names: &str, says: &str) {
    let collector = Collector::start().unwrap();
    let agent = seen(&collector);
    let env = [("TELEMETRY_ENDPOINT", endpoint)];
    off_everywhere(&agent, &collector, &env, "invalid_endpoint", names, says);
}

#[test]
fn a_config_dir_writable_by_others_is_off_in_status_and_in_the_run() {
    off_for_config_dir(
        |agent| {
            chmod(&agent.config_dir(), 0o777);
            format!("chmod 700 {}", text(&agent.config_dir()))
        },
        "telemetry is off: the config dir is writable by other users",
    );
}

#[test]
fn a_symlinked_config_dir_is_off_in_status_and_in_the_run() {
    off_for_config_dir(
        |agent| {
            let real = agent.xdg_config_home().join("real");
            fs::rename(agent.config_dir(), &real).unwrap();
            symlink(&real, agent.config_dir()).unwrap();
            "symbolic link".to_owned()
        },
        "telemetry is off: the config dir is a symbolic link",
    );
}

#[test]
fn an_endpoint_that_is_not_a_url_is_off_in_status_and_in_the_run() {
    let says = "telemetry is off: the endpoint is not a URL";
    off_for_endpoint("not a url", "not a URL", says);
}

#[test]
fn an_ftp_endpoint_is_off_in_status_and_in_the_run() {
    let says = "telemetry is off: the endpoint's scheme is not http or https";
    off_for_endpoint("ftp://127.0.0.1/in", "ftp://127.0.0.1", says);
}

/// Each remembered choice that cannot be trusted is an opt-out that fails
/// closed: off in status (naming the file) and in the run, whatever
/// `TELEMETRY_ENABLED` says.
#[test]
fn each_untrusted_choice_file_is_off_in_status_and_opens_no_connection() {
    type Plant = fn(&Path, &Path);
    let mut cases: Vec<(&str, Plant)> = vec![
        ("a link", |file, root| {
            let target = root.join("dotfiles-choice");
            fs::write(&target, "disabled\n").unwrap();
            symlink(&target, file).unwrap();
        }),
        ("mode 0666", |file, _| {
            fs::write(file, "disabled\n").unwrap();
            chmod(file, 0o666);
        }),
        ("a FIFO", |file, _| {
            let name = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        }),
        ("a dir", |file, _| fs::create_dir(file).unwrap()),
        ("empty", |file, _| fs::write(file, "").unwrap()),
        ("unknown", |file, _| fs::write(file, "nope\n").unwrap()),
    ];
    // SAFETY: `geteuid` has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cases.push(("another user's", |file, _| {
            fs::write(file, "disabled\n").unwrap();
            std::os::unix::fs::chown(file, Some(4242), Some(4242)).unwrap();
        }));
    }
    for (what, plant) in cases {
        let collector = Collector::start().unwrap();
        let agent = seen(&collector);
        let file = agent.config_dir().join(CHOICE_FILE);
        plant(&file, &agent.home());
        off_everywhere(
            &agent,
            &collector,
            &[("TELEMETRY_ENABLED", "true")],
            "untrusted_choice_file",
            &text(&file),
            "telemetry is off: the remembered choice's file",
        );
        assert!(file.symlink_metadata().is_ok(), "{what}: left as it is");
    }
}

/// Known words with a byte-order mark, spaces or capitals are read.
#[test]
fn a_disabled_choice_with_a_bom_and_a_windows_line_end_is_an_opt_out() {
    let collector = Collector::start().unwrap();
    let agent = seen(&collector);
    let file = agent.config_dir().join(CHOICE_FILE);
    fs::write(&file, "\u{feff}Disabled \r\n").unwrap();
    chmod(&file, 0o600);
    let (json, _) = statuses(&agent, &[]);
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decided_by"], "remembered_choice");
    agent.run_ok(&["version"], &[]);
    assert_eq!(collector.connections(), 0);
}

/// No usable config dir (here `XDG_CONFIG_HOME` is a regular file): off,
/// no notice, nothing sent, no id; status names the dir.
#[test]
fn no_usable_config_dir_is_off_in_status_and_in_the_run() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    let file = agent.home().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let xdg = text(&file);
    let env = [("XDG_CONFIG_HOME", xdg.as_str())];
    off_everywhere(
        &agent,
        &collector,
        &env,
        "no_config_dir",
        &text(&file.join("agent")),
        "telemetry is off: no usable config dir",
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
}

/// A marker dated in the future (a clock stepped back) counts as seen:
/// status says on, and the run sends without showing the notice again.
#[test]
fn a_notice_marker_dated_in_the_future_lets_the_run_send() {
    let collector = Collector::start().unwrap();
    let agent = seen(&collector);
    set_marker(
        &agent.config_dir(),
        SystemTime::now() + Duration::from_secs(86_400),
    );
    let (json, _) = statuses(&agent, &[]);
    assert_eq!(json["enabled"], true, "{json}");
    let run = agent.run_ok(&["version"], &[]);
    assert!(!stderr(&run).contains(NOTICE_START));
    assert!(!collector.records().is_empty(), "sent, not held");
}
