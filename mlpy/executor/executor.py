"""AsyncMLExecutor: the one engine behind the server, the kernel and synchronous hosts.

    executor = AsyncMLExecutor(max_workers=4, strict_security=False)
    result = await executor.execute("result = x + y;", timeout=5.0, context={"x": 10, "y": 20})
    session = executor.session()
    await session.execute("a = 1;"); await session.execute("print(a + 1);")
    executor.shutdown(wait=True)

Each execution is compiled (cached) and run on a worker thread of a `WorkerPool`: the event
loop never blocks, a timeout or a cancel really stops the program (see `pool.py`), output is
captured per execution by its own `OutputSink` (never by swapping `sys.stdout`), streamed to
`on_output` while the program runs and capped by `limits.output_bytes`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Iterable, Mapping
from time import perf_counter
from typing import Any, Callable

from ..errors import MLError, MLTimeoutError
from ..runtime.context import (CAPABILITY_NAMES, Capabilities, ExecutionContext, Limits,
                               OutputSink)
from ..runtime.signals import InterruptStop
from .interrupt import INTERRUPT_MESSAGE, SHUTDOWN_MESSAGE
from .output import LoopOutput, OutputCallback, ThreadOutput
from .pool import Job, Stop, WorkerPool
from .result import AsyncMLResult
from .settings import ExecutorSettings

log = logging.getLogger("mlpy.executor")

_TOOLCHAIN: tuple | None = None


def toolchain() -> tuple[Callable, Callable, Callable, Callable]:
    """(mlpy.compile, new_namespace, user_variables, runner.execute), imported on first use."""
    global _TOOLCHAIN
    if _TOOLCHAIN is None:
        import mlpy
        from mlpy import runner
        from mlpy.runtime import namespace

        _TOOLCHAIN = (mlpy.compile, namespace.new_namespace, namespace.user_variables,
                      runner.execute)
    return _TOOLCHAIN


ISOLATIONS = ("thread", "process")
INTERRUPT = Stop("interrupt", InterruptStop, INTERRUPT_MESSAGE)
SHUTDOWN = Stop("shutdown", InterruptStop, SHUTDOWN_MESSAGE)


class _Run:
    """What one execution needs on the worker and what it has measured so far."""

    __slots__ = ("code", "interactive", "context", "session", "sink", "transpile_time",
                 "run_started", "execution_time", "input")

    def __init__(self, code, interactive, context, session, sink, input=None):
        self.code = code
        self.input = input            # what ML's input() reads from (None: not available)
        self.interactive = interactive
        self.context = context
        self.session = session
        self.sink = sink
        self.transpile_time = 0.0
        self.run_started: float | None = None
        self.execution_time = 0.0


def _set_future(fut: asyncio.Future, result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _deliver_to(loop: asyncio.AbstractEventLoop, fut: asyncio.Future) -> Callable[[Job], None]:
    def deliver(job: Job) -> None:
        try:
            loop.call_soon_threadsafe(_set_future, fut, job.result)
        except RuntimeError:  # the loop has been closed: nobody is waiting any more
            pass
    return deliver


class AsyncMLExecutor:
    """Runs ML programs on `max_workers` threads; see the module docstring."""

    def __init__(self, max_workers: int = 4, strict_security: bool = False, *,
                 settings: ExecutorSettings | None = None, limits: Limits | None = None,
                 capabilities: Iterable[str] | Mapping[str, Iterable[str]] = (),
                 allowed_hosts: Iterable[str] = (), file_root: Any = None,
                 env: Mapping[str, str] | None = None, isolation: str = "thread"):
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
        if isinstance(capabilities, Mapping):
            granted = tuple(capabilities)
            self._patterns = {k: list(v) for k, v in capabilities.items() if v}
        else:
            granted = tuple(capabilities)
            self._patterns = {}
        unknown = [c for c in granted if c != "all" and c not in CAPABILITY_NAMES]
        if unknown:
            raise ValueError(f"unknown capabilities: {', '.join(unknown)} "
                             f"(known: {', '.join(CAPABILITY_NAMES)})")
        self.capabilities = granted
        self.allowed_hosts = tuple(allowed_hosts)
        from pathlib import Path
        self.file_root = Path(file_root) if file_root is not None else None
        self.env = dict(env or {})
        self.isolation = isolation
        if isolation == "process":
            from .process import ProcessPool
            self._pool = ProcessPool(self, max_workers)
            return
        self._pool = WorkerPool(max_workers, stop_grace=settings.stop_grace,
                                reinject_interval=settings.reinject_interval,
                                stack_size=settings.thread_stack_size)

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
        return await self._execute(code, timeout, context, on_output, interactive, None, input)

    def run_sync(self, code: str, timeout: float | None = None,
                 context: Mapping[str, Any] | None = None, *,
                 on_output: OutputCallback | None = None,
                 interactive: bool = False,
                 input: Callable[[str], str | None] | None = None) -> AsyncMLResult:
        """`execute()` for synchronous hosts: blocks the calling thread (call it from a thread
        that is not running an event loop). `on_output` is called on the calling thread."""
        return self._run_sync(code, timeout, context, on_output, interactive, None, input)

    def session(self, context: Mapping[str, Any] | None = None):
        """A `Session`: a persistent namespace whose executions run one at a time, in order.
        With isolation="process" the namespace lives in one worker process."""
        if self.isolation == "process":
            from .process import ProcessSession
            return ProcessSession(self, context)
        from .session import Session
        return Session(self, context)

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop accepting work. `cancel_pending` also stops queued and running executions
        (they report `Executor shut down`). `wait` waits for the workers to finish."""
        self._pool.shutdown(wait=wait, cancel_pending=cancel_pending, stop=SHUTDOWN)

    def stats(self) -> dict:
        """Worker counts for health checks: isolation, max_workers, workers, busy, queued,
        abandoned_total (process mode adds killed/recycled/crashed/spawned totals and pids)."""
        stats = self._pool.stats()
        stats.setdefault("isolation", self.isolation)
        return stats

    @property
    def closed(self) -> bool:
        return self._pool.closed

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

    # -- shared by the executor and its sessions --------------------------------------------
    async def _execute(self, code, timeout, context, on_output, interactive, session,
                       input=None):
        loop = asyncio.get_running_loop()
        stream = LoopOutput(loop, on_output, self.settings.output_interval) if on_output else None
        job = self._make_job(code, timeout, context, interactive, session,
                             stream.write if stream else None, input)
        fut = loop.create_future()
        job.add_done_callback(_deliver_to(loop, fut))
        self._submit(job, session)
        try:
            result = await fut
        except asyncio.CancelledError:
            self._pool.request_stop(job, INTERRUPT)
            if stream:
                stream.flush()
            raise
        if stream:
            stream.flush()
        return result

    def _run_sync(self, code, timeout, context, on_output, interactive, session, input=None):
        waiter = ThreadOutput(on_output)
        job = self._make_job(code, timeout, context, interactive, session,
                             waiter.write if on_output else None, input)
        job.add_done_callback(waiter.done)
        self._submit(job, session)
        try:
            waiter.wait()
        except BaseException:  # KeyboardInterrupt in the host: stop the program too
            self._pool.request_stop(job, INTERRUPT)
            raise
        return job.result

    def _submit(self, job: Job, session) -> None:
        if session is not None:
            session._enqueue(job)
        else:
            self._pool.submit(job)

    def _make_job(self, code, timeout, context, interactive, session, write, input=None) -> Job:
        if not isinstance(code, str):
            raise TypeError(f"code must be a string, not {type(code).__name__}")
        if context is not None and not isinstance(context, Mapping):
            raise TypeError("context must be a mapping of variable names to values")
        timeout = self.settings.effective_timeout(timeout)
        if self.isolation == "process":
            from .process import ProcessRun
            run = ProcessRun(code, timeout, context, bool(interactive), session, write, input)
            return Job(None, self._pool.stopped_result, timeout=timeout, data=run)
        sink = OutputSink(limit=self.limits.output_bytes, on_output=write)
        run = _Run(code, bool(interactive), context, session, sink, input)
        return Job(self._run_job, self._stopped_result, timeout=timeout, data=run,
                   clock_on_start=False)

    # -- on the worker thread ----------------------------------------------------------------
    def _run_job(self, job: Job) -> AsyncMLResult:
        try:
            return self._run_program(job)
        except Exception as err:  # a bug below the executor: report it, keep the worker
            return self._internal_error(job.data, err, "running")

    def _run_program(self, job: Job) -> AsyncMLResult:
        run: _Run = job.data
        compile_, new_namespace, _, execute = toolchain()
        started = perf_counter()
        try:
            program = compile_(run.code, interactive=run.interactive,
                               strict_security=self.strict_security, cache=self.settings.cache)
        except MLError as err:
            run.transpile_time = perf_counter() - started
            return self._error_result(run, err)
        except Exception as err:
            run.transpile_time = perf_counter() - started
            return self._internal_error(run, err, "compiling")
        run.transpile_time = perf_counter() - started
        try:
            if run.session is not None:
                namespace, state = run.session._namespace_for_run(run.context)
            else:
                namespace, state = new_namespace(run.context), {}
        except MLError as err:
            return self._error_result(run, err)
        except (TypeError, ValueError, KeyError) as err:
            return self._error_result(run, MLError(_message(err), type=type(err).__name__))
        context = ExecutionContext(
            output=run.sink, capabilities=Capabilities(self.capabilities, self._patterns),
            limits=self.limits, file_root=self.file_root, allowed_hosts=self.allowed_hosts,
            env=dict(self.env), state=state, input=run.input)
        self._pool.start_clock(job)          # the timeout bounds the run, not the compile
        run.run_started = perf_counter()
        try:
            outcome = execute(program, namespace, context)
        finally:
            run.execution_time = perf_counter() - run.run_started
        sink = run.sink
        if outcome.success:
            return AsyncMLResult(
                True, value=outcome.value, execution_time=run.execution_time,
                transpile_time=run.transpile_time, stdout=sink.text(),
                stdout_truncated=sink.truncated, stderr=sink.stderr_text(),
                display_value=outcome.display_value if outcome.has_display else None)
        err = outcome.error
        stop = job.stop
        if stop is not None and err is not None and (
                err.type == stop.ml_type or err.message == stop.message
                or isinstance(err, MLTimeoutError)):
            err = MLError(stop.message, type=stop.ml_type, line=err.line, column=err.column)
        return self._error_result(run, err)

    def _error_result(self, run: _Run, err: MLError | None) -> AsyncMLResult:
        sink = run.sink
        if err is None:
            err = MLError("execution failed", type="Error")
        return AsyncMLResult(
            False, error=bounded_message(err.message), error_type=err.type, line=err.line,
            column=err.column,
            execution_time=run.execution_time, transpile_time=run.transpile_time,
            stdout=sink.text(), stdout_truncated=sink.truncated, stderr=sink.stderr_text())

    def _internal_error(self, run: _Run, err: Exception, doing: str) -> AsyncMLResult:
        log.exception("internal error while %s an ML program", doing)
        return self._error_result(
            run, MLError(f"internal error while {doing}: {type(err).__name__}: {err}",
                         type="InternalError"))

    def _stopped_result(self, job: Job) -> AsyncMLResult:
        """The result of a job stopped before it could report one itself (cancelled while
        queued, stopped outside the runner, or abandoned)."""
        run: _Run = job.data
        if run.run_started is not None and not run.execution_time:
            run.execution_time = perf_counter() - run.run_started
        stop = job.stop or INTERRUPT
        line, column = ml_position(job.stop_exception)
        return self._error_result(run, MLError(stop.message, type=stop.ml_type, line=line,
                                               column=column))


def ml_position(exc: BaseException | None) -> tuple[int | None, int | None]:
    """Line and column where a stopped program was: the innermost ML frame (code compiled
    from "<ml...>") in the traceback of the first exception of the chain."""
    first = exc
    seen = 0
    while first is not None and first.__context__ is not None and seen < 10_000:
        first, seen = first.__context__, seen + 1
    line = column = None
    tb = first.__traceback__ if first is not None else None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith("<ml"):
            line, column = tb.tb_lineno, None
            for start, _end, col, _end_col in itertools.islice(
                    code.co_positions(), tb.tb_lasti // 2, tb.tb_lasti // 2 + 1):
                if start is not None:
                    line = start
                if col is not None:
                    column = col + 1
        tb = tb.tb_next
    return line, column


MAX_ERROR_MESSAGE = 64 * 1024      # characters of an error message a host receives


def bounded_message(message: str | None) -> str | None:
    """An error message cut to MAX_ERROR_MESSAGE characters (a program can throw any text)."""
    if message is None or len(message) <= MAX_ERROR_MESSAGE:
        return message
    return (message[:MAX_ERROR_MESSAGE]
            + f"... (message truncated: {len(message)} characters)")


def _message(err: BaseException) -> str:
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    return str(err)
