"""The HTTP crash suite: hostile requests that must neither kill, hang nor corrupt the server.

Every test sends one hostile request (or a few), with socket timeouts so a hang fails the
test instead of blocking the suite, and asserts what Elasticsearch (or Kibana, for `/api/`)
does: a 2xx, or a 4xx/429 in Elasticsearch's error shape (`error.root_cause`, `error.type`,
`error.reason`, `status`) or Kibana's (`message`, `status_code`/`statusCode`). Afterwards
the server must still answer `GET /` and a sentinel index must still count its documents.

One server serves the module (`h`). Before each test it is checked: a dead server, or one
left busy by a request that timed out, is killed and restarted on the same data directory
(or, if that fails, on a fresh one), so one crash does not cascade into the tests after it.
Servers are started with a 6 GiB address-space limit so a runaway allocation kills the
server rather than the machine.

Sections: detection rules (scheduler, restart), Kibana's xsrf and content-type rules, deep
nesting in every query language, Int64 overflow in durations, date math and ES|QL,
aggregation sizes and bucket counts, backtracking regexes, `_id` length and the write-ahead
log, field limits, `Expect: 100-continue`, slow clients, long URLs and headers, points in
time, error shapes, silently ignored options, and a generated sweep of every numeric or
duration parameter with -1, 0, 2^31, 2^63-1, -2^63, 1e308, NaN, "abc", a 100,000-deep
array and a 10 MB string.
"""

from __future__ import annotations

import http.client
import json
import resource
import select
import socket
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest

from vigil_e2e import Resp, VigilServer, assert_es_error, http_request, ndjson, unique

NDJSON = {"Content-Type": "application/x-ndjson"}
XSRF = {"kbn-xsrf": "true"}
RULES = "/api/detection_engine/rules"
SENTINEL = "hostile-sentinel"
SENTINEL_DOCS = 50
MEM_LIMIT = 6 << 30          # address space of each server started here
DEEP = 100_000               # nesting depth of the deep cases
BIG = 10 * 1024 * 1024       # bytes of the big string
QUICK = 15.0                 # seconds a request that should be quick may take before it counts as a hang


def sentinel_doc(i: int) -> dict:
    return {"@timestamp": f"2024-01-01T00:{i:02d}:00Z", "event": {"category": "process"}, "i": i,
            "k": f"v{i % 5}", "msg": f"quick brown fox {i}"}


SENTINEL_MAPPING = {"properties": {
    "@timestamp": {"type": "date"}, "event": {"properties": {"category": {"type": "keyword"}}},
    "i": {"type": "long"}, "k": {"type": "keyword"}, "msg": {"type": "text"}}}


# --------------------------------------------------------------------------- server guard


def start_limited(srv: VigilServer, timeout: float = 60.0) -> None:
    """Start `srv` with an address-space limit (inherited through fork, then lifted here)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEM_LIMIT if hard == resource.RLIM_INFINITY else min(MEM_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        srv.start(timeout)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def died(srv: VigilServer) -> str:
    """Why the server died: its exit, and the crash lines of the last start's log."""
    if srv.proc is not None and srv.proc.poll() is None:
        try:
            srv.proc.wait(timeout=10)   # the Swift backtracer takes a few seconds
        except Exception:
            pass
    rc = srv.proc.returncode if srv.proc is not None else None
    how = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"
    try:
        log = srv.log_path.read_text(errors="replace").split("===== start #")[-1].splitlines()
    except OSError:
        log = []
    keep: list[str] = []
    for i, line in enumerate(log):
        if any(m in line for m in ("Swift runtime failure", "Fatal error", "*** Signal", "*** Program crashed")):
            keep.append(line.strip())
        if line.rstrip().endswith("crashed:"):
            keep += [x.strip() for x in log[i + 1:i + 8] if x.strip()]
    detail = "\n".join(dict.fromkeys(keep)) if keep else srv.log_tail(1200)
    return f"server died ({how}):\n{detail}"


def call(srv: VigilServer, method: str, path: str, body=None, headers=None, timeout: float = QUICK,
         on_fail=None) -> Resp:
    """One request; a timeout fails as a hang, a dropped connection as a death (or a drop)."""
    try:
        return http_request(srv.port, method, path, body=body, headers=headers, timeout=timeout)
    except (socket.timeout, TimeoutError):
        if on_fail:
            on_fail()
        pytest.fail(f"hang: no answer within {timeout:g} s to {method} {path[:120]}", pytrace=False)
    except (OSError, http.client.HTTPException) as e:
        if on_fail:
            on_fail()
        time.sleep(0.5)
        if not srv.alive():
            pytest.fail(f"{method} {path[:120]}: {died(srv)}", pytrace=False)
        pytest.fail(f"connection dropped without an answer to {method} {path[:120]}: {e!r}", pytrace=False)


class Guard:
    """The module's server: restarted (same data dir) when a test killed or wedged it."""

    def __init__(self, base: Path):
        self.base = base
        self.gen = 0
        self.srv: VigilServer | None = None
        self.dirty = False
        self.cache: dict[str, str] = {}

    # -- lifecycle
    def _fresh(self) -> None:
        self.gen += 1
        self.cache = {}
        self.srv = VigilServer(data_dir=self.base / f"data{self.gen}", log_path=self.base / "vigil.log")
        start_limited(self.srv)
        self.plant()

    def plant(self) -> None:
        r = self.call("PUT", f"/{SENTINEL}", {"mappings": SENTINEL_MAPPING}, timeout=30)
        assert r.status == 200, r
        lines = [x for i in range(SENTINEL_DOCS) for x in ({"index": {"_id": str(i)}}, sentinel_doc(i))]
        r = self.call("POST", f"/{SENTINEL}/_bulk?refresh=true", ndjson(lines), headers=NDJSON, timeout=30)
        assert r.status == 200 and r.json()["errors"] is False, r

    def sentinel_ok(self) -> bool:
        try:
            r = http_request(self.srv.port, "GET", f"/{SENTINEL}/_count", timeout=10)
            return r.status == 200 and r.json().get("count") == SENTINEL_DOCS
        except Exception:
            return False

    def restart(self) -> None:
        """kill -9, then start on the same data dir; a fresh one if that does not come up whole."""
        if self.srv is None:
            self._fresh()
            return
        self.srv.kill()
        try:
            start_limited(self.srv)
            time.sleep(0.5)
            if self.srv.alive() and self.sentinel_ok():
                self.cache = {}
                return
        except RuntimeError:
            pass
        self.srv.kill()
        self._fresh()

    def ensure(self) -> None:
        ok = self.srv is not None and not self.dirty and self.srv.alive()
        if ok:
            try:
                ok = http_request(self.srv.port, "GET", "/", timeout=5).status == 200
            except Exception:
                ok = False
        if not ok:
            self.restart()
        self.dirty = False

    def kill9_restart(self) -> None:
        """For the tests that crash the server on purpose: same data dir, no fallback."""
        self.srv.kill()
        start_limited(self.srv)

    # -- requests
    def call(self, method: str, path: str, body=None, headers=None, timeout: float = QUICK) -> Resp:
        return call(self.srv, method, path, body, headers, timeout, on_fail=self.mark_dirty)

    def mark_dirty(self) -> None:
        self.dirty = True

    def timed(self, method: str, path: str, body=None, headers=None, bound: float = QUICK) -> Resp:
        """A request that must be answered within `bound` seconds."""
        t0 = time.monotonic()
        r = self.call(method, path, body, headers, timeout=bound)
        took = time.monotonic() - t0
        if took > bound:
            self.dirty = True
            pytest.fail(f"hang: {method} {path[:100]} took {took:.1f} s (bound {bound:g} s)", pytrace=False)
        return r

    def check(self) -> None:
        """Alive, answers GET /, and the sentinel index is whole."""
        if not self.srv.alive():
            self.dirty = True
            pytest.fail(died(self.srv), pytrace=False)
        r = self.call("GET", "/", timeout=10)
        assert r.status == 200, f"GET / after the hostile request: {r!r}"
        r = self.call("GET", f"/{SENTINEL}/_count", timeout=10)
        assert r.status == 200 and r.json()["count"] == SENTINEL_DOCS, f"sentinel count: {r!r}"
        r = self.call("GET", f"/{SENTINEL}/_doc/7", timeout=10)
        assert r.status == 200 and r.json()["_source"] == sentinel_doc(7), f"sentinel doc 7: {r!r}"
        if not self.srv.alive():
            self.dirty = True
            pytest.fail(died(self.srv), pytrace=False)

    # -- lazily made helpers (per server generation)
    def index(self, key: str, body: dict, docs: list[dict] | None = None) -> str:
        if key not in self.cache:
            name = unique(f"hostile-{key}")
            r = self.call("PUT", f"/{name}", body, timeout=30)
            assert r.status == 200, r
            if docs:
                lines = [x for i, d in enumerate(docs) for x in ({"index": {"_id": str(i + 1)}}, d)]
                r = self.call("POST", f"/{name}/_bulk?refresh=true", ndjson(lines), headers=NDJSON, timeout=30)
                assert r.status == 200 and r.json()["errors"] is False, r
            self.cache[key] = name
        return self.cache[key]

    def eql_id(self) -> str:
        if "eqlid" not in self.cache:
            r = self.call("POST", f"/{SENTINEL}/_eql/search",
                          {"query": "any where true", "keep_on_completion": True, "keep_alive": "1h"}, timeout=30)
            assert r.status == 200 and r.json().get("id"), r
            self.cache["eqlid"] = r.json()["id"]
        return self.cache["eqlid"]


