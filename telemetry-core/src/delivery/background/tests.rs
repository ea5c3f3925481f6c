//! Background delivery's unit tests, against a real loopback collector.

use super::*;
use crate::delivery::dropped::DropReason;
use crate::delivery::spool::tests::{line, temp_dir};
use crate::delivery::spool::{self, Bound, SpoolError};
use crate::files::choice;
use crate::record::batch_body;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::PoisonError;
use telemetry_test_support::collector::{Behaviour, Collector};

/// A keep-alive HTTP/1.1 poster over one `TcpStream`: the send function
/// the tests give the sender.
struct Poster {
    addr: SocketAddr,
    timeout: Duration,
    connection: Mutex<Option<BufReader<TcpStream>>>,
}

impl Poster {
    fn send_fn(addr: SocketAddr, timeout: Duration) -> SendFn {
        let poster = Poster {
            addr,
            timeout,
            connection: Mutex::new(None),
        };
        Box::new(move |records: &[String]| poster.post(records))
    }

    fn post(&self, records: &[String]) -> Result<(), SendError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = self.exchange(&mut slot, &batch_body(records));
        if result.is_err() {
            *slot = None;
        }
        match result {
            Ok(200..=299) => Ok(()),
            Ok(status) => Err(SendError::Rejected(status)),
            Err(error) => Err(SendError::Transport(format!("{:?}", error.kind()))),
        }
    }

    fn exchange(
        &self,
        slot: &mut Option<BufReader<TcpStream>>,
        body: &[u8],
    ) -> std::io::Result<u16> {
        if slot.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
            stream.set_read_timeout(Some(self.timeout))?;
            stream.set_nodelay(true)?;
            *slot = Some(BufReader::new(stream));
        }
        let Some(reader) = slot.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        let head = format!(
            "POST /v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut status_line = String::new();
        reader.read_line(&mut status_line)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut answer = vec![0; length];
        reader.read_exact(&mut answer)?;
        Ok(status)
    }
}

pub(super) const LONG: Duration = Duration::from_secs(30);

/// Drops an earlier run's client and waits until its spool file is let go
/// ([`wait_until_released`](telemetry_test_support::spool::wait_until_released)).
pub(super) fn end_earlier_run(earlier: Background, dir: &std::path::Path) {
    drop(earlier);
    telemetry_test_support::spool::wait_until_released(dir);
}

/// Background delivery spooling in `dir`, posting to `collector` over
/// one keep-alive connection (30 s timeout).
pub(super) fn posting(
    dir: &std::path::Path,
    collector: &Collector,
    limits: Limits,
    note: Option<NoteFn>,
) -> Background {
    Background::new(
        Some(dir.to_owned()),
        Poster::send_fn(collector.addr(), LONG),
        limits,
        note,
    )
}

pub(super) fn notes() -> (Arc<Mutex<Vec<Note>>>, Option<NoteFn>) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&notes);
    let note: NoteFn = Box::new(move |note: &Note| sink.lock().unwrap().push(note.clone()));
    (notes, Some(note))
}

pub(super) fn record_n(background: &Background, prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            let id = format!("{prefix}-{n}");
            background.record_line(id.clone(), line(&id, spool::now_ms()));
            id
        })
        .collect()
}

