//! Transparency in the library: `persistent_id(false)` (a fresh id per
//! process, marked ephemeral, no id file), `history(false)`, and the
//! history kept of what a sink accepted, as `Controls::show` prints it.

use telemetry_core::{MemorySink, Telemetry, USER_UUID_FILE};
use telemetry_test_support::{is_uuid_v4, TempDir};

const APP: &str = "transparency-test";
const HISTORY_FILE: &str = "telemetry-history.jsonl";

/// One process's worth: a client on `dir`, one command recorded; the
/// record as sent.
fn one_run(dir: &std::path::Path, persistent_id: bool, history: bool) -> serde_json::Value {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder(APP, "1.0.0")
        .sink(sink.clone())
        .config_dir(dir)
        .notice(false)
        .persistent_id(persistent_id)
        .history(history)
        .env(|_| None)
        .build();
    telemetry.track_command("build", Vec::<String>::new());
    serde_json::to_value(&sink.records()[0]).unwrap()
}

#[test]
fn persistent_id_false_gives_a_fresh_marked_id_and_writes_no_id_file() {
    let dir = TempDir::new("persistent-id");
    let first = one_run(dir.path(), false, true);
    let second = one_run(dir.path(), false, true);
    let id = |record: &serde_json::Value| {
        record["properties"]["user_uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(is_uuid_v4(&id(&first)));
    assert_ne!(id(&first), id(&second), "a fresh id per process");
    assert_eq!(first["properties"]["ephemeral_id"], true);
    assert!(!dir.path().join(USER_UUID_FILE).exists());
    // The default keeps one id in the file, unmarked.
    let kept = one_run(dir.path(), true, true);
    assert!(dir.path().join(USER_UUID_FILE).exists());
    assert_eq!(kept["properties"].get("ephemeral_id"), None);
    assert_eq!(
        one_run(dir.path(), true, true)["properties"]["user_uuid"],
        kept["properties"]["user_uuid"]
    );
}

#[test]
fn the_history_keeps_what_the_sink_accepted_unless_turned_off() {
    let dir = TempDir::new("history-sink");
    let sent = one_run(dir.path(), true, true);
    let controls = Telemetry::builder(APP, "1.0.0")
        .config_dir(dir.path())
        .env(|_| None)
        .controls();
    let shown: Vec<serde_json::Value> =
        serde_json::from_str(&controls.show(true, None).unwrap()).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["record"], sent);
    let plain = controls.show(false, None).unwrap();
    assert!(plain.contains("  command  build  ok"), "{plain}");

    let off = TempDir::new("history-off");
    one_run(off.path(), true, false);
    assert!(!off.path().join(HISTORY_FILE).exists());
    assert!(
        off.path().join(USER_UUID_FILE).exists(),
        "the run wrote its files"
    );
}