@pytest.fixture(scope="module")
def h(tmp_path_factory):
    g = Guard(tmp_path_factory.mktemp("hostile"))
    try:
        g._fresh()
    except (RuntimeError, AssertionError) as e:
        if g.srv is not None:
            g.srv.kill()
        pytest.fail(f"could not start the hostile server: {e}", pytrace=False)
    yield g
    if g.srv is not None:
        g.srv.stop()


@pytest.fixture(autouse=True)
def _guarded(h):
    try:
        h.ensure()
    except (RuntimeError, AssertionError) as e:
        pytest.fail(f"could not (re)start the server before the test: {e}", pytrace=False)
    yield


# --------------------------------------------------------------------------- shapes


def assert_kibana_error(r: Resp) -> dict:
    body = r.json()
    assert isinstance(body, dict), f"Kibana error should be an object: {r!r}"
    assert isinstance(body.get("message"), str) and body["message"], f"Kibana error needs a message: {r!r}"
    code = body.get("status_code", body.get("statusCode"))
    assert code == r.status, f"Kibana error's status_code/statusCode should be {r.status}: {r!r}"
    return body


def assert_answer(r: Resp, api: bool = False) -> None:
    """A 2xx, or a 4xx (429 included) in Elasticsearch's error shape (Kibana's under /api/)."""
    if 200 <= r.status < 300:
        return
    assert 400 <= r.status < 500, f"expected 2xx or 4xx, got {r!r}"
    if api:
        assert_kibana_error(r)
    else:
        assert_es_error(r, r.status)


def error_text(r: Resp) -> str:
    return json.dumps(r.json())


def rule(rule_id: str, **extra) -> dict:
    body = {"rule_id": rule_id, "name": f"Hostile {rule_id}", "description": "hostile", "risk_score": 21,
            "severity": "low", "type": "query", "language": "kuery", "query": "*", "index": ["logs-hostile*"],
            "interval": "1m", "from": "now-2m"}
    body.update(extra)
    return body


def nested(depth: int, open_: str, close: str, leaf: str) -> str:
    return open_ * depth + leaf + close * depth


# --------------------------------------------------------------------------- detection rules: scheduler + restart


@contextmanager
def dedicated(tmp_path_factory, name: str):
    base = tmp_path_factory.mktemp(name)
    srv = VigilServer(data_dir=base / "data", log_path=base / "vigil.log")
    try:
        start_limited(srv)
    except RuntimeError as e:
        srv.kill()
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def stays_up(srv: VigilServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not srv.alive():
            pytest.fail(died(srv), pytrace=False)
        time.sleep(0.2)
    r = call(srv, "GET", "/", timeout=10)
    assert r.status == 200, r


HUGE = "999999999999999"
RULE_TRIGGERS = {
    # name: (extra fields, a run of an accepted rule must fail with a clear status)
    "from": ({"from": f"now-{HUGE}d"}, True),
    "to": ({"to": f"now+{HUGE}d"}, True),
    "from_i64": ({"from": "now-9223372036854775807ms"}, False),
    "interval": ({"interval": f"{HUGE}d"}, False),
    "interval_i64": ({"interval": "9223372036854775807ms"}, False),
    "history_window_start": ({"type": "new_terms", "new_terms_fields": ["host.name"],
                              "history_window_start": f"now-{HUGE}d"}, True),
    "from_near_limit": ({"from": "now-106751991167d"}, False),
    "interval_near_limit": ({"interval": "106751991167d"}, False),
    "max_signals_huge": ({"max_signals": 9223372036854775807}, False),
    "max_signals_negative": ({"max_signals": -1}, False),
    "kql_deep": ({"query": nested(DEEP, "(", ")", "host.name : a")}, False),
}


@pytest.mark.parametrize("trigger", list(RULE_TRIGGERS))
def test_rule_schedule_survives_restart(tmp_path_factory, trigger):
    """Kibana refuses the rule (400 in its shape), or stores it and its run fails clearly; the
    process stays up, also after a restart with the rule stored."""
    extra, must_fail = RULE_TRIGGERS[trigger]
    with dedicated(tmp_path_factory, f"rule-{trigger}") as srv:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        lines = [x for i in range(3) for x in ({"index": {}}, {"@timestamp": now, "host": {"name": f"h{i}"}})]
        r = call(srv, "POST", "/logs-hostile-events/_bulk?refresh=true", ndjson(lines), headers=NDJSON)
        assert r.status == 200 and not r.json()["errors"], r
        rid = unique("trigger")
        r = call(srv, "POST", RULES, rule(rid, **extra), headers=XSRF, timeout=30)
        if trigger == "max_signals_negative":
            assert r.status == 400, f"max_signals -1 must be refused at write time: {r!r}"
        assert_answer(r, api=True)
        if r.status != 200:
            assert call(srv, "GET", f"{RULES}?rule_id={rid}", headers=XSRF).status == 404
            stays_up(srv, 1.0)
            return
        rule_uuid = r.json()["id"]
        # Let the scheduler (one check a second) run it.
        events: list = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            if not srv.alive():
                pytest.fail(f"after planting the rule: {died(srv)}", pytrace=False)
            rr = call(srv, "GET", f"/internal/detection_engine/rules/{rule_uuid}/execution/results?per_page=10",
                      headers=XSRF)
            if rr.status == 200 and rr.json().get("events"):
                events = rr.json()["events"]
                break
            time.sleep(0.3)
        stays_up(srv, 1.0)
        if must_fail:
            assert events, "the rule never ran (no execution result within 6 s)"
            ev = events[0]
            assert ev.get("status") in ("failed", "partial failure") and ev.get("message"), \
                f"a run over an unrepresentable window must fail with a clear message: {ev}"
        # Restart on the same data dir with the rule stored: it must stay up and answer.
        srv.stop()
        try:
            start_limited(srv)
        except RuntimeError as e:
            pytest.fail(f"restart with the rule stored failed: {e}", pytrace=False)
        stays_up(srv, 3.0)
        assert call(srv, "GET", f"{RULES}?rule_id={rid}", headers=XSRF).status == 200


# --------------------------------------------------------------------------- Kibana: kbn-xsrf and content types

KBN_XSRF_BODY = {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}


def _rule_unchanged(h, rid, created) -> str | None:
    got = h.call("GET", f"{RULES}?rule_id={rid}", headers=XSRF)
    if got.status != 200 or got.json()["name"] != "original" or got.json()["enabled"] is not False:
        return f"the rule changed: {got!r}"
    return None


def _xsrf_cases():
    # name: (method, path, body maker (rid, created rule), probe: None when nothing changed, else what did)
    return {
        "rules_create": ("POST", RULES, lambda rid, c: rule(rid + "-new", enabled=False),
                         lambda h, rid, c: None if h.call("GET", f"{RULES}?rule_id={rid}-new", headers=XSRF).status == 404
                         else "the rule was created"),
        "rules_update": ("PUT", RULES, lambda rid, c: rule(rid, enabled=False, name="changed"), _rule_unchanged),
        "rules_patch": ("PATCH", RULES, lambda rid, c: {"rule_id": rid, "name": "changed"}, _rule_unchanged),
        "rules_delete": ("DELETE", f"{RULES}?rule_id=@RID@", None, _rule_unchanged),
        "rules_bulk_action": ("POST", f"{RULES}/_bulk_action", lambda rid, c: {"action": "enable", "ids": [c["id"]]},
                              _rule_unchanged),
        "signals_status": ("POST", "/api/detection_engine/signals/status",
                           lambda rid, c: {"signal_ids": ["x"], "status": "closed"}, lambda h, rid, c: None),
        "exception_list": ("POST", "/api/exception_lists",
                           lambda rid, c: {"list_id": rid, "name": "x", "description": "x", "type": "detection"},
                           lambda h, rid, c: None if h.call("GET", f"/api/exception_lists?list_id={rid}",
                                                            headers=XSRF).status == 404 else "the list was created"),
        "connector": ("POST", "/api/actions/connector",
                      lambda rid, c: {"name": rid, "connector_type_id": ".index", "config": {"index": "x"}},
                      lambda h, rid, c: "the connector was created" if any(
                          x.get("name") == rid for x in h.call("GET", "/api/actions/connectors", headers=XSRF).json())
                      else None),
    }


@pytest.mark.parametrize("case", list(_xsrf_cases()))
def test_api_write_without_kbn_xsrf_is_refused(h, case):
    method, path, make, probe = _xsrf_cases()[case]
    rid = unique("xsrf")
    r = h.call("POST", RULES, rule(rid, enabled=False, name="original"), headers=XSRF)
    assert r.status == 200, r
    created = r.json()
    r = h.call(method, path.replace("@RID@", rid), make(rid, created) if make else None)   # no kbn-xsrf header
    assert r.status == 400, f"expected Kibana's 400 for a write without kbn-xsrf: {r!r}"
    assert r.json() == KBN_XSRF_BODY, r
    changed = probe(h, rid, created)
    assert changed is None, f"a refused write must change nothing: {changed}"
    h.call("DELETE", f"{RULES}?rule_id={rid}", headers=XSRF)
    h.check()


def test_api_read_without_kbn_xsrf_is_fine(h):
    r = h.call("GET", f"{RULES}/_find?per_page=1")
    assert r.status == 200, r
    h.check()


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "text/plain"])
def test_api_form_post_is_refused(h, ctype):
    rid = unique("form")
    r = h.call("POST", RULES, json.dumps(rule(rid)).encode(), headers={"Content-Type": ctype, **XSRF})
    assert 400 <= r.status < 500, f"a {ctype} post to a JSON route must be refused: {r!r}"
    assert_kibana_error(r)
    assert h.call("GET", f"{RULES}?rule_id={rid}", headers=XSRF).status == 404
    h.check()


