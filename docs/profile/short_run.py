#!/usr/bin/env python3
"""Attributes the on-CPU time an inline `agent version` run spends beyond an
`off` run to reqwest (its client and request) and to the toolkit, from two
`perf script` dumps of `perf record --call-graph dwarf` (see "What a short
run costs" in docs/performance.md for the commands).

    short_run.py OFF.txt INLINE.txt RUNS CPU_MS_DIFF

RUNS: the runs each dump covers; CPU_MS_DIFF: inline's task-clock minus
off's (`perf stat -r`), in ms, which converts samples to time. Each sample
goes to the first bucket whose pattern matches any frame of its stack."""
import collections
import re
import sys

BUCKETS = [
    ("reqwest: client", r"reqwest::async_impl::client::(Client|ClientBuilder)::|request::new_client"),
    ("reqwest: runtime it runs on", r"tokio::runtime::builder::Builder::"),
    ("reqwest: request", r"block_on"),
    ("toolkit: history", r"files::history::append"),
    ("toolkit: teardown", r"__call_tls_dtors|LocalDriver"),
    ("toolkit: decision", r"consent::decide"),
    ("toolkit: recorder start", r"recorder::start|Recorder>::new|Recorder::new"),
    ("toolkit: record, body", r"telemetry_core::record::|serde_json"),
    ("toolkit: other", r"telemetry_core::"),
    ("app", r"agent::main"),
    ("process start and exit", r"ld-linux|_dl_|dl_main|execve|load_elf|exit"),
]


def buckets(path):
    counts = collections.Counter()
    for stack in open(path).read().split("\n\n"):
        frames = [line.strip() for line in stack.strip().split("\n")[1:] if line.strip()]
        if not frames:
            continue
        joined = " | ".join(frames)
        name = next((name for name, pattern in BUCKETS if re.search(pattern, joined)), "unattributed")
        counts[name] += 1
    return counts


def main():
    off, inline = buckets(sys.argv[1]), buckets(sys.argv[2])
    runs, cpu_ms = int(sys.argv[3]), float(sys.argv[4])
    names = [name for name, _ in BUCKETS] + ["unattributed"]
    extra = {name: (inline[name] - off[name]) / runs for name in names}
    per_sample = cpu_ms / sum(extra.values())
    print(f"{'bucket':32} {'off/run':>8} {'inline/run':>10} {'extra ms':>9}")
    for name in names:
        print(f"{name:32} {off[name] / runs:8.2f} {inline[name] / runs:10.2f} {extra[name] * per_sample:+9.3f}")
    for side in ("reqwest", "toolkit"):
        total = sum(extra[name] for name in names if name.startswith(side))
        print(f"{side + ' in all':32} {'':8} {'':10} {total * per_sample:+9.3f}")


main()
