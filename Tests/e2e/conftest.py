"""pytest fixtures: start the real `vigil` release binary and connect clients to it.

Environment:
  VIGIL_BIN           path of the binary (default: <repo>/.build-release/release/vigil)
  VIGIL_CRASH_ROUNDS  rounds of the kill -9 test (default 20)
"""

from __future__ import annotations

import sys
from pathlib import Path

import elasticsearch
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vigil_e2e import DATA_DIR, VigilServer, vigil_bin  # noqa: E402

CLIENT_VERSION = elasticsearch.__versionstr__


def pytest_report_header(config):
    return [
        f"elasticsearch-py client: {CLIENT_VERSION}",
        f"vigil binary: {vigil_bin()}",
        f"test data: {DATA_DIR}",
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"elasticsearch-py client version: {CLIENT_VERSION}")


@pytest.fixture(scope="session", autouse=True)
def _record_client_version(record_testsuite_property):
    record_testsuite_property("elasticsearch_py_version", CLIENT_VERSION)


def _start(tmp_path_factory, name: str) -> VigilServer:
    base = tmp_path_factory.mktemp(name)
    srv = VigilServer(data_dir=base / "data", log_path=base / "vigil.log")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    return srv


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One server shared by the whole session; tests use unique index names."""
    srv = _start(tmp_path_factory, "shared")
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server with an empty data directory, for tests that need a clean store."""
    srv = _start(tmp_path_factory, "fresh")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory):
    """Start extra servers on demand; all are killed at session end."""
    started: list[VigilServer] = []

    def make(name: str = "extra") -> VigilServer:
        srv = _start(tmp_path_factory, name)
        started.append(srv)
        return srv

    yield make
    for s in started:
        s.stop()


def make_client(srv: VigilServer) -> elasticsearch.Elasticsearch:
    return elasticsearch.Elasticsearch(srv.url, request_timeout=60, max_retries=0)


@pytest.fixture(scope="session")
def es(server):
    client = make_client(server)
    yield client
    client.close()
