"""The EQL half of Elasticsearch's EQL tutorial, verbatim, plus `_eql/search` request
options, async results and errors, through the official Python client and curl."""

from __future__ import annotations

import json

import elasticsearch
import pytest

from conftest import make_client
from vigil_e2e import T1117, T1117_REL, VigilServer, curl

DS = "my-data-stream"


@pytest.fixture(scope="module")
def eql_server(server_factory):
    srv = server_factory("eql")
    client = make_client(srv)
    client.indices.put_index_template(
        name="my-data-stream-template", index_patterns=["my-data-stream*"], data_stream={}, priority=500
    )
    status, _, body = curl(
        'curl -H "Content-Type: application/json" -XPOST '
        f'"localhost:{srv.port}/my-data-stream/_bulk?pretty&refresh" --data-binary "@{T1117_REL}"'
    )
    assert status == 200 and json.loads(body)["errors"] is False
    yield srv, client
    client.close()


def _docs() -> list[dict]:
    lines = T1117.read_text().splitlines()
    return [json.loads(l) for l in lines[1::2]]


def test_any_where_counts_without_events(eql_server):
    _, es = eql_server
    resp = es.eql.search(index=DS, filter_path="-hits.events", query='any where process.name == "regsvr32.exe"', size=200)
    assert resp["hits"]["total"] == {"value": 143, "relation": "eq"}
    assert "events" not in resp["hits"]
    assert resp["is_partial"] is False and resp["is_running"] is False


def test_process_with_command_line(eql_server):
    _, es = eql_server
    resp = es.eql.search(
        index=DS, query='process where process.name == "regsvr32.exe" and process.command_line.keyword != null'
    )
    events = resp["hits"]["events"]
    assert len(events) == 1
    e = events[0]
    assert e["_index"].startswith(".ds-my-data-stream-")
    stored = es.get(index=e["_index"], id=e["_id"])
    assert stored["_source"] == e["_source"]
    assert e["_source"] in _docs()
    assert e["_source"]["process"]["name"] == "regsvr32.exe"


def test_library_scrobj(eql_server):
    _, es = eql_server
    resp = es.eql.search(index=DS, query='library where process.name == "regsvr32.exe" and dll.name == "scrobj.dll"')
    events = resp["hits"]["events"]
    assert len(events) == 1
    assert events[0]["_source"]["dll"]["name"] == "scrobj.dll"


def test_sequence_by_pid(eql_server):
    _, es = eql_server
    resp = es.eql.search(
        index=DS,
        query="""
    sequence by process.pid
      [process where process.name == "regsvr32.exe"]
      [library where dll.name == "scrobj.dll"]
      [network where true]
  """,
    )
    seqs = resp["hits"]["sequences"]
    assert len(seqs) == 1
    assert seqs[0]["join_keys"] == [2012]
    events = seqs[0]["events"]
    assert [e["_source"]["event"]["category"] for e in events] == ["process", "library", "network"]
    assert all(e["_source"]["process"]["pid"] == 2012 for e in events)
    stamps = [e["_source"]["@timestamp"] for e in events]
    assert stamps == sorted(stamps)


def test_curl_and_result_position(eql_server):
    srv, _ = eql_server
    body = json.dumps({"query": 'any where process.name == "regsvr32.exe"', "size": 2, "result_position": "head"})
    status, headers, out = curl(
        ["-XGET", f"http://127.0.0.1:{srv.port}/{DS}/_eql/search?pretty", "-H", "Content-Type: application/json", "-d", body]
    )
    assert status == 200, out
    assert headers.get("x-elastic-product") == "Elasticsearch"
    head = json.loads(out)["hits"]["events"]
    body = json.dumps({"query": 'any where process.name == "regsvr32.exe"', "size": 2})
    _, _, out = curl(["-XPOST", f"http://127.0.0.1:{srv.port}/{DS}/_eql/search", "-H", "Content-Type: application/json", "-d", body])
    tail = json.loads(out)["hits"]["events"]
    assert len(head) == 2 and len(tail) == 2
    assert head != tail, "the default result_position is tail"
    ts = lambda es_: [e["_source"]["@timestamp"] for e in es_]
    assert ts(head) <= ts(tail)


