"""Kibana's detection engine API on the real server: rule CRUD, _find, _bulk_action,
_import/_export, the scheduler (alerts in .alerts-security.alerts-default, no duplicates on
re-runs, state kept over a restart with the gap reported and searched), signals search and
status, and `vigil rules import` with Elastic's prebuilt TOML files."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from vigil_e2e import DATA_DIR, ndjson, unique, vigil_bin

RULES = "/api/detection_engine/rules"
ALERTS = ".alerts-security.alerts-default"


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rule_body(rule_id: str, **extra) -> dict:
    body = {
        "rule_id": rule_id, "name": f"Rule {rule_id}", "description": "test rule", "risk_score": 47,
        "severity": "medium", "type": "query", "query": "process.name : whoami.exe", "index": ["logs-*"],
    }
    body.update(extra)
    return body


def create(srv, body: dict) -> dict:
    r = srv.request("POST", RULES, body)
    assert r.status == 200, r
    return r.json()


def alerts_of(srv, rule_id: str) -> list[dict]:
    srv.request("POST", f"/{ALERTS}/_refresh")
    r = srv.request("POST", "/api/detection_engine/signals/search",
                    {"query": {"term": {"kibana.alert.rule.rule_id": rule_id}}, "size": 100})
    assert r.status == 200, r
    return [h["_source"] | {"_id": h["_id"]} for h in r.json()["hits"]["hits"]]


def wait_for(predicate, timeout: float = 20.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def runs(srv, rule: dict) -> list[dict]:
    r = srv.get(f"/internal/detection_engine/rules/{rule['id']}/execution/results?per_page=100")
    assert r.status == 200, r
    return r.json()["events"]


def test_crud_defaults_and_errors(server):
    rid = unique("crud")
    rule = create(server, rule_body(rid, tags=["t1"]))
    # Kibana's defaults for what the body left out.
    assert rule["enabled"] is True and rule["interval"] == "5m" and rule["from"] == "now-6m" and rule["to"] == "now"
    assert rule["max_signals"] == 100 and rule["version"] == 1 and rule["revision"] == 0
    assert rule["language"] == "kuery" and rule["immutable"] is False and rule["rule_source"] == {"type": "internal"}
    assert rule["id"] and rule["created_at"] and rule["exceptions_list"] == []
    # The same rule_id again: 409 in Kibana's shape.
    r = server.request("POST", RULES, rule_body(rid))
    assert r.status == 409 and r.json() == {"message": f'rule_id: "{rid}" already exists', "status_code": 409}
    # Missing and wrong fields, all named in one 400.
    r = server.request("POST", RULES, {"rule_id": unique("bad"), "name": "x", "type": "query", "severity": "extreme"})
    assert r.status == 400
    msg = r.json()["message"]
    assert "description: Required" in msg and "risk_score: Required" in msg and "severity" in msg
    r = server.request("POST", RULES, rule_body(unique("eql"), type="eql", language="eql", query="process where ("))
    assert r.status == 400 and r.json()["message"].startswith("EQL: line 1:")
    r = server.request("POST", RULES, rule_body(unique("kql"), query="process.name : (a or"))
    assert r.status == 400 and r.json()["message"].startswith("KQL:")
    r = server.request("POST", RULES, b"{not json", headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.json()["status_code"] == 400
    r = server.request("POST", RULES, b"\xff\xfe{}", headers={"Content-Type": "application/json"})
    assert r.status == 400
    # Read by id and by rule_id; 404 for neither.
    assert server.get(f"{RULES}?id={rule['id']}").json()["rule_id"] == rid
    assert server.get(f"{RULES}?rule_id={rid}").json()["id"] == rule["id"]
    r = server.get(f"{RULES}?rule_id=nope-{rid}")
    assert r.status == 404 and r.json()["message"] == f'rule_id: "nope-{rid}" not found'
    # PUT replaces (defaults again), PATCH merges; both bump the revision.
    r = server.request("PUT", RULES, rule_body(rid, name="Renamed", interval="10m"))
    assert r.status == 200, r
    put = r.json()
    assert put["name"] == "Renamed" and put["interval"] == "10m" and put["tags"] == [] and put["revision"] == 1
    assert put["id"] == rule["id"] and put["created_at"] == rule["created_at"]
    r = server.request("PATCH", RULES, {"rule_id": rid, "severity": "high", "tags": ["x"]})
    assert r.status == 200, r
    patched = r.json()
    assert patched["severity"] == "high" and patched["name"] == "Renamed" and patched["tags"] == ["x"] and patched["revision"] == 2
    r = server.request("PATCH", RULES, {"rule_id": rid, "risk_score": 500})
    assert r.status == 400 and "risk_score" in r.json()["message"]
    # DELETE answers with the rule, then it is gone.
    r = server.request("DELETE", f"{RULES}?rule_id={rid}")
    assert r.status == 200 and r.json()["id"] == rule["id"]
    assert server.get(f"{RULES}?id={rule['id']}").status == 404


def test_find_bulk_actions_export_import(fresh_server):
    srv = fresh_server
    tag = unique("tag")
    made = [create(srv, rule_body(f"find-{i}", name=f"Find {name}", tags=[tag] if i % 2 == 0 else [], risk_score=10 * i,
                                  enabled=False))
            for i, name in enumerate(["delta", "alpha", "charlie", "bravo"])]
    r = srv.get(f"{RULES}/_find?per_page=2&page=1&sort_field=name&sort_order=asc")
    body = r.json()
    assert body["total"] == 4 and body["perPage"] == 2 and [d["name"] for d in body["data"]] == ["Find alpha", "Find bravo"]
    r = srv.get(f"{RULES}/_find?per_page=2&page=2&sort_field=name&sort_order=asc")
    assert [d["name"] for d in r.json()["data"]] == ["Find charlie", "Find delta"]
    r = srv.get(f"{RULES}/_find?filter=alert.attributes.tags:%22{tag}%22&sort_field=risk_score&sort_order=desc")
    assert [d["rule_id"] for d in r.json()["data"]] == ["find-2", "find-0"]
    r = srv.get(f"{RULES}/_find?filter=alert.attributes.params.riskScore%20%3E%3D%2020")
    assert sorted(d["rule_id"] for d in r.json()["data"]) == ["find-2", "find-3"]
    r = srv.get(f"{RULES}/_find?filter=alert.attributes.tags:(")
    assert r.status == 400
    # Bulk enable by query, then disable by ids (an unknown id fails alone).
    r = srv.request("POST", f"{RULES}/_bulk_action", {"action": "enable", "query": f'alert.attributes.tags: "{tag}"'})
    assert r.status == 200, r
    out = r.json()
    assert out["success"] is True and out["attributes"]["summary"]["succeeded"] == 2
    assert {u["rule_id"] for u in out["attributes"]["results"]["updated"]} == {"find-0", "find-2"}
    assert all(u["enabled"] for u in out["attributes"]["results"]["updated"])
    r = srv.request("POST", f"{RULES}/_bulk_action", {"action": "disable", "ids": [made[0]["id"], "no-such-id"]})
    out = r.json()
    assert r.status == 500 and out["attributes"]["summary"] == {"failed": 1, "skipped": 0, "succeeded": 1, "total": 2}
    r = srv.request("POST", f"{RULES}/_bulk_action", {"action": "duplicate", "ids": [made[1]["id"]]})
    dup = r.json()["attributes"]["results"]["created"][0]
    assert dup["name"] == "Find alpha [Duplicate]" and dup["rule_id"] != "find-1" and dup["enabled"] is False
    # Export all: one line per rule and the summary; import them into another server.
    r = srv.request("POST", f"{RULES}/_export")
    assert r.status == 200 and r.header("content-type").startswith("application/ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert len(lines) == 6 and lines[-1]["exported_rules_count"] == 5
    r = srv.request("POST", f"{RULES}/_export", {"objects": [{"rule_id": "find-3"}, {"rule_id": "missing"}]})
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert lines[0]["rule_id"] == "find-3" and lines[-1]["missing_rules"] == [{"rule_id": "missing"}]
    r = srv.request("POST", f"{RULES}/_bulk_action", {"action": "delete", "query": ""})
    assert r.json()["attributes"]["summary"]["succeeded"] == 5
    assert srv.get(f"{RULES}/_find").json()["total"] == 0
    # Import as Kibana's UI sends it: a multipart form with the export file.
    export = "\n".join(json.dumps(x) for x in lines[:-1] + [{"rule_id": "broken", "name": "no type"}]) + "\n"
    boundary = "vigilboundary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rules.ndjson\"\r\n"
            f"Content-Type: application/ndjson\r\n\r\n{export}\r\n--{boundary}--\r\n").encode()
    r = srv.request("POST", f"{RULES}/_import", form, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status == 200, r
    out = r.json()
    assert out["success_count"] == 1 and out["rules_count"] == 2 and out["success"] is False
    assert out["errors"][0]["rule_id"] == "broken" and out["errors"][0]["error"]["status_code"] == 400
    r = srv.request("POST", f"{RULES}/_import", export.encode(), headers={"Content-Type": "application/x-ndjson"})
    assert r.json()["errors"][0]["error"]["message"] == 'rule_id: "find-3" already exists'
    r = srv.request("POST", f"{RULES}/_import?overwrite=true", ndjson(lines[:-1]), headers={"Content-Type": "application/x-ndjson"})
    assert r.json()["success_count"] == 1


def test_scheduler_alerts_status_and_no_duplicates(server):
    index = unique("logs-sched")
    rid = unique("sched")
    now = datetime.now(timezone.utc)
    docs = [
        {"@timestamp": iso(now - timedelta(seconds=30)), "event": {"category": "process", "type": "start"},
         "process": {"name": "whoami.exe", "pid": 4242}, "host": {"name": "ws-1"}, "user": {"name": "eve"}},
        {"@timestamp": iso(now - timedelta(seconds=20)), "event": {"category": "process", "type": "start"},
         "process": {"name": "notepad.exe"}, "host": {"name": "ws-1"}},
        {"@timestamp": iso(now - timedelta(hours=2)), "event": {"category": "process"},
         "process": {"name": "whoami.exe"}, "host": {"name": "old"}},
    ]
    lines = []
    for d in docs:
        lines += [{"index": {"_index": index}}, d]
    r = server.request("POST", "/_bulk?refresh=true", ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and not r.json()["errors"]
    rule = create(server, rule_body(rid, index=[index], interval="1s", **{"from": "now-10m"}))
    found = wait_for(lambda: alerts_of(server, rid))
    assert len(found) == 1, found
    a = found[0]
    assert a["kibana.alert.rule.uuid"] == rule["id"] and a["kibana.alert.rule.name"] == rule["name"]
    assert a["kibana.alert.workflow_status"] == "open" and a["kibana.alert.status"] == "active"
    assert a["kibana.alert.severity"] == "medium" and a["kibana.alert.risk_score"] == 47 and a["event.kind"] == "signal"
    assert a["kibana.alert.original_time"] == docs[0]["@timestamp"] and a["process"]["pid"] == 4242
    assert a["kibana.alert.ancestors"][0]["index"] == index and a["kibana.alert.depth"] == 1
    # Several more runs over the same window: still one alert, counted as a duplicate.
    assert wait_for(lambda: len(runs(server, rule)) >= 3)
    history = runs(server, rule)
    assert all(h["status"] == "succeeded" for h in history), history
    assert history[0]["num_duplicate_alerts"] == 1 and history[0]["num_new_alerts"] == 0
    assert len(alerts_of(server, rid)) == 1
    summary = server.get(f"{RULES}?rule_id={rid}").json()["execution_summary"]["last_execution"]
    assert summary["status"] == "succeeded" and summary["status_order"] == 0
    # Alerts are documents: KQL through _search, EQL through _eql/search.
    r = server.request("POST", f"/{ALERTS}/_search", {"query": {"kql": {"query": f'kibana.alert.rule.rule_id : "{rid}" and host.name : ws-1'}}})
    assert r.json()["hits"]["total"]["value"] == 1
    r = server.request("POST", f"/{ALERTS}/_eql/search", {"query": f'process where kibana.alert.rule.rule_id == "{rid}" and process.pid == 4242'})
    assert r.status == 200, r
    assert len(r.json()["hits"]["events"]) == 1
    # Close it by id; acknowledge by query; the next runs leave the status alone.
    r = server.request("POST", "/api/detection_engine/signals/status", {"signal_ids": [a["_id"]], "status": "closed"})
    assert r.status == 200 and r.json()["updated"] == 1
    n = len(runs(server, rule))
    assert wait_for(lambda: len(runs(server, rule)) >= n + 2)
    assert [x["kibana.alert.workflow_status"] for x in alerts_of(server, rid)] == ["closed"]
    r = server.request("POST", "/api/detection_engine/signals/status",
                       {"query": {"term": {"kibana.alert.rule.rule_id": rid}}, "status": "acknowledged"})
    assert r.json()["updated"] == 1 and r.json()["total"] == 1
    assert alerts_of(server, rid)[0]["kibana.alert.workflow_status"] == "acknowledged"
    r = server.request("POST", "/api/detection_engine/signals/status", {"signal_ids": [a["_id"]], "status": "gone"})
    assert r.status == 400
    # Disabled: no more runs.
    server.request("POST", f"{RULES}/_bulk_action", {"action": "disable", "ids": [rule["id"]]})
    time.sleep(1.5)
    n = len(runs(server, rule))
    time.sleep(2.5)
    assert len(runs(server, rule)) == n


def test_missing_index_is_a_partial_failure(server):
    rid = unique("noindex")
    rule = create(server, rule_body(rid, index=[unique("no-such-index") + "-*"], interval="1s"))
    history = wait_for(lambda: runs(server, rule))
    assert history[0]["status"] == "partial failure" and "no index matching" in history[0]["message"]
    r = server.request("POST", RULES, rule_body(unique("eqlfield"), type="eql", language="eql", interval="1s",
                                                  query="process where no.such.field == 1", index=["logs-*"]))
    bad = r.json()
    history = wait_for(lambda: runs(server, bad))
    assert history[0]["status"] == "failed" and "no.such.field" in history[0]["message"]


def test_schedule_survives_restart_and_reports_the_gap(server_factory):
    srv = server_factory("restart")
    index = unique("logs-restart")
    rid = unique("gap")
    # No lookback: each run searches exactly the last interval.
    rule = create(srv, rule_body(rid, index=[index], interval="2s", **{"from": "now-2s"}))
    assert wait_for(lambda: len(runs(srv, rule)) >= 1)
    srv.stop()
    down_at = datetime.now(timezone.utc)
    time.sleep(6)
    srv.start()
    # An event from while the server was down: only a run that searches back over the gap sees it.
    event = {"@timestamp": iso(down_at + timedelta(seconds=1)), "process": {"name": "whoami.exe"}, "host": {"name": "gap"}}
    r = srv.request("POST", f"/{index}/_doc?refresh=true", event)
    assert r.status == 201, r
    # The rule is still there, enabled; its next run reports the gap and finds the event.
    assert srv.get(f"{RULES}?rule_id={rid}").json()["enabled"] is True
    found = wait_for(lambda: alerts_of(srv, rid), timeout=20)
    assert len(found) == 1 and found[0]["host"]["name"] == "gap"
    gaps = [h for h in runs(srv, rule) if h["gap_duration_s"] > 0]
    assert gaps and gaps[-1]["status"] == "partial failure" and "not covered" in gaps[-1]["message"]
    assert gaps[-1]["gap_duration_s"] >= 4


def test_rules_import_cli_with_prebuilt_rules(fresh_server):
    folder = DATA_DIR / "detection-rules" / "linux"
    expected = len(list(folder.rglob("*.toml")))
    assert expected > 100
    cmd = [str(vigil_bin()), "rules", "import", str(folder), "--url", fresh_server.url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"imported {expected} of {expected} rules"
    found = fresh_server.get(f"{RULES}/_find?per_page=10000").json()
    assert found["total"] == expected
    assert all(r["immutable"] is True and r["enabled"] is False and r["rule_source"]["type"] == "external" for r in found["data"])
    # Again: every rule exists; --overwrite replaces them.
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and "already exists" in p.stderr
    p = subprocess.run(cmd + ["--overwrite"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == f"imported {expected} of {expected} rules"
    assert fresh_server.get(f"{RULES}/_find").json()["total"] == expected
    # No server: a clear error.
    p = subprocess.run([str(vigil_bin()), "rules", "import", str(folder), "--url", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "cannot reach" in p.stderr


def test_indicator_match_seed_scenario(server):
    """The seed scenario: an indicator index sample-ioc-001 (ip_addr, an ip field, and
    @timestamp) and a rule mapping destination.ip to ip_addr raise an alert for the event
    that talks to the listed address, enriched with the indicator."""
    ioc = unique("sample-ioc") + "-001"
    events = unique("logs-ti")
    r = server.request("PUT", f"/{ioc}", {"mappings": {"properties": {"@timestamp": {"type": "date"}, "ip_addr": {"type": "ip"},
                                                                     "threat": {"properties": {"indicator": {"properties": {"ip": {"type": "ip"}}}}}}}})
    assert r.status == 200, r
    now = datetime.now(timezone.utc)
    iocs = [{"@timestamp": iso(now), "ip_addr": "203.0.113.7", "threat": {"indicator": {"ip": "203.0.113.7", "type": "ipv4-addr", "provider": "test-feed"}}},
            {"@timestamp": iso(now), "ip_addr": "198.51.100.99"},
            {"@timestamp": iso(now - timedelta(days=90)), "ip_addr": "192.0.2.1"}]
    lines = []
    for d in iocs:
        lines += [{"index": {"_index": ioc}}, d]
    evs = [{"@timestamp": iso(now - timedelta(seconds=30)), "event": {"category": "network"}, "destination": {"ip": "203.0.113.7", "port": 443}, "host": {"name": "victim"}},
           {"@timestamp": iso(now - timedelta(seconds=20)), "event": {"category": "network"}, "destination": {"ip": "10.0.0.1"}, "host": {"name": "fine"}},
           {"@timestamp": iso(now - timedelta(seconds=10)), "event": {"category": "network"}, "destination": {"ip": "192.0.2.1"}, "host": {"name": "stale-ioc"}}]
    for d in evs:
        lines += [{"index": {"_index": events}}, d]
    r = server.request("POST", "/_bulk?refresh=true", ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and not r.json()["errors"], r
    rid = unique("im")
    rule = create(server, rule_body(
        rid, type="threat_match", index=[events], query="destination.ip : *", interval="1s", **{"from": "now-10m"},
        threat_index=[ioc.rsplit("-", 1)[0] + "-*"], threat_query='@timestamp >= "now-30d"', threat_language="kuery",
        threat_mapping=[{"entries": [{"field": "destination.ip", "type": "mapping", "value": "ip_addr"}]}]))
    assert rule["type"] == "threat_match"
    found = wait_for(lambda: alerts_of(server, rid))
    assert [a["host"]["name"] for a in found] == ["victim"], found
    a = found[0]
    assert a["kibana.alert.rule.type"] == "threat_match" and a["kibana.alert.rule.rule_type_id"] == "siem.indicatorRule"
    [enrichment] = a["threat"]["enrichments"]
    assert enrichment["matched"] == {"atomic": "203.0.113.7", "field": "destination.ip", "id": enrichment["matched"]["id"],
                                     "index": ioc, "type": "indicator_match_rule"}
    assert enrichment["indicator"]["provider"] == "test-feed"
    # A mapping of two entries needs both to match.
    rid2 = unique("im2")
    create(server, rule_body(
        rid2, type="threat_match", index=[events], query="*", interval="1s", **{"from": "now-10m"},
        threat_index=[ioc], threat_query="*",
        threat_mapping=[{"entries": [{"field": "destination.ip", "type": "mapping", "value": "ip_addr"},
                                     {"field": "host.name", "type": "mapping", "value": "threat.indicator.provider"}]}]))
    rule2 = server.get(f"{RULES}?rule_id={rid2}").json()
    assert wait_for(lambda: len(runs(server, rule2)) >= 2)
    assert alerts_of(server, rid2) == []
    r = server.request("POST", RULES, rule_body(unique("im3"), type="threat_match", query="*"))
    assert r.status == 400 and "threat_index: Required" in r.json()["message"]


def bulk_events(srv, index: str, docs: list[dict]) -> None:
    lines = []
    for d in docs:
        lines += [{"index": {"_index": index}}, d]
    r = srv.request("POST", "/_bulk?refresh=true", ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and not r.json()["errors"], r


def test_alert_suppression(server):
    index = unique("logs-supp")
    now = datetime.now(timezone.utc)
    hosts = ["h1", "h1", "h2", "h1", "h2", None, None]
    bulk_events(server, index, [
        {"@timestamp": iso(now - timedelta(seconds=60 - i)), "process": {"name": "whoami.exe"}, "user": {"name": "eve"}}
        | ({"host": {"name": h}} if h else {}) for i, h in enumerate(hosts)])
    # Per execution: one alert per host; events without host.name form their own group.
    rid = unique("supp")
    create(server, rule_body(rid, index=[index], interval="1s", **{"from": "now-10m"},
                             alert_suppression={"group_by": ["host.name"]}))
    found = wait_for(lambda: alerts_of(server, rid))
    groups = {a["kibana.alert.suppression.terms"][0]["value"]: a["kibana.alert.suppression.docs_count"] for a in found}
    assert len(found) == 3 and groups == {"h1": 2, "h2": 1, None: 1}
    h1 = next(a for a in found if a["kibana.alert.suppression.terms"][0]["value"] == "h1")
    assert h1["kibana.alert.suppression.terms"] == [{"field": "host.name", "value": "h1"}]
    assert h1["kibana.alert.suppression.start"] < h1["kibana.alert.suppression.end"]
    # doNotSuppress: events missing the field keep their own alerts.
    rid2 = unique("supp-missing")
    create(server, rule_body(rid2, index=[index], interval="1s", **{"from": "now-10m"},
                             alert_suppression={"group_by": ["host.name"], "missing_fields_strategy": "doNotSuppress"}))
    found = wait_for(lambda: len(alerts_of(server, rid2)) >= 4 and alerts_of(server, rid2))
    assert len(found) == 4
    # For a duration: later events of the group count on the same alert.
    rid3 = unique("supp-duration")
    rule3 = create(server, rule_body(rid3, index=[index], interval="1s", **{"from": "now-10m"},
                                     alert_suppression={"group_by": ["user.name"], "duration": {"value": 5, "unit": "m"}}))
    found = wait_for(lambda: alerts_of(server, rid3))
    assert len(found) == 1 and found[0]["kibana.alert.suppression.docs_count"] == 6
    bulk_events(server, index, [{"@timestamp": iso(datetime.now(timezone.utc)), "process": {"name": "whoami.exe"}, "user": {"name": "eve"}}])
    # (The engine's update of the alert shows at the next refresh: the checks retry.)
    def counts():
        return [a["kibana.alert.suppression.docs_count"] for a in alerts_of(server, rid3)]
    assert wait_for(lambda: counts() == [7])
    n = len(runs(server, rule3))
    assert wait_for(lambda: len(runs(server, rule3)) >= n + 2)
    assert wait_for(lambda: counts() == [7])
    r = server.request("POST", RULES, rule_body(unique("supp-bad"), alert_suppression={"group_by": ["a", "b", "c", "d"]}))
    assert r.status == 400 and "group_by" in r.json()["message"]


def test_sequence_alert_suppression(server):
    """EQL sequences are suppressed whole (Kibana 8.18): grouped by the sequence alert's
    fields; a suppressed sequence's building-block alerts are not written either."""
    index = unique("logs-seqsupp")
    now = datetime.now(timezone.utc)
    steps = [("h1", "a.exe"), ("h1", "b.exe"), ("h1", "a.exe"), ("h1", "b.exe"), ("h2", "a.exe"), ("h2", "b.exe")]
    bulk_events(server, index, [
        {"@timestamp": iso(now - timedelta(seconds=60 - i)), "event": {"category": ["process"]}, "host": {"name": h}, "process": {"name": p}}
        for i, (h, p) in enumerate(steps)])
    rid = unique("seqsupp")
    create(server, rule_body(rid, type="eql", language="eql", index=[index], interval="1s", **{"from": "now-10m"},
                             query='sequence by host.name [process where process.name == "a.exe"] [process where process.name == "b.exe"]',
                             alert_suppression={"group_by": ["host.name"]}))
    found = wait_for(lambda: len(alerts_of(server, rid)) >= 6 and alerts_of(server, rid))
    shells = [a for a in found if "kibana.alert.group.index" not in a]
    blocks = [a for a in found if "kibana.alert.group.index" in a]
    assert sorted((a["host"]["name"], a["kibana.alert.suppression.docs_count"]) for a in shells) == [("h1", 1), ("h2", 0)]
    # Only the kept sequences' building blocks: two per sequence, in its group.
    assert len(blocks) == 4
    assert {b["kibana.alert.group.id"] for b in blocks} == {s["kibana.alert.group.id"] for s in shells}


