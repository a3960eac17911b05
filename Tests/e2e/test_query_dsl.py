"""`_count` and `_search` with the query DSL subset (term, terms, range, exists, bool), checked
against counts computed here from the tutorial's events."""

from __future__ import annotations

import json

import elasticsearch
import pytest

from conftest import make_client
from vigil_e2e import T1117, T1117_REL, curl

DS = "dsl-t1117"


@pytest.fixture(scope="module")
def loaded(server_factory):
    srv = server_factory("dsl")
    es = make_client(srv)
    es.indices.put_index_template(name="dsl-template", index_patterns=["dsl-*"], data_stream={}, priority=500)
    status, _, body = curl(f'curl -s -H "Content-Type: application/json" -XPOST "localhost:{srv.port}/{DS}/_bulk?refresh" --data-binary "@{T1117_REL}"')
    assert status == 200 and json.loads(body)["errors"] is False
    yield srv, es
    es.close()


def docs() -> list[dict]:
    return [json.loads(l) for l in T1117.read_text().splitlines()[1::2]]


def get(d: dict, path: str):
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


MID = sorted(d["@timestamp"] for d in docs())[75]

CASES = [
    ({"term": {"process.name.keyword": "regsvr32.exe"}}, lambda d: get(d, "process.name") == "regsvr32.exe"),
    ({"term": {"event.category.keyword": {"value": "network"}}}, lambda d: get(d, "event.category") == "network"),
    ({"terms": {"process.name.keyword": ["regsvr32.exe", "cmd.exe"]}}, lambda d: get(d, "process.name") in ("regsvr32.exe", "cmd.exe")),
    ({"range": {"process.pid": {"gte": 2000, "lt": 3000}}}, lambda d: isinstance(get(d, "process.pid"), int) and 2000 <= get(d, "process.pid") < 3000),
    ({"range": {"@timestamp": {"gte": MID}}}, lambda d: d["@timestamp"] >= MID),
    ({"range": {"@timestamp": {"lt": MID}}}, lambda d: d["@timestamp"] < MID),
    ({"exists": {"field": "dll.name"}}, lambda d: get(d, "dll.name") is not None),
    ({"bool": {"filter": [{"term": {"process.name.keyword": "regsvr32.exe"}}], "must_not": [{"exists": {"field": "dll.name"}}]}},
     lambda d: get(d, "process.name") == "regsvr32.exe" and get(d, "dll.name") is None),
    # Beside a filter, should clauses are optional; alone, one must match.
    ({"bool": {"filter": [{"exists": {"field": "dll.name"}}], "should": [{"term": {"dll.name.keyword": "nope"}}]}},
     lambda d: get(d, "dll.name") is not None),
    ({"bool": {"should": [{"term": {"dll.name.keyword": "scrobj.dll"}}, {"term": {"event.category.keyword": "network"}}]}},
     lambda d: get(d, "dll.name") == "scrobj.dll" or get(d, "event.category") == "network"),
    ({"bool": {"filter": [{"exists": {"field": "dll.name"}}], "should": [{"term": {"dll.name.keyword": "scrobj.dll"}}], "minimum_should_match": 1}},
     lambda d: get(d, "dll.name") == "scrobj.dll"),
    ({"match_none": {}}, lambda d: False),
]


@pytest.mark.parametrize("query, expected", CASES, ids=[json.dumps(q)[:60] for q, _ in CASES])
def test_count_matches_the_events(loaded, query, expected):
    _, es = loaded
    want = sum(1 for d in docs() if expected(d))
    assert es.count(index=DS, query=query)["count"] == want


def test_search_with_filters_scores_zero_and_filters_hits(loaded):
    _, es = loaded
    query = {"bool": {"filter": [{"term": {"process.name.keyword": "regsvr32.exe"}}, {"exists": {"field": "dll.name"}}]}}
    want = [d for d in docs() if get(d, "process.name") == "regsvr32.exe" and get(d, "dll.name") is not None]
    r = es.search(index=DS, query=query, size=1000)
    assert r["hits"]["total"] == {"value": len(want), "relation": "eq"}
    assert sorted(json.dumps(h["_source"], sort_keys=True) for h in r["hits"]["hits"]) == sorted(json.dumps(d, sort_keys=True) for d in want)
    assert all(h["_score"] == 0.0 for h in r["hits"]["hits"]) and r["hits"]["max_score"] == 0.0
    # Sorted by a field, a scoring query is fine: no score is needed.
    s = es.search(index=DS, query={"term": {"process.name.keyword": "regsvr32.exe"}}, sort=[{"@timestamp": "desc"}], size=5)
    stamps = [h["sort"][0] for h in s["hits"]["hits"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 5
    assert all(h["_source"]["process"]["name"] == "regsvr32.exe" for h in s["hits"]["hits"])
    assert s["hits"]["total"]["value"] == sum(1 for d in docs() if get(d, "process.name") == "regsvr32.exe")


def test_scoring_and_unknown_queries_are_refused(loaded):
    _, es = loaded
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.search(index=DS, query={"term": {"process.name.keyword": "regsvr32.exe"}})
    assert info.value.body["error"]["type"] == "parsing_exception"
    assert "scoring" in info.value.body["error"]["reason"]
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, query={"bool": {"filter": [{"no_such_query": {}}]}})
    assert "unknown query [no_such_query]" in info.value.body["error"]["reason"]
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, query={"match": {"process.name": "regsvr32.exe"}})
    assert "not supported yet" in info.value.body["error"]["reason"]


def test_date_math_ranges(loaded):
    # `now` with arithmetic and rounding, as the search issue's example writes it.
    srv, es = loaded
    import time
    now = int(time.time() * 1000)
    hour, day = 3_600_000, 86_400_000
    stamps = {"recent": now - 10 * 60_000, "hours": now - 3 * hour, "days": now - 3 * day, "future": now + 2 * day}
    ops = []
    for name, ts in stamps.items():
        ops += [{"create": {}}, {"@timestamp": ts, "name": name}]
    es.bulk(index="dsl-math", operations=ops, refresh=True)

    def count(rng):
        return es.count(index="dsl-math", query={"range": {"@timestamp": rng}})["count"]

    assert count({"gte": "now-1h"}) == 2  # the recent event and the future one
    assert count({"gte": "now-1h", "lte": "now"}) == 1
    assert count({"gte": "now-1d", "lte": "now"}) == 2
    assert count({"gt": "now"}) == 1
    # Rounded to the day: `lte now/d` reaches the day's last millisecond, `lt now/d` stops before it starts.
    start_of_today = now - now % day
    in_today = sum(1 for ts in stamps.values() if start_of_today <= ts < start_of_today + day)
    assert count({"gte": "now/d", "lte": "now/d"}) == in_today
    assert count({"lt": "now/d"}) == sum(1 for ts in stamps.values() if ts < start_of_today)
    with pytest.raises(elasticsearch.BadRequestError):
        count({"gte": "now-1q"})
