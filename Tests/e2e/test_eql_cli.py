"""`vigil eql`: EQL over event files with no server, answering as `_eql/search` does."""

from __future__ import annotations

import gzip
import json
import subprocess

from conftest import make_client
from vigil_e2e import T1117, vigil_bin


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(vigil_bin()), *args], capture_output=True, text=True, timeout=timeout)


SEQUENCE = """sequence by process.pid
  [process where process.name == "regsvr32.exe"]
  [library where dll.name == "scrobj.dll"]
  [network where true]"""


def _t1117_docs() -> list[dict]:
    return [json.loads(l) for l in T1117.read_text().splitlines()[1::2]]


def test_count_over_bulk_body():
    p = run("eql", 'any where process.name == "regsvr32.exe"', str(T1117), "--count")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "143"


def test_sequence_over_bulk_body():
    p = run("eql", SEQUENCE, str(T1117))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1
    seq = json.loads(lines[0])
    assert seq["join_keys"] == [2012]
    assert [e["event"]["category"] for e in seq["events"]] == ["process", "library", "network"]


def test_ndjson_gzip_and_array_agree(tmp_path):
    docs = _t1117_docs()
    nd = tmp_path / "events.ndjson"
    nd.write_text("".join(json.dumps(d) + "\n" for d in docs))
    gz = tmp_path / "events.ndjson.gz"
    gz.write_bytes(gzip.compress(nd.read_bytes()))
    arr = tmp_path / "events.json"
    arr.write_text(json.dumps(docs))
    query = 'library where dll.name : "SCROBJ.DLL" or dll.name like~ "vbscript*"'
    outs = []
    for f in (T1117, nd, gz, arr):
        p = run("eql", query, str(f))
        assert p.returncode == 0, p.stderr
        outs.append([json.loads(l) for l in p.stdout.splitlines()])
    assert outs[0], "the query matches something"
    assert all(o == outs[0] for o in outs)
    assert all(e in docs for e in outs[0])


def test_several_files_and_size(tmp_path):
    docs = _t1117_docs()
    a, b = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    a.write_text("".join(json.dumps(d) + "\n" for d in docs[:75]))
    b.write_text("".join(json.dumps(d) + "\n" for d in docs[75:]))
    p = run("eql", "any where true", str(a), str(b), "--count")
    assert p.stdout.strip() == "150"
    head = run("eql", "any where true", str(a), str(b), "--size", "5", "--result-position", "head")
    tail = run("eql", "any where true", str(a), str(b), "--size", "5")
    h = [json.loads(l) for l in head.stdout.splitlines()]
    t = [json.loads(l) for l in tail.stdout.splitlines()]
    stamps = sorted(d["@timestamp"] for d in docs)
    assert [e["@timestamp"] for e in h] == stamps[:5]
    assert [e["@timestamp"] for e in t] == stamps[-5:]


def test_bad_query_fails_before_reading(tmp_path):
    p = run("eql", "process where name = 'x'", str(tmp_path / "does-not-exist.ndjson"))
    assert p.returncode == 2
    assert "parsing_exception" in p.stderr and "line 1:" in p.stderr
    p = run("eql", "process where nope == 1", str(T1117))
    assert p.returncode == 2
    assert "verification_exception" in p.stderr and "Unknown column [nope]" in p.stderr


