"""Kibana's exception lists and value lists on the real server, and a rule's exceptions_list
taking events out of its alerts: is, is not, is one of, exists, matches, is in list, items
of several entries, and the rule's own (rule_default) list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from test_detection_api import RULES, alerts_of, create, iso, rule_body, runs, wait_for
from vigil_e2e import ndjson, unique

LISTS = "/api/exception_lists"


def test_exception_and_value_list_api(server):
    lid = unique("exc-list")
    r = server.request("POST", LISTS, {"list_id": lid, "name": "Known admins", "description": "d", "type": "detection"})
    assert r.status == 200, r
    made = r.json()
    assert made["list_id"] == lid and made["namespace_type"] == "single" and made["id"]
    r = server.request("POST", LISTS, {"list_id": lid, "name": "again", "description": "d", "type": "detection"})
    assert r.status == 409 and r.json()["status_code"] == 409
    assert server.get(f"{LISTS}?list_id={lid}").json()["name"] == "Known admins"
    assert server.get(f"{LISTS}?list_id=missing-{lid}").status == 404
    r = server.request("PUT", LISTS, {"list_id": lid, "name": "Renamed", "description": "d2", "type": "detection"})
    assert r.json()["name"] == "Renamed" and r.json()["version"] == 2
    item = {"list_id": lid, "item_id": unique("item"), "name": "alice", "description": "d", "type": "simple",
            "entries": [{"field": "user.name", "operator": "included", "type": "match", "value": "alice"}]}
    r = server.request("POST", f"{LISTS}/items", item)
    assert r.status == 200, r
    assert r.json()["item_id"] == item["item_id"] and r.json()["entries"] == item["entries"]
    assert server.request("POST", f"{LISTS}/items", item).status == 409
    r = server.request("POST", f"{LISTS}/items", item | {"list_id": "no-such-list", "item_id": unique("x")})
    assert r.status == 404 and "does not exist" in r.json()["message"]
    r = server.request("POST", f"{LISTS}/items", item | {"item_id": unique("x"), "entries": [{"field": "a", "operator": "maybe", "type": "match", "value": "x"}]})
    assert r.status == 400 and "operator" in r.json()["message"]
    r = server.request("POST", f"{LISTS}/items", item | {"item_id": unique("x"), "entries": [{"field": "a", "operator": "included", "type": "match_any", "value": []}]})
    assert r.status == 400
    found = server.get(f"{LISTS}/items/_find?list_id={lid}").json()
    assert found["total"] == 1 and found["data"][0]["name"] == "alice"
    r = server.request("PUT", f"{LISTS}/items", item | {"name": "alice2"})
    assert r.json()["name"] == "alice2"
    assert server.request("DELETE", f"{LISTS}/items?item_id={item['item_id']}").status == 200
    assert server.get(f"{LISTS}/items/_find?list_id={lid}").json()["total"] == 0
    assert any(x["list_id"] == lid for x in server.get(f"{LISTS}/_find?per_page=1000").json()["data"])
    assert server.request("DELETE", f"{LISTS}?list_id={lid}").status == 200
    assert server.get(f"{LISTS}?list_id={lid}").status == 404
    # Value lists: create, add, import a file of values, find, read one, delete.
    vid = unique("ips")
    assert server.request("POST", "/api/lists/index").status == 200
    r = server.request("POST", "/api/lists", {"id": vid, "name": "Scanners", "description": "d", "type": "ip"})
    assert r.status == 200 and r.json()["type"] == "ip"
    assert server.request("POST", "/api/lists", {"id": vid, "name": "x", "type": "ip"}).status == 409
    assert server.request("POST", "/api/lists/items", {"list_id": vid, "value": "10.9.9.9"}).status == 200
    boundary = "b0undary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ips.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n10.1.2.3\n10.1.2.4\n10.9.9.9\n\r\n--{boundary}--\r\n").encode()
    r = server.request("POST", f"/api/lists/items/_import?list_id={vid}", form, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status == 200, r
    values = server.get(f"/api/lists/items/_find?list_id={vid}&per_page=100").json()
    assert values["total"] == 3 and sorted(v["value"] for v in values["data"]) == ["10.1.2.3", "10.1.2.4", "10.9.9.9"]
    assert server.get(f"/api/lists/items?list_id={vid}&value=10.1.2.4").json()[0]["value"] == "10.1.2.4"
    assert server.request("DELETE", f"/api/lists/items?list_id={vid}&value=10.1.2.4").status == 200
    assert server.get(f"/api/lists/items?list_id={vid}&value=10.1.2.4").status == 404
    assert server.request("DELETE", f"/api/lists?id={vid}").status == 200
    assert server.get(f"/api/lists?id={vid}").status == 404


def test_rule_exceptions_take_events_out(server):
    index = unique("logs-exc")
    now = datetime.now(timezone.utc)
    # As ECS maps them (a wildcard on a text field would look at its words, as in Elasticsearch).
    keyword = {"type": "keyword"}
    r = server.request("PUT", f"/{index}", {"mappings": {"properties": {
        "user.name": keyword, "host.name": keyword, "process.name": keyword, "process.parent.name": keyword, "source.ip": {"type": "ip"}}}})
    assert r.status == 200, r
    people = [
        ("alice", "h1", {}), ("bob", "h2", {}), ("carol", "build-01", {}),
        ("dave", "h4", {"process": {"name": "whoami.exe", "parent": {"name": "svc.exe"}}}),
        ("erin", "h5", {"source": {"ip": "10.1.2.3"}}), ("frank", "h6", {}), ("bob", "h7", {}),
    ]
    lines = []
    for i, (user, host, extra) in enumerate(people):
        doc = {"@timestamp": iso(now - timedelta(seconds=60 - i)), "event": {"category": "process"},
               "process": {"name": "whoami.exe"}, "user": {"name": user}, "host": {"name": host}}
        doc.update(extra)
        lines += [{"index": {"_index": index}}, doc]
    r = server.request("POST", "/_bulk?refresh=true", ndjson(lines), headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and not r.json()["errors"]
    vid = unique("scanners")
    server.request("POST", "/api/lists", {"id": vid, "name": "Scanners", "description": "d", "type": "ip"})
    server.request("POST", "/api/lists/items", {"list_id": vid, "value": "10.1.2.3"})
    lid = unique("exc")
    server.request("POST", LISTS, {"list_id": lid, "name": "Known", "description": "d", "type": "detection"})
    items = [
        [{"field": "user.name", "operator": "included", "type": "match", "value": "alice"}],
        [{"field": "user.name", "operator": "included", "type": "match_any", "value": ["bob", "zed"]},
         {"field": "host.name", "operator": "included", "type": "match", "value": "h2"}],
        [{"field": "host.name", "operator": "included", "type": "wildcard", "value": "build-*"}],
        [{"field": "process.parent.name", "operator": "included", "type": "exists"}],
        [{"field": "source.ip", "operator": "included", "type": "list", "list": {"id": vid, "type": "ip"}}],
        # "is not frank" and h6: frank on h6 stays.
        [{"field": "user.name", "operator": "excluded", "type": "match", "value": "frank"},
         {"field": "host.name", "operator": "included", "type": "match", "value": "h6"}],
        # Expired: no longer applies.
        {"expire_time": iso(now - timedelta(days=1)), "entries": [{"field": "user.name", "operator": "included", "type": "match", "value": "frank"}]},
    ]
    for i, entries in enumerate(items):
        body = {"list_id": lid, "name": f"item {i}", "description": "d", "type": "simple"}
        body |= entries if isinstance(entries, dict) else {"entries": entries}
        r = server.request("POST", f"{LISTS}/items", body)
        assert r.status == 200, r
    rid = unique("exc-rule")
    create(server, rule_body(rid, index=[index], interval="1s", **{"from": "now-10m"},
                             exceptions_list=[{"id": "x", "list_id": lid, "type": "detection", "namespace_type": "single"}]))
    found = wait_for(lambda: alerts_of(server, rid))
    assert sorted((a["user"]["name"], a["host"]["name"]) for a in found) == [("bob", "h7"), ("frank", "h6")]

    # The rule's own list: made by POST rules/{id}/exceptions, attached to the rule.
    rid2 = unique("exc-default")
    rule2 = create(server, rule_body(rid2, index=[index], interval="1s", enabled=False, **{"from": "now-10m"}))
    r = server.request("POST", f"{RULES}/{rule2['id']}/exceptions", {"items": [
        {"name": "not bob", "description": "d", "type": "simple",
         "entries": [{"field": "user.name", "operator": "included", "type": "match", "value": "bob"}]}]})
    assert r.status == 200, r
    [made] = r.json()
    attached = server.get(f"{RULES}?rule_id={rid2}").json()["exceptions_list"]
    assert [x["type"] for x in attached] == ["rule_default"] and attached[0]["list_id"] == made["list_id"]
    server.request("POST", f"{RULES}/_bulk_action", {"action": "enable", "ids": [rule2["id"]]})
    found = wait_for(lambda: alerts_of(server, rid2))
    assert len(found) == 5 and all(a["user"]["name"] != "bob" for a in found)
    # An EQL rule takes the same exceptions.
    rid3 = unique("exc-eql")
    rule3 = create(server, rule_body(rid3, type="eql", language="eql", query='process where process.name == "whoami.exe"',
                                     index=[index], interval="1s", **{"from": "now-10m"},
                                     exceptions_list=[{"id": "x", "list_id": lid, "type": "detection", "namespace_type": "single"}]))
    found = wait_for(lambda: alerts_of(server, rid3))
    assert sorted(a["user"]["name"] for a in found) == ["bob", "frank"], runs(server, rule3)


def test_import_carries_exception_lists(server):
    """A Kibana export holds the rules' exception lists and items after the rules: `_import`
    creates them (overwrite_exceptions replaces an existing list) and the rule uses them."""
    from test_detection_api import bulk_events

    index = unique("logs-impexc")
    now = datetime.now(timezone.utc)
    bulk_events(server, index, [
        {"@timestamp": iso(now - timedelta(seconds=30 - i)), "process": {"name": "whoami.exe"}, "user": {"name": u}}
        for i, u in enumerate(["alice", "bob", "carol"])])
    lid, rid = unique("exported-list"), unique("exported-rule")
    export = [
        rule_body(rid, index=[index], interval="1s", enabled=True, **{"from": "now-10m"},
                  exceptions_list=[{"id": "id-in-the-other-kibana", "list_id": lid, "type": "detection", "namespace_type": "single"}]),
        {"id": "old-id", "list_id": lid, "name": "Admins", "description": "d", "type": "detection", "namespace_type": "single",
         "created_at": "2025-01-01T00:00:00.000Z", "tie_breaker_id": "x", "_version": "WzEsMV0="},
        {"id": "old-item", "item_id": unique("item"), "list_id": lid, "name": "alice", "description": "d", "type": "simple",
         "namespace_type": "single", "entries": [{"field": "user.name", "operator": "included", "type": "match", "value": "alice"}]},
        {"exported_count": 3, "exported_rules_count": 1, "exported_exception_list_count": 1, "exported_exception_list_item_count": 1},
    ]
    headers = {"Content-Type": "application/x-ndjson"}
    r = server.request("POST", f"{RULES}/_import", ndjson(export), headers=headers)
    assert r.status == 200, r
    out = r.json()
    assert out["success_count"] == 1 and out["exceptions_success"] and out["exceptions_success_count"] == 2, out
    made = server.get(f"{LISTS}?list_id={lid}").json()
    assert made["name"] == "Admins" and made["id"] != "old-id"
    assert server.get(f"{LISTS}/items/_find?list_id={lid}").json()["total"] == 1
    rule = server.get(f"{RULES}?rule_id={rid}").json()
    assert rule["exceptions_list"][0]["id"] == made["id"]
    # The imported item takes alice's event out of the rule's alerts.
    found = wait_for(lambda: len(alerts_of(server, rid)) >= 2 and alerts_of(server, rid))
    assert sorted(a["user"]["name"] for a in found) == ["bob", "carol"]
    # Again: the list exists, so it is skipped with an error unless overwrite_exceptions.
    r = server.request("POST", f"{RULES}/_import?overwrite=true", ndjson(export), headers=headers)
    out = r.json()
    assert not out["exceptions_success"] and out["exceptions_errors"][0]["error"]["status_code"] == 409, out
    assert out["exceptions_errors"][0]["list_id"] == lid
    r = server.request("POST", f"{RULES}/_import?overwrite=true&overwrite_exceptions=true", ndjson(export), headers=headers)
    out = r.json()
    assert out["exceptions_success"] and out["exceptions_success_count"] == 2, out
    assert server.get(f"{LISTS}/items/_find?list_id={lid}").json()["total"] == 1


def test_rules_import_cli_carries_exception_lists(server, tmp_path):
    import subprocess

    from vigil_e2e import vigil_bin

    lid, rid = unique("cli-list"), unique("cli-rule")
    export = [
        rule_body(rid, exceptions_list=[{"id": "x", "list_id": lid, "type": "detection", "namespace_type": "single"}]),
        {"list_id": lid, "name": "Admins", "description": "d", "type": "detection", "namespace_type": "single"},
        {"item_id": unique("item"), "list_id": lid, "name": "alice", "description": "d", "type": "simple", "namespace_type": "single",
         "entries": [{"field": "user.name", "operator": "included", "type": "match", "value": "alice"}]},
        {"exported_count": 3},
    ]
    path = tmp_path / "export.ndjson"
    path.write_bytes(ndjson(export))
    cmd = [str(vigil_bin()), "rules", "import", str(path), "--url", server.url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "imported 1 of 1 rules; 2 exception lists and items"
    assert server.get(f"{LISTS}/items/_find?list_id={lid}").json()["total"] == 1
    # Again without --overwrite: the rule and the list exist.
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and f"exception list {lid}" in p.stderr
    p = subprocess.run(cmd + ["--overwrite"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
