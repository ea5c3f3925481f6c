//! Each view but `records` over 1,000,000 stored records (90 days, 10,000
//! installs; commands, tools, tokens, sessions), through `views::answer`
//! as the API calls it, and the dashboard page over all of them. Also prints the bytes on disk per record and the
//! peak RSS of this process.
//!
//! ```text
//! cargo bench -p telemetry-collector --bench views
//! VIEWS_RECORDS=100000 cargo bench -p telemetry-collector --bench views
//! ```

use serde_json::{json, Value};
use std::sync::OnceLock;
use telemetry_collector::views::{self, Query, View};
use telemetry_collector::{day, Store};

const DAYS: i64 = 90;
const INSTALLS: u64 = 10_000;

struct Seeded {
    store: Store,
    query: Query,
    records: usize,
    dir: std::path::PathBuf,
}

fn seeded() -> &'static Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let records: usize = std::env::var("VIEWS_RECORDS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(1_000_000);
        let dir =
            std::env::temp_dir().join(format!("collector-views-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let store = Store::open(&dir.join("bench.db"), true).expect("a store");
        let last = day::today();
        let first = last - DAYS + 1;
        let started = std::time::Instant::now();
        let mut batch = Vec::with_capacity(5_000);
        for n in 0..records as u64 {
            batch.push(record(n, first));
            if batch.len() == 5_000 {
                store.ingest(&batch).expect("ingest");
                batch.clear();
            }
        }
        store.ingest(&batch).expect("ingest");
        eprintln!(
            "seeded {records} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let mut query = Query::last_30_days(last);
        query.from = first;
        query.app = Some("bench-agent".into());
        Seeded {
            store,
            query,
            records,
            dir,
        }
    })
}

fn record(n: u64, first_day: i64) -> Value {
    let day = first_day + (n % DAYS as u64) as i64;
    let ts = day * 86_400_000 + (n * 7_919) as i64 % 86_400_000;
    let user = format!(
        "6f1c0c52-4b8e-4d0e-9a51-{:012x}",
        (n * 2_654_435_761) % INSTALLS
    );
    let version = ["1.2.0", "1.3.0", "1.4.2"][(n % 3) as usize];
    let ok = n % 9 != 0;
    let os = ["linux", "macos", "windows"][(n % 3) as usize];
    let arch = ["x86_64", "aarch64"][(n % 2) as usize];
    let command = ["run", "build", "test", "deploy"][(n % 4) as usize];
    let tool = ["read_file", "search_web", "write_file", "bash"][(n % 4) as usize];
    let model = ["gpt-4o-mini", "o3"][(n % 2) as usize];
    let mut properties = json!({"user_uuid": user, "version": version, "os": os,
        "os_language":"en-US","arch": arch,"ci": n % 5 == 0,
        "event_id": format!("e{n:015x}-4b8e-4d0e-9a51-2f4b8f3c2a10")});
    let (event, extra) = match n % 10 {
        0..=2 => (
            "command",
            json!({"action": command, "args":["--model"],
            "is_success": ok, "duration_ms": n % 5_000, "error": if ok { Value::Null } else { json!("io") }}),
        ),
        3..=6 => (
            "tool",
            json!({"action":"call","tool_name": tool,
            "session_id":"s","agent_name":"root","duration_ms": n % 900, "is_success": ok,
            "error": if ok { Value::Null } else { json!("timeout") }}),
        ),
        7 | 8 => (
            "token",
            json!({"action":"usage","session_id":"s","agent_name":"root","model_name": model,
            "input_tokens": n % 3_000, "output_tokens": n % 400, "total_tokens": n % 3_000 + n % 400, "cost": (n % 100) as f64 / 10_000.0}),
        ),
        _ => (
            "session",
            json!({"action":"end","session_id":"s","agent_name":"root","duration_ms": n % 60_000, "tool_calls": n % 40,
            "input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "cost": 0.01, "error_count": u64::from(!ok), "is_success": ok}),
        ),
    };
    for (key, value) in extra.as_object().unwrap() {
        if !value.is_null() {
            properties[key] = value.clone();
        }
    }
    json!({"event": event, "event_timestamp": ts, "source": "bench-agent", "properties": properties})
}

#[divan::bench(sample_count = 5, sample_size = 1, args = [
    "apps", "daily", "commands", "tools", "errors", "tokens", "sessions", "versions", "environments"
])]
fn view(bencher: divan::Bencher, name: &str) {
    let seeded = seeded();
    let view: View = name.parse().unwrap();
    bencher.bench(|| views::answer(&seeded.store, view, &seeded.query).expect("an answer"));
}

/// The dashboard page (`GET /`) over the same records and range: every
/// view's answer, and the HTML (goal: at most 1 s).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn page(bencher: divan::Bencher) {
    let seeded = seeded();
    let query = format!(
        "app=bench-agent&range=custom&from={}&to={}",
        day::format(seeded.query.from),
        day::format(seeded.query.to)
    );
    bencher.bench(|| {
        telemetry_collector::web::page_html(&seeded.store, &query, None).expect("the page")
    });
}

fn main() {
    divan::main();
    if let Some(seeded) =
        SEEDED_REPORT.get_or_init(|| std::env::args().any(|a| a == "--bench").then(seeded))
    {
        let path = seeded.dir.join("bench.db");
        let bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
            .map(|meta| meta.len())
            .sum();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let peak = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .unwrap_or("VmHWM: ?");
        println!(
            "{} records: {:.0} bytes on disk per record (database and WAL); this process {peak}",
            seeded.records,
            bytes as f64 / seeded.records as f64
        );
        let _ = std::fs::remove_dir_all(&seeded.dir);
    }
}

static SEEDED_REPORT: OnceLock<Option<&'static Seeded>> = OnceLock::new();