def test_filter_and_pipes(eql_server):
    _, es = eql_server
    everything = es.eql.search(index=DS, query="any where true", size=1000)["hits"]["events"]
    stamps = sorted(e["_source"]["@timestamp"] for e in everything)
    cut = stamps[len(stamps) // 2]
    resp = es.eql.search(index=DS, query="any where true", size=1000, filter={"range": {"@timestamp": {"gte": cut}}})
    got = resp["hits"]["events"]
    assert got and all(e["_source"]["@timestamp"] >= cut for e in got)
    assert len(got) == sum(1 for s in stamps if s >= cut)
    piped = es.eql.search(index=DS, query="any where true | head 3", size=1000)["hits"]["events"]
    assert [e["_id"] for e in piped] == [e["_id"] for e in everything[:3]]


def test_async_keep_on_completion(eql_server):
    _, es = eql_server
    resp = es.eql.search(index=DS, query='library where dll.name == "scrobj.dll"', keep_on_completion=True, wait_for_completion_timeout="2s")
    assert "id" in resp and resp["is_running"] is False
    got = es.eql.get(id=resp["id"])
    assert got["hits"] == resp["hits"]
    status = es.eql.get_status(id=resp["id"])
    assert status["is_running"] is False and status["completion_status"] == 200
    assert es.eql.delete(id=resp["id"])["acknowledged"] is True
    with pytest.raises(elasticsearch.NotFoundError):
        es.eql.get(id=resp["id"])


def test_kept_results_outlive_a_restart(tmp_path):
    # As in Elasticsearch, whose async results live in an index: a kept search can be read
    # back by id after the node restarts, until it is deleted or its keep_alive passes.
    srv = VigilServer(data_dir=tmp_path / "data", log_path=tmp_path / "vigil.log").start()
    try:
        es = make_client(srv)
        es.indices.put_index_template(name="t", index_patterns=["my-data-stream*"], data_stream={}, priority=500)
        es.bulk(index=DS, operations=T1117.read_text(), refresh=True)
        kept = es.eql.search(index=DS, query='library where dll.name == "scrobj.dll"', keep_on_completion=True)
        short = es.eql.search(index=DS, query="any where true", keep_on_completion=True, keep_alive="1s", size=1)
        sequence_id = es.eql.search(index=DS, query="sequence by process.pid [process where true] [network where true]",
                                  keep_on_completion=True)["id"]
        es.close()
        srv.stop()
        import time
        time.sleep(1.1)
        srv.start()
        es = make_client(srv)
        got = es.eql.get(id=kept["id"])
        assert got["hits"] == kept["hits"] and got["is_running"] is False
        assert es.eql.get_status(id=kept["id"])["completion_status"] == 200
        assert es.eql.get(id=sequence_id)["is_running"] is False
        with pytest.raises(elasticsearch.NotFoundError):
            es.eql.get(id=short["id"])  # its keep_alive passed while the server was down
        assert es.eql.delete(id=kept["id"])["acknowledged"] is True
        es.close()
        srv.stop()
        srv.start()
        es = make_client(srv)
        with pytest.raises(elasticsearch.NotFoundError):
            es.eql.get(id=kept["id"])
        es.close()
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "query, kind, fragment",
    [
        ("process where process.name = 'x'", "parsing_exception", "line 1:"),
        ("process where process.name == 'x'", "parsing_exception", "Use double quotes"),
        ("process where no_such_field == 1", "verification_exception", "Unknown column [no_such_field]"),
        ("sequence [process where true]", "parsing_exception", "minimum of 2 queries"),
        ("process where length(process.name, 1) > 0", "parsing_exception", "error building [length]"),
        ("process where process.pid : 12", "verification_exception", "consider using [==] instead"),
    ],
)
def test_errors(eql_server, query, kind, fragment):
    _, es = eql_server
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.eql.search(index=DS, query=query)
    err = info.value.body["error"]
    assert err["type"] == kind, err
    assert fragment in err["reason"], err
    assert err["root_cause"][0]["type"] == kind
    assert info.value.body["status"] == 400


def test_unknown_index_and_body_field(eql_server):
    _, es = eql_server
    with pytest.raises(elasticsearch.NotFoundError) as info:
        es.eql.search(index="no-such-index", query="any where true")
    assert info.value.body["error"]["type"] == "index_not_found_exception"
    with pytest.raises(elasticsearch.BadRequestError):
        es.perform_request("POST", f"/{DS}/_eql/search", headers={"content-type": "application/json"},
                           body={"query": "any where true", "bogus": 1})


