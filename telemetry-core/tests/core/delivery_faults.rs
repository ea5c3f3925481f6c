//! Faults: the recorder against misbehaving servers on 127.0.0.1, over real
//! HTTP.
//!
//! For each fault, on a plain thread and inside multi-thread and
//! current-thread tokio runtimes: the recording call returns, nothing
//! panics, the first event costs at most about one request timeout, and
//! then (for a transport failure) delivery stops: later events touch no
//! socket, and exactly one debug line says delivery stopped. After a 5xx or
//! 429 delivery goes on. A request stalled on a slow server does not hold up
//! another thread's events on the same client. And under every fault, a
//! `#[tracked_tool]` or `#[tracked_command]` function returns (or panics)
//! exactly as it would without telemetry.
//!
//! Timing assertions are generous upper bounds that catch a hang, never
//! tight ones: the request timeout is 300 ms and the first event must return
//! within 2.5 s, long before the slow server (5 s) would have answered.

use std::collections::HashSet;
use std::time::{Duration, Instant};
use telemetry_core::{tracked_command, tracked_tool, Outcome, Telemetry, WithTelemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::isolated;
use telemetry_test_support::net::{refused_addr, PortWatch};
use telemetry_test_support::MemoryWriter;

const TIMEOUT: Duration = Duration::from_millis(300);
/// One request timeout plus a generous margin for a noisy machine; still
/// half of what the slow server takes to answer.
const FIRST_EVENT_BOUND: Duration = Duration::from_millis(2_500);
/// Events recorded after the first one.
const LATER_EVENTS: usize = 200;
/// All of them together: were each to pay even a tenth of a timeout, this
/// would be exceeded several times over.
const LATER_EVENTS_BOUND: Duration = Duration::from_secs(5);
const API_KEY: &str = "sk-canary-4f1d2b9e";
const STOPPED: &str = "delivery stopped";
const NOT_SENT_EARLIER: &str = "not sent: the collector was unreachable earlier";

/// Where the recording calls run.
#[derive(Debug, Clone, Copy)]
enum Driver {
    /// A plain thread (each thread drives its own requests).
    Thread,
    /// Inside a multi-thread tokio runtime (requests go to the shared
    /// delivery thread).
    MultiThread,
    /// Inside a current-thread tokio runtime.
    CurrentThread,
}

const DRIVERS: [Driver; 3] = [Driver::Thread, Driver::MultiThread, Driver::CurrentThread];

impl Driver {
    fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let runtime = match self {
            Driver::Thread => return f(),
            Driver::MultiThread => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build(),
            Driver::CurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
        };
        runtime.expect("a tokio runtime").block_on(async { f() })
    }
}

/// Runs `check` once for each driver, the three at once on threads of
/// their own (each with its own collector and client), so that the waits
/// of a fault (a timeout, a `Retry-After`) are paid once rather than three
/// times. A failed check fails the test with its own message.
fn for_each_driver(check: impl Fn(Driver) + Sync) {
    std::thread::scope(|scope| {
        for driver in DRIVERS {
            let check = &check;
            scope.spawn(move || check(driver));
        }
    });
}

struct Client {
    telemetry: Telemetry,
    debug: MemoryWriter,
}

/// A client whose requests time out after [`TIMEOUT`], with the default
/// time budget: for a fault that costs a timeout.
fn client(endpoint: &str) -> Client {
    client_with(endpoint, TIMEOUT, None)
}

/// A client for a collector that answers every request: a time budget that
/// no loaded machine spends, and a `timeout` well past a loopback answer,
/// so that only the answers decide what happens (a 300 ms timeout, or the
/// default budget of twice that, could stop delivery when a busy machine
/// answers slowly).
fn patient_client(endpoint: &str, timeout: Duration) -> Client {
    client_with(endpoint, timeout, Some(Duration::from_secs(3_600)))
}

/// The timeout of a [`patient_client`] that no answer comes near.
const PATIENT: Duration = Duration::from_secs(30);

fn client_with(endpoint: &str, timeout: Duration, budget: Option<Duration>) -> Client {
    let debug = MemoryWriter::new();
    let mut builder = isolated("faults-test", "1.0.0")
        .endpoint(endpoint)
        .api_key(API_KEY)
        .timeout(timeout)
        .debug(true)
        .debug_writer(debug.clone());
    if let Some(budget) = budget {
        builder = builder.time_budget(budget);
    }
    let telemetry = builder.build();
    assert!(telemetry.is_enabled());
    Client { telemetry, debug }
}

