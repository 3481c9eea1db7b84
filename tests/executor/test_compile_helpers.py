"""Thread isolation compiles long programs in helper processes (executor/compile_helpers.py):
a long compile then holds neither the host's GIL nor a stop off, a stop kills the helper,
and no helper outlives its executor."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest
from mltest import slow_to_compile

import mlpy.program
from mlpy import AsyncMLExecutor
from mlpy.executor import ExecutorSettings

pytestmark = pytest.mark.timeout(120)


def _long(n: int = 300) -> str:
    """A program past the threshold, unique so never in the compile cache."""
    return f"// {uuid.uuid4().hex}\ny = 1; x = " + " + ".join(["y"] * n) + "; result = x;"


def _gone(pid: int) -> bool:
    """The process has exited and been reaped (no /proc entry, or not even a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.fixture
def executor():
    ex = AsyncMLExecutor(max_workers=1)
    yield ex
    ex.shutdown(wait=True, cancel_pending=True)


def test_a_long_program_is_compiled_in_a_helper_process(executor, monkeypatch):
    helpers = executor.pool.compile_helpers
    assert executor.run_sync("result = 41 + 1;").value == 42       # short: here, no helper
    assert helpers.pids() == []
    here = []
    real = mlpy.program._translate_here
    monkeypatch.setattr(mlpy.program, "_translate_here",
                        lambda *args: here.append(args[0]) or real(*args))
    source = _long()
    result = executor.run_sync(source, timeout=60)
    assert result.success, result
    assert result.value == 300
    assert here == []                      # not compiled in this process
    assert helpers.compiled == 1
    [pid] = helpers.pids()
    assert pid != os.getpid() and not _gone(pid)
    # the compile cache stays in front: the same program never goes to the helper again
    assert executor.run_sync(source, timeout=60).value == 300
    assert helpers.compiled == 1
    # and the helper is reused for the next long program
    assert executor.run_sync(_long(400), timeout=60).value == 400
    assert helpers.compiled == 2 and helpers.pids() == [pid]


def test_compile_errors_from_the_helper_keep_their_type_and_position(executor):
    padding = "\n" + "x = 1;" * 300
    syntax = executor.run_sync("y = 2;\nresult = 1 +;" + padding)
    assert (syntax.error_type, syntax.line, syntax.column) == ("SyntaxError", 2, 13), syntax
    assert "expected an expression" in syntax.error
    security = executor.run_sync("import os;" + padding)
    assert (security.error_type, security.line) == ("SecurityError", 1)
    assert "Traceback" not in security.error and "Traceback" not in syntax.error
    assert executor.pool.compile_helpers.compiled == 2      # both answered by a helper


def test_a_timeout_during_the_compile_kills_the_helper(executor):
    helpers = executor.pool.compile_helpers
    assert executor.run_sync(_long(), timeout=60).success        # a helper is started
    [helper] = list(helpers._all)
    result = executor.run_sync(slow_to_compile(), timeout=0.3)
    assert not result.success
    assert result.error_type == "TimeoutError"
    assert result.error == "Execution timeout after 0.3 seconds"
    assert helper.popen.wait(10) == -signal.SIGKILL        # killed, not left to compile
    assert helpers.compiled == 1
    # the executor carries on: a new helper for the next long program, the dead one reaped
    assert executor.run_sync(_long(), timeout=60).value == 300
    assert helper.pid not in helpers.pids() and len(helpers.pids()) == 1


def test_no_idle_helper_outlives_the_executor():
    ex = AsyncMLExecutor(max_workers=1)
    assert ex.run_sync(_long(), timeout=60).success
    pids = ex.pool.compile_helpers.pids()
    assert len(pids) == 1 and not _gone(pids[0])
    ex.shutdown(wait=True)
    assert ex.pool.compile_helpers.pids() == []
    assert _gone(pids[0])


def test_no_busy_helper_outlives_the_executor():
    ex = AsyncMLExecutor(max_workers=1)
    helpers = ex.pool.compile_helpers

    async def shut_down_while_compiling():
        task = asyncio.ensure_future(ex.execute(slow_to_compile(), timeout=60))
        while not helpers.pids() and not task.done():
            await asyncio.sleep(0.01)
        pids = helpers.pids()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: ex.shutdown(wait=True, cancel_pending=True))
        return pids, await task

    pids, result = asyncio.run(shut_down_while_compiling())
    assert len(pids) == 1
    assert not result.success and result.error_type != "TimeoutError", result
    assert helpers.pids() == []
    assert _gone(pids[0])


def test_the_threshold_is_a_setting():
    settings = ExecutorSettings(compile_elsewhere_above=None)
    with AsyncMLExecutor(max_workers=1, settings=settings) as ex:
        assert ex.pool.compile_helpers is None
        assert ex.run_sync(_long(), timeout=60).value == 300
    with pytest.raises(ValueError):
        ExecutorSettings(compile_elsewhere_above=-1)


def test_process_workers_compile_in_the_worker():
    """A process worker is where its compile is stopped: it starts no helpers of its own."""
    with AsyncMLExecutor(max_workers=1, isolation="process") as ex:
        result = ex.run_sync(slow_to_compile(), timeout=0.5)
        assert result.error_type == "TimeoutError", result
        assert ex.run_sync(_long(), timeout=60).value == 300
        [pid] = ex.stats()["pids"]
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            assert children.read().split() == []


def test_a_flood_of_stopped_compiles_leaves_no_helper_behind():
    """Stops landing anywhere in the take-use-give-back of a helper (timeouts of a millisecond
    or so, while a helper is started, asked or answering) lose no process and no pipe."""
    ex = AsyncMLExecutor(max_workers=4)
    helpers = ex.pool.compile_helpers
    seen: set[int] = set()

    async def flood():
        async def one(i: int):
            timeout = (0.001, 0.005, 0.02, 0.1)[i % 4]
            result = await ex.execute(_long(300 + i), timeout=timeout)
            seen.update(helpers.pids())
            return result
        return await asyncio.gather(*(one(i) for i in range(60)))

    results = asyncio.run(flood())
    assert all(r.success or r.stopped_by == "timeout" for r in results)
    assert any(r.stopped_by == "timeout" for r in results)
    assert ex.run_sync(_long(), timeout=60).value == 300          # still serving
    seen.update(helpers.pids())
    ex.shutdown(wait=True)
    assert helpers.pids() == []
    assert seen and all(_gone(pid) for pid in seen)
