//! The spool never in the app's way, seen from outside: a small app on the
//! public API (`child_app` below, this test executable run again as a child
//! process) under a descriptor limit, a file-size limit, thousands of
//! leftover files, a 300,000-record backlog, a killed compaction's `.tmp`
//! and an opt-out by another run. Time and memory are read from the
//! toolkit's own debug-log account and `ru_maxrss`, never from the clock.
//!
//! The child reads commands on stdin, one a line, and answers on stdout
//! with lines that start `child: `:
//!
//! - `record <tool> <n>`: records `n` tool calls named `<tool>`;
//! - `open <n>`: opens `/dev/null` `n` times and keeps the files (the app's
//!   own descriptors), answering `opened <ok>/<n>`;
//! - `exit` (or the end of stdin): drops the flush guard, then answers
//!   `maxrss_kb <n>`.
//!
//! Each command is answered with `ok` once done.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;
use telemetry_core::{Delivery, Outcome, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::json::now_ms;
use telemetry_test_support::net::refused_endpoint;
use telemetry_test_support::records::{assert_each_once, event_ids, strings};
use telemetry_test_support::spool;
use telemetry_test_support::TempDir;

const CHILD: &str = "spool_limits::child_app";
const CHILD_DIR: &str = "SPOOL_CHILD_CONFIG_DIR";
const CHILD_ENDPOINT: &str = "SPOOL_CHILD_ENDPOINT";
const CHILD_DEBUG: &str = "SPOOL_CHILD_DEBUG";
const CHILD_ENABLED: &str = "SPOOL_CHILD_ENABLED";
const CHILD_BUDGET_MS: &str = "SPOOL_CHILD_BUDGET_MS";
/// The app's name, and so the variable prefix its client reads.
const APP: &str = "spooltest";
const LONG: Duration = Duration::from_secs(60);

/// A small app on the public API; run as a child by the tests below.
#[test]
#[ignore = "a child process of the tests in spool_limits"]
fn child_app() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let var = |name: &str| std::env::var(name).ok();
    let budget = Duration::from_millis(
        var(CHILD_BUDGET_MS)
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(1_000),
    );
    // Only the variables the test gives: the test run's own (CI, ...) do
    // not change what the app does.
    let env: Vec<(String, String)> = var(CHILD_ENABLED)
        .map(|value| vec![("SPOOLTEST_TELEMETRY_ENABLED".to_owned(), value)])
        .unwrap_or_default();
    let mut builder = Telemetry::builder(APP, "1.0.0")
        .endpoint(var(CHILD_ENDPOINT).unwrap_or_else(refused_endpoint))
        .config_dir(PathBuf::from(dir))
        .delivery(Delivery::Background)
        .notice(false)
        .exit_budget(budget)
        .env_vars(env);
    match var(CHILD_DEBUG).as_deref() {
        None => {}
        Some("stderr") => builder = builder.debug(true),
        Some(path) => builder = builder.debug(true).debug_file(path),
    }
    let telemetry = builder.build();
    let guard = telemetry.flush_guard();
    let mut opened = Vec::new();
    let say = |line: &str| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "child: {line}");
        let _ = out.flush();
    };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["record", tool, n] => {
                for _ in 0..n.parse::<usize>().unwrap_or(0) {
                    telemetry.record_tool_call(
                        tool.to_owned(),
                        "session",
                        "agent",
                        Duration::from_millis(1),
                        Outcome::Success,
                    );
                }
            }
            ["open", n] => {
                let n: usize = n.parse().unwrap_or(0);
                for _ in 0..n {
                    if let Ok(file) = std::fs::File::open("/dev/null") {
                        opened.push(file);
                    }
                }
                say(&format!("opened {}/{n}", opened.len()));
            }
            ["exit"] => break,
            _ => {}
        }
        say("ok");
    }
    drop(guard);
    say(&format!("maxrss_kb {}", maxrss_kb()));
}

