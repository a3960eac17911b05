"""EQL benchmark: the same queries through Vigil, DuckDB and the `eql` reference engine, on the
same generated events, in one run; prints times and ratios.

  Benchmarks/run eql [--events N] [--eql-engine-events N] [--repeat R]

- Vigil stored: `_eql/search` over HTTP on segments loaded by `vigil ingest` (size 10, the
  default tail: the count of every match plus the last ten events' `_source`).
- DuckDB native: the same events as a DuckDB table; `SELECT count(*)` with the same condition.
- `vigil eql FILE` (load and query the NDJSON, no server) vs DuckDB `read_json_auto` on the file.
- The `eql` Python engine (PyPI) on the first --eql-engine-events events only: it is slow.
Times are the median of --repeat runs (after one warm-up for the stored queries).
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

import bench_common
from bench_common import BIN, free_port, generate, peak_rss_kb


# (name, EQL, DuckDB condition). Categories are lists in ECS; DuckDB reads them as LIST columns.
FILTERS = [
    ("equality", 'process where process.name == "bash"',
     "list_contains(event.category, 'process') AND process.name = 'bash'"),
    ("wildcard :", 'process where process.name : "python*"',
     "list_contains(event.category, 'process') AND lower(process.name) LIKE 'python%'"),
    ("in (…)", 'process where process.name in ("bash", "sh", "dash", "zsh", "sshd")',
     "list_contains(event.category, 'process') AND process.name IN ('bash', 'sh', 'dash', 'zsh', 'sshd')"),
    ("cidrMatch", 'network where cidrMatch(destination.ip, "10.0.0.0/8")',
     "list_contains(event.category, 'network') AND destination.ip LIKE '10.%'"),
    ("functions", 'process where endsWith(process.executable, ".exe") and length(process.command_line) > 60',
     "list_contains(event.category, 'process') AND ends_with(process.executable, '.exe') AND length(process.command_line) > 60"),
    ("any, two fields", 'any where host.os.type == "windows" and user.name == "SYSTEM"',
     "host.os.type = 'windows' AND \"user\".name = 'SYSTEM'"),
]

SEQUENCES = [
    ("3-stage sequence, maxspan",
     "sequence by process.entity_id with maxspan=1m [process where true] "
     "[network where true] [file where true]"),
    ("few→many sequence",
     'sequence by host.name [process where process.name == "certutil.exe"] [any where true]'),
]


class Server(bench_common.Server):
    def eql(self, index, query):
        body = json.dumps({"query": query, "size": 10})
        start = time.perf_counter()
        self.conn.request("POST", f"/{index}/_eql/search?filter_path=hits.total,hits.events._id,hits.sequences.join_keys,error",
                          body=body, headers={"Content-Type": "application/json"})
        resp = json.loads(self.conn.getresponse().read())
        elapsed = time.perf_counter() - start
        if "error" in resp:
            raise RuntimeError(resp["error"])
        return elapsed, resp["hits"]["total"]["value"]


# ECS's IP fields typed `ip` (as Elastic Defend's templates do), so cidrMatch applies.
IP_FIELDS = ["source.ip", "destination.ip", "host.ip"]


def create_index(data):
    srv = Server(data)
    mapping = {"mappings": {"properties": {f: {"type": "ip"} for f in IP_FIELDS}}}
    srv.conn.request("PUT", "/bench", body=json.dumps(mapping), headers={"Content-Type": "application/json"})
    resp = srv.conn.getresponse()
    resp.read()
    assert resp.status == 200, resp.status
    srv.stop()


def timed(fn, repeat):
    fn()
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def eql_events(path):
    """The file's events as the `eql` engine takes them: ECS category as the event type, time in ms."""
    import datetime as dt  # noqa: PLC0415

    import eql  # noqa: PLC0415
    out = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            cat = d["event"]["category"]
            ts = dt.datetime.fromisoformat(d["@timestamp"].replace("Z", "+00:00"))
            out.append(eql.Event(cat[0] if isinstance(cat, list) else cat, int(ts.timestamp() * 1000), d))
    return out