def test_endpoint_templates_type_events_as_ecs(server):
    r = server.get("/_index_template/logs-endpoint.events.*")
    names = {t["name"] for t in r.json()["index_templates"]}
    assert {f"logs-endpoint.events.{s}" for s in ["process", "file", "network", "library", "registry"]} <= names
    stream = "logs-endpoint.events.process-" + unique("ns")
    doc = {"@timestamp": iso(datetime.now(timezone.utc)), "process": {"pid": "4242", "name": "cmd.exe", "args": ["cmd.exe", "/c"],
           "Ext": {"token": {"integrity_level_name": "high"}}}, "host": {"ip": ["10.0.0.1"], "os": {"type": "windows"}},
           "event": {"category": ["process"], "type": ["start"]}, "custom": {"x": 1}}
    r = server.request("POST", "/_bulk?refresh=true", ndjson([{"create": {"_index": stream}}, doc]), headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and not r.json()["errors"], r
    fields = server.get(f"/{stream}/_mapping/field/process.pid,process.name,host.ip,@timestamp,host.os.type").json()
    [backing] = fields.values()
    m = backing["mappings"]
    assert m["process.pid"]["mapping"]["pid"]["type"] == "long"
    assert m["process.name"]["mapping"]["name"]["type"] == "keyword"
    assert m["process.name"]["mapping"]["name"]["fields"]["text"]["type"] == "match_only_text"
    assert m["host.ip"]["mapping"]["ip"]["type"] == "ip" and m["@timestamp"]["mapping"]["@timestamp"]["type"] == "date"
    # The typed fields answer as typed: a range on the pid, a CIDR on the address.
    q = {"query": {"bool": {"filter": [{"range": {"process.pid": {"gte": 4000}}}, {"term": {"host.ip": "10.0.0.0/8"}}]}}}
    assert server.request("POST", f"/{stream}/_count", q).json()["count"] == 1
    # ECS plus a custom field: more than the default 1,000 fields, as the template's limit allows.
    settings = server.get(f"/{stream}/_settings").json()
    [s] = settings.values()
    assert s["settings"]["index"]["mapping"]["total_fields"]["limit"] == "10000"


def test_total_fields_limit_setting(server):
    name = unique("limits")
    props = {f"f{i}": {"type": "keyword"} for i in range(1500)}
    r = server.request("PUT", f"/{name}-small", {"mappings": {"properties": props}})
    assert r.status == 400 and "Limit of total fields [1000] has been exceeded" in r.text
    r = server.request("PUT", f"/{name}-big", {"settings": {"index.mapping.total_fields.limit": 2000}, "mappings": {"properties": props}})
    assert r.status == 200, r
    r = server.request("PUT", f"/{name}-big/_mapping", {"properties": {f"g{i}": {"type": "keyword"} for i in range(600)}})
    assert r.status == 400 and "[2000]" in r.text
    r = server.request("PUT", f"/{name}-big/_settings", {"index.mapping.total_fields.limit": 3000})
    assert r.status == 200, r
    r = server.request("PUT", f"/{name}-big/_mapping", {"properties": {f"g{i}": {"type": "keyword"} for i in range(600)}})
    assert r.status == 200, r
