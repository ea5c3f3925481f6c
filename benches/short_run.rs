//! What a short run costs in each delivery mode: a whole release
//! `agent version` process, timed from outside, for telemetry off, log,
//! inline, background and deferred (inside its upload interval), beside
//! two floors, each a minimal Rust program that prints the same line and
//! makes one POST (and the same program without the POST): `raw_post`,
//! over a raw `TcpStream`, and `reqwest_post`, with reqwest driven as the
//! toolkit's HTTP sink drives it. The collector runs in its own process
//! (this bench re-run as one) on 127.0.0.1 and answers each request in one
//! write.
//!
//! The runs are interleaved: each round runs every variant once, and each
//! figure is the median, over the rounds, of the per-round difference
//! from that round's `off` run (for a floor: POST minus no POST), so a
//! load swing hits both sides of a difference alike. The toolkit's own
//! share of an inline run is the median of inline's difference minus the
//! reqwest floor's, round by round.
//!
//! ```text
//! cargo build --release --example agent --example raw_post --example reqwest_post
//! cargo bench --bench short_run            # 200 rounds
//! SHORT_RUN_ROUNDS=400 cargo bench --bench short_run
//! ```

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use support::{agent_command, agent_dirs, release_example, timed};
use telemetry_test_support::process::spawn_announcing;
use telemetry_test_support::TempDir;

/// Set in the collector's process.
const COLLECTOR_VAR: &str = "SHORT_RUN_COLLECTOR";
const DEFAULT_ROUNDS: usize = 200;