def test_fields_as_in_the_reference(eql_server):
    # The request of Elasticsearch's EQL reference ("Return specific fields"), on the tutorial data.
    _, es = eql_server
    resp = es.eql.search(
        index=DS, filter_path="-hits.events._source",
        query='process where process.name == "regsvr32.exe" and process.command_line.keyword != null',
        fields=["event.type", "process.*", {"field": "@timestamp", "format": "epoch_millis"}],
    )
    [event] = resp["hits"]["events"]
    assert "_source" not in event
    source = es.get(index=event["_index"], id=event["_id"])["_source"]
    fields = event["fields"]
    assert fields["@timestamp"] == [str(source["@timestamp"])]
    assert fields["process.pid"] == [2012]
    assert fields["process.name"] == ["regsvr32.exe"] and fields["process.name.keyword"] == ["regsvr32.exe"]
    assert fields["process.command_line"] == [source["process"]["command_line"]]
    assert fields["process.command_line.keyword"] == [source["process"]["command_line"]]
    assert fields["process.executable"] == [source["process"]["executable"]]
    # Only mapped leaf fields that match: no objects, nothing outside the patterns.
    assert all(k.startswith("process.") or k in ("@timestamp", "event.type") for k in fields)
    assert "process" not in fields and "event" not in fields
    assert fields["event.type"] == [source["event"]["type"]]
    # Default format: the mapping's first (ISO 8601); sequences carry fields per event too.
    seq = es.eql.search(index=DS, query='sequence by process.pid [process where process.name == "regsvr32.exe"] [library where dll.name == "scrobj.dll"]',
                        fields=["@timestamp", "dll.name"])
    first, second = seq["hits"]["sequences"][0]["events"]
    assert first["fields"]["@timestamp"][0].endswith("Z") and "T" in first["fields"]["@timestamp"][0]
    assert second["fields"]["dll.name"] == ["scrobj.dll"]
    with pytest.raises(elasticsearch.BadRequestError):
        es.eql.search(index=DS, query="any where true", fields=[3])
    # A Java pattern, printed in UTC.
    resp = es.eql.search(index=DS, query='process where process.name == "regsvr32.exe"', size=3,
                         fields=[{"field": "@timestamp", "format": "HH:mm:ss.SSS"}])
    for e in resp["hits"]["events"]:
        ms = e["_source"]["@timestamp"] % 86_400_000
        expected = f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
        assert e["fields"]["@timestamp"] == [expected]
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.eql.search(index=DS, query="any where true", fields=[{"field": "@timestamp", "format": "yyyy-ww"}])
    assert info.value.body["error"]["type"] == "illegal_argument_exception"
    assert "Unknown pattern letter: w" in info.value.body["error"]["reason"]


