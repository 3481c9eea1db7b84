"""Compiling counts against a run's timeout, in both isolation modes: a program that takes
longer to compile than its timeout allows is stopped as a time-out, never left to compile
(and then run) on borrowed time."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from mlpy import AsyncMLExecutor


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
