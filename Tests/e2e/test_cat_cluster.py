"""_cat APIs, _cluster/health, filter_path and pretty."""

from __future__ import annotations

import re
import time

import pytest

from vigil_e2e import media_type, ndjson, unique


@pytest.fixture(scope="module")
def two_indices(server):
    a, b = unique("cat-a"), unique("cat-b")
    server.request("PUT", f"/{a}", {"settings": {"number_of_shards": 1}})
    body = ndjson([x for i in range(7) for x in ({"index": {"_index": b, "_id": str(i)}}, {"i": i, "name": f"n{i}"})])
    r = server.request("POST", "/_bulk?refresh=true", body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200 and r.json()["errors"] is False
    return a, b


def test_cat_indices_text(server, two_indices):
    a, b = two_indices
    r = server.get(f"/_cat/indices/{a},{b}?v&h=index,docs.count,status&s=index")
    assert r.status == 200, r
    assert media_type(r.header("Content-Type"))[0] == "text/plain"
    lines = r.text.rstrip("\n").split("\n")
    assert [l.split() for l in lines] == [["index", "docs.count", "status"], [a, "0", "open"], [b, "7", "open"]]
    w = max(len(a), len(b), len("index"))
    # left-aligned text, right-aligned numbers, single space between columns
    assert lines[0] == f"{'index'.ljust(w)} docs.count status"
    assert lines[1] == f"{a.ljust(w)} {'0'.rjust(10)} open"
    # without v: no header
    r = server.get(f"/_cat/indices/{b}?h=index,docs.count")
    assert r.text.split() == [b, "7"]


def test_cat_indices_default_columns(server, two_indices):
    a, b = two_indices
    r = server.get(f"/_cat/indices/{b}?v")
    header = r.text.split("\n")[0].split()
    for col in ("health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"):
        assert col in header, header
    assert header[:6] == ["health", "status", "index", "uuid", "pri", "rep"]
    row = dict(zip(header, r.text.split("\n")[1].split()))
    assert row["index"] == b and row["docs.count"] == "7" and row["status"] == "open"


def test_cat_indices_json(server, es, two_indices):
    a, b = two_indices
    r = server.get(f"/_cat/indices/{a},{b}?format=json&h=index,docs.count,health&s=index")
    assert r.status == 200
    assert media_type(r.header("Content-Type"))[0] == "application/json"
    rows = r.json()
    assert [row["index"] for row in rows] == [a, b]
    assert [row["docs.count"] for row in rows] == ["0", "7"]  # cat values are strings
    assert all(set(row) == {"index", "docs.count", "health"} for row in rows)
    assert all(row["health"] in ("green", "yellow") for row in rows)
    res = es.cat.indices(index=b, format="json")
    assert res.body[0]["index"] == b and res.body[0]["docs.count"] == "7"
    # bytes=b renders sizes as plain numbers
    rows = server.get(f"/_cat/indices/{b}?format=json&bytes=b&h=index,store.size").json()
    assert rows[0]["store.size"].isdigit(), rows


def test_cat_indices_missing(server):
    r = server.get("/_cat/indices/no-such-index-cat")
    assert r.status == 404, r
    assert r.json()["error"]["type"] == "index_not_found_exception"


def test_cat_health(server, es):
    r = server.get("/_cat/health?v")
    assert r.status == 200
    lines = r.text.rstrip("\n").split("\n")
    assert len(lines) == 2, r.text
    header = lines[0].split()
    assert header[:4] == ["epoch", "timestamp", "cluster", "status"], header
    for col in ("node.total", "node.data", "shards", "pri", "active_shards_percent"):
        assert col in header, header
    row = dict(zip(header, lines[1].split()))
    assert abs(int(row["epoch"]) - time.time()) < 120
    assert re.match(r"^\d{2}:\d{2}:\d{2}$", row["timestamp"]), row
    assert row["status"] in ("green", "yellow")
    assert row["node.total"] == "1"
    r = server.get("/_cat/health?h=status")
    assert r.text.strip() in ("green", "yellow")
    assert r.text.endswith("\n")
    r = server.get("/_cat/health?format=json")
    rows = r.json()
    assert isinstance(rows, list) and len(rows) == 1
    assert rows[0]["status"] in ("green", "yellow")
    assert rows[0]["node.total"] == "1"
    assert rows[0]["epoch"].isdigit()
    text = es.cat.health(v=True, h="cluster,status")
    tl = str(text.body).rstrip("\n").split("\n")
    assert tl[0].split() == ["cluster", "status"]
    r = server.get("/_cat/health?format=json&h=status,node.total")
    assert r.json() == [{"status": rows[0]["status"], "node.total": "1"}]


def test_cat_help(server):
    r = server.get("/_cat/health?help")
    assert r.status == 200
    assert re.search(r"^status\s+\|", r.text, re.M), r.text[:300]
    r = server.get("/_cat/indices?help")
    assert r.status == 200
    assert re.search(r"^docs\.count\s+\|", r.text, re.M), r.text[:300]


def test_cluster_health(server, es):
    b = es.cluster.health()
    assert b["status"] in ("green", "yellow")
    assert b["timed_out"] is False
    assert b["number_of_nodes"] == 1 and b["number_of_data_nodes"] == 1
    assert isinstance(b["cluster_name"], str) and b["cluster_name"]
    for k in ("active_primary_shards", "active_shards", "relocating_shards", "initializing_shards",
              "unassigned_shards", "number_of_pending_tasks", "active_shards_percent_as_number"):
        assert k in b, k
    r = server.get("/_cluster/health?wait_for_status=yellow&timeout=5s")
    assert r.status == 200 and r.json()["timed_out"] is False
    assert server.get("/_cluster/health?pretty").text.startswith("{\n  \"cluster_name\" : ")


def test_filter_path(server, two_indices):
    a, b = two_indices
    r = server.get(f"/{b}/_count?filter_path=count")
    assert r.json() == {"count": 7}
    r = server.get(f"/{b}/_search?size=3&sort=i:asc&filter_path=hits.hits._id")
    assert r.json() == {"hits": {"hits": [{"_id": "0"}, {"_id": "1"}, {"_id": "2"}]}}
    # several paths, wildcards in a segment and `**`
    r = server.get(f"/{b}/_search?size=2&sort=i:asc&filter_path=took,hits.total.value,hits.hits._source.na*")
    body = r.json()
    assert set(body) == {"took", "hits"}
    assert body["hits"] == {"total": {"value": 7}, "hits": [{"_source": {"name": "n0"}}, {"_source": {"name": "n1"}}]}
    r = server.get(f"/{b}/_search?size=1&sort=i:asc&filter_path=**._id")
    assert r.json() == {"hits": {"hits": [{"_id": "0"}]}}
    r = server.get(f"/{b}/_search?size=1&sort=i:asc&filter_path=hits.total.*")
    assert r.json() == {"hits": {"total": {"value": 7, "relation": "eq"}}}
    # exclusions
    r = server.get(f"/{b}/_search?size=1&sort=i:asc&filter_path=-hits.hits._source,-_shards,-took")
    body = r.json()
    assert "_shards" not in body and "took" not in body
    assert body["timed_out"] is False
    assert body["hits"]["total"]["value"] == 7
    assert "_source" not in body["hits"]["hits"][0] and body["hits"]["hits"][0]["_id"] == "0"
    r = server.get("/?filter_path=-version,-cluster_uuid")
    body = r.json()
    assert "version" not in body and "cluster_uuid" not in body and body["tagline"] == "You Know, for Search"
    r = server.get("/?filter_path=version.number")
    assert list(r.json()) == ["version"] and list(r.json()["version"]) == ["number"]
    # nothing matches -> empty object
    r = server.get("/?filter_path=does.not.exist")
    assert r.status == 200 and r.json() == {}
    # on _bulk (common in ingestion clients) and with pretty
    idx = unique("fp")
    body = ndjson([{"index": {"_index": idx}}, {"x": 1}, {"index": {"_index": idx}}, {"x": 2}])
    r = server.request("POST", "/_bulk?filter_path=errors,items.*.status&pretty", body,
                       headers={"Content-Type": "application/x-ndjson"})
    assert r.json() == {"errors": False, "items": [{"index": {"status": 201}}, {"index": {"status": 201}}]}
    assert r.text.startswith("{\n  \"errors\" : false")


def test_filter_path_not_applied_to_errors(server):
    # Elasticsearch does not filter error bodies (RestChannel.newErrorBuilder disables filtering)
    r = server.get("/no-such-index-fp/_search?filter_path=took")
    assert r.status == 404
    body = r.json()
    assert body["status"] == 404 and body["error"]["type"] == "index_not_found_exception"
    assert body["error"]["root_cause"][0]["type"] == "index_not_found_exception"


def test_filter_path_with_client(es, two_indices):
    a, b = two_indices
    res = es.search(index=b, size=2, sort="i:asc", filter_path="hits.hits._source.i")
    assert res.body == {"hits": {"hits": [{"_source": {"i": 0}}, {"_source": {"i": 1}}]}}
    res = es.count(index=b, filter_path=["count"])
    assert res.body == {"count": 7}


def test_pretty_everywhere(server, two_indices):
    a, b = two_indices
    for path in (f"/{b}/_count?pretty", f"/{b}/_search?pretty&size=1", "/_cluster/health?pretty",
                 f"/{b}/_mapping?pretty", "/no-such-index-pretty?pretty"):
        r = server.get(path)
        lines = r.text.split("\n")
        assert lines[0] == "{", (path, r.text[:80])
        assert lines[1].startswith('  "') and '" : ' in lines[1], (path, lines[1])
    r = server.get("/_cat/indices?format=json&pretty")
    assert r.text.startswith("[\n  {\n    \""), r.text[:40]
