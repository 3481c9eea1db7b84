"""Throughput and latency of the HTTP server at 16 concurrent connections.

Starts `uvicorn server.app:app` on 127.0.0.1 (a free port) in a subprocess and drives it
with a small asyncio HTTP/1.1 keep-alive client (one request at a time per connection),
for `result = 2 + 2;` and the 100-iteration while loop of the integration example, plus
`GET /` (no ML execution) as the baseline measured in the same run.

    python bench/server.py [--seconds 5] [--connections 16] [--workers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TRIVIAL = "result = 2 + 2;"
LOOP_100 = ("sum = 0;\ni = 1;\nwhile (i <= 100) {\n    sum = sum + i;\n    i = i + 1;\n}\n"
            "result = sum;")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_request(port: int, method: str, path: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + (body or b"")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    return status, await reader.readexactly(length)


async def connection(port: int, request: bytes, until: float, latencies: list[float],
                     check) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            status, body = await read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200 or not check(body):
                errors += 1
    finally:
        writer.close()
    return errors


async def drive(port: int, request: bytes, seconds: float, connections: int, check) -> dict:
    # warm up (compile cache, connection setup)
    await drive_once(port, request, 0.5, connections, check)
    return await drive_once(port, request, seconds, connections, check)


async def drive_once(port, request, seconds, connections, check) -> dict:
    latencies: list[float] = []
    start = time.perf_counter()
    until = start + seconds
    errors = sum(await asyncio.gather(*(connection(port, request, until, latencies, check)
                                        for _ in range(connections))))
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {"requests": n, "errors": errors, "rps": n / elapsed,
            "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
            "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
            "mean_ms": statistics.fmean(latencies) * 1000 if n else 0.0}


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
    env.update({"MLPY_MAX_WORKERS": str(workers), "MLPY_LOG_LEVEL": "warning"})
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.app:app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--no-access-log"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="executor workers")
    args = parser.parse_args()
    port = free_port()
    proc = start_server(port, args.workers)
    try:
        cases = [
            ("GET / (baseline, no ML)", build_request(port, "GET", "/", None),
             lambda b: b.startswith(b"{")),
            ("POST /execute result = 2 + 2;", build_request(
                port, "POST", "/execute", json.dumps({"code": TRIVIAL}).encode()),
             lambda b: json.loads(b)["value"] == 4),
            ("POST /execute 100-iteration while", build_request(
                port, "POST", "/execute", json.dumps({"code": LOOP_100}).encode()),
             lambda b: json.loads(b)["value"] == 5050),
        ]
        import importlib.util

        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        print(f"{args.connections} connections, {args.seconds:g} s per case, "
              f"{args.workers} executor workers, uvicorn 1 process ({http}, {loop}), "
              f"{os.cpu_count()} CPUs")
        print(f"{'case':36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
              f" {'vs baseline':>12}")
        baseline = None
        for name, request, check in cases:
            r = asyncio.run(drive(port, request, args.seconds, args.connections, check))
            baseline = baseline or r["rps"]
            print(f"{name:36} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
                  f"{r['errors']:7d} {r['rps'] / baseline:11.2f}x")
    finally:
        proc.terminate()
        proc.wait(15)


if __name__ == "__main__":
    main()
