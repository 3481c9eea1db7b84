"""Fixtures for the server tests: a scripted fake executor for TestClient units, and real
uvicorn (and gunicorn) servers on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlpy.executor import AsyncMLResult  # the fake executor answers with the real result type

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- a scripted executor ---------------------------------------------------------------------
def _cycle():
    a = [1]
    a.append(a)
    return a


def _deep(n):
    v: list = []
    for _ in range(n - 1):
        v = [v]
    return v


VALUES = {
    "nan": lambda: float("nan"), "inf": lambda: float("inf"), "fn": lambda: len,
    "cycle": _cycle, "deep64": lambda: _deep(64), "deep65": lambda: _deep(65),
    "big": lambda: "x" * (1024 * 1024 + 10), "intkey": lambda: {1: "a"},
    "nested_fn": lambda: {"ok": [1, 2], "f": len},
}


class FakeExecutor:
    """Understands a few scripts: `result = 2 + 2;`, `result = x + y;` (context), `sleep N`,
    `print TEXT`, `fail`, and the names in VALUES."""

    isolation = "thread"

    def __init__(self, max_workers=4, strict_security=False):
        self.max_workers = max_workers
        self.strict_security = strict_security
        self.calls = 0
        self.closed = False

    async def execute(self, code, timeout=None, context=None, *, on_output=None,
                      interactive=False, _ns=None):
        self.calls += 1
        ns = _ns if _ns is not None else dict(context or {})
        code = code.strip()
        if code.startswith("sleep "):
            seconds = float(code.split()[1])
            if timeout is not None and seconds > timeout:
                await asyncio.sleep(timeout)
                return AsyncMLResult(False, error=f"Execution timeout after {timeout} seconds",
                                  error_type="TimeoutError", execution_time=timeout,
                                  stopped_by="timeout")
            await asyncio.sleep(seconds)
            return AsyncMLResult(True, ns.get("result"))
        if code.startswith("print "):
            if on_output:  # as the executor does: streamed while running, and in the result
                on_output("stdout", code[6:] + "\n")
            return AsyncMLResult(True, None, stdout=code[6:] + "\n")
        if code == "lose":       # what a process session says once its worker process died
            return AsyncMLResult(False, error="session lost: its worker process was killed "
                                 "(SIGKILL)", error_type="SessionLost", stopped_by="lost")
        if code == "explode":    # the executor itself failing (a bug below the server)
            raise RuntimeError("boom\n2026-01-01 00:00:00 INFO [x] forged: line")
        if code == "fail":
            return AsyncMLResult(False, error="name 'undefined_variable' is not defined",
                              error_type="NameError", line=1, column=10, stdout="before\n")
        if code in VALUES:
            value = VALUES[code]()
            return AsyncMLResult(True, value, display_value=value if interactive else None)
        if code == "result = 2 + 2;":
            ns["result"] = 4
            return AsyncMLResult(True, 4)
        if code == "result = 1 + 1;":
            return AsyncMLResult(True, 2)
        if code == "result = x + y;":
            return AsyncMLResult(True, ns["x"] + ns["y"])
        m = re.fullmatch(r"(\w+) = (-?\d+);", code)
        if m:
            ns[m.group(1)] = int(m.group(2))
            return AsyncMLResult(True, ns.get("result"))
        m = re.fullmatch(r"(\w+)(?: \+ (\d+))?", code)
        if m and interactive:
            if m.group(1) not in ns:
                return AsyncMLResult(False, error=f"name '{m.group(1)}' is not defined",
                                  error_type="NameError", line=1, column=1)
            value = ns[m.group(1)] + int(m.group(2) or 0)
            return AsyncMLResult(True, ns.get("result"), display_value=value)
        return AsyncMLResult(False, error="Parse error: unexpected token", error_type="SyntaxError",
                          line=1, column=1)

    def session(self, context=None, *, durable=False, restore=None):
        return FakeSession(self)

    def shutdown(self, wait=True, *, cancel_pending=False):
        self.closed = True


class FakeSession:
    def __init__(self, executor):
        self.executor = executor
        self.ns: dict[str, Any] = {}
        self.closed = False

    async def execute(self, code, timeout=None, on_output=None, interactive=True,
                      context=None):
        self.ns.update(context or {})
        return await self.executor.execute(code, timeout, interactive=interactive, _ns=self.ns,
                                           on_output=on_output)

    def variables(self):
        return [{"name": k, "type": "number", "repr": str(v)} for k, v in self.ns.items()]

    def reset(self):
        self.ns.clear()

    async def cancel(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture
def make_client():
    """make_client(**settings) -> a started TestClient over a FakeExecutor."""
    from fastapi.testclient import TestClient

    from mlpy_server.factory import create_app
    from mlpy_server.settings import Settings
    from mlpy_server.state import Executor

    stack = contextlib.ExitStack()

    def make(executor=None, clock=time.monotonic, **overrides):
        fake = executor or FakeExecutor(max_workers=overrides.get("max_workers", 4))
        # a fake writes no checkpoints: its sessions live in memory unless a test says so
        overrides.setdefault("session_store", "memory")
        assert isinstance(fake, Executor), "the fake follows the server's executor protocol"
        app = create_app(Settings(**overrides), executor_factory=lambda s: fake, clock=clock)
        client = stack.enter_context(TestClient(app, base_url="http://localhost"))
        client.fake = fake
        return client

    with stack:
        yield make


# -- real servers ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path):
        self.proc = proc
        self.url = url
        self.log_path = log_path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, deadline: float = 30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n"
                               f"{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start:\n" + log_path.read_text(errors="replace"))


@pytest.fixture
def start_server(tmp_path):
    """start_server(args=None, env=None, cwd=ROOT) -> RunningServer; default command:
    `python -m uvicorn mlpy_server.app:app` on a free 127.0.0.1 port."""
    started: list[RunningServer] = []

    def start(args: list[str] | None = None, env: dict | None = None, cwd: Path = ROOT,
              port: int | None = None) -> RunningServer:
        port = port or free_port()
        if args is None:
            args = [sys.executable, "-m", "uvicorn", "mlpy_server.app:app", "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning"]
        args = [a.replace("{port}", str(port)) for a in args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
        # each server its own session store unless the test shares one on purpose
        full_env.update({"MLPY_LOG_LEVEL": "warning",
                         "MLPY_DATA_DIR": str(tmp_path / f"data-{port}")})
        full_env.update(env or {})
        log_path = tmp_path / f"server-{port}.log"
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(args, cwd=cwd, env=full_env, stdout=out,
                                    stderr=subprocess.STDOUT)
        server = RunningServer(proc, f"http://127.0.0.1:{port}", log_path)
        started.append(server)
        wait_until_up(server.url, proc, log_path)
        return server

    yield start
    for server in started:
        server.stop()


def module_server(tmp_path_factory, name: str, settings: dict[str, str | None]):
    """A real uvicorn server with `settings` (MLPY_* variables) for a module's tests; they
    play many clients from one address, so the per-client share and rate limit are off
    unless `settings` say otherwise (a None value leaves the variable unset: the default)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp(name) / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
    env.update({"MLPY_LOG_LEVEL": "warning", "MLPY_MAX_CONCURRENT_PER_CLIENT": "64",
                "MLPY_RATE_LIMIT_PER_MINUTE": "0", "MLPY_DATA_DIR": str(log_path.parent / "data"),
                **settings})
    env = {k: v for k, v in env.items() if v is not None}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "mlpy_server.app:app", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = RunningServer(proc, f"http://127.0.0.1:{port}", log_path)
    wait_until_up(server.url, proc, log_path)
    return server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """One real server (4 workers) shared by a module's tests."""
    server = module_server(tmp_path_factory, "live", {"MLPY_MAX_WORKERS": "4"})
    yield server
    server.stop()