def test_same_answer_as_the_server(tmp_path, fresh_server):
    events = tmp_path / "gen.ndjson"
    g = run("gen", "--events", "3000", "--hosts", "4", "--seed", "3", "--output", str(events))
    assert g.returncode == 0, g.stderr
    es = make_client(fresh_server)
    lines = events.read_text().splitlines()
    body = "".join('{"create":{}}\n' + l + "\n" for l in lines)
    # ECS IP fields typed `ip`, as `vigil eql` maps them, so cidrMatch applies on both sides.
    es.indices.put_index_template(name="t", index_patterns=["logs-*"], data_stream={}, priority=100,
                                  template={"mappings": {"properties": {"destination.ip": {"type": "ip"}, "source.ip": {"type": "ip"}}}})
    r = es.bulk(index="logs-test-default", operations=body, refresh=True)
    assert r["errors"] is False
    for query in [
        'process where process.name in ("bash", "sshd", "powershell.exe") and process.pid > 100',
        "sequence by host.name with maxspan=5m [process where true] [network where true]",
        'network where cidrMatch(destination.ip, "10.0.0.0/8", "192.168.0.0/16")',
    ]:
        served = es.eql.search(index="logs-test-default", query=query, size=10000)["hits"]
        p = run("eql", query, str(events), "--size", "10000")
        assert p.returncode == 0, p.stderr
        offline = [json.loads(l) for l in p.stdout.splitlines()]
        if "events" in served:
            assert offline == [e["_source"] for e in served["events"]], query
        else:
            assert offline == [
                {"join_keys": s["join_keys"], "events": [e["_source"] for e in s["events"]]} for s in served["sequences"]
            ], query
        assert offline, f"{query} matches something in generated data"
    es.close()


# Events written to trip a byte search for the query's strings: escapes, case, keys that look
# like values, booleans in keyword fields, a Kelvin sign, escaped slashes, and a field that only
# events without the searched text have. `vigil eql` must still answer as the server does.
TRICKY = [
    r'{"@timestamp":"2026-01-01T00:00:01Z","event":{"category":["process"]},"process":{"name":"bash","executable":"/bin/bash"},"flag":"yes"}',
    r'{"@timestamp":"2026-01-01T00:00:02Z","event":{"category":["process"]},"process":{"name":"b\u0061sh","executable":"/usr\/bin/curl"}}',
    r'{"@timestamp":"2026-01-01T00:00:03Z","event":{"category":"process"},"process":{"name":"BASH","executable":"C:\\Windows\\System32\\cmd.exe"}}',
    r'{"@timestamp":"2026-01-01T00:00:04Z","event":{"category":["process"]},"bash":{"x":1},"process":{"name":"zsh"},"flag":true}',
    r'{"@timestamp":"2026-01-01T00:00:05Z","event":{"category":["process"]},"process":{"name":"Python3.11","executable":"/usr/bin/python3"}}',
    '{"@timestamp":"2026-01-01T00:00:06Z","event":{"category":["process"]},"process":{"name":"\u212aill","executable":"/bin/kill"}}',
    r'{"@timestamp":"2026-01-01T00:00:07Z","event":{"category":["network"]},"process":{"name":"curl"},"destination":{"ip":"10.1.2.3"},"rare":{"field":"other"}}',
    r'{"@timestamp":"2026-01-01T00:00:08Z","event":{"category":["file"]},"process":{"name":"bash"},"file":{"path":"/tmp/\"quoted\" name"}}',
    r'{"@timestamp":"2026-01-01T00:00:09Z","event.category":["process"],"process.name":"sshd","process.parent":{"name":"systemd"}}',
    r'{"@timestamp":"2026-01-01T00:00:10Z","event":{"category":["process"]},"process":{"name":"bash","parent":{"name":"sshd"}}}',
    # Addresses that a check before loading must not misjudge: several values, null, IPv6,
    # an escape, a dotted key, none at all.
    r'{"@timestamp":"2026-01-01T00:00:11Z","event":{"category":["network"]},"destination":{"ip":["192.168.1.1","10.9.9.9"]}}',
    r'{"@timestamp":"2026-01-01T00:00:12Z","event":{"category":["network"]},"destination":{"ip":null}}',
    r'{"@timestamp":"2026-01-01T00:00:13Z","event":{"category":["network"]},"destination":{"ip":"fe80::1"}}',
    r'{"@timestamp":"2026-01-01T00:00:14Z","event":{"category":["network"]},"destination":{"ip":"10.0.0.\u0031"}}',
    r'{"@timestamp":"2026-01-01T00:00:15Z","event":{"category":["network"]},"destination.ip":"172.16.0.1"}',
    r'{"@timestamp":"2026-01-01T00:00:16Z","event":{"category":["network"]},"process":{"name":"curl"}}',
]

