"""Error responses in Elasticsearch's shape, and hostile requests.

After every hostile request the server must still answer and the documents
stored before must still be counted.
"""

from __future__ import annotations

import json
import select
import socket
import time

import pytest

from vigil_e2e import (
    MALFORMED_JSON_ERRORS,
    PARSE_DOC_ERRORS,
    assert_es_error,
    ndjson,
    unique,
)

NDJSON = {"Content-Type": "application/x-ndjson"}
SENTINEL_DOCS = 50


@pytest.fixture(scope="module")
def sentinel(server):
    """An index whose 50 documents must survive every hostile request."""
    idx = unique("sentinel")
    body = ndjson([x for i in range(SENTINEL_DOCS) for x in ({"index": {"_index": idx, "_id": str(i)}}, {"i": i})])
    r = server.request("POST", "/_bulk?refresh=true", body, headers=NDJSON)
    assert r.status == 200 and r.json()["errors"] is False, r

    def check():
        server.assert_healthy()
        r = server.get(f"/{idx}/_count")
        assert r.status == 200 and r.json()["count"] == SENTINEL_DOCS, r
        r = server.get(f"/{idx}/_doc/7")
        assert r.status == 200 and r.json()["_source"] == {"i": 7}, r

    check()
    return idx, check


def scratch_index(server) -> str:
    """A throwaway index for hostile writes, so a wrongly accepted write cannot
    disturb the sentinel index that every test re-counts."""
    idx = unique("scratch")
    assert server.request("PUT", f"/{idx}", {}).status == 200
    return idx


# --------------------------------------------------------------------------- routing errors


def test_unknown_endpoint(server, sentinel):
    _, check = sentinel
    for method, path in (("GET", "/_vigil_no_such_api/a/b/c/d"), ("POST", "/_vigil_no_such_api/a/b/c/d")):
        r = server.request(method, path)
        assert r.status == 400, r
        body = r.json()
        msg = f"no handler found for uri [{path}] and method [{method}]"
        # Elasticsearch 8 answers {"error": "<msg>"}; accept the structured form too.
        err = body["error"]
        assert (err if isinstance(err, str) else err.get("reason")) == msg, body
    check()


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/", {"GET", "HEAD"}),
    ("POST", "/_cat/health", {"GET"}),
    ("PATCH", "/_cluster/health", {"GET"}),
])
def test_wrong_method(server, sentinel, method, path, allowed):
    _, check = sentinel
    r = server.request(method, path)
    assert r.status == 405, r
    body = r.json()
    assert body["status"] == 405, body
    msg = body["error"] if isinstance(body["error"], str) else body["error"]["reason"]
    prefix = f"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: ["
    assert msg.startswith(prefix) and msg.endswith("]"), msg
    assert {m.strip() for m in msg[len(prefix):-1].split(",")} == allowed, msg
    allow = r.header("Allow")
    assert allow is not None, r.headers
    assert {m.strip() for m in allow.split(",")} == allowed
    check()


def test_wrong_method_on_index(server, sentinel):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}")
    assert r.status == 405, r
    msg = r.json()["error"]
    msg = msg if isinstance(msg, str) else msg["reason"]
    assert msg.startswith(f"Incorrect HTTP method for uri [/{idx}] and method [POST], allowed: ["), msg
    for m in ("GET", "HEAD", "PUT", "DELETE"):
        assert m in msg
    check()


def test_unsupported_content_type(server, sentinel):
    _, check = sentinel
    idx = scratch_index(server)
    # curl -d defaults to application/x-www-form-urlencoded, which Elasticsearch refuses
    r = server.request("POST", f"/{idx}/_doc", b'{"a":1}',
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 406, r
    assert r.json() == {"error": "Content-Type header [application/x-www-form-urlencoded] is not supported",
                        "status": 406}
    r = server.request("POST", f"/{idx}/_search", b'{}', headers={"Content-Type": "text/plain"})
    assert r.status == 406, r
    check()


# --------------------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize("body", [
    b'{"query": ',
    b'{"query": {"match_all": {}}',
    b'{query: 1}',
    b"{'size': 1}",
    b'{"size": 1,}',
    b'not json at all',
])
def test_malformed_search_body(server, sentinel, body):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}/_search", body)
    assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception", "json_parse_exception",
                             "illegal_argument_exception"})
    check()


