"""Helpers shared by the Vigil end-to-end tests.

The tests drive the real release binary over HTTP on a loopback port, with
the official `elasticsearch` Python client, with raw HTTP (http.client) where
exact status codes, headers and bytes matter, and with `curl`.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
# Test data lives beside the repository, never inside it.
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
T1117_REL = "../shared/data/normalized-T1117-AtomicRed-regsvr32.json"  # relative to REPO_ROOT
T1117 = REPO_ROOT / T1117_REL

DEFAULT_BIN = REPO_ROOT / ".build-release" / "release" / "vigil"

# Media types the official clients send.
VND_JSON_8 = "application/vnd.elasticsearch+json; compatible-with=8"
VND_JSON_9 = "application/vnd.elasticsearch+json; compatible-with=9"
VND_NDJSON_8 = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
VND_NDJSON_9 = "application/vnd.elasticsearch+x-ndjson; compatible-with=9"

_LIVE: list["VigilServer"] = []


def vigil_bin() -> Path:
    return Path(os.environ.get("VIGIL_BIN") or DEFAULT_BIN)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    """A fresh lowercase index/stream name so tests on a shared server never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------- HTTP


@dataclass
class Resp:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as e:  # pragma: no cover - diagnostic path
            raise AssertionError(
                f"response is not JSON (status {self.status}): {self.body[:500]!r}"
            ) from e

    def __repr__(self) -> str:  # short, useful in assertion messages
        return f"<Resp {self.status} {self.body[:300]!r}>"


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | Mapping | list | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Resp:
    """One request on a fresh connection. dict/list bodies are sent as JSON."""
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.reason, list(r.getheaders()), data)
    finally:
        conn.close()


