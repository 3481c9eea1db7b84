"""What one app instance holds: the executor, admission control, sessions, rate limits."""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .jsonvalues import NotSerialisable, to_json
from .metrics import Metrics
from .settings import Settings

log = logging.getLogger("mlpy.server")


class QueueFull(Exception):
    """Every worker is busy and the waiting line is full (or the wait took too long)."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


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
                            retry_after=1)
        start = time.perf_counter()
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, self.queue_timeout)
        except asyncio.TimeoutError:
            raise QueueFull(f"server busy: no worker became free within "
                            f"{self.queue_timeout:g} seconds",
                            retry_after=max(1, math.ceil(self.queue_timeout / 10))) from None
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed the slot as we were cancelled: pass it on
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            raise
        return time.perf_counter() - start

    def release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes straight to the next waiter
                return
        self.running -= 1


@dataclass
class SessionEntry:
    id: str
    session: Any
    owner: str | None
    created_at: float = field(default_factory=time.time)
    last_used_at: float = field(default_factory=time.time)
    last_used_mono: float = field(default_factory=time.monotonic)
    execution_count: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def running(self) -> bool:
        return self.lock.locked()

    def touch(self) -> None:
        self.last_used_at = time.time()
        self.last_used_mono = time.monotonic()


class SessionStore:
    """Live sessions by id, least recently used first; idle ones expire after `ttl`."""

    def __init__(self, make: Callable[[], Any], ttl: float, cap: int):
        self._make = make
        self.ttl = ttl
        self.cap = cap
        self._entries: collections.OrderedDict[str, SessionEntry] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def create(self, owner: str | None) -> SessionEntry:
        self.expire()
        while len(self._entries) >= self.cap:
            _, old = self._entries.popitem(last=False)
            log.info("session %s evicted (cap %d)", old.id, self.cap)
            self._close(old)
        entry = SessionEntry(id=secrets.token_urlsafe(16), session=self._make(), owner=owner)
        self._entries[entry.id] = entry
        return entry

    def get(self, session_id: str, owner: str | None) -> SessionEntry | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return None
        if self._expired(entry, time.monotonic()):
            self._drop(entry)
            return None
        entry.touch()
        self._entries.move_to_end(session_id)
        return entry

    def delete(self, session_id: str, owner: str | None) -> bool:
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return False
        self._drop(entry)
        return True

    def expire(self) -> int:
        now = time.monotonic()
        dead = [e for e in self._entries.values() if self._expired(e, now)]
        for entry in dead:
            log.info("session %s expired after %.0f idle seconds", entry.id, self.ttl)
            self._drop(entry)
        return len(dead)

    def close_all(self) -> None:
        for entry in list(self._entries.values()):
            self._drop(entry)

    def _expired(self, entry: SessionEntry, now: float) -> bool:
        return not entry.running and now - entry.last_used_mono > self.ttl

    def _drop(self, entry: SessionEntry) -> None:
        self._entries.pop(entry.id, None)
        self._close(entry)

    @staticmethod
    def _close(entry: SessionEntry) -> None:
        session = entry.session
        if entry.running:
            try:
                asyncio.get_running_loop().create_task(session.cancel())
            except Exception:  # pragma: no cover - best effort
                log.exception("cancelling session %s failed", entry.id)
        try:
            session.close()
        except Exception:  # pragma: no cover
            log.exception("closing session %s failed", entry.id)


class RateLimiter:
    """Token buckets per client key: `rate` tokens per second, `burst` at most."""

    def __init__(self, per_minute: int, burst: int | None):
        self.rate = per_minute / 60.0
        self.burst = float(burst or per_minute)
        self._buckets: dict[str, list[float]] = {}

    def check(self, key: str) -> float:
        """0 if allowed (a token is taken), else the seconds until one is available."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10000:
                self._prune(now)
            bucket = self._buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate if self.rate else 0
        for key, (_tokens, at) in list(self._buckets.items()):
            if now - at > full:
                del self._buckets[key]


