"""Jobs and the stop request every pool shares.

A `Job` is one execution as a pool sees it. Its state moves only through the methods below,
each called under the owning pool's lock:

    queued ──start()──► running ──leave()──► done
       │                   └──abandon()──► abandoned   (stopped from outside: thread left
       └──cancel()──► cancelled                         behind, or worker process killed)

`finish(result)` is separate: it records the result and runs the callbacks exactly once,
whatever the state, and is never called under a pool lock (callbacks may submit more work).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..runtime.stops import Stop

log = logging.getLogger("mlpy.executor")

QUEUED, RUNNING, DONE, CANCELLED, ABANDONED = "queued", "running", "done", "cancelled", "abandoned"

_finish_lock = threading.Lock()


class Job:
    """One unit of work. `run(job)` executes on a worker; `stopped(job)` builds the result
    reported when the job is stopped before `run` could return one."""

    __slots__ = ("run", "stopped", "timeout", "timeout_stop", "state", "stop", "worker",
                 "started", "finished", "result", "_callbacks", "data", "stop_exception",
                 "event", "__weakref__")

    def __init__(self, run: Callable[[Job], Any] | None, stopped: Callable[[Job], Any],
                 timeout: float | None = None, timeout_stop: Stop | None = None, data: Any = None):
        self.run = run
        self.stopped = stopped
        self.timeout = timeout
        self.timeout_stop = timeout_stop
        self.state = QUEUED
        self.stop: Stop | None = None
        self.worker: Any = None
        self.started: float | None = None
        self.finished = False
        self.result: Any = None
        self._callbacks: list[Callable[[Job], None]] = []
        self.data = data
        self.stop_exception: BaseException | None = None   # the HostStop that ended run()
        # a host event the run caused (a real memory error, a size or time limit): what the
        # pool acts on, never inferred from the ML error's type name, which a program chooses
        self.event: str | None = None

    # -- state transitions (under the pool's lock) -------------------------------------------
    def start(self, worker: Any, now: float) -> bool:
        """queued -> running on `worker`. False: the job was cancelled meanwhile."""
        if self.state != QUEUED:
            return False
        self.state = RUNNING
        self.worker = worker
        self.started = now
        return True

    def requeue(self) -> bool:
        """running -> queued: the job never reached its worker (it had died), so another
        worker may run it. False: it is being stopped, or is past starting."""
        if self.state != RUNNING or self.stop is not None:
            return False
        self.state = QUEUED
        self.worker = None
        self.started = None
        return True

    def leave(self) -> None:
        """running -> done: the worker has left the program (its result follows)."""
        if self.state == RUNNING:
            self.state = DONE

    def cancel(self, stop: Stop) -> bool:
        """queued -> cancelled. False: the job is no longer queued."""
        if self.state != QUEUED:
            return False
        self.state = CANCELLED
        self.stop = stop
        return True

    def mark_stop(self, stop: Stop) -> None:
        """Record why a running job is being stopped (the first reason wins)."""
        if self.stop is None:
            self.stop = stop

    def abandon(self) -> None:
        """running -> abandoned: the pool gave up waiting for the worker to leave."""
        self.state = ABANDONED

    # -- completion ----------------------------------------------------------------------------
    def add_done_callback(self, fn: Callable[[Job], None]) -> None:
        """Call `fn(job)` once the job has finished (at once if it already has)."""
        with _finish_lock:
            if not self.finished:
                self._callbacks.append(fn)
                return
        fn(self)

    def finish(self, result: Any) -> bool:
        """Record the result and run the callbacks; False if the job had finished already."""
        with _finish_lock:
            if self.finished:
                return False
            self.finished = True
            self.result = result
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # a host callback failing must not take the worker down
                log.exception("job completion callback failed")
        return True


class StoppablePool:
    """What every pool does the same way when asked to stop a job; a pool says only how a
    running job is stopped (`_stop_running_locked`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def request_stop(self, job: Job, stop: Stop) -> bool:
        """Stop `job`: drop it if still queued, stop it if running. False if it has ended."""
        after = None
        with self._lock:
            cancelled = job.cancel(stop)
            if not cancelled:
                if job.state != RUNNING:
                    return False
                job.mark_stop(stop)
                after = self._stop_running_locked(job)
        if cancelled:
            job.finish(job.stopped(job))
        elif after is not None:
            after()
        return True

    def _stop_running_locked(self, job: Job) -> Callable[[], None] | None:
        """Start stopping the running `job` (under the lock); optionally return what to do
        after the lock is released (sending a message, say)."""
        raise NotImplementedError
