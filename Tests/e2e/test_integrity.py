"""Damaged and missing files: reported or repaired, never wrong answers, nothing acknowledged lost.

Each test writes data through the real server, stops or kills it, damages the data directory
the way a disk, an operator or a crash would, starts it again and checks what it answers:
- a flipped byte in a segment's columns.bin: the index is reported corrupt (never a wrong sum),
  the others keep answering, the cluster is red;
- a flipped byte in the middle of a write-ahead log: one record is lost and reported, the
  acknowledged documents after it are all back;
- settings.json or deletes.bin removed: the index is reported and left on disk, deleted
  documents never come back;
- an _id of 70,000 bytes is refused and the documents acknowledged after it survive kill -9;
- a stored rule whose schedule cannot be planned fails its run; the server stays up.
"""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import time
from pathlib import Path

from vigil_e2e import VigilServer, assert_es_error, ndjson

NDJSON = {"Content-Type": "application/x-ndjson"}


def make_server(tmp_path: Path) -> VigilServer:
    srv = VigilServer(data_dir=tmp_path / "data", log_path=tmp_path / "vigil.log")
    srv.start()
    return srv


def bulk(srv: VigilServer, index: str, docs: list[tuple[str, dict]], refresh: bool) -> None:
    body = ndjson([x for doc_id, src in docs for x in ({"index": {"_index": index, "_id": doc_id}}, src)])
    r = srv.request("POST", "/_bulk" + ("?refresh=true" if refresh else ""), body, headers=NDJSON)
    assert r.status == 200 and r.json()["errors"] is False, r


def flip(path: str, at: float) -> None:
    data = bytearray(Path(path).read_bytes())
    data[int(len(data) * at)] ^= 0x5A
    Path(path).write_bytes(bytes(data))


def test_flipped_byte_in_columns_is_reported_not_served(tmp_path):
    srv = make_server(tmp_path)
    bulk(srv, "victim", [(str(i), {"n": i, "k": f"v{i % 7}"}) for i in range(3000)], refresh=True)
    bulk(srv, "bystander", [(str(i), {"n": i}) for i in range(10)], refresh=True)
    srv.stop()
    columns = glob.glob(str(srv.data_dir / "indices" / "victim" / "segments" / "*" / "columns.bin"))
    assert len(columns) == 1
    flip(columns[0], 0.5)
    srv.start()
    r = srv.request("POST", "/victim/_search", {"size": 0, "aggs": {"s": {"sum": {"field": "n"}}}})
    assert_es_error(r, 500, "corrupt_index_exception", reason_contains="checksum")
    assert srv.get("/bystander/_count").json()["count"] == 10
    assert srv.get("/_cluster/health").json()["status"] == "red"
    rows = srv.get("/_cat/indices?format=json").json()
    assert {"victim": "red"}.items() <= {row["index"]: row["health"] for row in rows}.items()
    # Nothing replaces or removes it: an operator decides.
    assert_es_error(srv.request("PUT", "/victim", {}), 500, "corrupt_index_exception")
    assert os.path.exists(columns[0])
    assert "fails its checksum" in srv.log_tail()
    srv.stop()


def test_flipped_byte_in_the_log_costs_one_record(tmp_path):
    srv = make_server(tmp_path)
    for b in range(20):
        bulk(srv, "logged", [(f"{b}-{i}", {"b": b, "i": i, "pad": "x" * 40}) for i in range(50)], refresh=False)
    srv.kill()  # nothing refreshed: every document lives only in the log
    logs = sorted(glob.glob(str(srv.data_dir / "indices" / "logged" / "wal" / "wal-*.log")))
    assert logs
    biggest = max(logs, key=os.path.getsize)
    flip(biggest, 0.1)
    srv.start()
    srv.request("POST", "/logged/_refresh")
    count = srv.get("/logged/_count").json()["count"]
    # One record at 10% of the file is lost; the 90% after it are replayed.
    assert 998 <= count <= 999, count
    assert "damaged bytes" in srv.log_tail()
    assert srv.get("/logged/_doc/19-49").status == 200
    srv.stop()


def test_missing_settings_keeps_the_index_on_disk(tmp_path):
    srv = make_server(tmp_path)
    bulk(srv, "unsettled", [(str(i), {"n": i}) for i in range(100)], refresh=True)
    srv.stop()
    folder = srv.data_dir / "indices" / "unsettled"
    os.remove(folder / "settings.json")
    srv.start()
    assert_es_error(srv.get("/unsettled/_count"), 500, "corrupt_index_exception", reason_contains="settings.json is missing")
    assert (folder / "segments").exists() and any((folder / "segments").iterdir())
    assert "settings.json is missing" in srv.log_tail()
    srv.stop()


