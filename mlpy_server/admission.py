"""Admission control: at most one execution per worker runs, a bounded line waits (FIFO)."""

from __future__ import annotations

import asyncio
import collections
import math
import random
import time


def retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header: at least `seconds`, spread at random up to
    twice that, so clients turned away together do not all come back in the same second."""
    base = max(1, math.ceil(seconds))
    return base + random.randint(0, base)


class QueueFull(Exception):
    """Every worker is busy and the waiting line is full (or the wait took too long): 503;
    or this client already has its share of executions running or waiting: 429."""

    def __init__(self, message: str, retry_after: int = 1, status: int = 503):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class ShuttingDown(Exception):
    pass


class Admission:
    """At most `slots` executions run at once; at most `max_queue` wait (FIFO) for a slot.

    The server is the executor's only user, so `running` and `waiting` are exact counts of
    busy workers and queued executions."""

    def __init__(self, slots: int, max_queue: int, queue_timeout: float):
        self.slots = slots
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        self.running = 0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def saturated(self) -> bool:
        return self.running >= self.slots

    def try_acquire(self) -> bool:
        if self.running < self.slots and not self._waiters:
            self.running += 1
            return True
        return False

    async def acquire(self) -> float:
        """Take a slot; returns the seconds spent waiting.  Raises QueueFull."""
        if self.try_acquire():
            return 0.0
        if len(self._waiters) >= self.max_queue:
            raise QueueFull("server busy: every worker is running and the queue is full",
                            retry_after=retry_after(1))
        start = time.perf_counter()
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            async with asyncio.timeout(self.queue_timeout):   # (no waiter future and
                await fut                                      # callback as wait_for)
        except BaseException as exc:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed the slot as we gave up: pass it on
            else:
                try:            # leave the line now: a dead waiter must not fill the queue
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            if isinstance(exc, asyncio.TimeoutError):
                raise QueueFull(f"server busy: no worker became free within "
                                f"{self.queue_timeout:g} seconds",
                                retry_after=retry_after(self.queue_timeout / 10)) from None
            raise
        return time.perf_counter() - start

    def release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes straight to the next waiter
                return
        self.running -= 1