fn main() {
    if std::env::var_os(COLLECTOR_VAR).is_some() {
        collector();
        return;
    }
    let rounds = std::env::var("SHORT_RUN_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let collector = Collector::start();
    let url = format!("http://{}/v1/events", collector.addr);
    let line = agent_line();
    let mut variants = variants(&url, &line);
    // Warm up: page cache, the notice marker, and the deferred mode's
    // first (due) upload, so that the measured runs are inside the interval.
    for variant in &mut variants {
        for _ in 0..3 {
            variant.run();
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        // Rotate the order, so that no variant always runs first.
        let count = variants.len();
        for at in 0..count {
            let index = (at + round) % count;
            times[index].push(variants[index].run());
        }
    }
    let median_of = |deltas: Vec<f64>| {
        let mut deltas = deltas;
        deltas.sort_by(f64::total_cmp);
        deltas[deltas.len() / 2]
    };
    let off = &times[0];
    let off_median = median_of(off.clone());
    println!(
        "`agent version`, release, {rounds} interleaved rounds; collector in its own process \
         on 127.0.0.1 answering in one write; medians of per-round differences:"
    );
    println!("  {:<34} {:>8.2} ms (median wall time)", "off", off_median);
    let mut deltas: Vec<Vec<f64>> = Vec::with_capacity(variants.len());
    for (index, variant) in variants.iter().enumerate() {
        // A floor's POST is measured against the same program without it.
        let base = match variant.kind {
            Kind::FloorPost => &times[index - 1],
            Kind::Agent | Kind::FloorBase => off,
        };
        deltas.push(times[index].iter().zip(base).map(|(a, b)| a - b).collect());
        if index == 0 {
            continue;
        }
        let against = if variant.kind == Kind::FloorBase {
            " against off"
        } else {
            ""
        };
        println!(
            "  {:<38} {:>+8.2} ms{against}",
            variant.name,
            median_of(deltas[index].clone())
        );
    }
    let of = |name: &str| {
        let index = variants
            .iter()
            .position(|variant| variant.name.starts_with(name))
            .expect("a variant of that name");
        &deltas[index]
    };
    let toolkit_share = of("inline")
        .iter()
        .zip(of("reqwest POST"))
        .map(|(inline, reqwest)| inline - reqwest)
        .collect();
    println!(
        "  {:<38} {:>+8.2} ms (inline - reqwest POST, per round)",
        "the toolkit's share of inline",
        median_of(toolkit_share)
    );
    // Dropping the collector prints how many requests it answered.
    drop(collector);
}

/// What `agent version` prints.
fn agent_line() -> String {
    let output = Command::new(release_example("agent"))
        .arg("version")
        .env_clear()
        .output()
        .expect("cargo build --release --example agent --example raw_post --example reqwest_post");
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

/// One process to time, with its own config dir.
struct Variant {
    name: &'static str,
    kind: Kind,
    command: Command,
    _dir: Option<TempDir>,
}

/// What a variant's figure is measured against.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// An agent run: against `off`.
    Agent,
    /// A floor program without its POST: against `off`.
    FloorBase,
    /// A floor program's POST: against the variant before it, the same
    /// program without the POST.
    FloorPost,
}

impl Variant {
    /// Runs it once; its wall time in ms.
    fn run(&mut self) -> f64 {
        timed(&mut self.command).as_secs_f64() * 1000.0
    }
}

/// `off` first, then the agent's modes, then each floor program without
/// and with its POST.
fn variants(url: &str, line: &str) -> Vec<Variant> {
    let agent = |name: &'static str, args: &[&str], env: &[(&str, &str)]| {
        let dir = agent_dirs("short-run");
        let mut command = agent_command(&dir, url, args, env);
        command.arg("version");
        Variant {
            name,
            kind: Kind::Agent,
            command,
            _dir: Some(dir),
        }
    };
    let floor = |name: &'static str, program: &str, post: bool| {
        let mut command = Command::new(release_example(program));
        command.arg(line);
        if post {
            command.arg(url);
        }
        command
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Variant {
            name,
            kind: if post {
                Kind::FloorPost
            } else {
                Kind::FloorBase
            },
            command,
            _dir: None,
        }
    };
    vec![
        agent("off", &[], &[("TELEMETRY_ENABLED", "false")]),
        agent(
            "log (records printed)",
            &[],
            &[("TELEMETRY_ENABLED", "log")],
        ),
        agent("inline", &["--delivery", "inline"], &[]),
        agent("background", &["--delivery", "background"], &[]),
        agent(
            "deferred (inside the interval)",
            &["--delivery", "deferred"],
            &[],
        ),
        floor("raw, no POST (floor program)", "raw_post", false),
        floor("raw POST (floor: POST - no POST)", "raw_post", true),
        floor("reqwest, no POST (floor program)", "reqwest_post", false),
        floor("reqwest POST (POST - no POST)", "reqwest_post", true),
    ]
}

/// The collector's process, seen from the bench.
struct Collector {
    child: Child,
    addr: String,
}

impl Collector {
    /// This bench re-run as the collector; it prints its address.
    fn start() -> Collector {
        let mut command = Command::new(std::env::current_exe().expect("this bench"));
        command.env(COLLECTOR_VAR, "1").stdin(Stdio::piped());
        let (child, addr) = spawn_announcing(command);
        Collector { child, addr }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // Closing its stdin ends it.
        drop(self.child.stdin.take());
        let mut rest = String::new();
        if let Some(stdout) = self.child.stdout.as_mut() {
            let _ = stdout.read_to_string(&mut rest);
        }
        print!("{rest}");
        let _ = self.child.wait();
    }
}

/// The collector: a thread per connection, keep-alive, each request
/// answered 200 in one write. Ends when its stdin closes.
fn collector() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    println!("{}", listener.local_addr().expect("its address"));
    let _ = std::io::stdout().flush();
    let answered = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&answered);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve(stream, &counter));
        }
    });
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    println!(
        "  (collector: {} request(s) answered)",
        answered.load(Ordering::SeqCst)
    );
}

fn serve(stream: TcpStream, answered: &std::sync::atomic::AtomicU64) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(writer) => writer,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut head_seen = false;
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = header.trim_end();
            if header.is_empty() {
                if head_seen {
                    break;
                }
                continue;
            }
            head_seen = true;
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}
