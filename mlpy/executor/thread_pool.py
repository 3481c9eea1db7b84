"""`isolation="thread"`: ML runs on stoppable worker threads of this process.

One trust domain: programs share the host's memory and have no OS limits of their own (the
size caps, output cap, timeouts and capability checks still apply). Also what runs inside each
worker process of the process pool.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ..errors import MLError, MLTimeoutError
from ..program import translate_elsewhere
from ..runtime.context import Capabilities, ExecutionContext, OutputSink
from ..runtime.slices import plain_data
from ..runtime.stops import INTERRUPT, SHUTDOWN, Stop, ml_position
from .jobs import QUEUED, Job
from .pool import InputReader, Writer, check_request
from .result import AsyncMLResult
from .session import Session, describe_variables
from .threads import WorkerPool
from .toolchain import toolchain

if TYPE_CHECKING:
    from .compile_helpers import CompileHelpers
    from .executor import AsyncMLExecutor

log = logging.getLogger("mlpy.executor")


class ThreadRun:
    """What one execution needs on the worker and what it has measured so far."""

    __slots__ = ("code", "interactive", "context", "session", "sink", "transpile_time",
                 "run_started", "execution_time", "input", "namespace", "lost")

    def __init__(self, code: str, interactive: bool, context: Mapping[str, Any] | None,
                 session: ThreadSession | None, sink: OutputSink, input: InputReader | None):
        self.code = code
        self.input = input            # what ML's input() reads from (None: not available)
        self.interactive = interactive
        self.context = context
        self.session = session
        self.sink = sink
        self.transpile_time = 0.0
        self.run_started: float | None = None
        self.execution_time = 0.0
        self.namespace: dict | None = None      # a session's namespace, once the run has it
        self.lost: list[dict] | None = None     # what a restore before the run could not bind


class ThreadPool:
    """The `Pool` of a thread-isolated executor: `WorkerPool` threads running ML programs."""

    def __init__(self, executor: AsyncMLExecutor, max_workers: int):
        settings = executor.settings
        self.executor = executor
        self.settings = settings
        # imported here, not on a worker: a stop landing inside an import leaves the module's
        # import lock broken, and every later worker importing it waits forever
        toolchain()
        self.workers = WorkerPool(max_workers, stop_grace=settings.stop_grace,
                                  reinject_interval=settings.reinject_interval,
                                  stack_size=settings.thread_stack_size)
        self.compile_helpers: CompileHelpers | None = None
        if settings.compile_elsewhere_above is not None:
            from .compile_helpers import CompileHelpers
            self.compile_helpers = CompileHelpers(settings.compile_elsewhere_above)

    # -- the Pool contract -------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.workers.closed

    def make_job(self, code: str, timeout: float | None, context: Mapping[str, Any] | None,
                 interactive: bool, session: Session | None, write: Writer | None,
                 input: InputReader | None) -> Job:
        check_request(code, context)
        timeout = self.settings.effective_timeout(timeout)
        sink = OutputSink(limit=self.settings.limits.output_bytes, on_output=write)
        assert session is None or isinstance(session, ThreadSession)
        run = ThreadRun(code, bool(interactive), context, session, sink, input)
        return Job(self._run_job, self._stopped_result, timeout=timeout, data=run)

    def submit(self, job: Job) -> None:
        self.workers.submit(job)

    def request_stop(self, job: Job, stop: Stop) -> bool:
        return self.workers.request_stop(job, stop)

    def open_session(self, context: Mapping[str, Any] | None, *, durable: bool = False,
                     restore: bytes | None = None) -> ThreadSession:
        return ThreadSession(self, context, self.settings.output_interval, durable=durable,
                             restore=restore)

    def shutdown(self, wait: bool = True, cancel_pending: bool = False,
                 stop: Stop = SHUTDOWN) -> None:
        self.workers.shutdown(wait=wait, cancel_pending=cancel_pending, stop=stop)
        if self.compile_helpers is not None:
            self.compile_helpers.shutdown()

    def stats(self) -> dict[str, Any]:
        return {"isolation": "thread", **self.workers.stats()}

    @property
    def abandoned_total(self) -> int:
        return self.workers.abandoned_total

    # -- on the worker thread ----------------------------------------------------------------
    def _run_job(self, job: Job) -> AsyncMLResult:
        try:
            result = self._run_program(job)
        except Exception as err:  # a bug below the executor: report it, keep the worker
            return self._internal_error(job, err, "running")
        run: ThreadRun = job.data
        result.stopped_by = job.event
        if run.lost is not None:
            result.restored, result.lost = True, run.lost
        if run.session is not None and run.session.durable and run.namespace is not None:
            self._checkpoint(result, run.namespace)
        return result

    def _checkpoint(self, result: AsyncMLResult, namespace: dict) -> None:
        """Attach the session's state after the run (or why it could not be written)."""
        from ..checkpoint import CheckpointError, dump
        settings = self.settings
        try:
            result.checkpoint = dump(namespace, toolchain().user_variables,
                                     key=settings.checkpoint_key,
                                     max_bytes=settings.checkpoint_max_bytes)
        except CheckpointError as err:
            result.checkpoint_error = str(err)
        except MemoryError:
            result.checkpoint_error = ("the session's state is too large to save within the "
                                       "worker's memory")

    def _restore(self, run: ThreadRun, blob: bytes, namespace: dict,
                 context: ExecutionContext) -> list[dict]:
        """Bind a checkpoint into the session's fresh namespace; what could not be bound."""
        from ..checkpoint import CheckpointError, load, make_function, restore
        settings, strict = self.settings, self.executor.strict_security
        try:
            record = load(blob, key=settings.checkpoint_key,
                          max_bytes=settings.checkpoint_max_bytes)
        except CheckpointError as err:
            return [{"name": "(every variable)", "reason": str(err)}]

        def run_source(source: str, ns: dict) -> str | None:
            try:
                program = toolchain().compile(source, strict_security=strict,
                                              cache=settings.cache)
            except MLError as err:
                return err.message
            outcome = toolchain().execute(program, ns, context)
            return None if outcome.success else outcome.error.message

        try:
            return restore(record, namespace, run_source,
                           lambda source: make_function(source, strict_security=strict))
        except CheckpointError as err:
            return [{"name": "(every variable)", "reason": str(err)}]

    def _compile(self, job: Job) -> Any:
        run: ThreadRun = job.data
        started = perf_counter()
        if self.compile_helpers is not None:
            translate_elsewhere(self.compile_helpers.translate)
        try:
            return toolchain().compile(run.code, interactive=run.interactive,
                                       strict_security=self.executor.strict_security,
                                       cache=self.settings.cache)
        finally:
            run.transpile_time = perf_counter() - started

    def _namespace(self, run: ThreadRun) -> tuple[dict, dict]:
        if run.session is not None:
            return run.session.namespace_for_run(run.context)
        return toolchain().new_namespace(run.context), {}

    def _run_program(self, job: Job) -> AsyncMLResult:
        run: ThreadRun = job.data
        try:
            program = self._compile(job)
        except MLError as err:
            return self._error_result(run, err)
        except Exception as err:
            return self._internal_error(job, err, "compiling")
        try:
            namespace, state = self._namespace(run)
        except MLError as err:
            return self._error_result(run, err)
        except (TypeError, ValueError, KeyError) as err:   # a bad context value
            return self._error_result(run, MLError(_message(err), type=type(err).__name__))
        ex = self.executor
        context = ExecutionContext(
            output=run.sink, capabilities=Capabilities(ex.capabilities, ex.capability_patterns),
            limits=self.settings.limits, file_root=ex.file_root, allowed_hosts=ex.allowed_hosts,
            env=dict(ex.env), state=state, input=run.input)
        if run.session is not None:
            run.namespace = namespace
            blob = run.session.take_restore()
            if blob is not None:
                run.lost = self._restore(run, blob, namespace, context)
        run.run_started = perf_counter()
        try:
            outcome = toolchain().execute(program, namespace, context)
        finally:
            run.execution_time = perf_counter() - run.run_started
        job.event = outcome.host_event
        if run.session is None and plain_data(outcome.value):
            # A namespace is a reference cycle (its functions' globals are the namespace),
            # so its arrays would wait for the cyclic collector, which then walks every
            # item of each while holding the GIL: a stall of the whole server once several
            # ten-million-item runs have piled up. A one-shot run's variables are let go now;
            # a result holding a function keeps them, for the function to use.
            namespace.clear()
        if outcome.success:
            sink = run.sink
            return AsyncMLResult(
                True, value=outcome.value, execution_time=run.execution_time,
                transpile_time=run.transpile_time, stdout=sink.text(),
                stdout_truncated=sink.truncated, stderr=sink.stderr_text(),
                display_value=outcome.display_value if outcome.has_display else None)
        return self._error_result(run, self._reported_error(job, outcome.error))

    @staticmethod
    def _reported_error(job: Job, err: MLError | None) -> MLError | None:
        """A program that ended because the pool stopped it reports the stop's own message."""
        stop = job.stop
        if stop is not None and err is not None and (
                err.type == stop.ml_type or err.message == stop.message
                or isinstance(err, MLTimeoutError)):
            stopped = MLError(stop.message, type=stop.ml_type, line=err.line, column=err.column)
            stopped.traceback = err.traceback
            return stopped
        return err

    def _error_result(self, run: ThreadRun, err: MLError | None) -> AsyncMLResult:
        sink = run.sink
        if err is None:
            err = MLError("execution failed", type="Error")
        return AsyncMLResult(
            False, error=err.message, error_type=err.type, line=err.line,
            column=err.column, execution_time=run.execution_time,
            transpile_time=run.transpile_time, stdout=sink.text(),
            stdout_truncated=sink.truncated, stderr=sink.stderr_text(),
            traceback=err.traceback)

    def _internal_error(self, job: Job, err: Exception, doing: str) -> AsyncMLResult:
        if isinstance(err, MemoryError):
            # the process worker's memory cap (a host event, reported as such by the worker),
            # not a bug: one line, no traceback
            job.event = "memory"
            log.warning("out of memory while %s an ML program", doing)
        else:
            log.exception("internal error while %s an ML program", doing)
        result = self._error_result(
            job.data, MLError(f"internal error while {doing}: {type(err).__name__}: {err}",
                              type="InternalError"))
        result.stopped_by = job.event
        return result

    def _stopped_result(self, job: Job) -> AsyncMLResult:
        """The result of a job stopped before it could report one itself (cancelled while
        queued, stopped outside the runner, or abandoned)."""
        run: ThreadRun = job.data
        if run.run_started is not None and not run.execution_time:
            run.execution_time = perf_counter() - run.run_started
        stop = job.stop or INTERRUPT
        line, column = ml_position(job.stop_exception, origin=True)
        result = self._error_result(run, MLError(stop.message, type=stop.ml_type, line=line,
                                                 column=column))
        result.stopped_by = stop.kind
        return result


