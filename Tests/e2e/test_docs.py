"""Single-document APIs, _bulk, refresh, _count and _search basics."""

from __future__ import annotations

import datetime as dt

import elasticsearch
import pytest

from vigil_e2e import assert_es_error, ndjson, unique

NDJSON = {"Content-Type": "application/x-ndjson"}


def test_doc_lifecycle(server):
    idx = unique("doc")
    # PUT _doc on a missing index creates it (auto-create)
    r = server.request("PUT", f"/{idx}/_doc/1", {"a": 1})
    assert r.status == 201, r
    b = r.json()
    # exactly the fields of Elasticsearch's index response (no "status" outside _bulk items)
    assert set(b) == {"_index", "_id", "_version", "result", "_shards", "_seq_no", "_primary_term"}, b
    assert b["_index"] == idx and b["_id"] == "1"
    assert b["_version"] == 1 and b["result"] == "created"
    assert b["_seq_no"] == 0 and b["_primary_term"] == 1
    assert b["_shards"]["failed"] == 0 and b["_shards"]["successful"] >= 1

    r = server.request("PUT", f"/{idx}/_doc/1", {"a": 2})
    assert r.status == 200, r
    b = r.json()
    assert b["_version"] == 2 and b["result"] == "updated" and b["_seq_no"] == 1

    r = server.get(f"/{idx}/_doc/1")
    assert r.status == 200
    assert r.json() == {"_index": idx, "_id": "1", "_version": 2, "_seq_no": 1,
                        "_primary_term": 1, "found": True, "_source": {"a": 2}}
    assert server.request("HEAD", f"/{idx}/_doc/1").status == 200
    r = server.get(f"/{idx}/_source/1")
    assert r.status == 200 and r.json() == {"a": 2}

    # _create of an existing id: 409
    r = server.request("PUT", f"/{idx}/_create/1", {"a": 3})
    err = assert_es_error(r, 409, "version_conflict_engine_exception",
                          reason="[1]: version conflict, document already exists (current version [2])")
    assert err["index"] == idx
    r = server.request("POST", f"/{idx}/_create/1", {"a": 3})
    assert_es_error(r, 409, "version_conflict_engine_exception")
    # op_type=create on _doc behaves the same
    r = server.request("PUT", f"/{idx}/_doc/1?op_type=create", {"a": 3})
    assert_es_error(r, 409, "version_conflict_engine_exception")
    assert server.get(f"/{idx}/_doc/1").json()["_source"] == {"a": 2}

    r = server.request("POST", f"/{idx}/_create/2", {"b": 1})
    assert r.status == 201 and r.json()["result"] == "created", r
    r = server.request("PUT", f"/{idx}/_create/3", {"c": 1})
    assert r.status == 201 and r.json()["_version"] == 1, r

    # POST _doc generates an id
    r = server.request("POST", f"/{idx}/_doc", {"auto": True})
    assert r.status == 201, r
    auto_id = r.json()["_id"]
    assert isinstance(auto_id, str) and len(auto_id) >= 10
    assert server.get(f"/{idx}/_doc/{auto_id}").json()["_source"] == {"auto": True}

    r = server.request("DELETE", f"/{idx}/_doc/1")
    assert r.status == 200, r
    b = r.json()
    assert b["result"] == "deleted" and b["_version"] == 3 and b["_id"] == "1"
    r = server.get(f"/{idx}/_doc/1")
    assert r.status == 404
    assert r.json() == {"_index": idx, "_id": "1", "found": False}
    assert server.request("HEAD", f"/{idx}/_doc/1").status == 404
    r = server.request("DELETE", f"/{idx}/_doc/1")
    assert r.status == 404, r
    assert r.json()["result"] == "not_found"
    nf_version = r.json()["_version"]
    # re-creating a deleted id works and continues the version sequence
    # (Elasticsearch keeps delete tombstones: here 3 -> 4 (not_found) -> 5)
    r = server.request("PUT", f"/{idx}/_create/1", {"a": 9})
    assert r.status == 201 and r.json()["result"] == "created", r
    assert r.json()["_version"] > 3 and r.json()["_version"] == nf_version + 1, r
    assert server.count(idx) == 4


def test_created_location_header(server):
    idx = unique("loc")
    r = server.request("PUT", f"/{idx}/_doc/1", {"a": 1})
    assert r.status == 201 and r.header("Location") == f"/{idx}/_doc/1", r.headers
    r = server.request("PUT", f"/{idx}/_doc/1", {"a": 1})
    assert r.status == 200 and r.header("Location") is None, r.headers


