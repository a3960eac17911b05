"""Connectors and rule actions on the real server: a webhook connector posting to a loopback
HTTP server this test starts, and an index connector, fired once per batch of new alerts
with Kibana's mustache variables; nothing fires when a run finds only alerts it already raised."""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_detection_api import alerts_of, bulk_events, create, iso, rule_body, runs, wait_for
from vigil_e2e import unique

CONNECTOR = "/api/actions/connector"


@pytest.fixture
def hook():
    """A loopback HTTP server that records what it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length).decode()})
            status = 500 if self.path.startswith("/fail") else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", received
    srv.shutdown()
    srv.server_close()


def test_connector_api(server, hook):
    url, received = hook
    r = server.request("POST", CONNECTOR, {"name": "hook", "connector_type_id": ".webhook",
                                           "config": {"url": url + "/direct", "method": "post", "headers": {"X-Test": "1"}},
                                           "secrets": {"user": "u", "password": "p"}})
    assert r.status == 200, r
    c = r.json()
    assert c["connector_type_id"] == ".webhook" and "secrets" not in c and c["is_preconfigured"] is False
    assert server.get(f"{CONNECTOR}/{c['id']}").json()["name"] == "hook"
    assert any(x["id"] == c["id"] for x in server.get("/api/actions/connectors").json())
    r = server.request("POST", f"{CONNECTOR}/{c['id']}/_execute", {"params": {"body": '{"hello":"world"}'}})
    assert r.json()["status"] == "ok", r
    assert received[-1]["body"] == '{"hello":"world"}' and received[-1]["headers"]["X-Test"] == "1"
    assert received[-1]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    r = server.request("PUT", f"{CONNECTOR}/{c['id']}", {"name": "hook2", "config": {"url": url + "/fail"}})
    assert r.json()["name"] == "hook2"
    r = server.request("POST", f"{CONNECTOR}/{c['id']}/_execute", {"params": {"body": "{}"}})
    assert r.json()["status"] == "error" and "500" in r.json()["service_message"]
    assert server.request("POST", CONNECTOR, {"name": "x", "connector_type_id": ".slack", "config": {}}).status == 400
    assert server.request("POST", CONNECTOR, {"name": "x", "connector_type_id": ".webhook", "config": {"url": "ftp://x"}}).status == 400
    assert server.request("DELETE", f"{CONNECTOR}/{c['id']}").status == 204
    assert server.get(f"{CONNECTOR}/{c['id']}").status == 404


def test_rule_actions_fire_per_alert_batch(server, hook):
    url, received = hook
    webhook = server.request("POST", CONNECTOR, {"name": "hook", "connector_type_id": ".webhook", "config": {"url": url + "/alerts"}}).json()
    out_index = unique("vigil-actions")
    indexer = server.request("POST", CONNECTOR, {"name": "idx", "connector_type_id": ".index",
                                                 "config": {"index": out_index, "refresh": True, "executionTimeField": "fired_at"}}).json()
    index = unique("logs-act")
    now = datetime.now(timezone.utc)
    bulk_events(server, index, [
        {"@timestamp": iso(now - timedelta(seconds=30 - i)), "process": {"name": "whoami.exe"}, "host": {"name": f"h{i}"},
         "user": {"name": 'quote"d'}} for i in range(2)])
    rid = unique("act")
    body = '{"rule": "{{context.rule.name}}", "count": {{state.signals_count}}, "hosts": [{{#context.alerts}}"{{host.name}}/{{user.name}}",{{/context.alerts}}"end"]}'
    rule = create(server, rule_body(rid, index=[index], interval="1s", **{"from": "now-10m"}, actions=[
        {"group": "default", "id": webhook["id"], "action_type_id": ".webhook", "params": {"body": body}},
        {"group": "default", "id": indexer["id"], "action_type_id": ".index",
         "params": {"documents": [{"rule_name": "{{context.rule.name}}", "alerts": "{{state.signals_count}}", "first": "{{#context.alerts}}{{kibana.alert.rule.rule_id}} {{/context.alerts}}"}]}},
    ]))
    assert wait_for(lambda: len(alerts_of(server, rid)) == 2)
    assert wait_for(lambda: [x for x in received if x["path"] == "/alerts"])
    n = len(runs(server, rule))
    assert wait_for(lambda: len(runs(server, rule)) >= n + 2)
    posts = [json.loads(x["body"]) for x in received if x["path"] == "/alerts"]
    # One batch of two new alerts; the later runs found only duplicates and fired nothing.
    assert len(posts) == 1, posts
    assert posts[0]["rule"] == rule["name"] and posts[0]["count"] == 2
    assert sorted(posts[0]["hosts"]) == sorted(['h0/quote"d', 'h1/quote"d', "end"])
    server.request("POST", f"/{out_index}/_refresh")
    docs = [h["_source"] for h in server.request("POST", f"/{out_index}/_search", {"query": {"match_all": {}}}).json()["hits"]["hits"]]
    assert len(docs) == 1 and docs[0]["rule_name"] == rule["name"] and docs[0]["alerts"] == "2"
    assert docs[0]["first"] == f"{rid} {rid} " and docs[0]["fired_at"]
    history = runs(server, rule)
    fired = [h for h in history if h["actions"]]
    assert len(fired) == 1 and all(a["status"] == "ok" for a in fired[0]["actions"])
    # A new event: a new batch of one.
    bulk_events(server, index, [{"@timestamp": iso(datetime.now(timezone.utc)), "process": {"name": "whoami.exe"}, "host": {"name": "h9"}}])
    assert wait_for(lambda: len([x for x in received if x["path"] == "/alerts"]) == 2)
    last = json.loads([x for x in received if x["path"] == "/alerts"][-1]["body"])
    assert last["count"] == 1 and last["hosts"] == ["h9/", "end"]