# --------------------------------------------------------------------------- deep nesting in every language


def _deep_cases(sentinel: str):
    return {
        "eql": ("POST", f"/{sentinel}/_eql/search", {"query": "any where " + nested(DEEP, "(", ")", "true")}),
        "kql_query": ("POST", f"/{sentinel}/_search", {"query": {"kql": {"query": nested(DEEP, "(", ")", "i : 1")}}}),
        "query_string": ("POST", f"/{sentinel}/_search",
                         {"query": {"query_string": {"query": nested(DEEP, "(", ")", "i:1")}}}),
        "lucene_q": ("GET", f"/{sentinel}/_search?q=" + urllib.parse.quote(nested(DEEP, "(", ")", "i:1")), None),
        "esql": ("POST", "/_query", {"query": f"FROM {sentinel} | WHERE " + nested(DEEP, "(", ")", "i > 0")}),
        "painless": ("POST", f"/{sentinel}/_eql/search", {
            "query": "any where r == 1",
            "runtime_mappings": {"r": {"type": "long", "script": {"source": "emit(" + nested(DEEP, "(", ")", "1") + ")"}}}}),
        "eql_filter_kql": ("POST", f"/{sentinel}/_eql/search", {
            "query": "any where true", "filter": {"kql": {"query": nested(DEEP, "(", ")", "i : 1")}}}),
    }


@pytest.mark.parametrize("lang", list(_deep_cases(SENTINEL)))
def test_deep_nesting_query_languages(h, lang):
    method, path, body = _deep_cases(SENTINEL)[lang]
    r = h.timed(method, path, body, bound=30)
    assert_answer(r)
    h.check()


def _bool_nested(depth: int, occur: str) -> dict:
    q: dict = {"match_all": {}}
    for _ in range(depth):
        q = {"bool": {occur: q}}
    return {"query": q}


@pytest.mark.parametrize("occur", ["filter", "must", "should", "must_not"])
def test_bool_nested_28_is_quick(h, occur):
    # Elasticsearch allows 30 levels (indices.query.bool.max_nested_depth); 28 is an ordinary query.
    # A 600-byte query over 50 documents: 5 s is a hang, not a speed target.
    body = _bool_nested(28, occur)
    r = h.timed("POST", f"/{SENTINEL}/_search", body, bound=5)
    assert r.status == 200, r
    h.check()


@pytest.mark.parametrize("depth", [31, DEEP])
def test_bool_nested_past_limit_is_400(h, depth):
    r = h.timed("POST", f"/{SENTINEL}/_search", _bool_nested(depth, "filter") if depth < 1000
                else ('{"query":' + nested(depth, '{"bool":{"filter":', "}}", '{"match_all":{}}') + "}").encode(),
                bound=30)
    assert_es_error(r, 400)
    h.check()


@pytest.mark.parametrize("where", ["search", "doc", "esql", "eql", "bulk_source", "rule"])
def test_json_100k_deep(h, where):
    arr = ("[" * DEEP + "]" * DEEP).encode()
    obj = nested(DEEP, '{"a":', "}", "1").encode()
    scratch = h.index("deepjson", {})
    if where == "search":
        r = h.timed("POST", f"/{SENTINEL}/_search", arr, bound=30)
    elif where == "doc":
        r = h.timed("PUT", f"/{scratch}/_doc/deep", obj, bound=30)
    elif where == "esql":
        r = h.timed("POST", "/_query", b'{"query":' + arr + b"}", bound=30)
    elif where == "eql":
        r = h.timed("POST", f"/{SENTINEL}/_eql/search", b'{"query":"any where true","filter":' + obj + b"}", bound=30)
    elif where == "bulk_source":
        r = h.timed("POST", f"/{scratch}/_bulk", b'{"index":{"_id":"deep"}}\n' + obj + b"\n", headers=NDJSON, bound=30)
        assert r.status in (200, 400), r
        if r.status == 200:
            assert r.json()["items"][0]["index"]["status"] == 400, r
    else:
        r = h.timed("POST", RULES, b'{"rule_id":"deep","x":' + arr + b"}", headers=XSRF, bound=30)
        assert r.status == 400, r
        assert_kibana_error(r)
    if where not in ("bulk_source", "rule"):
        assert_es_error(r, 400)
    if where in ("doc", "bulk_source"):
        assert h.call("GET", f"/{scratch}/_doc/deep").status == 404
    h.check()


def test_eql_10000_term_or(h):
    query = "any where " + " or ".join(f'k == "x{i}"' for i in range(10_000))
    r = h.timed("POST", f"/{SENTINEL}/_eql/search", {"query": query}, bound=30)
    assert_answer(r)
    h.check()


# --------------------------------------------------------------------------- Int64 overflow: date math, percentages, EQL, ES|QL

DATE_MATH = {
    "minus_huge_days": f"now-{HUGE}d",
    "plus_huge_days": f"now+{HUGE}d",
    "minus_i64_ms": "now-9223372036854775807ms",
    "minus_i64_days": "now-9223372036854775807d",
    "round_then_huge_years": "now/y-999999999999y",
    "epoch_i64max": "9223372036854775807",
    "epoch_i64min": "-9223372036854775808",
}


@pytest.mark.parametrize("name", list(DATE_MATH))
def test_range_date_math_overflow(h, name):
    r = h.timed("POST", f"/{SENTINEL}/_search", {"query": {"range": {"@timestamp": {"gte": DATE_MATH[name]}}}})
    assert_answer(r)
    h.check()


@pytest.mark.parametrize("name", list(DATE_MATH))
def test_extended_bounds_date_math_overflow(h, name):
    body = {"size": 0, "aggs": {"a": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "1d", "extended_bounds": {"min": DATE_MATH[name], "max": "now"}}}}}
    r = h.timed("POST", f"/{SENTINEL}/_search", body, bound=30)
    assert_answer(r)
    h.check()


@pytest.mark.parametrize("pct", ["2147483648%", "9223372036854775807%", "-9223372036854775808%", "-2147483649%",
                                 "100000000000000000000%", "1e308%", "NaN%"])
def test_minimum_should_match_percentage(h, pct):
    body = {"query": {"bool": {"should": [{"term": {"k": "v1"}}, {"term": {"k": "v2"}}, {"term": {"k": "v3"}}],
                               "minimum_should_match": pct}}}
    r = h.timed("POST", f"/{SENTINEL}/_search", body)
    assert_answer(r)
    r = h.timed("POST", f"/{SENTINEL}/_search",
                {"query": {"match": {"msg": {"query": "quick brown fox", "minimum_should_match": pct}}}})
    assert_answer(r)
    h.check()


EXTREME_TS = [9223372036854775807, 9223372036854775806, -9223372036854775808, -9223372036854775807, 0]


