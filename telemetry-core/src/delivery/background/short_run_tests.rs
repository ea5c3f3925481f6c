//! Background delivery's unit tests of a short run: the flush point sends
//! on its own thread while the sender waits for its turn.

use super::tests::{
    end_earlier_run, fs_entries, notes, posting, received_ids, record_n, records_per_request, LONG,
};
use super::*;
use crate::delivery::spool;
use crate::delivery::spool::tests::temp_dir;
use telemetry_test_support::collector::{Behaviour, Collector};

/// Limits for a short run: the sender thread waits past the first flush point
/// (a window long enough for a loaded machine).
fn short_run() -> Limits {
    Limits {
        short_run: LONG,
        ..Limits::default()
    }
}

/// Background delivery spooling in `dir`, sending to `collector` through
/// the toolkit's HTTP sink (a 30 s request timeout: it keeps to a flush's
/// deadline).
fn over_http(dir: &std::path::Path, collector: &Collector, limits: Limits) -> Background {
    let sink = crate::HttpSink::new(&collector.url(), "background-test/1", None, LONG).unwrap();
    let send: SendFn =
        Box::new(move |records: &[String]| crate::Sink::send_serialised(&sink, records));
    Background::new(Some(dir.to_owned()), send, limits, None)
}

#[test]
fn a_short_run_sends_at_its_flush_point_and_leaves_no_file() {
    let dir = temp_dir("short-run");
    let collector = Collector::start().unwrap();
    let background = over_http(&dir, &collector, short_run());
    let sent = record_n(&background, "short", 3);
    // Spooled at once, as ever; sent by no thread before the flush point.
    assert_eq!(spool::peek(&dir).len(), 3);
    std::thread::sleep(Duration::from_millis(50));
    assert!(collector.requests().is_empty());
    assert_eq!(background.finish(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
    assert_eq!(records_per_request(&collector), [3]);
    assert_eq!(fs_entries(&dir), 0, "nothing left on disk");
}

#[test]
fn a_short_run_flush_on_a_blackhole_ends_at_its_budget_and_keeps_the_records() {
    let dir = temp_dir("short-run-blackhole");
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    // A request timeout far beyond the flush's budget: the flush cuts it.
    let background = over_http(&dir, &blackhole, short_run());
    let sent = record_n(&background, "kept", 3);
    let started = Instant::now();
    assert_eq!(
        background.finish(Duration::from_millis(200)),
        Flushed::TimedOut { pending: 3 }
    );
    // Slack for a loaded machine; the request alone would take 30 s.
    let took = started.elapsed();
    assert!(took < Duration::from_millis(200 + 2_000), "{took:?}");
    let spooled = spool::peek(&dir);
    assert_eq!(spooled.len(), 3);
    for (spooled, id) in spooled.iter().zip(&sent) {
        assert!(spooled.contains(id.as_str()), "{spooled}");
    }
}

#[test]
fn a_short_run_flush_gives_the_claim_of_leftovers_only_their_share() {
    // More leftover files than a claim merges within the flush's budget,
    // and a claim allowed 10 s: the flush still keeps to its budget, and
    // the leftovers to their quarter of it; the rest stay for a later run.
    let (dir, _) = crate::delivery::spool::tests::leftovers("short-run-claim", 3_000, 1);
    let collector = Collector::start().unwrap();
    let mut limits = short_run();
    limits.claim.time = Duration::from_secs(10);
    let sink = crate::HttpSink::new(&collector.url(), "background-test/1", None, LONG).unwrap();
    let send: SendFn =
        Box::new(move |records: &[String]| crate::Sink::send_serialised(&sink, records));
    let (notes, note) = notes();
    let background = Background::new(Some(dir.to_path_buf()), send, limits, note);
    let own = record_n(&background, "own", 1);
    let budget = Duration::from_millis(100);
    let started = Instant::now();
    background.finish(budget);
    let took = started.elapsed();
    assert_eq!(received_ids(&collector)[..1], own[..]);
    // Slack for a loaded machine: merging every file takes far longer.
    let slack = Duration::from_millis(300);
    assert!(took <= budget + slack, "{took:?}");
    let notes = notes.lock().unwrap();
    let account = notes
        .iter()
        .find_map(|note| match note {
            Note::Account(account) => Some(account.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(account.leftover_share, budget / 4);
    // The claim is counted in the leftovers' wait, which keeps to its share.
    assert!(account.leftover_wait >= account.claim_time, "{account:?}");
    assert!(
        account.leftover_wait <= account.leftover_share + slack,
        "{account:?}"
    );
}

#[test]
fn own_records_then_leftovers_whether_or_not_a_thread_runs() {
    for (mode, limits) in [("threaded", Limits::default()), ("short run", short_run())] {
        let dir = temp_dir("own-then-leftovers");
        let down = Collector::start_with(Behaviour::Status(503)).unwrap();
        let earlier = posting(&dir, &down, Limits::default(), None);
        let left = record_n(&earlier, "left", 20);
        assert_eq!(earlier.finish(LONG), Flushed::Stopped, "{mode}");
        end_earlier_run(earlier, &dir);
        let collector = Collector::start().unwrap();
        let next = over_http(&dir, &collector, limits);
        let own = record_n(&next, "own", 2);
        assert_eq!(next.finish(LONG), Flushed::Delivered, "{mode}");
        let got = received_ids(&collector);
        assert_eq!(got[..2], own[..], "{mode}: this run's own first");
        assert_eq!(got[2..], left[..], "{mode}: then the leftovers, once");
        assert_eq!(fs_entries(&dir), 0, "{mode}");
    }
}

/// Limits whose short-run window ends while a test waits (100 ms): the
/// sender's turn comes.
fn brief_window() -> Limits {
    Limits {
        short_run: Duration::from_millis(100),
        ..Limits::default()
    }
}

/// Background delivery in a fresh dir, over HTTP to a collector that
/// answers with `behaviour`, a flush point announced, then `count` records
/// named `name` made: the dir, the collector, the client and the records'
/// ids.
fn announced(
    name: &str,
    behaviour: Behaviour,
    limits: Limits,
    count: usize,
) -> (
    crate::test_support::TempDir,
    Collector,
    Background,
    Vec<String>,
) {
    let dir = temp_dir(&format!("flush-follows-{name}"));
    let collector = Collector::start_with(behaviour).unwrap();
    let background = over_http(&dir, &collector, limits);
    background.flush_follows();
    let sent = record_n(&background, name, count);
    (dir, collector, background, sent)
}

/// Waits until `collector` got as many records as `sent`, then checks
/// they are those.
fn assert_delivered_later(collector: &Collector, sent: &[String]) {
    collector.wait_for_records(sent.len(), LONG);
    assert_eq!(received_ids(collector), sent);
}

#[test]
fn records_just_before_a_flush_point_start_no_thread() {
    let (dir, collector, background, sent) = announced("last", Behaviour::Accept, short_run(), 2);
    assert!(!background.sender_started());
    assert_eq!(background.finish(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
    assert!(!background.sender_started(), "the flush sent them");
    assert_eq!(fs_entries(&dir), 0, "nothing left on disk");
    // Later records start the sender as ever.
    let later = record_n(&background, "later", 1);
    assert!(background.sender_started());
    assert_eq!(background.finish(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector)[2..], later[..]);
}

#[test]
fn a_flush_point_that_does_not_come_leaves_the_records_to_the_sender() {
    let (_dir, collector, background, sent) =
        announced("waiting", Behaviour::Accept, brief_window(), 2);
    assert!(!background.sender_started());
    background.no_flush_follows();
    assert!(background.sender_started());
    // Sent by the sender at its turn, with no flush.
    assert_delivered_later(&collector, &sent);
}

#[test]
fn records_a_flush_could_not_send_go_to_the_sender() {
    let (_dir, collector, background, sent) =
        announced("kept", Behaviour::Blackhole, brief_window(), 1);
    assert_eq!(
        background.flush(Duration::from_millis(100)),
        Flushed::TimedOut { pending: 1 }
    );
    assert!(background.sender_started(), "a sender takes what is left");
    // The collector answers again: the sender delivers the record.
    collector.set_behaviour(Behaviour::Accept);
    assert_delivered_later(&collector, &sent);
}

#[test]
fn a_client_dropped_with_records_queued_leaves_them_to_a_sender() {
    let (_dir, collector, background, sent) =
        announced("dropped", Behaviour::Accept, short_run(), 2);
    assert!(!background.sender_started());
    // No flush came: the client's end starts a sender, which sends them.
    drop(background);
    assert_delivered_later(&collector, &sent);
}

#[test]
fn without_a_short_run_window_the_first_record_starts_the_sender() {
    let (_dir, collector, background, sent) =
        announced("threaded", Behaviour::Accept, Limits::default(), 1);
    assert!(background.sender_started());
    assert_eq!(background.finish(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
}

#[test]
fn a_record_made_while_the_announced_flush_runs_starts_a_sender() {
    let (_dir, blackhole, background, _) =
        announced("during", Behaviour::Blackhole, short_run(), 1);
    std::thread::scope(|scope| {
        let flush = scope.spawn(|| background.flush(Duration::from_millis(500)));
        // The flush is sending (its connection is open): it has begun.
        let started = Instant::now();
        while blackhole.connections() == 0 && started.elapsed() < LONG {
            std::thread::sleep(Duration::from_millis(1));
        }
        record_n(&background, "during", 1);
        assert!(
            background.sender_started(),
            "not held for a flush under way"
        );
        assert!(matches!(flush.join().unwrap(), Flushed::TimedOut { .. }));
    });
}
