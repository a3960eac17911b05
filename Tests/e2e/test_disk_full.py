"""A full disk: writes refused with the flood-stage block, nothing acknowledged lost, recovery
when space returns.

The data directory is a 96 MB tmpfs the test mounts (as root, as CI runs). A filler index takes
space, writers send `_bulk` requests until Vigil answers 429 `cluster_block_exception`; reads
keep working meanwhile. Then the filler index is deleted and writes go through again without a
restart, and every acknowledged document is there, also after a kill -9 and restart.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from vigil_e2e import VigilServer

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def tmpfs(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], capture_output=True, text=True)
    assert r.returncode == 0, f"mounting a tmpfs needs root: {r.stderr}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def bulk_body(index: str, ids: list[str], pad: int) -> bytes:
    lines = []
    for doc_id in ids:
        lines.append(json.dumps({"index": {"_index": index, "_id": doc_id}}))
        lines.append(json.dumps({"v": doc_id, "pad": "x" * pad}))
    return ("\n".join(lines) + "\n").encode()


def test_full_disk_blocks_writes_and_recovers(tmp_path, tmpfs):
    srv = VigilServer(data_dir=tmpfs / "data", log_path=tmp_path / "vigil.log")
    srv.start()
    acked: list[str] = []
    blocked = None
    filler_left = True
    for batch in range(2000):
        index = "filler" if batch % 2 == 0 else "kept"
        ids = [f"{index}-{batch}-{i}" for i in range(50)]
        r = srv.request("POST", "/_bulk", bulk_body(index, ids, 4000), headers=NDJSON, timeout=60)
        if r.status == 200:
            items = r.json()["items"]
            for item in items:
                status = item["index"]["status"]
                if status in (200, 201):
                    if index == "kept":
                        acked.append(item["index"]["_id"])
                else:
                    blocked = item["index"]
            if blocked:
                break
        else:
            blocked = r.json()
            break
    assert blocked is not None, "the disk never filled"
    assert blocked["status"] == 429 and blocked["error"]["type"] == "cluster_block_exception", blocked
    assert "flood-stage" in blocked["error"]["reason"]
    srv.assert_healthy()
    # Reads go on while writes are blocked.
    srv.request("POST", "/kept/_refresh")
    assert srv.get("/kept/_count").status == 200
    for doc_id in acked[-5:]:
        assert srv.get(f"/kept/_doc/{doc_id}").status == 200
    # Space returns: writes go through again without a restart.
    assert srv.request("DELETE", "/filler").status == 200
    deadline = time.monotonic() + 30
    while True:
        r = srv.request("POST", "/_bulk?refresh=true", bulk_body("kept", ["after-space"], 10), headers=NDJSON)
        item = r.json()["items"][0]["index"] if r.status == 200 else None
        if item and item["status"] in (200, 201):
            acked.append("after-space")
            break
        assert time.monotonic() < deadline, f"writes did not resume: {r!r}"
        time.sleep(1)
    srv.request("POST", "/kept/_refresh")
    missing = [i for i in acked if srv.get(f"/kept/_doc/{i}").status != 200]
    assert not missing, f"{len(missing)} acknowledged documents missing, e.g. {missing[:3]}"
    srv.kill()
    srv.start()
    srv.request("POST", "/kept/_refresh")
    assert srv.get("/kept/_count").json()["count"] >= len(acked)
    missing = [i for i in acked if srv.get(f"/kept/_doc/{i}").status != 200]
    assert not missing, f"after restart: {len(missing)} acknowledged documents missing"
    srv.stop()