def eql_engine(query, events):
    """The `eql` reference engine through its Python API on prepared events (parsing the
    file is not timed), counting outputs."""
    import eql  # noqa: PLC0415
    import eql.parser  # noqa: PLC0415
    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_fields:
        parsed = eql.parse_query(query)
    count = 0

    def hit(_):
        nonlocal count
        count += 1

    engine = eql.PythonEngine({"flatten": True, "time_unit": 1000})
    engine.add_query(parsed)
    engine.add_output_hook(hit)
    start = time.perf_counter()
    engine.stream_events(events)
    return time.perf_counter() - start, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=50)
    # The eql engine needs minutes per 200k events on a sequence (it keeps every partial):
    # 200k by default keeps a run under half an hour; pass 1000000 for the full set.
    ap.add_argument("--eql-engine-events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-file-scan", action="store_true", help="skip `vigil eql FILE` vs DuckDB read_json")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-eqlbench-")
    try:
        nd = os.path.join(work, "events.ndjson")
        generate(args.events, args.hosts, nd)
        n = args.events
        print(f"events: {n:,} ({os.path.getsize(nd) / n:.0f} bytes each), {os.cpu_count()} cores")
        data = os.path.join(work, "vigil-data")
        create_index(data)
        subprocess.run([BIN, "ingest", nd, "--index", "bench", "--data", data, "--quiet"], check=True)
        os.sync()
        db = duckdb.connect(os.path.join(work, "bench.duckdb"))
        db.execute(f"CREATE TABLE events AS SELECT * FROM read_json_auto('{nd}', format='newline_delimited', maximum_object_size=10485760)")
        srv = Server(data)
        rows = []
        try:
            for name, query, cond in FILTERS:
                v_time, v_count = timed(lambda: srv.eql("bench", query)[1], args.repeat)
                d_time, d_count = timed(lambda: db.execute(f"SELECT count(*) FROM events WHERE {cond}").fetchone()[0], args.repeat)
                rows.append((name, "stored", v_time, d_time, v_count, d_count))
            seq_rows = []
            for name, query in SEQUENCES:
                v_time, v_count = timed(lambda: srv.eql("bench", query)[1], args.repeat)
                seq_rows.append((name, v_time, v_count))
        finally:
            rss = srv.stop()
        print(f"\n{'single-event filter':18} {'vigil ms':>9} {'duckdb ms':>10} {'ratio':>7} {'vigil n':>9} {'duckdb n':>9}")
        for name, _, v, d, vc, dc in rows:
            flag = "" if vc == dc else "  (counts differ)"
            print(f"{name:18} {v * 1000:9.1f} {d * 1000:10.1f} {d / v:6.2f}x {vc:9,} {dc:9,}{flag}")
        print("ratio = DuckDB time / Vigil time (above 1 means Vigil is faster); Vigil over HTTP, DuckDB in-process")
        print(f"\n{'sequence':28} {'vigil ms':>9} {'sequences':>10}")
        for name, v, c in seq_rows:
            print(f"{name:28} {v * 1000:9.1f} {c:10,}")
        print(f"vigil server peak RSS: {rss / 1024:.0f} MB")

        # Straight from the file: `vigil eql FILE --count` vs DuckDB read_json_auto.
        if not args.skip_file_scan:
            print(f"\n{'over the NDJSON file':18} {'vigil s':>9} {'duckdb s':>10} {'ratio':>7}")
        for name, query, cond in ([] if args.skip_file_scan else FILTERS):
            vt, dt = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                out = subprocess.run([BIN, "eql", query, nd, "--count"], capture_output=True, text=True, check=True)
                vt.append(time.perf_counter() - start)
                start = time.perf_counter()
                dc = duckdb.connect().execute(
                    f"SELECT count(*) FROM read_json_auto('{nd}', format='newline_delimited', maximum_object_size=10485760) WHERE {cond}").fetchone()[0]
                dt.append(time.perf_counter() - start)
            v, d = statistics.median(vt), statistics.median(dt)
            flag = "" if int(out.stdout) == dc else f"  (counts differ: {int(out.stdout):,} vs {dc:,})"
            print(f"{name:18} {v:9.2f} {d:10.2f} {d / v:6.2f}x{flag}")
        if not args.skip_file_scan:
            print("each a fresh process over the file (in the page cache), median of --repeat runs")

        # The reference engine on a prefix of the file.
        m = min(args.eql_engine_events, n)
        if m > 0:
            prefix = os.path.join(work, "prefix.ndjson")
            with open(nd) as src, open(prefix, "w") as dst:
                for i, line in enumerate(src):
                    if i >= m:
                        break
                    dst.write(line)
            pdata = os.path.join(work, "prefix-data")
            create_index(pdata)
            subprocess.run([BIN, "ingest", prefix, "--index", "bench", "--data", pdata, "--quiet"], check=True)
            psrv = Server(pdata)
            try:
                print(f"\n{'eql engine, ' + format(m, ',') + ' events':34} {'eql s':>8} {'vigil ms':>9} {'ratio':>9}")
                events = eql_events(prefix)
                for name, query in [(FILTERS[0][0], FILTERS[0][1]), (SEQUENCES[0][0], SEQUENCES[0][1])]:
                    e_time, e_count = eql_engine(query, events)
                    v_time, v_count = timed(lambda: psrv.eql("bench", query)[1], args.repeat)
                    print(f"{name:34} {e_time:8.2f} {v_time * 1000:9.1f} {e_time / v_time:8.0f}x  (eql {e_count:,}, vigil {v_count:,})")
            finally:
                psrv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
