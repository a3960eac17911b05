"""`vigil rules run`: detection rules over event files, with no server. Elastic's prebuilt
Windows rules over the EQL tutorial's T1117 (regsvr32 / scrobj.dll) events, and hand-written
rules of every type Vigil runs over small event sets whose expected alerts follow from
Kibana's documented semantics."""

from __future__ import annotations

import json
import subprocess

from vigil_e2e import DATA_DIR, T1117, vigil_bin

RULES = DATA_DIR / "detection-rules"


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(vigil_bin()), "rules", "run", *args], capture_output=True, text=True, timeout=timeout)


def alerts(p: subprocess.CompletedProcess) -> list[dict]:
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def toml_rule(rule_id: str, name: str, rule_type: str, query: str, extra: str = "", language: str = "kuery") -> str:
    return f"""[metadata]
maturity = "production"

[rule]
author = ["Vigil tests"]
description = "{name}"
from = "now-9m"
index = ["logs-*"]
language = "{language}"
name = "{name}"
risk_score = 47
rule_id = "{rule_id}"
severity = "medium"
type = "{rule_type}"
query = '''
{query}
'''
{extra}
"""


def event(t: str, **fields) -> dict:
    doc: dict = {"@timestamp": f"2026-11-22T10:{t}Z"}
    for path, value in fields.items():
        node = doc
        parts = path.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return doc


def test_prebuilt_windows_rules_run_over_t1117():
    # Every Windows rule loads and runs (ES|QL ones included; the only prebuilt rules Vigil
    # does not run are the 7 cross-platform ones calling COMPLETION, an LLM). (The tutorial's
    # 2019 events predate `host.os.type` and `event.type: start`, which the current rules
    # require, so they are not expected to fire here; attack scenarios come from `vigil gen`.)
    p = run("--rules", str(RULES / "windows"), str(T1117), "--count")
    assert p.returncode == 0, p.stderr
    assert "487 rules (487 run, 0 not run), 150 events" in p.stderr, p.stderr
    assert "vigil rules run: rule" not in p.stderr, p.stderr


def test_rule_types_and_alert_shape(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "query.toml").write_text(toml_rule("q-1", "Shell by root", "query", 'process.name : "bash" and user.name : root'))
    (rules / "threshold.toml").write_text(toml_rule(
        "t-1", "Many failed logins", "threshold", "event.category : authentication and event.outcome : failure",
        '[rule.threshold]\nfield = ["source.ip"]\nvalue = 3\n'))
    (rules / "new_terms.toml").write_text(toml_rule(
        "n-1", "New user on host", "new_terms", "event.category : authentication and event.outcome : success",
        '[rule.new_terms]\nfield = "new_terms_fields"\nvalue = ["user.name"]\n'
        '[[rule.new_terms.history_window_start]]\nfield = "history_window_start"\nvalue = "now-7d"\n'))
    (rules / "sequence.toml").write_text(toml_rule(
        "s-1", "Download then run", "eql",
        'sequence by host.name with maxspan=1m\n  [file where event.type == "creation" and file.extension == "sh"]\n'
        '  [process where process.name == "bash"]', language="eql"))
    events = [
        event("00:00", event__category=["process"], process__name="bash", user__name="root", host__name="web-1"),
        event("00:01", event__category=["process"], process__name="bash", user__name="alice", host__name="web-1"),
        event("00:02", event__category=["authentication"], event__outcome="success", user__name="alice", source__ip="10.0.0.5"),
        *[event(f"01:0{i}", event__category=["authentication"], event__outcome="failure", user__name="bob", source__ip="10.0.0.9")
          for i in range(4)],
        event("01:30", event__category=["authentication"], event__outcome="failure", user__name="bob", source__ip="10.0.0.7"),
        event("02:00", event__category=["authentication"], event__outcome="success", user__name="alice", source__ip="10.0.0.5"),
        event("03:00", event__category=["authentication"], event__outcome="success", user__name="mallory", source__ip="10.0.0.6"),
        event("04:00", event__category=["file"], event__type=["creation"], file__extension="sh", host__name="db-1"),
        event("04:20", event__category=["process"], process__name="bash", user__name="postgres", host__name="db-1"),
    ]
    data = tmp_path / "events.ndjson"
    data.write_text("".join(json.dumps(e) + "\n" for e in events))
    p = run("--rules", str(rules), str(data))
    found = alerts(p)
    by_rule: dict[str, list[dict]] = {}
    for a in found:
        by_rule.setdefault(a["kibana.alert.rule.rule_id"], []).append(a)
    assert sorted(by_rule) == ["n-1", "q-1", "s-1", "t-1"], p.stderr

    (q,) = by_rule["q-1"]
    assert q["user"]["name"] == "root" and q["process"]["name"] == "bash"
    assert q["event.kind"] == "signal" and q["kibana.alert.workflow_status"] == "open"
    assert q["kibana.alert.original_time"] == "2026-11-22T10:00:00.000Z"
    assert q["kibana.alert.rule.type"] == "query" and q["kibana.alert.severity"] == "medium"
    assert q["kibana.alert.ancestors"][0]["type"] == "event" and q["kibana.alert.ancestors"][0]["depth"] == 0

    (t,) = by_rule["t-1"]  # 10.0.0.9 failed four times; 10.0.0.7 once
    assert t["kibana.alert.threshold_result"]["count"] == 4
    assert t["kibana.alert.threshold_result"]["terms"] == [{"field": "source.ip", "value": "10.0.0.9"}]
    assert t["source.ip"] == "10.0.0.9"

    # alice's first success and mallory's are new; alice's second is within the 7-day history.
    assert sorted(a["kibana.alert.new_terms"][0] for a in by_rule["n-1"]) == ["alice", "mallory"]

    seq = by_rule["s-1"]
    shells = [a for a in seq if "kibana.alert.building_block_type" not in a]
    blocks = [a for a in seq if a.get("kibana.alert.building_block_type") == "default"]
    assert len(shells) == 1 and len(blocks) == 2
    assert {b["kibana.alert.group.id"] for b in blocks} == {shells[0]["kibana.alert.group.id"]}
    assert sorted(b["kibana.alert.group.index"] for b in blocks) == [0, 1]
    assert shells[0]["host"]["name"] == "db-1"  # the fields every event of the sequence shares
    assert len(shells[0]["kibana.alert.ancestors"]) == 2

    # Alert ids are deterministic: the same run gives the same alerts.
    again = alerts(run("--rules", str(rules), str(data)))
    assert sorted(a["kibana.alert.uuid"] for a in again) == sorted(a["kibana.alert.uuid"] for a in found)
    assert len({a["kibana.alert.uuid"] for a in found}) == len(found)


def test_bad_rule_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[rule]\nname = "unterminated\n')
    p = run("--rules", str(bad), str(T1117))
    assert p.returncode == 2
    assert "bad.toml" in p.stderr and "TOML" in p.stderr
