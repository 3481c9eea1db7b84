"""What one app instance holds; each concern lives in its own module (admission, sessions,
rate limiting, rendering) and ServerState wires them to one executor."""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from mlpy.executor import AsyncMLResult

from .admission import Admission, QueueFull, ShuttingDown, retry_after
from .executions import Executions
from .metrics import Metrics
from .probe import Probe
from .ratelimit import RateLimiter
from .rendering import render_result
from .session_store import SessionStore
from .shared_sessions import open_store
from .settings import Settings

log = logging.getLogger("mlpy.server")

__all__ = ["Executor", "QueueFull", "ServerState", "ShuttingDown"]


@runtime_checkable
class Executor(Protocol):
    """What the server needs of an executor: `AsyncMLExecutor`, or the tests' fake."""

    max_workers: int
    strict_security: bool
    isolation: str

    async def execute(self, code: str, timeout: float | None = None,
                      context: Mapping[str, Any] | None = None, *,
                      on_output: Callable[[str, str], object] | None = None
                      ) -> AsyncMLResult: ...

    def session(self, context: Any = None, *, durable: bool = False,
                restore: bytes | None = None) -> Any: ...

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None: ...


class ServerState:
    """What one app instance holds: its executor, admission, sessions, rate limits, metrics."""

    def __init__(self, settings: Settings, executor: Executor,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.executor = executor
        self.started = time.time()
        self.pid = os.getpid()
        self.max_workers = executor.max_workers
        self.strict_security = executor.strict_security
        self.isolation = executor.isolation
        self.admission = Admission(self.max_workers, settings.max_queue, settings.queue_timeout)
        # `clock` drives session expiry and rate limits (tests move it instead of sleeping)
        shared = open_store(settings.session_store, settings.session_ttl)
        durable = shared is not None

        def make_session(restore: bytes | None = None) -> Any:
            if not durable:
                return executor.session()
            return executor.session(durable=True, restore=restore)

        self.sessions = SessionStore(make_session, settings.session_ttl, settings.max_sessions,
                                     clock, per_key=settings.max_sessions_per_key,
                                     max_queue=settings.max_session_queue,
                                     queue_timeout=settings.queue_timeout, shared=shared)
        self.executions = Executions(settings.execution_retention_seconds,
                                     settings.max_executions, settings.max_execution_bytes,
                                     clock)
        self.metrics = Metrics(self)
        self.probe = Probe(settings.health_interval)
        self.limiter = (RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst,
                                    clock) if settings.rate_limit_per_minute else None)
        self._keys = [k.encode() for k in settings.api_keys]
        self.draining = False
        self._tasks: set[asyncio.Task] = set()      # requests running an execution
        self._drained: set[asyncio.Task] = set()    # those a shutdown cancelled
        self.per_client_limit = (settings.max_concurrent_per_client
                                 or max(1, self.max_workers // 2))
        self._per_client: collections.Counter[str] = collections.Counter()

    # -- auth ---------------------------------------------------------------------------
    @property
    def auth_required(self) -> bool:
        return bool(self._keys)

    def key_ok(self, key: str | None) -> bool:
        if key is None:
            return False
        given = key.encode()
        ok = False
        for k in self._keys:  # compare against every key: no early exit timing leak
            ok |= hmac.compare_digest(given, k)
        return ok

    # -- running code --------------------------------------------------------------------
    @property
    def sessions_share_workers(self) -> bool:
        """Thread isolation runs session cells on the shared workers (admitted like one-shot
        runs); process isolation gives each session a process of its own."""
        return self.isolation != "process"

    @property
    def queued(self) -> int:
        """Every execution waiting: for a worker, or for its session's running cell."""
        return self.admission.waiting + self.sessions.queued

    async def run(self, endpoint: str, make: Callable[[], Awaitable[Any]],
                  admit: bool = True, tenant: str | None = None) -> Any:
        """Run one execution (under admission control unless `admit` is False: a session's
        cell on a process of its own); stoppable by shutdown. A `tenant` (API key, else
        client address) has at most `max_concurrent_per_client` executions running or
        waiting at once, so a few runaway requests cannot lock everyone else out.

        Raises QueueFull (429 past the tenant's share) or ShuttingDown."""
        if self.draining:
            raise ShuttingDown()
        if tenant is None:
            return await self._admitted(endpoint, make, admit)
        share = self.per_client_limit
        if self._per_client[tenant] >= share:
            self.metrics.executions.inc(endpoint, "rejected")
            raise QueueFull(f"too many executions: this API key (or client address) already "
                            f"has {share} running or waiting (MLPY_MAX_CONCURRENT_PER_CLIENT)",
                            retry_after(1), 429)
        self._per_client[tenant] += 1
        try:
            return await self._admitted(endpoint, make, admit)
        finally:
            self._per_client[tenant] -= 1
            if not self._per_client[tenant]:
                del self._per_client[tenant]

    async def _admitted(self, endpoint: str, make: Callable[[], Awaitable[Any]],
                        admit: bool) -> Any:
        if not admit:
            return await self._tracked(endpoint, make)
        try:
            waited = await self.admission.acquire()
        except QueueFull:
            self.metrics.executions.inc(endpoint, "rejected")
            raise
        self.metrics.queue_wait_seconds.observe(waited)
        try:
            return await self._tracked(endpoint, make)
        finally:
            self.admission.release()

    async def _tracked(self, endpoint: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """Run `make()` in this task, which a shutdown can stop (no task of its own: one
        fewer per request)."""
        if self.draining:
            raise ShuttingDown()
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await make()
        except asyncio.CancelledError:
            if task in self._drained and task.cancelling() <= 1:
                task.uncancel()
                self.metrics.executions.inc(endpoint, "cancelled")
                raise ShuttingDown() from None
            raise
        finally:
            self._tasks.discard(task)
            self._drained.discard(task)

    @property
    def running_tasks(self) -> list[asyncio.Task]:
        return list(self._tasks)

    def stop_running(self) -> int:
        """Drain: refuse new executions and stop the running ones."""
        self.draining = True
        tasks = list(self._tasks)
        for task in tasks:
            self._drained.add(task)
            task.cancel()
        return len(tasks)

    def record_execution(self, endpoint: str, outcome: str, execution_time: float) -> None:
        """Count one finished execution (explicitly, by the endpoint that ran it)."""
        self.metrics.executions.inc(endpoint, outcome)
        self.metrics.execution_seconds.observe(execution_time, endpoint)

    async def render(self, endpoint: str, result: AsyncMLResult, *,
                     display: bool = False) -> dict:
        """The JSON body of an execution's reply, with the execution recorded in the metrics.
        A result with a container or a long string is converted on a thread: the event loop
        never walks a value whose size a program chose."""
        if light(result.value) and light(result.display_value):
            body, outcome = render_result(result, self.settings, display=display)
        else:
            body, outcome = await asyncio.to_thread(render_result, result, self.settings,
                                                    display=display)
        self.record_execution(endpoint, outcome, body["execution_time"])
        return body


def light(value: Any) -> bool:
    """A value cheap enough to convert on the event loop: a scalar or a short string."""
    cls = type(value)
    if value is None or cls is bool or cls is float:
        return True
    if cls is int:
        return -(1 << 64) < value < 1 << 64
    return cls is str and len(value) < 4096
