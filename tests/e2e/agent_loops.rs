//! Agent loops at scale, seen from outside: the `agent` example run as a
//! process with `run --steps N` (tool-call roll-ups), `--sample-rate R`
//! (process sampling) and `--max-records N` (the per-process cap and its
//! `client_report`), against loopback collectors.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use telemetry_test_support::agent::{past_notice, stderr, Agent};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::net::{refused_addr, PortWatch};
use telemetry_test_support::records::{kinds, of_kind, strings};
use telemetry_test_support::spool;

fn reports(records: &[Value]) -> Vec<Value> {
    of_kind(records, "client_report")
        .iter()
        .map(|r| r["properties"]["dropped"].clone())
        .collect()
}

/// What the collector learnt of one tool: individual calls, calls in
/// summaries, errors, and errors by kind.
#[derive(Debug, Default, PartialEq)]
struct ToolSeen {
    records: u64,
    summarised: u64,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
}

fn per_tool(records: &[Value]) -> BTreeMap<String, ToolSeen> {
    let mut tools: BTreeMap<String, ToolSeen> = BTreeMap::new();
    for record in records {
        let props = &record["properties"];
        let Some(name) = props["tool_name"].as_str() else {
            continue;
        };
        let seen = tools.entry(name.to_owned()).or_default();
        if record["event"] == "tool" {
            seen.records += 1;
            if let Some(kind) = props["error"].as_str() {
                seen.errors += 1;
                *seen.error_kinds.entry(kind.to_owned()).or_default() += 1;
            }
        } else if record["event"] == "tool_summary" {
            seen.summarised += props["calls"].as_u64().unwrap();
            seen.errors += props["errors"].as_u64().unwrap();
            for (kind, count) in props["error_kinds"].as_object().unwrap() {
                *seen.error_kinds.entry(kind.clone()).or_default() += count.as_u64().unwrap();
            }
        }
    }
    tools
}

#[test]
fn a_thousand_steps_send_at_most_200_records_with_exact_totals() {
    for delivery in ["inline", "background"] {
        let (collector, agent) = past_notice();
        agent.run_ok(
            &["--delivery", delivery, "run", "--steps", "1000", "hello"],
            &[],
        );
        let records = collector.records();
        assert!(
            records.len() <= 200,
            "{delivery}: {} records",
            records.len()
        );
        let tools = per_tool(&records);
        // Steps 0, 3, 6, ... plan; 1, 4, ... read; 2, 5, ... search.
        let made = [("plan_steps", 334), ("read_file", 333), ("search_web", 333)];
        for (name, calls) in made {
            let seen = &tools[name];
            assert_eq!(
                seen.records, 50,
                "{delivery} {name}: the first 50 as they are"
            );
            assert_eq!(seen.records + seen.summarised, calls, "{delivery} {name}");
        }
        let search = &tools["search_web"];
        assert_eq!(search.errors, 333, "{delivery}");
        assert_eq!(
            search.error_kinds,
            BTreeMap::from([("NotFound".to_owned(), 333)])
        );
        assert_eq!(tools["read_file"].errors, 0);
        assert_eq!(tools["plan_steps"].errors, 0);
        let sessions = of_kind(&records, "session");
        let end = sessions
            .iter()
            .find(|r| r["properties"]["action"] == "end")
            .expect("the session's end");
        assert_eq!(end["properties"]["tool_calls"], 1000, "{delivery}");
        assert_eq!(end["properties"]["error_count"], 333, "{delivery}");
        assert_eq!(end["properties"]["error"], json!(["NotFound"]));
        // Every summary belongs to the session.
        for summary in of_kind(&records, "tool_summary") {
            assert_eq!(
                summary["properties"]["session_id"],
                end["properties"]["session_id"]
            );
            assert_eq!(summary["properties"]["agent_name"], "root");
        }
        assert!(reports(&records).is_empty(), "nothing dropped");
    }
}

#[test]
fn the_default_run_is_unchanged_three_steps_and_no_summary() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["run", "hello"], &[]);
    let records = collector.records();
    assert_eq!(
        kinds(&records),
        ["session", "tool", "token", "tool", "tool", "token", "session", "command"]
    );
    assert_eq!(
        strings(of_kind(&records, "tool"), "tool_name"),
        ["plan_steps", "read_file", "search_web"]
    );
    let command = records.last().unwrap();
    assert_eq!(command["properties"]["args"], json!([]));
    agent.run_ok(&["--sample-rate", "1", "run", "--steps", "2", "hello"], &[]);
    let command = collector.records().last().cloned().unwrap();
    assert_eq!(
        command["properties"]["args"],
        json!(["--sample-rate", "--steps"]),
        "declared flags"
    );
}