def ndjson(lines: Iterable[Any]) -> bytes:
    """Build a _bulk body: one JSON value per line, newline-terminated."""
    out = []
    for line in lines:
        out.append(line if isinstance(line, str) else json.dumps(line, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode()


def media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split 'type/sub; a=b' into ('type/sub', {'a': 'b'}) ignoring whitespace and case of names."""
    assert value is not None, "missing Content-Type header"
    parts = [p.strip() for p in value.split(";")]
    params = {}
    for p in parts[1:]:
        if not p:
            continue
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


# --------------------------------------------------------------------------- ES error shape


def assert_es_error(
    resp: Resp,
    status: int,
    type_: str | Iterable[str] | None = None,
    reason: str | None = None,
    reason_contains: str | None = None,
    reason_startswith: str | None = None,
) -> dict:
    """Check `{"error":{"root_cause":[...],"type":...,"reason":...},"status":N}`.

    `type_` may be one type or a collection of acceptable ones (used where
    Elasticsearch versions differ, e.g. mapper_parsing_exception before 8.8 and
    document_parsing_exception after). Returns the `error` object.
    """
    assert resp.status == status, f"expected HTTP {status}, got {resp!r}"
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("status") == status, f"'status' field should be {status}: {body}"
    err = body.get("error")
    assert isinstance(err, dict), f"'error' should be an object: {body}"
    assert isinstance(err.get("type"), str) and err["type"], err
    assert isinstance(err.get("reason"), str), err
    rc = err.get("root_cause")
    assert isinstance(rc, list) and len(rc) >= 1, f"root_cause should be a non-empty list: {err}"
    for c in rc:
        assert isinstance(c, dict) and isinstance(c.get("type"), str) and "reason" in c, rc
    if type_ is not None:
        allowed = {type_} if isinstance(type_, str) else set(type_)
        assert err["type"] in allowed, f"error type {err['type']!r} not in {sorted(allowed)}: {err}"
    if reason is not None:
        assert err["reason"] == reason, f"reason {err['reason']!r} != {reason!r}"
    if reason_contains is not None:
        assert reason_contains in err["reason"], f"{reason_contains!r} not in {err['reason']!r}"
    if reason_startswith is not None:
        assert err["reason"].startswith(reason_startswith), f"{err['reason']!r} !startswith {reason_startswith!r}"
    return err


PARSE_DOC_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}
MALFORMED_JSON_ERRORS = {
    "parsing_exception",
    "x_content_parse_exception",
    "json_parse_exception",
    "document_parsing_exception",
    "mapper_parsing_exception",
    "illegal_argument_exception",
}


# --------------------------------------------------------------------------- server process


@dataclass
class VigilServer:
    data_dir: Path
    log_path: Path
    port: int = 0
    proc: subprocess.Popen | None = None
    starts: int = 0
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "VigilServer":
        binary = vigil_bin()
        if not binary.exists():
            raise RuntimeError(
                f"vigil binary not found at {binary} (build it with "
                "`swift build -c release --scratch-path .build-release` or set VIGIL_BIN)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        last_err = ""
        for _attempt in range(3):  # a freshly chosen port may be taken meanwhile
            self.port = free_port()
            self.starts += 1
            log = open(self.log_path, "ab")
            log.write(f"\n===== start #{self.starts} port {self.port} =====\n".encode())
            log.flush()
            args = [str(binary), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                    "--data", str(self.data_dir), *self.extra_args]
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            _LIVE.append(self)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_err = f"vigil exited with {self.proc.returncode} during startup"
                    break
                try:
                    http_request(self.port, "GET", "/", timeout=2)
                    return self
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)
            else:
                last_err = f"vigil did not answer GET / within {timeout}s"
                self.kill()
                break
        raise RuntimeError(f"{last_err}; log tail:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        if self in _LIVE:
            _LIVE.remove(self)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    # convenience wrappers
    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 60.0, xsrf: bool = True) -> Resp:
        # Kibana's API wants `kbn-xsrf` on writes, as Kibana's own clients send it; xsrf=False leaves it out.
        if xsrf and (path.startswith("/api/") or path.startswith("/internal/")):
            headers = {"kbn-xsrf": "vigil-e2e", **(headers or {})}
        return http_request(self.port, method, path, body=body, headers=headers, timeout=timeout)

    def get(self, path: str, **kw) -> Resp:
        return self.request("GET", path, **kw)

    def assert_healthy(self) -> None:
        """The server still answers GET / with 200 and has not exited."""
        assert self.alive(), f"vigil process died; log tail:\n{self.log_tail()}"
        r = self.get("/", timeout=30)
        assert r.status == 200, r

    def count(self, index: str) -> int:
        self.request("POST", f"/{index}/_refresh")
        r = self.get(f"/{index}/_count")
        assert r.status == 200, r
        return r.json()["count"]


def _cleanup() -> None:
    for s in list(_LIVE):
        try:
            s.kill()
        except Exception:
            pass


atexit.register(_cleanup)


# --------------------------------------------------------------------------- curl


def curl(args: list[str] | str, cwd: Path = REPO_ROOT, timeout: float = 120.0) -> tuple[int, dict[str, str], bytes]:
    """Run curl; returns (status, lower-cased headers of the final response, body).

    `args` is either a list (exec'd directly) or a shell command string that
    begins with `curl` (run through bash so it can be quoted verbatim).
    """
    marker = "\n__VIGIL_HTTP_STATUS__:"
    extra = ["-sS", "-D", "/dev/stderr", "-w", marker + "%{http_code}"]
    if isinstance(args, str):
        cmd = ["bash", "-c", args + " " + " ".join(shlex.quote(a) for a in extra)]
    else:
        cmd = ["curl", *args, *extra]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout)
    out = p.stdout
    assert p.returncode == 0, f"curl failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
    idx = out.rfind(marker.encode())
    assert idx >= 0, out
    status = int(out[idx + len(marker):].decode())
    body = out[:idx]
    headers: dict[str, str] = {}
    # -D writes all header blocks (e.g. 100 Continue first); keep the last block.
    blocks = [b for b in p.stderr.decode("latin-1").split("\r\n\r\n") if b.strip().startswith("HTTP/")]
    if blocks:
        for line in blocks[-1].split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k:
                headers[k.strip().lower()] = v.strip()
    return status, headers, body
