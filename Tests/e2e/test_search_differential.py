"""Differential test of `_count` and `_search` aggregations against DuckDB, on the same events.

`vigil gen` writes 20,000 ECS events (seed 7, 20 hosts). They go into a Vigil index through the
official client's bulk helper, with the mapping Elastic's ECS templates give these fields
(strings `keyword`, integers `long`, `*.ip` `ip`, `@timestamp` `date`), and into DuckDB
(`read_json` of the same file, flattened to one column per field). A seeded generator builds
a few hundred condition trees over every field the generator emits and renders each one as

- query DSL: `bool` (`filter`/`must`/`should` + `minimum_should_match`/`must_not`), `term`
  (with `case_insensitive`), `terms`, `range` (numbers, keyword ranges, IPs, dates as ISO
  strings at day/second/millisecond precision, epoch millis, `||/h`-style rounding), `exists`,
  `prefix`, `wildcard` (`*`, `?`, escapes, `case_insensitive`);
- KQL through `{"kql": {"query": …}}`, where the tree is expressible in KQL;
- Lucene through `{"query_string": {"query": …}}`, where it is expressible there;

and as DuckDB SQL. `_count` must equal `SELECT count(*) … WHERE <sql>`; for a quarter of the
trees the `_search` total (`size: 0`, `track_total_hits: true`) must too. Aggregations (`terms`
with and without a sub-aggregation, `cardinality`, `date_histogram` with `fixed_interval` and
`calendar_interval`, `histogram`, `range`, `value_count`/`min`/`max`/`sum`/`avg`), each under a
random filter, are compared bucket by bucket with the equivalent GROUP BY. A plain-Python
model of every condition checks the SQL side first, so a disagreement is Vigil's, not the
harness's.

Elasticsearch semantics the model follows (and Vigil must):
- `term` on a keyword is exact and case-sensitive unless `case_insensitive: true`; KQL on a
  keyword field is case-sensitive too (the `kql` query's `case_insensitive` defaults to false).
- A document without the field never matches `term`/`terms`/`range`/`prefix`/`wildcard`/
  `exists`; `must_not` of any of these matches it.
- Arrays (`event.category`, `event.type`, `process.args`, `registry.data.strings`) match when
  any value does; `terms` aggregations count a document once per distinct value it holds, and
  `value_count` on a keyword array counts its distinct values (sorted-set doc values).
- Date bounds: `gte`/`lt` parse a date with missing components filled with their minimum,
  `gt`/`lte` with their maximum (`lte: "2026-11-22"` is `≤ 2026-11-22T23:59:59.999`,
  `gt: "…T21:13:05Z"` is `> …T21:13:05.999`); after `||` the anchor is parsed with minimums and
  a rounding `/unit` rounds up to the unit's last millisecond for `gt`/`lte`. A `term` (and a
  KQL or Lucene field:value) on a date is the range `[value, value]` with those rules.
- `bool`: with no `must`/`filter`, `should` needs `minimum_should_match` (default 1) matches;
  beside `must`/`filter` it is optional (default 0). Percentages floor (`n * p / 100`),
  negative values mean "all but".
- `query_string`: a purely negative group `(NOT a)` matches everything but `a`;
  `field:*` is an exists query; `[a TO b}` mixes inclusive and exclusive ends.
- KQL `f > a and f <= b` is two range queries: on an array each may be met by a different
  value, unlike one `range` with both bounds, so two-sided ranges on arrays are not rendered in
  KQL (KQL's `and`/`or` are rendered fully parenthesized: Elasticsearch's grammar gives them
  one precedence).
- `date_histogram`/`histogram` return empty buckets between the first and last non-empty one
  (`min_doc_count` 0); `terms` orders by count descending, then key ascending.

Run alone:  .venv-es9/bin/python -m pytest Tests/e2e -q -s -k differential
Knobs: VIGIL_DIFF_SEED (query generator seed, default 7), VIGIL_DIFF_TREES (condition trees,
default 260), VIGIL_DIFF_AGGS (aggregation requests, default 120), VIGIL_DIFF_SHOW (disagreements
printed in full per category, default 8), VIGIL_DIFF_BASIC=1 (only term/terms/range/exists and
bool with minimum_should_match <= 1, in DSL, no aggregations: what Vigil answered before the
search issue). A disagreeing count is narrowed down: the smallest parts of the query (leaves, or
a bool whose parts all agree) that Vigil answers differently are printed beside it.
DuckDB comes from PyPI: if this venv lacks it, the test pip-installs it (and skips only when
pip cannot reach PyPI).
"""

from __future__ import annotations

import datetime as dt
import importlib
import ipaddress
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

import elasticsearch
import pytest
from elasticsearch import helpers

from conftest import make_client
from vigil_e2e import vigil_bin

EVENTS, HOSTS, GEN_SEED = 20_000, 20, 7
# `--rate 1` spreads the events over ~5.5 hours of simulated time (at the default 1,000 a second
# they would span 20 seconds and every date histogram would have one bucket); starting at 20:00
# the data crosses midnight, so daily buckets are two.
GEN_START, GEN_RATE = "2026-11-22T20:00:00Z", 1
INDEX = "differential-events"
SEED = int(os.environ.get("VIGIL_DIFF_SEED", "7"))
N_TREES = int(os.environ.get("VIGIL_DIFF_TREES", "260"))
N_AGGS = int(os.environ.get("VIGIL_DIFF_AGGS", "120"))
BASIC = os.environ.get("VIGIL_DIFF_BASIC", "") not in ("", "0")
SHOW = int(os.environ.get("VIGIL_DIFF_SHOW", "8"))  # disagreements printed in full, per category

HOUR, DAY = 3_600_000, 86_400_000


# --------------------------------------------------------------------------- duckdb


def _duckdb():
    try:
        import duckdb  # noqa: PLC0415
        return duckdb
    except ImportError:
        pass
    # The e2e venvs (scripts/test) hold only the client and pytest; add DuckDB as the benchmark
    # venv does (Benchmarks/run), into this interpreter's venv.
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "duckdb>=1.1"],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        pytest.skip(f"duckdb is not installed and `pip install duckdb` failed (PyPI unreachable?): "
                    f"{(p.stderr or p.stdout).strip()[-400:]}")
    importlib.invalidate_caches()
    import duckdb  # noqa: PLC0415
    return duckdb


# --------------------------------------------------------------------------- values


def ip_key(s: str) -> int:
    """An address as Elasticsearch orders `ip` values: 16 bytes, IPv4 mapped into ::ffff:0:0/96."""
    a = ipaddress.ip_address(s)
    return (0xFFFF << 32) | int(a) if a.version == 4 else int(a)


def cidr_bounds(s: str) -> tuple[int, int]:
    net = ipaddress.ip_network(s, strict=False)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = (0xFFFF << 32) | lo, (0xFFFF << 32) | hi
    return lo, hi


def hexkey(k: int) -> str:
    return f"{k:032x}"


def iso(ms: int) -> str:
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc).replace(microsecond=(ms % 1000) * 1000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def data_ms(s: str) -> int:
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?Z?$")
UNIT_MS = {"s": 1000, "m": 60_000, "h": HOUR, "H": HOUR, "d": DAY}


def es_date(value, round_up: bool) -> int:
    """A date bound as Elasticsearch's date math parser reads it (UTC, fixed-length units)."""
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value)
    if s.isdigit():
        return int(s)  # epoch_millis
    anchor, sep, math_ = s.partition("||")
    m = ISO_RE.match(anchor)
    assert m, anchor
    y, mo, d, hh, mi, ss, frac = m.groups()
    up = round_up and not sep  # after `||` the anchor is parsed with minimums
    base = int(dt.datetime(int(y), int(mo), int(d), tzinfo=dt.timezone.utc).timestamp()) * 1000
    if hh is None:
        return base + (DAY - 1 if up else 0)
    base += int(hh) * HOUR + int(mi) * 60_000
    if ss is None:
        base += 59_999 if up else 0
    else:
        base += int(ss) * 1000
        base += int(frac.ljust(3, "0")) if frac is not None else (999 if up else 0)
    t = base
    for op, num, unit in re.findall(r"([+\-/])(\d*)([smhHd])", math_):
        u = UNIT_MS[unit]
        if op == "/":
            t = t - t % u + (u - 1 if round_up else 0)
        else:
            assert not round_up, "date math +/- is only generated for gte/lt"
            t += (1 if op == "+" else -1) * int(num or 1) * u
    return t