def _seq_index(h) -> str:
    mapping = {"mappings": {"properties": {"@timestamp": {"type": "date"}, "ts": {"type": "long"},
                                           "event": {"properties": {"category": {"type": "keyword"}}},
                                           "k": {"type": "keyword"}}}}
    docs = [{"@timestamp": "2024-01-01T00:00:0%dZ" % n, "ts": ts, "event": {"category": "process"}, "k": "a"}
            for n, ts in enumerate(EXTREME_TS)]
    return h.index("seq", mapping, docs)


def test_extreme_epoch_timestamps_index(h):
    idx = _seq_index(h)
    lines = []
    for n, ts in enumerate(EXTREME_TS):
        lines += [{"index": {"_id": f"epoch{n}"}}, {"@timestamp": ts, "ts": ts, "event": {"category": "process"}, "k": "b"}]
    r = h.timed("POST", f"/{idx}/_bulk?refresh=true", ndjson(lines), headers=NDJSON, bound=30)
    assert r.status == 200, r
    for item in r.json()["items"]:
        st = item["index"]["status"]
        assert 200 <= st < 300 or st == 400, item
    r = h.timed("POST", f"/{idx}/_search", {"sort": [{"@timestamp": "asc"}], "size": 20})
    assert_answer(r)
    h.check()


@pytest.mark.parametrize("query,tsfield", [
    ("sequence with maxspan=1d [any where true] [any where true]", "ts"),
    ("sequence with maxspan=9223372036854775807ms [any where true] [any where true]", "ts"),
    ("sequence by k [any where true] [any where true] until [any where false]", "ts"),
    ("sequence with maxspan=1d [any where true] [any where true]", "@timestamp"),
], ids=["maxspan_1d_ts", "maxspan_i64_ts", "until_ts", "maxspan_1d_timestamp"])
def test_eql_sequence_extreme_timestamps(h, query, tsfield):
    idx = _seq_index(h)
    r = h.timed("POST", f"/{idx}/_eql/search", {"query": query, "timestamp_field": tsfield}, bound=30)
    assert_answer(r)
    h.check()


ESQL_NULL_WARNING = {
    "long_add_overflow": "EVAL x = i + 9223372036854775807",
    "long_mul_overflow": "EVAL x = (i + 9223372036854775800) * 2",
    "div_by_zero": "EVAL x = i / (i - 7)",
    "to_long_1e20": 'EVAL x = TO_LONG(CONCAT(TO_STRING(i - 6), "e20"))',
}


@pytest.mark.parametrize("name", list(ESQL_NULL_WARNING))
def test_esql_overflow_is_null_with_warning(h, name):
    q = f"FROM {SENTINEL} | WHERE i == 7 | {ESQL_NULL_WARNING[name]} | KEEP x"
    r = h.timed("POST", "/_query", {"query": q})
    assert r.status == 200, f"ES|QL gives null and a Warning header, not an error: {r!r}"
    assert r.json()["values"] == [[None]], r
    assert r.header("Warning"), f"a Warning header must say why the value is null: {r.headers}"
    h.check()


def test_esql_long_min_div_minus_one(h):
    # Java's long division gives Long.MIN_VALUE here; an overflow check gives null with a Warning.
    q = f"FROM {SENTINEL} | WHERE i == 7 | EVAL m = i - 7 - 9223372036854775807 - 1 | EVAL x = m / -1 | KEEP m, x"
    r = h.timed("POST", "/_query", {"query": q})
    assert r.status == 200, r
    m, x = r.json()["values"][0]
    assert m == -9223372036854775808, r
    assert x in (None, -9223372036854775808), r
    if x is None:
        assert r.header("Warning"), f"a null from an overflow needs a Warning header: {r.headers}"
    h.check()


ESQL_LOOSE = {
    "left_1e300": "EVAL x = LEFT(k, 1e300)",
    "left_i32max": "EVAL x = LEFT(k, 2147483647)",
    "substring_huge": "EVAL x = SUBSTRING(k, 9223372036854775807, 9223372036854775807)",
    "date_trunc_huge_years": "EVAL x = DATE_TRUNC(999999999999 years, @timestamp)",
    "date_trunc_huge_days": "EVAL x = DATE_TRUNC(9223372036854775807 days, @timestamp)",
    "round_huge": "EVAL x = ROUND(i, 9223372036854775807)",
    "round_huge_negative": "EVAL x = ROUND(i * 1.5, -9223372036854775807)",
    "space_huge": "EVAL x = SPACE(2147483647)",
    "date_plus_huge_span": "EVAL x = @timestamp + 999999999999 years",
    "limit_i64": "LIMIT 9223372036854775807",
    "mv_slice_huge": "EVAL x = MV_SLICE(k, -9223372036854775807, 9223372036854775807)",
}


@pytest.mark.parametrize("name", list(ESQL_LOOSE))
def test_esql_arithmetic_bounds(h, name):
    q = f"FROM {SENTINEL} | WHERE i == 7 | {ESQL_LOOSE[name]}"
    r = h.timed("POST", "/_query", {"query": q}, bound=30)
    assert_answer(r)
    h.check()


# --------------------------------------------------------------------------- aggregations: sizes and bucket counts

NEGATIVE_AGG = {
    "terms_size": {"terms": {"field": "k", "size": -1}},
    "multi_terms_size": {"multi_terms": {"terms": [{"field": "k"}, {"field": "i"}], "size": -1}},
    "composite_size": {"composite": {"sources": [{"k": {"terms": {"field": "k"}}}], "size": -1}},
    "top_hits_size": {"top_hits": {"size": -1}},
    "top_hits_from": {"top_hits": {"from": -1}},
}


@pytest.mark.parametrize("name", list(NEGATIVE_AGG))
def test_negative_agg_size_is_400(h, name):
    r = h.timed("POST", f"/{SENTINEL}/_search", {"size": 0, "aggs": {"a": NEGATIVE_AGG[name]}})
    assert_es_error(r, 400)
    h.check()


ABSURD_AGG = {
    "top_hits_size_i32max": {"top_hits": {"size": 2147483647}},
    "top_hits_from_i32max": {"top_hits": {"from": 2147483647}},
    "terms_size_i32max": {"terms": {"field": "k", "size": 2147483647}},
    "multi_terms_size_i32max": {"multi_terms": {"terms": [{"field": "k"}, {"field": "i"}], "size": 2147483647}},
    "composite_size_i32max": {"composite": {"sources": [{"k": {"terms": {"field": "k"}}}], "size": 2147483647}},
    "percentiles_many": {"percentiles": {"field": "i", "percents": [x / 1000 for x in range(100_000)]}},
}


@pytest.mark.parametrize("name", list(ABSURD_AGG))
def test_absurd_agg_sizes(h, name):
    r = h.timed("POST", f"/{SENTINEL}/_search", {"size": 0, "aggs": {"a": ABSURD_AGG[name]}}, bound=30)
    assert_answer(r)
    h.check()


def _buckets_index(h) -> str:
    mapping = {"mappings": {"properties": {"t": {"type": "date"}, "n": {"type": "long"}}}}
    return h.index("buckets", mapping, [{"t": "1970-01-01T00:00:00Z", "n": 0}, {"t": "2100-01-01T00:00:00Z", "n": 10**12}])


BUCKET_BOMBS = {
    "date_histogram_1ms": {"date_histogram": {"field": "t", "fixed_interval": "1ms"}, "aggs": {"m": {"max": {"field": "n"}}}},
    "histogram_tiny": {"histogram": {"field": "n", "interval": 0.001}, "aggs": {"m": {"max": {"field": "n"}}}},
    "date_histogram_1s_bounds": {"date_histogram": {"field": "t", "fixed_interval": "1s",
                                                    "extended_bounds": {"min": "1000-01-01", "max": "3000-01-01"}},
                                 "aggs": {"m": {"max": {"field": "n"}}}},
}


@pytest.mark.parametrize("name", list(BUCKET_BOMBS))
def test_too_many_buckets(h, name):
    idx = _buckets_index(h)
    r = h.timed("POST", f"/{idx}/_search", {"size": 0, "aggs": {"a": BUCKET_BOMBS[name]}}, bound=30)
    assert r.status in (400, 503), f"expected too_many_buckets_exception (400/503, search.max_buckets 65536): {r!r}"
    assert_es_error(r, r.status)
    assert "too_many_buckets_exception" in error_text(r), r
    h.check()


# --------------------------------------------------------------------------- backtracking regexes


def _regex_index(h) -> str:
    mapping = {"mappings": {"properties": {"@timestamp": {"type": "date"},
                                           "event": {"properties": {"category": {"type": "keyword"}}},
                                           "k": {"type": "keyword"}, "msg": {"type": "text"}}}}
    # Distinct values and tokens of a's ending in "b": each one is exponential for a backtracking engine.
    docs = [{"@timestamp": "2024-01-01T00:00:00Z", "event": {"category": "process"}, "k": "a" * (5000 + n) + "b",
             "msg": " ".join("a" * (40 + 60 * n + t) + "b" for t in range(60))} for n in range(3)]
    return h.index("regex", mapping, docs)


