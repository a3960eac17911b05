"""kill -9 while refreshes, merges and a rule cycle run, not only during `_bulk`.

Each round: two writers send `_bulk` requests of new documents with known ids, a third thread
asks for `_refresh` and `_forcemerge` over and over, and a custom query rule runs every second
over the same index, writing alerts. The server is killed with SIGKILL at a random moment and
started again on the same data directory. Then every acknowledged id must be there, no index may
be reported damaged (the cluster is not red), and no alert may exist twice.

VIGIL_PHASE_ROUNDS sets the number of rounds (default 8).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time

from vigil_e2e import VigilServer

INDEX = "logs-phases"
ROUNDS = int(os.environ.get("VIGIL_PHASE_ROUNDS", "8"))


class Writer(threading.Thread):
    def __init__(self, port: int, tag: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.tag, self.stop = port, tag, stop
        self.acked: list[str] = []

    def run(self) -> None:
        batch = 0
        conn = None
        while not self.stop.is_set():
            ids = [f"{self.tag}-{batch}-{i}" for i in range(40)]
            batch += 1
            lines = []
            for i, doc_id in enumerate(ids):
                lines.append(json.dumps({"create": {"_index": INDEX, "_id": doc_id}}))
                lines.append(json.dumps({"@timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                         "process": {"name": "whoami" if i % 10 == 0 else "sshd"}, "n": i}))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("POST", "/_bulk", body="\n".join(lines) + "\n", headers={"Content-Type": "application/x-ndjson"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status == 200:
                    for item in json.loads(body)["items"]:
                        if item["create"]["status"] == 201:
                            self.acked.append(item["create"]["_id"])
            except (OSError, http.client.HTTPException, ValueError):
                conn = None
                time.sleep(0.01)


class Housekeeper(threading.Thread):
    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop

    def run(self) -> None:
        k = 0
        while not self.stop.is_set():
            k += 1
            path = f"/{INDEX}/_forcemerge?max_num_segments=1" if k % 4 == 0 else f"/{INDEX}/_refresh"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("POST", path)
                conn.getresponse().read()
                conn.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)


def missing_ids(srv: VigilServer, ids: list[str]) -> list[str]:
    """The ids of `ids` that an `ids` query does not find, asked 1,000 at a time."""
    lost: list[str] = []
    for k in range(0, len(ids), 1000):
        chunk = ids[k:k + 1000]
        r = srv.request("POST", f"/{INDEX}/_search",
                        {"size": len(chunk), "_source": False, "query": {"ids": {"values": chunk}}})
        assert r.status == 200, r
        found = {h["_id"] for h in r.json()["hits"]["hits"]}
        lost.extend(i for i in chunk if i not in found)
    return lost


def test_kill_during_refresh_merge_and_rule_cycle(tmp_path):
    srv = VigilServer(data_dir=tmp_path / "data", log_path=tmp_path / "vigil.log")
    srv.start()
    rule = {"rule_id": "phases-whoami", "name": "whoami", "description": "d", "risk_score": 21, "severity": "low",
            "type": "query", "query": "process.name : whoami", "index": [INDEX], "interval": "1s", "from": "now-1h",
            "enabled": True}
    r = srv.request("POST", "/api/detection_engine/rules", rule)
    assert r.status == 200, r
    acked: list[str] = []
    rng = random.Random(int(os.environ.get("VIGIL_PHASE_SEED", "17")))
    for rnd in range(ROUNDS):
        stop = threading.Event()
        writers = [Writer(srv.port, f"r{rnd}w{w}", stop) for w in range(2)]
        keeper = Housekeeper(srv.port, stop)
        for t in (*writers, keeper):
            t.start()
        time.sleep(rng.uniform(0.8, 3.0))
        srv.kill()
        stop.set()
        for t in (*writers, keeper):
            t.join(timeout=15)
        for w in writers:
            acked.extend(w.acked)
        srv.start()
        srv.assert_healthy()
        health = srv.get("/_cluster/health").json()
        assert health["status"] != "red", (health, srv.log_tail())
        srv.request("POST", f"/{INDEX}/_refresh")
        lost = missing_ids(srv, acked)
        assert not lost, f"round {rnd}: {len(lost)} acknowledged documents lost, e.g. {lost[:5]}"
        assert srv.get(f"/{INDEX}/_count").json()["count"] >= len(acked)
    # Let the rule run after the last restart, then check no alert was raised twice.
    time.sleep(3)
    srv.request("POST", "/.alerts-security.alerts-default/_refresh")
    r = srv.request("POST", "/.alerts-security.alerts-default/_search",
                    {"size": 0, "track_total_hits": True,
                     "aggs": {"ids": {"cardinality": {"field": "kibana.alert.uuid"}},
                              "originals": {"cardinality": {"field": "kibana.alert.ancestors.id"}}}})
    assert r.status == 200, r
    body = r.json()
    total = body["hits"]["total"]["value"]
    assert total > 0
    assert body["aggregations"]["ids"]["value"] == total
    assert body["aggregations"]["originals"]["value"] == total
    # A crash leaves torn tails and half-written segments, never something reported as damage.
    assert "damaged" not in srv.log_tail(1_000_000) and "cannot be opened" not in srv.log_tail(1_000_000)
    srv.stop()
