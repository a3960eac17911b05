"""GET / and HEAD /, product header, vendor media types, client compatibility."""

from __future__ import annotations

import json
import re

import elasticsearch

from vigil_e2e import (
    VND_JSON_8,
    VND_JSON_9,
    VND_NDJSON_8,
    VND_NDJSON_9,
    media_type,
    ndjson,
    unique,
)


def test_client_version_is_recorded():
    v = elasticsearch.__versionstr__
    print(f"elasticsearch-py {v}")
    assert re.match(r"^(8|9)\.\d+\.\d+", v), v


def test_get_root(server):
    r = server.get("/")
    assert r.status == 200
    assert media_type(r.header("Content-Type"))[0] == "application/json"
    body = r.json()
    assert body["tagline"] == "You Know, for Search"
    for k in ("name", "cluster_name", "cluster_uuid", "version"):
        assert k in body, body
    v = body["version"]
    assert re.match(r"^(8|9)\.\d+\.\d+", v["number"]), v
    for k in ("build_flavor", "build_type", "build_hash", "build_date", "build_snapshot",
              "lucene_version", "minimum_wire_compatibility_version",
              "minimum_index_compatibility_version"):
        assert k in v, f"version.{k} missing: {v}"
    assert r.header("X-Elastic-Product") == "Elasticsearch"


def test_head_root(server):
    r = server.request("HEAD", "/")
    assert r.status == 200
    assert r.body == b""
    assert r.header("X-Elastic-Product") == "Elasticsearch"


def test_client_info_and_ping(es):
    assert es.ping() is True
    info = es.info()
    assert info["tagline"] == "You Know, for Search"
    assert info.meta.headers.get("x-elastic-product") == "Elasticsearch"


def test_product_header_on_every_response(server):
    idx = unique("hdr")
    assert server.request("PUT", f"/{idx}", {}).status == 200
    cases = [
        ("GET", "/", None, 200),
        ("HEAD", "/", None, 200),
        ("GET", f"/{idx}", None, 200),
        ("HEAD", f"/{idx}", None, 200),
        ("HEAD", "/no-such-index-hdr", None, 404),
        ("GET", "/no-such-index-hdr", None, 404),
        ("GET", f"/{idx}/_doc/missing", None, 404),
        ("GET", "/no-such-index-hdr/_search", None, 404),
        ("DELETE", "/", None, 405),
        ("GET", "/_vigil_no_such_api/a/b/c/d", None, 400),
        ("POST", f"/{idx}/_search", b'{"query": ', 400),
        ("GET", "/_cat/indices", None, 200),
        ("GET", "/_cluster/health", None, 200),
        ("PUT", f"/{idx}", {}, 400),
    ]
    for method, path, body, status in cases:
        r = server.request(method, path, body)
        assert r.status == status, (method, path, r)
        assert r.header("X-Elastic-Product") == "Elasticsearch", (method, path, r.headers)


def test_vendor_media_type_echoed(server):
    for accept, major in ((VND_JSON_8, "8"), (VND_JSON_9, "9")):
        r = server.get("/", headers={"Accept": accept})
        assert r.status == 200, r
        mt, params = media_type(r.header("Content-Type"))
        assert mt == "application/vnd.elasticsearch+json", r.header("Content-Type")
        assert params.get("compatible-with") == major, r.header("Content-Type")
        assert r.json()["tagline"] == "You Know, for Search"


def test_vendor_media_type_on_errors_and_bodies(server):
    idx = unique("vnd")
    for ct, major in ((VND_JSON_8, "8"), (VND_JSON_9, "9")):
        r = server.request("PUT", f"/{idx}/_doc/{major}", body=b'{"a": 1}',
                           headers={"Content-Type": ct, "Accept": ct})
        assert r.status == 201, r
        mt, params = media_type(r.header("Content-Type"))
        assert (mt, params.get("compatible-with")) == ("application/vnd.elasticsearch+json", major)
        assert r.json()["result"] == "created"
        r = server.request("GET", "/no-such-index-vnd", headers={"Accept": ct})
        assert r.status == 404
        mt, params = media_type(r.header("Content-Type"))
        assert (mt, params.get("compatible-with")) == ("application/vnd.elasticsearch+json", major)
        assert r.json()["error"]["type"] == "index_not_found_exception"


def test_bulk_put_with_vendor_ndjson(server):
    """The Python client sends _bulk as PUT with application/vnd.elasticsearch+x-ndjson."""
    idx = unique("vndbulk")
    for ct, accept in ((VND_NDJSON_8, VND_JSON_8), (VND_NDJSON_9, VND_JSON_9)):
        body = ndjson([{"index": {"_index": idx}}, {"n": 1}, {"create": {"_index": idx}}, {"n": 2}])
        r = server.request("PUT", "/_bulk?refresh=true", body=body,
                           headers={"Content-Type": ct, "Accept": accept})
        assert r.status == 200, r
        res = r.json()
        assert res["errors"] is False, res
        assert [list(i)[0] for i in res["items"]] == ["index", "create"]
        assert all(list(i.values())[0]["status"] == 201 for i in res["items"])
    assert server.count(idx) == 4


def test_client_bulk(es):
    idx = unique("clientbulk")
    ops = []
    for i in range(10):
        ops += [{"index": {"_index": idx, "_id": str(i)}}, {"n": i, "msg": f"event {i}"}]
    res = es.bulk(operations=ops, refresh=True)
    assert res["errors"] is False
    assert [it["index"]["status"] for it in res["items"]] == [201] * 10
    assert [it["index"]["_id"] for it in res["items"]] == [str(i) for i in range(10)]
    assert es.count(index=idx)["count"] == 10
    # helpers.bulk (used by most ingestion code) goes through the same endpoint
    from elasticsearch import helpers
    ok, errors = helpers.bulk(es, ({"_index": idx, "_id": f"h{i}", "n": i} for i in range(25)), refresh=True)
    assert ok == 25 and errors == []
    assert es.count(index=idx)["count"] == 35


def test_pretty(server):
    r = server.get("/?pretty")
    assert r.status == 200
    text = r.text
    lines = text.split("\n")
    assert lines[0] == "{", text[:100]
    # Elasticsearch pretty-prints with two-space indentation and `" : "`.
    assert re.match(r'^  "[a-z_]+" : ', lines[1]), lines[1]
    assert json.loads(text)["tagline"] == "You Know, for Search"
    compact = server.get("/").text
    assert "\n" not in compact.strip(), "without ?pretty the body is compact"
    r = server.get("/?pretty=true")
    assert r.text.startswith("{\n  \"")
