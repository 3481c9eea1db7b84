"""/health latency while the workers run one attack class at a time, per isolation mode.

Runs the attacks of tests/security/test_health_under_load.py one class at a time (two
workers, each running it back to back) against a started server, as that test does, and
prints /health's median and p99 per class. The `idle` row is no attack; `spin` (two endless
loops, not an attack on the server but plain CPU use) is the baseline that says how much of
a p99 is the machine's cores being busy rather than the server's event loop being blocked.

    python bench/health_under_attack.py [--seconds 5] [--isolation thread process] [--only N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "security")]

from test_health_under_load import COMMON, PROCESS_ONLY  # noqa: E402


def run_case(isolation: str, attack, seconds: float, tmp: Path) -> tuple[float, float, int]:
    import httpx

    from tests.server.conftest import module_server

    class Factory:        # module_server's tmp_path_factory: one folder per server
        def mktemp(self, name: str) -> Path:
            return Path(tempfile.mkdtemp(prefix=name, dir=tmp))

    server = module_server(Factory(), f"health-{isolation}", {
        "MLPY_ISOLATION": isolation, "MLPY_MAX_WORKERS": "2"})
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            sid = client.post("/sessions").json()["id"]
            while attack is not None and not stop.is_set():
                kind, what = attack
                text = what() if callable(what) else what
                if kind in ("raw", "notebook"):
                    client.post("/execute" if kind == "raw" else "/notebooks/execute",
                                content=text, headers={"content-type": "application/json"})
                elif kind == "cell":
                    if client.post(f"/sessions/{sid}/execute",
                                   json={"code": text, "timeout": 2.0}).status_code == 410:
                        sid = client.post("/sessions").json()["id"]
                else:
                    client.post("/execute", json={"code": text, "timeout": 2.0})

    try:
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        latencies = []
        with httpx.Client(base_url=server.url, timeout=60) as client:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                started = time.perf_counter()
                client.get("/health")
                latencies.append(time.perf_counter() - started)
                time.sleep(0.02)
        stop.set()
        for thread in threads:
            thread.join(15)
    finally:
        server.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99, len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--isolation", nargs="+", default=["thread", "process"])
    parser.add_argument("--only", type=int, nargs="*", help="indices of attack classes")
    args = parser.parse_args()
    cases = [("idle", None), ("spin", ("code", "while (true) { }"))]
    for i, attack in enumerate(COMMON + PROCESS_ONLY):
        if args.only is None or i in args.only:
            what = attack[1]
            label = (what() if callable(what) else what)[:48].replace("\n", " ")
            cases.append((f"{i}: {label}", attack))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="health-bench"))
    for isolation in args.isolation:
        for label, attack in cases:
            if attack in PROCESS_ONLY and isolation == "thread":
                continue
            median, p99, n = run_case(isolation, attack, args.seconds, tmp)
            print(f"{isolation:8s} {label:60s} median {median * 1000:6.1f} ms  "
                  f"p99 {p99 * 1000:6.1f} ms  (n={n}, load {os.getloadavg()[0]:.2f})",
                  flush=True)


if __name__ == "__main__":
    main()