def test_doc_with_client(es):
    idx = unique("cdoc")
    r = es.index(index=idx, id="x", document={"k": "v"})
    assert r["result"] == "created" and r["_version"] == 1
    r = es.index(index=idx, id="x", document={"k": "w"})
    assert r["result"] == "updated" and r["_version"] == 2
    assert es.get(index=idx, id="x")["_source"] == {"k": "w"}
    assert es.exists(index=idx, id="x")
    with pytest.raises(elasticsearch.ConflictError) as ei:
        es.create(index=idx, id="x", document={"k": "z"})
    assert ei.value.meta.status == 409
    assert ei.value.body["error"]["type"] == "version_conflict_engine_exception"
    r = es.delete(index=idx, id="x")
    assert r["result"] == "deleted"
    with pytest.raises(elasticsearch.NotFoundError):
        es.get(index=idx, id="x")
    assert not es.exists(index=idx, id="x")
    with pytest.raises(elasticsearch.NotFoundError) as ei:
        es.delete(index=idx, id="x")
    assert ei.value.body["result"] == "not_found"


def test_refresh_variants(server):
    idx = unique("refresh")
    r = server.request("PUT", f"/{idx}/_doc/1?refresh=true", {"a": 1})
    assert r.status == 201 and r.json().get("forced_refresh") is True, r
    assert server.get(f"/{idx}/_count").json()["count"] == 1
    r = server.request("PUT", f"/{idx}/_doc/2?refresh=wait_for", {"a": 2})
    assert r.status == 201, r
    assert server.get(f"/{idx}/_count").json()["count"] == 2
    r = server.request("POST", f"/{idx}/_bulk?refresh=wait_for",
                       ndjson([{"index": {"_id": "3"}}, {"a": 3}]), headers=NDJSON)
    assert r.status == 200 and r.json()["errors"] is False
    assert server.get(f"/{idx}/_count").json()["count"] == 3
    r = server.request("POST", f"/{idx}/_bulk?refresh",  # empty value means true
                       ndjson([{"index": {"_id": "4"}}, {"a": 4}]), headers=NDJSON)
    assert r.status == 200
    assert server.get(f"/{idx}/_count").json()["count"] == 4
    # no refresh, then explicit _refresh
    server.request("PUT", f"/{idx}/_doc/5", {"a": 5})
    r = server.request("POST", f"/{idx}/_refresh")
    assert r.status == 200, r
    sh = r.json()["_shards"]
    assert sh["failed"] == 0 and sh["successful"] >= 1 and sh["total"] >= sh["successful"]
    assert server.get(f"/{idx}/_count").json()["count"] == 5
    assert server.request("GET", f"/{idx}/_refresh").status == 200
    assert server.request("POST", "/_refresh").status == 200
    r = server.request("PUT", f"/{idx}/_doc/6?refresh=bogus", {"a": 6})
    assert_es_error(r, 400, "illegal_argument_exception", reason_contains="bogus")


def test_get_is_realtime(server):
    idx = unique("rt")
    server.request("PUT", f"/{idx}", {})
    for i in range(5):
        assert server.request("PUT", f"/{idx}/_doc/{i}", {"i": i}).status == 201
    # GET by id sees writes before any refresh
    for i in range(5):
        r = server.get(f"/{idx}/_doc/{i}")
        assert r.status == 200 and r.json()["_source"] == {"i": i}, r