@pytest.mark.parametrize("lang", ["eql", "eql_case_insensitive", "regexp", "query_string", "esql_rlike", "regexp_text"])
def test_backtracking_regex_is_bounded(h, lang):
    idx = _regex_index(h)
    if lang == "eql":
        r = h.timed("POST", f"/{idx}/_eql/search", {"query": 'any where k regex "(a+)+$"'})
    elif lang == "eql_case_insensitive":
        r = h.timed("POST", f"/{idx}/_eql/search", {"query": 'any where k regex~ "(a+)+c"'})
    elif lang == "regexp":
        r = h.timed("POST", f"/{idx}/_search", {"query": {"regexp": {"k": "(a+)+c"}}})
    elif lang == "regexp_text":
        r = h.timed("POST", f"/{idx}/_search", {"query": {"regexp": {"msg": "(a+)+c"}}})
    elif lang == "query_string":
        r = h.timed("POST", f"/{idx}/_search", {"query": {"query_string": {"query": "k:/(a+)+c/"}}})
    else:
        r = h.timed("POST", "/_query", {"query": f'FROM {idx} | WHERE k RLIKE "(a+)+c" | KEEP k'})
    assert_answer(r)
    h.check()


# --------------------------------------------------------------------------- ES|QL LIMIT over many documents


def test_esql_limit_1_over_50000_docs(h):
    idx = unique("hostile-many")
    for chunk in range(5):
        lines = []
        for i in range(chunk * 10_000, (chunk + 1) * 10_000):
            lines += [{"index": {}}, {"@timestamp": "2024-01-01T00:00:00Z", "n": i, "s": f"s{i % 97}"}]
        r = h.call("POST", f"/{idx}/_bulk", ndjson(lines), headers=NDJSON, timeout=120)
        assert r.status == 200 and not r.json()["errors"], r
    h.call("POST", f"/{idx}/_refresh", timeout=60)
    for q in (f"FROM {idx} | LIMIT 1", "FROM * | LIMIT 1"):
        r = h.timed("POST", "/_query", {"query": q}, bound=5)
        assert r.status == 200 and len(r.json()["values"]) == 1, r
    h.call("DELETE", f"/{idx}", timeout=60)
    h.check()


# --------------------------------------------------------------------------- _id length and the write-ahead log

ID_TOO_LONG = "is too long, must be no longer than 512 bytes but was: "


@pytest.mark.parametrize("length", [513, 65_536, 100_000])
def test_long_id_refused_in_bulk(h, length):
    idx = h.index("ids", {})
    long_id = "a" * length
    body = ndjson([{"index": {"_index": idx, "_id": long_id}}, {"x": 1},
                   {"index": {"_index": idx, "_id": f"after-{length}"}}, {"x": 2}])
    r = h.timed("POST", "/_bulk?refresh=true", body, headers=NDJSON, bound=30)
    if r.status == 200:
        item = r.json()["items"][0]["index"]
        assert item["status"] == 400, f"an _id of {length} bytes must be refused: {item}"
        assert ID_TOO_LONG + str(length) in json.dumps(item["error"]), item
    else:
        err = assert_es_error(r, 400)
        assert ID_TOO_LONG + str(length) in json.dumps(err), err
    assert h.call("GET", f"/{idx}/_doc/{long_id}", timeout=30).status in (404, 400, 414)
    h.check()


@pytest.mark.parametrize("length", [513, 65_536])
def test_long_id_refused_in_url(h, length):
    idx = h.index("ids", {})
    r = h.timed("PUT", f"/{idx}/_doc/{'b' * length}", {"x": 1}, bound=30)
    assert 400 <= r.status < 500, f"an _id of {length} bytes must be refused: {r!r}"
    assert_es_error(r, r.status)
    h.check()


def test_512_byte_id_accepted(h):
    idx = h.index("ids", {})
    r = h.timed("PUT", f"/{idx}/_doc/{'c' * 512}", {"x": 1})
    assert r.status == 201, r
    h.check()


def test_wal_survives_kill_after_long_ids(h):
    idx = unique("hostile-wal")
    assert h.call("PUT", f"/{idx}", {}).status == 200
    # Hostile writes first: ids the log may not be able to frame.
    for length in (65_535, 65_536, 70_000):
        h.timed("POST", f"/{idx}/_bulk", ndjson([{"index": {"_id": "x" * length}}, {"x": length}]), headers=NDJSON, bound=30)
    # Then ordinary acknowledged writes.
    for i in range(20):
        r = h.call("PUT", f"/{idx}/_doc/ok-{i}", {"i": i})
        assert r.status == 201, r
    r = h.call("POST", f"/{idx}/_bulk", ndjson([x for i in range(20, 40) for x in ({"index": {"_id": f"ok-{i}"}}, {"i": i})]),
               headers=NDJSON)
    assert r.status == 200 and not r.json()["errors"], r
    try:
        h.kill9_restart()
    except RuntimeError as e:
        h.dirty = True
        pytest.fail(f"restart after kill -9 failed: {e}", pytrace=False)
    time.sleep(0.5)
    h.check()
    h.call("POST", f"/{idx}/_refresh")
    for i in (0, 19, 20, 39):
        r = h.call("GET", f"/{idx}/_doc/ok-{i}")
        assert r.status == 200 and r.json()["_source"] == {"i": i}, f"ok-{i} lost after kill -9: {r!r}"
    r2 = h.call("GET", f"/{idx}/_count?q=i:*")
    assert r2.status == 200 and r2.json()["count"] == 40, f"documents indexed after the long ids were lost: {r2!r}"


# --------------------------------------------------------------------------- field limits


def test_32000_fields_refused_quickly(h):
    idx = unique("hostile-fields")
    assert h.call("PUT", f"/{idx}", {}).status == 200
    doc = {f"f{i}": i for i in range(32_000)}
    r = h.timed("PUT", f"/{idx}/_doc/1", doc, bound=10)
    assert r.status == 400, r
    err = assert_es_error(r, 400, {"illegal_argument_exception", "document_parsing_exception", "mapper_parsing_exception"})
    assert "Limit of total fields [1000] has been exceeded" in json.dumps(err), err
    assert h.call("GET", f"/{idx}/_doc/1").status == 404
    m = h.call("GET", f"/{idx}/_mapping").json()[idx]["mappings"].get("properties", {})
    assert len(m) <= 1000, f"the refused document left {len(m)} fields in the mapping"
    h.check()


# --------------------------------------------------------------------------- Expect: 100-continue


def _read_head(s: socket.socket, deadline: float) -> bytes:
    out = b""
    while b"\r\n\r\n" not in out and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        out += chunk
    return out


def _status(head: bytes) -> int | None:
    if head.startswith(b"HTTP/1."):
        try:
            return int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return None
    return None