@pytest.mark.parametrize("body", [b'{"a": ', b'{"a": 1', b'{"a" 1}', b'{"a": tru}', b'{"a": 1}}', b"\x00\x01"])
def test_malformed_doc_body(server, sentinel, body):
    _, check = sentinel
    idx = scratch_index(server)
    r = server.request("PUT", f"/{idx}/_doc/bad", body)
    assert_es_error(r, 400, MALFORMED_JSON_ERRORS)
    assert server.get(f"/{idx}/_doc/bad").status == 404
    check()


def test_non_object_doc(server, sentinel):
    _, check = sentinel
    idx = scratch_index(server)
    for body in (b"[1, 2]", b'"just a string"', b"42"):
        r = server.request("PUT", f"/{idx}/_doc/bad", body)
        assert_es_error(r, 400, PARSE_DOC_ERRORS | {"parsing_exception", "x_content_parse_exception",
                                                    "illegal_argument_exception"})
    check()


def test_missing_body(server, sentinel):
    _, check = sentinel
    idx = scratch_index(server)
    for method, path in (("PUT", f"/{idx}/_doc/bad"), ("POST", f"/{idx}/_doc"), ("PUT", f"/{idx}/_create/bad")):
        r = server.request(method, path)
        assert_es_error(r, 400, "parse_exception", reason="request body is required")
    check()


def test_malformed_index_and_template_bodies(server, sentinel):
    _, check = sentinel
    name = unique("badbody")
    for method, path in (("PUT", f"/{name}"), ("PUT", f"/_index_template/{name}"), ("PUT", f"/{name}/_mapping")):
        r = server.request(method, path, b'{"mappings": [')
        assert r.status in (400, 404), r
        assert_es_error(r, r.status)
    assert server.request("HEAD", f"/{name}").status == 404
    check()


def test_unknown_query_and_key(server, sentinel):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}/_search", {"query": {"no_such_query": {}}})
    assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception"},
                    reason_contains="unknown query [no_such_query]")
    r = server.request("POST", f"/{idx}/_search", {"no_such_key": 1})
    assert_es_error(r, 400, {"parsing_exception", "x_content_parse_exception"},
                    reason_contains="[no_such_key]")
    check()


# --------------------------------------------------------------------------- size / from


@pytest.mark.parametrize("how,size,from_", [
    ("body", 10001, 0), ("body", 10, 9991), ("url", 1, 10000), ("body", 1000000000, 0), ("url", 2000000000, 0),
])
def test_result_window_too_large(server, sentinel, how, size, from_):
    idx, check = sentinel
    if how == "body":
        r = server.request("POST", f"/{idx}/_search", {"size": size, "from": from_})
    else:
        r = server.get(f"/{idx}/_search?size={size}&from={from_}")
    err = assert_es_error(r, 400, "search_phase_execution_exception")
    rc = err["root_cause"][0]
    assert rc["type"] == "illegal_argument_exception", err
    expected = (f"Result window is too large, from + size must be less than or equal to: [10000] "
                f"but was [{size + from_}]. See the scroll api for a more efficient way to request large data sets. "
                f"This limit can be set by changing the [index.max_result_window] index level setting.")
    assert rc["reason"] == expected, rc["reason"]
    check()


def test_result_window_boundary_ok(server, sentinel):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}/_search", {"size": 10000})
    assert r.status == 200 and len(r.json()["hits"]["hits"]) == SENTINEL_DOCS, r
    r = server.request("POST", f"/{idx}/_search", {"size": 1, "from": 9999})
    assert r.status == 200 and r.json()["hits"]["hits"] == [], r
    check()


def test_negative_size_and_from(server, sentinel):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}/_search", {"size": -5})
    assert_es_error(r, 400, {"illegal_argument_exception", "x_content_parse_exception", "action_request_validation_exception"},
                    reason_contains="[size] parameter cannot be negative, found [-5]")
    r = server.request("POST", f"/{idx}/_search", {"from": -3})
    assert_es_error(r, 400, {"illegal_argument_exception", "x_content_parse_exception", "action_request_validation_exception"},
                    reason_contains="[from] parameter cannot be negative")
    r = server.get(f"/{idx}/_search?size=abc")
    assert r.status == 400, r
    check()


