//! The user's controls, through the library: the remembered choice
//! (`Controls::enable | disable | reset_id`), the precedence of the
//! variables over it, per-app variables, log-only mode, the status of on
//! and off clients, and the `ci_provider` / `ai_agent` common fields.

use std::net::TcpListener;
use std::path::Path;
use telemetry_core::{
    ControlError, MemorySink, Mode, OffReason, Rule, Telemetry, TelemetryBuilder, USER_UUID_FILE,
};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::debug_log::logged_records;
use telemetry_test_support::fs::entries;
use telemetry_test_support::process::run_alone;
use telemetry_test_support::{MemoryWriter, TempDir};

const APP: &str = "my-agent";

/// A builder as a real program makes it: this config dir, these variables,
/// no notice (the first-run rules are tested elsewhere).
fn builder(dir: &Path, endpoint: &str, vars: &[(&'static str, &'static str)]) -> TelemetryBuilder {
    Telemetry::builder(APP, "1.0.0")
        .endpoint(endpoint)
        .config_dir(dir)
        .notice(false)
        .env_vars(vars.to_vec())
}

/// A loopback port that counts the connections made to it.
struct Listener(TcpListener);

impl Listener {
    fn new() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Listener(listener)
    }

    fn url(&self) -> String {
        format!("http://{}/v1/events", self.0.local_addr().unwrap())
    }

    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.0.accept().ok()).count()
    }
}

#[test]
fn disable_turns_later_clients_off_and_their_status_names_the_choice() {
    let dir = TempDir::new("controls-disable");
    let collector = Collector::start().unwrap();
    let url = collector.url();

    builder(dir.path(), &url, &[]).controls().disable().unwrap();
    assert_eq!(entries(dir.path()), ["telemetry-choice"]);

    let telemetry = builder(dir.path(), &url, &[]).build();
    assert!(!telemetry.is_enabled());
    assert_eq!(telemetry.off_reason(), Some(&OffReason::DisabledByChoice));
    telemetry.track_command("run", ["--verbose"]);
    assert_eq!(collector.connections(), 0);
    let status = telemetry.status();
    assert_eq!(
        (status.mode, status.decided_by),
        (Mode::Off, Rule::RememberedChoice)
    );
    assert!(status.to_string().contains("Run `telemetry enable`"));
    assert_eq!(telemetry.config_dir(), Some(dir.path()));
    // An off client wrote nothing but what `disable` wrote.
    assert_eq!(entries(dir.path()), ["telemetry-choice"]);

    builder(dir.path(), &url, &[]).controls().enable().unwrap();
    let telemetry = builder(dir.path(), &url, &[]).build();
    assert!(telemetry.is_enabled());
    assert_eq!(telemetry.status().decided_by, Rule::RememberedChoice);
    telemetry.track_command("run", ["--verbose"]);
    assert_eq!(collector.records().len(), 1);
}

#[test]
fn do_not_track_and_the_variables_beat_the_remembered_choice() {
    let dir = TempDir::new("controls-dnt");
    let listener = Listener::new();
    let url = listener.url();
    builder(dir.path(), &url, &[]).controls().enable().unwrap();

    let dnt = builder(dir.path(), &url, &[("DO_NOT_TRACK", "1")]).build();
    assert_eq!(dnt.off_reason(), Some(&OffReason::DoNotTrack));
    assert_eq!(dnt.status().decided_by, Rule::DoNotTrack);

    let generic = builder(dir.path(), &url, &[("TELEMETRY_ENABLED", "false")]).build();
    assert_eq!(generic.off_reason(), Some(&OffReason::EnabledIsFalse));

    builder(dir.path(), &url, &[]).controls().disable().unwrap();
    let on = builder(dir.path(), &url, &[("MY_AGENT_TELEMETRY_ENABLED", "1")]).controls();
    assert_eq!(on.decision().mode, Mode::On);
    assert_eq!(on.decision().rule, Rule::AppVariable);
    assert_eq!(listener.connections(), 0);
}