fn maxrss_kb() -> i64 {
    // SAFETY: an all-zero `rusage` is a valid value of the C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `getrusage` fills a `rusage` we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}

/// What a child is started with.
#[derive(Default, Clone)]
struct Run {
    endpoint: Option<String>,
    debug: Option<String>,
    enabled: Option<&'static str>,
    budget_ms: Option<u64>,
    nofile: Option<u64>,
    fsize: Option<u64>,
}

impl Run {
    /// A run that sends to `collector`.
    fn to(collector: &Collector) -> Run {
        Run {
            endpoint: Some(collector.url()),
            ..Run::default()
        }
    }

    /// A run that sends to `collector` and writes its debug log to `log`.
    fn logged(collector: &Collector, log: &Path) -> Run {
        Run {
            debug: Some(log.to_str().expect("a UTF-8 temp path").to_owned()),
            ..Run::to(collector)
        }
    }
}

/// A running child app.
struct App {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Read as it comes, so that a full pipe never blocks the child.
    stderr: std::thread::JoinHandle<String>,
    lines: Vec<String>,
}

impl App {
    fn start(config_dir: &Path, run: &Run) -> App {
        let mut command = Command::new(std::env::current_exe().expect("the test executable"));
        command
            .args([
                "--exact",
                CHILD,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_clear()
            .env(CHILD_DIR, config_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(endpoint) = &run.endpoint {
            command.env(CHILD_ENDPOINT, endpoint);
        }
        if let Some(debug) = &run.debug {
            command.env(CHILD_DEBUG, debug);
        }
        if let Some(enabled) = run.enabled {
            command.env(CHILD_ENABLED, enabled);
        }
        if let Some(ms) = run.budget_ms {
            command.env(CHILD_BUDGET_MS, ms.to_string());
        }
        limit(&mut command, libc::RLIMIT_NOFILE, run.nofile);
        limit(&mut command, libc::RLIMIT_FSIZE, run.fsize);
        let mut child = command.spawn().expect("the child app starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let mut err = child.stderr.take().expect("its stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut err, &mut text);
            text
        });
        App {
            child,
            stdin,
            stdout,
            stderr,
            lines: Vec::new(),
        }
    }

    /// Sends one command and waits for its `ok`.
    fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("the child reads its stdin");
        stdin.flush().expect("flushed");
        self.read_until("ok");
    }

    fn read_until(&mut self, answer: &str) {
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).expect("child stdout");
            assert!(read > 0, "the child ended early: {:?}", self.lines);
            if let Some(said) = said(&line) {
                self.lines.push(said.to_owned());
                if said == answer {
                    return;
                }
            }
        }
    }

    /// Says `exit`, waits for the child, and returns what it said and its
    /// stderr; panics unless it exited successfully.
    fn finish(mut self) -> Ended {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "exit");
        }
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut rest);
        for line in rest.lines() {
            if let Some(said) = said(line) {
                self.lines.push(said.to_owned());
            }
        }
        let status = self.child.wait().expect("the child ends");
        let stderr = self.stderr.join().expect("stderr read");
        assert!(
            status.success(),
            "the app was ended by {status:?} (a signal?): {:?}\n{stderr}",
            self.lines
        );
        Ended {
            said: self.lines,
            stderr,
        }
    }
}

/// What the child said on a line of its stdout (the test harness may have
/// started the line with its own `test ... `).
fn said(line: &str) -> Option<&str> {
    line.find("child: ")
        .map(|at| line[at + "child: ".len()..].trim())
}

/// What an ended child said.
struct Ended {
    said: Vec<String>,
    stderr: String,
}

impl Ended {
    fn maxrss_kb(&self) -> i64 {
        self.said
            .iter()
            .find_map(|line| line.strip_prefix("maxrss_kb "))
            .and_then(|n| n.parse().ok())
            .expect("the child says its maxrss")
    }
}

