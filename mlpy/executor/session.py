"""Session: a persistent namespace on an executor (a notebook kernel, an HTTP session).

Variables, functions and imports persist from one execution to the next. Executions run one
at a time and in the order they were requested; the next one starts only when the previous
one has really finished (or its worker was abandoned), even if the task awaiting it was
cancelled.

`Session` holds what every session does the same way; `ThreadSession` (thread_pool.py) keeps
its namespace in this process, `ProcessSession` (process.py) in its worker process. They
override only how a job is queued, which job is running, and how the namespace is read,
reset and released.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..runtime.stops import INTERRUPT
from ..display import bounded_repr
from ..runtime.values import typeof
from .jobs import Job
from .output import OutputCallback
from .pool import InputReader, run_async, run_blocking, stop_and_wait
from .result import AsyncMLResult
from .toolchain import toolchain

if TYPE_CHECKING:
    from .pool import Pool

REPR_LIMIT = 80


class Session:
    """Create with `executor.session(context=None)`."""

    def __init__(self, pool: Pool, context: Mapping[str, Any] | None, output_interval: float,
                 *, durable: bool = False, restore: bytes | None = None):
        if context is not None and not isinstance(context, Mapping):
            raise TypeError("context must be a mapping of variable names to values")
        if restore is not None and not isinstance(restore, (bytes, bytearray)):
            raise TypeError("restore must be a checkpoint record (bytes)")
        self.pool = pool
        # durable: every result carries the session's checkpoint; restore: a checkpoint the
        # first execution binds before it runs (its result says what was lost)
        self.durable = durable
        self._restore: bytes | None = bytes(restore) if restore is not None else None
        self.context: dict[str, Any] | None = dict(context) if context else None
        self.output_interval = output_interval
        self._lock = threading.Lock()
        self._closed = False
        # Validates the context now: a bad name is an error here, not at the first execution.
        self._initial_namespace: dict | None = toolchain().new_namespace(self.context)

    # -- running ---------------------------------------------------------------------------
    async def execute(self, code: str, timeout: float | None = None,
                      on_output: OutputCallback | None = None, interactive: bool = True,
                      context: Mapping[str, Any] | None = None,
                      input: InputReader | None = None) -> AsyncMLResult:
        """Run `code` in this session's namespace (after every earlier execution).

        `context` binds (copies of) more variables into the namespace first; `input` is what
        ML's input() reads from (called on the worker thread with the prompt)."""
        self._check_open()
        return await run_async(self.pool, self.enqueue, code, timeout, context, on_output,
                               interactive, self, input, self.output_interval)

    def run_sync(self, code: str, timeout: float | None = None,
                 on_output: OutputCallback | None = None, interactive: bool = True,
                 context: Mapping[str, Any] | None = None,
                 input: InputReader | None = None) -> AsyncMLResult:
        """`execute()` for synchronous hosts (blocks the calling thread)."""
        self._check_open()
        return run_blocking(self.pool, self.enqueue, code, timeout, context, on_output,
                            interactive, self, input)

    def interrupt(self) -> bool:
        """Ask the running execution to stop and return at once. False: nothing is running."""
        job = self._running_job()
        return job is not None and self.pool.request_stop(job, INTERRUPT)

    async def cancel(self) -> bool:
        """Stop the running execution (it reports `Execution interrupted`) and wait until it
        has stopped. Queued executions still run. False: nothing was running."""
        job = self._running_job()
        if job is None:
            return False
        return await stop_and_wait(self.pool, job)

    @property
    def busy(self) -> bool:
        """True while an execution of this session is queued or running."""
        return bool(self._unfinished_jobs())

    def close(self) -> None:
        """Stop the running execution, drop queued ones and the namespace."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for job in self._drain():
            self.pool.request_stop(job, INTERRUPT)
        self._release()

    @property
    def closed(self) -> bool:
        return self._closed

    def _variables_to_restore(self) -> list[dict] | None:
        """`variables()` of a session whose checkpoint is not restored yet (read from it)."""
        blob = self._restore
        if blob is None:
            return None
        from ..checkpoint import CheckpointError, describe
        settings: Any = getattr(self.pool, "settings", None)
        try:
            values = describe(blob, key=getattr(settings, "checkpoint_key", None),
                              max_bytes=getattr(settings, "checkpoint_max_bytes", len(blob)))
        except CheckpointError:
            return []
        return describe_variables(values, values)

    def take_restore(self) -> bytes | None:
        """The checkpoint still to be restored, handed out once (to the first execution)."""
        with self._lock:
            blob, self._restore = self._restore, None
        return blob

    @property
    def lost(self) -> str | None:
        """Why this session's state is gone (its worker process died), or None while it
        lives. Only a process-isolated session can be lost."""
        return None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("session is closed")

    # -- what each kind of session does its own way -----------------------------------------
    def variables(self) -> list[dict]:
        """The ML-visible names bound in this session, in binding order:
        `[{"name": "a", "type": "number", "repr": "1"}, ...]` (repr shortened)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every variable (the session's context variables are bound again), and a
        checkpoint not yet restored."""
        raise NotImplementedError

    def enqueue(self, job: Job) -> None:
        """Queue `job` (made by this session's pool) behind this session's earlier ones."""
        raise NotImplementedError

    def _running_job(self) -> Job | None:
        raise NotImplementedError

    def _unfinished_jobs(self) -> list[Job]:
        raise NotImplementedError

    def _drain(self) -> list[Job]:
        """On close: take every queued and running job (to be stopped)."""
        raise NotImplementedError

    def _release(self) -> None:
        """On close, after the jobs were stopped: drop the namespace."""
        raise NotImplementedError


def describe_variables(items: Any, snapshot: Mapping[str, Any]) -> list[dict]:
    """`variables()` rows from `user_variables` output (a mapping, or names in `snapshot`)."""
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = [(name, snapshot.get(name)) for name in items]
    return [{"name": name, "type": typeof(value), "repr": short_repr(value)}
            for name, value in pairs]


def short_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """The container form (`ml_repr`) of `value`, cut to about `limit` characters without
    formatting all of a large container first."""
    return bounded_repr(value, limit)
