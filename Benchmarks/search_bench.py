"""Search benchmark: `_count` with a filter and `_search` aggregations through Vigil, the same
questions to DuckDB, on the same generated events, in one run; prints times and ratios.

  Benchmarks/run search [--events N] [--hosts H] [--repeat R]

- Vigil: over HTTP on segments loaded by `vigil ingest` into an index mapped as Elastic's ECS
  templates map these fields (strings `keyword`, integers `long`, `*.ip` `ip`, `@timestamp`
  `date`).
- DuckDB: the same events as a native table (`read_json_auto`), in-process.
- Queries:
  (a) `_count`, a 3-clause bool: `term` event.category + `range` @timestamp (the middle half of
      the data's time span) + `must_not` `terms` user.name;
  (b) `_search` size 0, `terms` on host.name (every host) with a `cardinality` sub-aggregation
      on user.name;
  (c) (b) under (a)'s filter.
  Answers are checked equal (cardinality exact below 3,000 distinct values, as HyperLogLog++ is
  at its default precision, else within 1%). A query Vigil answers with an error is reported
  as unsupported.
Times are the median of --repeat runs after one warm-up.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import duckdb

import bench_common
from bench_common import BIN, Server, free_port, generate, peak_rss_kb

INDEX = "bench"


class Unsupported(Exception):
    pass


def check(status, resp):
    if status != 200 or "error" in resp:
        err = resp.get("error", resp)
        if isinstance(err, dict):
            err = f"{err.get('type')}: {err.get('reason')}"
        raise Unsupported(str(err)[:160])
    return resp


def ecs_mapping(nd, lines=200_000):
    """Field types from the first events, as an ECS template would give them."""
    props = {}

    def add(path, v):
        if isinstance(v, list):
            v = next((x for x in v if x is not None), None)
        if v is None or isinstance(v, (bool, dict)):
            return
        if isinstance(v, int):
            t = "long"
        elif isinstance(v, float):
            t = "double"
        elif path == "@timestamp":
            t = "date"
        elif path.endswith(".ip"):
            t = "ip"
        else:
            t = "keyword"
        node = props
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {"properties": {}})["properties"]
        node.setdefault(parts[-1], {"type": t})

    def walk(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, prefix + k + ".")
            else:
                add(prefix + k, v)

    with open(nd) as f:
        for i, line in enumerate(f):
            if i >= lines:
                break
            walk(json.loads(line))
    return {"properties": props}


def timed(fn, repeat):
    fn()
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def iso(ms):
    import datetime as dt  # noqa: PLC0415
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def card_ok(got, want):
    if not isinstance(got, (int, float)):
        return False
    return got == want if want < 3000 else abs(got - want) <= 0.01 * want


def buckets_agree(vigil, duck):
    """vigil, duck: {host: (doc_count, distinct users)}."""
    if set(vigil) != set(duck):
        return False
    return all(vigil[k][0] == duck[k][0] and card_ok(vigil[k][1], duck[k][1]) for k in duck)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-searchbench-")
    try:
        nd = os.path.join(work, "events.ndjson")
        generate(args.events, args.hosts, nd)
        n = args.events
        print(f"events: {n:,} ({os.path.getsize(nd) / n:.0f} bytes each), {os.cpu_count()} cores")

        data = os.path.join(work, "vigil-data")
        srv = Server(data)
        status, resp = srv.put(f"/{INDEX}", {"mappings": ecs_mapping(nd), "settings": {"number_of_replicas": 0}})
        assert status == 200, resp
        srv.stop()
        start = time.perf_counter()
        subprocess.run([BIN, "ingest", nd, "--index", INDEX, "--data", data, "--quiet"], check=True)
        vigil_load = time.perf_counter() - start
        os.sync()

        db = duckdb.connect(os.path.join(work, "bench.duckdb"))
        db.execute("SET TimeZone = 'UTC'")
        start = time.perf_counter()
        db.execute(f"CREATE TABLE events AS SELECT * FROM read_json_auto('{nd}', format='newline_delimited', "
                   "maximum_object_size=10485760)")
        duck_load = time.perf_counter() - start
        ts_type = dict((r[0], r[1]) for r in db.execute("DESCRIBE events").fetchall())["@timestamp"]
        ts = '"@timestamp"' if ts_type.startswith("TIMESTAMP") else 'CAST("@timestamp" AS TIMESTAMPTZ)'
        lo_ms, hi_ms = db.execute(f"SELECT epoch_ms(min({ts})), epoch_ms(max({ts})) FROM events").fetchone()
        span = hi_ms - lo_ms
        t1, t2 = iso(lo_ms + span // 4), iso(lo_ms + 3 * span // 4)
        print(f"loaded: vigil ingest {vigil_load:.1f}s, duckdb read_json_auto {duck_load:.1f}s; "
              f"time range {iso(lo_ms)} .. {iso(hi_ms)}, filter [{t1}, {t2})")

        users = ["root", "SYSTEM"]
        dsl_filter = {"bool": {"filter": [{"term": {"event.category": "process"}},
                                          {"range": {"@timestamp": {"gte": t1, "lt": t2}}}],
                               "must_not": [{"terms": {"user.name": users}}]}}
        sql_filter = (f"list_contains(event.category, 'process') AND {ts} >= TIMESTAMPTZ '{t1}' AND {ts} < TIMESTAMPTZ '{t2}' "
                      f"AND NOT coalesce(\"user\".name IN ({', '.join(repr(u) for u in users)}), FALSE)")
        aggs = {"hosts": {"terms": {"field": "host.name", "size": 10_000},
                          "aggs": {"users": {"cardinality": {"field": "user.name"}}}}}

        srv = Server(data)

        def v_count():
            return check(*srv.post(f"/{INDEX}/_count", {"query": dsl_filter}))["count"]

        def v_aggs(query):
            body = {"size": 0, "aggs": aggs}
            if query is not None:
                body["query"] = query
            resp = check(*srv.post(f"/{INDEX}/_search", body))
            try:
                return {b["key"]: (b["doc_count"], b["users"]["value"]) for b in resp["aggregations"]["hosts"]["buckets"]}
            except (KeyError, TypeError) as e:
                raise Unsupported(f"unexpected response shape ({e!r}): {json.dumps(resp)[:120]}") from None

        def d_count():
            return db.execute(f"SELECT count(*) FROM events WHERE {sql_filter}").fetchone()[0]

        def d_aggs(where):
            rows = db.execute(f"SELECT host.name, count(*), count(DISTINCT \"user\".name) FROM events "
                              f"WHERE host.name IS NOT NULL AND ({where}) GROUP BY 1").fetchall()
            return {r[0]: (r[1], r[2]) for r in rows}

        cases = [
            ("(a) _count, 3-clause bool", v_count, d_count, lambda v, d: v == d, lambda r: f"{r:,}"),
            ("(b) terms host + cardinality user", lambda: v_aggs(None), lambda: d_aggs("TRUE"), buckets_agree,
             lambda r: f"{len(r)} buckets"),
            ("(c) (b) under (a)'s filter", lambda: v_aggs(dsl_filter), lambda: d_aggs(sql_filter), buckets_agree,
             lambda r: f"{len(r)} buckets"),
        ]
        rows = []
        try:
            for name, vf, df, agree, show in cases:
                d_time, d_res = timed(df, args.repeat)
                try:
                    v_time, v_res = timed(vf, args.repeat)
                except Unsupported as e:
                    rows.append((name, None, d_time, None, show(d_res), str(e)))
                    continue
                rows.append((name, v_time, d_time, agree(v_res, d_res), show(d_res), ""))
        finally:
            rss = srv.stop()

        print(f"\n{'query':36} {'vigil ms':>9} {'duckdb ms':>10} {'ratio':>7}  answer")
        mismatches = 0
        for name, v, d, ok, shown, err in rows:
            if v is None:
                print(f"{name:36} {'unsupported':>9} {d * 1000:10.1f} {'':>7}  {shown}  ({err})")
                continue
            flag = "" if ok else "  (answers differ)"
            mismatches += not ok
            print(f"{name:36} {v * 1000:9.1f} {d * 1000:10.1f} {d / v:6.2f}x  {shown}{flag}")
        print("ratio = DuckDB time / Vigil time (above 1 means Vigil is faster); Vigil over HTTP, DuckDB in-process; "
              f"median of {args.repeat} after a warm-up")
        print(f"vigil server peak RSS: {rss / 1024:.0f} MB")
        if mismatches:
            print(f"{mismatches} answers differ between Vigil and DuckDB")
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
