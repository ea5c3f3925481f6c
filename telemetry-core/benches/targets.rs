//! Targets 3 to 7, measured whole and printed as a table: what does not fit
//! a statistical micro-benchmark (whole processes, a timeout, memory over a
//! million calls, throughput across threads).
//!
//! ```text
//! cargo bench -p telemetry-core --bench targets            # all
//! cargo bench -p telemetry-core --bench targets -- 4 7     # some
//! TARGETS_MEMORY_CALLS=100000 cargo bench -p telemetry-core --bench targets -- 6
//! ```
//!
//! Every figure compares two things measured side by side in this run, on
//! this machine, against collectors on 127.0.0.1. Each part is bounded in
//! calls and time and stops by itself. Without `--bench` (as under
//! `cargo test --benches`) it only says how to run it.
// A harness: it reads its own control variables, never a client's
// environment (that goes through the builder).
#![allow(clippy::disallowed_methods)]

mod support;

use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use support::{
    http_client, median, tool_event_body, tracked, vm_rss_kib, RawHttp, ReqwestAsync,
    ReqwestBlocking,
};
use telemetry_core::{Telemetry, DEFAULT_TIMEOUT};
use telemetry_test_support::collector::{Behaviour, Collector};

/// Set in the environment of the stand-in CLI that target 4 starts.
const CHILD_VAR: &str = "TELEMETRY_TARGETS_CHILD";

fn main() {
    if std::env::var_os(CHILD_VAR).is_some() {
        stand_in_agent();
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|arg| arg == "--bench") {
        println!("targets: run with `cargo bench -p telemetry-core --bench targets`");
        return;
    }
    let wanted: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let known = ["3", "4", "5", "6", "7"];
    if wanted.iter().any(|arg| !known.contains(arg)) {
        println!("targets: nothing to run for {wanted:?} (known: {known:?})");
        return;
    }
    let run = |target: &str| wanted.is_empty() || wanted.contains(&target);

    let mut rows = Vec::new();
    if run("3") {
        rows.push(target_3_interleaved());
    }
    if run("4") {
        rows.push(target_4_cli_wall_time());
    }
    if run("5") {
        rows.push(target_5_offline());
    }
    if run("6") {
        rows.push(target_6_memory());
    }
    if run("7") {
        rows.push(target_7_throughput());
    }
    println!();
    println!("| target | measured | ratio / difference | goal | met? |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.target,
            row.measured,
            row.compared,
            row.goal,
            if row.met { "yes" } else { "no" }
        );
    }
}