class ServerState:
    def __init__(self, settings: Settings, executor: Any):
        self.settings = settings
        self.executor = executor
        self.started = time.time()
        self.pid = os.getpid()
        self.max_workers = executor.max_workers
        self.strict_security = executor.strict_security
        self.isolation = executor.isolation
        self.admission = Admission(self.max_workers, settings.max_queue, settings.queue_timeout)
        self.sessions = SessionStore(executor.session, settings.session_ttl, settings.max_sessions)
        self.metrics = Metrics(lambda: self.admission.running, lambda: self.admission.waiting,
                               lambda: len(self.sessions), self.max_workers)
        self.limiter = (RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
                        if settings.rate_limit_per_minute else None)
        self._keys = [k.encode() for k in settings.api_keys]
        self.draining = False
        self._tasks: set[asyncio.Task] = set()

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
    async def run(self, endpoint: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """Run one execution under admission control; stoppable by shutdown.

        Raises QueueFull or ShuttingDown."""
        if self.draining:
            raise ShuttingDown()
        try:
            waited = await self.admission.acquire()
        except QueueFull:
            self.metrics.executions.inc(endpoint, "rejected")
            raise
        self.metrics.queue_wait_seconds.observe(waited)
        try:
            if self.draining:
                raise ShuttingDown()
            task = asyncio.ensure_future(make())
            self._tasks.add(task)
            try:
                return await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if task.cancelled() and not (current and current.cancelling()):
                    self.metrics.executions.inc(endpoint, "cancelled")
                    raise ShuttingDown() from None
                raise
            finally:
                self._tasks.discard(task)
        finally:
            self.admission.release()

    def stop_running(self) -> int:
        """Drain: refuse new executions and stop the running ones."""
        self.draining = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return len(tasks)

    def result_body(self, endpoint: str, result: Any, *, display: bool = False) -> dict:
        """An executor result as the JSON body of /execute (and sessions)."""
        s = self.settings
        body = {
            "success": bool(result.success),
            "value": None,
            "error": result.error,
            "execution_time": float(result.execution_time or 0.0),
            "transpile_time": float(result.transpile_time or 0.0),
            "stdout": result.stdout or "",
            "stdout_truncated": bool(result.stdout_truncated),
            "stderr": result.stderr or "",
            "error_type": result.error_type,
            "line": result.line,
            "column": result.column,
        }
        outcome = "success"
        if result.success:
            try:
                body["value"] = to_json(result.value, name="result",
                                        max_depth=s.max_result_depth,
                                        max_bytes=s.max_result_bytes)[0]
            except NotSerialisable as exc:
                body.update(success=False, error=f"result is not serialisable: {exc}",
                            error_type="SerialisationError")
                outcome = "unserialisable"
        else:
            if body["error"] is None:
                body["error"] = "execution failed"
            etype = body["error_type"] or ""
            outcome = ("timeout" if etype == "TimeoutError"
                       or str(body["error"]).startswith("Execution timeout") else "error")
        if display:
            from mlpy.display import mime_bundle

            value = result.display_value
            body["display_value"] = None
            body["display"] = None
            body["display_error"] = None
            if value is not None:
                body["display"] = mime_bundle(value, max_json_bytes=s.max_result_bytes)
                try:
                    body["display_value"] = to_json(value, name="display value",
                                                    max_depth=s.max_result_depth,
                                                    max_bytes=s.max_result_bytes)[0]
                except NotSerialisable as exc:
                    body["display_error"] = f"display value is not serialisable: {exc}"
        self.metrics.executions.inc(endpoint, outcome)
        self.metrics.execution_seconds.observe(body["execution_time"], endpoint)
        return body


@dataclass
class FailedResult:
    """Stands in for an executor result when the executor itself raised."""

    error: str
    error_type: str
    success: bool = False
    value: Any = None
    display_value: Any = None
    execution_time: float = 0.0
    transpile_time: float = 0.0
    stdout: str = ""
    stdout_truncated: bool = False
    stderr: str = ""
    line: int | None = None
    column: int | None = None