/// Records `count` events of every kind; returns how many records that made.
fn record_many(telemetry: &Telemetry, count: usize) -> usize {
    let mut records = 0;
    for i in 0..count {
        match i % 4 {
            0 => {
                telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
                records += 1;
            }
            1 => {
                telemetry.record_token_usage("m", 1, 2, 0.5);
                records += 1;
            }
            2 => {
                telemetry.track_command("cmd", ["--flag"]);
                records += 1;
            }
            _ => {
                let session = telemetry.start_session("agent");
                session.record_tool_call("t", Duration::ZERO, Outcome::Success);
                session.end();
                records += 3;
            }
        }
    }
    records
}

/// The first event fails with a transport error; checks the whole contract.
/// `watch` is called after the first event and returns a counter of the
/// sockets opened to the server since (or `None` when there is nothing to
/// count, as for DNS).
fn survives_and_stops<W: Fn() -> usize>(
    fault: &str,
    driver: Driver,
    endpoint: &str,
    watch: impl FnOnce() -> Option<W>,
) {
    let what = format!("{fault} ({driver:?})");
    let Client { telemetry, debug } = client(endpoint);

    let first = driver.run(|| {
        let started = Instant::now();
        telemetry.record_tool_call("first", "", "", Duration::ZERO, Outcome::Success);
        started.elapsed()
    });
    assert!(
        first < FIRST_EVENT_BOUND,
        "{what}: the first event took {first:?}"
    );
    assert_eq!(debug.count(STOPPED), 1, "{what}: {}", debug.text());

    let sockets = watch();
    let before = sockets.as_ref().map(|count| count());
    let (later, records) = driver.run(|| {
        let started = Instant::now();
        let records = record_many(&telemetry, LATER_EVENTS);
        (started.elapsed(), records)
    });
    let after = sockets.as_ref().map(|count| count());
    assert_eq!(before, after, "{what}: a later event opened a socket");
    assert!(
        later < LATER_EVENTS_BOUND,
        "{what}: {LATER_EVENTS} later events took {later:?}"
    );

    // Every later record was turned away before any I/O (the sink said
    // "stopped"), and the stop was told exactly once.
    assert_eq!(debug.count(STOPPED), 1, "{what}: {}", debug.text());
    assert_eq!(
        debug.count(NOT_SENT_EARLIER),
        records,
        "{what}: {}",
        debug.text()
    );
    assert_eq!(debug.count("[telemetry] {"), records + 1, "{what}");
    assert!(
        !debug.text().contains(API_KEY),
        "{what}: the API key leaked"
    );
}

/// Runs [`survives_and_stops`] against a collector with this behaviour.
fn collector_fault(fault: &str, behaviour: &Behaviour) {
    for_each_driver(|driver| {
        let collector = Collector::start_with(behaviour.clone()).unwrap();
        survives_and_stops(fault, driver, &collector.url(), || {
            Some(|| collector.connections())
        });
    });
}

#[test]
fn connection_refused() {
    for driver in DRIVERS {
        let addr = refused_addr();
        let mut watch = None;
        survives_and_stops(
            "refused",
            driver,
            &format!("http://{addr}/v1/events"),
            || {
                // Something listens there now: a sender that still tried would
                // connect.
                let port = watch.insert(PortWatch::bind(addr));
                Some(|| port.connections())
            },
        );
    }
}

#[test]
fn blackhole_server_that_never_answers() {
    collector_fault("blackhole", &Behaviour::Blackhole);
}

#[test]
fn server_that_answers_after_5_s() {
    collector_fault("slow", &Behaviour::Delay(Duration::from_secs(5)));
}

#[test]
fn server_that_stalls_after_its_headers() {
    collector_fault("stalled answer", &Behaviour::StallAfterHead);
}

#[test]
fn connection_reset_mid_request() {
    collector_fault("reset", &Behaviour::Reset);
}

#[test]
fn garbage_instead_of_http() {
    collector_fault("garbage", &Behaviour::Garbage);
}

#[test]
fn dns_failure() {
    // `.invalid` never resolves (RFC 6761); the lookup goes to the system
    // resolver only. Were the resolver to hang instead of failing, the
    // request timeout would still bound the first event, which is what this
    // test asserts. No socket to the collector can be counted here: the
    // proof that later events do no I/O is that the sink turned each away as
    // stopped, before any lookup.
    for driver in DRIVERS {
        survives_and_stops(
            "dns",
            driver,
            "http://nonexistent.invalid/v1/events",
            || None::<fn() -> usize>,
        );
    }
}

