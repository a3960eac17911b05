"""Composable index templates and data streams."""

from __future__ import annotations

import re

import elasticsearch
import pytest

from vigil_e2e import PARSE_DOC_ERRORS, assert_es_error, ndjson, unique


def _backing_re(ds: str, gen: int = 1) -> re.Pattern:
    return re.compile(rf"^\.ds-{re.escape(ds)}-\d{{4}}\.\d{{2}}\.\d{{2}}-{gen:06d}$")


def test_index_template_crud(server, es):
    name = unique("tmpl")
    pattern = f"{name}-logs-*"
    res = es.indices.put_index_template(
        name=name, index_patterns=[pattern], priority=100,
        template={"settings": {"number_of_shards": 1},
                  "mappings": {"properties": {"host": {"type": "keyword"}, "bytes": {"type": "long"}}}},
    )
    assert res["acknowledged"] is True
    got = es.indices.get_index_template(name=name)
    assert len(got["index_templates"]) == 1
    t = got["index_templates"][0]
    assert t["name"] == name
    it = t["index_template"]
    assert it["index_patterns"] == [pattern]
    assert it["priority"] == 100
    assert it["template"]["mappings"]["properties"]["host"] == {"type": "keyword"}
    assert it["composed_of"] == []
    assert "data_stream" not in it
    assert es.indices.exists_index_template(name=name)
    # wildcard GET
    r = server.get(f"/_index_template/{name[:-3]}*")
    assert r.status == 200 and name in [x["name"] for x in r.json()["index_templates"]]
    # A new index matching the pattern gets the template's mappings
    idx = f"{name}-logs-1"
    es.index(index=idx, document={"host": "web-1", "bytes": "1024", "other": "x"}, refresh=True)
    props = es.indices.get_mapping(index=idx)[idx]["mappings"]["properties"]
    assert props["host"] == {"type": "keyword"}
    assert props["bytes"] == {"type": "long"}
    assert props["other"]["type"] == "text"
    # an index that doesn't match is mapped dynamically
    idx2 = f"{name}-other"
    es.index(index=idx2, document={"host": "web-1"}, refresh=True)
    assert es.indices.get_mapping(index=idx2)[idx2]["mappings"]["properties"]["host"]["type"] == "text"

    res = es.indices.delete_index_template(name=name)
    assert res["acknowledged"] is True
    assert not es.indices.exists_index_template(name=name)
    r = server.get(f"/_index_template/{name}")
    assert_es_error(r, 404, "resource_not_found_exception", reason=f"index template matching [{name}] not found")
    r = server.request("DELETE", f"/_index_template/{name}")
    assert_es_error(r, 404, reason=f"index_template [{name}] missing")


def test_index_template_priority(es):
    base = unique("prio")
    es.indices.put_index_template(name=base + "-lo", index_patterns=[f"{base}-*"], priority=1,
                                  template={"mappings": {"properties": {"f": {"type": "keyword"}}}})
    es.indices.put_index_template(name=base + "-hi", index_patterns=[f"{base}-x*"], priority=2,
                                  template={"mappings": {"properties": {"f": {"type": "long"}}}})
    es.index(index=f"{base}-xa", document={"f": 1}, refresh=True)
    es.index(index=f"{base}-ya", document={"f": 1}, refresh=True)
    assert es.indices.get_mapping(index=f"{base}-xa")[f"{base}-xa"]["mappings"]["properties"]["f"]["type"] == "long"
    assert es.indices.get_mapping(index=f"{base}-ya")[f"{base}-ya"]["mappings"]["properties"]["f"]["type"] == "keyword"


def test_index_template_same_priority_overlap_rejected(server, es):
    base = unique("ovl")
    es.indices.put_index_template(name=base + "-a", index_patterns=[f"{base}-*"], priority=7)
    r = server.request("PUT", f"/_index_template/{base}-b", {"index_patterns": [f"{base}-x*"], "priority": 7})
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason_contains="have the same priority [7]")


def test_data_stream_created_on_first_write(server, es):
    ds = unique("evds")
    es.indices.put_index_template(name=ds + "-t", index_patterns=[f"{ds}*"], data_stream={}, priority=300)
    # the client's bulk (op_type create) auto-creates the stream
    res = es.bulk(operations=[{"create": {"_index": ds}}, {"@timestamp": "2099-03-07T11:04:05.000Z", "msg": "a"},
                              {"create": {"_index": ds}}, {"@timestamp": 4102444800000, "msg": "b"}],
                  refresh=True)
    assert res["errors"] is False, res
    backing = res["items"][0]["create"]["_index"]
    assert _backing_re(ds).match(backing), backing
    assert res["items"][1]["create"]["_index"] == backing
    got = es.indices.get_data_stream(name=ds)["data_streams"]
    assert [d["name"] for d in got] == [ds]
    assert [i["index_name"] for i in got[0]["indices"]] == [backing]
    assert got[0]["template"] == ds + "-t"
    assert es.count(index=ds)["count"] == 2
    # single-doc create through _doc (op_type=create) and _create
    r = server.request("POST", f"/{ds}/_doc?op_type=create&refresh=true", {"@timestamp": "2099-03-08", "msg": "c"})
    assert r.status == 201 and r.json()["_index"] == backing, r
    r = server.request("PUT", f"/{ds}/_create/fixed-id?refresh=true", {"@timestamp": "2099-03-08", "msg": "d"})
    assert r.status == 201 and r.json()["_index"] == backing, r
    assert es.count(index=ds)["count"] == 4
    # search through the stream name returns backing-index hits
    hits = es.search(index=ds, size=10)["hits"]["hits"]
    assert {h["_index"] for h in hits} == {backing}
    # the backing index is readable by its own name too
    assert es.count(index=backing)["count"] == 4
    # mapping: @timestamp is a date
    m = es.indices.get_mapping(index=ds)[backing]["mappings"]
    assert m["properties"]["@timestamp"]["type"] == "date"


