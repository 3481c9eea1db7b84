"""/health stays fast while every worker runs an attack, in both isolation modes, for each
class of attack on the server itself: endless loops, slow regular expressions, memory and
output floods (process mode: thread mode has no memory cap and is one trust domain), results
and displayed values far over the reply cap, programs built to compile slowly, JSON bombs in
the request, sorting ten million items, long integer division and gcd near the integer
cap, oversized errors and literals, programs and notebook metadata nested too deep."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import pytest
from mltest import slow_to_compile
from attacks import CANARY_VAR

from mlpy_server.settings import Settings
from tests.server.conftest import module_server

pytestmark = pytest.mark.timeout(180)

# The bound, 100 ms, in both modes. Measured against a started server (uvicorn in its
# own process, so the test's own threads do not queue for the server's GIL) on the 2-core
# machine, load average 1-1.7: process isolation p99 8-9 ms; thread isolation, where the
# event loop and every program share one GIL, 24-32 ms (37-41 ms before the server spaced
# the collector's young passes: `Settings.gc_young_threshold`). Per class
# (bench/health_under_attack.py, thread) every attack 2-50 ms against 37-44 ms for two plain
# endless loops. On a slower machine of this class (session 9) thread isolation measured
# 88-110 ms before that change; the measured figure is printed (-s).
P99_BOUND = 0.1
WORKERS = 2
REPLY_CAP = Settings.model_fields["max_result_bytes"].default   # the server's, unset
DEEP = "[" * 5000 + "]" * 5000


def _chain_bomb() -> str:
    """A chain of 10,000 operands (the least spec §7.2 allows; it must run)."""
    return f"// {uuid.uuid4().hex}\ny = 1; x = " + " + ".join(["y"] * 10000) + ";"


def _compile_bomb() -> str:
    """About 98,000 characters: under the code cap (100,000), so it is compiled, not 422."""
    return f"// {uuid.uuid4().hex}\n" + "".join(f"a{i} = [{i}, {{k: {i}}}];"
                                                for i in range(3900))


# (kind, what to send): "code" -> /execute, "cell" -> a session cell, "raw" -> a raw body,
# "notebook" -> a raw body to /notebooks/execute
COMMON = [
    ("code", "while (true) { }"),
    ("code", 'import regex; result = regex.test("(a|aa)+$", "' + "a" * 60 + 'b");'),
    ("code", 'while (true) { print("x" * 1000); }'),
    ("code", "result = [0] * 10000000;"),                         # a result far over the cap
    ("cell", 's = "x" * 10000000;\ns'),                            # a displayed value, too
    ("cell", "a = []; b = a; for (i in range(3000)) { b.append([]); b = b[0]; }\na"),
    ("code", _compile_bomb),
    ("raw", '{"code": "result = 1;", "context": {"x": ' + DEEP + "}}"),
    ("raw", '{"code": "result = 1;", "context": {"x": [' + ",".join(["1"] * 150000) + "]}}"),
    # ten million items in scrambled blocks (one C sort of them: about 7 s)
    ("code", "x = 1; block = []; for (i in range(100000)) { "
             "x = (x * 1103515245 + 12345) % 2147483648; block.append(x); } "
             "result = sorted(block * 100).length;"),
    # long integer division near the integer cap (one Python call would hold the GIL 0.5 s)
    ("code", "import math; a = math.pow(3, 630000); b = math.pow(7, 178000); "
             "while (true) { q = a // b; r = math.gcd(a, b + 1); }"),
    ("code", _chain_bomb),
    ("code", slow_to_compile),          # seconds of Python compile(): a worker, or a helper
    # oversized errors and literals, programs nested past what the compiler descends
    ("code", 'try { throw {message: "x" * 10000000}; } except (e) { throw e; }'),
    ("code", "result = " + "7" * 5000 + ";"),
    ("code", "result = " + "[" * 30000 + "]" * 30000 + ";"),
    # notebook metadata nested deep (validated off the event loop) and far too deep (422)
    ("notebook", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + "[" * 990
     + "]" * 990 + '}, "cells": [{"cell_type": "code", "source": "1 + 1", "metadata": {}}]}'),
    ("notebook", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + DEEP
     + '}, "cells": []}'),
]
# process isolation only: no memory cap in thread mode
PROCESS_ONLY = [("code", 'a = []; while (true) { a.append("x" * 100000); }')]


# Thread isolation: every program shares the server's GIL, so a single C call of a program
# stalls /health for as long as it runs. Long integer work, sorting and searching big arrays
# run in short steps (runtime/slices.py); contexts are checked and results converted off the
# event loop; process workers keep values far over the reply cap.
@pytest.fixture(params=["process", "thread"])
def attacked_server(request, tmp_path_factory, canary):
    """A started server (uvicorn in its own process: the attackers and the /health prober of
    this test do not share its GIL) with two workers."""
    server = module_server(tmp_path_factory, f"health-{request.param}", {
        "MLPY_ISOLATION": request.param, "MLPY_MAX_WORKERS": str(WORKERS), CANARY_VAR: canary})
    yield request.param, server
    server.stop()


def test_health_p99_while_every_worker_runs_an_attack(attacked_server, canary):
    isolation, server = attacked_server
    attacks = COMMON + (PROCESS_ONLY if isolation == "process" else [])
    with server.client() as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["executor"]["isolation"] == isolation
        stop = threading.Event()
        errors: list = []

        def attack(n: int) -> None:
            with server.client() as own:
                sid = own.post("/sessions").json()["id"]
                i = n
                while not stop.is_set():
                    kind, what = attacks[i % len(attacks)]
                    i += 1
                    text = what() if callable(what) else what
                    if kind in ("raw", "notebook"):
                        response = own.post("/execute" if kind == "raw" else
                                            "/notebooks/execute", content=text,
                                            headers={"content-type": "application/json"})
                    elif kind == "cell":
                        response = own.post(f"/sessions/{sid}/execute",
                                            json={"code": text, "timeout": 2.0})
                    else:
                        response = own.post("/execute", json={"code": text, "timeout": 2.0})
                    if response.status_code == 422 and kind == "code":
                        errors.append(f"refused, not run: {text[:60]}")
                    if response.status_code >= 500 and response.status_code != 503:
                        errors.append(f"{response.status_code} for {text[:60]}")
                    if len(response.content) > REPLY_CAP + 64 * 1024:
                        errors.append(f"a {len(response.content)}-byte reply for {text[:60]}")
                    if canary in response.text:
                        errors.append("canary leaked")
                    if response.status_code == 410:    # a session lost to a memory attack
                        sid = own.post("/sessions").json()["id"]

        threads = [threading.Thread(target=attack, args=(n,), daemon=True)
                   for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        latencies = []
        deadline = time.monotonic() + 8.0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = client.get("/health")
            latencies.append(time.perf_counter() - started)
            assert response.status_code in (200, 503)
            time.sleep(0.02)
        stop.set()
        for thread in threads:
            thread.join(15)
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"\n/health under load ({isolation}): n={len(latencies)} median="
              f"{statistics.median(latencies) * 1000:.1f} ms p99={p99 * 1000:.1f} ms "
              f"max={latencies[-1] * 1000:.1f} ms")
        assert not errors, errors
        assert p99 < P99_BOUND
        after = client.post("/execute", json={"code": "result = 1 + 1;", "timeout": 5})
        assert after.json()["value"] == 2
    assert "Traceback" not in server.log()