def test_bulk_all_actions(server):
    idx = unique("bulk")
    other = unique("bulk-other")
    body = ndjson([
        {"index": {"_index": idx, "_id": "1"}}, {"v": 1, "tag": "a"},
        {"create": {"_index": idx, "_id": "2"}}, {"v": 2},
        {"index": {"_index": idx, "_id": "1"}}, {"v": 10, "tag": "a"},
        {"update": {"_index": idx, "_id": "1"}}, {"doc": {"extra": True}},
        {"update": {"_index": idx, "_id": "1"}}, {"doc": {"extra": True}},
        {"create": {"_index": idx, "_id": "2"}}, {"v": 22},
        {"delete": {"_index": idx, "_id": "2"}},
        {"delete": {"_index": idx, "_id": "nope"}},
        {"update": {"_index": idx, "_id": "missing"}}, {"doc": {"x": 1}},
        {"update": {"_index": idx, "_id": "ups"}}, {"doc": {"x": 1}, "doc_as_upsert": True},
        {"index": {"_index": other}}, {"v": 3},
        {"index": {}}, {"v": 4},
    ])
    r = server.request("POST", f"/{idx}/_bulk?refresh=true", body, headers=NDJSON)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is True
    assert isinstance(res["took"], int)
    items = res["items"]
    got = [(list(it)[0], list(it.values())[0]["status"]) for it in items]
    assert got == [
        ("index", 201), ("create", 201), ("index", 200), ("update", 200), ("update", 200),
        ("create", 409), ("delete", 200), ("delete", 404), ("update", 404), ("update", 201),
        ("index", 201), ("index", 201),
    ], got
    v = [list(it.values())[0] for it in items]
    assert v[0]["result"] == "created" and v[0]["_version"] == 1
    assert v[2]["result"] == "updated" and v[2]["_version"] == 2
    assert v[3]["result"] == "updated" and v[3]["_version"] == 3
    assert v[4]["result"] == "noop" and v[4]["_version"] == 3  # detect_noop
    assert v[5]["error"]["type"] == "version_conflict_engine_exception"
    assert v[5]["error"]["reason"] == "[2]: version conflict, document already exists (current version [1])"
    assert v[6]["result"] == "deleted"
    assert v[7]["result"] == "not_found" and "error" not in v[7]
    assert v[8]["error"]["type"] == "document_missing_exception"
    assert v[8]["error"]["reason"] == "[missing]: document missing"
    assert v[9]["result"] == "created"
    assert v[10]["_index"] == other and v[10]["result"] == "created"
    assert v[11]["_index"] == idx  # path index is the default
    for it in v:
        if "error" not in it:
            assert "_seq_no" in it and "_primary_term" in it and "_shards" in it, it
    assert server.get(f"/{idx}/_doc/1").json()["_source"] == {"v": 10, "tag": "a", "extra": True}
    assert server.get(f"/{idx}/_doc/2").status == 404
    assert server.get(f"/{idx}/_doc/ups").json()["_source"] == {"x": 1}
    assert server.count(idx) == 3  # 1, ups, auto-id
    assert server.count(other) == 1


def test_bulk_delete_missing_is_not_an_error(server):
    idx = unique("bulkdel")
    server.request("PUT", f"/{idx}", {})
    r = server.request("POST", "/_bulk", ndjson([{"delete": {"_index": idx, "_id": "ghost"}}]), headers=NDJSON)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is False
    assert res["items"][0]["delete"]["status"] == 404
    assert res["items"][0]["delete"]["result"] == "not_found"


def test_bulk_without_index(server):
    r = server.request("POST", "/_bulk", ndjson([{"index": {}}, {"a": 1}]), headers=NDJSON)
    err = assert_es_error(r, 400, "action_request_validation_exception")
    assert "index is missing" in err["reason"], err


def test_bulk_empty_body(server):
    idx = unique("bulkempty")
    r = server.request("POST", f"/{idx}/_bulk", b"", headers=NDJSON)
    assert_es_error(r, 400, "parse_exception", reason="request body is required")
    assert server.request("HEAD", f"/{idx}").status == 404


def test_bulk_unknown_action(server):
    idx = unique("bulkunknown")
    r = server.request("POST", f"/{idx}/_bulk", ndjson([{"frobnicate": {}}, {"a": 1}]), headers=NDJSON)
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason_startswith="Malformed action/metadata line [1], expected one of [create, delete, index, update] but found [frobnicate]")
    assert server.request("HEAD", f"/{idx}").status == 404, "a rejected bulk must not create the index"


def test_bulk_missing_final_newline(server):
    idx = unique("bulknonl")
    r = server.request("POST", f"/{idx}/_bulk", b'{"index":{}}\n{"a":1}', headers=NDJSON)
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason="The bulk request must be terminated by a newline [\\n]")
    assert server.request("HEAD", f"/{idx}").status == 404, "a rejected bulk must not create the index"


def test_count(server, es):
    idx = unique("count")
    es.bulk(operations=[x for i in range(30) for x in ({"index": {"_index": idx}}, {"i": i})], refresh=True)
    assert es.count(index=idx)["count"] == 30
    r = server.get(f"/{idx}/_count")
    b = r.json()
    assert b["count"] == 30
    assert b["_shards"]["failed"] == 0 and b["_shards"]["successful"] >= 1
    r = server.request("POST", f"/{idx}/_count", {"query": {"match_all": {}}})
    assert r.json()["count"] == 30
    r = server.request("GET", f"/{idx}/_count", {"query": {"match_all": {}}})
    assert r.json()["count"] == 30
    # wildcard and comma-separated index expressions
    idx2 = idx + "-b"
    es.index(index=idx2, document={"i": 1}, refresh=True)
    assert server.get(f"/{idx}*/_count").json()["count"] == 31
    assert server.get(f"/{idx},{idx2}/_count").json()["count"] == 31
    assert server.get(f"/{idx}-nomatch*/_count").json()["count"] == 0