struct Row {
    target: &'static str,
    measured: String,
    compared: String,
    goal: &'static str,
    met: bool,
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// One way of sending the same request.
type Sender<'a> = Box<dyn FnMut() + 'a>;

/// Target 3, cross-check of the divan benchmark `inline_http`: the senders
/// take turns one request at a time (in a rotating order), so that all see
/// the same load, however it changes during the run.
fn target_3_interleaved() -> Row {
    const CALLS: usize = 3_000;
    let collector = support::counting_collector();
    let telemetry = http_client(&collector.url(), None);
    let body = tool_event_body();

    let mut raw = RawHttp::connect(collector.addr(), &body);
    let reqwest_async = ReqwestAsync::new(&collector.url(), body.clone());
    let reqwest_blocking = ReqwestBlocking::new(&collector.url(), body);
    let mut senders: Vec<(&str, Sender)> = vec![
        ("raw TcpStream", Box::new(|| assert_eq!(raw.post(), 200))),
        (
            "reqwest async, block_on",
            Box::new(|| assert_eq!(reqwest_async.post(), 200)),
        ),
        (
            "reqwest::blocking",
            Box::new(|| assert_eq!(reqwest_blocking.post(), 200)),
        ),
        (
            "tracked call",
            Box::new(|| {
                telemetry.scope(|| tracked(7));
            }),
        ),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(CALLS); senders.len()];
    for _ in 0..200 {
        for (_, send) in &mut senders {
            send();
        }
    }
    for round in 0..CALLS {
        for turn in 0..senders.len() {
            let index = (round + turn) % senders.len();
            let start = Instant::now();
            (senders[index].1)();
            times[index].push(start.elapsed());
        }
    }
    let names: Vec<&str> = senders.iter().map(|(name, _)| *name).collect();
    drop(senders);
    assert_eq!(collector.records_received(), 4 * (200 + CALLS));
    let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
    let raw_median = medians[0];
    println!("3  inline HTTP, {CALLS} requests each, interleaved (median, p10, ratio to raw):");
    for ((name, median), times) in names.iter().zip(&medians).zip(&times) {
        println!(
            "     {name:<24} {:>7.1} µs  {:>7.1} µs  {:.2}x",
            micros(*median),
            micros(times[times.len() / 10]),
            median.as_secs_f64() / raw_median.as_secs_f64()
        );
    }
    let ratio = medians[3].as_secs_f64() / raw_median.as_secs_f64();
    let floor = medians[1].as_secs_f64() / raw_median.as_secs_f64();
    Row {
        target: "3 inline HTTP vs raw TcpStream (interleaved)",
        measured: format!(
            "{:.1} µs vs {:.1} µs (reqwest alone {:.1} µs = {floor:.2}x)",
            micros(medians[3]),
            micros(raw_median),
            micros(medians[1])
        ),
        compared: format!("{ratio:.2}x"),
        goal: "≤ 1.25x",
        met: ratio <= 1.25,
    }
}

/// The stand-in for `agent version`: built like the example CLI (endpoint
/// from `TELEMETRY_ENDPOINT`, opt-out from the environment), one tracked
/// command, a line on stdout, exit. Last, it copies its own scheduler
/// figures to stderr (`/proc/self/schedstat`: ns on a CPU, ns waiting for
/// one), for the report to split wall time into work and waiting.
fn stand_in_agent() {
    let telemetry = Telemetry::builder("agent", "1.0.0")
        .endpoint("http://127.0.0.1:9/v1/events")
        .build();
    telemetry_core::set_global(telemetry);
    if version().is_err() {
        std::process::exit(1);
    }
    if let Ok(schedstat) = std::fs::read_to_string("/proc/self/schedstat") {
        eprint!("{schedstat}");
    }
}

/// The CLI's `version` command.
#[telemetry_core::tracked_command]
fn version() -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout(), "agent 1.0.0")
}

/// One run of the CLI: its wall time and, for the stand-in, its CPU time
/// and its time spent waiting for a CPU.
struct CliRun {
    wall: Duration,
    cpu: Option<Duration>,
    waiting: Option<Duration>,
}

