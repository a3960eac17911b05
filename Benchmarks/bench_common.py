"""Helpers shared by the benchmark scripts."""
import http.client
import json
import os
import socket
import subprocess
import time

BIN = os.environ.get("VIGIL_BIN", ".build-release/release/vigil")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_kb(pid):
    """The process's peak resident set (VmHWM), in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def generate(events, hosts, path):
    """`vigil gen` events, the same for every benchmark (seed 1, from 2026-11-22)."""
    subprocess.run([BIN, "gen", "--events", str(events), "--hosts", str(hosts), "--seed", "1",
                    "--start", "2026-11-22T00:00:00Z", "-o", path], check=True)


class Server:
    """`vigil serve` on a free loopback port over `data`, with one kept-alive connection."""

    def __init__(self, data, wait=120):
        self.port = free_port()
        self.proc = subprocess.Popen([BIN, "serve", "--port", str(self.port), "--data", data],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + wait
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                self.conn.request("GET", "/")
                self.conn.getresponse().read()
                return
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def request(self, method, path, body):
        self.conn.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read())

    def post(self, path, body):
        return self.request("POST", path, body)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def stop(self):
        rss = peak_rss_kb(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(timeout=60)
        return rss