#[test]
fn the_apps_own_variables_win_over_the_generic_ones_for_that_app_only() {
    let vars = [
        ("MY_AGENT_TELEMETRY_ENABLED", "false"),
        ("TELEMETRY_ENABLED", "true"),
    ];
    let sink = MemorySink::new();
    let mine = Telemetry::isolated(APP, "1")
        .sink(sink.clone())
        .env_vars(vars)
        .build();
    let reason = mine.off_reason().map(ToString::to_string);
    assert_eq!(
        reason.as_deref(),
        Some("telemetry is off: MY_AGENT_TELEMETRY_ENABLED is false")
    );
    let status = mine.status();
    assert_eq!(
        status.variable.as_deref(),
        Some("MY_AGENT_TELEMETRY_ENABLED")
    );
    assert_eq!(status.decided_by, Rule::AppVariable);
    // Another app built on the toolkit is not concerned.
    let other = Telemetry::isolated("other-app", "1")
        .sink(sink)
        .env_vars(vars)
        .build();
    assert!(other.is_enabled());

    // The app's endpoint wins over TELEMETRY_ENDPOINT.
    let (own, generic) = (Collector::start().unwrap(), Collector::start().unwrap());
    let (own_url, generic_url) = (own.url(), generic.url());
    let telemetry = Telemetry::isolated(APP, "1")
        .env(move |name| match name {
            "MY_AGENT_TELEMETRY_ENDPOINT" => Some(own_url.clone().into()),
            "TELEMETRY_ENDPOINT" => Some(generic_url.clone().into()),
            _ => None,
        })
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(own.records().len(), 1);
    assert_eq!(generic.connections(), 0);
    assert_eq!(
        telemetry.status().destination,
        Some(format!("http://{}", own.addr()))
    );
}

/// The warning is printed once per process: the test runs alone in a
/// process of its own, so that no other test can have printed it first.
#[test]
fn an_unrecognised_app_variable_fails_closed_with_a_warning_naming_it() {
    run_alone(
        "controls::an_unrecognised_app_variable_fails_closed_with_a_warning_naming_it",
        || {
            let warning = MemoryWriter::new();
            let telemetry = Telemetry::isolated(APP, "1")
                .sink(MemorySink::new())
                .env_vars([("MY_AGENT_TELEMETRY_ENABLED", "sure")])
                .notice_writer(warning.clone())
                .build();
            assert!(matches!(
                telemetry.off_reason(),
                Some(OffReason::AppEnabledUnrecognised { variable }) if variable == "MY_AGENT_TELEMETRY_ENABLED"
            ));
            assert!(warning
                .text()
                .contains("MY_AGENT_TELEMETRY_ENABLED has an unrecognised value"));
            assert!(!warning.text().contains("sure"));
        },
    );
}

