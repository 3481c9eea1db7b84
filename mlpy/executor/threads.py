"""Worker threads that can be stopped: the machinery under the executor.

A `Job` is a callable run on one of the pool's daemon threads. While it runs it is inside the
*stop region*: a timeout (measured from the moment a worker starts it, never from the moment
it was queued) or `request_stop()` raises a `HostStop` in the worker thread and keeps raising
it every `reinject_interval` until the worker has left the region — so a `finally` that loops
cannot hold the worker. A worker that has not left after `stop_grace` (stuck in one long C
call) is abandoned: the job is finished with its stop result, a replacement thread is
started so `max_workers` threads keep serving, and the stuck thread exits on its own when its
C call returns.

Every transition (start, leave, inject, abandon) happens under the pool lock, so an
exception is only ever injected into a thread that is running that very job. An injected
exception that was already pending when the worker left is cleared by the worker itself.
Jobs finish exactly once: `finish()` ignores later calls.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from ..runtime.signals import HostStop
from ..runtime.stops import SHUTDOWN, Stop, raise_in_thread, timeout_stop
from ..runtime.stops import IN_PROGRAM as _in_program
from ..runtime.stops import install_unraisable_filter as _install_unraisable_filter
from ..runtime.stops import clear_async_exc as _clear_async_exc
from .interrupt import sticky_stop_class
from .jobs import RUNNING, Job, StoppablePool

log = logging.getLogger("mlpy.executor")

ABANDONED_REINJECT = 0.5    # seconds between stops sent to an abandoned thread
# With no run in progress when it looks, the watchdog still wakes this soon while runs keep
# coming (a later run's deadline is then later than its wake-up, so arming it wakes no one).
# Sleeping until a run's deadline instead meant a wake-up per run: the watchdog, woken by a
# run's start, gets the GIL only once that run has ended, finds nothing running, and sleeps
# until the next start wakes it again (a GIL handoff per run in a process worker and in a
# thread-isolated server's event loop).
BUSY_WAKE = 1.0

def _exc_class(stop: Stop, thread_id: int) -> type[HostStop]:
    """The class raised in `thread_id` for `stop` (it re-raises itself there)."""
    base: Any = stop.base      # a class: hashable, whatever mypy's stub for BaseException says
    return sticky_stop_class(base, stop.message, thread_id)


class _Worker:
    __slots__ = ("pool", "thread", "ident", "job", "abandoned")

    def __init__(self, pool: "WorkerPool", number: int):
        self.pool = pool
        self.job: Job | None = None
        self.abandoned = False
        self.ident: int | None = None
        self.thread = threading.Thread(target=self._main, name=f"mlpy-worker-{number}",
                                       daemon=True)

    # An injected stop re-arms itself each time it reaches a handler (interrupt.py), so the
    # handlers below must end the barrage before running any Python call: the first thing
    # they do is call the ctypes function directly with operands that need no call.
    def _main(self) -> None:
        try:
            self._serve()
        except BaseException as err:       # a failure outside any job's own handling
            death = self.pool.on_thread_death
            if death is not None:
                death(err)
            raise

    def _serve(self) -> None:
        ident = self.ident = threading.get_ident()
        pool = self.pool
        get = pool._queue.get
        while True:
            job: Job | None = get()
            if job is None:
                return
            if not pool._start(self, job):
                continue
            result = None
            try:
                result = self._run(job)
            except HostStop:
                _clear_async_exc(ident, None)
            # A late stop may have landed while leaving; leave again until we are out.
            while self.job is job:
                try:
                    self._leave(job)
                except HostStop:
                    _clear_async_exc(ident, None)
            if result is None:
                result = job.stopped(job)
            job.finish(result)
            # the stop's traceback holds the program's frames: free them now, not when
            # this worker takes its next job
            job.stop_exception = None
            job = result = None
            if self.abandoned:
                return

    def _run(self, job: Job) -> Any:
        try:
            try:
                assert job.run is not None, "a thread job has a run function"
                return job.run(job)
            except HostStop as stop:
                _clear_async_exc(self.ident, None)
                job.stop_exception = stop
                return None
            except MemoryError:
                # a process worker's memory cap (a host event): no traceback to format, which
                # would need memory too, and a dead worker thread would leave the job unfinished
                job.event = "memory"
                return None
            except Exception:
                log.exception("job failed")
                return None
        finally:
            self._leave(job)

    def _leave(self, job: Job) -> None:
        with self.pool._lock:
            job.leave()
            self.job = None
            _in_program.discard(self.ident)
            _clear_async_exc(self.ident, None)


class WorkerPool(StoppablePool):
    """`max_workers` daemon threads serving one FIFO queue, plus a watchdog thread."""

    def __init__(self, max_workers: int, *, stop_grace: float = 1.0,
                 reinject_interval: float = 0.005, stack_size: int = 0, name: str = "mlpy"):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self.stop_grace = stop_grace
        self.reinject_interval = reinject_interval
        self.stack_size = stack_size
        super().__init__()
        self._wake = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._numbers = itertools.count(1)
        # weak: a finished job (its code, context, output, result) is freed at once, not
        # when its deadline passes
        self._deadlines: list[tuple[float, int, weakref.ref[Job]]] = []
        self._seq = itertools.count()
        self._stopping: dict[Job, list[float]] = {}   # job -> [next injection, abandon at]
        self._abandoned: dict[Job, float] = {}        # job -> next injection
        self._next_wake = float("inf")
        self._started = False
        self._closed = False
        self._watchdog: threading.Thread | None = None
        self.abandoned_total = 0
        # Called in a worker thread about to die of an exception no job handled (out of
        # memory, mostly, where even reporting fails): its job would never finish. A process
        # worker exits here, which its parent reports; a host process keeps the thread's
        # death as it is (and its traceback in the log).
        self.on_thread_death: Callable[[BaseException], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            if self._closed:
                raise RuntimeError("cannot schedule new executions after shutdown")
            _install_unraisable_filter()
            for _ in range(self.max_workers):
                self._spawn_locked()
            self._watchdog = threading.Thread(target=self._watch, name="mlpy-watchdog",
                                              daemon=True)
            self._watchdog.start()
            self._started = True

    def _spawn_locked(self) -> _Worker:
        worker = _Worker(self, next(self._numbers))
        self._workers.append(worker)
        if self.stack_size:
            previous = threading.stack_size(self.stack_size)
            try:
                worker.thread.start()
            finally:
                threading.stack_size(previous)
        else:
            worker.thread.start()
        return worker

    def submit(self, job: Job) -> None:
        if self._closed:
            raise RuntimeError("cannot schedule new executions after shutdown")
        self._ensure_started()
        self._queue.put(job)

    def shutdown(self, wait: bool = True, cancel_pending: bool = False,
                 stop: Stop = SHUTDOWN) -> None:
        with self._lock:
            already = self._closed
            self._closed = True
            workers = list(self._workers)
        if cancel_pending:
            pending = []
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    pending.append(job)
            for job in pending:
                self.request_stop(job, stop)
            for worker in workers:
                running = worker.job
                if running is not None:
                    self.request_stop(running, stop)
        if not already:
            for _ in range(len(workers) + 1):
                self._queue.put(None)
        with self._lock:
            self._wake.notify_all()
        if wait:
            current = threading.current_thread()
            for worker in workers:
                if worker.thread is not current and worker.thread.ident is not None:
                    while worker.thread.is_alive() and not worker.abandoned:
                        worker.thread.join(0.05)
            if self._watchdog is not None and self._watchdog is not current:
                self._watchdog.join(1.0)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the worker side -------------------------------------------------------------------
    def _start(self, worker: _Worker, job: Job) -> bool:
        with self._lock:
            if not job.start(worker, time.monotonic()):
                return False
            worker.job = job
            _in_program.add(worker.ident)     # type: ignore[arg-type]
            self._arm_locked(job)     # the timeout bounds compiling and running alike
        return True

    def _arm_locked(self, job: Job) -> None:
        if job.timeout is None:
            return
        deadline = time.monotonic() + job.timeout
        # the ended runs' entries would otherwise pile up for the watchdog to pop, thousands
        # at a time
        self._drop_ended_locked()
        heapq.heappush(self._deadlines, (deadline, next(self._seq), weakref.ref(job)))
        if deadline < self._next_wake:
            self._next_wake = deadline
            self._wake.notify()

    # -- stopping --------------------------------------------------------------------------
    def _stop_running_locked(self, job: Job) -> None:
        if job not in self._stopping:
            now = time.monotonic()
            self._inject_locked(job)
            self._stopping[job] = [now + self.reinject_interval, now + self.stop_grace]
            self._next_wake = min(self._next_wake, now + self.reinject_interval)
            self._wake.notify()

    def _inject_locked(self, job: Job) -> None:
        worker = job.worker
        if worker is not None and worker.job is job and worker.ident and job.stop is not None:
            raise_in_thread(worker.ident, _exc_class(job.stop, worker.ident))

    def _abandon_locked(self, job: Job) -> None:
        worker = job.worker
        job.abandon()
        if worker is not None:
            worker.abandoned = True
            try:
                self._workers.remove(worker)
            except ValueError:
                pass
        self.abandoned_total += 1
        if self._closed:
            self._queue.put(None)   # the replacement needs its own end marker
        log.warning("worker %s did not stop within %.1f s; abandoned and replaced",
                    worker.thread.name if worker else "?", self.stop_grace)
        self._spawn_locked()

    def _watch(self) -> None:
        while True:
            finished: list[Job] = []
            with self._lock:
                if self._closed and not self._stopping and not any(
                        w.thread.is_alive() for w in self._workers):
                    return
                now = time.monotonic()
                deadlines = self._deadlines
                while deadlines and deadlines[0][0] <= now:
                    _, _, ref = heapq.heappop(deadlines)
                    job = ref()
                    if job is not None and job.state == RUNNING and job.stop is None:
                        job.stop = job.timeout_stop or timeout_stop(job.timeout or 0.0)
                        self._inject_locked(job)
                        self._stopping[job] = [now + self.reinject_interval, now + self.stop_grace]
                for job, times in list(self._stopping.items()):
                    if job.state != RUNNING:
                        del self._stopping[job]
                    elif now >= times[1]:
                        del self._stopping[job]
                        self._abandon_locked(job)
                        self._abandoned[job] = now + ABANDONED_REINJECT
                        finished.append(job)
                    elif now >= times[0]:
                        self._inject_locked(job)
                        times[0] = now + self.reinject_interval
                # an abandoned thread gets the stop again now and then until it has left
                for job, at in list(self._abandoned.items()):
                    if job.worker is None or job.worker.job is not job:
                        del self._abandoned[job]
                    elif now >= at:
                        self._inject_locked(job)
                        self._abandoned[job] = now + ABANDONED_REINJECT
                wake = self._wake_time_locked(now)
                self._next_wake = wake
                if not finished:
                    timeout = None if wake == float("inf") else max(wake - now, 0.0)
                    if self._closed:         # look again soon for the workers' exit
                        timeout = 0.1 if timeout is None else min(timeout, 0.1)
                    self._wake.wait(timeout)
            for job in finished:
                job.finish(job.stopped(job))

    def _wake_time_locked(self, now: float) -> float:
        """When the watchdog must look again: the earliest deadline of a job still running
        (not of one that finished long ago: else it wakes once per finished job, a GIL
        handoff per request under load), of a stop to repeat or of an abandon."""
        deadlines = self._deadlines
        popped = self._drop_ended_locked()
        wake = deadlines[0][0] if deadlines else float("inf")
        if popped and not deadlines:
            wake = now + BUSY_WAKE
        for at in self._abandoned.values():
            wake = min(wake, at)
        for times in self._stopping.values():
            wake = min(wake, times[0], times[1])
        return wake

    def _drop_ended_locked(self) -> bool:
        """Pop the deadline entries of runs that have ended from the top of the heap, up to
        the first run still going; whether any was popped."""
        deadlines = self._deadlines
        popped = False
        while deadlines:
            job = deadlines[0][2]()
            if job is not None and job.state == RUNNING:
                break
            heapq.heappop(deadlines)
            popped = True
        return popped

    # -- introspection ---------------------------------------------------------------------
    def stats(self) -> dict:
        with self._lock:
            busy = sum(1 for w in self._workers if w.job is not None)
            return {"max_workers": self.max_workers, "workers": len(self._workers),
                    "busy": busy, "queued": self._queue.qsize(),
                    "abandoned_total": self.abandoned_total}

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [w.thread for w in self._workers]
