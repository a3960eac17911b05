"""Detection rules benchmark: every prebuilt rule Vigil runs (EQL, KQL/Lucene query, threshold,
new terms, ES|QL) over `vigil gen` events with `vigil rules run`, as one schedule cycle over all the
events. Prints the load and rule times, events/s with all rules loaded, time per rule type, and
the slowest ten rules. The issue's target: the EQL and KQL rules over 1M events in <= 10 s; a
second cycle adds the ES|QL rules.

    Benchmarks/run rules [--events N] [--hosts H] [--repeat R]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from collections import defaultdict

from bench_common import BIN, generate

RULES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "detection-rules")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-rules-bench-")
    events = os.path.join(work, "events.ndjson")
    generate(args.events, args.hosts, events)
    rule_dirs = [os.path.join(RULES, d) for d in ("linux", "windows", "cross-platform")]
    # Two cycles: the EQL and KQL rules (query, EQL, threshold and new terms: the issue's
    # target), then every rule Vigil runs, ES|QL included.
    kql_eql = run_cycles(args, work, events, rule_dirs, "query,eql,threshold,new_terms", "eql+kql")
    wall, load, rules, timings, summary = run_cycles(args, work, events, rule_dirs, None, "all")
    print()
    print(f"events: {args.events:,} (vigil gen, {args.hosts} hosts, seed 1); cores: {os.cpu_count()}")
    print(f"EQL and KQL rules: load {kql_eql[1]:.1f} s, rules {kql_eql[2]:.1f} s (target <= 10 s), wall {kql_eql[0]:.1f} s; {kql_eql[4]}")
    print(f"all rules (ES|QL too): load {load:.1f} s, rules {rules:.1f} s, wall {wall:.1f} s; {summary}")
    print(f"events/s, EQL and KQL rules loaded: {args.events / kql_eql[0]:,.0f} (whole command), {args.events / kql_eql[2]:,.0f} (rule cycle only)")
    print(f"events/s with all rules loaded: {args.events / wall:,.0f} (whole command), {args.events / rules:,.0f} (rule cycle only)")
    per_rule = [json.loads(line) for line in open(timings)]
    by_type = defaultdict(lambda: [0, 0.0, 0])
    for r in per_rule:
        key = r["type"] + ("" if r["type"] not in ("query", "threshold", "new_terms") else f" ({r['language']})")
        by_type[key][0] += 1
        by_type[key][1] += r["ms"]
        by_type[key][2] += r["alerts"]
    print()
    print("per rule type (all rules; rules run on every core at once, so times add up to more than the cycle):")
    print(f"{'rule type':<24} {'rules':>6} {'total s':>9} {'mean ms':>9} {'alerts':>8}")
    for k, (n, ms, alerts) in sorted(by_type.items(), key=lambda kv: -kv[1][1]):
        print(f"{k:<24} {n:>6} {ms / 1000:>9.2f} {ms / n:>9.1f} {alerts:>8}")
    print()
    print("slowest ten rules:")
    for r in sorted(per_rule, key=lambda r: -r["ms"])[:10]:
        print(f"  {r['ms']:>8.0f} ms  {r['type']:<10} {r['name']} ({r['rule_id']})")


def run_cycles(args, work, events, rule_dirs, types, label):
    """`--repeat` runs of `vigil rules run`; the median by rule time: (wall, load s, rules s, timings file, summary)."""
    runs = []
    for i in range(args.repeat):
        timings = os.path.join(work, f"timings-{label}-{i}.ndjson")
        cmd = [BIN, "rules", "run", "--count", "--timings", timings]
        if types:
            cmd += ["--types", types]
        for d in rule_dirs:
            cmd += ["--rules", d]
        cmd.append(events)
        started = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.monotonic() - started
        m = re.search(r"load (\d+) ms, rules (\d+) ms", p.stderr)
        summary = p.stderr.strip().splitlines()[-1].replace("vigil rules run: ", "").split("; load")[0]
        runs.append((wall, int(m.group(1)) / 1000, int(m.group(2)) / 1000, timings, summary))
        print(f"{label} run {i + 1}: wall {wall:.1f} s; {summary}")
    runs.sort(key=lambda r: r[2])
    return runs[len(runs) // 2]


if __name__ == "__main__":
    main()