def test_runtime_mappings(eql_server):
    # Runtime fields in the request, as Elasticsearch's runtime-field reference writes them.
    _, es = eql_server
    docs = _docs()
    resp = es.eql.search(
        index=DS, filter_path="-hits.events", size=200, query='any where upper_name == "REGSVR32.EXE"',
        runtime_mappings={"upper_name": {"type": "keyword", "script": {
            "source": "if (doc['process.name.keyword'].size() > 0) { emit(doc['process.name.keyword'].value.toUpperCase()) }"}}},
    )
    assert resp["hits"]["total"] == {"value": 143, "relation": "eq"}
    # `fields` returns the computed values.
    resp = es.eql.search(
        index=DS, size=1, query='process where upper_name == "REGSVR32.EXE"', fields=["upper_name", "process.pid"],
        runtime_mappings={"upper_name": {"type": "keyword", "script": "emit(doc['process.name.keyword'].value.toUpperCase())"}},
    )
    [event] = resp["hits"]["events"]
    assert event["fields"]["upper_name"] == ["REGSVR32.EXE"]
    assert event["fields"]["process.pid"] == [event["_source"]["process"]["pid"]]
    # params and params._source, long arithmetic.
    pid_2012 = sum(1 for d in docs if d.get("process", {}).get("pid") == 2012 and d.get("event", {}).get("category") == "process")
    resp = es.eql.search(
        index=DS, size=200, query="process where pid_plus == 2112",
        runtime_mappings={"pid_plus": {"type": "long", "script": {
            "source": "def p = params._source['process']; if (p != null && p['pid'] != null) { emit(p['pid'] + params.add); }",
            "params": {"add": 100}}}},
    )
    assert resp["hits"]["total"]["value"] == pid_2012 > 0
    # The reference's day-of-week example; 1970-01-01 was a Thursday.
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    day = names[((docs[0]["@timestamp"] // 86_400_000) + 3) % 7]
    expected = sum(1 for d in docs if names[((d["@timestamp"] // 86_400_000) + 3) % 7] == day)
    resp = es.eql.search(
        index=DS, size=200, query=f'any where day_of_week == "{day}"',
        runtime_mappings={"day_of_week": {"type": "keyword", "script": {
            "source": "emit(doc['@timestamp'].value.dayOfWeekEnum.getDisplayName(TextStyle.FULL, Locale.ROOT))"}}},
    )
    assert resp["hits"]["total"]["value"] == expected
    # No script: the value is read from _source as the runtime type, shadowing the mapped long.
    as_long = es.eql.search(index=DS, query="process where process.pid == 2012", size=200)["hits"]["total"]["value"]
    as_keyword = es.eql.search(index=DS, query='process where process.pid == "2012"', size=200,
                               runtime_mappings={"process.pid": {"type": "keyword"}})["hits"]["total"]["value"]
    assert as_keyword == as_long > 0


@pytest.mark.parametrize(
    "mappings,kind,fragment",
    [
        ({"x": {"type": "nope"}}, "mapper_parsing_exception", "No handler for type [nope]"),
        ({"x": {"script": "emit(1)"}}, "mapper_parsing_exception", "No type specified"),
        ({"x": {"type": "long", "script": "for (int i = 0; i < 3; i++) { emit(i) }"}}, "script_exception", "compile error"),
        ({"x": {"type": "keyword", "script": "emit(doc['dll.name.keyword'].value)"}}, "script_exception", "doesn't have a value"),
        ({"x": {"type": "keyword", "script": "emit(doc['process.name'].value)"}}, "script_exception", "Text fields are not optimised"),
    ],
)
def test_runtime_mapping_errors(eql_server, mappings, kind, fragment):
    _, es = eql_server
    with pytest.raises(elasticsearch.BadRequestError) as info:
        es.eql.search(index=DS, query="any where true", runtime_mappings=mappings)
    err = info.value.body["error"]
    assert err["type"] == kind, err
    assert fragment in err["reason"], err


def test_async_search_runs_on_after_the_wait(fresh_server, tmp_path):
    # Enough generated events that a heavy sequence outlasts a zero wait.
    import subprocess
    from vigil_e2e import vigil_bin

    events = tmp_path / "gen.ndjson"
    subprocess.run([str(vigil_bin()), "gen", "--events", "200000", "--hosts", "5", "--output", str(events)], check=True)
    subprocess.run([str(vigil_bin()), "ingest", str(events), "--index", "async-gen", "--url", fresh_server.url, "--quiet"],
                   check=True, capture_output=True)
    es = make_client(fresh_server)
    query = "sequence by host.name [any where true] [any where true] [any where true]"
    expected = es.eql.search(index="async-gen", query=query, size=50)["hits"]
    started = es.eql.search(index="async-gen", query=query, size=50, wait_for_completion_timeout="0ms")
    assert started["is_running"] is True and started["is_partial"] is True and "id" in started
    status = es.eql.get_status(id=started["id"])
    assert status["id"] == started["id"] and "start_time_in_millis" in status
    done = es.eql.get(id=started["id"], wait_for_completion_timeout="60s")
    assert done["is_running"] is False and done["is_partial"] is False
    assert done["hits"] == expected
    assert es.eql.get_status(id=started["id"])["completion_status"] == 200
    # A query that cannot run fails at once, not in the background.
    with pytest.raises(elasticsearch.BadRequestError):
        es.eql.search(index="async-gen", query="process where length(process.name, 2) > 1", wait_for_completion_timeout="0ms")
    # Deleting a running search drops it.
    again = es.eql.search(index="async-gen", query=query, wait_for_completion_timeout="0ms")
    assert es.eql.delete(id=again["id"])["acknowledged"] is True
    with pytest.raises(elasticsearch.NotFoundError):
        es.eql.get(id=again["id"])
    # A wait long enough: the answer comes whole, with no id unless kept.
    quick = es.eql.search(index="async-gen", query='process where process.name == "bash"', wait_for_completion_timeout="30s")
    assert quick["is_running"] is False and "id" not in quick
    es.close()