/// Records one command event named `action` through `driver`, and returns
/// how long the call took.
fn timed_command(driver: Driver, telemetry: &Telemetry, action: &'static str) -> Duration {
    driver.run(|| {
        let started = Instant::now();
        telemetry.track_command(action, Vec::<String>::new());
        started.elapsed()
    })
}

/// Once the collector accepts again, a command named "after" reaches it:
/// the last record it received (a client_report of what was dropped may
/// travel with it).
fn assert_delivery_resumed(
    what: &str,
    driver: Driver,
    collector: &Collector,
    telemetry: &Telemetry,
) {
    timed_command(driver, telemetry, "after");
    let last = collector
        .records()
        .into_iter()
        .rev()
        .find(|record| record["event"] != "client_report")
        .expect("a record");
    assert_eq!(last["properties"]["action"], "after", "{what}");
}

/// A status answer: every call returns promptly, every event still reaches
/// the collector, and delivery is never stopped.
fn status_goes_on(status: u16) {
    for_each_driver(|driver| {
        let what = format!("HTTP {status} ({driver:?})");
        let collector = Collector::start_with(Behaviour::Status(status)).unwrap();
        let Client { telemetry, debug } = patient_client(&collector.url(), PATIENT);
        let first = timed_command(driver, &telemetry, "first");
        assert!(first < FIRST_EVENT_BOUND, "{what}: took {first:?}");
        let records = 1 + driver.run(|| record_many(&telemetry, 40));
        assert_eq!(collector.requests().len(), records, "{what}");
        assert_eq!(
            debug.count(&format!(
                "not accepted: the collector answered HTTP {status}"
            )),
            records,
            "{what}: {}",
            debug.text()
        );
        assert_eq!(debug.count(STOPPED), 0, "{what}: {}", debug.text());

        collector.set_behaviour(Behaviour::Accept);
        assert_delivery_resumed(&what, driver, &collector, &telemetry);
        assert_eq!(debug.count("not accepted"), records, "{what}");
    });
}

#[test]
fn status_500_delivery_goes_on() {
    status_goes_on(500);
}

#[test]
fn status_400_delivery_goes_on() {
    status_goes_on(400);
}

/// How long a 429 or 503 asks to wait (`Retry-After`).
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// A status that asks to wait (429, 503, with `Retry-After: 2`, longer
/// than the request's timeout): the first call returns promptly, and
/// until the wait ends the later ones open no connection, say why, and
/// are dropped; after it, delivery resumes. (The wait without
/// `Retry-After` is the back-off module's: its unit tests.)
fn status_holds_delivery_back(status: u16) {
    for_each_driver(|driver| {
        let what = format!("HTTP {status} ({driver:?})");
        let retry_after = RETRY_AFTER.as_secs().to_string();
        let collector = Collector::start_with(Behaviour::Throttle(status, retry_after)).unwrap();
        // A `Retry-After` that fits in the request's deadline is waited
        // for and retried: this one must not fit.
        let Client { telemetry, debug } = patient_client(&collector.url(), RETRY_AFTER / 2);
        let first = timed_command(driver, &telemetry, "first");
        // The answer came before the call returned: the wait ends at most
        // `RETRY_AFTER` from now, however long the call took.
        let answered = Instant::now();
        assert!(first < FIRST_EVENT_BOUND, "{what}: took {first:?}");
        let connections = collector.connections();
        let records = driver.run(|| record_many(&telemetry, 40));
        assert!(
            answered.elapsed() < RETRY_AFTER,
            "{what}: the machine is too slow for this test's window"
        );
        assert_eq!(collector.requests().len(), 1, "{what}");
        assert_eq!(collector.connections(), connections, "{what}");
        assert_eq!(
            debug.count("not sent: the collector asked to wait until"),
            records,
            "{what}: {}",
            debug.text()
        );
        assert_eq!(debug.count(STOPPED), 0, "{what}: {}", debug.text());

        collector.set_behaviour(Behaviour::Accept);
        // Wall time must pass here: the back-off is a moment on the clock.
        std::thread::sleep(
            (RETRY_AFTER + Duration::from_millis(100)).saturating_sub(answered.elapsed()),
        );
        assert_delivery_resumed(&what, driver, &collector, &telemetry);
    });
}

#[test]
fn status_503_holds_delivery_back_then_it_resumes() {
    status_holds_delivery_back(503);
}