# --------------------------------------------------------------------------- fields


@dataclass
class Field:
    name: str
    kind: str  # keyword | long | ip | date
    multi: bool  # an array in the source
    col: str  # DuckDB column (and "<col>#k" for ip sort keys)
    docs: int = 0
    samples: list = field(default_factory=list)  # one raw value per document holding the field
    distinct: list = field(default_factory=list)
    norm: list = field(default_factory=list)  # per document: tuple of normalized values

    @property
    def sql(self) -> str:
        return f'"{self.col}#k"' if self.kind == "ip" else f'"{self.col}"'


def _walk(d: dict, prefix: str = ""):
    for k, v in d.items():
        p = prefix + k
        if isinstance(v, dict):
            yield from _walk(v, p + ".")
        else:
            yield p, v


def _kind(name: str, v) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return "long"
    if isinstance(v, str):
        if name == "@timestamp":
            return "date"
        if name == "ip" or name.endswith(".ip"):
            return "ip"
        return "keyword"
    return None


def _normalize(f: Field, v):
    if f.kind == "ip":
        return ip_key(v)
    if f.kind == "date":
        return data_ms(v)
    return v


def discover(docs: list[dict]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    shapes: dict[str, set] = {}
    for d in docs:
        for name, v in _walk(d):
            vals = v if isinstance(v, list) else [v]
            vals = [x for x in vals if x is not None]
            if not vals:
                continue
            kinds = {_kind(name, x) for x in vals}
            if None in kinds or len(kinds) != 1:
                continue
            kind = kinds.pop()
            f = fields.get(name)
            if f is None:
                f = fields[name] = Field(name, kind, False, name)
            assert f.kind == kind, f"{name}: both {f.kind} and {kind} values in the generated data"
            shapes.setdefault(name, set()).add(isinstance(v, list))
    for name, s in shapes.items():
        # DuckDB's read_json types a field that is sometimes an array as JSON; the generator
        # does not do that today, and the flattening below relies on it.
        assert len(s) == 1, f"{name} is an array in some events and a scalar in others"
        fields[name].multi = s.pop()
    for f in fields.values():
        f.norm = [()] * len(docs)
    for i, d in enumerate(docs):
        for name, v in _walk(d):
            f = fields.get(name)
            if f is None:
                continue
            vals = [x for x in (v if isinstance(v, list) else [v]) if x is not None]
            if not vals:
                continue
            f.docs += 1
            f.samples.append(vals)
            f.norm[i] = tuple(_normalize(f, x) for x in vals)
    for f in fields.values():
        f.distinct = sorted({x for vals in f.samples for x in vals}, key=lambda x: (str(type(x)), x))
    return fields


def es_mapping(fields: dict[str, Field]) -> dict:
    props: dict = {}
    for f in fields.values():
        node = props
        parts = f.name.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {"properties": {}})["properties"]
        node[parts[-1]] = {"type": f.kind}
    return {"properties": props}


# --------------------------------------------------------------------------- conditions
#
# Leaves: ("term", f, value, ci) ("terms", f, [values]) ("range", f, {op: bound})
#         ("exists", f) ("prefix", f, value, ci) ("wildcard", f, pattern, ci)
# Inner:  ("bool", {"must": [...], "filter": [...], "should": [...], "must_not": [...], "msm": spec})


class NotExpressible(Exception):
    pass


def msm_value(spec, n: int) -> int:
    """Elasticsearch's minimum_should_match for n optional clauses (Queries.calculateMinShouldMatch)."""
    s = str(spec).strip()
    if s.endswith("%"):
        calc = int(n * int(s[:-1]) / 100)  # Java int division truncates toward zero
        r = n + calc if calc < 0 else calc
    else:
        calc = int(s)
        r = n + calc if calc < 0 else calc
    return max(r, 0)


def effective_msm(b: dict) -> int:
    should = b.get("should", [])
    if not should:
        return 0
    if b.get("msm") is None:
        return 0 if (b.get("must") or b.get("filter")) else 1
    return msm_value(b["msm"], len(should))


def wildcard_regex(pattern: str, ci: bool) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ci else 0))