def test_missing_deletes_never_resurrects(tmp_path):
    srv = make_server(tmp_path)
    bulk(srv, "pruned", [(str(i), {"n": i}) for i in range(500)], refresh=True)
    body = ndjson([{"delete": {"_index": "pruned", "_id": str(i)}} for i in range(200)])
    assert srv.request("POST", "/_bulk?refresh=true", body, headers=NDJSON).status == 200
    assert srv.get("/pruned/_count").json()["count"] == 300
    srv.stop()
    deletes = glob.glob(str(srv.data_dir / "indices" / "pruned" / "segments" / "*" / "deletes.bin"))
    assert deletes
    for d in deletes:
        os.remove(d)
    srv.start()
    r = srv.get("/pruned/_count")
    assert r.status != 200 or r.json()["count"] == 300, r
    assert_es_error(r, 500, "corrupt_index_exception", reason_contains="deletes.bin")
    srv.stop()


def test_overlong_id_is_refused_and_later_documents_survive(tmp_path):
    srv = make_server(tmp_path)
    bulk(srv, "ids", [("before", {"n": 1})], refresh=False)
    body = ndjson([{"index": {"_index": "ids", "_id": "x" * 70_000}}, {"n": 2},
                   {"index": {"_index": "ids", "_id": "after"}}, {"n": 3}])
    r = srv.request("POST", "/_bulk", body, headers=NDJSON)
    assert r.status == 200
    items = r.json()["items"]
    assert items[0]["index"]["status"] == 400 and "too long" in items[0]["index"]["error"]["reason"]
    assert items[1]["index"]["status"] == 201
    r = srv.request("PUT", "/ids/_doc/" + "y" * 70_000, {"n": 4})
    assert r.status in (400, 414)  # the request line alone is over http.max_initial_line_length
    r = srv.request("PUT", "/ids/_doc/" + "y" * 600, {"n": 4})
    assert_es_error(r, 400, "illegal_argument_exception", reason_contains="too long")
    bulk(srv, "ids", [("last", {"n": 5})], refresh=False)
    srv.kill()
    srv.start()
    for doc_id in ("before", "after", "last"):
        assert srv.get(f"/ids/_doc/{doc_id}").status == 200, doc_id
    srv.request("POST", "/ids/_refresh")
    assert srv.get("/ids/_count").json()["count"] == 3
    srv.stop()


def test_unplannable_stored_rule_fails_its_run_not_the_server(tmp_path):
    srv = make_server(tmp_path)
    rule = {"rule_id": "far", "name": "far", "description": "d", "risk_score": 1, "severity": "low", "type": "query",
            "query": "a : b", "index": ["logs-*"], "interval": "1s", "from": "now-1m", "enabled": True}
    r = srv.request("POST", "/api/detection_engine/rules", {**rule, "from": "now-999999999999999d"})
    assert r.status == 400 and "from" in r.json()["message"], r
    r = srv.request("POST", "/api/detection_engine/rules", {**rule, "interval": "99999999999999999999d"})
    assert r.status == 400 and "interval" in r.json()["message"], r
    r = srv.request("POST", "/api/detection_engine/rules", rule)
    assert r.status == 200, r
    srv.stop()
    # A rule written before its values were checked, or edited by hand.
    db = sqlite3.connect(srv.data_dir / "control.sqlite")
    tables = [t for (t,) in db.execute("select name from sqlite_master where type='table'")]
    table = "rules"
    assert table in tables
    body_col = "json"
    (body,) = db.execute(f"select {body_col} from {table}").fetchone()
    stored = json.loads(body)
    stored["from"] = "now-999999999999999d"
    db.execute(f"update {table} set {body_col} = ?", (json.dumps(stored),))
    db.commit()
    db.close()
    for _ in range(2):  # the server must stay up across restarts with the rule stored
        srv.start()
        time.sleep(4)
        assert srv.alive(), srv.log_tail()
        srv.assert_healthy()
        srv.stop()
    srv.start()
    deadline = time.monotonic() + 20
    while True:
        found = srv.get("/api/detection_engine/rules?rule_id=far").json()
        summary = found.get("execution_summary", {}).get("last_execution", {})
        if summary.get("status") == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert summary.get("status") == "failed" and "from" in summary.get("message", ""), found
    srv.stop()


def test_custom_date_format_with_huge_years_is_refused(tmp_path):
    """A date field with a custom pattern: digit runs too long for a date, or years past what
    epoch milliseconds hold, are a mapping error for that document, not a crash (found by the
    datemath fuzzer)."""
    srv = make_server(tmp_path)
    r = srv.request("PUT", "/dates", {"mappings": {"properties": {"d": {"type": "date", "format": "yyyy"}}}})
    assert r.status == 200, r
    for value in ("300000000", "999999999999999999", "99999999999999999999"):
        r = srv.request("POST", "/dates/_doc", {"d": value})
        assert_es_error(r, 400, {"mapper_parsing_exception", "document_parsing_exception"})
    assert srv.request("POST", "/dates/_doc?refresh=true", {"d": "2026"}).status == 201
    srv.assert_healthy()
    assert srv.get("/dates/_count").json()["count"] == 1
    srv.stop()