def test_data_stream_write_rules(server, es):
    ds = unique("evrules")
    es.indices.put_index_template(name=ds + "-t", index_patterns=[f"{ds}*"], data_stream={}, priority=300)
    r = server.request("PUT", f"/_data_stream/{ds}")
    assert r.status == 200 and r.json() == {"acknowledged": True}, r
    body = ndjson([
        {"index": {"_index": ds}}, {"@timestamp": "2099-01-01", "a": 1},
        {"create": {"_index": ds}}, {"a": 2},
        {"create": {"_index": ds}}, {"@timestamp": "2099-01-01", "a": 3},
    ])
    r = server.request("POST", "/_bulk?refresh=true", body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200, r
    items = r.json()["items"]
    assert r.json()["errors"] is True
    assert items[0]["index"]["status"] == 400
    assert items[0]["index"]["error"]["type"] == "illegal_argument_exception"
    assert items[0]["index"]["error"]["reason"].startswith(
        "only write ops with an op_type of create are allowed in data streams")
    assert items[1]["create"]["status"] == 400
    assert items[1]["create"]["error"]["type"] in PARSE_DOC_ERRORS
    assert "data stream timestamp field [@timestamp] is missing" in items[1]["create"]["error"]["reason"]
    assert items[2]["create"]["status"] == 201
    assert es.count(index=ds)["count"] == 1
    # PUT _doc/<id> is an index op: refused
    r = server.request("PUT", f"/{ds}/_doc/1", {"@timestamp": "2099-01-01"})
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason_startswith="only write ops with an op_type of create are allowed in data streams")


def test_data_stream_api(server, es):
    ds = unique("dsapi")
    # no matching template
    r = server.request("PUT", f"/_data_stream/{ds}")
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason=f"no matching index template found for data stream [{ds}]")
    es.indices.put_index_template(name=ds + "-t", index_patterns=[f"{ds}*"], data_stream={}, priority=300)
    assert es.indices.create_data_stream(name=ds)["acknowledged"] is True
    r = server.request("PUT", f"/_data_stream/{ds}")
    assert_es_error(r, 400, "resource_already_exists_exception", reason=f"data_stream [{ds}] already exists")
    got = es.indices.get_data_stream(name=ds)["data_streams"][0]
    assert got["name"] == ds and got["generation"] == 1
    assert _backing_re(ds).match(got["indices"][0]["index_name"])
    backing = got["indices"][0]["index_name"]
    # creating a regular index with the stream's name is refused
    r = server.request("PUT", f"/{ds}")
    assert r.status == 400, r
    # GET _data_stream lists it; wildcard too
    names = [d["name"] for d in server.get("/_data_stream").json()["data_streams"]]
    assert ds in names
    names = [d["name"] for d in server.get(f"/_data_stream/{ds[:-2]}*").json()["data_streams"]]
    assert names == [ds]
    # delete removes the stream and its backing indices
    assert es.indices.delete_data_stream(name=ds)["acknowledged"] is True
    r = server.get(f"/_data_stream/{ds}")
    assert_es_error(r, 404, "index_not_found_exception", reason=f"no such index [{ds}]")
    assert server.request("HEAD", f"/{backing}").status == 404
    with pytest.raises(elasticsearch.NotFoundError):
        es.indices.delete_data_stream(name=ds)


def test_index_template_data_stream_shape(es):
    name = unique("dst")
    es.indices.put_index_template(name=name, index_patterns=[f"{name}*"], data_stream={}, priority=500)
    it = es.indices.get_index_template(name=name)["index_templates"][0]["index_template"]
    assert it["index_patterns"] == [f"{name}*"]
    assert it["priority"] == 500
    assert isinstance(it["data_stream"], dict)
    assert it["data_stream"].get("hidden", False) is False
    assert it["data_stream"].get("allow_custom_routing", False) is False


def test_template_mappings_apply_to_backing_indices(es):
    name = unique("logs-mapped")
    es.indices.put_index_template(
        name=name, index_patterns=[name + "*"], data_stream={}, priority=321,
        template={"mappings": {"properties": {"destination.ip": {"type": "ip"}, "event": {"properties": {"code": {"type": "keyword"}}}}}},
    )
    r = es.index(index=name, op_type="create", document={"@timestamp": "2026-01-01T00:00:00Z", "destination": {"ip": "10.1.2.3"}, "event": {"code": 4624}})
    assert r["_index"].startswith(".ds-" + name)
    props = es.indices.get_mapping(index=r["_index"])[r["_index"]]["mappings"]["properties"]
    assert props["destination"]["properties"]["ip"] == {"type": "ip"}
    assert props["event"]["properties"]["code"] == {"type": "keyword"}
    assert props["@timestamp"]["type"] == "date"
    es.indices.delete_data_stream(name=name)
    es.indices.delete_index_template(name=name)