#[test]
fn log_mode_prints_each_record_as_it_would_be_sent_and_opens_no_socket() {
    for vars in [
        [("TELEMETRY_ENABLED", "log"), ("CI", "1")],
        [
            ("MY_AGENT_TELEMETRY_ENABLED", " LOG "),
            ("TELEMETRY_ENABLED", "true"),
        ],
    ] {
        let dir = TempDir::new("controls-log");
        let listener = Listener::new();
        let printed = MemoryWriter::new();
        let telemetry = Telemetry::builder(APP, "1.0.0")
            .endpoint(listener.url())
            .config_dir(dir.path())
            .env_vars(vars)
            .debug_writer(printed.clone())
            .debug(false)
            .flags(["--verbose"])
            .build();
        assert!(telemetry.is_enabled(), "records are made");
        assert_eq!(telemetry.status().mode, Mode::Log);
        assert!(!telemetry.status().enabled);
        telemetry.track_command("run", ["--verbose=1"]);
        let session = telemetry.start_session("root");
        session.end();

        let records = logged_records(&printed);
        let kinds: Vec<_> = records.iter().map(|r| r["event"].clone()).collect();
        assert_eq!(
            kinds,
            ["command", "session", "session"],
            "{}",
            printed.text()
        );
        assert_eq!(
            records[0]["properties"]["args"],
            serde_json::json!(["--verbose"])
        );
        assert!(printed
            .lines()
            .iter()
            .all(|line| line.starts_with("[telemetry] {")));
        assert_eq!(listener.connections(), 0);
        // No notice to hold for: no marker (the id is read or made, so the
        // printed record is the one that would be sent); in CI (the
        // anonymous CI policy) not even the id: it is this process's.
        if vars.iter().any(|(name, _)| *name == "CI") {
            assert_eq!(entries(dir.path()), Vec::<String>::new());
            assert_eq!(records[0]["properties"]["ephemeral_id"], true);
        } else {
            assert_eq!(entries(dir.path()), [USER_UUID_FILE]);
            assert_eq!(records[0]["properties"].get("ephemeral_id"), None);
        }
    }
    // A sink given in code is not sent to either.
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated(APP, "1")
        .sink(sink.clone())
        .env_vars([("TELEMETRY_ENABLED", "log")])
        .debug_writer(MemoryWriter::new())
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert!(sink.records().is_empty());
}

#[test]
fn reset_id_gives_a_new_user_uuid_and_keeps_the_choice() {
    let dir = TempDir::new("controls-reset");
    let sink = MemorySink::new();
    let record_id = || {
        let telemetry = Telemetry::builder(APP, "1")
            .sink(sink.clone())
            .config_dir(dir.path())
            .notice(false)
            .env_vars(Vec::<(String, String)>::new())
            .build();
        telemetry.track_command("run", Vec::<String>::new());
        let last = sink.records().pop().unwrap();
        serde_json::to_value(&last).unwrap()["properties"]["user_uuid"].clone()
    };
    let first = record_id();
    assert_eq!(record_id(), first, "the id is kept between runs");
    let controls = Telemetry::builder(APP, "1")
        .config_dir(dir.path())
        .controls();
    controls.enable().unwrap();
    controls.reset_id().unwrap();
    assert!(!dir.join(USER_UUID_FILE).exists());
    let second = record_id();
    assert_ne!(second, first);
    assert_eq!(
        Telemetry::builder(APP, "1")
            .config_dir(dir.path())
            .controls()
            .decision()
            .rule,
        Rule::NoEndpoint,
        "the choice is kept (and says on), but this builder has nowhere to send"
    );
}

#[test]
fn disable_deletes_the_spool_unsent() {
    let dir = TempDir::new("controls-spool");
    std::fs::write(
        dir.join("telemetry-spool-1234.jsonl"),
        "{\"event\":\"command\"}\n",
    )
    .unwrap();
    std::fs::write(dir.join("unrelated.txt"), "kept").unwrap();
    Telemetry::builder(APP, "1")
        .config_dir(dir.path())
        .controls()
        .disable()
        .unwrap();
    assert_eq!(entries(dir.path()), ["telemetry-choice", "unrelated.txt"]);
}

#[test]
fn controls_without_a_config_dir_say_what_to_do() {
    let controls = Telemetry::isolated(APP, "1").controls();
    assert_eq!(controls.config_dir(), None);
    let error = controls.disable().unwrap_err().to_string();
    assert!(error.contains("DO_NOT_TRACK=1"), "{error}");
    assert_eq!(controls.status().config_dir, None);
}