def _message(err: BaseException) -> str:
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    return str(err)


class ThreadSession(Session):
    """A session whose namespace lives in this process; its jobs run one at a time on the
    pool's threads."""

    def __init__(self, pool: ThreadPool, context: Mapping[str, Any] | None,
                 output_interval: float, *, durable: bool = False, restore: bytes | None = None):
        super().__init__(pool, context, output_interval, durable=durable, restore=restore)
        self._workers = pool.workers
        self._namespace: dict | None = self._initial_namespace
        self._state: dict = {}
        self._pending: deque[Job] = deque()
        self._current: Job | None = None

    def variables(self) -> list[dict]:
        pending = self._variables_to_restore()
        if pending is not None:
            return pending
        namespace = self._namespace
        if namespace is None:
            return []
        snapshot = dict(namespace)     # a running execution may be changing it
        return describe_variables(toolchain().user_variables(snapshot), snapshot)

    def reset(self) -> None:
        """An execution already running keeps the namespace it started with."""
        namespace = toolchain().new_namespace(self.context)
        with self._lock:
            self._namespace = namespace
            self._state = {}
            self._restore = None

    def namespace_for_run(self, context: Mapping[str, Any] | None) -> tuple[dict, dict]:
        """Worker thread: the namespace and library state for the execution starting now."""
        with self._lock:
            if self._namespace is None:
                raise RuntimeError("session is closed")
            namespace, state = self._namespace, self._state
        if context:
            from ..runtime.namespace import bind_context
            bind_context(namespace, dict(context))   # validates the names, copies the values
        return namespace, state

    # -- the queue -------------------------------------------------------------------------
    def enqueue(self, job: Job) -> None:
        job.add_done_callback(self._on_done)
        with self._lock:
            self._pending.append(job)
            if self._current is not None:
                return
        self._advance()

    def _running_job(self) -> Job | None:
        with self._lock:
            return self._current

    def _unfinished_jobs(self) -> list[Job]:
        with self._lock:
            return ([self._current] if self._current is not None else []) + list(self._pending)

    def _drain(self) -> list[Job]:
        with self._lock:
            jobs = list(self._pending) + ([self._current] if self._current is not None else [])
            self._pending.clear()
        return jobs

    def _release(self) -> None:
        self._namespace = None

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
        if self._workers.closed:
            self._workers.request_stop(job, SHUTDOWN)
            return
        self._workers.submit(job)

