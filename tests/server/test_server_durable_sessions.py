"""Durable sessions against real servers: state survives a killed worker and a restart
(SQLite, the default), several server processes serve every session (`--workers 2`,
gunicorn, two servers sharing a real Redis), one process at a time runs a session's cell, and
quotas are counted across processes."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import free_port, wait_until_up
from tests.server.test_server_sessions_live import _worker_children

pytestmark = pytest.mark.timeout(240)

STATE = """big = 123456789012345678901234567890;
shared = [1, 2];
pair = {left: shared, right: shared};
function double(n) { return n * 2 + big; }
square = fn(x) => x * x;
function counter() { count = 0; return fn() => { nonlocal count; count = count + 1; return count; }; }
tick = counter();
"""
CHECK = "pair.left.append(3); [big, pair.right, double(1), square(7)]"
EXPECTED = [123456789012345678901234567890, [1, 2, 3], 2 + 123456789012345678901234567890, 49]


def cell(client: httpx.Client, sid: str, code: str) -> dict:
    reply = client.post(f"/sessions/{sid}/execute", json={"code": code, "timeout": 30})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_killed_worker_and_a_restart_lose_nothing_but_what_is_named(start_server, tmp_path):
    env = {"MLPY_DATA_DIR": str(tmp_path / "store"), "MLPY_ISOLATION": "process",
           "MLPY_MAX_WORKERS": "1"}
    server = start_server(env=env)
    with server.client() as c:
        sid = c.post("/sessions").json()["id"]
        first = cell(c, sid, STATE)
        assert first["success"] and first["restored"] is False and first["checkpoint_error"] is None
        for pid in _worker_children(server.proc.pid):      # the session's process among them
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        after_kill = cell(c, sid, CHECK)
        assert after_kill["success"], after_kill
        assert after_kill["display_value"] == EXPECTED
        assert after_kill["restored"] is True
        assert after_kill["lost"] == ["tick"]
        assert "closure" in after_kill["lost_reasons"]["tick"]
        assert cell(c, sid, "1")["restored"] is False           # restored once, announced once
        health = c.get("/health").json()
        assert health["session_store"] == "sqlite"
    assert server.stop() is not None

    again = start_server(env=env)                                # same store, new process
    with again.client() as c:
        shown = {v["name"]: v["type"] for v in c.get(f"/sessions/{sid}").json()["variables"]}
        assert shown == {"big": "number", "shared": "array", "pair": "object",
                         "double": "function", "square": "function",
                         "counter": "function"}                           # before any cell
        after_restart = cell(c, sid, "pair.right.append(4); [pair.left, double(0)]")
        assert after_restart["success"], after_restart
        assert after_restart["display_value"] == [[1, 2, 3, 4], 123456789012345678901234567890]
        assert after_restart["restored"] is True and after_restart["execution_count"] == 4
        assert c.get(f"/sessions/{sid}").json()["execution_count"] == 4
        assert c.delete(f"/sessions/{sid}").status_code == 200
        assert c.post(f"/sessions/{sid}/execute", json={"code": "1"}).status_code == 404


def test_a_worker_that_dies_mid_cell_reports_it_and_restores_on_the_next(start_server, tmp_path):
    server = start_server(env={"MLPY_ISOLATION": "process", "MLPY_MAX_WORKERS": "1"})
    with server.client() as c:
        sid = c.post("/sessions").json()["id"]
        assert cell(c, sid, "keep = [1, 2, 3];")["success"]
        big = cell(c, sid, "x = [0] * 9000000; 1")             # kept, but too big to save
        assert big["success"] and "more than" in big["checkpoint_error"]
        bomb = cell(c, sid, 'a = []; while (true) { a.append("x" * 1000000); }')
        assert bomb["success"] is False
        assert bomb["error_type"] in ("MemoryLimitError", "SessionLost")
        nxt = cell(c, sid, "[keep, typeof(x)]")
        if bomb["error_type"] == "SessionLost":         # the worker died: restored from before x
            assert "restored on its next request" in bomb["error"]
            assert nxt["restored"] is True and nxt["success"] is False     # x was never saved
        else:
            assert nxt["display_value"] == [[1, 2, 3], "array"]


@contextlib.contextmanager
def launched(args: list[str], tmp_path: Path, **settings: str) -> Iterator[str]:
    """A server started by `args` (a launcher with several processes) on a free port, with
    its own session store: yields its URL; stops the whole process group after."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPY_")}
    env.update(MLPY_DATA_DIR=str(tmp_path / "store"), MLPY_RATE_LIMIT_PER_MINUTE="0",
               MLPY_MAX_CONCURRENT_PER_CLIENT="64", MLPY_LOG_LEVEL="warning", **settings)
    with open(log, "wb") as out:
        proc = subprocess.Popen([a.replace("{port}", str(port)) for a in args], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", proc, log, deadline=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _serve_many(url: str, sessions: int = 5, cells: int = 200) -> None:
    """`cells` counter cells over `sessions` sessions in random order, four at a time: every
    cell succeeds and each session's cells see distinct states 1..n (no lost update)."""
    with httpx.Client(base_url=url, timeout=60) as c:
        sids = [c.post("/sessions").json()["id"] for _ in range(sessions)]
        for sid in sids:
            assert cell(c, sid, "n = 0;")["success"]
        order = [random.choice(sids) for _ in range(cells)]

    def one(sid: str) -> tuple[str, int]:
        with httpx.Client(base_url=url, timeout=60) as client:
            reply = cell(client, sid, "n = n + 1; n")
            assert reply["success"], reply
            return sid, reply["display_value"]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, order))
    for sid in sids:
        seen = sorted(value for s, value in results if s == sid)
        assert seen == list(range(1, order.count(sid) + 1)), (sid, seen)