TRICKY_QUERIES = [
    'process where process.name == "bash"',
    'process where process.name : "bash"',
    'process where process.name : "python*"',
    'process where process.name : "kill"',
    'process where process.name in~ ("BASH", "SSHD")',
    'process where process.name like~ "B*H"',
    'process where process.executable == "/usr/bin/curl"',
    'process where process.executable : "c:\\\\windows\\\\*"',
    'process where startsWith~(process.executable, "C:\\\\WIN") or endsWith(process.executable, "python3")',
    'process where stringContains(process.name, "ash")',
    'process where flag == "true"',
    'any where process.name == "bash" or rare.field == "zzz"',
    'file where file.path : "*\\"quoted\\"*"',
    'process where process.parent.name == "systemd" or process.parent.name == "sshd"',
    'sequence [process where process.name == "zsh"] [process where process.name : "python*"]',
    'sequence by process.name [process where true] ![network where process.name == "curl"] [file where true]',
    'sample by process.name [process where process.name == "bash"] [file where file.path != null]',
    'process where not process.name == "bash"',
    'network where cidrMatch(destination.ip, "10.0.0.0/8")',
    'network where cidrMatch(destination.ip, "172.16.0.0/12", "fe80::/16")',
    'network where not cidrMatch(destination.ip, "10.0.0.0/8")',
    'network where cidrMatch(destination.ip, "10.0.0.0/8") and process.name == "curl"',
    'network where cidrMatch(destination.ip, "192.168.0.0/16") or process.name == "curl"',
    'any where destination.ip == "10.0.0.1"',
    'any where destination.ip != null',
]


def test_offline_answers_as_the_server_on_tricky_text(tmp_path, fresh_server):
    events = tmp_path / "tricky.ndjson"
    events.write_text("\n".join(TRICKY) + "\n", encoding="utf-8")
    es = make_client(fresh_server)
    es.indices.create(index="tricky", mappings={"properties": {"@timestamp": {"type": "date"}, "destination.ip": {"type": "ip"}}})
    body = "".join('{"create":{}}\n' + l + "\n" for l in TRICKY)
    r = es.bulk(index="tricky", operations=body, refresh=True)
    assert r["errors"] is False
    for query in TRICKY_QUERIES:
        served = es.eql.search(index="tricky", query=query, size=100)["hits"]
        p = run("eql", query, str(events), "--size", "100")
        assert p.returncode == 0, (query, p.stderr)
        offline = [json.loads(l) for l in p.stdout.splitlines()]
        if "events" in served:
            expected = [e["_source"] for e in served["events"]]
        else:
            expected = [{**({"join_keys": s["join_keys"]} if "join_keys" in s else {}),
                         "events": [e.get("_source") for e in s["events"]]} for s in served.get("sequences", [])]
        assert offline == expected, query
        count = run("eql", query, str(events), "--count")
        assert int(count.stdout) == served["total"]["value"], query
    es.close()


def test_byte_order_mark_is_not_an_event(tmp_path):
    """Files saved by PowerShell start with a UTF-8 byte order mark; every event is still read."""
    events = [{"@timestamp": f"2026-11-22T00:00:0{i}Z", "event": {"category": "process"}, "n": i} for i in range(3)]
    ndjson = tmp_path / "bom.ndjson"
    ndjson.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(e) for e in events).encode() + b"\n")
    array = tmp_path / "bom.json"
    array.write_bytes(b"\xef\xbb\xbf" + json.dumps(events).encode())
    for path in (ndjson, array):
        r = run("eql", "process where true", str(path), "--count")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "3", (path.name, r.stdout, r.stderr)
