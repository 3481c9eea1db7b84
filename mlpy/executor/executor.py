"""AsyncMLExecutor: the one engine behind the server, the kernel and synchronous hosts.

    executor = AsyncMLExecutor(max_workers=4, strict_security=False)
    result = await executor.execute("result = x + y;", timeout=5.0, context={"x": 10, "y": 20})
    session = executor.session()
    await session.execute("a = 1;"); await session.execute("print(a + 1);")
    executor.shutdown(wait=True)

Each execution is compiled (cached) and run by the executor's `Pool` (pool.py): worker
threads of this process, or pre-started worker processes with OS limits. The event loop never
blocks, a timeout or a cancel really stops the program, output is captured per execution by
its own `OutputSink` (never by swapping `sys.stdout`), streamed to `on_output` while the
program runs and capped by `limits.output_bytes`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..runtime.context import CAPABILITY_NAMES, Limits
from ..runtime.stops import SHUTDOWN
from .output import OutputCallback
from .pool import Pool, make_pool, run_async, run_blocking
from .result import AsyncMLResult
from .session import Session
from .settings import ExecutorSettings

ISOLATIONS = ("thread", "process")


class AsyncMLExecutor:
    """Runs ML programs on `max_workers` workers (threads or processes); see the module docstring."""

    def __init__(self, max_workers: int = 4, strict_security: bool = False, *,
                 settings: ExecutorSettings | None = None, limits: Limits | None = None,
                 capabilities: Iterable[str] | Mapping[str, Iterable[str]] = (),
                 allowed_hosts: Iterable[str] = (), file_root: Any = None,
                 env: Mapping[str, str] | None = None, isolation: str = "thread",
                 loop: asyncio.AbstractEventLoop | None = None):
        if isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError("max_workers must be a positive integer")
        settings = settings or ExecutorSettings()
        if limits is not None:
            settings = dataclasses.replace(settings, limits=limits)
        self.max_workers = max_workers
        self.strict_security = bool(strict_security)
        self.settings = settings
        self.limits = settings.limits
        if isinstance(capabilities, str):
            capabilities = (capabilities,)
        # capability -> the resource patterns it is limited to (only for limited grants)
        self.capability_patterns: dict[str, list[str]] = {}
        if isinstance(capabilities, Mapping):
            self.capability_patterns = {k: list(v) for k, v in capabilities.items() if v}
        granted = tuple(capabilities)
        unknown = [c for c in granted if c != "all" and c not in CAPABILITY_NAMES]
        if unknown:
            raise ValueError(f"unknown capabilities: {', '.join(unknown)} "
                             f"(known: {', '.join(CAPABILITY_NAMES)})")
        self.capabilities = granted
        self.allowed_hosts = tuple(allowed_hosts)
        self.file_root = Path(file_root) if file_root is not None else None
        self.env = dict(env or {})
        self.isolation = isolation
        # process isolation: the workers' replies are read on this loop (a server's, which
        # awaits them there) instead of by a thread per worker; the loop must outlive the
        # executor's use, and `run_sync` must not be called on it
        self.loop = loop
        self.pool: Pool = make_pool(self, isolation, max_workers)

    # -- the public API --------------------------------------------------------------------
    async def execute(self, code: str, timeout: float | None = None,
                      context: Mapping[str, Any] | None = None, *,
                      on_output: OutputCallback | None = None,
                      interactive: bool = False,
                      input: Callable[[str], str | None] | None = None) -> AsyncMLResult:
        """Run `code` in a fresh namespace holding `context`; the result of the run.

        `timeout` (seconds; default `limits.default_timeout`, capped by `limits.max_timeout`)
        bounds the run, not the time spent waiting for a worker. Cancelling the awaiting task
        stops the program."""
        return await run_async(self.pool, self.pool.submit, code, timeout, context, on_output,
                               interactive, None, input, self.settings.output_interval)

    def run_sync(self, code: str, timeout: float | None = None,
                 context: Mapping[str, Any] | None = None, *,
                 on_output: OutputCallback | None = None,
                 interactive: bool = False,
                 input: Callable[[str], str | None] | None = None) -> AsyncMLResult:
        """`execute()` for synchronous hosts: blocks the calling thread (call it from a thread
        that is not running an event loop). `on_output` is called on the calling thread."""
        return run_blocking(self.pool, self.pool.submit, code, timeout, context, on_output,
                            interactive, None, input)

    def session(self, context: Mapping[str, Any] | None = None, *, durable: bool = False,
                restore: bytes | None = None) -> Session:
        """A `Session`: a persistent namespace whose executions run one at a time, in order.
        With isolation="process" the namespace lives in a worker process.

        `durable`: each result carries the session's state as a checkpoint record
        (`result.checkpoint`, see mlpy/checkpoint.py) for the host to store; `restore`: a
        session made from such a record (its first result has `restored` and `lost`)."""
        return self.pool.open_session(context, durable=durable, restore=restore)

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop accepting work. `cancel_pending` also stops queued and running executions
        (they report `Executor shut down`). `wait` waits for the workers to finish."""
        self.pool.shutdown(wait=wait, cancel_pending=cancel_pending, stop=SHUTDOWN)

    def stats(self) -> dict:
        """Worker counts for health checks: isolation, max_workers, workers, busy, queued,
        abandoned_total (process mode adds killed/recycled/crashed/spawned totals and pids)."""
        return self.pool.stats()

    @property
    def closed(self) -> bool:
        return self.pool.closed

    def __enter__(self) -> "AsyncMLExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown(wait=True)

    async def __aenter__(self) -> "AsyncMLExecutor":
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.shutdown)

    def __repr__(self) -> str:
        return (f"AsyncMLExecutor(max_workers={self.max_workers}, "
                f"strict_security={self.strict_security}, isolation={self.isolation!r})")
