"""Index lifecycle, mappings (explicit and dynamic) and field types."""

from __future__ import annotations

import elasticsearch
import pytest

from vigil_e2e import PARSE_DOC_ERRORS, assert_es_error, ndjson, unique

TEXT_WITH_KEYWORD = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

ALL_TYPES_MAPPING = {
    "properties": {
        "kw": {"type": "keyword"},
        "txt": {"type": "text"},
        "l": {"type": "long"},
        "i": {"type": "integer"},
        "s": {"type": "short"},
        "b": {"type": "byte"},
        "d": {"type": "double"},
        "f": {"type": "float"},
        "flag": {"type": "boolean"},
        "ts": {"type": "date", "format": "strict_date_optional_time||epoch_millis"},
        "addr": {"type": "ip"},
        "obj": {"type": "object", "properties": {"inner": {"type": "keyword"}, "n": {"type": "long"}}},
        "kw_alias": {"type": "alias", "path": "kw"},
        "ver": {"type": "version"},
    }
}


@pytest.fixture(scope="module")
def typed_index(es):
    idx = unique("typed")
    res = es.indices.create(index=idx, mappings=ALL_TYPES_MAPPING,
                            settings={"number_of_shards": 1, "number_of_replicas": 0})
    assert res["acknowledged"] is True
    assert res["shards_acknowledged"] is True
    assert res["index"] == idx
    return idx


def test_create_get_exists_delete(server, es):
    idx = unique("life")
    r = server.request("PUT", f"/{idx}", {"settings": {"number_of_shards": 1},
                                         "mappings": {"properties": {"a": {"type": "keyword"}}}})
    assert r.status == 200, r
    assert r.json() == {"acknowledged": True, "shards_acknowledged": True, "index": idx}
    assert server.request("HEAD", f"/{idx}").status == 200
    assert es.indices.exists(index=idx)
    got = es.indices.get(index=idx)
    assert list(got.keys()) == [idx]
    body = got[idx]
    assert body["aliases"] == {}
    assert body["mappings"] == {"properties": {"a": {"type": "keyword"}}}
    s = body["settings"]["index"]
    # Elasticsearch returns index settings as strings
    assert s["number_of_shards"] == "1"
    assert s["provided_name"] == idx
    assert isinstance(s["uuid"], str) and s["uuid"]
    assert isinstance(s["creation_date"], str) and s["creation_date"].isdigit()
    r = server.request("DELETE", f"/{idx}")
    assert r.status == 200 and r.json() == {"acknowledged": True}, r
    r = server.request("HEAD", f"/{idx}")
    assert r.status == 404 and r.body == b""
    assert not es.indices.exists(index=idx)
    with pytest.raises(elasticsearch.NotFoundError):
        es.indices.get(index=idx)


def test_index_not_found_shape(server):
    name = unique("missing")
    for method, path in (("GET", f"/{name}"), ("DELETE", f"/{name}"), ("GET", f"/{name}/_mapping"),
                         ("GET", f"/{name}/_count"), ("POST", f"/{name}/_search"),
                         ("GET", f"/{name}/_doc/1"), ("POST", f"/{name}/_refresh")):
        r = server.request(method, path)
        err = assert_es_error(r, 404, "index_not_found_exception", reason=f"no such index [{name}]")
        assert err["index"] == name, err
        assert err["resource.type"] == "index_or_alias", err
        assert err["resource.id"] == name, err
        assert err["index_uuid"] == "_na_", err
        assert err["root_cause"][0]["type"] == "index_not_found_exception"


def test_create_existing_index(server):
    idx = unique("dup")
    assert server.request("PUT", f"/{idx}").status == 200
    r = server.request("PUT", f"/{idx}", {})
    err = assert_es_error(r, 400, "resource_already_exists_exception",
                          reason_startswith=f"index [{idx}/")
    assert err["reason"].endswith("] already exists"), err
    assert err["index"] == idx


def test_invalid_index_names(server):
    r = server.request("PUT", "/BadName")
    assert_es_error(r, 400, "invalid_index_name_exception",
                    reason="Invalid index name [BadName], must be lowercase")
    r = server.request("PUT", "/_underscore")
    assert_es_error(r, 400, "invalid_index_name_exception",
                    reason_startswith="Invalid index name [_underscore], must not start with '_'")
    server.assert_healthy()


def test_get_explicit_mapping(es, typed_index):
    m = es.indices.get_mapping(index=typed_index)[typed_index]["mappings"]["properties"]
    for name, spec in ALL_TYPES_MAPPING["properties"].items():
        if name == "obj":
            assert m["obj"].get("type", "object") == "object"
            assert m["obj"]["properties"] == spec["properties"]
        elif name == "ts":
            assert m["ts"]["type"] == "date"
            assert m["ts"].get("format", "strict_date_optional_time||epoch_millis") == \
                "strict_date_optional_time||epoch_millis"
        else:
            assert m[name] == spec, (name, m[name])


