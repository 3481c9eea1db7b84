"""Session: a persistent namespace on an executor (a notebook kernel, an HTTP session).

Variables, functions and imports persist from one execution to the next. Executions run one
at a time and in the order they were requested; the next one starts only when the previous
one has really finished (or its worker was abandoned), even if the task awaiting it was
cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Mapping
from typing import Callable, Any

from ..runtime.values import ErrorValue, ml_repr, typeof
from .output import OutputCallback
from .pool import QUEUED, Job
from .result import AsyncMLResult

REPR_LIMIT = 80


class Session:
    """Create with `executor.session(context=None)`."""

    def __init__(self, executor, context: Mapping[str, Any] | None = None):
        from .executor import toolchain
        if context is not None and not isinstance(context, Mapping):
            raise TypeError("context must be a mapping of variable names to values")
        self._executor = executor
        self._context = dict(context) if context else None
        self._lock = threading.Lock()
        self._pending: deque[Job] = deque()
        self._current: Job | None = None
        self._closed = False
        self._state: dict = {}
        # Validates the context now: a bad name is an error here, not at the first execution.
        self._namespace: dict | None = toolchain()[1](self._context)

    # -- running ---------------------------------------------------------------------------
    async def execute(self, code: str, timeout: float | None = None,
                      on_output: OutputCallback | None = None, interactive: bool = True,
                      context: Mapping[str, Any] | None = None,
                      input: Callable[[str], str | None] | None = None) -> AsyncMLResult:
        """Run `code` in this session's namespace (after every earlier execution).

        `context` binds (copies of) more variables into the namespace first; `input` is what
        ML's input() reads from (called on the worker thread with the prompt)."""
        self._check_open()
        return await self._executor._execute(code, timeout, context, on_output, interactive,
                                             self, input)

    def run_sync(self, code: str, timeout: float | None = None,
                 on_output: OutputCallback | None = None, interactive: bool = True,
                 context: Mapping[str, Any] | None = None,
                 input: Callable[[str], str | None] | None = None) -> AsyncMLResult:
        """`execute()` for synchronous hosts (blocks the calling thread)."""
        self._check_open()
        return self._executor._run_sync(code, timeout, context, on_output, interactive, self,
                                        input)

    def interrupt(self) -> bool:
        """Ask the running execution to stop and return at once. False: nothing is running."""
        with self._lock:
            job = self._current
        if job is None:
            return False
        from .executor import INTERRUPT
        return self._executor._pool.request_stop(job, INTERRUPT)

    async def cancel(self) -> bool:
        """Stop the running execution (it reports `Execution interrupted`) and wait until it
        has stopped. Queued executions still run. False: nothing was running."""
        with self._lock:
            job = self._current
        if job is None:
            return False
        return await stop_and_wait(self._executor._pool, job)

    @property
    def busy(self) -> bool:
        """True while an execution of this session is queued or running."""
        with self._lock:
            return self._current is not None or bool(self._pending)

    # -- the namespace ---------------------------------------------------------------------
    def variables(self) -> list[dict]:
        """The ML-visible names bound in this session, in binding order:
        `[{"name": "a", "type": "number", "repr": "1"}, ...]` (repr shortened)."""
        namespace = self._namespace
        if namespace is None:
            return []
        snapshot = dict(namespace)     # a running execution may be changing it
        names = self._executor_toolchain()[2](snapshot)
        if isinstance(names, Mapping):
            items = list(names.items())
        else:
            items = [(name, snapshot.get(name)) for name in names]
        return [{"name": name, "type": typeof(value), "repr": short_repr(value)}
                for name, value in items]

    def reset(self) -> None:
        """Forget every variable (the session's context variables are bound again).
        An execution already running keeps the namespace it started with."""
        namespace = self._executor_toolchain()[1](self._context)
        with self._lock:
            self._namespace = namespace
            self._state = {}

    def close(self) -> None:
        """Stop the running execution, drop queued ones and the namespace."""
        with self._lock:
            self._closed = True
            pending = list(self._pending)
            self._pending.clear()
            current = self._current
        from .executor import INTERRUPT
        pool = self._executor._pool
        for job in pending + ([current] if current is not None else []):
            pool.request_stop(job, INTERRUPT)
        self._namespace = None

    @property
    def closed(self) -> bool:
        return self._closed

    # -- executor side -----------------------------------------------------------------------
    def _executor_toolchain(self):
        from .executor import toolchain
        return toolchain()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("session is closed")

    def _namespace_for_run(self, context: Mapping[str, Any] | None):
        """Worker thread: the namespace and library state for the execution starting now."""
        with self._lock:
            if self._namespace is None:
                raise RuntimeError("session is closed")
            namespace, state = self._namespace, self._state
        if context:
            from ..runtime.namespace import bind_context
            bind_context(namespace, dict(context))   # validates the names, copies the values
        return namespace, state

    def _enqueue(self, job: Job) -> None:
        job.add_done_callback(self._on_done)
        with self._lock:
            self._pending.append(job)
            if self._current is not None:
                return
        self._advance()

    def _on_done(self, job: Job) -> None:
        with self._lock:
            if self._current is not job:
                return           # a queued job was cancelled; it is skipped when reached
            self._current = None
        self._advance()

    def _advance(self) -> None:
        with self._lock:
            if self._current is not None:
                return
            job = None
            while self._pending:
                candidate = self._pending.popleft()
                if candidate.state == QUEUED:
                    job = candidate
                    break
            if job is None:
                return
            self._current = job
        pool = self._executor._pool
        if pool.closed:
            from .executor import SHUTDOWN
            pool.request_stop(job, SHUTDOWN)
            return
        pool.submit(job)


async def stop_and_wait(pool, job: Job) -> bool:
    """Ask `pool` to interrupt `job` and wait (without blocking the loop) until it has ended.
    Shared by thread and process sessions."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def wake(_job: Job) -> None:
        try:
            loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))
        except RuntimeError:          # the loop has closed: nobody is waiting any more
            pass

    from .executor import INTERRUPT
    stopped = pool.request_stop(job, INTERRUPT)
    job.add_done_callback(wake)
    await done
    return stopped


def short_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """The container form (`ml_repr`) of `value`, cut to about `limit` characters without
    formatting all of a large container first."""
    text = _bounded(value, limit + 1, set())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def _bounded(value: Any, budget: int, active: set) -> str:
    cls = type(value)
    if cls is list or cls is dict or cls is ErrorValue:
        if not value:
            return "[]" if cls is list else "{}"
        if id(value) in active:
            return "[...]" if cls is list else "{...}"
        active.add(id(value))
        try:
            parts: list[str] = []
            used = 2
            if cls is list:
                items = value
                for item in items:
                    if used > budget:
                        break
                    part = _bounded(item, budget - used, active)
                    parts.append(part)
                    used += len(part) + 2
                open_, close = "[", "]"
            else:
                for key, item in list(value.items()):
                    if used > budget:
                        break
                    part = (_bounded(key, budget - used, active) + ": "
                            + _bounded(item, budget - used, active))
                    parts.append(part)
                    used += len(part) + 2
                open_, close = "{", "}"
            text = open_ + ", ".join(parts)
            if len(parts) < len(value):
                text += ", ..."
            return text + close
        finally:
            active.discard(id(value))
    if cls is str and len(value) > budget:
        return ml_repr(value[:budget]) + "..."
    return ml_repr(value)
