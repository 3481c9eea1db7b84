"""What durable sessions cost: cell time per session store, and restore time, in one run.

Starts a real server (process isolation, one executor worker) per store — `memory` (the
baseline: nothing written), `sqlite` (the default) and, when Debian's `redis-server` is
installed, `redis` — and in each runs a session holding 100 small variables, timing `cells`
small cells that change one of them (so every cell writes a checkpoint).  Then restarts the
sqlite server on the same file and times each session's first cell there (a restore: a new
worker process re-created from the checkpoint) against its second.

    python bench/sessions.py [--cells 300] [--sessions 10]

Prints p50/p90 per store and the overhead over `memory`, and the restore figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SETUP = "\n".join(f"v{i} = {i};" for i in range(90)) + "\n" + "\n".join(
    f'w{i} = ["item", {i}, {{k: {i}}}];' for i in range(10)) + "\nn = 0;"
CELL = "n = n + 1;"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(store: str, data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
    env.update(MLPY_SESSION_STORE=store, MLPY_DATA_DIR=str(data), MLPY_MAX_WORKERS="1",
               MLPY_LOG_LEVEL="warning", MLPY_RATE_LIMIT_PER_MINUTE="0",
               MLPY_MAX_SESSIONS_PER_KEY="1000", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "mlpy_server", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server for {store} did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def timed_cells(client: httpx.Client, sid: str, cells: int) -> list[float]:
    times = []
    for _ in range(cells):
        started = time.perf_counter()
        reply = client.post(f"/sessions/{sid}/execute", json={"code": CELL})
        times.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 200 and reply.json()["success"], reply.text
    return times


def redis_server() -> tuple[subprocess.Popen, str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="mlpy-bench-sessions-"))
    redis = redis_server()
    stores = ["memory", "sqlite:///" + str(data / "sessions.db")]
    if redis:
        stores.append(redis[1])
    rows = []
    try:
        for store in stores:
            proc, url = start(store, data)
            try:
                with httpx.Client(base_url=url, timeout=60) as client:
                    sid = client.post("/sessions").json()["id"]
                    assert client.post(f"/sessions/{sid}/execute",
                                       json={"code": SETUP}).json()["success"]
                    timed_cells(client, sid, 30)                     # warm up
                    times = timed_cells(client, sid, args.cells)
            finally:
                stop(proc)
            rows.append((store.split(":")[0], statistics.median(times),
                         statistics.quantiles(times, n=10)[-1]))

        # restore: sessions made on one sqlite server, first cells on its successor
        sqlite = stores[1]
        proc, url = start(sqlite, data)
        with httpx.Client(base_url=url, timeout=60) as client:
            sids = [client.post("/sessions").json()["id"] for _ in range(args.sessions)]
            for sid in sids:
                client.post(f"/sessions/{sid}/execute", json={"code": SETUP})
        stop(proc)
        proc, url = start(sqlite, data)
        first, second = [], []
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                for sid in sids:
                    first += timed_cells(client, sid, 1)
                    second += timed_cells(client, sid, 1)
                    reply = client.post(f"/sessions/{sid}/execute", json={"code": "v89"}).json()
                    assert reply["display_value"] == 89, reply
        finally:
            stop(proc)
    finally:
        if redis:
            redis[0].terminate()
        shutil.rmtree(data, ignore_errors=True)

    base = rows[0][1]
    print(f"session cell `{CELL}` with 100 small variables, {args.cells} cells, "
          f"process isolation")
    print(f"{'store':<8} {'p50 ms':>8} {'p90 ms':>8} {'p50 overhead ms':>16}")
    for name, p50, p90 in rows:
        print(f"{name:<8} {p50:8.2f} {p90:8.2f} {p50 - base:16.2f}")
    print(f"\nrestore after a restart (sqlite, {args.sessions} sessions): first cell p50 "
          f"{statistics.median(first):.1f} ms (new worker + checkpoint), next cell p50 "
          f"{statistics.median(second):.2f} ms")


if __name__ == "__main__":
    main()