def test_all_types_roundtrip(es, typed_index):
    doc = {
        "kw": "Alpha", "txt": "The quick brown fox", "l": 9007199254740993, "i": -2147483648,
        "s": 32767, "b": -128, "d": 3.141592653589793, "f": 1.5, "flag": True,
        "ts": "2024-03-01T12:34:56.789Z", "addr": "192.168.1.10", "obj": {"inner": "x", "n": 7},
        "ver": "1.2.3",
    }
    r = es.index(index=typed_index, id="all", document=doc, refresh=True)
    assert r["result"] == "created"
    got = es.get(index=typed_index, id="all")
    assert got["found"] is True
    assert got["_source"] == doc  # _source is returned exactly as sent
    assert isinstance(got["_source"]["l"], int) and got["_source"]["l"] == 9007199254740993


@pytest.mark.parametrize("field,value", [
    ("addr", "::1"), ("addr", "2001:db8::ff00:42:8329"), ("addr", "10.0.0.1"),
    ("ts", "2024-01-02"), ("ts", "2024-01-02T03:04:05Z"), ("ts", "2024-01-02T03:04:05.123+02:00"),
    ("ts", 1700000000000), ("l", "42"), ("i", 42.7), ("flag", "false"), ("flag", "true"),
    ("kw", 42), ("d", "2.5"), ("ver", "2.0.0-beta.1"),
])
def test_accepted_values(server, typed_index, field, value):
    r = server.request("POST", f"/{typed_index}/_doc", {field: value})
    assert r.status == 201, r
    got = server.get(f"/{typed_index}/_doc/{r.json()['_id']}").json()
    assert got["_source"] == {field: value}, "source is stored as sent, not coerced"


@pytest.mark.parametrize("field,value,ftype", [
    ("s", 40000, "short"), ("b", 200, "byte"), ("i", 2147483648, "integer"),
    ("l", "abc", "long"), ("d", "not-a-number", "double"), ("flag", "yes", "boolean"),
    ("ts", "not a date", "date"), ("addr", "999.1.1.1", "ip"), ("addr", "1.2.3", "ip"),
])
def test_rejected_values(server, typed_index, field, value, ftype):
    r = server.request("PUT", f"/{typed_index}/_doc/bad", {field: value})
    assert_es_error(r, 400, PARSE_DOC_ERRORS, reason_contains=f"failed to parse field [{field}] of type [{ftype}]")
    r = server.get(f"/{typed_index}/_doc/bad")
    assert r.status == 404 and r.json()["found"] is False


def test_alias_field_requires_existing_path(server):
    idx = unique("alias")
    r = server.request("PUT", f"/{idx}", {"mappings": {"properties": {"a": {"type": "alias", "path": "nope"}}}})
    assert_es_error(r, 400, "mapper_parsing_exception",
                    reason_contains="an alias must refer to an existing field in the mappings")
    assert server.request("HEAD", f"/{idx}").status == 404


def test_unknown_field_type(server):
    idx = unique("badtype")
    r = server.request("PUT", f"/{idx}", {"mappings": {"properties": {"a": {"type": "nonsense"}}}})
    assert_es_error(r, 400, "mapper_parsing_exception",
                    reason_contains="No handler for type [nonsense] declared on field [a]")


def test_put_mapping(server, es):
    idx = unique("putmap")
    es.indices.create(index=idx, mappings={"properties": {"l": {"type": "long"}}})
    res = es.indices.put_mapping(index=idx, properties={"k": {"type": "keyword"}, "o": {"properties": {"x": {"type": "ip"}}}})
    assert res["acknowledged"] is True
    m = es.indices.get_mapping(index=idx)[idx]["mappings"]["properties"]
    assert m["l"] == {"type": "long"}
    assert m["k"] == {"type": "keyword"}
    assert m["o"]["properties"]["x"] == {"type": "ip"}
    # changing the type of an existing field is refused
    r = server.request("PUT", f"/{idx}/_mapping", {"properties": {"l": {"type": "keyword"}}})
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason="mapper [l] cannot be changed from type [long] to [keyword]")
    r = server.request("PUT", "/no-such-index-putmap/_mapping", {"properties": {"a": {"type": "long"}}})
    assert_es_error(r, 404, "index_not_found_exception")


def test_get_field_mapping(server, es):
    idx = unique("fieldmap")
    es.indices.create(index=idx, mappings={"properties": {"l": {"type": "long"}, "o": {"properties": {"k": {"type": "keyword"}}}}})
    r = server.get(f"/{idx}/_mapping/field/l")
    assert r.status == 200, r
    assert r.json() == {idx: {"mappings": {"l": {"full_name": "l", "mapping": {"l": {"type": "long"}}}}}}
    r = server.get(f"/{idx}/_mapping/field/o.k")
    assert r.json() == {idx: {"mappings": {"o.k": {"full_name": "o.k", "mapping": {"k": {"type": "keyword"}}}}}}


