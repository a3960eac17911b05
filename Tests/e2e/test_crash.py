"""Durability under kill -9.

Several threads send `_bulk` requests of new documents with known ids (no
refresh). An id counts as acknowledged when its request got HTTP 200 and its
item status 201. The server is killed with SIGKILL at a random moment,
restarted on the same data directory, refreshed, and every acknowledged id
must be retrievable with GET _doc; `_count` must be at least the number of
acknowledged documents.

VIGIL_CRASH_ROUNDS sets the number of rounds (default 20).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time

import pytest

from vigil_e2e import VigilServer

INDEX = "crash-test"
THREADS = 4
DOCS_PER_BULK = 25
ROUND_BUDGET_S = 25.0  # hard bound on one round (write phase + restart + verification)


def _bulk_body(ids: list[str], rnd: int) -> bytes:
    out = []
    for i, doc_id in enumerate(ids):
        out.append(json.dumps({"create": {"_index": INDEX, "_id": doc_id}}))
        out.append(json.dumps({"@timestamp": "2024-01-01T00:00:00Z", "round": rnd, "seq": i, "id": doc_id,
                               "payload": "p" * 64}))
    return ("\n".join(out) + "\n").encode()


class Writer(threading.Thread):
    def __init__(self, port: int, rnd: int, tid: int, stop: threading.Event, deadline: float):
        super().__init__(daemon=True)
        self.port, self.rnd, self.tid, self.stop, self.deadline = port, rnd, tid, stop, deadline
        self.acked: list[str] = []
        self.sent_batches = 0
        self.errors: list[str] = []

    def run(self) -> None:
        conn = None
        batch = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            ids = [f"r{self.rnd}-t{self.tid}-b{batch}-{i}" for i in range(DOCS_PER_BULK)]
            batch += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("POST", "/_bulk", body=_bulk_body(ids, self.rnd),
                             headers={"Content-Type": "application/x-ndjson"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                # server killed (or refused): nothing from this request is acknowledged
                if conn is not None:
                    conn.close()
                conn = None
                if self.stop.is_set():
                    return
                time.sleep(0.01)
                continue
            self.sent_batches += 1
            if resp.status != 200:
                self.errors.append(f"HTTP {resp.status}: {data[:200]!r}")
                continue
            try:
                items = json.loads(data)["items"]
            except (ValueError, KeyError) as e:
                self.errors.append(f"bad bulk response {e}: {data[:200]!r}")
                continue
            for item in items:
                c = item.get("create", {})
                if c.get("status") == 201 and c.get("_id") in ids:
                    self.acked.append(c["_id"])
                else:
                    self.errors.append(f"item not created: {item}")
        if conn is not None:
            conn.close()


def _check_ids(port: int, ids: list[str], deadline: float, missing: list[str], problems: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for doc_id in ids:
            if time.monotonic() > deadline:
                problems.append("verification exceeded its time budget")
                return
            conn.request("GET", f"/{INDEX}/_doc/{doc_id}")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                missing.append(doc_id)
                continue
            src = json.loads(body).get("_source", {})
            if src.get("id") != doc_id:
                problems.append(f"{doc_id}: wrong _source {src}")
    except (OSError, http.client.HTTPException, ValueError) as e:
        problems.append(f"GET failed: {e!r}")
    finally:
        conn.close()


def _verify(srv: VigilServer, must_exist: list[str], total_acked: int, deadline: float) -> None:
    r = srv.request("POST", f"/{INDEX}/_refresh", timeout=30)
    assert r.status == 200, f"_refresh after restart failed: {r}"
    r = srv.get(f"/{INDEX}/_count", timeout=30)
    assert r.status == 200, r
    count = r.json()["count"]
    assert count >= total_acked, f"_count {count} < {total_acked} acknowledged documents"
    missing: list[str] = []
    problems: list[str] = []
    parts = [must_exist[i::4] for i in range(4)]
    threads = [threading.Thread(target=_check_ids, args=(srv.port, part, deadline, missing, problems))
               for part in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not missing, f"{len(missing)} acknowledged documents lost after kill -9, e.g. {missing[:5]}"
    assert not problems, problems[:5]


def test_kill9_keeps_acknowledged_writes(tmp_path):
    rounds = int(os.environ.get("VIGIL_CRASH_ROUNDS", "20"))
    assert rounds >= 1
    rng = random.Random(int(os.environ.get("VIGIL_CRASH_SEED", str(time.time_ns()))))
    srv = VigilServer(data_dir=tmp_path / "data", log_path=tmp_path / "vigil.log")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    all_acked: list[str] = []
    try:
        for rnd in range(rounds):
            round_deadline = time.monotonic() + ROUND_BUDGET_S
            stop = threading.Event()
            writers = [Writer(srv.port, rnd, t, stop, time.monotonic() + 5.0) for t in range(THREADS)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(0.05, 1.2))
            srv.kill()  # SIGKILL at a random moment, with requests in flight
            stop.set()
            for w in writers:
                w.join(timeout=15)
                assert not w.is_alive(), "writer thread did not stop"
            errors = [e for w in writers for e in w.errors]
            assert not errors, f"round {rnd}: bulk errors before the kill: {errors[:3]}"
            acked = [i for w in writers for i in w.acked]
            all_acked.extend(acked)
            try:
                srv.start(timeout=max(5.0, round_deadline - time.monotonic()))
            except RuntimeError as e:
                pytest.fail(f"round {rnd}: restart after kill -9 failed: {e}", pytrace=False)
            # this round's ids, plus a sample of earlier rounds' ids
            earlier = all_acked[: len(all_acked) - len(acked)]
            sample = rng.sample(earlier, min(500, len(earlier)))
            _verify(srv, acked + sample, len(all_acked), time.monotonic() + 60)
            print(f"round {rnd}: {len(acked)} acked, {len(all_acked)} total")
        assert all_acked, "no write was ever acknowledged: the test proved nothing"
    finally:
        srv.stop()