@pytest.fixture(scope="module")
def events(es):
    """25 events with distinct timestamps in shuffled order (mixed date formats)."""
    idx = unique("events")
    es.indices.create(index=idx, mappings={"properties": {"@timestamp": {"type": "date"}, "n": {"type": "long"}}})
    base = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    order = [(i * 7) % 25 for i in range(25)]
    ops = []
    for n in order:
        t = base + dt.timedelta(minutes=n)
        ts = int(t.timestamp() * 1000) if n % 3 == 0 else t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        ops += [{"index": {"_index": idx, "_id": f"e{n}"}}, {"@timestamp": ts, "n": n}]
    res = es.bulk(operations=ops, refresh=True)
    assert res["errors"] is False
    return idx, base


def test_search_match_all_shape(server, events):
    idx, _ = events
    r = server.request("POST", f"/{idx}/_search", {"query": {"match_all": {}}})
    assert r.status == 200, r
    b = r.json()
    assert isinstance(b["took"], int)
    assert b["timed_out"] is False
    assert b["_shards"]["failed"] == 0 and b["_shards"]["skipped"] == 0
    assert b["hits"]["total"] == {"value": 25, "relation": "eq"}
    hits = b["hits"]["hits"]
    assert len(hits) == 10  # default size
    assert b["hits"]["max_score"] == 1.0
    for h in hits:
        assert h["_index"] == idx and h["_score"] == 1.0 and set(h) >= {"_id", "_source"}
    # GET without body and empty body
    assert server.get(f"/{idx}/_search").json()["hits"]["total"]["value"] == 25
    assert len(server.get(f"/{idx}/_search?size=0").json()["hits"]["hits"]) == 0


def test_search_sort_size_from(es, events):
    idx, base = events
    res = es.search(index=idx, sort=[{"@timestamp": "asc"}], size=5, from_=10)
    hits = res["hits"]["hits"]
    assert [h["_source"]["n"] for h in hits] == [10, 11, 12, 13, 14]
    for h in hits:
        expected_ms = int((base + dt.timedelta(minutes=h["_source"]["n"])).timestamp() * 1000)
        assert h["sort"] == [expected_ms], h
        assert h["_score"] is None
    assert res["hits"]["max_score"] is None
    res = es.search(index=idx, sort=[{"@timestamp": {"order": "desc"}}], size=3)
    assert [h["_source"]["n"] for h in res["hits"]["hits"]] == [24, 23, 22]
    res = es.search(index=idx, sort="@timestamp:desc", size=2, from_=23)
    assert [h["_source"]["n"] for h in res["hits"]["hits"]] == [1, 0]
    res = es.search(index=idx, sort=[{"@timestamp": "asc"}], size=10, from_=20)
    assert [h["_source"]["n"] for h in res["hits"]["hits"]] == [20, 21, 22, 23, 24]
    res = es.search(index=idx, sort=[{"@timestamp": "asc"}], size=10, from_=30)
    assert res["hits"]["hits"] == [] and res["hits"]["total"]["value"] == 25
    res = es.search(index=idx, sort=[{"n": "desc"}], size=1)
    assert res["hits"]["hits"][0]["_source"]["n"] == 24


def test_search_url_params(server, events):
    idx, _ = events
    r = server.get(f"/{idx}/_search?size=4&from=2&sort=@timestamp:asc")
    assert r.status == 200, r
    assert [h["_source"]["n"] for h in r.json()["hits"]["hits"]] == [2, 3, 4, 5]
    r = server.request("POST", f"/{idx}/_search",
                       {"size": 2, "from": 5, "sort": [{"@timestamp": "asc"}], "query": {"match_all": {}}})
    assert [h["_source"]["n"] for h in r.json()["hits"]["hits"]] == [5, 6]
    # multi-index and all-index search
    r = server.request("POST", f"/{idx},{idx}*/_search", {"size": 0})
    assert r.json()["hits"]["total"]["value"] == 25