def test_expect_100_continue(h):
    idx = unique("hostile-expect")
    body = json.dumps({"msg": "x" * (2 * 1024 * 1024)}).encode()
    s = socket.create_connection(("127.0.0.1", h.srv.port), timeout=30)
    try:
        s.sendall((f"PUT /{idx}/_doc/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode())
        interim = _read_head(s, time.monotonic() + 0.5)
        s.sendall(body)
        rest = interim.split(b"\r\n\r\n", 1)[1] if interim.startswith(b"HTTP/1.1 100") else interim
        final = rest if b"\r\n\r\n" in rest else rest + _read_head(s, time.monotonic() + 30)
    finally:
        s.close()
    assert interim.startswith(b"HTTP/1.1 100"), f"no interim 'HTTP/1.1 100 Continue' within 0.5 s: {interim[:200]!r}"
    assert _status(final) == 201, f"final answer: {final[:300]!r}"
    h.check()


def test_expect_100_continue_over_limit_is_413_before_body(h):
    s = socket.create_connection(("127.0.0.1", h.srv.port), timeout=30)
    try:
        s.sendall((f"POST /hostile-expect-big/_bulk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                   f"Content-Length: {200 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n").encode())
        head = _read_head(s, time.monotonic() + 2)
    finally:
        s.close()
    assert _status(head) == 413, f"expected a final 413 before the body is sent: {head[:300]!r}"
    h.check()


# --------------------------------------------------------------------------- the door: idle clients, long lines, headers


def test_idle_sockets_do_not_lock_out(h):
    socks: list[socket.socket] = []
    failed = 0
    t_end = time.monotonic() + 60
    try:
        for i in range(2000):
            if time.monotonic() > t_end or failed > 20:
                break
            try:
                s = socket.create_connection(("127.0.0.1", h.srv.port), timeout=2)
                if i % 2:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
                socks.append(s)
            except OSError:
                failed += 1
        r = h.timed("GET", "/", bound=10)
        assert r.status == 200, r
        r = h.timed("GET", f"/{SENTINEL}/_count", bound=10)
        assert r.status == 200 and r.json()["count"] == SENTINEL_DOCS, r
        assert failed == 0, f"{failed} of the idle connections could not even connect ({len(socks)} did)"
    finally:
        for s in socks:
            s.close()
    h.check()


def _stream_line(port: int, head: bytes, total: int, tail: bytes, timeout: float = 60) -> bytes:
    """Send `head`, then `total` bytes of 'a', then `tail`, stopping early if the server answers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    block = b"a" * 262144
    sent = 0
    try:
        s.sendall(head)
        while sent < total:
            if select.select([s], [], [], 0)[0]:
                break
            n = min(len(block), total - sent)
            try:
                s.sendall(block[:n])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += n
        else:
            try:
                s.sendall(tail)
            except (BrokenPipeError, ConnectionResetError):
                pass
        return _read_head(s, time.monotonic() + timeout)
    finally:
        s.close()


def test_16mb_url(h):
    head = f"GET /{SENTINEL}/_search?q=".encode()
    resp = _stream_line(h.srv.port, head, 16 * 1024 * 1024, b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert _status(resp) in (400, 414), f"expected 414 or 400 (too long HTTP line): {resp[:300]!r}"
    h.check()


@pytest.mark.parametrize("shape", ["one_64kb_header", "2000_headers"])
def test_headers_over_limit(h, shape):
    if shape == "one_64kb_header":
        hdrs = b"X-Big: " + b"b" * 65536 + b"\r\n"
    else:
        hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(2000))
    s = socket.create_connection(("127.0.0.1", h.srv.port), timeout=30)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdrs + b"\r\n")
        resp = _read_head(s, time.monotonic() + 30)
    finally:
        s.close()
    assert _status(resp) in (400, 431), f"expected 431 or 400 for headers over the limit: {resp[:300]!r}"
    h.check()


def test_many_points_in_time(h):
    opened: list[str] = []
    refusal: Resp | None = None
    try:
        for _ in range(2000):
            r = h.call("POST", f"/{SENTINEL}/_pit?keep_alive=5m")
            if r.status == 200:
                opened.append(r.json()["id"])
                continue
            refusal = r
            break
        assert h.srv.alive(), died(h.srv)
        assert refusal is not None, (f"{len(opened)} points in time opened without limit; Elasticsearch refuses "
                                     f"past a limit of open search contexts (429/400)")
        assert refusal.status in (400, 429), refusal
        assert_es_error(refusal, refusal.status)
        # The ones open still work.
        r = h.call("POST", "/_search", {"pit": {"id": opened[-1]}, "size": 1})
        assert r.status == 200, r
    finally:
        for pid in opened:
            try:
                http_request(h.srv.port, "DELETE", "/_pit", {"id": pid}, timeout=10)
            except Exception:
                break
    h.check()


# --------------------------------------------------------------------------- error shapes


@pytest.mark.parametrize("field", ["_id", "_index", "_source", "_version", "_routing", "_seq_no"])
def test_metadata_field_inside_document(h, field):
    idx = h.index("meta", {})
    r = h.timed("PUT", f"/{idx}/_doc/m", {field: "x", "ok": 1})
    assert_es_error(r, 400, {"mapper_parsing_exception", "document_parsing_exception"},
                    reason_contains=f"Field [{field}] is a metadata field and cannot be added inside a document. "
                                    "Use the index API request parameters.")
    assert h.call("GET", f"/{idx}/_doc/m").status == 404
    r = h.timed("POST", f"/{idx}/_bulk", ndjson([{"index": {"_id": "mb"}}, {field: "x"}]), headers=NDJSON)
    assert r.status == 200 and r.json()["items"][0]["index"]["status"] == 400, r
    h.check()


def _index_dirs(h) -> set[str]:
    d = h.srv.data_dir / "indices"
    return {p.name for p in d.iterdir()} if d.exists() else set()


@pytest.mark.parametrize("how", ["create", "doc", "doc_id", "bulk"])
def test_nul_in_index_name(h, how):
    before = _index_dirs(h)
    if how == "create":
        r = h.timed("PUT", "/bad%00name", {})
    elif how == "doc":
        r = h.timed("POST", "/bad%00name/_doc", {"a": 1})
    elif how == "doc_id":
        r = h.timed("PUT", "/bad%00name/_doc/1", {"a": 1})
    else:
        r = h.timed("POST", "/_bulk", ndjson([{"index": {"_index": "bad\u0000name"}}, {"a": 1}]), headers=NDJSON)
        assert r.status == 200 and r.json()["items"][0]["index"]["status"] == 400, r
        assert r.json()["items"][0]["index"]["error"]["type"] == "invalid_index_name_exception", r
    if how != "bulk":
        assert_es_error(r, 400, "invalid_index_name_exception")
    after = _index_dirs(h)
    assert after <= before, f"stray folders in the data dir: {sorted(after - before)}"
    h.check()


@pytest.mark.parametrize("how", ["create", "doc"])
def test_invalid_utf8_in_index_name(h, how):
    before = _index_dirs(h)
    if how == "create":
        r = h.timed("PUT", "/bad%FF%FEname", {})
    else:
        r = h.timed("POST", "/bad%C3%28name/_doc", {"a": 1})
    assert 400 <= r.status < 500, f"an index name that is not UTF-8 must be refused: {r!r}"
    assert_es_error(r, r.status)
    after = _index_dirs(h)
    assert after <= before, f"stray folders in the data dir: {sorted(after - before)}"
    h.check()


def test_sort_on_text_field_is_400(h):
    r = h.timed("POST", f"/{SENTINEL}/_search", {"sort": [{"msg": "asc"}]})
    assert_es_error(r, 400)
    assert "Text fields are not optimised for operations that require per-document field data" in error_text(r), r
    h.check()


def test_script_sort_refused_or_applied(h):
    body = {"size": 5, "sort": {"_script": {"type": "number", "order": "desc",
                                            "script": {"lang": "painless", "source": "doc['i'].value"}}}}
    r = h.timed("POST", f"/{SENTINEL}/_search", body)
    if r.status == 200:
        got = [hit["_source"]["i"] for hit in r.json()["hits"]["hits"]]
        assert got == [49, 48, 47, 46, 45], f"a _script sort that is not refused must be applied: {got}"
    else:
        assert_es_error(r, 400)
        assert "_script" in error_text(r) or "script" in error_text(r), r
    h.check()


# --------------------------------------------------------------------------- silently ignored options


def test_scroll_on_search(h):
    r = h.timed("GET", f"/{SENTINEL}/_search?scroll=1m&size=5")
    if r.status == 200:
        assert r.json().get("_scroll_id"), f"?scroll=1m answered without a _scroll_id (ignored): {r!r}"
    else:
        assert_es_error(r, 400)
        assert "scroll" in error_text(r), r
    h.check()


def test_dynamic_templates(h):
    idx = unique("hostile-dyntpl")
    r = h.timed("PUT", f"/{idx}", {"mappings": {"dynamic_templates": [
        {"strings_as_keywords": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}]}})
    if r.status == 200:
        assert h.call("PUT", f"/{idx}/_doc/1?refresh=true", {"s": "hello world"}).status == 201
        props = h.call("GET", f"/{idx}/_mapping").json()[idx]["mappings"]["properties"]
        assert props["s"].get("type") == "keyword", f"dynamic_templates accepted but not applied: {props['s']}"
    else:
        assert_es_error(r, 400)
        assert "dynamic_templates" in error_text(r), r
    h.check()


def test_custom_analyzer(h):
    idx = unique("hostile-analyzer")
    r = h.timed("PUT", f"/{idx}", {
        "settings": {"analysis": {"analyzer": {"ws": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}}}},
        "mappings": {"properties": {"msg": {"type": "text", "analyzer": "ws"}}}})
    if r.status == 200:
        assert h.call("PUT", f"/{idx}/_doc/1?refresh=true", {"msg": "Foo-Bar baz"}).status == 201
        n_bar = h.call("POST", f"/{idx}/_count", {"query": {"match": {"msg": "bar"}}}).json()["count"]
        n_foobar = h.call("POST", f"/{idx}/_count", {"query": {"match": {"msg": "foo-bar"}}}).json()["count"]
        assert (n_bar, n_foobar) == (0, 1), f"the whitespace analyzer was accepted but not applied: bar={n_bar}"
    else:
        assert_es_error(r, 400)
        assert "analy" in error_text(r), r
    h.check()


def test_aliases_in_index_creation(h):
    idx, alias = unique("hostile-aliased"), unique("hostile-alias")
    r = h.timed("PUT", f"/{idx}", {"aliases": {alias: {}}})
    if r.status == 200:
        assert h.call("PUT", f"/{idx}/_doc/1?refresh=true", {"a": 1}).status == 201
        r = h.call("GET", f"/{alias}/_count")
        assert r.status == 200 and r.json()["count"] == 1, f"aliases accepted but not applied: {r!r}"
    else:
        assert_es_error(r, 400)
        assert "aliases" in error_text(r), r
    h.check()


def test_aliases_in_index_template(h):
    name, alias = unique("hostile-tpl"), unique("hostile-tplalias")
    r = h.timed("PUT", f"/_index_template/{name}", {"index_patterns": [f"{name}-*"], "template": {"aliases": {alias: {}}}})
    if r.status == 200:
        assert h.call("PUT", f"/{name}-1/_doc/1?refresh=true", {"a": 1}).status == 201
        r = h.call("GET", f"/{alias}/_count")
        assert r.status == 200 and r.json()["count"] == 1, f"template aliases accepted but not applied: {r!r}"
    else:
        assert_es_error(r, 400)
        assert "aliases" in error_text(r), r
    h.check()


@pytest.mark.parametrize("fmt", ["csv", "txt"])
def test_esql_format(h, fmt):
    r = h.timed("POST", f"/_query?format={fmt}", {"query": f"FROM {SENTINEL} | WHERE i == 7 | KEEP i, k"})
    if r.status == 200:
        ctype = (r.header("Content-Type") or "").lower()
        if fmt == "csv":
            assert ctype.startswith("text/csv"), f"?format=csv answered as {ctype}: {r!r}"
            assert r.text.replace("\r\n", "\n").strip().split("\n") == ["i,k", "7,v2"], r
        else:
            assert ctype.startswith("text/plain"), f"?format=txt answered as {ctype}: {r!r}"
            lines = [ln for ln in r.text.strip().split("\n") if ln.strip() and set(ln.strip()) - set("-+")]
            cells = [[c.strip() for c in ln.split("|")] for ln in lines]
            assert cells == [["i", "k"], ["7", "v2"]], r
    else:
        assert_es_error(r, 400)
        assert "format" in error_text(r), r
    h.check()


# --------------------------------------------------------------------------- the generated sweep

MARK = "@@V@@"
URL_VALUES = ["neg1", "zero", "2p31", "i64max", "i64min", "1e308", "nan", "abc", "deep", "big"]
BODY_VALUES = URL_VALUES[:7] + ["nanlit"] + URL_VALUES[7:]
_NUM = {"neg1": "-1", "zero": "0", "2p31": "2147483648", "i64max": "9223372036854775807",
        "i64min": "-9223372036854775808", "1e308": "1e308", "nan": "NaN"}
_cache: dict[str, str] = {}


def _deep_text() -> str:
    if "deep" not in _cache:
        _cache["deep"] = "[" * DEEP + "]" * DEEP
    return _cache["deep"]


def _big_text() -> str:
    if "big" not in _cache:
        _cache["big"] = "x" * BIG
    return _cache["big"]


def value_text(kind: str, v: str) -> str:
    """The value as text (URL parameters, or inside a string such as a query)."""
    if v == "abc":
        return "abc"
    if v == "deep":
        return _deep_text()
    if v == "big":
        return _big_text()
    n = _NUM[v]
    if kind == "num" or v == "nan":
        return n if kind != "datemath" else f"now-{n}d"
    if kind == "dur":
        return n if v in ("neg1", "zero") else n + "d"
    if kind == "datemath":
        return f"now-{n}d"
    raise ValueError(kind)


def value_json(kind: str, v: str) -> str:
    """The value as a whole JSON value."""
    if v == "nanlit":
        return "NaN"
    if v == "deep":
        return _deep_text()
    if v == "big":
        return '"' + _big_text() + '"'
    if kind == "num" and v in _NUM and v != "nan":
        return _NUM[v]
    return json.dumps(value_text(kind, v))


S = "{s}"
SWEEP = [
    # id, method, path, body, kind   (MARK marks where the value goes; {s} the sentinel index)
    # URL parameters
    ("search.url.size", "GET", f"/{S}/_search?size={MARK}", None, "num"),
    ("search.url.from", "GET", f"/{S}/_search?from={MARK}", None, "num"),
    ("search.url.terminate_after", "GET", f"/{S}/_search?terminate_after={MARK}", None, "num"),
    ("search.url.timeout", "GET", f"/{S}/_search?timeout={MARK}", None, "dur"),
    ("count.url.terminate_after", "GET", f"/{S}/_count?terminate_after={MARK}", None, "num"),
    ("pit.url.keep_alive", "POST", f"/{S}/_pit?keep_alive={MARK}", None, "dur"),
    ("eql.url.keep_alive", "POST", f"/{S}/_eql/search?keep_on_completion=true&keep_alive={MARK}",
     {"query": "any where true"}, "dur"),
    ("eql.url.wait_for_completion_timeout", "POST", f"/{S}/_eql/search?wait_for_completion_timeout={MARK}",
     {"query": "any where true"}, "dur"),
    ("eql_get.url.keep_alive", "GET", f"/_eql/search/{{eqlid}}?keep_alive={MARK}", None, "dur"),
    ("eql_get.url.wait_for_completion_timeout", "GET", f"/_eql/search/{{eqlid}}?wait_for_completion_timeout={MARK}",
     None, "dur"),
    ("doc.url.if_seq_no", "PUT", f"/{{scratch}}/_doc/1?if_seq_no={MARK}&if_primary_term=1", {"i": 1}, "num"),
    ("doc.url.if_primary_term", "PUT", f"/{{scratch}}/_doc/1?if_seq_no=0&if_primary_term={MARK}", {"i": 1}, "num"),
    ("cluster_health.url.timeout", "GET", f"/_cluster/health?timeout={MARK}", None, "dur"),
    ("rules_find.url.per_page", "GET", f"{RULES}/_find?per_page={MARK}", None, "num"),
    ("rules_find.url.page", "GET", f"{RULES}/_find?page={MARK}", None, "num"),
    # search body
    ("search.size", "POST", f"/{S}/_search", {"size": MARK}, "num"),
    ("search.from", "POST", f"/{S}/_search", {"from": MARK}, "num"),
    ("search.terminate_after", "POST", f"/{S}/_search", {"terminate_after": MARK}, "num"),
    ("search.min_score", "POST", f"/{S}/_search", {"min_score": MARK}, "num"),
    ("search.track_total_hits", "POST", f"/{S}/_search", {"track_total_hits": MARK}, "num"),
    ("search.timeout", "POST", f"/{S}/_search", {"timeout": MARK}, "dur"),
    ("search.search_after", "POST", f"/{S}/_search", {"sort": [{"i": "asc"}], "search_after": [MARK]}, "num"),
    ("search.pit_keep_alive", "POST", "/_search", {"pit": {"id": "{pit}", "keep_alive": MARK}}, "dur"),
    ("count.terminate_after", "POST", f"/{S}/_count?terminate_after=1", {"query": {"range": {"i": {"lte": MARK}}}}, "num"),
    # queries
    ("query.bool_minimum_should_match", "POST", f"/{S}/_search", {"query": {"bool": {
        "should": [{"term": {"k": "v1"}}, {"term": {"k": "v2"}}], "minimum_should_match": MARK}}}, "num"),
    ("query.match_minimum_should_match", "POST", f"/{S}/_search",
     {"query": {"match": {"msg": {"query": "quick brown", "minimum_should_match": MARK}}}}, "num"),
    ("query.range_long", "POST", f"/{S}/_search", {"query": {"range": {"i": {"gte": MARK}}}}, "num"),
    ("query.range_date", "POST", f"/{S}/_search", {"query": {"range": {"@timestamp": {"gte": MARK}}}}, "datemath"),
    ("query.term_boost", "POST", f"/{S}/_search", {"query": {"term": {"k": {"value": "v1", "boost": MARK}}}}, "num"),
    ("query.match_phrase_slop", "POST", f"/{S}/_search",
     {"query": {"match_phrase": {"msg": {"query": "quick fox", "slop": MARK}}}}, "num"),
    ("query.terms_value", "POST", f"/{S}/_search", {"query": {"terms": {"i": [MARK]}}}, "num"),
    # aggregations
    ("agg.terms_size", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"terms": {"field": "k", "size": MARK}}}}, "num"),
    ("agg.terms_shard_size", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"terms": {"field": "k", "shard_size": MARK}}}}, "num"),
    ("agg.terms_min_doc_count", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"terms": {"field": "k", "min_doc_count": MARK}}}}, "num"),
    ("agg.multi_terms_size", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"multi_terms": {"terms": [{"field": "k"}, {"field": "i"}], "size": MARK}}}}, "num"),
    ("agg.composite_size", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"composite": {"sources": [{"k": {"terms": {"field": "k"}}}], "size": MARK}}}}, "num"),
    ("agg.top_hits_size", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"top_hits": {"size": MARK}}}}, "num"),
    ("agg.top_hits_from", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"top_hits": {"from": MARK}}}}, "num"),
    ("agg.histogram_interval", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"histogram": {"field": "i", "interval": MARK}}}}, "num"),
    ("agg.histogram_offset", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"histogram": {"field": "i", "interval": 10, "offset": MARK}}}}, "num"),
    ("agg.histogram_min_doc_count", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"histogram": {"field": "i", "interval": 10, "min_doc_count": MARK}}}}, "num"),
    ("agg.histogram_extended_bounds", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"histogram": {
        "field": "i", "interval": 10, "extended_bounds": {"min": MARK, "max": 100}}}}}, "num"),
    ("agg.date_histogram_fixed_interval", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"date_histogram": {"field": "@timestamp", "fixed_interval": MARK}}}}, "dur"),
    ("agg.date_histogram_offset", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "1h", "offset": MARK}}}}, "dur"),
    ("agg.date_histogram_extended_bounds", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "1d", "extended_bounds": {"min": MARK, "max": "now"}}}}}, "datemath"),
    ("agg.date_histogram_extended_bounds_epoch", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "1d", "extended_bounds": {"min": MARK, "max": 1704067200000}}}}}, "num"),
    ("agg.date_histogram_min_doc_count", "POST", f"/{S}/_search", {"size": 0, "aggs": {"a": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "1h", "min_doc_count": MARK}}}}, "num"),
    ("agg.percentiles_percents", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"percentiles": {"field": "i", "percents": [MARK]}}}}, "num"),
    ("agg.cardinality_precision_threshold", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"cardinality": {"field": "k", "precision_threshold": MARK}}}}, "num"),
    ("agg.range_to", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"range": {"field": "i", "ranges": [{"to": MARK}]}}}}, "num"),
    ("agg.terms_missing", "POST", f"/{S}/_search",
     {"size": 0, "aggs": {"a": {"terms": {"field": "i", "missing": MARK}}}}, "num"),
    # EQL body
    ("eql.size", "POST", f"/{S}/_eql/search", {"query": "any where true", "size": MARK}, "num"),
    ("eql.fetch_size", "POST", f"/{S}/_eql/search", {"query": "any where true", "fetch_size": MARK}, "num"),
    ("eql.max_samples_per_key", "POST", f"/{S}/_eql/search",
     {"query": "sample by k [any where true] [any where true]", "max_samples_per_key": MARK}, "num"),
    ("eql.keep_alive", "POST", f"/{S}/_eql/search",
     {"query": "any where true", "keep_on_completion": True, "keep_alive": MARK}, "dur"),
    ("eql.wait_for_completion_timeout", "POST", f"/{S}/_eql/search",
     {"query": "any where true", "wait_for_completion_timeout": MARK}, "dur"),
    ("eql.maxspan", "POST", f"/{S}/_eql/search",
     {"query": f"sequence with maxspan={MARK} [any where true] [any where true]"}, "dur"),
    ("eql.head", "POST", f"/{S}/_eql/search", {"query": f"any where true | head {MARK}"}, "num"),
    ("eql.runs", "POST", f"/{S}/_eql/search", {"query": f"sequence [any where true] with runs={MARK}"}, "num"),
    # ES|QL
    ("esql.limit", "POST", "/_query", {"query": f"FROM {S} | LIMIT {MARK}"}, "num"),
    # documents into typed fields
    ("doc.long_value", "PUT", "/{typed}/_doc/x", {"n": MARK}, "num"),
    ("doc.integer_value", "PUT", "/{typed}/_doc/x", {"n32": MARK}, "num"),
    ("doc.date_value", "PUT", "/{typed}/_doc/x", {"t": MARK}, "num"),
    ("doc.dynamic_value", "PUT", "/{typed}/_doc/x", {"dyn": MARK}, "num"),
    # index settings
    ("index.max_result_window", "PUT", "/{new}", {"settings": {"index.max_result_window": MARK}}, "num"),
    ("index.total_fields_limit", "PUT", "/{new}", {"settings": {"index.mapping.total_fields.limit": MARK}}, "num"),
    ("index.refresh_interval", "PUT", "/{new}", {"settings": {"index.refresh_interval": MARK}}, "dur"),
    ("index.number_of_replicas", "PUT", "/{new}", {"settings": {"index.number_of_replicas": MARK}}, "num"),
    ("index.ignore_above", "PUT", "/{new}",
     {"mappings": {"properties": {"s": {"type": "keyword", "ignore_above": MARK}}}}, "num"),
    # detection rules (stored disabled: this checks the write; the scheduler is tested above)
    ("rule.max_signals", "POST", RULES, {"max_signals": MARK}, "num"),
    ("rule.risk_score", "POST", RULES, {"risk_score": MARK}, "num"),
    ("rule.interval", "POST", RULES, {"interval": MARK}, "dur"),
    ("rule.from", "POST", RULES, {"from": MARK}, "datemath"),
    ("rule.to", "POST", RULES, {"to": MARK}, "datemath"),
    ("rule.threshold_value", "POST", RULES,
     {"type": "threshold", "threshold": {"field": ["k"], "value": MARK}}, "num"),
    ("rule.suppression_duration", "POST", RULES,
     {"alert_suppression": {"group_by": ["k"], "duration": {"value": MARK, "unit": "m"}}}, "num"),
    ("rule.version", "POST", RULES, {"version": MARK}, "num"),
]
SWEEP_BY_ID = {c[0]: c for c in SWEEP}


def _sweep_params():
    out = []
    for case in SWEEP:
        cid, _, path, body, _ = case
        in_url = MARK in path
        in_string = body is not None and not in_url and f'"{MARK}"' not in json.dumps(body)
        for v in (URL_VALUES if in_url or in_string else BODY_VALUES):
            out.append(pytest.param(cid, v, id=f"{cid}-{v}"))
    return out


def _render(h: Guard, cid: str, v: str):
    _, method, path, body, kind = SWEEP_BY_ID[cid]
    api = path.startswith("/api/")
    cleanup = []
    path = path.replace("{s}", SENTINEL)
    if "{scratch}" in path:
        scratch = h.index("sweepdoc", {}, [{"i": 0}])
        path = path.replace("{scratch}", scratch)
    if "{typed}" in path:
        typed = h.index("typed", {"mappings": {"properties": {"n": {"type": "long"}, "n32": {"type": "integer"},
                                                              "t": {"type": "date"}}}})
        path = path.replace("{typed}", typed)
    if "{new}" in path:
        name = unique("hostile-sweep")
        path = path.replace("{new}", name)
        cleanup.append(("DELETE", f"/{name}"))
    if "{eqlid}" in path:
        path = path.replace("{eqlid}", h.eql_id())
    if api and method == "POST" and path == RULES:
        rid = unique("sweep")
        full = rule(rid, enabled=False)
        full.update(body)
        body = full
        cleanup.append(("DELETE", f"{RULES}?rule_id={rid}"))
    if body is not None and "pit" in body:
        r = h.call("POST", f"/{SENTINEL}/_pit?keep_alive=5m")
        assert r.status == 200, r
        pit = r.json()["id"]
        body = {"pit": {"id": pit, "keep_alive": MARK}}
        cleanup.append(("DELETE_PIT", pit))
    if MARK in path:
        path = path.replace(MARK, urllib.parse.quote(value_text(kind, v), safe=""))
    data = None
    if body is not None:
        text = json.dumps(body).replace("{s}", SENTINEL)
        if f'"{MARK}"' in text:
            text = text.replace(f'"{MARK}"', value_json(kind, v))
        elif MARK in text:
            text = text.replace(MARK, json.dumps(value_text(kind, v))[1:-1])
        data = text.encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if api:
        headers.update(XSRF)
    return method, path, data, headers, api, cleanup


@pytest.mark.parametrize("cid,v", _sweep_params())
def test_sweep(h, cid, v):
    method, path, data, headers, api, cleanup = _render(h, cid, v)
    # A 10 MB request line is refused as soon as it passes the line limit (4 KB in Elasticsearch).
    bound = 5.0 if v == "big" and MARK in SWEEP_BY_ID[cid][2] else QUICK
    try:
        r = h.timed(method, path, data, headers, bound=bound)
        assert_answer(r, api=api)
    finally:
        if h.srv.alive() and not h.dirty:
            for what, arg in cleanup:
                try:
                    if what == "DELETE_PIT":
                        http_request(h.srv.port, "DELETE", "/_pit", {"id": arg}, timeout=10)
                    else:
                        http_request(h.srv.port, "DELETE", arg, headers=XSRF, timeout=10)
                except Exception:
                    pass
    h.check()
