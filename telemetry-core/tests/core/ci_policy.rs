//! In CI the app's CI policy applies: by default (`Anonymous`) no notice,
//! no hold, no file under HOME or the config dir, one line on stderr, and
//! a fresh id per process marked `"ephemeral_id": true`; `Skip` sends
//! nothing; `AsUser` is the behaviour outside CI. The opt-out variables and
//! a machine policy still win. Over real HTTP to a loopback collector.

use crate::common::{properties_of, scene};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use telemetry_core::{CiPolicy, Delivery, Mode, Outcome, Rule, Telemetry, TelemetryBuilder};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::fs::tree;
use telemetry_test_support::{MemoryWriter, TempDir};

const APP: &str = "ci-test";

/// A run on a fresh CI runner: `CI` and `GITHUB_ACTIONS` set, a fresh HOME,
/// no config dir given (the default one under HOME), the notice on.
fn ci_builder(collector: &Collector, home: &TempDir, extra: &[(&str, &str)]) -> TelemetryBuilder {
    let home = home.path().to_string_lossy().into_owned();
    let mut vars: Vec<(String, String)> = vec![
        ("CI".into(), "true".into()),
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("HOME".into(), home),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .timeout(Duration::from_secs(5))
        .env_vars(vars)
}

/// Records one of each kind: a command, a session with a tool and tokens.
fn record_everything(telemetry: &Telemetry) {
    telemetry.track_command("build", Vec::<String>::new());
    let session = telemetry.start_session("root");
    session.scope(|| {
        telemetry.record_tool_call(
            "read_file",
            session.id(),
            "root",
            Duration::from_millis(3),
            Outcome::Success,
        );
        telemetry.record_token_usage("gpt-4o", 10, 5, 0.001);
    });
    session.end();
}

fn lines_about_telemetry(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| line.contains("usage data") || line.contains("telemetry"))
        .collect()
}

#[test]
fn two_ci_runs_with_fresh_homes_send_everything_with_their_own_ids_and_write_nothing() {
    let collector = Collector::start().unwrap();
    let mut ids = HashSet::new();
    for run in 0..2 {
        let home = TempDir::new(&format!("ci-home-{run}"));
        let stderr = MemoryWriter::new();
        let before = collector.records().len();
        let telemetry = ci_builder(&collector, &home, &[])
            .notice_writer(stderr.clone())
            .build();
        assert!(telemetry.is_enabled(), "{}", telemetry.status());
        record_everything(&telemetry);
        // All of this run's records arrived in this run: no first-run hold.
        let records: Vec<Value> = collector.records()[before..].to_vec();
        assert_eq!(records.len(), 5, "{records:?}");
        let run_ids: HashSet<String> = properties_of(&records, "user_uuid").into_iter().collect();
        assert_eq!(run_ids.len(), 1, "one id per process");
        for record in &records {
            assert_eq!(record["properties"]["ephemeral_id"], true, "{record}");
            assert_eq!(record["properties"]["ci"], true);
            assert_eq!(record["properties"]["ci_provider"], "github_actions");
        }
        ids.extend(run_ids);
        assert_eq!(tree(home.path()), Vec::<std::path::PathBuf>::new());
        // At most one line, and it names the variable that turns it off.
        let text = stderr.text();
        let lines = lines_about_telemetry(&text);
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].contains("CI_TEST_TELEMETRY_ENABLED=false"),
            "{text}"
        );
        let status = telemetry.status();
        assert!(status.enabled);
        assert_eq!(status.ci_policy, Some(CiPolicy::Anonymous));
        assert!(
            status.to_string().contains("CI policy is anonymous"),
            "{status}"
        );
        drop(telemetry);
        assert_eq!(tree(home.path()), Vec::<std::path::PathBuf>::new());
    }
    assert_eq!(ids.len(), 2, "each run has its own id");
}

#[test]
fn the_ci_line_is_hidden_by_telemetry_hide_banner() {
    let (collector, home, stderr) = scene("ci-hidden");
    let telemetry = ci_builder(&collector, &home, &[("TELEMETRY_HIDE_BANNER", "1")])
        .notice_writer(stderr.clone())
        .build();
    telemetry.track_command("build", Vec::<String>::new());
    assert_eq!(collector.records().len(), 1);
    assert_eq!(stderr.text(), "");
}

