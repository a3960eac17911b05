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


def test_unknown_and_unsupported_queries_are_refused(loaded):
    _, es = loaded
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, query={"bool": {"filter": [{"no_such_query": {}}]}})
    assert "unknown query [no_such_query]" in info.value.body["error"]["reason"]
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, query={"fuzzy": {"process.name": "regsvr"}})
    assert "not supported yet" in info.value.body["error"]["reason"]


def test_match_scores_with_bm25_rarer_terms_higher(loaded):
    _, es = loaded
    # process.name is text (with a .keyword multi-field). The standard analyzer splits
    # "regsvr32.exe" into [regsvr32, exe] but keeps "cmd.exe" whole.
    r = es.search(index=DS, query={"match": {"process.name": "regsvr32 cmd.exe"}}, size=200)
    n_regsvr = sum(1 for d in docs() if get(d, "process.name") == "regsvr32.exe")
    n_cmd = sum(1 for d in docs() if get(d, "process.name") == "cmd.exe")
    assert 0 < n_cmd < n_regsvr
    assert r["hits"]["total"]["value"] == n_regsvr + n_cmd
    scores = [h["_score"] for h in r["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True) and r["hits"]["max_score"] == scores[0]
    # The rarer term weighs more (higher idf): cmd.exe documents come first.
    assert [h["_source"]["process"]["name"] for h in r["hits"]["hits"][:n_cmd]] == ["cmd.exe"] * n_cmd
    assert min(scores[:n_cmd]) > max(scores[n_cmd:])
    assert es.count(index=DS, query={"match": {"process.name": "exe"}})["count"] == n_regsvr
    # operator and: both terms required.
    assert es.count(index=DS, query={"match": {"process.name": {"query": "regsvr32 exe", "operator": "and"}}})["count"] == n_regsvr
    assert es.count(index=DS, query={"match_phrase": {"process.name": "regsvr32 exe"}})["count"] == n_regsvr
    assert es.count(index=DS, query={"match_phrase": {"process.name": "exe regsvr32"}})["count"] == 0
    # constant_score and filters do not score by relevance.
    c = es.search(index=DS, query={"constant_score": {"filter": {"match": {"process.name": "regsvr32"}}, "boost": 2.5}}, size=3)
    assert {h["_score"] for h in c["hits"]["hits"]} == {2.5}


QS_CASES = [
    ("process.name:regsvr32.exe", lambda d: get(d, "process.name") == "regsvr32.exe"),
    ("process.name.keyword:regsvr32.exe AND NOT event.category:network",
     lambda d: get(d, "process.name") == "regsvr32.exe" and get(d, "event.category") != "network"),
    ("process.pid:[2000 TO 3000}", lambda d: isinstance(get(d, "process.pid"), int) and 2000 <= get(d, "process.pid") < 3000),
    ("_exists_:dll.name", lambda d: get(d, "dll.name") is not None),
    ("process.name.keyword:(regsvr32.exe OR cmd.exe)", lambda d: get(d, "process.name") in ("regsvr32.exe", "cmd.exe")),
    ("process.name.keyword:regsvr*", lambda d: str(get(d, "process.name") or "").startswith("regsvr")),
    ("dll.name.keyword:/scr.*/", lambda d: str(get(d, "dll.name") or "").startswith("scr")),
    ("+event.category:library -dll.name.keyword:scrobj.dll", lambda d: get(d, "event.category") == "library" and get(d, "dll.name") != "scrobj.dll"),
]


@pytest.mark.parametrize("text, expected", QS_CASES, ids=[t for t, _ in QS_CASES])
def test_query_string_and_uri_search(loaded, text, expected):
    srv, es = loaded
    want = sum(1 for d in docs() if expected(d))
    assert es.count(index=DS, query={"query_string": {"query": text}})["count"] == want
    assert es.count(index=DS, q=text)["count"] == want
    assert es.search(index=DS, q=text, size=0)["hits"]["total"]["value"] == want


KQL_CASES = [
    ('process.name : "regsvr32.exe" and not event.category : network',
     lambda d: get(d, "process.name") == "regsvr32.exe" and get(d, "event.category") != "network"),
    ("process.pid >= 2013", lambda d: isinstance(get(d, "process.pid"), int) and get(d, "process.pid") >= 2013),
    ("process.name.keyword : regsvr*", lambda d: str(get(d, "process.name") or "").startswith("regsvr")),
    ("process : { name.keyword : cmd.exe }", lambda d: get(d, "process.name") == "cmd.exe"),
    ("dll.path : *", lambda d: get(d, "dll.path") is not None),
    ("event.category : (registry or network)", lambda d: get(d, "event.category") in ("registry", "network")),
    ("not (event.category : library or event.category : registry)", lambda d: get(d, "event.category") not in ("library", "registry")),
]


@pytest.mark.parametrize("text, expected", KQL_CASES, ids=[t for t, _ in KQL_CASES])
def test_kql(loaded, text, expected):
    _, es = loaded
    want = sum(1 for d in docs() if expected(d))
    assert es.count(index=DS, query={"kql": {"query": text}})["count"] == want


def test_syntax_errors_have_positions(loaded):
    _, es = loaded
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, query={"kql": {"query": "process.name : (a or "}})
    err = info.value.body["error"]
    assert err["type"] == "kql_parsing_exception" and err["col"] == 22
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.count(index=DS, q="process.name:(a OR b")
    assert "column" in json.dumps(info.value.body)


def test_aggregations_match_python(loaded):
    _, es = loaded
    from collections import Counter, defaultdict
    r = es.search(index=DS, size=0, aggs={
        "cats": {"terms": {"field": "event.category.keyword", "size": 10}, "aggs": {"names": {"cardinality": {"field": "process.name.keyword"}}}},
        "pids": {"stats": {"field": "process.pid"}},
        "with_dll": {"filter": {"exists": {"field": "dll.name"}}},
        "kinds": {"filters": {"filters": {"lib": {"term": {"event.category.keyword": "library"}}, "reg": {"term": {"event.category.keyword": "registry"}}}}},
        "n": {"value_count": {"field": "process.pid"}},
    })
    aggs = r["aggregations"]
    want = Counter(get(d, "event.category") for d in docs() if get(d, "event.category") is not None)
    got = {b["key"]: b["doc_count"] for b in aggs["cats"]["buckets"]}
    assert got == dict(want)
    names = defaultdict(set)
    for d in docs():
        if get(d, "event.category") is not None and get(d, "process.name") is not None:
            names[get(d, "event.category")].add(get(d, "process.name"))
    assert {b["key"]: b["names"]["value"] for b in aggs["cats"]["buckets"]} == {k: len(v) for k, v in names.items()} | {k: 0 for k in want if k not in names}
    counts = [b["doc_count"] for b in aggs["cats"]["buckets"]]
    assert counts == sorted(counts, reverse=True)
    pids = [get(d, "process.pid") for d in docs() if isinstance(get(d, "process.pid"), int)]
    assert aggs["pids"]["count"] == len(pids) and aggs["pids"]["min"] == min(pids) and aggs["pids"]["sum"] == sum(pids)
    assert aggs["n"]["value"] == len(pids)
    assert aggs["with_dll"]["doc_count"] == sum(1 for d in docs() if get(d, "dll.name") is not None)
    assert aggs["kinds"]["buckets"]["lib"]["doc_count"] == want["library"]


def test_composite_pages_through_every_bucket(loaded):
    _, es = loaded
    from collections import Counter
    want = Counter((get(d, "event.category"), get(d, "process.name")) for d in docs()
                   if get(d, "event.category") is not None and get(d, "process.name") is not None)
    seen = {}
    after = None
    for _ in range(50):
        comp = {"size": 2, "sources": [{"cat": {"terms": {"field": "event.category.keyword"}}}, {"name": {"terms": {"field": "process.name.keyword"}}}]}
        if after:
            comp["after"] = after
        r = es.search(index=DS, size=0, aggs={"c": {"composite": comp}})["aggregations"]["c"]
        if not r["buckets"]:
            break
        for b in r["buckets"]:
            seen[(b["key"]["cat"], b["key"]["name"])] = b["doc_count"]
        after = r["after_key"]
    assert seen == dict(want)


def test_search_after_with_point_in_time_and_msearch(loaded):
    srv, es = loaded
    pit = es.open_point_in_time(index=DS, keep_alive="1m")["id"]
    # Documents indexed after the point in time stay out of its searches.
    es.index(index=DS, document={"@timestamp": 1, "event": {"category": "late"}}, refresh=True)
    ids = []
    after = None
    while True:
        kw = {"search_after": after} if after else {}
        r = es.search(pit={"id": pit, "keep_alive": "1m"}, size=40, sort=[{"@timestamp": "asc"}], query={"match_all": {}}, **kw)
        hits = r["hits"]["hits"]
        if not hits:
            break
        ids += [h["_id"] for h in hits]
        after = hits[-1]["sort"]
        assert len(after) == 2  # the implicit _shard_doc tiebreaker
    assert len(ids) == len(set(ids)) == len(docs())
    assert es.close_point_in_time(id=pit)["succeeded"] is True
    m = es.msearch(searches=[{"index": DS}, {"query": {"term": {"event.category.keyword": "network"}}, "size": 0},
                             {"index": "no-such-index"}, {"query": {"match_all": {}}}])
    assert m["responses"][0]["hits"]["total"]["value"] == sum(1 for d in docs() if get(d, "event.category") == "network")
    assert m["responses"][1]["status"] == 404
    f = es.search(index=DS, query={"term": {"event.category.keyword": "network"}}, fields=["process.name"], source=False)
    assert f["hits"]["hits"][0]["fields"]["process.name"] and "_source" not in f["hits"]["hits"][0]
    t = es.search(index=DS, terminate_after=5, size=0)
    assert t["terminated_early"] is True and t["hits"]["total"]["value"] == 5


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
