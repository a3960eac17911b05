"""ES|QL (`POST /_query`) over the real server, the subset Elastic's ES|QL rules use, and
ES|QL detection rules raising alerts (per document with METADATA _id, per row otherwise)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from test_detection_api import alerts_of, bulk_events, create, iso, rule_body, wait_for
from vigil_e2e import unique


def esql(srv, query: str, **extra):
    return srv.request("POST", "/_query", {"query": query} | extra)


def table(r) -> list[dict]:
    body = r.json()
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, row)) for row in body["values"]]


def load(srv) -> str:
    index = unique("logs-esql")
    srv.request("PUT", f"/{index}", {"mappings": {"properties": {
        "@timestamp": {"type": "date"}, "host.name": {"type": "keyword"}, "user.name": {"type": "keyword"},
        "process.name": {"type": "keyword"}, "process.args": {"type": "keyword"}, "source.ip": {"type": "ip"},
        "bytes": {"type": "long"}}}})
    now = datetime.now(timezone.utc)
    docs = [
        {"@timestamp": iso(now - timedelta(minutes=3)), "host": {"name": "a"}, "user": {"name": "Alice"}, "process": {"name": "bash", "args": ["bash", "-c", "id"]}, "source": {"ip": "10.0.0.5"}, "bytes": 100},
        {"@timestamp": iso(now - timedelta(minutes=2)), "host": {"name": "a"}, "user": {"name": "bob"}, "process": {"name": "curl", "args": ["curl", "http://x"]}, "source": {"ip": "192.168.1.9"}, "bytes": 300},
        {"@timestamp": iso(now - timedelta(minutes=1)), "host": {"name": "b"}, "user": {"name": "bob"}, "process": {"name": "bash", "args": ["bash"]}, "bytes": 50},
        {"@timestamp": iso(now), "host": {"name": "c"}, "process": {"name": "sshd"}},
    ]
    bulk_events(srv, index, docs)
    return index


def test_esql_commands_and_functions(server):
    index = load(server)
    r = esql(server, f"FROM {index} | STATS n = COUNT(*), users = COUNT_DISTINCT(user.name), total = SUM(bytes) BY host.name | SORT n DESC, host.name")
    assert r.status == 200, r
    assert [c["name"] for c in r.json()["columns"]] == ["n", "users", "total", "host.name"]
    assert [c["type"] for c in r.json()["columns"]] == ["long", "long", "long", "keyword"]
    assert table(r) == [{"n": 2, "users": 2, "total": 400, "host.name": "a"}, {"n": 1, "users": 1, "total": 50, "host.name": "b"},
                        {"n": 1, "users": 0, "total": None, "host.name": "c"}]
    r = esql(server, f"""FROM {index} METADATA _id, _index
        | WHERE process.name IN ("bash", "curl") AND user.name IS NOT NULL
        | EVAL who = TO_LOWER(user.name), first_arg = MV_FIRST(process.args), kind = CASE(bytes > 200, "big", bytes > 60, "mid", "small")
        | EVAL label = CONCAT(host.name, "/", who), private = CIDR_MATCH(source.ip, "10.0.0.0/8", "192.168.0.0/16")
        | KEEP who, first_arg, kind, label, private, _id, _index | SORT who, kind""")
    assert r.status == 200, r
    rows = table(r)
    assert [(x["who"], x["first_arg"], x["kind"], x["label"], x["private"]) for x in rows] == [
        ("alice", "bash", "mid", "a/alice", True), ("bob", "curl", "big", "a/bob", True), ("bob", "bash", "small", "b/bob", None)]
    assert all(x["_index"] == index and x["_id"] for x in rows)
    r = esql(server, f'FROM {index} | WHERE process.name LIKE "b*" OR process.name RLIKE "ss.d" | MV_EXPAND process.args | KEEP process.name, process.args | LIMIT 10')
    assert sorted((x["process.name"], x["process.args"]) for x in table(r)) == [
        ("bash", "-c"), ("bash", "bash"), ("bash", "bash"), ("bash", "id"), ("sshd", None)]
    r = esql(server, f'FROM {index} | WHERE KQL("user.name: bob and bytes >= 100") | RENAME user.name AS u | DROP bytes | KEEP u, host.name')
    assert table(r) == [{"u": "bob", "host.name": "a"}]
    r = esql(server, f"FROM {index} | EVAL m = DATE_TRUNC(1 hour, @timestamp) | STATS c = COUNT(*) WHERE bytes > 60, v = VALUES(process.name) | LIMIT 1")
    assert table(r) == [{"c": 2, "v": ["bash", "curl", "sshd"]}]
    r = esql(server, f"FROM {index} | WHERE @timestamp > NOW() - 90 seconds | KEEP host.name")
    assert table(r) == [{"host.name": "b"}, {"host.name": "c"}] or sorted(x["host.name"] for x in table(r)) == ["b", "c"]
    r = esql(server, f"FROM {index} | KEEP host.name | LIMIT 2", columnar=True)
    assert len(r.json()["values"]) == 1 and len(r.json()["values"][0]) == 2
    r = esql(server, f"FROM {index} | KEEP host.name", filter={"term": {"user.name": "bob"}})
    assert sorted(x["host.name"] for x in table(r)) == ["a", "b"]


def test_esql_errors(server):
    index = load(server)
    r = esql(server, f"FROM {index} | WHERE")
    assert r.status == 400 and r.json()["error"]["type"] == "parsing_exception"
    assert r.json()["error"]["reason"].startswith("line 1:")
    r = esql(server, f"FROM {index} | FOO bar")
    assert r.status == 400 and "mismatched input 'FOO'" in r.json()["error"]["reason"]
    r = esql(server, f"FROM {index} | KEEP nope")
    assert r.status == 400 and r.json()["error"]["type"] == "verification_exception" and "Unknown column [nope]" in r.json()["error"]["reason"]
    r = esql(server, f"FROM {index} | EVAL x = NO_SUCH_FN(host.name)")
    assert r.status == 400 and "Unknown function [NO_SUCH_FN]" in r.json()["error"]["reason"]
    r = esql(server, "FROM no-such-index-anywhere | LIMIT 1")
    assert r.status == 400 and "Unknown index" in r.json()["error"]["reason"]
    r = server.request("POST", "/_query", {"nope": 1})
    assert r.status == 400


def test_esql_rules_raise_alerts(server):
    index = load(server)
    rid = unique("esql-doc")
    create(server, rule_body(rid, type="esql", language="esql", interval="1s", **{"from": "now-10m"},
                             query=f'FROM {index} METADATA _id, _index, _version | WHERE process.name == "curl" | KEEP *', index=None))
    found = wait_for(lambda: alerts_of(server, rid))
    assert len(found) == 1 and found[0]["user"]["name"] == "bob" and found[0]["kibana.alert.ancestors"][0]["index"] == index
    rid2 = unique("esql-agg")
    create(server, rule_body(rid2, type="esql", language="esql", interval="1s", **{"from": "now-10m"},
                             query=f"FROM {index} | STATS Esql.count = COUNT(*) BY host.name | WHERE Esql.count >= 2", index=None))
    found = wait_for(lambda: alerts_of(server, rid2))
    assert len(found) == 1 and found[0]["host.name"] == "a" and found[0]["Esql.count"] == 2
    assert found[0]["kibana.alert.rule.type"] == "esql"
    r = server.request("POST", "/api/detection_engine/rules", rule_body(unique("esql-bad"), type="esql", language="esql", query="FROM x | WHERE"))
    assert r.status == 400 and r.json()["message"].startswith("ES|QL: line 1:")


def test_esql_grok_and_dissect(server):
    index = unique("logs-grok")
    bulk_events(server, index, [
        {"message": "GET https://files.example.org:8443/a/b from 10.1.2.3", "dns": {"question": {"name": "12-abcdef.evil.example.com"}}},
        {"message": "verdict=bad confidence=0.9 summary=looks like beaconing", "dns": {"question": {"name": "nothing"}}},
    ])
    r = esql(server, f'FROM {index} | GROK message "%{{WORD:method}} %{{URIPROTO:proto}}://%{{URIHOST:dest}}%{{GREEDYDATA}} from %{{IP:src}}" '
                     f'| GROK dns.question.name "%{{INT:chunk:int}}-%{{DATA:payload}}\\\\.%{{GREEDYDATA:Esql.base_domain}}" '
                     f'| KEEP method, proto, dest, src, chunk, payload, Esql.base_domain | SORT method NULLS LAST')
    assert r.status == 200, r
    rows = table(r)
    assert rows[0] == {"method": "GET", "proto": "https", "dest": "files.example.org:8443", "src": "10.1.2.3",
                       "chunk": 12, "payload": "abcdef", "Esql.base_domain": "evil.example.com"}
    assert rows[1] == {k: None for k in rows[0]}
    r = esql(server, f'FROM {index} | DISSECT message """verdict=%{{Esql.verdict}} confidence=%{{Esql.confidence}} summary=%{{Esql.summary}}""" '
                     f'| WHERE Esql.verdict IS NOT NULL | KEEP Esql.*')
    assert table(r) == [{"Esql.verdict": "bad", "Esql.confidence": "0.9", "Esql.summary": "looks like beaconing"}]
    r = esql(server, f'FROM {index} | EVAL d = URL_DECODE("a%20b+c"), s = CONCAT("[", SPACE(2), "]") | KEEP d, s | LIMIT 1')
    assert table(r) == [{"d": "a b c", "s": "[  ]"}]
    r = esql(server, f'FROM {index} | GROK message "%{{NOPE:x}}"')
    assert r.status == 400 and "NOPE" in r.json()["error"]["reason"]
