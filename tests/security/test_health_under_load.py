"""/health stays fast while every worker runs an attack, in both isolation modes, for each
class of attack on the server itself: endless loops, slow regular expressions, memory and
output floods (process mode: thread mode has no memory cap and is one trust domain), results
and displayed values far over the reply cap, programs built to compile slowly, JSON bombs in
the request, sorting millions of items, and long integer division and gcd near the integer
cap."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import pytest

pytestmark = pytest.mark.timeout(180)

# The bound, p99 < 100 ms, holds in process isolation: 28-65 ms measured in six
# runs at load average 4-6 on the 2-core machine (132-181 ms before the fixes). Thread
# isolation shares one GIL between the event loop and every program, and each /health through
# the test client needs the GIL many times over: even two plain endless loops, no attack,
# give a p99 of 70-210 ms there under that load (bench/health_under_attack.py, row `spin`),
# and the attacks measured 143-276 ms in six runs (175-382 ms before, single stalls up to
# 2.8 s). Thread isolation is one trust domain; its bound is that spin baseline with room
# for a loaded CI machine. The measured figure is printed (-s).
P99_BOUND = {"process": 0.1, "thread": 0.4}
DEEP = "[" * 5000 + "]" * 5000


def _chain_bomb() -> str:
    """A chain of 10,000 operands (the least spec §7.2 allows): Python's compile() of it is
    one C call of 0.4-0.8 s, in the worker process in process isolation. (In thread
    isolation it holds the server's GIL that long: not run there, see docs/internals.md.)"""
    return f"// {uuid.uuid4().hex}\ny = 1; x = " + " + ".join(["y"] * 10000) + ";"


def _compile_bomb() -> str:
    return f"// {uuid.uuid4().hex}\n" + "".join(f"a{i} = [{i}, {{k: {i}}}];"
                                                for i in range(4000))


# (kind, what to send): "code" -> /execute, "cell" -> a session cell, "raw" -> a raw body
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
    ("code", "result = sorted([3, 1, 2] * 1000000).length;"),
    # long integer division near the integer cap (one Python call would hold the GIL 0.5 s)
    ("code", "import math; a = math.pow(3, 630000); b = math.pow(7, 178000); "
             "while (true) { q = a // b; r = math.gcd(a, b + 1); }"),
]
# process isolation only: no memory cap in thread mode; compile() of a chain holds the GIL
PROCESS_ONLY = [("code", 'a = []; while (true) { a.append("x" * 100000); }'),
                ("code", _chain_bomb)]


# Thread isolation: every program shares the server's GIL, so a single C call of a program
# stalls /health for as long as it runs. Long integer work, sorting and searching big arrays
# run in short steps (runtime/slices.py); contexts are checked and results converted off the
# event loop; process workers keep values far over the reply cap.
@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_health_p99_while_every_worker_runs_an_attack(log_records, canary, isolation):
    from fastapi.testclient import TestClient

    from mlpy_server.app import create_app
    from mlpy_server.settings import Settings
    workers = 2
    attacks = COMMON + (PROCESS_ONLY if isolation == "process" else [])
    settings = Settings(isolation=isolation, max_workers=workers, rate_limit_per_minute=0,
                        max_concurrent_per_client=64)   # the attackers play many clients
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["executor"]["isolation"] == isolation
        stop = threading.Event()
        errors: list = []

        def attack(n: int) -> None:
            sid = client.post("/sessions").json()["id"]
            i = n
            while not stop.is_set():
                kind, what = attacks[i % len(attacks)]
                i += 1
                text = what() if callable(what) else what
                if kind == "raw":
                    response = client.post("/execute", content=text,
                                           headers={"content-type": "application/json"})
                elif kind == "cell":
                    response = client.post(f"/sessions/{sid}/execute",
                                           json={"code": text, "timeout": 2.0})
                else:
                    response = client.post("/execute", json={"code": text, "timeout": 2.0})
                if response.status_code >= 500 and response.status_code != 503:
                    errors.append(f"{response.status_code} for {text[:60]}")
                if len(response.content) > settings.max_result_bytes + 64 * 1024:
                    errors.append(f"a {len(response.content)}-byte reply for {text[:60]}")
                if canary in response.text:
                    errors.append("canary leaked")
                if response.status_code == 410:        # a session lost to a memory attack
                    sid = client.post("/sessions").json()["id"]

        threads = [threading.Thread(target=attack, args=(n,), daemon=True)
                   for n in range(workers)]
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
        assert p99 < P99_BOUND[isolation]
        after = client.post("/execute", json={"code": "result = 1 + 1;", "timeout": 5})
        assert after.json()["value"] == 2