#[test]
fn status_429_holds_delivery_back_then_it_resumes() {
    status_holds_delivery_back(429);
}

#[test]
fn server_closing_each_keep_alive_connection_loses_no_event() {
    // Beside the other tests of this process: inside a runtime every
    // client sends through one shared delivery thread, and the connections
    // counted for each request (to tell a reused connection, whose failure
    // is sent again, from a fresh one) are that request's own, whatever
    // the other tests open at the same moment.
    DRIVERS
        .into_iter()
        .for_each(closing_keep_alive_loses_no_event);
}

fn closing_keep_alive_loses_no_event(driver: Driver) {
    // Back to back, no pause: the client may pick the pooled connection
    // before it sees the close. Each event must still arrive, exactly once.
    {
        let what = format!("close after answer ({driver:?})");
        let collector = Collector::start_with(Behaviour::CloseAfterAnswer).unwrap();
        let Client { telemetry, debug } = patient_client(&collector.url(), PATIENT);
        let records = driver.run(|| record_many(&telemetry, 100));
        let received = collector.records();
        assert_eq!(received.len(), records, "{what}: {}", debug.text());
        let ids: HashSet<_> = received
            .iter()
            .map(|record| record["properties"]["event_id"].clone())
            .collect();
        assert_eq!(ids.len(), records, "{what}: an event arrived twice");
        assert_eq!(debug.count("not sent"), 0, "{what}: {}", debug.text());
        assert_eq!(debug.count("not accepted"), 0, "{what}: {}", debug.text());
    }
}

#[test]
fn many_threads_meeting_a_silent_server_at_once_each_pay_one_timeout_at_most() {
    // Eight threads make their first call together, all in flight before
    // any times out: each returns within the bound, the stop is told once,
    // and afterwards no thread opens a socket.
    let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
    let Client { telemetry, debug } = client(&collector.url());
    let barrier = std::sync::Barrier::new(8);
    let slowest = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    telemetry.record_tool_call("first", "", "", Duration::ZERO, Outcome::Success);
                    started.elapsed()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .max()
            .unwrap()
    });
    assert!(
        slowest < FIRST_EVENT_BOUND,
        "the slowest first call took {slowest:?}"
    );
    assert_eq!(debug.count(STOPPED), 1, "{}", debug.text());
    let connections = collector.connections();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| record_many(&telemetry, 25));
        }
    });
    assert_eq!(collector.connections(), connections);
    assert_eq!(debug.count(STOPPED), 1);
}

const SLOW_MARKER: &str = "held-slow-tool";
const FAST_EVENTS: usize = 50;
/// How long the fast events may take in all; they must arrive while the
/// slow request is still held, which it is until the test releases it.
const FAST_BOUND: Duration = Duration::from_secs(20);

fn isolation_client(collector: &Collector) -> Telemetry {
    isolated("isolation-test", "1.0.0")
        .endpoint(collector.url())
        // Long enough that the held request never times out (which would
        // stop delivery) before the test releases it.
        .timeout(Duration::from_secs(60))
        .build()
}

fn record_slow(telemetry: &Telemetry) {
    telemetry.record_tool_call(SLOW_MARKER, "", "", Duration::ZERO, Outcome::Success);
}

/// Records [`FAST_EVENTS`] on a new thread (inside `runtime`'s context
/// when given) while the collector holds the slow request, and checks
/// that they all arrive while it is still held; then releases it.
fn assert_fast_events_pass_the_held_one(
    collector: &Collector,
    telemetry: &Telemetry,
    runtime: Option<tokio::runtime::Handle>,
    slow_is_finished: impl Fn() -> bool,
) {
    assert_eq!(collector.wait_for_held(1, FAST_BOUND), 1, "never held");
    let fast = std::thread::spawn({
        let telemetry = telemetry.clone();
        move || {
            let _inside = runtime.as_ref().map(tokio::runtime::Handle::enter);
            for _ in 0..FAST_EVENTS {
                telemetry.record_tool_call("fast", "", "", Duration::ZERO, Outcome::Success);
            }
        }
    });
    let arrived = collector.wait_for_records(FAST_EVENTS, FAST_BOUND).len();
    // Checked before the release: the slow request is still in flight.
    let slow_still_pending = !slow_is_finished() && collector.held() == 1;
    collector.release_held();
    assert_eq!(arrived, FAST_EVENTS, "the fast thread was held up");
    assert!(slow_still_pending);
    fast.join().unwrap();
}