#[test]
fn a_corrupt_choice_fails_closed_with_one_debug_line() {
    let dir = TempDir::new("controls-corrupt");
    std::fs::write(dir.join("telemetry-choice"), "perhaps\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(dir.join("telemetry-choice"), mode).unwrap();
    }
    let log = MemoryWriter::new();
    let telemetry = Telemetry::builder(APP, "1")
        .sink(MemorySink::new())
        .config_dir(dir.path())
        .notice(false)
        // A variable saying on does not undo an opt-out it cannot read.
        .env_vars([("TELEMETRY_ENABLED", "true")])
        .debug_writer(log.clone())
        .build();
    assert!(!telemetry.is_enabled());
    let status = telemetry.status();
    assert_eq!(status.decided_by, Rule::UntrustedChoiceFile);
    let choice_file = dir.join("telemetry-choice");
    assert!(
        status.explanation.contains(&*choice_file.to_string_lossy()),
        "{}",
        status.explanation
    );
    assert_eq!(
        log.lines(),
        ["[telemetry] telemetry is off: the remembered choice's file holds none of enabled, disabled, errors-only and local-only, so it cannot be trusted; fix or remove it"],
    );
    assert!(!log.text().contains("perhaps"));
}

#[test]
fn off_clients_have_a_status_too() {
    let disabled = Telemetry::disabled().status();
    assert_eq!(
        (disabled.mode, disabled.decided_by),
        (Mode::Off, Rule::DisabledInCode)
    );
    let bad_name = Telemetry::isolated("no spaces allowed", "1")
        .sink(MemorySink::new())
        .build();
    assert_eq!(bad_name.off_reason(), Some(&OffReason::InvalidAppName));
    assert_eq!(bad_name.status().decided_by, Rule::InvalidAppName);
    let nowhere = Telemetry::isolated(APP, "1").build().status();
    assert_eq!(nowhere.decided_by, Rule::NoEndpoint);
    let json: serde_json::Value = serde_json::from_str(&nowhere.to_json()).unwrap();
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decided_by"], "no_endpoint");
}

/// Regression: `sudo -E agent telemetry disable` created root-owned dirs
/// and a root-owned choice file in the user's config dir. The controls
/// treat root acting for another user as "no config dir", as the recorder
/// does; and they write nothing in a config dir that others can write to.
#[cfg(unix)]
#[test]
fn the_controls_write_nothing_under_sudo_or_in_a_dir_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let home = TempDir::new("controls-sudo");
    let home_text = home.path().to_str().unwrap();
    let controls = |env: Vec<(&str, &str)>| {
        Telemetry::isolated(APP, "1")
            .config_dir(home.join(".config").join(APP))
            .endpoint("https://collector.example/v1/events")
            .env_vars(env)
            .controls()
    };
    let is_root = std::fs::metadata("/proc/self").is_ok_and(|meta| {
        use std::os::unix::fs::MetadataExt;
        meta.uid() == 0
    });
    if is_root {
        let sudo = controls(vec![("HOME", home_text), ("SUDO_UID", "4242")]);
        let result = sudo.disable();
        assert!(
            matches!(result, Err(ControlError::NoConfigDir)),
            "{result:?}"
        );
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    }
    let shared = home.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let open_to_all = Telemetry::isolated(APP, "1")
        .config_dir(&shared)
        .endpoint("https://collector.example/v1/events")
        .controls();
    let error = open_to_all.disable().unwrap_err();
    assert!(matches!(error, ControlError::Refused(_)), "{error}");
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
}

#[test]
fn the_status_names_the_delivery_mode_asked_for() {
    let status = |delivery| {
        Telemetry::isolated(APP, "1")
            .endpoint("https://collector.example/v1/events")
            .delivery(delivery)
            .controls()
            .status()
            .delivery
    };
    assert_eq!(status(telemetry_core::Delivery::Inline), "inline");
    assert_eq!(status(telemetry_core::Delivery::Background), "background");
}

