"""The one contract between the executor and where ML runs, and how a host waits for a run.

`AsyncMLExecutor` and `Session` talk only to a `Pool`; `make_pool` picks the implementation:

* `ThreadPool` (thread_pool.py): worker threads of this process — one trust domain, fastest.
* `ProcessPool` (process.py): pre-started worker processes with OS limits — untrusted code.

A pool turns a request into a `Job` (`make_job`), runs it (`submit`), stops it
(`request_stop`), opens sessions (`open_session`), reports `stats()` and shuts down.
`run_async` and `run_blocking` are the two ways a host waits for a job: on an event loop
without blocking it, or on a thread; both stream output to `on_output` while the job runs and
stop the job when the waiter is cancelled or interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..runtime.stops import INTERRUPT, Stop
from .jobs import Job
from .output import LoopOutput, OutputCallback, ThreadOutput
from .result import AsyncMLResult

if TYPE_CHECKING:
    from .executor import AsyncMLExecutor
    from .session import Session

InputReader = Callable[[str], "str | None"]
Writer = Callable[[str, str], None]
Submit = Callable[[Job], None]


class Pool(Protocol):
    """Where an executor's jobs run."""

    @property
    def closed(self) -> bool: ...

    def make_job(self, code: str, timeout: float | None, context: Mapping[str, Any] | None,
                 interactive: bool, session: Session | None, write: Writer | None,
                 input: InputReader | None) -> Job: ...

    def submit(self, job: Job) -> None: ...

    def request_stop(self, job: Job, stop: Stop) -> bool: ...

    def open_session(self, context: Mapping[str, Any] | None, *, durable: bool = False,
                     restore: bytes | None = None) -> Session: ...

    def shutdown(self, wait: bool = True, cancel_pending: bool = False,
                 stop: Stop = ...) -> None: ...

    def stats(self) -> dict[str, Any]: ...


def make_pool(executor: AsyncMLExecutor, isolation: str, max_workers: int) -> Pool:
    """The pool for `isolation` ("thread" or "process")."""
    if isolation == "process":
        from .process import ProcessPool
        return ProcessPool(executor, max_workers)
    from .thread_pool import ThreadPool
    return ThreadPool(executor, max_workers)


def check_request(code: object, context: object) -> None:
    """The argument checks every pool's make_job starts with."""
    if not isinstance(code, str):
        raise TypeError(f"code must be a string, not {type(code).__name__}")
    if context is not None and not isinstance(context, Mapping):
        raise TypeError("context must be a mapping of variable names to values")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running on this thread, or None (a reader or worker thread)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _set_future(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


async def run_async(pool: Pool, submit: Submit, code: str, timeout: float | None,
                    context: Mapping[str, Any] | None, on_output: OutputCallback | None,
                    interactive: bool, session: Session | None, input: InputReader | None,
                    output_interval: float) -> AsyncMLResult:
    """Run a job without blocking the event loop; cancelling the awaiting task stops it."""
    loop = asyncio.get_running_loop()
    stream = LoopOutput(loop, on_output, output_interval) if on_output else None
    job = pool.make_job(code, timeout, context, interactive, session,
                        stream.write if stream else None, input)
    fut: asyncio.Future[AsyncMLResult] = loop.create_future()

    def deliver(done: Job) -> None:
        if running_loop() is loop:    # the pool read the reply on this loop
            _set_future(fut, done.result)
            return
        try:
            loop.call_soon_threadsafe(_set_future, fut, done.result)
        except RuntimeError:  # the loop has been closed: nobody is waiting any more
            pass

    job.add_done_callback(deliver)
    submit(job)
    try:
        result = await fut
    except asyncio.CancelledError:
        pool.request_stop(job, INTERRUPT)
        if stream:
            stream.flush()
        raise
    if stream:
        stream.flush()
    return result


def run_blocking(pool: Pool, submit: Submit, code: str, timeout: float | None,
                 context: Mapping[str, Any] | None, on_output: OutputCallback | None,
                 interactive: bool, session: Session | None,
                 input: InputReader | None) -> AsyncMLResult:
    """Run a job and block the calling thread until it ends; `on_output` is called on this
    thread. A KeyboardInterrupt in the host stops the program too."""
    waiter = ThreadOutput(on_output)
    job = pool.make_job(code, timeout, context, interactive, session,
                        waiter.write if on_output else None, input)
    job.add_done_callback(waiter.done)
    submit(job)
    try:
        waiter.wait()
    except BaseException:
        pool.request_stop(job, INTERRUPT)
        raise
    result: AsyncMLResult = job.result
    return result


async def stop_and_wait(pool: Pool, job: Job) -> bool:
    """Ask `pool` to interrupt `job` and wait (without blocking the loop) until it has ended."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def set_done() -> None:
        if not done.done():
            done.set_result(None)

    def wake(_job: Job) -> None:
        try:
            loop.call_soon_threadsafe(set_done)
        except RuntimeError:          # the loop has closed: nobody is waiting any more
            pass

    stopped = pool.request_stop(job, INTERRUPT)
    job.add_done_callback(wake)
    await done
    return stopped