def test_mlpy_server_with_two_workers_serves_every_session(tmp_path):
    with launched([sys.executable, "-m", "mlpy_server", "--port", "{port}", "--workers", "2"],
                  tmp_path, MLPY_MAX_WORKERS="1") as url:
        _serve_many(url)


def test_gunicorn_with_four_workers_serves_every_session(tmp_path):
    # thread isolation keeps four server processes light on a 2-core machine; the store and
    # the lease are the same whatever the isolation
    with launched([sys.executable, "-m", "gunicorn", "mlpy_server.app:app", "-w", "4", "-k",
                   "uvicorn.workers.UvicornWorker", "-b", "127.0.0.1:{port}"], tmp_path,
                  MLPY_MAX_WORKERS="2", MLPY_ISOLATION="thread") as url:
        _serve_many(url)


# -- Redis --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real Debian redis-server on a free port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs Debian's redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_two_servers_sharing_redis_serve_one_session_in_turn(start_server, redis_url):
    env = {"MLPY_SESSION_STORE": redis_url, "MLPY_ISOLATION": "process",
           "MLPY_MAX_WORKERS": "1"}
    a, b = start_server(env=env), start_server(env=env)
    with a.client() as ca, b.client() as cb:
        assert ca.get("/health").json()["session_store"] == "redis"
        sid = ca.post("/sessions").json()["id"]
        assert cell(ca, sid, "log = []; n = 0;")["success"]
        for i in range(6):                          # alternate: each sees the other's state
            client = (ca, cb)[i % 2]
            assert cell(client, sid, f"n = n + 1; log.append({i}); n")["display_value"] == i + 1
        assert cell(cb, sid, "log")["display_value"] == [0, 1, 2, 3, 4, 5]

        # two concurrent cells on different processes run one after the other
        slow = ("log.append(\"start {i}\"); k = 0; while (k < 200000) {{ k = k + 1; }} "
                "log.append(\"end {i}\"); 1")
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda pair: cell(pair[0], sid, slow.format(i=pair[1])),
                                    [(ca, "a"), (cb, "b")]))
        assert all(r["success"] for r in replies), replies
        tail = cell(ca, sid, "log")["display_value"][6:]
        assert tail in (["start a", "end a", "start b", "end b"],
                        ["start b", "end b", "start a", "end a"]), tail

        # killing one server (and its workers) loses nothing: the other carries on
        workers = _worker_children(a.proc.pid)
        a.proc.kill()
        a.proc.wait(10)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        survived = cell(cb, sid, "n = n + 1; [n, log.length]")
        assert survived["display_value"] == [7, 10]


