"""The lab under a classroom's load: 100 pages at once, each loading like a page does.

The server runs in its own process (as `zerodl lab` does), so that the clients'
threads here do not share its interpreter lock; every request opens a new
connection, the worst case for the listen queue. Run this file alone to see
the numbers: ``pytest -s tests/test_lab_load.py``.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from importlib import resources

import numpy as np
import pytest

CLIENTS = 100
# What a page asks for when it opens: the page, its style, every script module (lab.js imports
# the others), the lab's menus and a surface.
SCRIPTS = sorted(f.name for f in resources.files("zerodl.lab").joinpath("static").iterdir()
                 if f.name.endswith(".js"))
PAGE_LOAD = [("GET", "/", None), ("GET", "/static/lab.css", None),
             *[("GET", f"/static/{name}", None) for name in SCRIPTS],
             ("GET", "/api/info", None),
             ("POST", "/api/surface", {"function": "elongated", "n": 40, "arrows": 11})]
SERVE = ("import sys; from zerodl.lab.server import LabServer; "
         "s = LabServer(port=0, runs_root=sys.argv[1]); print(s.port, flush=True); s.serve_forever()")


@pytest.fixture
def lab_process(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(10)


def load(port: int, clients: int = CLIENTS, timeout: float = 30.0) -> dict:
    """``clients`` threads start together and each loads the page once (PAGE_LOAD, one
    connection per request); the latencies in seconds and the failures."""
    start = threading.Barrier(clients)
    latencies, failures = [], []
    lock = threading.Lock()

    def one_client():
        start.wait()
        for method, path, body in PAGE_LOAD:
            t = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                c.request(method, path, body=None if body is None else json.dumps(body),
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                c.close()
                ok = r.status == 200
                error = f"{path}: HTTP {r.status}"
            except OSError as e:
                ok, error = False, f"{path}: {type(e).__name__}: {e}"
            with lock:
                latencies.append(time.perf_counter() - t)
                if not ok:
                    failures.append(error)

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = np.array(latencies)
    return {"requests": len(lat), "failures": failures, "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)), "max": float(lat.max()),
            "seconds": time.perf_counter() - t0}


def test_a_classroom_of_100_pages_loads_at_once_without_failures(lab_process):
    result = load(lab_process)
    print(f"\n{CLIENTS} clients x {len(PAGE_LOAD)} requests: p50 {result['p50'] * 1e3:.0f} ms, "
          f"p99 {result['p99'] * 1e3:.0f} ms, max {result['max'] * 1e3:.0f} ms, "
          f"{len(result['failures'])} failures, {result['seconds']:.1f} s in all")
    assert result["requests"] == CLIENTS * len(PAGE_LOAD)
    assert result["failures"] == []
    # A full listen queue drops connections, which the client retries after 1 s, 3 s, ...:
    # a p99 under 1 s means no connection was dropped (here, measured: see the report).
    assert result["p99"] < 1.0