# --------------------------------------------------------------------------- depth


def _nested_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _nested_arrays(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"1" + b"]" * depth + b"}"


def _nested_bool(depth: int) -> bytes:
    return b'{"query":' + b'{"bool":{"must":[' * depth + b'{"match_all":{}}' + b"]}}" * depth + b"}"


@pytest.mark.parametrize("kind", ["objects", "arrays"])
def test_deep_nesting_doc(server, sentinel, kind):
    _, check = sentinel
    idx = scratch_index(server)
    body = _nested_objects(10_000) if kind == "objects" else _nested_arrays(10_000)
    r = server.request("PUT", f"/{idx}/_doc/deep", body)
    assert_es_error(r, 400)
    assert server.get(f"/{idx}/_doc/deep").status == 404
    check()


def test_deep_nesting_search(server, sentinel):
    idx, check = sentinel
    r = server.request("POST", f"/{idx}/_search", _nested_bool(10_000))
    assert_es_error(r, 400)
    r = server.request("POST", f"/{idx}/_search", b"[" * 10_000 + b"]" * 10_000)
    assert_es_error(r, 400)
    check()


def test_deep_nesting_bulk(server, sentinel):
    idx, check = sentinel
    target = unique("deepbulk")
    body = (ndjson([{"index": {"_index": target, "_id": "ok1"}}, {"x": 1},
                    {"index": {"_index": target, "_id": "deep"}}])
            + _nested_objects(10_000) + b"\n"
            + ndjson([{"index": {"_index": target, "_id": "ok2"}}, {"x": 2}]))
    r = server.request("POST", "/_bulk?refresh=true", body, headers=NDJSON)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is True
    assert [list(i.values())[0]["status"] for i in res["items"]] == [201, 400, 201]
    assert server.count(target) == 2
    # a 10,000-deep action line fails the whole request
    r = server.request("POST", "/_bulk", _nested_objects(10_000) + b"\n" + b'{"x":1}\n', headers=NDJSON)
    assert_es_error(r, 400)
    check()


# --------------------------------------------------------------------------- encoding / truncation


def test_invalid_utf8_doc(server, sentinel):
    _, check = sentinel
    idx = scratch_index(server)
    for body in (b'{"a": "\xff\xfe"}', b'{"a": "ok\xe2\x82"}', b'{"\xfe": 1}', b'{"a": ["\x80"]}'):
        r = server.request("PUT", f"/{idx}/_doc/utf8", body)
        assert_es_error(r, 400)
        assert server.get(f"/{idx}/_doc/utf8").status == 404
    check()


def test_invalid_utf8_in_bulk_item(server, sentinel):
    idx, check = sentinel
    target = unique("utf8bulk")
    body = (b'{"index":{"_index":"' + target.encode() + b'","_id":"1"}}\n{"a":"ok"}\n'
            b'{"index":{"_index":"' + target.encode() + b'","_id":"2"}}\n{"a":"bad \xff\xfe"}\n'
            b'{"index":{"_index":"' + target.encode() + b'","_id":"3"}}\n{"a":"caf\xc3\xa9"}\n')
    r = server.request("POST", "/_bulk?refresh=true", body, headers=NDJSON)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is True
    assert [i["index"]["status"] for i in res["items"]] == [201, 400, 201]
    assert server.get(f"/{target}/_doc/3").json()["_source"] == {"a": "café"}
    assert server.count(target) == 2
    check()


def test_truncated_bulk_no_final_newline(server, sentinel):
    idx, check = sentinel
    target = unique("truncnl")
    r = server.request("POST", f"/{target}/_bulk", b'{"index":{}}\n{"a":1}\n{"index":{}}\n{"a":', headers=NDJSON)
    assert_es_error(r, 400, "illegal_argument_exception",
                    reason="The bulk request must be terminated by a newline [\\n]")
    assert server.request("HEAD", f"/{target}").status == 404
    check()


def test_truncated_bulk_bodies(server, sentinel):
    idx, check = sentinel
    target = unique("trunc")
    # action line cut in the middle
    r = server.request("POST", f"/{target}/_bulk", b'{"index":{"_id":"1"\n', headers=NDJSON)
    assert_es_error(r, 400)
    # action line without its source line
    r = server.request("POST", f"/{target}/_bulk", b'{"index":{"_id":"1"}}\n', headers=NDJSON)
    assert_es_error(r, 400, {"action_request_validation_exception", "illegal_argument_exception"})
    # source line cut in the middle: only that item fails
    r = server.request("POST", f"/{target}/_bulk?refresh=true",
                       b'{"index":{"_id":"1"}}\n{"a":1}\n{"index":{"_id":"2"}}\n{"a":\n', headers=NDJSON)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is True
    assert [i["index"]["status"] for i in res["items"]] == [201, 400]
    assert server.count(target) == 1
    check()


def _raw(port: int, data: bytes, read: bool = True, timeout: float = 5.0) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b""
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def test_connection_dropped_mid_body(server, sentinel):
    idx, check = sentinel
    target = unique("dropped")
    body = ndjson([x for i in range(100) for x in ({"index": {"_index": target, "_id": str(i)}}, {"i": i})])
    head = (f"POST /_bulk?refresh=true HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    for cut in (10, len(body) // 2, len(body) - 1):
        _raw(server.port, head + body[:cut], read=False)
    time.sleep(0.3)
    check()
    r = server.get(f"/{target}/_count")
    assert r.status == 404 or r.json()["count"] == 0, f"a request whose body never arrived must not index anything: {r}"


def test_garbage_and_oversized_request_lines(server, sentinel):
    _, check = sentinel
    for junk in (b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
                 b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n"):
        _raw(server.port, junk)
        check()


# --------------------------------------------------------------------------- 413


def _send_oversized(port: int, path: str, total: int, chunked: bool) -> tuple[int | None, int, bytes]:
    """Stream `total` bytes of _bulk body without holding it in memory.

    Returns (status or None, bytes sent, raw response head)."""
    line = b'{"index":{}}\n{"msg":"' + b"x" * 1000 + b'"}\n'
    block = line * (262144 // len(line))
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-ndjson\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
    sent = 0
    resp = b""
    try:
        s.sendall(head.encode())
        while sent < total:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break  # the server answered before the body was complete
            n = min(len(block), total - sent)
            piece = block[:n]
            if chunked:
                piece = f"{n:x}\r\n".encode() + piece + b"\r\n"
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += n
        else:
            if chunked:
                try:
                    s.sendall(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
        s.settimeout(120)
        while b"\r\n\r\n" not in resp:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            resp += chunk
    finally:
        s.close()
    status = None
    if resp.startswith(b"HTTP/1."):
        status = int(resp.split(b" ", 2)[1])
    return status, sent, resp[:2000]


@pytest.fixture(scope="module")
def big_server(server_factory):
    srv = server_factory("oversize")
    body = ndjson([x for i in range(20) for x in ({"index": {"_index": "keep", "_id": str(i)}}, {"i": i})])
    assert srv.request("POST", "/_bulk?refresh=true", body, headers=NDJSON).status == 200
    return srv


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_100mb_is_413(big_server, chunked):
    total = 200 * 1024 * 1024
    status, sent, head = _send_oversized(big_server.port, "/oversize/_bulk", total, chunked)
    assert status == 413, f"expected 413 Request Entity Too Large, got {status} after {sent} bytes: {head[:300]!r}"
    big_server.assert_healthy()
    assert big_server.count("keep") == 20
    r = big_server.get("/oversize/_count")
    assert r.status == 404 or r.json()["count"] == 0, "nothing of a refused body may be indexed"


def test_body_just_under_limit_is_accepted(big_server):
    # 99 MB is under http.max_content_length (100mb); it must be processed.
    line = b'{"index":{}}\n{"msg":"' + b"y" * 10_000 + b'"}\n'
    n = (99 * 1024 * 1024) // len(line)
    r = big_server.request("POST", "/under/_bulk?filter_path=errors,items.index.status", line * n,
                           headers=NDJSON, timeout=300)
    assert r.status == 200, r
    res = r.json()
    assert res["errors"] is False and len(res["items"]) == n
    assert big_server.count("under") == n
    big_server.assert_healthy()