#[test]
fn an_opt_out_variable_still_wins_in_ci() {
    let collector = Collector::start().unwrap();
    for var in [
        "CI_TEST_TELEMETRY_ENABLED",
        "TELEMETRY_ENABLED",
        "DO_NOT_TRACK",
    ] {
        let value = if var == "DO_NOT_TRACK" { "1" } else { "false" };
        let home = TempDir::new("ci-opt-out");
        let stderr = MemoryWriter::new();
        let make = || ci_builder(&collector, &home, &[(var, value)]);
        let status = make().controls().status();
        let telemetry = make().notice_writer(stderr.clone()).build();
        assert!(!telemetry.is_enabled(), "{var}");
        assert!(!status.enabled);
        assert_eq!(status.decided_by, telemetry.status().decided_by);
        record_everything(&telemetry);
        assert_eq!(stderr.text(), "", "{var}");
        assert_eq!(tree(home.path()), Vec::<std::path::PathBuf>::new());
    }
    assert_eq!(collector.records().len(), 0);
}

#[test]
fn skip_sends_nothing_from_ci_and_status_says_so() {
    let (collector, home, _) = scene("ci-skip");
    let make = || ci_builder(&collector, &home, &[]).in_ci(CiPolicy::Skip);
    let status = make().controls().status();
    assert_eq!(
        (status.mode, status.decided_by),
        (Mode::Off, Rule::CiPolicy)
    );
    assert_eq!(status.ci_policy, Some(CiPolicy::Skip));
    let json: Value = serde_json::from_str(&status.to_json()).unwrap();
    assert_eq!(json["ci_policy"], "skip");
    assert_eq!(json["decided_by"], "ci_policy");
    let telemetry = make().build();
    assert!(!telemetry.is_enabled());
    record_everything(&telemetry);
    assert_eq!(collector.records().len(), 0);
    // Outside CI the same app sends (after its first run).
    let outside = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .in_ci(CiPolicy::Skip)
        .notice(false)
        .config_dir(home.join("config"))
        .env_vars([("LANG", "C")])
        .build();
    assert!(outside.is_enabled());
    assert_eq!(outside.status().ci_policy, None);
}

#[test]
fn as_user_keeps_the_notice_its_hold_and_the_id_file() {
    let (collector, home, stderr) = scene("ci-as-user");
    let telemetry = ci_builder(&collector, &home, &[])
        .in_ci(CiPolicy::AsUser)
        .notice_writer(stderr.clone())
        .build();
    assert!(telemetry.is_enabled());
    record_everything(&telemetry);
    assert_eq!(collector.records().len(), 0, "the first run holds");
    assert!(stderr.text().contains("collects anonymous usage data"));
    assert!(!tree(home.path()).is_empty(), "the id and the marker");
    assert_eq!(telemetry.status().ci_policy, Some(CiPolicy::AsUser));
}

#[test]
fn background_delivery_in_ci_spools_nothing_and_sends_at_exit() {
    let (collector, home, _) = scene("ci-background");
    let telemetry = ci_builder(&collector, &home, &[])
        .notice_writer(std::io::sink())
        .delivery(Delivery::Background)
        .build();
    assert!(telemetry.is_enabled());
    {
        let _guard = telemetry.flush_guard();
        record_everything(&telemetry);
    }
    assert_eq!(collector.records().len(), 5);
    assert_eq!(tree(home.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn background_delivery_in_ci_drops_what_the_exit_budget_leaves_and_says_how_many() {
    let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
    let home = TempDir::new("ci-background-blackhole");
    let log = MemoryWriter::new();
    let telemetry = ci_builder(&collector, &home, &[])
        .notice_writer(std::io::sink())
        .delivery(Delivery::Background)
        .exit_budget(Duration::from_millis(50))
        .timeout(Duration::from_millis(200))
        .debug_writer(log.clone())
        .build();
    {
        let _guard = telemetry.flush_guard();
        record_everything(&telemetry);
    }
    assert!(
        log.text().contains("in CI nothing is spooled"),
        "{}",
        log.text()
    );
    assert_eq!(tree(home.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_tag_cannot_fake_or_hide_the_ephemeral_mark() {
    let (collector, home, _) = scene("ci-tag");
    let telemetry = ci_builder(
        &collector,
        &home,
        &[("TELEMETRY_TAGS", "ephemeral_id=false,team=x")],
    )
    .notice_writer(std::io::sink())
    .build();
    telemetry.track_command("build", Vec::<String>::new());
    let record = &collector.records()[0];
    assert_eq!(record["properties"]["ephemeral_id"], true, "{record}");
    assert_eq!(record["properties"]["team"], "x");
    // Outside CI, no mark, and the tag is still not taken.
    let outside = Telemetry::isolated(APP, "1")
        .endpoint(collector.url())
        .env_vars([("TELEMETRY_TAGS", "ephemeral_id=true")])
        .build();
    outside.track_command("build", Vec::<String>::new());
    let record = &collector.records()[1];
    assert_eq!(record["properties"].get("ephemeral_id"), None, "{record}");
}
