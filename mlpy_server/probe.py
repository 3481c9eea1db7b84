"""The health probe: `result = 1 + 1;` run at most once per interval, shared by every /health
request meanwhile — a flood of health checks costs one test execution, not one each."""

from __future__ import annotations

import asyncio
import time
from typing import Any

HEALTH_PROGRAM = "result = 1 + 1;"


class Probe:
    """The last test execution (ok, error, via, milliseconds) and when it ran."""

    def __init__(self, interval: float):
        self.interval = interval
        self._last: tuple[bool, str | None, str, float] | None = None
        self._at = float("-inf")
        self._running: asyncio.Task | None = None

    async def check(self, state: Any) -> tuple[bool, str | None, str, float, float]:
        """(ok, error, via, execution ms, age in seconds) of a test execution at most
        `interval` seconds old; concurrent callers share one run."""
        now = time.monotonic()
        if self._last is not None and now - self._at < self.interval:
            return (*self._last, now - self._at)
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._run(state))
        ok, error, via, ms = await asyncio.shield(self._running)
        return ok, error, via, ms, time.monotonic() - self._at

    async def _run(self, state: Any) -> tuple[bool, str | None, str, float]:
        adm = state.admission
        start = time.perf_counter()
        ok, error, via = False, None, "executor"
        try:
            if not state.draining and adm.try_acquire():
                try:
                    result = await state.executor.execute(HEALTH_PROGRAM, timeout=1.0)
                finally:
                    adm.release()
                ok = bool(result.success) and result.value == 2
                error = None if ok else (result.error or f"unexpected value {result.value!r}")
            else:
                via = "inline"
                ok, error = await _inline_test()
        except asyncio.TimeoutError:
            error = "the test execution did not finish within 1 second"
        except Exception as exc:  # health must answer, whatever broke
            error = f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - start) * 1000
        self._last, self._at = (ok, error, via, ms), time.monotonic()
        return ok, error, via, ms


async def _inline_test() -> tuple[bool, str | None]:
    """Run the test program beside the pool (a thread of its own), never queued behind user
    code.  Proves the compiler and runtime work when every worker is busy."""
    import mlpy

    def run():
        outcome = mlpy.run(HEALTH_PROGRAM)
        ok = bool(outcome.success) and outcome.value == 2
        return ok, None if ok else (outcome.error or f"unexpected value {outcome.value!r}")

    return await asyncio.wait_for(asyncio.to_thread(run), 1.0)
