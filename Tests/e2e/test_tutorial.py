"""The setup steps of the Elasticsearch EQL tutorial, verbatim.

Reference: Elasticsearch guide, "Tutorial: Threat hunting with EQL" — an index
template with `data_stream: {}` for `my-data-stream*`, then the T1117
(regsvr32) data set bulk-loaded with curl, then `_cat/indices`.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from vigil_e2e import T1117, T1117_REL, curl

DS = "my-data-stream"
BACKING_RE = re.compile(r"^\.ds-my-data-stream-(\d{4})\.(\d{2})\.(\d{2})-000001$")


def _t1117_docs() -> list[dict]:
    lines = T1117.read_text().splitlines()
    return [json.loads(l) for l in lines[1::2]]


@pytest.fixture(scope="module")
def tutorial(server, es):
    # Step 1 (verbatim from the tutorial, Python client form)
    resp = es.indices.put_index_template(
        name="my-data-stream-template",
        index_patterns=["my-data-stream*"],
        data_stream={},
        priority=500,
    )
    assert resp["acknowledged"] is True
    # Step 2: the tutorial's curl command, verbatim apart from the port.
    cmd = (
        'curl -H "Content-Type: application/json" -XPOST '
        f'"localhost:{server.port}/my-data-stream/_bulk?pretty&refresh" '
        f'--data-binary "@{T1117_REL}"'
    )
    status, headers, body = curl(cmd)
    return {"status": status, "headers": headers, "body": body}


def _today_utc_dates() -> set[dt.date]:
    now = dt.datetime.now(dt.timezone.utc)
    return {now.date(), (now - dt.timedelta(minutes=10)).date()}


def test_bulk_response(tutorial):
    assert tutorial["status"] == 200, tutorial["body"][:1000]
    text = tutorial["body"].decode()
    # ?pretty: indented output
    assert "\n  " in text, text[:200]
    res = json.loads(text)
    assert res["errors"] is False
    assert isinstance(res["took"], int)
    items = res["items"]
    assert len(items) == 150
    backing = set()
    for it in items:
        assert list(it.keys()) == ["create"], it
        c = it["create"]
        assert c["status"] == 201, c
        assert c["result"] == "created", c
        assert c["_version"] == 1, c
        assert isinstance(c["_id"], str) and c["_id"], c
        assert c["_index"].startswith(".ds-my-data-stream-"), c
        backing.add(c["_index"])
    assert len(backing) == 1
    assert BACKING_RE.match(backing.pop())
    ids = [it["create"]["_id"] for it in items]
    assert len(set(ids)) == 150, "auto-generated ids must be unique"


def test_cat_indices(tutorial, es):
    resp = es.cat.indices(index="my-data-stream", v=True, h="health,status,index,docs.count")
    text = resp.body if hasattr(resp, "body") else str(resp)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == 2, repr(text)
    assert lines[0].split() == ["health", "status", "index", "docs.count"], repr(text)
    row = lines[1].split()
    assert len(row) == 4, repr(text)
    health, status, index, docs = row
    assert health in ("green", "yellow"), row
    assert status == "open", row
    m = BACKING_RE.match(index)
    assert m, index
    assert dt.date(int(m[1]), int(m[2]), int(m[3])) in _today_utc_dates(), index
    assert docs == "150", row
    # Exact layout of Elasticsearch's cat tables: columns padded to the widest
    # cell and separated by one space; text columns left-aligned, numeric
    # columns (docs.count) right-aligned; the header is the first line.
    w_idx = max(len("index"), len(index))
    hw = max(len("health"), len(health))
    sw = max(len("status"), len(status))
    expected = (
        f"{'health'.ljust(hw)} {'status'.ljust(sw)} {'index'.ljust(w_idx)} docs.count\n"
        f"{health.ljust(hw)} {status.ljust(sw)} {index.ljust(w_idx)} {'150'.rjust(len('docs.count'))}\n"
    )
    assert text == expected, f"\n{text!r}\n!=\n{expected!r}"


def test_count(tutorial, es):
    assert es.count(index="my-data-stream")["count"] == 150


def test_get_data_stream(tutorial, es):
    res = es.indices.get_data_stream(name="my-data-stream")
    streams = res["data_streams"]
    assert len(streams) == 1
    ds = streams[0]
    assert ds["name"] == "my-data-stream"
    assert ds["timestamp_field"] == {"name": "@timestamp"}
    assert ds["generation"] == 1
    assert ds["template"] == "my-data-stream-template"
    assert ds["status"] in ("GREEN", "YELLOW", "green", "yellow")
    assert len(ds["indices"]) == 1
    assert BACKING_RE.match(ds["indices"][0]["index_name"]), ds
    assert isinstance(ds["indices"][0]["index_uuid"], str) and ds["indices"][0]["index_uuid"]


def test_search_sorted_by_timestamp(tutorial, es):
    res = es.search(index="my-data-stream", size=5, sort=[{"@timestamp": "asc"}])
    assert res["timed_out"] is False
    assert res["hits"]["total"] == {"value": 150, "relation": "eq"}
    hits = res["hits"]["hits"]
    assert len(hits) == 5
    docs = _t1117_docs()
    smallest = min(d["@timestamp"] for d in docs)
    first5 = sorted((d for d in docs if d["@timestamp"] == smallest), key=lambda d: json.dumps(d, sort_keys=True))
    assert len(first5) == 5  # the data set has exactly five events at the earliest instant
    got = sorted((h["_source"] for h in hits), key=lambda d: json.dumps(d, sort_keys=True))
    # _source comes back exactly as it was sent (big integer timestamp included)
    assert got == first5
    for h in hits:
        assert BACKING_RE.match(h["_index"]), h
        # @timestamp 131883571821990000 is read as epoch milliseconds; the sort
        # value of a date field is its epoch-millis long.
        assert h["sort"] == [smallest], h
        assert h["_score"] is None


def test_search_sort_desc_and_mapping(tutorial, es):
    res = es.search(index="my-data-stream", size=3, sort=[{"@timestamp": "desc"}])
    docs = _t1117_docs()
    top = sorted((d["@timestamp"] for d in docs), reverse=True)[:3]
    assert [h["_source"]["@timestamp"] for h in res["hits"]["hits"]] == top
    mapping = es.indices.get_mapping(index="my-data-stream")
    assert len(mapping) == 1
    (backing, m), = mapping.items()
    assert BACKING_RE.match(backing)
    props = m["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"
    assert props["process"]["properties"]["pid"]["type"] == "long"
    assert props["process"]["properties"]["name"] == {
        "type": "text",
        "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
    }
    # numeric-looking strings stay strings (numeric_detection is off)
    assert props["destination"]["properties"]["port"]["type"] == "text"
