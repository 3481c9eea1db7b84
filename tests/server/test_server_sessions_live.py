"""Sessions through a real server with real worker processes (process isolation): tenants
never share fate, loss is announced (410) and told apart from "no such session" (404),
eviction spares busy sessions, quotas hold, a client that goes away stops its run, SIGTERM
gives running work its grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.mltest import TIME_SLACK

BOMB = 'a = []; while (true) { a.append("x" * 1000000); }'
SLOW_REGEX = 'import regex; result = regex.test("(a|aa)+$", "a" * 40 + "b");'
RUN_FOR = ("import datetime; t0 = datetime.now().timestamp(); "
           "while (datetime.now().timestamp() - t0 < {seconds}) {{ }} result = \"done\";")


def _poll(check, what: str, seconds: float = 20.0, interval: float = 0.05):
    """Wait until `check()` is truthy (for an asynchronous effect); fail saying `what`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting until {what}")


def _cell(c: httpx.Client, sid: str, code: str, **kw) -> httpx.Response:
    return c.post(f"/sessions/{sid}/execute", json={"code": code, **kw})


def _worker_children(server_pid: int) -> list[int]:
    """Pids of the server's worker processes (its children running the worker bootstrap)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid and b"mlpy.executor import worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def process_server(tmp_path_factory):
    from tests.server.conftest import module_server

    # the in-memory store: these tests are about a process's own sessions and announced
    # loss (durable sessions, restored instead, are test_server_durable_sessions.py's)
    server = module_server(tmp_path_factory, "sessions",
                           {"MLPY_ISOLATION": "process", "MLPY_MAX_WORKERS": "2",
                            "MLPY_SESSION_STORE": "memory"})
    yield server
    server.stop()


def test_other_tenants_attacks_leave_sessions_intact(process_server):
    """The three cross-tenant repros at once: anonymous memory bombs, a regular expression
    that overruns its timeout and infinite loops killed by the watchdog, next to live
    sessions, and one session's memory bomb next to another's: every other session keeps
    its variables."""
    with process_server.client() as c:
        keep = c.post("/sessions").json()["id"]
        mine = c.post("/sessions").json()["id"]
        bomber = c.post("/sessions").json()["id"]
        assert _cell(c, keep, "keep = 41;").json()["success"]
        assert _cell(c, mine, "mine = [1, 2, 3];").json()["success"]

    async def attack():
        async with httpx.AsyncClient(base_url=process_server.url, timeout=60) as a:
            one_shot = [a.post("/execute", json={"code": code, "timeout": timeout})
                        for code, timeout in [(BOMB, 10)] * 4 + [(SLOW_REGEX, 1)] * 2
                        + [("while (true) {}", 0.3)] * 2]
            cell = a.post(f"/sessions/{bomber}/execute", json={"code": BOMB, "timeout": 10})
            return await asyncio.gather(*one_shot, cell)

    replies = asyncio.run(attack())
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    bodies = [r.json() for r in replies]
    assert [b["error_type"] for b in bodies[:4]] == ["MemoryLimitError"] * 4
    assert all(not b["success"] for b in bodies[4:8]), bodies[4:8]
    assert bodies[8]["error_type"] == "MemoryLimitError"
    with process_server.client() as c:
        assert _cell(c, keep, "keep + 1").json()["display_value"] == 42
        assert _cell(c, mine, "mine.length").json()["display_value"] == 3
        info = c.get(f"/sessions/{keep}").json()
        assert info["status"] == "idle" and info["execution_count"] == 2
        assert [v["name"] for v in info["variables"]] == ["keep"]


def test_a_killed_session_process_is_lost_with_its_reason(process_server):
    """A session whose process is killed shows `status: lost`; its next cell answers 410
    with the reason; an id the server never issued answers 404."""
    with process_server.client() as c:
        sid = c.post("/sessions").json()["id"]
        assert _cell(c, sid, "x = 1;").json()["success"]
        before = set(_worker_children(process_server.proc.pid))
        for pid in before:                       # every worker: one-shot slots, spare, sessions
            os.kill(pid, signal.SIGKILL)
        info = _poll(lambda: (lambda j: j if j["status"] == "lost" else None)(
            c.get(f"/sessions/{sid}").json()), "the session shows as lost")
        assert "SIGKILL" in info["lost_reason"]
        gone = _cell(c, sid, "x")
        assert gone.status_code == 410
        assert gone.json()["error_type"] == "SessionLost" and "SIGKILL" in gone.json()["reason"]
        assert c.get(f"/sessions/{sid}").status_code == 410          # remembered, not 404
        assert c.get("/sessions/never-issued").status_code == 404
        assert _cell(c, "never-issued", "1").status_code == 404
        # the one-shot pool was refilled; new sessions work
        after = c.post("/execute", json={"code": "result = 6 * 7;"}).json()
        assert after["value"] == 42, after
        fresh = c.post("/sessions").json()["id"]
        assert _cell(c, fresh, "1 + 1").json()["display_value"] == 2
        health = c.get("/health").json()
        assert health["executor"]["worker_events"]["session_lost"]["sigkill"] >= 1
        assert health["session_activity"]["lost"] >= 1
        metrics = c.get("/metrics").text
        assert 'mlpy_worker_events_total{event="session_lost",reason="sigkill"}' in metrics
        assert 'mlpy_sessions_total{event="lost"}' in metrics


def test_deleting_a_session_stops_its_cell_and_answers_waiters_410(process_server):
    async def scenario():
        async with httpx.AsyncClient(base_url=process_server.url, timeout=60) as a:
            sid = (await a.post("/sessions")).json()["id"]
            running = asyncio.create_task(a.post(f"/sessions/{sid}/execute",
                                                 json={"code": "while (true) {}",
                                                       "timeout": 30}))
            for _ in range(400):
                if (await a.get(f"/sessions/{sid}")).json()["status"] == "running":
                    break
                await asyncio.sleep(0.025)
            waiting = asyncio.create_task(a.post(f"/sessions/{sid}/execute",
                                                 json={"code": "1"}))
            for _ in range(400):
                if (await a.get(f"/sessions/{sid}")).json()["queued"] == 1:
                    break
                await asyncio.sleep(0.025)
            deleted = await a.delete(f"/sessions/{sid}")
            after = await a.get(f"/sessions/{sid}")
            return deleted, await running, await waiting, after

    deleted, running, waiting, after = asyncio.run(scenario())
    assert deleted.status_code == 200
    for reply in (running, waiting):
        assert reply.status_code == 410, reply.text
        assert reply.json()["error_type"] == "SessionLost"
        assert "deleted" in reply.json()["reason"]
    assert after.status_code == 404


def test_a_client_that_disconnects_stops_its_run(process_server):
    """One-shot and session cell: the worker is free again soon after the client left."""
    with process_server.client() as c:
        sid = c.post("/sessions").json()["id"]
        assert _cell(c, sid, "before = 1;").json()["success"]
    with httpx.Client(base_url=process_server.url, timeout=0.5) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post("/execute", json={"code": "while (true) {}", "timeout": 30})
        with pytest.raises(httpx.ReadTimeout):
            _cell(impatient, sid, "while (true) {}", timeout=30)
    with process_server.client() as c:
        _poll(lambda: c.get("/health").json()["executor"]["busy_workers"] == 0,
              "the one-shot worker is free")
        _poll(lambda: c.get(f"/sessions/{sid}").json()["status"] == "idle",
              "the session's cell has stopped")
        assert _cell(c, sid, "before").json()["display_value"] == 1
        metrics = c.get("/metrics").text
        assert 'mlpy_executions_total{endpoint="execute",outcome="disconnected"}' in metrics
        assert 'mlpy_executions_total{endpoint="session",outcome="disconnected"}' in metrics


def test_eviction_spares_busy_sessions_and_quotas_hold(start_server):
    server = start_server(env={"MLPY_ISOLATION": "process", "MLPY_MAX_WORKERS": "1",
                               "MLPY_MAX_SESSIONS": "3", "MLPY_MAX_SESSIONS_PER_KEY": "2",
                               "MLPY_API_KEYS": "alice,bob",
                               "MLPY_MAX_CONCURRENT_PER_CLIENT": "8"})
    alice = {"X-API-Key": "alice"}
    bob = {"X-API-Key": "bob"}

    async def run_forever(a, sid, key):
        return await a.post(f"/sessions/{sid}/execute", headers=key,
                            json={"code": "while (true) {}", "timeout": 30})

    async def wait_running(a, sid, key):
        for _ in range(400):
            if (await a.get(f"/sessions/{sid}", headers=key)).json()["status"] == "running":
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the cell did not start")

    async def scenario():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as a:
            busy = (await a.post("/sessions", headers=alice)).json()["id"]
            idle = (await a.post("/sessions", headers=alice)).json()["id"]
            loop = asyncio.create_task(run_forever(a, busy, alice))
            await wait_running(a, busy, alice)
            # alice's quota (2): her idle session makes room, her running one never does
            third = await a.post("/sessions", headers=alice)
            assert third.status_code == 201
            assert (await a.get(f"/sessions/{idle}", headers=alice)).status_code == 410
            loop2 = asyncio.create_task(run_forever(a, third.json()["id"], alice))
            await wait_running(a, third.json()["id"], alice)
            refused = await a.post("/sessions", headers=alice)
            assert refused.status_code == 429, refused.text
            assert "quota" in refused.json()["detail"]
            # bob has his own quota; the server cap (3) then has nothing idle to evict
            bob_session = await a.post("/sessions", headers=bob)
            assert bob_session.status_code == 201
            loop3 = asyncio.create_task(run_forever(a, bob_session.json()["id"], bob))
            await wait_running(a, bob_session.json()["id"], bob)
            full = await a.post("/sessions", headers=bob)
            assert full.status_code == 503, full.text
            assert int(full.headers["Retry-After"]) >= 1
            for sid, key in ((busy, alice), (third.json()["id"], alice),
                             (bob_session.json()["id"], bob)):
                assert (await a.delete(f"/sessions/{sid}", headers=key)).status_code == 200
            return await asyncio.gather(loop, loop2, loop3)

    replies = asyncio.run(scenario())
    assert [r.status_code for r in replies] == [410, 410, 410]


def test_sigterm_gives_running_work_its_grace_period(start_server):
    grace = 3.0
    server = start_server([sys.executable, "-m", "mlpy_server", "--port", "{port}"],
                          env={"MLPY_GRACEFUL_SHUTDOWN_TIMEOUT": str(grace)})

    async def scenario():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as a:
            short = asyncio.create_task(a.post("/execute", json={
                "code": RUN_FOR.format(seconds=1.0), "timeout": 30}))
            endless = asyncio.create_task(a.post("/execute", json={
                "code": "while (true) {}", "timeout": 30}))
            for _ in range(400):
                if (await a.get("/health")).json()["executor"]["busy_workers"] >= 2:
                    break
                await asyncio.sleep(0.025)
            start = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            try:
                late = (await a.post("/execute", json={"code": "result = 1;"})).status_code
            except httpx.TransportError:
                late = "refused"
            code = await asyncio.get_running_loop().run_in_executor(None, server.proc.wait, 30)
            return await short, await endless, late, code, time.monotonic() - start

    short, endless, late, code, elapsed = asyncio.run(scenario())
    assert short.status_code == 200 and short.json()["value"] == "done", short.text
    assert endless.status_code == 503 and "shutting down" in endless.json()["detail"]
    assert late in (503, "refused")
    assert code in (0, -signal.SIGTERM), server.log()
    assert elapsed < grace + 1 + TIME_SLACK, server.log()
    assert "Traceback" not in server.log()


def test_ten_thousand_requests_with_big_contexts_keep_memory_flat(process_server):
    """10,000 requests with 250 KB contexts and `timeout: 30`: a finished job releases its
    context at once, so the server's resident memory grows by less than 50 MiB and comes
    back near its start, and no request fails with a memory limit it did not earn."""
    context = {"rows": ["x" * 1000] * 250}          # about 250 KB of JSON
    body = {"code": "result = rows.length;", "timeout": 30, "context": context}
    pid = process_server.proc.pid

    async def run(total: int, concurrency: int = 8) -> tuple[list, int]:
        limits = httpx.Limits(max_connections=concurrency)
        failures: list = []
        peak = 0
        async with httpx.AsyncClient(base_url=process_server.url, timeout=60,
                                     limits=limits) as a:
            async def one(_: int) -> None:
                nonlocal peak
                r = await a.post("/execute", json=body)
                if r.status_code != 200 or r.json().get("value") != 250:
                    failures.append(r.text[:200])

            for start in range(0, total, 200):
                await asyncio.gather(*(one(i) for i in range(start, min(start + 200, total))))
                peak = max(peak, _rss(pid))
        return failures, peak

    warm_failures, _ = asyncio.run(run(300))        # allocator pools and caches settle
    assert not warm_failures
    start = _rss(pid)
    failures, peak = asyncio.run(run(10_000))
    end = _rss(pid)
    assert not failures, failures[:3]
    assert peak - start < 50 << 20, (start, peak, end)
    assert end - start < 25 << 20, (start, peak, end)


def test_a_long_cell_delays_no_other_session(process_server):
    """While one session's cell loops and every one-shot worker is busy, another session's
    cells still run: each session has its own process and its own line."""
    async def scenario():
        async with httpx.AsyncClient(base_url=process_server.url, timeout=60) as a:
            slow = (await a.post("/sessions")).json()["id"]
            quick = (await a.post("/sessions")).json()["id"]
            looping = [asyncio.create_task(a.post(f"/sessions/{slow}/execute", json={
                "code": "while (true) {}", "timeout": 30}))]
            looping += [asyncio.create_task(a.post("/execute", json={
                "code": "while (true) {}", "timeout": 30})) for _ in range(2)]
            for _ in range(400):
                health = (await a.get("/health")).json()
                if (health["executor"]["busy_workers"] == 2
                        and health["session_activity"]["running"] == 1):
                    break
                await asyncio.sleep(0.025)
            else:
                raise AssertionError("the loops did not start")
            replies = [await a.post(f"/sessions/{quick}/execute", json={"code": f"{i} * 2"})
                       for i in range(3)]
            still_running = (await a.get(f"/sessions/{slow}")).json()["status"]
            await a.delete(f"/sessions/{slow}")
            for task in looping:
                task.cancel()
            return replies, still_running

    replies, still_running = asyncio.run(scenario())
    assert [r.json()["display_value"] for r in replies] == [0, 2, 4]
    assert still_running == "running"
    with process_server.client() as c:
        _poll(lambda: c.get("/health").json()["executor"]["busy_workers"] == 0,
              "the abandoned one-shot loops were stopped")