#[test]
fn a_process_sampled_out_opens_no_connection_and_writes_nothing() {
    let addr = refused_addr();
    let watch = PortWatch::bind(addr);
    let agent = Agent::new(&format!("http://{addr}/v1/events"));
    for args in [
        &["--sample-rate", "0", "run", "hello"][..],
        &[
            "--sample-rate",
            "0",
            "--delivery",
            "background",
            "run",
            "hello",
        ],
    ] {
        let output = agent.run_ok(args, &[("TELEMETRY_HIDE_BANNER", "1")]);
        assert_eq!(
            stderr(&output).lines().count(),
            1,
            "the tool's own warning only"
        );
    }
    let debug = agent.run(&["--debug", "--sample-rate", "0", "version"]);
    assert!(
        stderr(&debug).contains("this process was sampled out"),
        "{debug:?}"
    );
    assert_eq!(watch.connections(), 0);
    assert!(
        agent.written_paths().is_empty(),
        "{:?}",
        agent.written_paths()
    );
}

#[test]
fn a_bad_sample_rate_is_a_usage_error() {
    let agent = Agent::without_endpoint();
    for bad in ["1.5", "-0.1", "NaN", "most"] {
        let output = agent.run(&["--sample-rate", bad, "version"]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {output:?}");
        assert!(stderr(&output).contains("--sample-rate needs a number from 0 to 1"));
    }
}

#[test]
fn of_200_processes_at_a_quarter_a_binomial_share_send_all_their_records_with_the_rate() {
    const PROCESSES: usize = 200;
    const RECORDS_PER_RUN: usize = 8;
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    let run = |index: usize| {
        let tags = format!("process={index}");
        agent
            .command(
                &["--sample-rate", "0.25", "run", "hello"],
                &[("TELEMETRY_HIDE_BANNER", "1"), ("TELEMETRY_TAGS", &tags)],
            )
            .spawn()
            .expect("the agent starts")
    };
    for start in (0..PROCESSES).step_by(8) {
        let children: Vec<_> = (start..(start + 8).min(PROCESSES)).map(run).collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    }
    let records = collector.records();
    let mut per_process: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        assert_eq!(record["properties"]["sample_rate"], 0.25, "{record}");
        let process = record["properties"]["process"].as_str().unwrap().to_owned();
        *per_process.entry(process).or_default() += 1;
    }
    // Whole processes: each one in sent all of its records.
    for (process, count) in &per_process {
        assert_eq!(*count, RECORDS_PER_RUN, "process {process}");
    }
    // Binomial(200, 0.25): mean 50, standard deviation 6.1; five standard
    // deviations either side fail a correct sampler once in 1.7 million runs.
    let sampled_in = per_process.len();
    assert!(
        (20..=80).contains(&sampled_in),
        "{sampled_in} of {PROCESSES} sampled in"
    );
}

#[test]
fn a_cap_of_ten_sends_ten_records_and_a_client_report_in_this_run() {
    let (collector, agent) = past_notice();
    // 1 command + 2 session + 2 token + 20 tool records = 25.
    agent.run_ok(
        &["--max-records", "10", "run", "--steps", "20", "hello"],
        &[],
    );
    let records = collector.records();
    assert_eq!(records.len(), 11, "{records:#?}");
    assert_eq!(reports(&records), [json!({"cap": 15})]);
    assert_eq!(records.last().unwrap()["event"], "client_report");
}

#[test]
fn a_cap_of_ten_reports_through_the_spool_in_the_next_run_unless_the_user_opts_out() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let capped = [
        "--delivery",
        "background",
        "--max-records",
        "10",
        "run",
        "--steps",
        "20",
        "hello",
    ];
    let plain = ["--delivery", "background", "run", "hello"];
    // Each case waits out the blackhole's exit budget: run both at once.
    let case = |opt_out: bool| {
        let agent = Agent::after_first_run(&blackhole.url());
        agent.run_ok(&capped, &[]);
        assert_eq!(spool::pending(&agent.config_dir()).len(), 11);
        if opt_out {
            agent.run_ok(&plain, &[("DO_NOT_TRACK", "1")]);
        }
        let collector = Collector::start().unwrap();
        agent.run_ok(&plain, &[("TELEMETRY_ENDPOINT", &collector.url())]);
        let records = collector.records();
        if opt_out {
            assert_eq!(records.len(), 8, "only the new run's");
            assert!(
                reports(&records).is_empty(),
                "nothing about dropped records"
            );
        } else {
            assert_eq!(records.len(), 11 + 8);
            assert_eq!(reports(&records), [json!({"cap": 15})]);
        }
    };
    std::thread::scope(|scope| {
        let kept = scope.spawn(|| case(false));
        case(true);
        kept.join().expect("the case without an opt-out");
    });
}
