//! Background delivery through the public API, against real loopback
//! collectors: flush points, leftovers sent by the next client, opting out
//! deletes the spool, the first run spools nothing, tokio, bad spool files;
//! and the process time budget of inline delivery.

use crate::common::{file_as_config_dir, properties_of, the_line};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use telemetry_core::{
    tracked_command, tracked_tool, Delivery, Flushed, MemorySink, Outcome, Telemetry,
};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::debug_log::logged_reasons;
use telemetry_test_support::fs::entries;
use telemetry_test_support::json::now_ms;
use telemetry_test_support::{MemoryWriter, TempDir};

const LONG: Duration = Duration::from_secs(10);

fn background(endpoint: &str, config_dir: &Path) -> telemetry_core::TelemetryBuilder {
    Telemetry::builder("background-test", "1.0.0")
        .endpoint(endpoint)
        .config_dir(config_dir)
        .notice(false)
        .env(|_| None)
        .delivery(Delivery::Background)
}

fn record_tools(telemetry: &Telemetry, count: usize) {
    for _ in 0..count {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
}

fn event_ids(collector: &Collector) -> Vec<String> {
    properties_of(&collector.records(), "event_id")
}

fn assert_each_once(ids: &[String]) {
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "an event arrived twice: {ids:?}");
}

fn spool_files(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|name| name.starts_with("telemetry-spool-"))
        .collect()
}

fn pending(dir: &Path) -> usize {
    telemetry_test_support::spool::pending(dir).len()
}

#[test]
fn a_flush_delivers_every_record_in_batches() {
    let dir = TempDir::new("bg-flush");
    let collector = Collector::start().unwrap();
    let telemetry = background(&collector.url(), dir.path()).build();
    record_tools(&telemetry, 8);
    assert_eq!(telemetry.flush(LONG), Flushed::Delivered);
    assert_eq!(collector.records().len(), 8);
    assert!(collector.requests().len() <= 8);
    assert_eq!(
        pending(dir.path()),
        0,
        "acknowledged records leave the spool"
    );
}

#[tracked_tool]
fn lookup() -> Result<u32, std::fmt::Error> {
    Ok(7)
}

#[tracked_command]
fn outer() -> u32 {
    inner() + lookup().unwrap_or(0)
}

#[tracked_command]
fn inner() -> u32 {
    lookup().unwrap_or(0)
}

