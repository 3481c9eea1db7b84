"""Server throughput against what FastAPI itself can serve, measured side by side in one run.

Starts, on free loopback ports, a bare FastAPI endpoint with the same pydantic body and no ML
(bench/bare_app.py, the baseline), and the real server in thread and process isolation, with
and without an API key + rate limit configured. Each case is driven by wrk (Debian's `wrk`;
the built-in asyncio client when it is missing) at 16 connections, while a side client polls
`GET /health` to show whether the event loop stays responsive under the load. Cases alternate
over several rounds and the best round counts, because this VM's speed drifts by ±10%.

    python bench/server.py [--seconds 5] [--rounds 3] [--connections 16] [--server-workers 1 2]
                           [--compare-tree DIR]

`--compare-tree DIR` adds the thread and process rows of another checkout (e.g. `git worktree
add /tmp/before <commit>`), alternated with this one's in the same rounds: a before/after
comparison that the VM's drift does not skew.

Prints one table: req/s, p50, p99, the health probe's p99 and the ratio to the bare endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
TRIVIAL = "result = 2 + 2;"
LOOP_100 = ("sum = 0;\ni = 1;\nwhile (i <= 100) {\n    sum = sum + i;\n    i = i + 1;\n}\n"
            "result = sum;")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One server process under test (uvicorn, one or more processes)."""
    name: str
    app: str
    env: dict[str, str] = field(default_factory=dict)
    processes: int = 1
    root: Path = ROOT         # the checkout whose mlpy_server runs
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self, executor_workers: int) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
        # wrk's connections all come from one address: lift the per-client share, which
        # would otherwise answer most of them 429
        env.update({"MLPY_MAX_WORKERS": str(executor_workers), "MLPY_LOG_LEVEL": "warning",
                    "MLPY_MAX_CONCURRENT_PER_CLIENT": "100000",
                    "MLPY_RATE_LIMIT_PER_MINUTE": "0",
                    "PYTHONPATH": str(self.root)}, **self.env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "warning", "--no-access-log",
             "--workers", str(self.processes)], cwd=self.root, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name}: server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@dataclass
class Case:
    name: str
    server: Server
    code: str
    expect: int
    auth: bool = False


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    health_p99_ms: float = 0.0


# ------------------------------------------------------------------ load generators
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key ~= nil and key ~= "" then wrk.headers["X-API-Key"] = key end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %f %f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000.0, latency:percentile(99) / 1000.0))
end
"""


def run_wrk(port: int, body: bytes, key: str | None, seconds: float, connections: int,
            script: str) -> Figures:
    env = dict(os.environ, BENCH_BODY=body.decode(), BENCH_KEY=key or "")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "-s", script,
                          f"http://127.0.0.1:{port}/execute"], env=env, capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+)$", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m or not rps:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return Figures(rps=float(rps.group(1)), p50_ms=float(m.group(3)), p99_ms=float(m.group(4)),
                   errors=int(m.group(2)))


async def _client(port: int, request: bytes, until: float, latencies: list[float],
                  check: Callable[[bytes], bool]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next((int(x.split(":", 1)[1]) for x in lines
                           if x.lower().startswith("content-length:")), 0)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            errors += int(lines[0].split()[1]) != 200 or not check(body)
    finally:
        writer.close()
    return errors


def run_asyncio(port: int, body: bytes, key: str | None, seconds: float,
                connections: int, expect: int) -> Figures:
    """The fallback load generator (it shares the 2 cores with the server, so it reads low)."""
    head = (f"POST /execute HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
    if key:
        head += f"X-API-Key: {key}\r\n"
    request = (head + "\r\n").encode() + body

    async def drive() -> Figures:
        latencies: list[float] = []
        start = time.perf_counter()
        errors = sum(await asyncio.gather(*(
            _client(port, request, start + seconds, latencies,
                    lambda b: json.loads(b).get("value") == expect)
            for _ in range(connections))))
        elapsed = time.perf_counter() - start
        latencies.sort()
        n = len(latencies)
        return Figures(rps=n / elapsed, p50_ms=latencies[n // 2] * 1000,
                       p99_ms=latencies[min(n - 1, int(n * 0.99))] * 1000, errors=errors)

    return asyncio.run(drive())


class HealthProbe(threading.Thread):
    """Polls GET /health every 20 ms during a case: the event loop's responsiveness under load."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.latencies: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stopping.wait(0.02):
            start = time.perf_counter()
            try:
                conn.request("GET", "/health")
                conn.getresponse().read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                continue
            self.latencies.append(time.perf_counter() - start)
        conn.close()

    def p99_ms(self) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * 0.99))] * 1000 if data else float("nan")