/// Target 4: whole-process wall time of the CLI with telemetry on (to a
/// loopback collector) minus the same with `TELEMETRY_ENABLED=false`.
///
/// The CLI is this binary run as a stand-in for the example `agent`
/// (see [`stand_in_agent`]); `TARGETS_AGENT=/path/to/agent` times that
/// binary's `version` instead.
fn target_4_cli_wall_time() -> Row {
    const RUNS: usize = 51;
    let collector = support::counting_collector();
    let config = std::env::temp_dir().join(format!("telemetry-targets-{}", std::process::id()));
    let agent = std::env::var_os("TARGETS_AGENT");
    let exe = std::env::current_exe().expect("the bench binary's path");
    let run = |on: bool| -> CliRun {
        let mut command = match &agent {
            Some(agent) => {
                let mut command = Command::new(agent);
                command.arg("version");
                command
            }
            None => {
                let mut command = Command::new(&exe);
                command.env(CHILD_VAR, "1");
                command
            }
        };
        command
            .env("XDG_CONFIG_HOME", &config)
            .env("HOME", &config)
            .env("TELEMETRY_ENDPOINT", collector.url())
            .env("TELEMETRY_ENABLED", if on { "true" } else { "false" })
            .env_remove("DO_NOT_TRACK")
            .env_remove("TELEMETRY_TAGS")
            .env_remove("TELEMETRY_HIDE_BANNER")
            .env_remove("CI")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let output = command.output().expect("the CLI runs");
        let wall = start.elapsed();
        assert!(output.status.success(), "the CLI failed: {}", output.status);
        let schedstat: Vec<u64> = String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|field| field.parse().ok())
            .collect();
        let field = |index: usize| {
            (agent.is_none() && schedstat.len() == 3)
                .then(|| Duration::from_nanos(schedstat[index]))
        };
        CliRun {
            wall,
            cpu: field(0),
            waiting: field(1),
        }
    };
    // The first run with telemetry on shows the notice and sends nothing;
    // the next ones send. Two warm-up runs each.
    for _ in 0..2 {
        run(true);
        run(false);
    }
    let sent_before = collector.records_received();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for index in 0..RUNS {
        // Alternate which goes first, so that drift hits both alike.
        if index % 2 == 0 {
            on.push(run(true));
            off.push(run(false));
        } else {
            off.push(run(false));
            on.push(run(true));
        }
    }
    let _ = std::fs::remove_dir_all(&config);
    assert_eq!(
        collector.records_received() - sent_before,
        RUNS,
        "each run with telemetry on should have delivered its command event"
    );
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    let median_of = |runs: &[CliRun], pick: fn(&CliRun) -> Option<Duration>| {
        let mut values: Option<Vec<Duration>> = runs.iter().map(pick).collect();
        values.as_mut().map(|values| median(values))
    };
    let (on_wall, off_wall) = (
        median_of(&on, |run| Some(run.wall)).unwrap_or_default(),
        median_of(&off, |run| Some(run.wall)).unwrap_or_default(),
    );
    let difference = ms(on_wall) - ms(off_wall);
    let mut paired: Vec<f64> = on
        .iter()
        .zip(&off)
        .map(|(on, off)| ms(on.wall) - ms(off.wall))
        .collect();
    paired.sort_by(f64::total_cmp);
    let what = if agent.is_some() {
        "agent version"
    } else {
        "stand-in CLI"
    };
    println!(
        "4  {what}, median of {RUNS} runs each: wall on {:.2} ms, off {:.2} ms: {difference:+.2} ms (median paired difference {:+.2} ms)",
        ms(on_wall),
        ms(off_wall),
        paired[RUNS / 2],
    );
    if let (Some(on_cpu), Some(off_cpu), Some(on_wait), Some(off_wait)) = (
        median_of(&on, |run| run.cpu),
        median_of(&off, |run| run.cpu),
        median_of(&on, |run| run.waiting),
        median_of(&off, |run| run.waiting),
    ) {
        println!(
            "   the CLI's main thread: on a CPU {:.2} vs {:.2} ms ({:+.2} ms), waiting for one {:.2} vs {:.2} ms",
            ms(on_cpu),
            ms(off_cpu),
            ms(on_cpu) - ms(off_cpu),
            ms(on_wait),
            ms(off_wait),
        );
    }
    Row {
        target: "4 CLI `version`, on minus off",
        measured: format!("{:.2} ms vs {:.2} ms ({what})", ms(on_wall), ms(off_wall)),
        compared: format!("{difference:+.2} ms"),
        goal: "≤ 1 ms",
        met: difference <= 1.0,
    }
}

/// Target 5: 1,000 tracked calls against a collector that accepts and never
/// answers, with the default timeout.
fn target_5_offline() -> Row {
    const CALLS: usize = 1_000;
    let collector =
        Collector::start_with(Behaviour::Blackhole).expect("a loopback collector starts");
    let telemetry = http_client(&collector.url(), None);
    let start = Instant::now();
    telemetry.scope(|| {
        for _ in 0..CALLS {
            tracked(7);
        }
    });
    let total = start.elapsed();
    let budget = DEFAULT_TIMEOUT + Duration::from_millis(50);
    let over = total.as_secs_f64() - DEFAULT_TIMEOUT.as_secs_f64();
    println!(
        "5  offline: {CALLS} tracked calls against a blackhole took {:.3} s (timeout {:.1} s, {} connection(s))",
        total.as_secs_f64(),
        DEFAULT_TIMEOUT.as_secs_f64(),
        collector.connections()
    );
    Row {
        target: "5 offline, 1,000 calls to a blackhole",
        measured: format!("{:.3} s", total.as_secs_f64()),
        compared: format!("timeout {over:+.3} s"),
        goal: "≤ timeout + 50 ms",
        met: total <= budget,
    }
}

