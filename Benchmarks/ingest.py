"""Durable ingest benchmark: Vigil over HTTP `_bulk` and the store alone, DuckDB in the same run.

Prints one table; every number comes from this run on this machine.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import duckdb

import bench_common
from bench_common import BIN, Server, free_port, generate, peak_rss_kb



def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def bulk_bodies(path, batch):
    """The NDJSON file cut into `_bulk` bodies of `batch` create actions each."""
    bodies, lines = [], []
    action = b'{"create":{}}\n'
    with open(path, "rb") as f:
        for line in f:
            lines.append(action + line)
            if len(lines) == batch:
                bodies.append(b"".join(lines))
                lines = []
    if lines:
        bodies.append(b"".join(lines))
    return bodies


def http_ingest(ndjson, events, clients, batch, work):
    data = os.path.join(work, "http-data")
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--port", str(port), "--data", data],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        bodies = bulk_bodies(ndjson, batch)
        queue = list(reversed(bodies))
        lock = threading.Lock()
        errors = []

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                conn.request("POST", "/bench/_bulk", body=body,
                             headers={"Content-Type": "application/x-ndjson"})
                resp = conn.getresponse()
                payload = resp.read()
                if resp.status != 200 or b'"errors":true' in payload[:64]:
                    errors.append(resp.status)

        start = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        c.request("POST", "/bench/_refresh")
        c.getresponse().read()
        c.request("GET", "/bench/_count")
        count = json.loads(c.getresponse().read())["count"]
        rss = peak_rss_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"seconds": elapsed, "count": count, "errors": len(errors), "rss_kb": rss, "disk": du(data)}


def store_ingest(ndjson, work):
    data = os.path.join(work, "store-data")
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", BIN, "ingest", ndjson, "--index", "bench", "--data", data, "--quiet"],
                         capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    rss = int(out.stderr.strip().splitlines()[-1])
    return {"seconds": elapsed, "rss_kb": rss, "disk": du(data)}


def duckdb_ingest(ndjson, work):
    db = os.path.join(work, "bench.duckdb")
    con = duckdb.connect(db)
    start = time.perf_counter()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json_auto('{ndjson}', format='newline_delimited', maximum_object_size=10485760)")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - start
    count = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    return {"seconds": elapsed, "count": count, "disk": os.path.getsize(db)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--batch", type=int, default=5000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-bench-")
    try:
        ndjson = os.path.join(work, "events.ndjson")
        generate(args.events, args.hosts, ndjson)
        size = os.path.getsize(ndjson)
        n = args.events
        print(f"events: {n:,} ({size / n:.0f} bytes each, {size / 1e6:.0f} MB NDJSON), {os.cpu_count()} cores")
        # Each run starts with no dirty pages left over from the one before (or from `gen`).
        os.sync()
        http = http_ingest(ndjson, n, args.clients, args.batch, work)
        os.sync()
        store = store_ingest(ndjson, work)
        os.sync()
        duck = duckdb_ingest(ndjson, work)
        rows = [
            ("vigil _bulk over HTTP, fsync before ack", n / http["seconds"], http["disk"] / n, http["rss_kb"] / 1024),
            ("vigil store alone (vigil ingest)", n / store["seconds"], store["disk"] / n, store["rss_kb"] / 1024),
            ("duckdb read_json_auto -> table", n / duck["seconds"], duck["disk"] / n, float("nan")),
        ]
        print(f"{'':44} {'docs/s':>12} {'disk B/event':>13} {'peak RSS MB':>12}")
        for name, rate, disk, rss in rows:
            print(f"{name:44} {rate:12,.0f} {disk:13.0f} {rss:12.0f}")
        print(f"ratio vigil HTTP / duckdb: {rows[0][1] / rows[2][1]:.2f}x; vigil store / duckdb: {rows[1][1] / rows[2][1]:.2f}x")
        if http["count"] != n or http["errors"]:
            print(f"WARNING: HTTP run counted {http['count']} docs with {http['errors']} failed requests", file=sys.stderr)
            sys.exit(1)
        if duck["count"] != n:
            print(f"WARNING: duckdb counted {duck['count']}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