/// Sets a resource limit (soft and hard) in the child before it runs.
fn limit(command: &mut Command, resource: libc::__rlimit_resource_t, value: Option<u64>) {
    use std::os::unix::process::CommandExt;
    let Some(value) = value else { return };
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: only `setrlimit`, async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(resource, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// Runs a child with these commands (then `exit`) and waits for it.
fn run_app(config_dir: &Path, run: &Run, commands: &[&str]) -> Ended {
    let mut app = App::start(config_dir, run);
    for command in commands {
        app.command(command);
    }
    app.finish()
}

/// The flush account of a debug log: the last `flush:` line's numbers.
#[derive(Debug, Default)]
struct Account {
    flush_wait_ms: u64,
    flush_budget_ms: u64,
    leftover_wait_ms: u64,
    leftover_share_ms: u64,
    peak_open_files: usize,
    line: String,
}

fn account(log: &str) -> Account {
    let line = log
        .lines()
        .rev()
        .find(|line| line.contains("] flush: waited "))
        .unwrap_or_else(|| panic!("no flush account in the debug log:\n{log}"));
    // Its numbers in order: waited, budget, own left, leftovers sent, left,
    // merged, removed, waited for, share, claim time, files open at once.
    let head = line.split("; dropped so far").next().unwrap_or(line);
    let numbers: Vec<u64> = head
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 11, "{line}");
    Account {
        flush_wait_ms: numbers[0],
        flush_budget_ms: numbers[1],
        leftover_wait_ms: numbers[7],
        leftover_share_ms: numbers[8],
        peak_open_files: usize::try_from(numbers[10]).unwrap_or(usize::MAX),
        line: line.to_owned(),
    }
}

fn tool_names(records: &[serde_json::Value]) -> Vec<String> {
    strings(records, "tool_name")
}

fn spool_files(config_dir: &Path) -> Vec<PathBuf> {
    spool::files(config_dir)
}

fn temp_files(config_dir: &Path) -> Vec<String> {
    telemetry_test_support::fs::entries(config_dir)
        .into_iter()
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

/// Writes a leftover spool file of `records` records named `<tool>-<n>`, as
/// an earlier run that ended offline leaves it; `order` sorts it among the
/// others (later is newer).
fn leftover_file(config_dir: &Path, order: u64, tool: &str, records: usize) -> Vec<String> {
    let now = now_ms();
    let ids: Vec<String> = (0..records)
        .map(|n| format!("{tool}-{order:08}-{n:06}-0000-0000-000000000000"))
        .collect();
    let lines: Vec<String> = ids
        .iter()
        .map(|id| format!(
            r#"{{"event":"tool","event_timestamp":{now},"source":"{APP}","properties":{{"action":"call","tool_name":"{tool}","session_id":"6f1d2c3a-8b4e-4f7a-9c2d-1e5f6a7b8c9d","agent_name":"root","duration_ms":12,"is_success":true,"user_uuid":"0b7e3f52-4c1a-4d8e-9f6b-2a3c4d5e6f70","version":"1.0.0","os":"linux","os_language":"","arch":"x86_64","ci":false,"schema_version":1,"event_id":"{id}"}}}}"#
        ))
        .collect();
    spool::write_leftover(config_dir, order, &lines);
    ids
}

fn config_dir(root: &TempDir) -> PathBuf {
    root.join("config").join(APP)
}

/// Finding 1: 1,100 leftover files (what 1,100 runs of an earlier version,
/// or killed ones, left). A run under `ulimit -n 256` holds at most 8 spool
/// files at once, its own 200 opens succeed, it sends its own records, and
/// the backlog drains over later runs with no record twice.
#[test]
fn a_thousand_leftover_files_cost_a_run_under_ulimit_n_256_no_descriptor() {
    let root = TempDir::new("spool-nofile");
    let dir = config_dir(&root);
    let mut backlog = Vec::new();
    for order in 0..1_100u64 {
        backlog.extend(leftover_file(&dir, 1_000 + order, "left", 1));
    }
    under_ulimit_n_256_then_drained(&root, &dir, &backlog, 40);
}

/// Finding 1 as the issue measured it: 1,100 ordinary offline runs (8
/// records each, four at a time), then a run under `ulimit -n 256`, then
/// the backlog drains over later runs with no record twice.
#[test]
#[ignore = "heavy (1,100 runs): run by .ci/run"]
fn after_1100_offline_runs_a_run_under_ulimit_n_256_holds_few_descriptors() {
    let root = TempDir::new("spool-offline-runs");
    let dir = config_dir(&root);
    let mut most_files = 0;
    for wave in 0..275 {
        let apps: Vec<App> = (0..4)
            .map(|_| {
                let mut app = App::start(&dir, &Run::default());
                app.command(&format!("record offline{wave} 8"));
                app
            })
            .collect();
        for app in apps {
            app.finish();
        }
        most_files = most_files.max(spool_files(&dir).len());
    }
    let backlog = spool::pending_ids(&dir);
    eprintln!(
        "1,100 offline runs: at most {most_files} spool files at once, {} left holding {} records",
        spool_files(&dir).len(),
        backlog.len()
    );
    assert!(most_files <= 16, "{most_files} files");
    assert!(backlog.len() <= 10_000);
    under_ulimit_n_256_then_drained(&root, &dir, &backlog, 150);
}

fn under_ulimit_n_256_then_drained(root: &TempDir, dir: &Path, backlog: &[String], runs: usize) {
    let collector = Collector::start().unwrap();
    let log = root.join("debug.log");
    let run = Run {
        nofile: Some(256),
        ..Run::logged(&collector, &log)
    };
    let ended = run_app(dir, &run, &["record own 8", "open 200"]);
    assert!(
        ended.said.contains(&"opened 200/200".to_owned()),
        "{:?}",
        ended.said
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let first = account(&text);
    assert!(first.peak_open_files <= 8, "{}", first.line);
    let records = collector.records();
    assert_eq!(
        tool_names(&records)[..8],
        ["own"; 8],
        "its own records first\n{text}"
    );
    let files_after = spool_files(dir).len();
    eprintln!(
        "ulimit -n 256: {}; {files_after} spool files left",
        first.line
    );
    // Later runs drain the backlog, each record once.
    let mut later_runs = 0;
    for later in 0..runs {
        if spool_files(dir).is_empty() {
            break;
        }
        let run = Run::to(&collector);
        run_app(dir, &run, &[&format!("record later{later} 1")]);
        later_runs += 1;
    }
    assert!(spool_files(dir).is_empty(), "drained");
    eprintln!("drained by {later_runs} later runs");
    let records = collector.records();
    assert_each_once(&records);
    let received: HashSet<String> = event_ids(&records).into_iter().collect();
    for id in backlog {
        assert!(received.contains(id), "{id} never arrived");
    }
}

/// Finding 2: under `ulimit -f 64` (KiB) no run is killed by `SIGXFSZ`,
/// whatever it records (900 KB of records) and with the debug file on;
/// no spool file or debug file passes the limit, and what did not fit is
/// counted as `file_size_limit`.
#[test]
fn a_file_size_limit_kills_no_run() {
    let root = TempDir::new("spool-fsize");
    let dir = config_dir(&root);
    let limit = 64 * 1024;
    let log = root.join("debug.log");
    for run_index in 0..3 {
        let run = Run {
            debug: Some(log.to_str().unwrap().to_owned()),
            fsize: Some(limit),
            ..Run::default()
        };
        run_app(&dir, &run, &[&format!("record offline{run_index} 2000")]);
        for path in spool_files(&dir) {
            let len = std::fs::metadata(&path).unwrap().len();
            assert!(len <= limit, "a spool file of {len} bytes");
        }
        let len = std::fs::metadata(&log).unwrap().len();
        assert!(len <= limit, "the debug file has {len} bytes");
    }
    // With the log on stderr (a pipe, no limit), the account says why
    // records were dropped.
    let run = Run {
        debug: Some("stderr".into()),
        fsize: Some(limit),
        ..Run::default()
    };
    let ended = run_app(&dir, &run, &["record offline 2000"]);
    assert!(
        ended.stderr.contains("file_size_limit="),
        "{}",
        ended.stderr
    );
    // Online and without the limit, what was kept arrives once.
    let collector = Collector::start().unwrap();
    let run = Run::to(&collector);
    for _ in 0..10 {
        run_app(&dir, &run, &["record online 1"]);
        if spool_files(&dir).is_empty() {
            break;
        }
    }
    let records = collector.records();
    assert!(records.len() > 10, "leftovers arrived: {}", records.len());
    assert_each_once(&records);
}

/// Finding 3: 30 full leftover files (300,000 records, what 30 processes
/// offline at once leave). A short run sends its own records, spends no
/// more than its exit budget (its leftovers no more than a quarter of it),
/// peaks within 32 MB of the same run without leftovers, and the file
/// count does not grow.
#[test]
#[ignore = "heavy (a 300,000-record backlog, 120 MB on disk): run by .ci/run"]
fn thirty_full_leftover_files_cost_a_short_run_a_quarter_of_its_budget() {
    let root = TempDir::new("spool-backlog");
    let dir = config_dir(&root);
    let collector = Collector::builder().retain(true).start().unwrap();
    // The same run without leftovers: the app's own memory.
    let empty_root = TempDir::new("spool-no-backlog");
    let run = Run::to(&collector);
    let baseline = run_app(&config_dir(&empty_root), &run, &["record own 8"]).maxrss_kb();
    for order in 0..30u64 {
        leftover_file(&dir, 1_000 + order, "left", 10_000);
    }
    let files_before = spool_files(&dir).len();
    let log = root.join("debug.log");
    let run = Run {
        budget_ms: Some(1_000),
        ..Run::logged(&collector, &log)
    };
    let requests_before = collector.requests().len();
    let ended = run_app(&dir, &run, &["record heavy-own 8"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let account = account(&text);
    let records = collector.records();
    let own = tool_names(&records)
        .iter()
        .filter(|name| *name == "heavy-own")
        .count();
    assert_eq!(own, 8, "its own records were sent\n{text}");
    assert!(collector.requests().len() > requests_before);
    // Slack for a loaded machine: the account is the toolkit's own.
    assert!(
        account.flush_wait_ms <= account.flush_budget_ms + 100,
        "{}",
        account.line
    );
    assert_eq!(account.leftover_share_ms, account.flush_budget_ms / 4);
    assert!(
        account.leftover_wait_ms <= account.leftover_share_ms + 100,
        "{}",
        account.line
    );
    assert!(account.peak_open_files <= 8, "{}", account.line);
    let grew_kb = ended.maxrss_kb() - baseline;
    assert!(
        grew_kb <= 32 * 1024,
        "peak memory {grew_kb} KiB above the app's own\n{}",
        account.line
    );
    assert!(
        spool_files(&dir).len() <= files_before,
        "the file count grew\n{}",
        account.line
    );
    eprintln!(
        "30 full leftover files: {}; {} KiB above the app's own ({} KiB); {} spool files left of {files_before}",
        account.line,
        grew_kb,
        baseline,
        spool_files(&dir).len()
    );
}

/// Finding 4 (the spool's part): a `.tmp` left by a killed compaction is
/// removed by a later run; one a live process holds is not.
#[test]
fn a_stale_tmp_file_is_removed_by_a_later_run() {
    let root = TempDir::new("spool-tmp");
    let dir = config_dir(&root);
    std::fs::create_dir_all(&dir).unwrap();
    let stale = dir.join(".telemetry-spool-0123456789abcdef0123456789abcdef.tmp");
    std::fs::write(&stale, "{\"event\":\"tool\"}\n".repeat(1_000)).unwrap();
    // A live process's compaction: the file is locked.
    let live_path = dir.join(".telemetry-spool-fedcba9876543210fedcba9876543210.tmp");
    std::fs::write(&live_path, "half-written").unwrap();
    let live = std::fs::OpenOptions::new()
        .read(true)
        .open(&live_path)
        .unwrap();
    // SAFETY: flock on a descriptor we own.
    let locked = unsafe {
        libc::flock(
            std::os::unix::io::AsRawFd::as_raw_fd(&live),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    assert_eq!(locked, 0);
    run_app(&dir, &Run::default(), &["record offline 3"]);
    let temps = temp_files(&dir);
    assert!(!stale.exists(), "the stale .tmp is gone: {temps:?}");
    assert!(live_path.exists(), "the held one is kept");
    drop(live);
    run_app(&dir, &Run::default(), &["record offline 3"]);
    assert!(temp_files(&dir).is_empty());
}

/// Finding 7: a live background process whose spool another run deleted
/// (that run turned telemetry off) sends nothing more, not even what it
/// recorded before; and a later run that is on sends none of it either.
#[test]
fn a_live_process_opted_out_by_another_run_sends_nothing_more() {
    let root = TempDir::new("spool-opt-out");
    let dir = config_dir(&root);
    let collector =
        Collector::start_with(Behaviour::HoldIfBodyContains("\"first\"".into())).unwrap();
    let run = Run {
        debug: Some("stderr".into()),
        ..Run::to(&collector)
    };
    let mut live = App::start(&dir, &run);
    live.command("record first 1");
    // Its first batch is in flight (held); what follows waits in its spool.
    assert_eq!(collector.wait_for_held(1, LONG), 1);
    live.command("record before 50");
    assert_eq!(spool::pending(&dir).len(), 51);
    // Another run, with the app's variable off: it deletes the spool.
    let off = Run {
        enabled: Some("false"),
        ..Run::to(&collector)
    };
    run_app(&dir, &off, &[]);
    assert!(
        spool_files(&dir).is_empty(),
        "the opt-out deleted the spool"
    );
    collector.release_held();
    live.command("record after 5");
    let ended = live.finish();
    assert!(
        ended.stderr.contains("turned off by another run"),
        "{}",
        ended.stderr
    );
    collector.wait_for_records(1, LONG);
    assert_eq!(tool_names(&collector.records()), ["first"]);
    assert!(spool_files(&dir).is_empty(), "nothing spooled again");
    // A later run that is on sends its own only.
    run_app(&dir, &run, &["record later 2"]);
    assert_eq!(
        tool_names(&collector.records()),
        ["first", "later", "later"]
    );
}