def measure(case: Case, seconds: float, connections: int, script: str | None) -> Figures:
    body = json.dumps({"code": case.code}).encode()
    key = API_KEY if case.auth else None
    probe = HealthProbe(case.server.port)
    probe.start()
    try:
        if script is not None:
            figures = run_wrk(case.server.port, body, key, seconds, connections, script)
        else:
            figures = run_asyncio(case.server.port, body, key, seconds, connections, case.expect)
    finally:
        probe.stopping.set()
        probe.join()
    figures.health_p99_ms = probe.p99_ms()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds; best counts")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--executor-workers", type=int, default=4)
    parser.add_argument("--server-workers", type=int, nargs="*", default=[1, 2],
                        help="server process counts for the scaling rows (process isolation)")
    parser.add_argument("--compare-tree", type=Path, default=None,
                        help="another checkout whose thread and process rows alternate with "
                             "this one's")
    args = parser.parse_args()

    guarded = {"MLPY_API_KEYS": API_KEY, "MLPY_RATE_LIMIT_PER_MINUTE": "100000000"}
    bare = Server("bare FastAPI", "bench.bare_app:app")
    thread = Server("thread", "mlpy_server.app:app", {"MLPY_ISOLATION": "thread"})
    process = Server("process", "mlpy_server.app:app", {"MLPY_ISOLATION": "process"})
    thread_auth = Server("thread+auth", "mlpy_server.app:app",
                         {"MLPY_ISOLATION": "thread", **guarded})
    process_auth = Server("process+auth", "mlpy_server.app:app",
                          {"MLPY_ISOLATION": "process", **guarded})
    scaled = [Server(f"process x{n}", "mlpy_server.app:app", {"MLPY_ISOLATION": "process"}, n)
              for n in args.server_workers if n != 1]
    cases = [Case("bare FastAPI, pydantic body", bare, TRIVIAL, 4),
             Case("thread  result = 2 + 2;", thread, TRIVIAL, 4),
             Case("process result = 2 + 2;", process, TRIVIAL, 4),
             Case("thread  + API key + rate limit", thread_auth, TRIVIAL, 4, auth=True),
             Case("process + API key + rate limit", process_auth, TRIVIAL, 4, auth=True),
             Case("thread  100-iteration loop", thread, LOOP_100, 5050),
             Case("process 100-iteration loop", process, LOOP_100, 5050)]
    cases += [Case(f"{s.name} server processes", s, TRIVIAL, 4) for s in scaled]
    compared: list[Server] = []
    if args.compare_tree is not None:
        tree = args.compare_tree.resolve()
        compared = [Server(f"{mode} ({tree.name})", "mlpy_server.app:app",
                           {"MLPY_ISOLATION": mode}, root=tree) for mode in ("thread", "process")]
        cases += [Case(f"{s.name[:32]:32} 2 + 2", s, TRIVIAL, 4) for s in compared]

    script_dir = tempfile.mkdtemp(prefix="mlpy-bench-")
    script: str | None = None
    if shutil.which("wrk"):
        script = os.path.join(script_dir, "execute.lua")
        Path(script).write_text(WRK_SCRIPT)
    servers = [bare, thread, process, thread_auth, process_auth, *scaled, *compared]
    best: dict[str, Figures] = {}
    try:
        for server in servers:
            server.start(args.executor_workers)
        for case in cases:   # warm-up: compile caches, worker spares, connections
            measure(case, 1.0, args.connections, script)
        for _ in range(args.rounds):
            for case in cases:
                figures = measure(case, args.seconds, args.connections, script)
                if case.name not in best or figures.rps > best[case.name].rps:
                    best[case.name] = figures
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(script_dir, ignore_errors=True)

    print(f"{args.connections} connections, {args.seconds:g} s per case, best of {args.rounds} "
          f"alternated rounds, load by {'wrk' if script else 'the asyncio client'}, "
          f"{args.executor_workers} executor workers, {os.cpu_count()} CPUs")
    print(f"{'case':40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} "
          f"{'health p99':>10} {'errors':>6} {'vs bare':>8}")
    base = best[cases[0].name].rps
    for case in cases:
        f = best[case.name]
        print(f"{case.name:40} {f.rps:8.0f} {f.p50_ms:7.2f} {f.p99_ms:7.2f} "
              f"{f.p99_ms / f.p50_ms if f.p50_ms else 0:7.1f} {f.health_p99_ms:8.1f}ms "
              f"{f.errors:6d} {f.rps / base:7.2f}x")


if __name__ == "__main__":
    main()