pub(super) fn received_ids(collector: &Collector) -> Vec<String> {
    collector
        .records()
        .iter()
        .map(|record| {
            record["properties"]["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

pub(super) fn records_per_request(collector: &Collector) -> Vec<usize> {
    collector
        .requests()
        .iter()
        .map(|request| {
            telemetry_test_support::collector::check_body(&request.body)
                .unwrap()
                .len()
        })
        .collect()
}

#[test]
fn records_go_in_batches_over_one_connection() {
    let dir = temp_dir("batches");
    let collector = Collector::start_with(Behaviour::HoldIfBodyContains("first".into())).unwrap();
    let limits = Limits {
        batch_records: 100,
        ..Limits::default()
    };
    let background = posting(&dir, &collector, limits, None);
    let mut sent = record_n(&background, "first", 1);
    // The first batch is held by the collector while the rest queue up.
    assert_eq!(collector.wait_for_held(1, LONG), 1);
    sent.extend(record_n(&background, "later", 249));
    collector.release_held();
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent, "each once, in order");
    let sizes = records_per_request(&collector);
    assert!(sizes.iter().all(|&size| size <= 100), "{sizes:?}");
    assert!(sizes.len() <= 4, "batched: {sizes:?}");
    assert_eq!(collector.connections(), 1);
    // Acknowledged records left the spool, and the file goes at exit.
    assert!(spool::peek(&dir).is_empty());
    assert_eq!(background.finish(LONG), Flushed::Delivered);
    assert_eq!(fs_entries(&dir), 0);
}

pub(super) fn fs_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

#[test]
fn batches_are_capped_in_bytes() {
    let collector = Collector::start_with(Behaviour::HoldIfBodyContains("first".into())).unwrap();
    let limits = Limits {
        batch_bytes: 2_000,
        ..Limits::default()
    };
    let background = Background::new(None, Poster::send_fn(collector.addr(), LONG), limits, None);
    record_n(&background, "first", 1);
    assert_eq!(collector.wait_for_held(1, LONG), 1);
    record_n(&background, "later", 40);
    collector.release_held();
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    for request in collector.requests() {
        let records = telemetry_test_support::collector::check_body(&request.body).unwrap();
        let bytes: usize = records.iter().map(|r| r.to_string().len()).sum();
        assert!(records.len() == 1 || bytes <= 2_000, "{bytes}");
    }
    assert_eq!(collector.records().len(), 41);
}

#[test]
fn flush_waits_for_the_acknowledgement() {
    let dir = temp_dir("flush");
    let collector = Collector::start_with(Behaviour::HoldIfBodyContains("held".into())).unwrap();
    let background = posting(&dir, &collector, Limits::default(), None);
    record_n(&background, "held", 2);
    let flusher = {
        let background = background.clone();
        std::thread::spawn(move || background.flush(LONG))
    };
    assert_eq!(collector.wait_for_held(1, LONG), 1);
    assert!(!flusher.is_finished(), "flush returned before the answer");
    assert_eq!(spool::peek(&dir).len(), 2, "still pending while in flight");
    collector.release_held();
    assert_eq!(flusher.join().unwrap(), Flushed::Delivered);
    assert_eq!(collector.records().len(), 2);
    assert!(spool::peek(&dir).is_empty());
}

#[test]
fn flush_returns_after_its_budget_on_a_blackhole_and_keeps_the_records() {
    let dir = temp_dir("blackhole");
    let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
    let background = posting(&dir, &collector, Limits::default(), None);
    let sent = record_n(&background, "r", 3);
    let budget = Duration::from_millis(100);
    assert!(matches!(
        background.flush(budget),
        Flushed::TimedOut { pending: 1..=3 }
    ));
    background.finish(budget); // returns too: the exit path
    let spooled: Vec<String> = spool::peek(&dir);
    assert_eq!(spooled.len(), 3);
    for (spooled, id) in spooled.iter().zip(&sent) {
        assert!(spooled.contains(id), "{spooled}");
    }
}

#[test]
fn a_collector_that_asks_to_retry_later_stops_sending_and_keeps_the_records() {
    let dir = temp_dir("503");
    let collector = Collector::start_with(Behaviour::Status(503)).unwrap();
    let (notes, note) = notes();
    let background = posting(&dir, &collector, Limits::default(), note);
    record_n(&background, "r", 3);
    assert_eq!(background.flush(LONG), Flushed::Stopped);
    record_n(&background, "after", 1);
    assert_eq!(background.flush(LONG), Flushed::Stopped);
    assert_eq!(spool::peek(&dir).len(), 4);
    assert_eq!(collector.requests().len(), 1);
    assert_eq!(
        *notes.lock().unwrap(),
        [Note::Stopped(SendError::Rejected(503))]
    );
}

#[test]
fn a_batch_refused_for_good_is_not_kept() {
    let dir = temp_dir("400");
    let collector = Collector::start_with(Behaviour::Status(400)).unwrap();
    let (notes, note) = notes();
    let background = posting(&dir, &collector, Limits::default(), note);
    record_n(&background, "r", 2);
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    assert!(spool::peek(&dir).is_empty());
    // One note per refused batch (the first record may go alone).
    let refused: usize = notes
        .lock()
        .unwrap()
        .iter()
        .map(|note| match note {
            Note::Refused {
                status: 400,
                records,
            } => *records,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(refused, 2);
    // Not sent again by the next run.
    let next = posting(&dir, &collector, Limits::default(), None);
    let requests = collector.requests().len();
    record_n(&next, "next", 1);
    assert_eq!(next.flush(LONG), Flushed::Delivered);
    assert_eq!(collector.requests().len(), requests + 1);
}

#[test]
fn a_live_spool_past_its_bound_drops_its_oldest_and_says_so_once() {
    let dir = temp_dir("bound");
    let collector = Collector::start_with(Behaviour::Status(503)).unwrap();
    let (notes, note) = notes();
    let limits = Limits {
        spool: Bound {
            records: 40,
            bytes: u64::MAX / 2,
        },
        ..Limits::default()
    };
    let background = posting(&dir, &collector, limits, note);
    let sent = record_n(&background, "r", 1);
    assert_eq!(background.flush(LONG), Flushed::Stopped);
    // Sending stopped: every later record only goes to the spool.
    let later = record_n(&background, "later", 100);
    let spooled = spool::peek(&dir);
    assert!(spooled.len() <= 40, "{}", spooled.len());
    assert!(
        spooled.last().unwrap().contains(&later[99]),
        "the newest kept"
    );
    assert!(!spooled.iter().any(|line| line.contains(&sent[0])));
    let dropped = 101 - spooled.len() as u64;
    assert_eq!(background.finish(LONG), Flushed::Stopped);
    let notes = notes.lock().unwrap();
    let trimmed: Vec<&Note> = notes
        .iter()
        .filter(|note| matches!(note, Note::SpoolTrimmed { .. }))
        .collect();
    assert_eq!(trimmed.len(), 1, "said once: {notes:?}");
    let said = Note::SpoolDropped { total: dropped };
    assert!(notes.contains(&said), "{notes:?}");
    assert!(said.to_string().contains(&dropped.to_string()));
    // The account says it too, by reason, and that nothing was sent.
    let Some(Note::Account(account)) = notes.last() else {
        panic!("{notes:?}");
    };
    assert_eq!(account.dropped.get("spool_bound"), Some(&dropped));
    assert!(notes.last().unwrap().to_string().contains("spool_bound="));
}

#[test]
fn an_unusable_spool_still_sends_and_says_why() {
    let dir = temp_dir("unusable");
    let not_a_dir = dir.join("plain-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let collector = Collector::start().unwrap();
    let (notes, note) = notes();
    let background = Background::new(
        Some(not_a_dir),
        Poster::send_fn(collector.addr(), LONG),
        Limits::default(),
        note,
    );
    record_n(&background, "r", 3);
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    assert_eq!(collector.records().len(), 3);
    let notes = notes.lock().unwrap();
    assert!(
        matches!(notes[..], [Note::SpoolUnusable(SpoolError::Unwritable(_))]),
        "{notes:?}"
    );
    assert!(!notes[0].to_string().contains("plain-file"));
}

#[test]
fn opting_out_deletes_what_was_not_sent() {
    let dir = temp_dir("opt-out");
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let background = posting(&dir, &blackhole, Limits::default(), None);
    record_n(&background, "unsent", 2);
    assert!(matches!(
        background.flush(Duration::from_millis(50)),
        Flushed::TimedOut { .. }
    ));
    // A process starts with telemetry off: it deletes the spool.
    let (removed, problems) = spool::delete_all(&dir);
    assert_eq!((removed, problems), (1, vec![]));
    // Telemetry on again later: only the new record is ever sent.
    let collector = Collector::start().unwrap();
    let next = posting(&dir, &collector, Limits::default(), None);
    let sent = record_n(&next, "new", 1);
    assert_eq!(next.flush(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
}

#[tokio::test(flavor = "current_thread")]
async fn works_the_same_inside_a_tokio_runtime() {
    let dir = temp_dir("tokio");
    let collector = Collector::start().unwrap();
    let background = posting(&dir, &collector, Limits::default(), None);
    let sent = record_n(&background, "r", 5);
    tokio::task::yield_now().await;
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
}

const CHILD_DIR: &str = "TELEMETRY_BACKGROUND_TEST_CHILD_DIR";
const CHILD_COLLECTOR: &str = "TELEMETRY_BACKGROUND_TEST_CHILD_COLLECTOR";

/// Run by `leftovers_of_a_killed_process_are_sent_by_the_next_after_its_own`
/// in a child process: records against a collector that never answers,
/// says "ready", then waits to be killed.
#[test]
#[ignore = "a child process of another test"]
fn child_records_then_waits_to_be_killed() {
    let (Some(dir), Some(addr)) = (
        std::env::var_os(CHILD_DIR),
        std::env::var(CHILD_COLLECTOR).ok(),
    ) else {
        return;
    };
    let addr: SocketAddr = addr.parse().unwrap();
    let background = Background::new(
        Some(PathBuf::from(dir)),
        Poster::send_fn(addr, LONG),
        Limits::default(),
        None,
    );
    record_n(&background, "killed", 5);
    println!("ready");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn leftovers_of_a_killed_process_are_sent_by_the_next_after_its_own() {
    let dir = temp_dir("killed");
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "delivery::background::tests::child_records_then_waits_to_be_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_DIR, &dir.0)
        .env(CHILD_COLLECTOR, blackhole.addr().to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|line| line.unwrap().trim() == "ready"));
    child.kill().unwrap(); // SIGKILL: no flush, no destructor
    child.wait().unwrap();

    let collector = Collector::start().unwrap();
    let (notes, note) = notes();
    let next = posting(&dir, &collector, Limits::default(), note);
    let mut expected = record_n(&next, "next", 2);
    assert_eq!(next.finish(LONG), Flushed::Delivered);
    expected.extend((0..5).map(|n| format!("killed-{n}")));
    assert_eq!(
        received_ids(&collector),
        expected,
        "this run's own first, then the leftovers, each once"
    );
    assert!(notes.lock().unwrap().contains(&Note::LeftoversQueued {
        records: 5,
        files: 1
    }));
    assert_eq!(fs_entries(&dir), 0, "nothing left in the spool");
}

#[test]
fn a_live_process_whose_spool_an_opt_out_deleted_sends_nothing_more() {
    let dir = temp_dir("opted-out-live");
    let collector = Collector::start_with(Behaviour::HoldIfBodyContains("first".into())).unwrap();
    let (notes, note) = notes();
    let background = posting(&dir, &collector, Limits::default(), note);
    let first = record_n(&background, "first", 1);
    assert_eq!(collector.wait_for_held(1, LONG), 1);
    // Queued behind the batch in flight, and spooled.
    record_n(&background, "before", 3);
    assert_eq!(spool::peek(&dir).len(), 4);
    // Another run turns telemetry off: it deletes every spool file.
    let (removed, _) = spool::delete_all(&dir);
    assert_eq!(removed, 1);
    collector.release_held();
    assert_eq!(background.flush(LONG), Flushed::OptedOut);
    record_n(&background, "after", 2);
    assert_eq!(background.finish(LONG), Flushed::OptedOut);
    // The batch in flight at the opt-out was answered after it.
    collector.wait_for_records(1, LONG);
    let counts = background.drop_counts();
    drop(background);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(received_ids(&collector), first, "only what was in flight");
    assert_eq!(fs_entries(&dir), 0, "the spool is not brought back");
    assert!(notes.lock().unwrap().contains(&Note::OptedOut));
    assert!(
        counts.get(DropReason::SpoolBound) == 0 && counts.take().is_empty(),
        "an opt-out is not a loss"
    );
}

#[test]
fn the_choice_disabled_after_start_is_an_opt_out_and_one_from_before_is_not() {
    let collector = Collector::start().unwrap();
    // Disabled before this client started, and a variable turned telemetry
    // on over it: the client sends.
    let before = temp_dir("choice-before");
    choice::disable(&before).unwrap();
    let background = posting(&before, &collector, Limits::default(), None);
    let sent = record_n(&background, "kept", 2);
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    assert_eq!(received_ids(&collector), sent);
    // Disabled while this client runs: it stops.
    let during = temp_dir("choice-during");
    let background = posting(&during, &collector, Limits::default(), None);
    record_n(&background, "on", 1);
    assert_eq!(background.flush(LONG), Flushed::Delivered);
    choice::disable(&during).unwrap();
    record_n(&background, "off", 3);
    assert_eq!(background.flush(LONG), Flushed::OptedOut);
    assert!(!received_ids(&collector)
        .iter()
        .any(|id| id.starts_with("off")));
    assert!(spool::peek(&during).is_empty());
}

#[test]
fn own_records_go_before_the_leftovers_of_earlier_runs() {
    let dir = temp_dir("own-first");
    // An earlier run left 3,000 records.
    let blackhole = Collector::start_with(Behaviour::Status(503)).unwrap();
    let earlier = posting(&dir, &blackhole, Limits::default(), None);
    let left = record_n(&earlier, "left", 3_000);
    assert_eq!(earlier.finish(LONG), Flushed::Stopped);
    end_earlier_run(earlier, &dir);
    let collector = Collector::start().unwrap();
    let (notes, note) = notes();
    let limits = Limits {
        batch_records: 500,
        ..Limits::default()
    };
    let next = posting(&dir, &collector, limits, note);
    let own = record_n(&next, "own", 5);
    assert_eq!(next.finish(LONG), Flushed::Delivered);
    let got = received_ids(&collector);
    assert_eq!(got[..5], own[..], "this run's own first");
    assert_eq!(
        got[5..],
        left[..],
        "then the leftovers, in write order, once"
    );
    let notes = notes.lock().unwrap();
    let Some(Note::Account(account)) = notes.last() else {
        panic!("{notes:?}");
    };
    assert_eq!((account.own_left, account.leftovers_sent), (0, 3_000));
    assert_eq!(fs_entries(&dir), 0);
}

#[test]
fn a_flush_gives_the_leftovers_a_quarter_of_its_budget_at_most() {
    let dir = temp_dir("share");
    // Leftovers that the collector holds: their batch never settles.
    let blackhole = Collector::start_with(Behaviour::Status(503)).unwrap();
    let earlier = posting(&dir, &blackhole, Limits::default(), None);
    record_n(&earlier, "held-left", 10);
    earlier.finish(LONG);
    end_earlier_run(earlier, &dir);
    let collector =
        Collector::start_with(Behaviour::HoldIfBodyContains("held-left".into())).unwrap();
    let (notes, note) = notes();
    let next = posting(&dir, &collector, Limits::default(), note);
    let own = record_n(&next, "own", 3);
    let budget = Duration::from_millis(400);
    assert_eq!(next.finish(budget), Flushed::Delivered);
    assert_eq!(received_ids(&collector), own);
    let notes = notes.lock().unwrap();
    let Some(Note::Account(account)) = notes.last() else {
        panic!("{notes:?}");
    };
    assert_eq!(account.leftover_share, budget / 4);
    // Slack for a loaded machine: the wait itself is bounded by deadlines.
    let slack = Duration::from_millis(500);
    assert!(account.flush_wait <= budget + slack, "{account:?}");
    assert!(
        account.leftover_wait <= account.leftover_share + slack,
        "{account:?}"
    );
    assert_eq!(account.leftovers_left, 10);
    assert!(notes
        .last()
        .unwrap()
        .to_string()
        .contains("10 left for a later run"));
    collector.release_held();
}