/// Target 6: RSS growth over 1,000,000 tracked calls delivered over HTTP.
fn target_6_memory() -> Row {
    const WARM_UP: usize = 20_000;
    let calls: usize = std::env::var("TARGETS_MEMORY_CALLS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let collector = support::counting_collector();
    let telemetry = http_client(&collector.url(), None);
    let rss = || vm_rss_kib().expect("VmRSS in /proc/self/status");
    let (before, after, peak, elapsed) = telemetry.scope(|| {
        for _ in 0..WARM_UP {
            tracked(7);
        }
        let before = rss();
        let mut peak = before;
        let start = Instant::now();
        for index in 1..=calls {
            tracked(7);
            if index % 100_000 == 0 {
                let now = rss();
                peak = peak.max(now);
                println!(
                    "6  ... {index} calls, RSS {now} KiB ({:+} KiB)",
                    i128::from(now) - i128::from(before)
                );
            }
        }
        (before, rss(), peak, start.elapsed())
    });
    assert_eq!(collector.records_received(), WARM_UP + calls);
    let growth = i128::from(after) - i128::from(before);
    println!(
        "6  memory: {calls} tracked calls over HTTP in {:.0} s: RSS {before} KiB -> {after} KiB ({growth:+} KiB, peak {peak} KiB)",
        elapsed.as_secs_f64()
    );
    Row {
        target: "6 RSS growth over 1,000,000 calls over HTTP",
        measured: format!("{before} KiB -> {after} KiB ({calls} calls)"),
        compared: format!("{growth:+} KiB"),
        goal: "< 2 MiB",
        met: growth < 2048,
    }
}

/// Events per second with `threads` threads recording with `telemetry`
/// (over HTTP: each thread on its own warm connection).
fn throughput(telemetry: &Telemetry, threads: usize, calls_per_thread: usize) -> f64 {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let telemetry = telemetry.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                telemetry.scope(|| {
                    for _ in 0..100 {
                        tracked(7);
                    }
                    barrier.wait();
                    for _ in 0..calls_per_thread {
                        tracked(7);
                    }
                    barrier.wait();
                });
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    barrier.wait();
    let elapsed = start.elapsed();
    for worker in workers {
        worker.join().expect("a sending thread");
    }
    (threads * calls_per_thread) as f64 / elapsed.as_secs_f64()
}

/// How much faster 4 threads compute than 1 on this machine at this moment
/// (median of 3 rounds): the ceiling for any 4-vs-1 figure.
fn cpu_scaling() -> f64 {
    fn compute(steps: u64) -> u64 {
        let mut x = 1_u64;
        for step in 0..steps {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(step);
        }
        x
    }
    const STEPS: u64 = 200_000_000;
    let mut ratios: Vec<f64> = (0..3)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(compute(std::hint::black_box(STEPS)));
            let one = start.elapsed();
            let start = Instant::now();
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    std::thread::spawn(|| {
                        std::hint::black_box(compute(std::hint::black_box(STEPS / 4)))
                    })
                })
                .collect();
            for worker in workers {
                worker.join().expect("a computing thread");
            }
            one.as_secs_f64() / start.elapsed().as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[1]
}

/// Medians of events per second with 1 and with 4 threads, in alternating
/// rounds.
fn one_and_four_threads(telemetry: &Telemetry, events: usize, rounds: usize) -> (f64, f64) {
    let (mut one, mut four) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(throughput(telemetry, 1, events));
        four.push(throughput(telemetry, 4, events / 4));
    }
    one.sort_by(f64::total_cmp);
    four.sort_by(f64::total_cmp);
    (one[rounds / 2], four[rounds / 2])
}

/// Target 7: 4 threads sending inline reach at least 1.5x the events per
/// second of 1 thread.
fn target_7_throughput() -> Row {
    const EVENTS: usize = 20_000;
    const ROUNDS: usize = 3;
    let collector = support::counting_collector();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let ceiling = cpu_scaling();
    println!(
        "7  this machine right now: pure computation on 4 threads runs {ceiling:.2}x as fast as on 1 ({cores} cores, shared with whatever else runs)"
    );
    let telemetry = http_client(&collector.url(), None);
    let (one, four) = one_and_four_threads(&telemetry, EVENTS, ROUNDS);
    let ratio = four / one;
    println!(
        "   throughput over HTTP, median of {ROUNDS} rounds of {EVENTS} events: 1 thread {one:.0}/s, 4 threads {four:.0}/s: {ratio:.2}x ({cores} cores; the collector shares them)"
    );
    // The same with a sink that discards: how the recorder alone scales,
    // with no socket and no collector in the way.
    let discarding = support::client_with_sink(support::Discard);
    let (alone_one, alone_four) = one_and_four_threads(&discarding, 100 * EVENTS, ROUNDS);
    println!(
        "   recorder alone (sink that discards), {} events: 1 thread {alone_one:.0}/s, 4 threads {alone_four:.0}/s: {:.2}x",
        100 * EVENTS,
        alone_four / alone_one
    );
    Row {
        target: "7 throughput, 4 threads vs 1",
        measured: format!("{four:.0}/s vs {one:.0}/s (pure computation: {ceiling:.2}x)"),
        compared: format!("{ratio:.2}x"),
        goal: "≥ 1.5x",
        met: ratio >= 1.5,
    }
}