def wildcard_like(pattern: str) -> str:
    """A Lucene wildcard pattern as a LIKE pattern with ESCAPE '\\'."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            c2 = pattern[i + 1]
            out.append("\\" + c2 if c2 in "%_\\" else c2)
            i += 2
            continue
        out.append("%" if c == "*" else "_" if c == "?" else ("\\" + c if c in "%_" else c))
        i += 1
    return "".join(out)


def range_pred(f: Field, bounds: dict):
    """(python predicate on a normalized value, SQL builder for a value expression) for a range leaf."""
    checks = []
    for op, b in bounds.items():
        if f.kind == "date":
            v = es_date(b, op in ("gt", "lte"))
            lit = str(v)
        elif f.kind == "ip":
            v = ip_key(b)
            lit = f"'{hexkey(v)}'"
        elif f.kind == "long":
            v = float(b) if not isinstance(b, (int, float)) else b
            lit = repr(v)
        else:
            v = b
            lit = sql_str(b)
        checks.append((op, v, lit))
    ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

    def pred(x):
        for op, v, _ in checks:
            xv, vv = (x.encode(), v.encode()) if isinstance(x, str) else (x, v)
            if op == "gt" and not xv > vv or op == "gte" and not xv >= vv or op == "lt" and not xv < vv or op == "lte" and not xv <= vv:
                return False
        return True

    return pred, (lambda x: " AND ".join(f"{x} {ops[op]} {lit}" for op, _, lit in checks))


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def leaf_pred(leaf):
    """(python predicate on one normalized value, function from a SQL value expression to a condition)."""
    kind, f = leaf[0], leaf[1]
    if kind == "term":
        v, ci = leaf[2], leaf[3]
        if f.kind == "date":
            return range_pred(f, {"gte": v, "lte": v})
        if f.kind == "ip":
            if "/" in str(v):
                lo, hi = cidr_bounds(v)
                return (lambda x: lo <= x <= hi), (lambda x: f"{x} BETWEEN '{hexkey(lo)}' AND '{hexkey(hi)}'")
            k = ip_key(v)
            return (lambda x: x == k), (lambda x: f"{x} = '{hexkey(k)}'")
        if f.kind == "long":
            n = int(v)
            return (lambda x: x == n), (lambda x: f"{x} = {n}")
        if ci:
            low = v.lower()
            return (lambda x: x.lower() == low), (lambda x: f"lower({x}) = {sql_str(low)}")
        return (lambda x: x == v), (lambda x: f"{x} = {sql_str(v)}")
    if kind == "terms":
        preds = [leaf_pred(("term", f, v, False)) for v in leaf[2]]
        return (lambda x: any(p(x) for p, _ in preds)), (lambda x: "(" + " OR ".join(s(x) for _, s in preds) + ")")
    if kind == "range":
        return range_pred(f, leaf[2])
    if kind == "exists":
        return (lambda x: True), (lambda x: "TRUE")
    if kind == "prefix":
        v, ci = leaf[2], leaf[3]
        if ci:
            low = v.lower()
            return (lambda x: x.lower().startswith(low)), (lambda x: f"starts_with(lower({x}), {sql_str(low)})")
        return (lambda x: x.startswith(v)), (lambda x: f"starts_with({x}, {sql_str(v)})")
    if kind == "wildcard":
        pat, ci = leaf[2], leaf[3]
        rx = wildcard_regex(pat, ci)
        like = wildcard_like(pat)
        if ci:
            return (lambda x: rx.fullmatch(x) is not None), (lambda x: f"lower({x}) LIKE {sql_str(like.lower())} ESCAPE '\\'")
        return (lambda x: rx.fullmatch(x) is not None), (lambda x: f"{x} LIKE {sql_str(like)} ESCAPE '\\'")
    raise AssertionError(kind)


class SQL:
    lambda_arrow = False  # set from the DuckDB version at load time


def to_sql(node) -> str:
    if node[0] == "bool":
        b = node[1]
        parts = [to_sql(c) for c in b.get("must", []) + b.get("filter", [])]
        parts += [f"NOT {to_sql(c)}" for c in b.get("must_not", [])]
        k = effective_msm(b)
        if k > 0:
            parts.append("((" + " + ".join(f"CAST({to_sql(c)} AS INTEGER)" for c in b["should"]) + f") >= {k})")
        return "(" + (" AND ".join(parts) if parts else "TRUE") + ")"
    f = node[1]
    if node[0] == "exists":
        return f"coalesce(len({f.sql}) > 0, FALSE)" if f.multi else f"({f.sql} IS NOT NULL)"
    _, cond = leaf_pred(node)
    if not f.multi:
        return f"coalesce({cond(f.sql)}, FALSE)"
    lam = f"y -> {cond('y')}" if SQL.lambda_arrow else f"lambda y: {cond('y')}"
    return f"coalesce(len(list_filter({f.sql}, {lam})) > 0, FALSE)"


def model_bits(node, n: int, cache: dict) -> int:
    """The matching documents as a bitmap (Python int), straight from the events."""
    if node[0] == "bool":
        b = node[1]
        full = (1 << n) - 1
        acc = full
        for c in b.get("must", []) + b.get("filter", []):
            acc &= model_bits(c, n, cache)
        for c in b.get("must_not", []):
            acc &= full ^ model_bits(c, n, cache)
        k = effective_msm(b)
        if k > 0:
            sh = [model_bits(c, n, cache) for c in b["should"]]
            if k > len(sh):
                acc = 0
            else:
                any_k = 0
                for combo in combinations(sh, k):
                    m = full
                    for s in combo:
                        m &= s
                    any_k |= m
                acc &= any_k
        return acc
    key = leaf_key(node)
    if key in cache:
        return cache[key]
    f = node[1]
    pred, _ = leaf_pred(node)
    bits = 0
    if node[0] == "exists":
        idx = [i for i, vs in enumerate(f.norm) if vs]
    else:
        idx = [i for i, vs in enumerate(f.norm) if any(pred(v) for v in vs)]
    for i in idx:
        bits |= 1 << i
    cache[key] = bits
    return bits


def leaf_key(leaf) -> str:
    return json.dumps([leaf[0], leaf[1].name, *leaf[2:]], sort_keys=True, default=str)


# --------------------------------------------------------------------------- renderings


def to_dsl(node, rng: random.Random) -> dict:
    if node[0] == "bool":
        b = node[1]
        out: dict = {}
        for k in ("must", "filter", "should", "must_not"):
            if b.get(k):
                cl = [to_dsl(c, rng) for c in b[k]]
                out[k] = cl[0] if len(cl) == 1 and rng.random() < 0.3 else cl  # a single clause may be an object
        if b.get("msm") is not None:
            out["minimum_should_match"] = b["msm"]
        return {"bool": out}
    kind, f = node[0], node[1]
    if kind == "term":
        v, ci = node[2], node[3]
        if ci:
            return {"term": {f.name: {"value": v, "case_insensitive": True}}}
        return {"term": {f.name: v}} if rng.random() < 0.5 else {"term": {f.name: {"value": v}}}
    if kind == "terms":
        return {"terms": {f.name: node[2]}}
    if kind == "range":
        return {"range": {f.name: dict(node[2])}}
    if kind == "exists":
        return {"exists": {"field": f.name}}
    if kind == "prefix":
        v, ci = node[2], node[3]
        if ci:
            return {"prefix": {f.name: {"value": v, "case_insensitive": True}}}
        return {"prefix": {f.name: v}} if rng.random() < 0.5 else {"prefix": {f.name: {"value": v}}}
    if kind == "wildcard":
        v, ci = node[2], node[3]
        if ci:
            return {"wildcard": {f.name: {"value": v, "case_insensitive": True}}}
        return {"wildcard": {f.name: v}} if rng.random() < 0.5 else {"wildcard": {f.name: {"value": v}}}
    raise AssertionError(kind)


KQL_SPECIAL = set(' \\():<>"*{}\t\r\n')


def kql_quoted(s: str) -> str:
    if s.endswith("\\"):
        raise NotExpressible("value ends with a backslash")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kql_plain(s: str) -> str:
    """A literal part of an unquoted KQL wildcard: only characters KQL passes through as they are."""
    if not s or any(c in KQL_SPECIAL or c == "?" or c.isspace() for c in s) or s.lower() in ("and", "or", "not"):
        raise NotExpressible(f"{s!r} needs escapes in an unquoted KQL value")
    return s


def kql_value(f: Field, v) -> str:
    if f.kind == "long" or isinstance(v, (int, float)):
        return str(v)
    return kql_quoted(str(v))


def to_kql(node, rng: random.Random) -> str:
    if node[0] == "bool":
        b = node[1]
        parts = [to_kql(c, rng) for c in b.get("must", []) + b.get("filter", [])]
        parts += [f"not {to_kql(c, rng)}" for c in b.get("must_not", [])]
        k = effective_msm(b)
        should = b.get("should", [])
        if k == 1:
            parts.append("(" + " or ".join(to_kql(c, rng) for c in should) + ")")
        elif k > 1:
            if k != len(should):
                raise NotExpressible("minimum_should_match > 1")
            parts += [to_kql(c, rng) for c in should]
        if not parts:
            raise NotExpressible("empty bool")
        return "(" + " and ".join(parts) + ")"
    kind, f = node[0], node[1]
    if kind == "term":
        if node[3]:
            raise NotExpressible("case_insensitive")
        return f"{f.name} : {kql_value(f, node[2])}"
    if kind == "terms":
        return "(" + " or ".join(f"{f.name} : {kql_value(f, v)}" for v in node[2]) + ")"
    if kind == "range":
        if f.multi and len(node[2]) > 1:
            # `f > a and f <= b` is two range queries: on an array each may match a different value.
            raise NotExpressible("a two-sided range on an array")
        ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        cl = [f"{f.name} {ops[op]} {kql_value(f, b)}" for op, b in node[2].items()]
        return cl[0] if len(cl) == 1 else "(" + " and ".join(cl) + ")"
    if kind == "exists":
        return f"{f.name} : *"
    if kind == "prefix":
        if node[3]:
            raise NotExpressible("case_insensitive")
        return f"{f.name} : {kql_plain(node[2])}*"
    if kind == "wildcard":
        if node[3]:
            raise NotExpressible("case_insensitive")
        pat = node[2]
        if "?" in pat or "\\" in pat:
            raise NotExpressible("KQL has no ? wildcard or escapes in wildcards")
        pieces = pat.split("*")
        return f"{f.name} : " + "*".join(kql_plain(p) if p else "" for p in pieces)
    raise AssertionError(kind)


LUCENE_SPECIAL = set('+-=&|><!(){}[]^"~*?:\\/ ')


def lucene_escape(s: str) -> str:
    return "".join("\\" + c if c in LUCENE_SPECIAL or c.isspace() else c for c in s)


def lucene_quoted(s: str) -> str:
    if s.endswith("\\"):
        # In a quoted range endpoint `\\"` could be read as an escaped quote by Lucene's lexer.
        raise NotExpressible("value ends with a backslash")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lucene_value(f: Field, v, rng) -> str:
    if f.kind == "long" or isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    # Unquoted (escaped) or quoted; an unquoted term starting with < or > would be a range.
    if f.kind == "keyword" and rng.random() < 0.4 and s[:1] not in ("<", ">"):
        return lucene_escape(s)
    return lucene_quoted(s)


def to_lucene(node, rng: random.Random) -> str:
    AND = rng.choice([" AND ", " AND ", " && "])
    OR = rng.choice([" OR ", " OR ", " || "])
    if node[0] == "bool":
        b = node[1]
        parts = [to_lucene(c, rng) for c in b.get("must", []) + b.get("filter", [])]
        negs = [to_lucene(c, rng) for c in b.get("must_not", [])]
        k = effective_msm(b)
        should = b.get("should", [])
        if k == 1:
            parts.append("(" + OR.join(to_lucene(c, rng) for c in should) + ")")
        elif k > 1:
            if k != len(should):
                raise NotExpressible("minimum_should_match > 1")
            parts += [to_lucene(c, rng) for c in should]
        if not parts and not negs:
            raise NotExpressible("empty bool")
        if parts:
            s = AND.join(parts)
            for n in negs:
                s += AND + rng.choice(["NOT ", "NOT ", "!"]) + n
        else:  # a purely negative group: Elasticsearch adds match_all to it
            s = " AND ".join(rng.choice(["NOT ", "!"]) + n for n in negs)
        return "(" + s + ")"
    kind, f = node[0], node[1]
    if kind == "term":
        if node[3]:
            raise NotExpressible("case_insensitive")
        return f"{f.name}:{lucene_value(f, node[2], rng)}"
    if kind == "terms":
        vals = [lucene_value(f, v, rng) for v in node[2]]
        if rng.random() < 0.5:
            return f"{f.name}:(" + " OR ".join(vals) + ")"
        return "(" + " OR ".join(f"{f.name}:{v}" for v in vals) + ")"
    if kind == "range":
        bounds = node[2]
        lo = next(((op, b) for op, b in bounds.items() if op in ("gt", "gte")), None)
        hi = next(((op, b) for op, b in bounds.items() if op in ("lt", "lte")), None)

        def endpoint(b):
            return str(b) if f.kind == "long" or isinstance(b, (int, float)) else lucene_quoted(str(b))

        if f.kind == "long" and (lo is None) != (hi is None) and rng.random() < 0.5:
            op, b = lo or hi
            sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
            return f"{f.name}:{sym}{b}"
        left = "[" if lo is None or lo[0] == "gte" else "{"
        right = "]" if hi is None or hi[0] == "lte" else "}"
        return f"{f.name}:{left}{'*' if lo is None else endpoint(lo[1])} TO {'*' if hi is None else endpoint(hi[1])}{right}"
    if kind == "exists":
        return f"_exists_:{f.name}" if rng.random() < 0.6 else f"{f.name}:*"
    if kind == "prefix":
        if node[3]:
            raise NotExpressible("case_insensitive")
        if not node[2]:
            raise NotExpressible("empty prefix")
        return f"{f.name}:{lucene_escape(node[2])}*"
    if kind == "wildcard":
        if node[3]:
            raise NotExpressible("case_insensitive")
        out, pat, i = [], node[2], 0
        while i < len(pat):
            c = pat[i]
            if c == "\\" and i + 1 < len(pat):
                out.append(lucene_escape(pat[i + 1]))
                i += 2
                continue
            out.append(c if c in "*?" else lucene_escape(c))
            i += 1
        s = "".join(out)
        if s == "*":
            raise NotExpressible("bare *")
        return f"{f.name}:{s}"
    raise AssertionError(kind)


# --------------------------------------------------------------------------- generator


def wc_escape(s: str) -> str:
    return "".join("\\" + c if c in "*?\\" else c for c in s)


def case_variant(rng, s: str) -> str:
    for _ in range(3):
        v = rng.choice([s.upper(), s.lower(), s.swapcase(), s[:1].upper() + s[1:]])
        if v != s:
            return v
    return s


class Gen:
    def __init__(self, fields: dict[str, Field], rng: random.Random, basic: bool):
        self.rng = rng
        self.basic = basic
        self.fields = [f for f in fields.values() if f.docs > 0]
        ts = fields["@timestamp"].distinct
        self.t_min, self.t_max = data_ms(ts[0]), data_ms(ts[-1])
        self.timestamps = ts
        # Favour the fields a hunter filters on.
        fav = {"event.category", "event.type", "event.action", "process.name", "host.name", "user.name",
               "process.pid", "destination.port", "@timestamp", "destination.ip", "source.ip", "file.path",
               "process.args", "process.parent.name", "dll.name", "file.extension", "host.os.type"}
        self.weights = [4 if f.name in fav else 1 for f in self.fields]

    def field(self, kinds=None) -> Field:
        r = self.rng
        while True:
            f = r.choices(self.fields, self.weights)[0]
            if kinds is None or f.kind in kinds:
                return f

    def sample(self, f: Field):
        vals = self.rng.choice(f.samples)
        return self.rng.choice(vals)

    def string_value(self, f: Field) -> str:
        r = self.rng.random()
        v = self.sample(f)
        if r < 0.1:
            return case_variant(self.rng, v)
        if r < 0.14:
            return v + "-nope"
        return v

    def date_bound(self, op: str):
        r = self.rng
        t = r.randint(self.t_min - HOUR, self.t_max + HOUR)
        form = r.random()
        if form < 0.35:
            return iso(t)
        if form < 0.5:
            return iso(t)[:19] + "Z"  # seconds: gt/lte reach the second's last millisecond
        if form < 0.6:
            return iso(t)[:10]  # a day: gt/lte reach its last millisecond
        if form < 0.7:
            return t  # epoch millis as a number
        if form < 0.75:
            return str(t)  # epoch millis as a string
        if form < 0.9:
            return iso(t) + "||/" + r.choice(["h", "m", "d", "s"])
        if op in ("gte", "lt"):
            return iso(t)[:19] + "Z||" + r.choice(["+1h", "-30m", "+90s", "-1d"])
        return data_ms(r.choice(self.timestamps))  # an exact event time

    def bounds(self, f: Field) -> dict:
        r = self.rng
        shape = r.random()
        ops = ([r.choice(["gte", "gt"]), r.choice(["lt", "lte"])] if shape < 0.5 else
               [r.choice(["gte", "gt", "lt", "lte"])])
        out = {}
        if f.kind == "date":
            for op in ops:
                out[op] = self.date_bound(op)
            if len(ops) == 2 and r.random() < 0.7:
                # Keep two-sided date ranges narrow enough to be interesting.
                a = r.randint(self.t_min, self.t_max)
                b = a + r.choice([1, 999, 1000, 60_000, HOUR, 3 * HOUR])
                out[ops[0]] = r.choice([iso(a), a, iso(a)[:19] + "Z"])
                out[ops[1]] = r.choice([iso(b), b, iso(b)[:19] + "Z"])
            return out
        if f.kind == "long":
            vals = sorted(r.sample(f.distinct, min(2, len(f.distinct))))
            if len(ops) == 2 and len(vals) == 2:
                lo, hi = vals
            else:
                lo = hi = vals[0]
            for op in ops:
                v = lo if op in ("gt", "gte") else hi
                if r.random() < 0.15:
                    v = v + 0.5  # a fractional bound on a long field
                elif r.random() < 0.1:
                    v = str(v)  # numbers as strings are coerced
                out[op] = v
            return out
        if f.kind == "ip":
            vals = sorted(r.sample(f.distinct, 2), key=ip_key)
            for op in ops:
                out[op] = vals[0] if op in ("gt", "gte") else vals[1]
            if len(ops) == 1 and r.random() < 0.5:
                out = {ops[0]: r.choice(["10.0.0.0", "10.255.255.255", "100.0.0.0", "::1", "fe80::"])}
            return out
        vals = sorted(r.sample(f.distinct, min(2, len(f.distinct))), key=lambda s: s.encode())
        lo, hi = (vals[0], vals[-1])
        if r.random() < 0.3:
            lo, hi = lo[: r.randint(1, max(1, len(lo)))], hi[: r.randint(1, max(1, len(hi)))]
        for op in ops:
            out[op] = lo if op in ("gt", "gte") else hi
        if len(ops) == 2 and lo.encode() > hi.encode():
            out[ops[0]], out[ops[1]] = hi, lo
        return out

    def wildcard(self, v: str) -> str:
        r = self.rng
        n = len(v)
        if n == 0:
            return "*"
        i, j = sorted(r.sample(range(n + 1), 2)) if n > 1 else (0, n)
        form = r.random()
        if form < 0.3:
            return wc_escape(v[:i]) + "*"
        if form < 0.5:
            return "*" + wc_escape(v[j:])
        if form < 0.7:
            return "*" + wc_escape(v[i:j]) + "*" if j > i else "*"
        if form < 0.85:
            k = r.randrange(n)
            return wc_escape(v[:k]) + "?" + wc_escape(v[k + 1:])
        # a*b?c: a prefix, any run, one kept character, one any character, the rest
        if j + 1 < n:
            return wc_escape(v[:i]) + "*" + wc_escape(v[j]) + "?" + wc_escape(v[j + 2:])
        return wc_escape(v[:i]) + "*"

    def leaf(self):
        r = self.rng
        f = self.field()
        kinds = ["term", "terms", "range", "exists"]
        weights = [5, 3, 3, 1]
        if f.kind == "keyword" and not self.basic:
            kinds += ["prefix", "wildcard"]
            weights += [2, 3]
        if f.kind == "keyword" and self.basic:
            weights[2] = 0.5
        kind = r.choices(kinds, weights)[0]
        if kind == "exists":
            return ("exists", f)
        if kind == "range":
            return ("range", f, self.bounds(f))
        if kind == "term":
            if f.kind == "keyword":
                ci = (not self.basic) and r.random() < 0.2
                return ("term", f, self.string_value(f), ci)
            if f.kind == "ip":
                v = self.sample(f)
                if r.random() < 0.35:
                    a = ipaddress.ip_address(v)
                    plen = r.choice([8, 16, 24]) if a.version == 4 else r.choice([16, 32, 64])
                    v = str(ipaddress.ip_network(f"{v}/{plen}", strict=False))
                return ("term", f, v, False)
            if f.kind == "date":
                ms = data_ms(self.sample(f))
                return ("term", f, r.choice([iso(ms), iso(ms), iso(ms)[:19] + "Z", ms]), False)
            v = self.sample(f)
            return ("term", f, str(v) if r.random() < 0.1 else v, False)
        if kind == "terms":
            if f.kind == "date":
                return ("range", f, self.bounds(f))
            n = r.randint(1, 4)
            if f.kind == "keyword":
                vals = [self.string_value(f) for _ in range(n)]
            else:
                vals = [self.sample(f) for _ in range(n)]
            return ("terms", f, list(dict.fromkeys(vals)))
        v = self.string_value(f)
        ci = r.random() < 0.25
        if kind == "prefix":
            return ("prefix", f, v[: r.randint(1, max(1, len(v)))], ci)
        return ("wildcard", f, self.wildcard(v), ci)

    def tree(self, depth: int):
        r = self.rng
        if depth == 0 or r.random() < 0.3:
            return self.leaf()
        shapes = ["and", "or", "not", "opt", "mixed", "atleast", "empty"]
        weights = [5, 4, 2, 1, 2, 2, 0.15]
        if self.basic:
            weights = [5, 4, 2, 1, 0, 0, 0]
        shape = r.choices(shapes, weights)[0]
        kids = lambda lo, hi: [self.tree(depth - 1) for _ in range(r.randint(lo, hi))]  # noqa: E731
        if shape == "and":
            b = {r.choice(["filter", "must"]): kids(1, 3)}
            if r.random() < 0.4:
                b["must_not"] = kids(1, 2)
            if r.random() < 0.3:
                b["filter" if "must" in b else "must"] = kids(1, 1)
            return ("bool", b)
        if shape == "or":
            b = {"should": kids(2, 3)}
            if r.random() < 0.3:
                b["msm"] = r.choice([1, "1"])
            return ("bool", b)
        if shape == "not":
            return ("bool", {"must_not": kids(1, 2)})
        if shape == "opt":  # should beside filter/must: optional
            return ("bool", {r.choice(["filter", "must"]): kids(1, 2), "should": kids(1, 2)})
        if shape == "mixed":
            sh = kids(2, 3)
            return ("bool", {"filter": kids(1, 1), "should": sh, "msm": r.randint(1, len(sh))})
        if shape == "atleast":
            sh = kids(3, 4)
            n = len(sh)
            k = r.randint(2, n)
            spec = r.choice([k, str(k), f"{-(n - k)}" if k < n else k, f"{math.ceil(100 * k / n)}%"])
            return ("bool", {"should": sh, "msm": spec})
        return ("bool", {})


# --------------------------------------------------------------------------- fixture


@dataclass
class World:
    es: elasticsearch.Elasticsearch
    db: object
    fields: dict[str, Field]
    n: int
    load_seconds: float


@pytest.fixture(scope="module")
def world(server_factory, tmp_path_factory):
    duckdb = _duckdb()
    work = tmp_path_factory.mktemp("differential")
    nd = work / "events.ndjson"
    p = subprocess.run([str(vigil_bin()), "gen", "--events", str(EVENTS), "--hosts", str(HOSTS), "--seed", str(GEN_SEED),
                        "--start", GEN_START, "--rate", str(GEN_RATE), "-o", str(nd)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = nd.read_text().splitlines()
    docs = [json.loads(l) for l in lines]
    assert len(docs) == EVENTS
    fields = discover(docs)

    srv = server_factory("differential")
    es = make_client(srv)
    t0 = time.monotonic()
    es.indices.create(index=INDEX, mappings=es_mapping(fields), settings={"number_of_replicas": 0})
    ok, errors = helpers.bulk(es.options(request_timeout=120), ({"_index": INDEX, "_source": d} for d in docs),
                              chunk_size=5000, raise_on_error=False)
    assert not errors and ok == EVENTS, errors[:3]
    es.indices.refresh(index=INDEX)
    assert es.count(index=INDEX)["count"] == EVENTS
    load = time.monotonic() - t0

    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    try:
        db.execute("SELECT list_filter([1], lambda x: x > 0)").fetchall()
    except Exception:
        SQL.lambda_arrow = True
    # rid: the line number (DuckDB keeps insertion order; checked against the parsed JSON below).
    db.execute(f"CREATE TABLE raw AS SELECT row_number() OVER () - 1 AS rid, * FROM read_json('{nd}', "
               "format='newline_delimited', sample_size=-1, maximum_object_size=10485760)")
    ipvals = sorted({v for f in fields.values() if f.kind == "ip" for vals in f.samples for v in vals})
    db.execute("CREATE TABLE ipkeys (ip VARCHAR PRIMARY KEY, k VARCHAR)")
    db.executemany("INSERT INTO ipkeys VALUES (?, ?)", [(v, hexkey(ip_key(v))) for v in ipvals])
    cols, joins = ["raw.rid"], []
    for i, f in enumerate(fields.values()):
        parts = f.name.split(".")
        expr = f'"{parts[0]}"'
        for p_ in parts[1:]:
            expr = f"struct_extract({expr}, '{p_}')"
        if f.kind == "date":
            cols.append(f'epoch_ms(CAST({expr} AS TIMESTAMPTZ)) AS "{f.col}"')
        elif f.kind == "ip":
            cols.append(f'{expr} AS "{f.col}"')
            cols.append(f'k{i}.k AS "{f.col}#k"')
            joins.append(f"LEFT JOIN ipkeys k{i} ON k{i}.ip = {expr}")
        else:
            cols.append(f'{expr} AS "{f.col}"')
    db.execute(f"CREATE TABLE ev AS SELECT * FROM (SELECT {', '.join(cols)} FROM raw {' '.join(joins)}) ORDER BY rid")
    assert db.execute("SELECT count(*) FROM ev").fetchone()[0] == EVENTS
    # The flat table holds what the events hold: spot-check rows against the parsed JSON.
    for rid in [0, 1, EVENTS - 1] + random.Random(1).sample(range(EVENTS), 60):
        row = dict(zip([c[0] for c in db.execute("SELECT * FROM ev LIMIT 0").description],
                       db.execute(f"SELECT * FROM ev WHERE rid = {rid}").fetchone()))
        for f in fields.values():
            want = f.norm[rid]
            got = row[f.col] if f.kind != "ip" else row[f"{f.col}#k"]
            if f.kind == "ip":
                want = tuple(hexkey(x) for x in want)
            if f.multi:
                assert tuple(got or ()) == want, (rid, f.name, got, want)
            else:
                assert (got,) == want or (got is None and want == ()), (rid, f.name, got, want)
    yield World(es, db, fields, EVENTS, load)
    es.close()
    db.close()


# --------------------------------------------------------------------------- runs


@dataclass
class Outcome:
    category: str
    request: object
    vigil: object
    expected: object
    sql: str
    ok: bool
    note: str = ""


def report(title: str, outcomes: list[Outcome], elapsed: float) -> None:
    agreed = sum(o.ok for o in outcomes)
    by_cat: dict[str, list[int]] = {}
    for o in outcomes:
        c = by_cat.setdefault(o.category, [0, 0])
        c[0] += 1
        c[1] += o.ok
    cats = ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(by_cat.items()))
    print(f"\ndifferential: {len(outcomes)} queries, {agreed} agreed ({title}; {cats}; {elapsed:.1f}s)")
    bad = [o for o in outcomes if not o.ok]
    shown: Counter = Counter()
    for o in bad:
        shown[o.category] += 1
        if shown[o.category] > SHOW:
            continue
        print(f"\n--- {o.category} disagrees")
        print(f"request: {json.dumps(o.request, default=str)}")
        print(f"vigil:   {json.dumps(o.vigil, default=str)[:1500]}")
        print(f"duckdb:  {json.dumps(o.expected, default=str)[:1500]}")
        print(f"sql:     {o.sql}")
        if o.note:
            print(f"note:    {o.note}")
    hidden = sum(max(0, n - SHOW) for n in shown.values())
    if hidden:
        print(f"\n… and {hidden} more disagreements (at most {SHOW} shown per category)")
    if bad:
        kinds = Counter(o.category for o in bad)
        pytest.fail(f"{len(bad)} of {len(outcomes)} differ from DuckDB: {dict(kinds)}", pytrace=False)


def vigil_error(e: Exception) -> dict:
    if isinstance(e, elasticsearch.ApiError):
        body = e.body if isinstance(e.body, dict) else {"body": str(e.body)[:300]}
        err = body.get("error", body)
        if isinstance(err, dict):
            out = {"error": err.get("type"), "reason": str(err.get("reason"))[:300], "status": getattr(e, "status_code", None)}
            rc = err.get("root_cause") or []
            if rc and isinstance(rc[0], dict) and rc[0].get("reason") != err.get("reason"):
                out["root_cause"] = f"{rc[0].get('type')}: {str(rc[0].get('reason'))[:300]}"
            return out
        return {"error": str(err)[:300]}
    return {"error": type(e).__name__, "reason": str(e)[:300]}


def fixed_queries(fields: dict[str, Field]):
    """Hand-written KQL and Lucene queries (the issue's examples) with their SQL, beside the generated ones."""
    F = fields
    q = []
    if BASIC:
        return q
    pn, un, hn, port = F["process.name"].sql, F["user.name"].sql, F["host.name"].sql, F["destination.port"].sql
    fp, cat = F["file.path"].sql, F["event.category"].sql
    has = (lambda col, v: f"coalesce(list_contains({col}, '{v}'), FALSE)")  # noqa: E731
    q += [
        ("kql", 'process.name : "bash" and not user.name : root',
         f"coalesce({pn} = 'bash', FALSE) AND NOT coalesce({un} = 'root', FALSE)"),
        ("kql", "destination.port >= 1024", f"coalesce({port} >= 1024, FALSE)"),
        ("kql", "host.name : web-*", f"coalesce({hn} LIKE 'web-%', FALSE)"),
        ("kql", "file.path : *", f"{fp} IS NOT NULL"),
        ("kql", "not file.path : *", f"{fp} IS NULL"),
        ("kql", "(event.category : network or event.category : process) and not host.os.type : windows",
         f"({has(cat, 'network')} OR {has(cat, 'process')}) AND NOT coalesce({F['host.os.type'].sql} = 'windows', FALSE)"),
        ("kql", "user.name : SYSTEM", f"coalesce({un} = 'SYSTEM', FALSE)"),
        ("kql", "user.name : system", f"coalesce({un} = 'system', FALSE)"),  # case-sensitive: none
        ("kql", 'user.name : "NETWORK SERVICE"', f"coalesce({un} = 'NETWORK SERVICE', FALSE)"),
        ("kql", "NOT process.name : bash AND process.pid < 1000", f"NOT coalesce({pn} = 'bash', FALSE) AND coalesce({F['process.pid'].sql} < 1000, FALSE)"),
        ("kql", "process.name : *.exe and destination.port : 443", f"coalesce({pn} LIKE '%.exe', FALSE) AND coalesce({port} = 443, FALSE)"),
        ("lucene", "process.name:bash AND NOT user.name:root", f"coalesce({pn} = 'bash', FALSE) AND NOT coalesce({un} = 'root', FALSE)"),
        ("lucene", "destination.port:[1024 TO *]", f"coalesce({port} >= 1024, FALSE)"),
        ("lucene", "destination.port:{22 TO 443]", f"coalesce({port} > 22 AND {port} <= 443, FALSE)"),
        ("lucene", "destination.port:>=1024", f"coalesce({port} >= 1024, FALSE)"),
        ("lucene", "host.name:web-*", f"coalesce({hn} LIKE 'web-%', FALSE)"),
        ("lucene", "host.name:web?prod?0*", f"coalesce({hn} LIKE 'web_prod_0%', FALSE)"),
        ("lucene", "_exists_:dll.name", f"{F['dll.name'].sql} IS NOT NULL"),
        ("lucene", "NOT _exists_:dll.name", f"{F['dll.name'].sql} IS NULL"),
        ("lucene", "dll.name:*", f"{F['dll.name'].sql} IS NOT NULL"),
        ("lucene", "(process.name:bash OR process.name:sh) AND NOT (user.name:root OR user.name:deploy)",
         f"coalesce({pn} IN ('bash', 'sh'), FALSE) AND NOT coalesce({un} IN ('root', 'deploy'), FALSE)"),
        ("lucene", "process.name:(bash OR sh OR zsh)", f"coalesce({pn} IN ('bash', 'sh', 'zsh'), FALSE)"),
        ("lucene", "user.name:\"NETWORK SERVICE\"", f"coalesce({un} = 'NETWORK SERVICE', FALSE)"),
        ("lucene", "user.name:NETWORK\\ SERVICE", f"coalesce({un} = 'NETWORK SERVICE', FALSE)"),
        ("lucene", "event.category:network AND (NOT destination.port:443)",
         f"{has(cat, 'network')} AND NOT coalesce({port} = 443, FALSE)"),
        ("lucene", "process.name:bash OR (NOT _exists_:user.name)", f"coalesce({pn} = 'bash', FALSE) OR {un} IS NULL"),
    ]
    return q


def test_differential_counts(world):
    es, db, fields = world.es, world.db, world.fields
    rng = random.Random(SEED)
    gen = Gen(fields, rng, BASIC)
    cache: dict = {}
    outcomes: list[Outcome] = []
    harness: list[str] = []
    t0 = time.monotonic()

    def sql_count(cond: str) -> int:
        return db.execute(f"SELECT count(*) FROM ev WHERE {cond}").fetchone()[0]

    budget = [400]  # extra requests spent on narrowing disagreements down
    seen: dict = {}

    def vigil_count(query):
        try:
            return es.count(index=INDEX, query=query)["count"]
        except Exception as e:  # noqa: BLE001 - an error is an answer that disagrees
            return vigil_error(e)

    def render(category, node):
        if category == "kql":
            return {"kql": {"query": to_kql(node, random.Random(0))}}
        if category == "lucene":
            return {"query_string": {"query": to_lucene(node, random.Random(0))}}
        return to_dsl(node, random.Random(0))

    def fails(category, node) -> tuple | None:
        try:
            q = render(category, node)
        except NotExpressible:
            return None
        key = json.dumps(q, sort_keys=True, default=str)
        if key not in seen:
            if budget[0] <= 0:
                return None
            budget[0] -= 1
            seen[key] = vigil_count(q)
        want = model_bits(node, world.n, cache).bit_count()
        return None if seen[key] == want else (q, seen[key], want)

    def smallest_failing(category, node) -> list:
        """The smallest subtrees Vigil answers differently: leaves, or a bool whose parts all agree."""
        out = []
        if node[0] == "bool":
            for k in ("must", "filter", "should", "must_not"):
                for c in node[1].get(k, []):
                    out += smallest_failing(category, c)
        if out:
            return out
        f = fails(category, node)
        return [f] if f else []

    def check(category, request, call, expected, sql, node=None):
        try:
            got = call()
        except Exception as e:  # noqa: BLE001 - an error is an answer that disagrees
            got = vigil_error(e)
        note = ""
        if got != expected and node is not None:
            found = smallest_failing(category, node)
            parts = []
            for q, v, w in found[:3]:
                parts.append(f"{json.dumps(q, default=str)} -> vigil {json.dumps(v, default=str)[:200]}, expected {w}")
            note = "smallest differing parts: " + " | ".join(parts) if parts else "no smaller part differs"
        outcomes.append(Outcome(category, request, got, expected, sql, got == expected, note))

    for _ in range(N_TREES):
        node = gen.tree(rng.choice([1, 2, 2, 3]))
        if node[0] != "bool":
            node = ("bool", {"filter": [node]}) if rng.random() < 0.3 else node
        sql = to_sql(node)
        want = sql_count(sql)
        model = model_bits(node, world.n, cache).bit_count()
        if model != want:
            harness.append(f"DuckDB {want} vs model {model}: {sql}")
            continue
        dsl = to_dsl(node, rng)
        check("dsl", dsl, lambda: es.count(index=INDEX, query=dsl)["count"], want, sql, node)
        if rng.random() < 0.25:
            check("search-total", dsl,
                  lambda: es.search(index=INDEX, query=dsl, size=0, track_total_hits=True)["hits"]["total"]["value"],
                  want, sql)
        if BASIC:
            continue
        for cat, to_text, wrap in (("kql", to_kql, lambda s: {"kql": {"query": s}}),
                                   ("lucene", to_lucene, lambda s: {"query_string": {"query": s}})):
            try:
                text = to_text(node, rng)
            except NotExpressible:
                continue
            qq = wrap(text)
            check(cat, qq, lambda: es.count(index=INDEX, query=qq)["count"], want, sql, node)

    for cat, text, sql in fixed_queries(fields):
        want = sql_count(sql)
        qq = {"kql": {"query": text}} if cat == "kql" else {"query_string": {"query": text}}
        check(cat + "-fixed", qq, lambda: es.count(index=INDEX, query=qq)["count"], want, sql)

    assert not harness, "the harness's SQL and its Python model disagree:\n" + "\n".join(harness[:10])
    assert len(outcomes) >= N_TREES
    report("counts", outcomes, time.monotonic() - t0)


# --------------------------------------------------------------------------- aggregations


def values_rel(f: Field) -> str:
    """(rid, v) for every value of the field in the filtered rows `f`; arrays once per distinct value."""
    col = f'"{f.col}"'
    if f.multi:
        return f"(SELECT rid, unnest(list_distinct({col})) AS v FROM f)"
    return f"(SELECT rid, {col} AS v FROM f WHERE {col} IS NOT NULL)"


def sort_key(f: Field, v):
    if f.kind == "ip":
        return ip_key(v)
    if isinstance(v, str):
        return v.encode()
    return v


def json_key(f: Field, v):
    """A terms bucket key as Elasticsearch writes it."""
    if f.kind == "ip":
        return str(ipaddress.ip_address(v))
    return v


def java_double(x) -> str:
    """Double.toString, as Elasticsearch writes a range bucket's bounds in its key."""
    x = float(x)
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        r = repr(x)
        return r if "e" not in r else f"{x:.1f}"
    from decimal import Decimal  # noqa: PLC0415
    sign, digits, exp = Decimal(repr(x)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    e = exp + len(ds) - 1
    mant = ds[0] + "." + (ds[1:] or "0")
    return ("-" if sign else "") + f"{mant}E{e}"


def close(a, b, rel=1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


def card_ok(got, want) -> bool:
    if not isinstance(got, (int, float)):
        return False
    if want < 3000:  # HyperLogLog++ counts exactly below its default precision_threshold
        return got == want
    return abs(got - want) <= 0.01 * want


class AggGen:
    def __init__(self, fields: dict[str, Field], rng: random.Random, gen: Gen):
        self.f = fields
        self.rng = rng
        self.gen = gen
        self.keywords = [f for f in fields.values() if f.kind == "keyword" and len(f.distinct) <= 5000]
        self.numbers = [f for f in fields.values() if f.kind == "long"]
        self.terms_fields = [f for f in fields.values() if f.kind in ("keyword", "long", "ip") and len(f.distinct) <= 600]
        self.multi = [f for f in fields.values() if f.multi]

    def filt(self):
        r = self.rng
        if r.random() < 0.3:
            return None
        node = self.gen.tree(r.choice([1, 1, 2]))
        return node


def run_agg(world: World, kind: str, filt, rng: random.Random, ag: AggGen) -> Outcome:
    db, es, F = world.db, world.es, world.fields
    cond = to_sql(filt) if filt is not None else "TRUE"
    query = {"bool": {"filter": [to_dsl(filt, rng)]}} if filt is not None else None
    pre = f"WITH f AS (SELECT * FROM ev WHERE {cond}) "

    def q(sql):
        return db.execute(pre + sql).fetchall()

    def search(aggs):
        kw = {"index": INDEX, "size": 0, "aggs": aggs}
        if query is not None:
            kw["query"] = query
        return es.search(**kw)["aggregations"]

    r = rng
    if kind in ("terms", "terms+sub"):
        f = r.choice(ag.terms_fields)
        size = r.choice([1000, 1000, 1000, 3, 10])
        order_key = r.random() < 0.2
        agg: dict = {"terms": {"field": f.name, "size": size}}
        if order_key:
            agg["terms"]["order"] = {"_key": "asc"}
        sub = None
        if kind == "terms+sub":
            sub_kind = r.choice(["cardinality", "cardinality", "cardinality", "value_count", "avg", "max"])
            g = r.choice([x for x in F.values() if (sub_kind == "cardinality" or sub_kind == "value_count" or x.kind == "long")])
            sub = (sub_kind, g)
            agg["aggs"] = {"s": {sub_kind: {"field": g.name}}}
        sql = "SELECT a.v, count(DISTINCT a.rid) AS n"
        if sub:
            sk, g = sub
            gv = values_rel(g) if sk in ("cardinality",) else None
            if sk == "cardinality":
                sql += f", count(DISTINCT b.v) FROM {values_rel(f)} a LEFT JOIN {gv} b ON a.rid = b.rid GROUP BY a.v"
            elif sk == "value_count":
                cnt = f'coalesce(len(list_distinct(b."{g.col}")), 0)' if g.multi else f'CAST(b."{g.col}" IS NOT NULL AS INTEGER)'
                sql = (f"SELECT a.v, count(*) AS n, coalesce(sum({cnt}), 0) FROM {values_rel(f)} a JOIN f b ON a.rid = b.rid "
                       "GROUP BY a.v")
            else:
                fn = {"avg": "avg", "max": "max"}[sk]
                sql = (f"SELECT a.v, count(*) AS n, {fn}(CAST(b.\"{g.col}\" AS DOUBLE)) FROM {values_rel(f)} a "
                       f"JOIN f b ON a.rid = b.rid GROUP BY a.v")
        else:
            sql += f" FROM {values_rel(f)} a GROUP BY a.v"
        rows = q(sql)
        if order_key:
            rows.sort(key=lambda t: sort_key(f, t[0]))
        else:
            rows.sort(key=lambda t: (-t[1], sort_key(f, t[0])))
        top, rest = rows[:size], rows[size:]
        want = {"buckets": [[json_key(f, t[0]), t[1]] + ([t[2]] if sub else []) for t in top],
                "sum_other_doc_count": sum(t[1] for t in rest)}
        try:
            res = search({"a": agg})["a"]
        except Exception as e:  # noqa: BLE001
            return Outcome("agg:" + kind + (f"/{sub[0]}" if sub else ""), {"query": query, "aggs": {"a": agg}},
                           vigil_error(e), want, pre + sql, False)
        got_b = [[b.get("key"), b.get("doc_count")] + ([b.get("s", {}).get("value")] if sub else []) for b in res.get("buckets", [])]
        got = {"buckets": got_b, "sum_other_doc_count": res.get("sum_other_doc_count")}
        ok = len(got_b) == len(want["buckets"]) and got["sum_other_doc_count"] == want["sum_other_doc_count"]
        for gb, wb in zip(got_b, want["buckets"]):
            ok = ok and gb[0] == wb[0] and gb[1] == wb[1]
            if sub and ok:
                sk = sub[0]
                ok = card_ok(gb[2], wb[2]) if sk == "cardinality" else close(gb[2], wb[2]) if sk == "avg" or sk == "max" else gb[2] == wb[2]
        return Outcome("agg:" + kind + (f"/{sub[0]}" if sub else ""), {"query": query, "aggs": {"a": agg}}, got, want, pre + sql, ok)

    if kind == "date_histogram":
        spec = r.choice([("fixed_interval", "1h", HOUR), ("fixed_interval", "30m", HOUR // 2), ("fixed_interval", "90m", 90 * 60_000),
                         ("calendar_interval", "1d", DAY), ("calendar_interval", "day", DAY), ("calendar_interval", "1h", HOUR),
                         ("fixed_interval", "1d", DAY)])
        ts = F["@timestamp"]
        agg = {"date_histogram": {"field": ts.name, spec[0]: spec[1]}}
        sub = None
        if r.random() < 0.35:
            g = r.choice([F["host.name"], F["user.name"], F["process.name"]])
            sub = g
            agg["aggs"] = {"u": {"cardinality": {"field": g.name}}}
        step = spec[2]
        col = f'"{ts.col}"'
        if sub:
            sql = (f"SELECT {col} - {col} % {step} AS k, count(*), count(DISTINCT \"{sub.col}\") FROM f GROUP BY k ORDER BY k")
        else:
            sql = f"SELECT {col} - {col} % {step} AS k, count(*) FROM f GROUP BY k ORDER BY k"
        rows = {t[0]: t[1:] for t in q(sql)}
        want = []
        if rows:
            for k in range(min(rows), max(rows) + step, step):
                t = rows.get(k, (0, 0))
                want.append([k, iso(k), t[0]] + ([t[1]] if sub else []))
        try:
            res = search({"h": agg})["h"]
        except Exception as e:  # noqa: BLE001
            return Outcome("agg:date_histogram", {"query": query, "aggs": {"h": agg}}, vigil_error(e), want, pre + sql, False)
        got = [[b.get("key"), b.get("key_as_string"), b.get("doc_count")] + ([b.get("u", {}).get("value")] if sub else [])
               for b in res.get("buckets", [])]
        ok = len(got) == len(want) and all(
            g[:3] == w[:3] and (not sub or card_ok(g[3], w[3])) for g, w in zip(got, want))
        return Outcome("agg:date_histogram", {"query": query, "aggs": {"h": agg}}, got, want, pre + sql, ok)

    if kind == "histogram":
        f = r.choice(ag.numbers)
        lo, hi = min(f.distinct), max(f.distinct)
        choices = [i for i in (1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000) if (hi - lo) / i <= 1500]
        step = r.choice(choices)
        agg = {"histogram": {"field": f.name, "interval": step}}
        min1 = r.random() < 0.2
        if min1:
            agg["histogram"]["min_doc_count"] = 1
        col = f'"{f.col}"'
        sql = f"SELECT floor({col} / {step}) * {step} AS k, count(*) FROM f WHERE {col} IS NOT NULL GROUP BY k ORDER BY k"
        rows = {int(t[0]): t[1] for t in q(sql)}
        want = []
        if rows:
            keys = sorted(rows) if min1 else range(min(rows), max(rows) + step, step)
            want = [[float(k), rows.get(k, 0)] for k in keys]
        try:
            res = search({"h": agg})["h"]
        except Exception as e:  # noqa: BLE001
            return Outcome("agg:histogram", {"query": query, "aggs": {"h": agg}}, vigil_error(e), want, pre + sql, False)
        got = [[b.get("key"), b.get("doc_count")] for b in res.get("buckets", [])]
        ok = len(got) == len(want) and all(isinstance(g[0], (int, float)) and float(g[0]) == w[0] and g[1] == w[1] for g, w in zip(got, want))
        return Outcome("agg:histogram", {"query": query, "aggs": {"h": agg}}, got, want, pre + sql, ok)

    if kind == "range":
        f = r.choice(ag.numbers)
        vals = sorted(r.sample(f.distinct, min(3, len(f.distinct))))
        ranges = [{"to": vals[0]}]
        for a, b in zip(vals, vals[1:]):
            ranges.append({"from": a, "to": b})
        ranges.append({"from": vals[-1]})
        if r.random() < 0.4:  # overlapping ranges count a document in each
            ranges.append({"from": vals[0], "to": vals[-1] + 1})
        agg = {"range": {"field": f.name, "ranges": ranges}}
        col = f'"{f.col}"'
        sels = []
        for rg in ranges:
            c = [f"{col} >= {rg['from']}"] if "from" in rg else []
            c += [f"{col} < {rg['to']}"] if "to" in rg else []
            sels.append(f"count(*) FILTER (WHERE {' AND '.join(c)})")
        sql = f"SELECT {', '.join(sels)} FROM f"
        counts = q(sql)[0]

        def key(rg):
            return (java_double(rg["from"]) if "from" in rg else "*") + "-" + (java_double(rg["to"]) if "to" in rg else "*")

        # Elasticsearch sorts the ranges (by from, then to) and answers in that order.
        want = sorted(([key(rg), float(rg["from"]) if "from" in rg else None, float(rg["to"]) if "to" in rg else None, n]
                       for rg, n in zip(ranges, counts)),
                      key=lambda w: (-math.inf if w[1] is None else w[1], math.inf if w[2] is None else w[2]))
        try:
            res = search({"r": agg})["r"]
        except Exception as e:  # noqa: BLE001
            return Outcome("agg:range", {"query": query, "aggs": {"r": agg}}, vigil_error(e), want, pre + sql, False)
        got = [[b.get("key"), b.get("from"), b.get("to"), b.get("doc_count")] for b in res.get("buckets", [])]
        ok = got == want
        return Outcome("agg:range", {"query": query, "aggs": {"r": agg}}, got, want, pre + sql, ok)

    if kind == "metrics":
        f = r.choice(ag.numbers)
        # value_count of a keyword array counts each document's distinct values (process.args repeats some)
        vc = r.choice(ag.multi) if ag.multi and r.random() < 0.3 else r.choice(list(F.values()))
        ts = F["@timestamp"]
        aggs = {"vc": {"value_count": {"field": vc.name}}, "mn": {"min": {"field": f.name}}, "mx": {"max": {"field": f.name}},
                "sm": {"sum": {"field": f.name}}, "av": {"avg": {"field": f.name}},
                "tmin": {"min": {"field": ts.name}}, "tmax": {"max": {"field": ts.name}}}
        col, tcol = f'"{f.col}"', f'"{ts.col}"'
        vcount = f'sum(len(list_distinct("{vc.col}")))' if vc.multi else f'count("{vc.col}")'
        sql = (f"SELECT coalesce({vcount}, 0), min({col}), max({col}), coalesce(sum({col}), 0), avg({col}), "
               f"min({tcol}), max({tcol}) FROM f")
        row = q(sql)[0]
        want = {"vc": int(row[0]), "mn": row[1], "mx": row[2], "sm": float(row[3]), "av": row[4],
                "tmin": row[5], "tmax": row[6],
                "tmin_s": iso(row[5]) if row[5] is not None else None, "tmax_s": iso(row[6]) if row[6] is not None else None}
        try:
            res = search(aggs)
        except Exception as e:  # noqa: BLE001
            return Outcome("agg:metrics", {"query": query, "aggs": aggs}, vigil_error(e), want, pre + sql, False)
        got = {k: res.get(k, {}).get("value") for k in aggs}
        got["tmin_s"] = res.get("tmin", {}).get("value_as_string")
        got["tmax_s"] = res.get("tmax", {}).get("value_as_string")
        ok = (got["vc"] == want["vc"] and all(close(got[k], want[k]) for k in ("mn", "mx", "sm", "av", "tmin", "tmax"))
              and got["tmin_s"] == want["tmin_s"] and got["tmax_s"] == want["tmax_s"])
        return Outcome("agg:metrics", {"query": query, "aggs": aggs}, got, want, pre + sql, ok)
    raise AssertionError(kind)


def test_differential_aggregations(world):
    if BASIC:
        pytest.skip("VIGIL_DIFF_BASIC: aggregations are not part of the basic subset")
    rng = random.Random(SEED + 1)
    gen = Gen(world.fields, rng, False)
    ag = AggGen(world.fields, rng, gen)
    kinds = ["terms", "terms+sub", "terms+sub", "date_histogram", "histogram", "range", "metrics"]
    outcomes = []
    t0 = time.monotonic()
    for i in range(N_AGGS):
        kind = kinds[i % len(kinds)]
        outcomes.append(run_agg(world, kind, ag.filt(), rng, ag))
    report("aggregations", outcomes, time.monotonic() - t0)
