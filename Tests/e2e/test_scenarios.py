"""Attack chains of `vigil gen --scenarios` caught by Elastic's prebuilt rules, unchanged:
offline (`vigil rules run`) and in the server (`vigil rules import --enable`, events through
_bulk into Elastic Defend's data streams, alerts in .alerts-security.alerts-default). The
expected rules are the ones that fire on each chain; none of them may fire on the benign
noise around it."""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from vigil_e2e import DATA_DIR, ndjson, vigil_bin

RULES = DATA_DIR / "detection-rules"
RULE_DIRS = [str(RULES / d) for d in ("linux", "windows", "cross-platform")]

# Which prebuilt rules catch which chain (rule ids of ../shared/data/detection-rules).
EXPECTED = {
    "web-dmz-07": {  # linux-webshell-revshell
        "fb76c80b-3eb2-4c56-9ed1-e4c529425d0f", "6148b9f5-5b12-4704-9ef7-f4b4c5dd9bb5", "3ebdc01e-7788-4845-8e7a-c8a671ad46ea",
        "259be2d8-3b1a-4c2c-a0eb-0c8e77f35e39", "a1a0375f-22c2-48c0-81a4-7c2d11cc6856", "48b3d2e3-f4e8-41e6-95e6-9b2091228db3"},
    "WS-FIN-0333": {  # windows-lnk-powershell
        "83bf249e-4348-47ba-9741-1202a09556ad", "33f306e8-417c-411b-965c-c2812d6d3f4d", "e516bf56-d51b-43e8-91ec-9e276331f433",
        "2c17e5d7-08b9-43b2-b58a-0270d65ac85b", "c8cccb06-faf2-4cd5-886e-2c9636cfcb87", "871ea072-1b71-4def-b016-6278b505138d",
        "97fc44d3-8dae-4019-ae83-298c3015600f", "a7e7bfa3-088e-4f13-b29e-3986e0e756b8", "5d1d6907-0747-4d5d-9b24-e4a18853dc0a",
        "afcce5ad-65de-4ed2-8516-5e093d3ac99a"},
    "app-dmz-03": {  # linux-tomcat-privesc
        "6148b9f5-5b12-4704-9ef7-f4b4c5dd9bb5", "76e4d92b-61c1-4a95-ab61-5fd94179a1ee", "d76b02ef-fc95-4001-9297-01cb7412232f",
        "28d39238-0c01-420a-b77a-24e5a7378663", "5b06a27f-ad72-4499-91db-0c69667bffa5", "28eb3afe-131d-48b0-a8fc-9784f3d54f3c",
        "17b0a495-4d9f-414c-8ad0-92f018b8e001", "494ebba4-ecb7-4be4-8c6f-654c686549ad"},
    "SRV-IIS-07": {  # windows-iis-webshell
        "ef862985-3f13-4262-a686-5f357bbb9bc2", "0564fb9d-90b9-4234-a411-82a546dc1343", "c25e9c87-95e1-4368-bfab-9fd34cf867ec",
        "cff92c41-2225-4763-b4ce-6f71e5bda5e6", "2e0051cb-51f8-492f-9d90-174e16b5e96b", "ebfe1448-7fac-4d59-acea-181bd89b1f7f",
        "1aa9181a-492b-4c01-8b16-fa0735786b2b", "58aa72ca-d968-4f34-b9f7-bea51d75eb50"},
}
ALL_EXPECTED = set().union(*EXPECTED.values())


def gen(path, start: str) -> None:
    subprocess.run([str(vigil_bin()), "gen", "--events", "200000", "--hosts", "20", "--seed", "11", "--start", start,
                    "--scenarios", "all", "-o", str(path)], check=True, timeout=120)


def check(alerts: list[dict]) -> None:
    fired = defaultdict(set)  # host -> rule ids
    for a in alerts:
        host = (a.get("host") or {}).get("name")
        rule = a["kibana.alert.rule.rule_id"]
        if rule in ALL_EXPECTED:
            fired[host].add(rule)
    for host, rules in EXPECTED.items():
        assert rules <= fired[host], f"{host}: missing {sorted(rules - fired[host])}"
    noise = {h: r for h, r in fired.items() if h not in EXPECTED}
    assert not noise, f"scenario rules fired on the benign noise: {noise}"


def test_scenario_list():
    p = subprocess.run([str(vigil_bin()), "gen", "--list-scenarios"], capture_output=True, text=True, check=True)
    names = [line.split(" ")[0] for line in p.stdout.splitlines() if not line.startswith(" ")]
    assert names == ["linux-webshell-revshell", "windows-lnk-powershell", "linux-tomcat-privesc", "windows-iis-webshell"]
    p = subprocess.run([str(vigil_bin()), "gen", "--events", "10", "--scenarios", "nope"], capture_output=True, text=True)
    assert p.returncode != 0 and "unknown scenario nope" in p.stderr


def test_prebuilt_rules_catch_the_chains_offline(tmp_path):
    events = tmp_path / "events.ndjson"
    gen(events, "2026-01-01T00:00:00Z")
    p = subprocess.run([str(vigil_bin()), "rules", "run", *sum([["--rules", d] for d in RULE_DIRS], []), str(events)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    check([json.loads(line) for line in p.stdout.splitlines()])


def test_prebuilt_rules_catch_the_chains_in_the_server(fresh_server, tmp_path):
    srv = fresh_server
    events = tmp_path / "events.ndjson"
    # Recent events, inside the prebuilt rules' first window (from: now-9m or so).
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    gen(events, start.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    lines = []
    for line in events.read_text().splitlines():
        dataset = json.loads(line)["event"]["dataset"]
        lines += [{"create": {"_index": f"logs-{dataset}-default"}}, json.loads(line)]
        if len(lines) >= 20000:
            r = srv.request("POST", "/_bulk", ndjson(lines), headers={"Content-Type": "application/x-ndjson"}, timeout=300)
            assert r.status == 200 and not r.json()["errors"], r.text[:500]
            lines = []
    if lines:
        r = srv.request("POST", "/_bulk", ndjson(lines), headers={"Content-Type": "application/x-ndjson"}, timeout=300)
        assert r.status == 200 and not r.json()["errors"]
    srv.request("POST", "/_refresh")
    streams = {d["name"] for d in srv.get("/_data_stream").json()["data_streams"]}
    assert {"logs-endpoint.events.process-default", "logs-endpoint.events.registry-default"} <= streams
    p = subprocess.run([str(vigil_bin()), "rules", "import", *RULE_DIRS, "--enable", "--url", srv.url],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("imported 978 of 978 rules")
    # Every enabled rule runs at once; wait for the alerts of all chains.
    deadline = time.monotonic() + 300
    alerts: list[dict] = []
    while time.monotonic() < deadline:
        srv.request("POST", "/.alerts-security.alerts-default/_refresh")
        r = srv.request("POST", "/.alerts-security.alerts-default/_search",
                        {"size": 10000, "query": {"terms": {"kibana.alert.rule.rule_id": sorted(ALL_EXPECTED)}},
                         "_source": ["host.name", "kibana.alert.rule.rule_id"]})
        alerts = [h["_source"] for h in r.json()["hits"]["hits"]]
        fired = {(a.get("host", {}).get("name"), a["kibana.alert.rule.rule_id"]) for a in alerts}
        if all((h, rid) in fired for h, rules in EXPECTED.items() for rid in rules):
            break
        time.sleep(2)
    check(alerts)
