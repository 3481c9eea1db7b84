"""Compiling counts against a run's timeout, in both isolation modes: a program that takes
longer to compile than its timeout allows is stopped as a time-out, never left to compile
(and then run) on borrowed time."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest
from mltest import slow_to_compile

from mlpy import AsyncMLExecutor
from tests.server.conftest import module_server


def _slow_to_compile() -> str:
    """About 100 kB of statements (a few tenths of a second to compile on a fast machine);
    unique, so never in the compile cache."""
    tag = uuid.uuid4().hex
    return f"// {tag}\n" + "".join(f"a{i} = [{i}, {{k: {i}}}];" for i in range(4000))


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_compile_time_counts_against_the_timeout(isolation):
    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation) as ex:
            assert (await ex.execute("result = 1;", timeout=5)).value == 1   # started
            slow = await ex.execute(_slow_to_compile(), timeout=0.02)
            after = await ex.execute("result = 2;", timeout=5)
            return slow, after

    slow, after = asyncio.run(scenario())
    assert not slow.success
    assert slow.error_type == "TimeoutError", slow
    assert slow.error == "Execution timeout after 0.02 seconds"
    assert after.success and after.value == 2


def _children(pid: int) -> set[int]:
    """The child processes of process `pid` (every thread's: a worker thread starts them)."""
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.update(int(child) for child in children.read().split())
        except OSError:
            pass
    return found


@pytest.mark.timeout(120)
@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_compile_bomb_times_out_while_health_keeps_answering(isolation, tmp_path_factory):
    """Through a started server: the bomb's compile is stopped at its timeout (thread
    isolation: in a helper process, see executor/compile_helpers.py; process isolation: in
    the worker), and /health answers while it compiles (a compile on the server's own
    thread would hold its GIL, and so its event loop, for seconds)."""
    server = module_server(tmp_path_factory, f"bomb-{isolation}",
                           {"MLPY_ISOLATION": isolation, "MLPY_MAX_WORKERS": "2"})
    try:
        with server.client() as client:
            assert client.post("/execute", json={"code": "result = 1;"}).json()["value"] == 1
            reply: dict = {}
            bomb = threading.Thread(target=lambda: reply.update(client.post(
                "/execute", json={"code": slow_to_compile(), "timeout": 0.5}).json()))
            during: list[int] = []
            helpers: set[int] = set()
            with server.client() as prober:
                bomb.start()
                while bomb.is_alive():
                    status = prober.get("/health").status_code
                    if bomb.is_alive():           # asked and answered while the bomb ran
                        during.append(status)
                        helpers |= _children(server.proc.pid)
                bomb.join()
            assert reply.get("success") is False, reply
            assert reply["error_type"] == "TimeoutError", reply
            assert reply["error"] == "Execution timeout after 0.5 seconds"
            assert len(during) >= 2 and set(during) == {200}, during
            if isolation == "thread":     # compiled by a helper process of the server's
                assert helpers
            after = client.post("/execute", json={"code": "result = 6 * 7;", "timeout": 5})
            assert after.json()["value"] == 42
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_a_compile_past_the_workers_memory_cap_is_a_memory_limit_every_time():
    """A compile that needs more than a process worker's memory cap (about 500 MB of trees
    against 256 MiB) is reported as the memory limit, run after run, never left to wait out
    its timeout. Out of memory, even reporting can fail (a dying thread may leave a lock
    held): then the program thread's death exits the worker with the status its parent reads
    as the memory cap. (Before, a worker thread that died of a MemoryError while logging one
    left its run waiting for the whole timeout: from the third bomb on a quiet machine, from
    the first under load.)"""
    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation="process") as ex:
            bombs = [await ex.execute(slow_to_compile(), timeout=60) for _ in range(4)]
            after = await ex.execute("result = 1 + 1;", timeout=5)
            return bombs, after, ex.stats()

    bombs, after, stats = asyncio.run(scenario())
    for result in bombs:
        assert (result.error_type, result.stopped_by) == ("MemoryLimitError", "memory"), (
            result.error_type, result.error)
    assert after.value == 2
    assert stats["killed_total"] == 0, stats          # none waited for the watchdog's kill