#[test]
fn a_stalled_request_does_not_hold_up_other_threads() {
    let collector =
        Collector::start_with(Behaviour::HoldIfBodyContains(SLOW_MARKER.into())).unwrap();
    let telemetry = isolation_client(&collector);
    let slow = std::thread::spawn({
        let telemetry = telemetry.clone();
        move || record_slow(&telemetry)
    });
    assert_fast_events_pass_the_held_one(&collector, &telemetry, None, || slow.is_finished());
    slow.join().unwrap();
    assert_eq!(collector.records().len(), FAST_EVENTS + 1);
}

#[test]
fn a_stalled_request_does_not_hold_up_other_tasks_in_a_runtime() {
    // Inside a runtime every request goes through the shared delivery
    // thread: the held one must not block it. The slow call runs as a task
    // on a worker; the fast calls on another thread that has entered the
    // runtime's context.
    let collector =
        Collector::start_with(Behaviour::HoldIfBodyContains(SLOW_MARKER.into())).unwrap();
    let telemetry = isolation_client(&collector);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let slow = runtime.spawn({
        let telemetry = telemetry.clone();
        async move { record_slow(&telemetry) }
    });
    let handle = runtime.handle().clone();
    assert_fast_events_pass_the_held_one(&collector, &telemetry, Some(handle), || {
        slow.is_finished()
    });
    runtime.block_on(slow).unwrap();
    assert_eq!(collector.records().len(), FAST_EVENTS + 1);
}

// ---------------------------------------------------------------------------
// Tracked functions under faults: results and panics pass through unchanged.

#[derive(Debug, PartialEq)]
struct ToolError(&'static str);

#[tracked_tool]
fn divide(a: u32, b: u32) -> Result<u32, ToolError> {
    a.checked_div(b).ok_or(ToolError("division by zero"))
}

#[tracked_command]
fn explode(message: &'static str) -> u32 {
    std::panic::panic_any(message)
}

#[tracked_tool]
async fn fetch(n: u32) -> Option<u32> {
    tokio::task::yield_now().await;
    n.checked_sub(1)
}

/// Every fault, then a tracked function's return value, error and panic.
#[test]
fn tracked_functions_are_unchanged_under_every_fault() {
    let behaviours = [
        Some(Behaviour::Blackhole),
        Some(Behaviour::Delay(Duration::from_secs(5))),
        Some(Behaviour::Status(500)),
        Some(Behaviour::Reset),
        Some(Behaviour::Garbage),
        Some(Behaviour::StallAfterHead),
        Some(Behaviour::CloseAfterAnswer),
        None, // refused
    ];
    for behaviour in behaviours {
        let what = format!("{behaviour:?}");
        let collector = behaviour.clone().map(|b| Collector::start_with(b).unwrap());
        let endpoint = match &collector {
            Some(collector) => collector.url(),
            None => format!("http://{}/v1/events", refused_addr()),
        };
        let Client { telemetry, .. } = client(&endpoint);
        telemetry.scope(|| {
            let started = Instant::now();
            assert_eq!(divide(84, 2), Ok(42), "{what}");
            assert!(started.elapsed() < FIRST_EVENT_BOUND, "{what}");
            assert_eq!(divide(1, 0), Err(ToolError("division by zero")), "{what}");
            let panic = std::panic::catch_unwind(|| explode("boom")).expect_err("a panic");
            assert_eq!(panic.downcast_ref::<&str>(), Some(&"boom"), "{what}");
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = runtime
            .block_on(async { (fetch(3).await, fetch(0).await) }.with_telemetry(telemetry.clone()));
        assert_eq!(got, (Some(2), None), "{what}");
    }
}

// Regression: a collector that reads a request and then closes the
// connection without answering received the same `event_id` twice, because
// the HTTP sink resent every request that failed mid-way, on a fresh
// connection too. A request that may have been read is never sent again.

#[test]
fn a_server_closing_after_reading_the_body_gets_each_event_once() {
    for driver in DRIVERS {
        let collector = Collector::start_with(Behaviour::CloseAfterReading).unwrap();
        let telemetry = Telemetry::isolated("duplicate-test", "1.0.0")
            .endpoint(collector.url())
            .timeout(Duration::from_secs(5))
            .build();
        driver.run(|| telemetry.track_command("first", Vec::<String>::new()));
        let requests = collector.requests();
        assert_eq!(
            requests.len(),
            1,
            "{driver:?}: sent again after it was read"
        );
        assert_eq!(collector.records().len(), 1, "{driver:?}");
    }
}