def test_quotas_hold_across_processes(start_server, redis_url):
    env = {"MLPY_SESSION_STORE": redis_url, "MLPY_ISOLATION": "thread",
           "MLPY_MAX_SESSIONS_PER_KEY": "2", "MLPY_API_KEYS": "quota-key"}
    a, b = start_server(env=env), start_server(env=env)
    key = {"X-API-Key": "quota-key"}
    with a.client(headers=key) as ca, b.client(headers=key) as cb:
        first = ca.post("/sessions").json()["id"]
        cell(ca, first, "x = 1;")
        second = cb.post("/sessions").json()["id"]
        third = cb.post("/sessions").json()["id"]          # the key's third: first is evicted
        gone = ca.post(f"/sessions/{first}/execute", json={"code": "x"})
        assert gone.status_code == 410 and "evicted" in gone.json()["reason"]
        assert cell(ca, second, "1")["success"] and cell(ca, third, "2")["success"]
    with a.client() as anonymous:
        assert anonymous.post("/sessions").status_code == 401


# -- interrupt, reset, list ----------------------------------------------------------------------
def _running_elsewhere(client: httpx.Client, sid: str) -> None:
    for _ in range(400):
        listed = {s["id"]: s for s in client.get("/sessions").json()["sessions"]}
        if listed[sid]["status"] == "running":
            return
        time.sleep(0.025)
    raise AssertionError("the cell never showed as running")


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_interrupt_keeps_variables_reset_empties_list_shows_mine(start_server, store):
    env = {"MLPY_ISOLATION": "process", "MLPY_MAX_WORKERS": "1"}
    if store == "memory":
        env["MLPY_SESSION_STORE"] = "memory"
    server = start_server(env=env)
    with server.client() as c:
        sid = c.post("/sessions").json()["id"]
        other = c.post("/sessions").json()["id"]
        assert cell(c, sid, "keep = 41;")["success"]
        assert sorted(s["id"] for s in c.get("/sessions").json()["sessions"]) == sorted([sid, other])
        with ThreadPoolExecutor(1) as pool:
            loop = pool.submit(cell, c, sid, "while (true) {}")
            _running_elsewhere(c, sid)
            assert c.post(f"/sessions/{sid}/interrupt").json() == {"id": sid, "interrupted": True}
            stopped = loop.result(30)
        assert stopped["success"] is False and stopped["error"] == "Execution interrupted"
        assert cell(c, sid, "keep + 1")["display_value"] == 42
        assert c.post(f"/sessions/{sid}/interrupt").json()["interrupted"] is False
        assert c.post(f"/sessions/{sid}/reset").json() == {"id": sid, "reset": True}
        after = c.post(f"/sessions/{sid}/execute", json={"code": "keep"}).json()
        assert after["error_type"] == "NameError"
        assert c.get(f"/sessions/{sid}").json()["variables"] == []
        assert c.post("/sessions/nope/interrupt").status_code == 404
        assert c.post("/sessions/nope/reset").status_code == 404


def test_an_interrupt_reaches_the_process_running_the_cell(start_server, tmp_path):
    env = {"MLPY_DATA_DIR": str(tmp_path / "shared"), "MLPY_ISOLATION": "thread"}
    a, b = start_server(env=env), start_server(env=env)          # one SQLite file, two servers
    with a.client() as ca, b.client() as cb:
        sid = ca.post("/sessions").json()["id"]
        assert cell(ca, sid, "keep = 1;")["success"]
        with ThreadPoolExecutor(1) as pool:
            loop = pool.submit(cell, ca, sid, "while (true) {}")
            _running_elsewhere(cb, sid)
            assert cb.post(f"/sessions/{sid}/interrupt").json()["interrupted"] is True
            stopped = loop.result(30)
        assert stopped["error"] == "Execution interrupted"
        assert cell(cb, sid, "keep")["display_value"] == 1


def test_an_unreachable_store_is_a_503_not_a_crash(start_server):
    server = start_server(env={"MLPY_SESSION_STORE": f"redis://127.0.0.1:{free_port()}/0",
                               "MLPY_ISOLATION": "thread"})
    with server.client() as c:
        reply = c.post("/sessions")
        assert reply.status_code == 503 and "Retry-After" in reply.headers
        assert reply.json()["detail"].startswith("session store unavailable:")
        assert c.post("/execute", json={"code": "result = 1;"}).json()["value"] == 1
    assert "Traceback" not in server.log()