def test_dynamic_mapping(es, server):
    idx = unique("dyn")
    doc = {
        "str": "hello world",
        "num": 5,
        "neg": -17,
        "flt": 1.5,
        "bool": True,
        "when": "2015-01-01T12:10:30Z",
        "day": "2015-01-01",
        "numstr": "443",
        "obj": {"a": "b", "n": 1, "deep": {"x": False}},
        "arr": [1, 2, 3],
        "strs": ["a", "b"],
        "nothing": None,
        "empty": [],
        "dotted.key": "v",
    }
    es.index(index=idx, id="1", document=doc, refresh=True)
    m = es.indices.get_mapping(index=idx)[idx]["mappings"]
    p = m["properties"]
    assert p["str"] == TEXT_WITH_KEYWORD
    assert p["num"] == {"type": "long"}
    assert p["neg"] == {"type": "long"}
    assert p["flt"] == {"type": "float"}
    assert p["bool"] == {"type": "boolean"}
    assert p["when"] == {"type": "date"}
    assert p["day"] == {"type": "date"}
    assert p["numstr"] == TEXT_WITH_KEYWORD
    assert p["obj"].get("type", "object") == "object"
    assert p["obj"]["properties"]["a"] == TEXT_WITH_KEYWORD
    assert p["obj"]["properties"]["n"] == {"type": "long"}
    assert p["obj"]["properties"]["deep"]["properties"]["x"] == {"type": "boolean"}
    assert p["arr"] == {"type": "long"}
    assert p["strs"] == TEXT_WITH_KEYWORD
    # null values and empty arrays add no mapping
    assert "nothing" not in p and "empty" not in p
    # dotted field names are expanded into objects
    assert p["dotted"]["properties"]["key"] == TEXT_WITH_KEYWORD
    assert es.get(index=idx, id="1")["_source"] == doc
    # a later document adds fields; existing ones keep their type
    es.index(index=idx, id="2", document={"num": 6, "extra": 2.25, "str": "x"}, refresh=True)
    p2 = es.indices.get_mapping(index=idx)[idx]["mappings"]["properties"]
    assert p2["extra"] == {"type": "float"}
    assert p2["num"] == {"type": "long"}
    assert p2["str"] == TEXT_WITH_KEYWORD


def test_dynamic_strict_and_false(server):
    idx = unique("strict")
    r = server.request("PUT", f"/{idx}", {"mappings": {"dynamic": "strict", "properties": {"a": {"type": "long"}}}})
    assert r.status == 200, r
    r = server.request("PUT", f"/{idx}/_doc/1", {"a": 1, "b": "x"})
    assert_es_error(r, 400, "strict_dynamic_mapping_exception",
                    reason_contains="mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed")
    assert server.request("PUT", f"/{idx}/_doc/2", {"a": 2}).status == 201
    idx2 = unique("dynfalse")
    server.request("PUT", f"/{idx2}", {"mappings": {"dynamic": False}})
    assert server.request("PUT", f"/{idx2}/_doc/1?refresh=true", {"z": "kept in source"}).status == 201
    m = server.get(f"/{idx2}/_mapping").json()[idx2]["mappings"]
    assert "z" not in m.get("properties", {})
    assert server.get(f"/{idx2}/_doc/1").json()["_source"] == {"z": "kept in source"}


def test_mapping_conflict_inside_one_bulk(server):
    """A field that changes type inside one _bulk: only that item fails (400)."""
    idx = unique("conflict")
    body = ndjson([
        {"index": {"_index": idx, "_id": "1"}}, {"n": 1, "o": {"x": 1}, "t": "text"},
        {"index": {"_index": idx, "_id": "2"}}, {"n": "not-a-number"},
        {"index": {"_index": idx, "_id": "3"}}, {"n": 3},
        {"index": {"_index": idx, "_id": "4"}}, {"o": "concrete value for an object"},
        {"index": {"_index": idx, "_id": "5"}}, {"t": {"now": "an object"}},
        {"index": {"_index": idx, "_id": "6"}}, {"n": 6, "t": "fine"},
    ])
    r = server.request("POST", "/_bulk?refresh=true", body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is True
    statuses = [it["index"]["status"] for it in res["items"]]
    assert statuses == [201, 400, 201, 400, 400, 201], res
    bad = res["items"][1]["index"]
    assert bad["_id"] == "2" and bad["_index"] == idx
    assert bad["error"]["type"] in PARSE_DOC_ERRORS, bad
    assert "failed to parse field [n] of type [long]" in bad["error"]["reason"], bad
    for i in (3, 4):
        assert res["items"][i]["index"]["error"]["type"] in PARSE_DOC_ERRORS, res["items"][i]
    assert server.count(idx) == 3
    assert server.get(f"/{idx}/_doc/2").status == 404
    m = server.get(f"/{idx}/_mapping").json()[idx]["mappings"]["properties"]
    assert m["n"] == {"type": "long"}
    assert m["t"] == TEXT_WITH_KEYWORD