#[test]
fn the_end_of_the_outermost_tracked_command_is_a_flush_point() {
    let dir = TempDir::new("bg-command");
    // Each answer takes 50 ms: without the flush at the command's end, the
    // records would still be on their way when the call returns.
    let collector = Collector::start_with(Behaviour::Delay(Duration::from_millis(50))).unwrap();
    let telemetry = background(&collector.url(), dir.path()).build();
    assert_eq!(telemetry.scope(outer), 14);
    // No explicit flush: the outermost command's end waited for the
    // acknowledgement of every record, its own included.
    let kinds: Vec<String> = collector
        .records()
        .iter()
        .map(|record| record["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["tool", "command", "tool", "command"]);
    assert_eq!(pending(dir.path()), 0);
    assert!(
        spool_files(dir.path()).is_empty(),
        "the outermost end tidies the spool"
    );
}

#[test]
fn the_flush_guard_delivers_and_tidies_the_spool() {
    let dir = TempDir::new("bg-guard");
    let collector = Collector::start().unwrap();
    let telemetry = background(&collector.url(), dir.path()).build();
    let guard = telemetry.flush_guard();
    record_tools(&telemetry, 5);
    drop(guard);
    assert_eq!(collector.records().len(), 5);
    assert!(spool_files(dir.path()).is_empty());
}

#[test]
fn after_a_blackhole_a_later_client_delivers_every_earlier_record() {
    let dir = TempDir::new("bg-blackhole");
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let first = background(&blackhole.url(), dir.path())
        .exit_budget(Duration::from_millis(100))
        .timeout(Duration::from_millis(300))
        .build();
    record_tools(&first, 6);
    assert!(matches!(
        first.flush_guard().flush(),
        Flushed::TimedOut { .. }
    ));
    let spooled: Vec<String> = telemetry_test_support::spool::pending(dir.path());
    assert_eq!(spooled.len(), 6, "kept for the next run");
    // The client goes; its sender gives up on the blackhole (300 ms), and
    // then lets go of its spool file, as a process does when it exits.
    drop(first);

    let collector = Collector::start().unwrap();
    let deadline = std::time::Instant::now() + LONG;
    let all_arrived = |ids: &[String]| {
        spooled
            .iter()
            .all(|line| ids.iter().any(|id| line.contains(id.as_str())))
    };
    // Each later client sends one record of its own, and the leftovers
    // once they can be claimed.
    let mut clients = 0;
    while !all_arrived(&event_ids(&collector)) && std::time::Instant::now() < deadline {
        let next = background(&collector.url(), dir.path()).build();
        record_tools(&next, 1);
        assert_eq!(next.flush(LONG), Flushed::Delivered);
        clients += 1;
    }
    let ids = event_ids(&collector);
    assert!(all_arrived(&ids), "0 lost: {ids:?}");
    assert_eq!(ids.len(), 6 + clients);
    assert_each_once(&ids);
}

#[test]
fn opting_out_deletes_the_spool_unsent_and_creates_nothing() {
    for (name, value) in [("DO_NOT_TRACK", "1"), ("TELEMETRY_ENABLED", "false")] {
        let dir = TempDir::new("bg-opt-out");
        let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
        {
            let spooling = background(&blackhole.url(), dir.path())
                .exit_budget(Duration::from_millis(50))
                .build();
            record_tools(&spooling, 3);
            spooling.flush(Duration::from_millis(50));
            assert_eq!(spool_files(dir.path()).len(), 1);
        }
        let log = MemoryWriter::new();
        let off = Telemetry::builder("background-test", "1.0.0")
            .endpoint(blackhole.url())
            .config_dir(dir.path())
            .delivery(Delivery::Background)
            .debug_writer(log.clone())
            .env_vars([(name, value)])
            .build();
        assert!(!off.is_enabled());
        assert!(spool_files(dir.path()).is_empty(), "{name}: deleted");
        assert!(
            log.text().contains("deleted 1 spool file"),
            "{}",
            log.text()
        );

        // Telemetry on again: only new records are ever sent.
        let collector = Collector::start().unwrap();
        let on = background(&collector.url(), dir.path()).build();
        record_tools(&on, 1);
        assert_eq!(on.flush(LONG), Flushed::Delivered);
        assert_eq!(
            collector.records().len(),
            1,
            "{name}: 0 spooled records arrive"
        );
    }
    // An off client with a config dir that does not exist creates nothing.
    let parent = TempDir::new("bg-opt-out-missing");
    let missing = parent.join("config");
    let off = Telemetry::builder("background-test", "1.0.0")
        .endpoint("http://127.0.0.1:9/")
        .config_dir(&missing)
        .env_vars([("DO_NOT_TRACK", "1")])
        .build();
    assert!(!off.is_enabled());
    assert!(!missing.exists());
}

#[test]
fn the_first_run_spools_nothing() {
    let dir = TempDir::new("bg-first-run");
    let collector = Collector::start().unwrap();
    let first = background(&collector.url(), dir.path())
        .notice(true)
        .notice_writer(MemoryWriter::new())
        .build();
    record_tools(&first, 3);
    assert_eq!(first.flush(LONG), Flushed::Delivered);
    drop(first.flush_guard());
    assert!(spool_files(dir.path()).is_empty());
    assert!(collector.requests().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn works_the_same_inside_a_current_thread_runtime() {
    let dir = TempDir::new("bg-tokio");
    let collector = Collector::start().unwrap();
    let telemetry = background(&collector.url(), dir.path()).build();
    let spawned = tokio::spawn({
        let telemetry = telemetry.clone();
        async move { record_tools(&telemetry, 4) }
    });
    spawned.await.unwrap();
    assert_eq!(telemetry.flush(LONG), Flushed::Delivered);
    assert_eq!(collector.records().len(), 4);
}

#[test]
fn a_sink_that_cannot_send_serialised_records_is_used_inline() {
    let sink = MemorySink::new();
    let log = MemoryWriter::new();
    let telemetry = Telemetry::isolated("background-test", "1.0.0")
        .sink(sink.clone())
        .delivery(Delivery::Background)
        .debug_writer(log.clone())
        .build();
    record_tools(&telemetry, 2);
    assert_eq!(sink.records().len(), 2, "delivered inline");
    assert!(log.text().contains("delivering inline"), "{}", log.text());
}

/// Leftover files in the config dir that are not usable spool files: the
/// client still delivers its own records and what the bound keeps of the
/// leftovers: the end of a huge file, not an older file beyond 4 MiB.
#[cfg(unix)]
#[test]
fn bad_spool_files_are_left_alone_and_delivery_goes_on() {
    let dir = TempDir::new("bg-bad-spool");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "not yours").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("telemetry-spool-link.jsonl")).unwrap();
    std::fs::create_dir(dir.join("telemetry-spool-dir.jsonl")).unwrap();
    let now = now_ms();
    let good = format!(
        r#"{{"event":"tool","event_timestamp":{now},"source":"background-test","properties":{{"tool_name":"left","event_id":"leftover-1"}}}}"#
    );
    std::fs::write(
        dir.join("telemetry-spool-corrupt.jsonl"),
        format!("garbage\n{{\"cut\":\n\u{0}\u{1}\n{good}\n"),
    )
    .unwrap();
    // Huge: 9 MiB of one line, then a good record at the end.
    let mut huge = vec![b'x'; 9 * 1024 * 1024];
    huge.push(b'\n');
    huge.extend_from_slice(good.replace("leftover-1", "leftover-2").as_bytes());
    std::fs::write(dir.join("telemetry-spool-huge.jsonl"), huge).unwrap();

    let collector = Collector::start().unwrap();
    let log = MemoryWriter::new();
    let telemetry = background(&collector.url(), dir.path())
        .debug_writer(log.clone())
        .build();
    record_tools(&telemetry, 2);
    assert_eq!(telemetry.flush(LONG), Flushed::Delivered);
    let ids = event_ids(&collector);
    assert_eq!(ids.len(), 3, "{ids:?}\n{}", log.text());
    assert!(
        ids.contains(&"leftover-2".to_owned()),
        "the huge file's end"
    );
    assert!(
        !ids.contains(&"leftover-1".to_owned()),
        "beyond the 4 MiB that the huge file fills"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");
    assert!(dir.join("telemetry-spool-dir.jsonl").is_dir());
    let text = log.text();
    assert!(text.contains("symbolic link"), "{text}");
    assert!(text.contains("over the bound"), "{text}");
    assert!(
        !text.contains(dir.path().to_str().unwrap()),
        "no path in the log"
    );
}

#[test]
fn an_unwritable_spool_still_sends_and_says_why() {
    let (_parent, not_a_dir) = file_as_config_dir("bg-unwritable");
    let collector = Collector::start().unwrap();
    let log = MemoryWriter::new();
    let telemetry = background(&collector.url(), &not_a_dir)
        .debug_writer(log.clone())
        .build();
    record_tools(&telemetry, 3);
    assert_eq!(telemetry.flush(LONG), Flushed::Delivered);
    assert_eq!(collector.records().len(), 3);
    // The spool cannot be kept: records wait in memory only, and the log
    // says why.
    assert!(log.text().contains("no config dir"), "{}", log.text());
}

/// Regression for issue "a collector answering just under the timeout
/// costs the timeout per event": inline delivery stops once the process's
/// time budget is spent, and says so once.
#[test]
fn inline_delivery_stops_when_the_time_budget_is_spent() {
    // Each answer comes after 400 ms, far under the 5 s timeout (so that
    // no request of a busy machine times out); the budget is charged each
    // wait past its first 100 ms, 300 ms or more an answer: at most three
    // answers, then a request cut short at what is left, then nothing.
    const ANSWER: Duration = Duration::from_millis(400);
    const FREE: Duration = Duration::from_millis(100);
    const BUDGET: Duration = Duration::from_secs(1);
    const RECORDS: usize = 10;
    let collector = Collector::start_with(Behaviour::Delay(ANSWER)).unwrap();
    let log = MemoryWriter::new();
    let telemetry = Telemetry::isolated("budget-test", "1.0.0")
        .endpoint(collector.url())
        .timeout(Duration::from_secs(5))
        .time_budget(BUDGET)
        .debug_writer(log.clone())
        .build();
    record_tools(&telemetry, RECORDS);
    let reasons = logged_reasons(&log);
    let stopped = the_line(&reasons, "delivery stopped for the rest of this process");
    assert!(stopped.contains("time budget"), "{stopped}");
    // Every record after the stop was turned away without a request.
    let turned_away = reasons
        .iter()
        .filter(|line| line.contains("time budget was spent earlier"))
        .count();
    let sent = RECORDS - turned_away;
    let most = (BUDGET.as_millis() / (ANSWER - FREE).as_millis()) as usize + 1;
    // A slow answer alone never stops delivery; a busy machine's waits
    // are charged more, never less.
    assert!((2..=most).contains(&sent), "{sent} sent: {reasons:?}");
    // The collector keeps a request after its delay: the last arrives in
    // the collector's list after the client gave up on it.
    assert_eq!(collector.wait_for_records(sent, LONG).len(), sent);
    assert_eq!(collector.requests().len(), sent, "{}", log.text());
}

/// The first 100 ms of every wait are free: a loopback collector's answers
/// never touch a budget of 1 ms. (A wall-clock rule: a machine so loaded
/// that a loopback answer takes 100 ms fails this test, so it sends few
/// records.)
#[test]
fn a_prompt_collector_never_spends_the_budget() {
    let collector = Collector::start().unwrap();
    let telemetry = Telemetry::isolated("budget-test", "1.0.0")
        .endpoint(collector.url())
        .timeout(Duration::from_millis(200))
        .time_budget(Duration::from_millis(1))
        .build();
    record_tools(&telemetry, 30);
    assert_eq!(collector.records().len(), 30);
}

/// A collector down for long: this process's spool file stays within its
/// bound (10,000 records / 4 MiB) by dropping its oldest records, says so
/// in the debug log, and a later run gets the newest.
#[test]
fn a_live_spool_past_its_bound_keeps_the_newest_records() {
    let dir = TempDir::new("bg-bound");
    let down = Collector::start_with(Behaviour::Status(503)).unwrap();
    let log = MemoryWriter::new();
    // 13,002 records: past the default per-process cap of 10,000.
    let telemetry = background(&down.url(), dir.path())
        .debug_writer(log.clone())
        .max_records(u64::MAX)
        .build();
    let guard = telemetry.flush_guard();
    telemetry.record_tool_call("oldest", "", "", Duration::ZERO, Outcome::Success);
    assert_eq!(telemetry.flush(LONG), Flushed::Stopped);
    // Two compactions (at 10,000 records, then 2,500 later): the first
    // is said at once, the total at the flush guard's tidy-up.
    record_tools(&telemetry, 13_000);
    telemetry.record_tool_call("newest", "", "", Duration::ZERO, Outcome::Success);
    drop(guard);
    let spooled = telemetry_test_support::spool::pending(dir.path());
    let bytes: usize = spooled.iter().map(|line| line.len() + 1).sum();
    assert!(spooled.len() <= 10_000 && bytes <= 4 * 1024 * 1024);
    assert!(spooled.len() > 1_000, "{}", spooled.len());
    assert!(spooled.last().unwrap().contains("\"newest\""));
    assert!(!spooled.iter().any(|line| line.contains("\"oldest\"")));
    let text = log.text();
    assert_eq!(
        text.matches("oldest records were dropped from it").count(),
        1,
        "{text}"
    );
    // The drops themselves are reported: the debug log shows each
    // client_report record the run made, and it went to the spool too.
    let reports = text.matches("\"event\":\"client_report\"").count();
    let dropped = 13_002 + reports - spooled.len();
    assert!(
        text.contains(&format!("in all, {dropped} of the oldest records")),
        "{text}"
    );
    drop(telemetry);
    telemetry_test_support::spool::wait_until_released(dir.path());

    // The collector is back: the next run sends the newest, each once
    // (leftovers get a quarter of a flush's budget: a long one here).
    let collector = Collector::start().unwrap();
    let next = background(&collector.url(), dir.path()).build();
    record_tools(&next, 1);
    assert_eq!(next.flush(LONG * 8), Flushed::Delivered);
    let ids = event_ids(&collector);
    assert_each_once(&ids);
    assert_eq!(ids.len(), spooled.len() + 1);
}
