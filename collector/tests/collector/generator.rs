//! A seeded generator of wire records of every kind, for two apps over ten
//! days in January 2026, with sampled, ephemeral and id-less records.

use serde_json::{json, Map, Value};

/// The first generated day: 2026-01-01 (UTC), in epoch ms.
pub const START_MS: i64 = 1_767_225_600_000;
/// Days generated.
pub const DAYS: i64 = 10;

/// xorshift64*: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// `count` records, each distinct.
pub fn records(seed: u64, count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    let installs: Vec<String> = (0..12).map(|_| uuid(&mut rng)).collect();
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let app = if rng.chance(75) { "alpha" } else { "beta" };
        let ts = START_MS + (rng.below((DAYS * 86_400_000) as u64) as i64);
        let ephemeral = rng.chance(8);
        let user = if ephemeral {
            uuid(&mut rng)
        } else {
            installs[rng.below(installs.len() as u64) as usize].clone()
        };
        let mut p = Map::new();
        p.insert("user_uuid".into(), json!(user));
        p.insert(
            "version".into(),
            json!(rng.pick(&["1.0.0", "1.1.0", "2.0.0"])),
        );
        p.insert("os".into(), json!(rng.pick(&["linux", "macos", "windows"])));
        p.insert("os_language".into(), json!("en-US"));
        p.insert("arch".into(), json!(rng.pick(&["x86_64", "aarch64"])));
        let ci = rng.chance(30);
        p.insert("ci".into(), json!(ci));
        if ci {
            p.insert(
                "ci_provider".into(),
                json!(rng.pick(&["github_actions", "gitlab"])),
            );
        }
        if rng.chance(20) {
            p.insert(
                "ai_agent".into(),
                json!(rng.pick(&["claude_code", "cursor"])),
            );
        }
        if ephemeral {
            p.insert("ephemeral_id".into(), json!(true));
        }
        if rng.chance(15) {
            p.insert(
                "sample_rate".into(),
                json!([0.5, 0.25, 0.1][rng.below(3) as usize]),
            );
        }
        // Most records carry an id; some do not (the store hashes them).
        if !rng.chance(10) {
            p.insert(
                "event_id".into(),
                json!(format!("{}-{index}", uuid(&mut rng))),
            );
        } else {
            p.insert("seq".into(), json!(index));
        }
        let kind = rng.below(100);
        let ok = rng.chance(80);
        let event = match kind {
            0..=29 => {
                p.insert(
                    "action".into(),
                    json!(rng.pick(&["run", "build", "test", "deploy"])),
                );
                p.insert("args".into(), json!(["--model"]));
                p.insert("is_success".into(), json!(ok));
                p.insert("duration_ms".into(), json!(rng.below(5000)));
                if !ok {
                    p.insert("error".into(), json!(rng.pick(&["io", "timeout", "parse"])));
                }
                "command"
            }
            30..=59 => {
                p.insert("action".into(), json!("call"));
                p.insert(
                    "tool_name".into(),
                    json!(rng.pick(&["read", "write", "search"])),
                );
                p.insert(
                    "session_id".into(),
                    json!(if rng.chance(50) {
                        "s1".to_owned()
                    } else {
                        String::new()
                    }),
                );
                p.insert(
                    "agent_name".into(),
                    json!(rng.pick(&["", "root", "planner"])),
                );
                p.insert("duration_ms".into(), json!(rng.below(900)));
                p.insert("is_success".into(), json!(ok));
                if !ok {
                    p.insert(
                        "error".into(),
                        json!(rng.pick(&["io", "timeout", "not_found"])),
                    );
                }
                "tool"
            }
            60..=74 => {
                p.insert("action".into(), json!("usage"));
                p.insert("session_id".into(), json!("s2"));
                p.insert("agent_name".into(), json!("root"));
                p.insert(
                    "model_name".into(),
                    json!(rng.pick(&["gpt-4o-mini", "claude-haiku", "o3"])),
                );
                let (input, output) = (rng.below(5000), rng.below(800));
                p.insert("input_tokens".into(), json!(input));
                p.insert("output_tokens".into(), json!(output));
                p.insert("total_tokens".into(), json!(input + output));
                p.insert(
                    "cost".into(),
                    json!((rng.below(10_000) as f64) / 1_000_000.0 + 0.000_001),
                );
                "token"
            }
            75..=84 => {
                let end = rng.chance(70);
                p.insert("action".into(), json!(if end { "end" } else { "start" }));
                p.insert("session_id".into(), json!(uuid(&mut rng)));
                p.insert("agent_name".into(), json!("root"));
                if end {
                    let errors = if ok { 0 } else { 1 + rng.below(3) };
                    p.insert("duration_ms".into(), json!(rng.below(60_000)));
                    p.insert("tool_calls".into(), json!(rng.below(40)));
                    p.insert("input_tokens".into(), json!(rng.below(100)));
                    p.insert("output_tokens".into(), json!(rng.below(100)));
                    p.insert("total_tokens".into(), json!(200));
                    p.insert("cost".into(), json!(0.25));
                    p.insert("error_count".into(), json!(errors));
                    p.insert("is_success".into(), json!(ok));
                    let kinds: Vec<&str> =
                        (0..errors).map(|_| rng.pick(&["io", "timeout"])).collect();
                    p.insert("error".into(), json!(kinds));
                }
                "session"
            }
            85..=92 => {
                let calls = 100 + rng.below(400);
                let errors = rng.below(6);
                let mut kinds = Map::new();
                let mut left = errors;
                while left > 0 {
                    let n = 1 + rng.below(left);
                    let kind = rng.pick(&["io", "timeout", "not_found"]);
                    let before = kinds.get(kind).and_then(Value::as_u64).unwrap_or(0);
                    kinds.insert(kind.into(), json!(before + n));
                    left -= n;
                }
                p.insert(
                    "tool_name".into(),
                    json!(rng.pick(&["read", "write", "search"])),
                );
                p.insert("session_id".into(), json!("s3"));
                p.insert("agent_name".into(), json!(""));
                p.insert("calls".into(), json!(calls));
                p.insert("errors".into(), json!(errors));
                p.insert("error_kinds".into(), Value::Object(kinds));
                p.insert("duration_ms_total".into(), json!(calls * 7));
                p.insert("duration_ms_max".into(), json!(90));
                "tool_summary"
            }
            _ => {
                let mut dropped = Map::new();
                dropped.insert(
                    rng.pick(&["queue_full", "rate_limited"]).into(),
                    json!(1 + rng.below(9)),
                );
                p.insert("dropped".into(), Value::Object(dropped));
                "client_report"
            }
        };
        out.push(json!({"event": event, "event_timestamp": ts, "source": app, "properties": p}));
    }
    out
}
