"""The `vigil` command line: version, gen, ingest (offline and through a server)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from vigil_e2e import VigilServer, ndjson, vigil_bin


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(vigil_bin()), *args], capture_output=True, text=True, timeout=timeout)


def _host_name(ev: dict):
    h = ev.get("host")
    if isinstance(h, dict) and "name" in h:
        return h["name"]
    return ev.get("host.name")


def test_version():
    p = run("version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip(), "vigil version prints something"


def test_serve_prints_listening(tmp_path):
    srv = VigilServer(data_dir=tmp_path / "d", log_path=tmp_path / "log")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        assert "listening" in srv.log_path.read_text(errors="replace")
    finally:
        srv.stop()


def test_gen_is_deterministic(tmp_path):
    a, b, c = tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "c.ndjson"
    for out, seed in ((a, "7"), (b, "7"), (c, "8")):
        p = run("gen", "--events", "500", "--hosts", "5", "--seed", seed, "--output", str(out))
        assert p.returncode == 0, p.stderr
    lines = a.read_text().splitlines()
    assert len(lines) == 500
    events = [json.loads(l) for l in lines]
    assert all(isinstance(e, dict) and "@timestamp" in e for e in events)
    hosts = {_host_name(e) for e in events}
    assert None not in hosts, "every ECS event has host.name"
    assert 1 <= len(hosts) <= 5
    assert a.read_bytes() == b.read_bytes(), "same seed, same output"
    assert a.read_bytes() != c.read_bytes(), "another seed, other output"


def test_ingest_through_server(tmp_path, fresh_server):
    f = tmp_path / "ev.ndjson"
    assert run("gen", "--events", "300", "--hosts", "3", "--seed", "1", "--output", str(f)).returncode == 0
    p = run("ingest", str(f), "--index", "cli-events", "--url", fresh_server.url)
    assert p.returncode == 0, p.stdout + p.stderr
    assert fresh_server.count("cli-events") == 300


def test_ingest_offline_then_serve(tmp_path):
    f = tmp_path / "ev.ndjson"
    assert run("gen", "--events", "200", "--hosts", "2", "--seed", "3", "--output", str(f)).returncode == 0
    data = tmp_path / "store"
    p = run("ingest", str(f), "--index", "offline", "--data", str(data))
    assert p.returncode == 0, p.stdout + p.stderr
    srv = VigilServer(data_dir=data, log_path=tmp_path / "log")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        assert srv.count("offline") == 200
        first = json.loads(f.read_text().splitlines()[0])
        r = srv.request("POST", "/offline/_search", {"size": 200})
        sources = [h["_source"] for h in r.json()["hits"]["hits"]]
        assert first in sources, "documents are stored as generated"
    finally:
        srv.stop()


def test_bad_usage_fails(tmp_path):
    assert run("no-such-subcommand").returncode != 0
    assert run("ingest", str(tmp_path / "missing.ndjson"), "--index", "x", "--data", str(tmp_path / "s")).returncode != 0


def test_sigterm_stops_server_and_keeps_data(tmp_path):
    """SIGTERM (docker stop, systemd, Ctrl-C's cousin) shuts down promptly; acknowledged writes survive."""
    srv = VigilServer(data_dir=tmp_path / "d", log_path=tmp_path / "log")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        body = ndjson([x for i in range(10) for x in ({"index": {"_index": "term", "_id": str(i)}}, {"i": i})])
        r = srv.request("POST", "/_bulk", body, headers={"Content-Type": "application/x-ndjson"})
        assert r.status == 200 and r.json()["errors"] is False
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            srv.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("vigil did not exit within 10 s of SIGTERM")
        assert time.monotonic() - t0 < 10
        srv.start()
        assert srv.count("term") == 10
    finally:
        srv.stop()