#[test]
fn ci_provider_and_ai_agent_for_fake_environments() {
    type Vars = &'static [(&'static str, &'static str)];
    let cases: [(Vars, &str, &str); 5] = [
        (&[], "", ""),
        (
            &[("GITHUB_ACTIONS", "true"), ("CI", "true")],
            "github_actions",
            "",
        ),
        (
            &[("GITLAB_CI", "true"), ("CLAUDECODE", "1")],
            "gitlab_ci",
            "claude_code",
        ),
        (
            &[("JENKINS_URL", "https://user:token@ci.internal/")],
            "jenkins",
            "",
        ),
        (
            &[("GEMINI_CLI", "1"), ("GITHUB_ACTIONS", "no")],
            "",
            "gemini_cli",
        ),
    ];
    for (vars, ci_provider, ai_agent) in cases {
        let sink = MemorySink::new();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let telemetry = Telemetry::isolated(APP, "1")
            .sink(sink.clone())
            .env_vars(vars.clone())
            .build();
        telemetry.track_command("run", Vec::<String>::new());
        let record = serde_json::to_value(&sink.records()[0]).unwrap();
        let properties = &record["properties"];
        assert_eq!(properties["ci_provider"], ci_provider, "{vars:?}");
        assert_eq!(properties["ai_agent"], ai_agent, "{vars:?}");
        let text = record.to_string();
        assert!(!text.contains("token@"), "no value's text: {text}");
    }
    // A tag cannot override them.
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated(APP, "1")
        .sink(sink.clone())
        .env_vars([("TELEMETRY_TAGS", "ci_provider=fake,ai_agent=fake")])
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    let record = serde_json::to_value(&sink.records()[0]).unwrap();
    assert_eq!(record["properties"]["ci_provider"], "");
    assert_eq!(record["properties"]["ai_agent"], "");
}

#[cfg(feature = "clap")]
mod clap_subcommand {
    use super::*;
    use telemetry_core::subcommand;

    fn run(dir: &Path, words: &[&str]) -> Result<String, String> {
        let app = clap::Command::new(APP).subcommand(subcommand::command());
        let argv = std::iter::once(APP).chain(words.iter().copied());
        let matches = app.try_get_matches_from(argv).map_err(|e| e.to_string())?;
        let Some(("telemetry", matches)) = matches.subcommand() else {
            return Err("not the telemetry subcommand".to_owned());
        };
        let controls = Telemetry::builder(APP, "1")
            .endpoint("https://collector.example/v1/events")
            .config_dir(dir)
            .env_vars(Vec::<(String, String)>::new())
            .controls();
        let mut out = Vec::new();
        subcommand::run(&controls, matches, &mut out).map_err(|e| e.to_string())?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn status_enable_disable_reset_id() {
        let dir = TempDir::new("controls-clap");
        let text = run(dir.path(), &["telemetry", "status"]).unwrap();
        assert!(text.starts_with("Telemetry is on."), "{text}");
        assert!(run(dir.path(), &["telemetry", "disable"])
            .unwrap()
            .contains("disabled"));
        let json = run(dir.path(), &["telemetry", "status", "--json"]).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["decided_by"], "remembered_choice");
        assert_eq!(json["enabled"], false);
        run(dir.path(), &["telemetry", "enable"]).unwrap();
        run(dir.path(), &["telemetry", "reset-id"]).unwrap();
        assert_eq!(entries(dir.path()), ["telemetry-choice"]);
        assert!(
            run(dir.path(), &["telemetry"]).is_err(),
            "a subcommand is required"
        );
        assert!(run(dir.path(), &["telemetry", "status", "--xml"]).is_err());
    }

    #[test]
    fn enable_errors_only_is_remembered() {
        let dir = TempDir::new("controls-clap-errors");
        let text = run(dir.path(), &["telemetry", "enable", "--errors-only"]).unwrap();
        assert!(text.contains("failures only"), "{text}");
        let json = run(dir.path(), &["telemetry", "status", "--json"]).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["level"], "errors");
        assert_eq!(json["decided_by"], "remembered_choice");
        run(dir.path(), &["telemetry", "enable"]).unwrap();
        let json = run(dir.path(), &["telemetry", "status", "--json"]).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["level"], "all");
    }
}
