"""`AsyncMLExecutor(isolation="process")`: ML runs in pre-started worker processes.

Each worker (`worker.py`) is started with fork+exec of a fresh interpreter (never a fork of
the host, which has threads), an empty environment, an empty temporary working directory and
no inherited descriptors but its two pipes, and sets OS limits before any ML code runs:
address space (`memory_limit`, default 256 MiB), CPU seconds, file size, open files, no core
dumps. Inside, programs run exactly as in thread mode, so results are the same.

The parent side here:
- `ProcessPool` keeps `max_workers` slots, each holding one worker process, plus one spare
  process already started, so a replacement is ready at once.
- Each worker's messages (the typed records of `channel.py`) are read and dispatched by type
  on the host's event loop when the executor was given one (`loop=`, the server's: no thread
  hop and no wake-up between a reply and the request waiting for it), else by a reader
  thread per worker. Either way what ends a worker (killing it, waiting for it, starting a
  replacement) runs on a thread of its own, never on the loop.
- A watchdog thread SIGKILLs a worker whose program has not reported `timeout + kill_grace`
  after it was sent the run — compiling counts (or `kill_grace` after a stop was requested): a long C call (a
  pathological regular expression, a giant integer operation) cannot hold a worker. The slot
  gets the spare process and a new spare is started.
- One-shot workers are recycled when their measured resident set has grown over
  `recycle_rss` (or they used half their lifetime CPU limit), and after a host event (a real
  memory error, a time-out or size limit: `Done.event`, never the ML error's type name); a
  session's process is never recycled.
- Each session has a worker process of its own (taken from the warm spare), never shared
  with another session or with one-shot runs, and never recycled. If that process dies
  (memory limit, kill, crash, CPU limit) the session is lost: its queued and later runs
  report `SessionLost` with the reason, never a silently empty namespace.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter, deque
from time import perf_counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..runtime.signals import MemoryLimitStop, TimeoutStop
from ..runtime.stops import INTERRUPT, SHUTDOWN, Stop, timeout_stop
from . import channel
from .channel import (Done, Exit, InputReply, InputRequest, Output,
                      Ready, ResetSession, RunRequest, StopRequest, VarsReply, VarsRequest,
                      WorkerConfig)
from .jobs import QUEUED, RUNNING, Job, StoppablePool
from .pool import InputReader, Writer, check_request, running_loop
from .result import AsyncMLResult, memory_message
from .session import Session

if TYPE_CHECKING:
    from .executor import AsyncMLExecutor

log = logging.getLogger("mlpy.executor")

RECYCLE_EVENTS = frozenset({"memory", "timeout", "limit"})   # a worker is replaced after these
# a worker process that ended by itself, by its exit's cause: the OS limit that stopped it
_EXIT_STOPS = {"cpu": "timeout", "memory": "memory"}


class ProcessRun:
    """What one execution needs, and what the parent has received of it so far."""

    __slots__ = ("code", "timeout", "context", "interactive", "session", "write", "input",
                 "rid", "stdout", "stderr", "submitted", "clock", "ended", "proc")

    def __init__(self, code: str, timeout: float | None, context: Mapping[str, Any] | None,
                 interactive: bool, session: ProcessSession | None, write: Writer | None,
                 input: InputReader | None):
        self.code = code
        self.timeout = timeout
        self.context = context
        self.interactive = interactive
        self.session = session
        self.write = write
        self.input = input
        self.rid = 0
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.submitted = perf_counter()
        self.clock: float | None = None
        self.ended: float | None = None
        self.proc: _Proc | None = None


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def worker_rss(pid: int, statm: int | None = None) -> int:
    """The resident set (bytes) of process `pid`, from Linux /proc (`statm`: its
    /proc/PID/statm kept open, read again from the start: one system call, where opening
    it each time cost a few percent of the event loop under load); 0 where it cannot be
    read, so such a platform never recycles on it."""
    try:
        if statm is not None:
            return int(os.pread(statm, 128, 0).split()[1]) * _PAGE_SIZE
        with open(f"/proc/{pid}/statm", "rb") as file:
            return int(file.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def worker_cpu(pid: int) -> float:
    """CPU seconds process `pid` has used so far (0.0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0



class _Proc:
    """One worker process and the thread that reads its messages."""

    def __init__(self, pool: ProcessPool, number: int):
        self.pool = pool
        self.number = number
        self.ready = False
        self.dead = False
        self.retired = False
        self.job: Job | None = None
        self.runs = 0
        self.unmeasured = 0.0     # run seconds since its CPU time was last read
        self.slot: _Slot | None = None
        self.kill_reason: Stop | _Reason | None = None
        self.watch: tuple[float, weakref.ref[Job]] | None = None   # the run's kill deadline
        self.send_lock = threading.Lock()
        self.started = time.monotonic()
        self.ready_at: float | None = None
        self.tmpdir = tempfile.mkdtemp(prefix="mlpy-worker-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.popen = subprocess.Popen(
                channel.child_command("worker", str(to_child_r), str(from_child_w)),
                env={}, cwd=self.tmpdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if pool.worker_stderr else subprocess.DEVNULL,
                pass_fds=(to_child_r, from_child_w), close_fds=True,
                start_new_session=True)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.pid = self.popen.pid
        try:     # (the process's own entry: never another process that reuses the pid)
            self.statm: int | None = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY)
        except OSError:
            self.statm = None
        self.to_child = channel.Channel(write_fd=to_child_w)
        self.from_child = channel.Channel(read_fd=from_child_r)
        self.send(pool.config)
        self.reader: threading.Thread | None = None
        self.frames: channel.Frames | None = None
        loop = pool.loop
        if loop is not None:
            try:
                if running_loop() is loop:
                    self._watch_on_loop()
                else:
                    loop.call_soon_threadsafe(self._watch_on_loop)
                return
            except RuntimeError:       # that loop has closed: a thread reads instead
                pass
        self.reader = threading.Thread(target=self._read, name=f"mlpy-proc-{number}",
                                       daemon=True)
        self.reader.start()

    @property
    def alive(self) -> bool:
        """Not known dead, and not exited (its reader may not have noticed the exit yet): a
        spare killed a moment ago must not be handed to a session."""
        if self.dead:
            return False
        try:
            return self.popen.poll() is None
        except OSError:
            return False

    def send(self, message: tuple) -> bool:
        data = channel.dump(message)
        try:
            with self.send_lock:
                if self.to_child.write_fd is None:
                    return False
                self.to_child.send_bytes(data)
            return True
        except channel.ChannelClosed:
            return False

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                self.popen.kill()
            except OSError:
                pass

    def _dispatch(self, data: bytes) -> None:
        message = channel.load_from_worker(data)
        handler = self.pool.handlers.get(type(message))
        if handler is None:
            raise TypeError(f"unexpected message {type(message).__name__}")
        handler(self, message)

    def _refused(self, err: Exception) -> None:
        if not isinstance(err, channel.ChannelClosed):
            log.error("worker %s sent an invalid message (%s); killed", self.pid, err)
            self.kill_reason = _Reason("the worker process sent an invalid reply",
                                       "RuntimeError")

    def _read(self) -> None:
        """The reader thread (no event loop): one blocking read after another."""
        try:
            while True:
                self._dispatch(self.from_child.recv_bytes())
        except Exception as err:   # ChannelClosed, or a message the parent refuses
            self._refused(err)
        self._ended()

    def _watch_on_loop(self) -> None:
        fd = self.from_child.read_fd
        if fd is None:
            return
        self.frames = channel.Frames()
        self.pool.loop.add_reader(fd, self._readable, fd)   # type: ignore[union-attr]

    def _readable(self, fd: int) -> None:
        """On the event loop: the pipe has data (or its end). One read cannot block."""
        try:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as err:
                raise channel.ChannelClosed(str(err)) from None
            if not chunk:
                raise channel.ChannelClosed("end of file")
            assert self.frames is not None
            for data in self.frames.feed(chunk):
                self._dispatch(data)
        except Exception as err:   # ChannelClosed, or a message the parent refuses
            self._refused(err)
            self.pool.loop.remove_reader(fd)                # type: ignore[union-attr]
            threading.Thread(target=self._ended, name=f"mlpy-proc-end-{self.number}",
                             daemon=True).start()

    def _ended(self) -> None:
        """The worker's messages have ended: make sure it is gone, then tell the pool."""
        self.kill()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.to_child.close()
        self.from_child.close()
        statm, self.statm = self.statm, None
        if statm is not None:
            os.close(statm)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.pool._on_death(self)


class _Reason:
    """Why the parent ended a worker itself (not a stop of the program)."""

    def __init__(self, message: str, ml_type: str):
        self.message = message
        self.ml_type = ml_type


class _Slot:
    """Where a worker process serves: a shared slot (one-shot runs from the shared queue) or
    the slot of one session (its own queue, its own process)."""

    __slots__ = ("index", "proc", "private", "sid", "lost")

    def __init__(self, index: int, sid: int | None = None):
        self.index = index
        self.proc: _Proc | None = None
        self.private: deque[Job] = deque()
        self.sid = sid                    # the session owning this slot (None: shared)
        self.lost: str | None = None      # why the session's process is gone


class ProcessPool(StoppablePool):
    """`max_workers` worker processes serving a shared queue and per-slot session queues."""

    def __init__(self, executor: AsyncMLExecutor, max_workers: int):
        super().__init__()
        settings = executor.settings
        self.executor = executor
        self.max_workers = max_workers
        self.settings = settings
        self.kill_grace = settings.kill_grace
        self.recycle_rss = settings.recycle_rss
        self.cpu_limit = settings.cpu_limit
        self.worker_stderr = True
        self.loop: asyncio.AbstractEventLoop | None = executor.loop
        patterns = executor.capability_patterns
        caps: Any = executor.capabilities
        if patterns:
            caps = {name: patterns.get(name, ()) for name in executor.capabilities}
        # the worker's executor stops a program itself; the parent kills before it abandons
        inner = settings.replace(stop_grace=settings.kill_grace + 5.0,
                                 thread_stack_size=min(settings.thread_stack_size, 16 << 20))
        self.config = WorkerConfig(
            path=list(sys.path), settings=inner, strict_security=executor.strict_security,
            capabilities=caps, allowed_hosts=tuple(executor.allowed_hosts),
            file_root=executor.file_root, env=dict(executor.env))
        self.handlers: dict[type, Callable[[_Proc, Any], None]] = {
            Output: self._on_output, Done: self._on_done,
            InputRequest: self._on_input_request, VarsReply: self._on_vars, Ready: self._on_ready}
        self._wake = threading.Condition(self._lock)
        self._shared: deque[Job] = deque()
        self._slots = [_Slot(i) for i in range(max_workers)]
        self._session_slots: dict[int, _Slot] = {}
        self._spare: _Proc | None = None
        self._numbers = itertools.count(1)
        self._rids = itertools.count(1)
        # when the watchdog wakes next: a new deadline wakes it only if it is earlier
        self._next_wake = float("inf")
        self._queries: dict[int, tuple[threading.Event, list]] = {}
        self._closed = False
        self._procs: set[_Proc] = set()
        # what happened to worker processes, by (event, reason): ("started", "spare"),
        # ("recycled", "rss"), ("killed", "timeout"), ("crashed", "memory"),
        # ("session_lost", "cpu") ... — read by `stats()` for /health and /metrics
        self.events: Counter[tuple[str, str]] = Counter()
        self.last_respawn: float | None = None
        for slot in self._slots:
            self._install(slot, self._spawn("startup"))
        if settings.spare_workers:
            self._spare = self._spawn("spare")
        self._watchdog = threading.Thread(target=self._watch, name="mlpy-proc-watchdog",
                                          daemon=True)
        self._watchdog.start()

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, reason: str) -> _Proc:
        """Start a worker process; `reason` says what for (startup, spare, replacement,
        session)."""
        proc = _Proc(self, next(self._numbers))
        with self._lock:
            self._procs.add(proc)
            self.events["started", reason] += 1
        return proc

    def _total(self, event: str) -> int:
        return sum(n for (kind, _), n in self.events.items() if kind == event)

    def _install(self, slot: _Slot, proc: _Proc) -> None:
        with self._lock:
            slot.proc = proc
            proc.slot = slot

    def _replace(self, slot: _Slot) -> None:
        """Give `slot` the spare process (or a new one) and start a new spare."""
        if self._closed:
            with self._lock:
                slot.proc = None
            return
        started = perf_counter()
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.alive:
            self._install(slot, spare)
            if spare.ready:
                self.last_respawn = perf_counter() - started
            self._pump()
        else:
            self._install(slot, self._spawn("replacement"))
        if self.settings.spare_workers and not self._closed:
            self._replace_spare()

    def _retire(self, proc: _Proc) -> None:
        """Ask an idle process to exit (it is killed if it does not)."""
        with self._lock:
            if proc.retired:
                return
            proc.retired = True
        self._exit(proc)

    def _exit(self, proc: _Proc) -> None:
        """Send a retired process `Exit`; it is killed if it does not go."""
        if not proc.send(Exit()):
            proc.kill()

        def reap():
            try:
                proc.popen.wait(2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
        threading.Thread(target=reap, name="mlpy-proc-reap", daemon=True).start()

    # -- the Pool contract ---------------------------------------------------------------------
    def make_job(self, code: str, timeout: float | None, context: Mapping[str, Any] | None,
                 interactive: bool, session: Session | None, write: Writer | None,
                 input: InputReader | None) -> Job:
        check_request(code, context)
        timeout = self.settings.effective_timeout(timeout)
        assert session is None or isinstance(session, ProcessSession)
        run = ProcessRun(code, timeout, context, bool(interactive), session, write, input)
        return Job(None, self.stopped_result, timeout=timeout, data=run)

    def submit(self, job: Job) -> None:
        """Queue `job`: a session's job on its session's slot, others on the shared queue."""
        if self._closed:
            raise RuntimeError("cannot schedule new executions after shutdown")
        run: ProcessRun = job.data
        run.rid = next(self._rids)
        lost = None
        with self._lock:
            if run.session is None:
                self._shared.append(job)
            else:
                slot = self._session_slots.get(run.session.sid)
                lost = "the session is closed" if slot is None else slot.lost
                if lost is None and slot is not None:
                    slot.private.append(job)
        if lost is not None:
            job.finish(session_lost(lost))
            return
        self._pump()

    def open_session(self, context: Mapping[str, Any] | None, *, durable: bool = False,
                     restore: bytes | None = None) -> ProcessSession:
        return ProcessSession(self, context, self.settings.output_interval, durable=durable,
                              restore=restore)

    def _queue_of(self, slot: _Slot | None) -> deque[Job]:
        """Where a slot's jobs wait: its session's own queue, else the shared one."""
        return self._shared if slot is None or slot.sid is None else slot.private

    def _next_job(self, slot: _Slot) -> Job | None:
        queue = self._queue_of(slot)
        while queue:
            job = queue.popleft()
            if job.state == QUEUED:
                return job
        return None

    def _all_slots(self) -> list[_Slot]:
        return self._slots + list(self._session_slots.values())

    def _pump(self) -> None:
        sends = []
        retire = []
        with self._lock:
            for slot in self._all_slots():
                proc = slot.proc
                if proc is None or not proc.ready or proc.dead or proc.retired or proc.job:
                    continue
                job = self._next_job(slot)
                if job is None:
                    if self._closed:
                        retire.append(proc)
                    continue
                run: ProcessRun = job.data
                now = time.monotonic()
                job.start(proc, now)
                run.proc = proc
                run.clock = perf_counter()     # a worker runs one job: it starts on arrival
                proc.job = job
                limit = (run.timeout or 0) + self.kill_grace   # compiling counts too
                if run.timeout is not None:
                    self._arm_locked(proc, job, now + limit)
                session = run.session
                sends.append((proc, RunRequest(
                    run.rid, run.code, run.timeout, run.context, run.interactive,
                    session.sid if session else None, session.context if session else None,
                    run.input is not None, bool(session and session.durable),
                    session.take_restore() if session else None)))
        for proc, message in sends:
            try:
                ok = proc.send(message)
            except Exception as err:      # a context value that cannot be pickled
                ok = True
                self._finish_unsent(proc, message.rid, err)
            if not ok:                    # it died before the job reached it
                self._requeue_unsent(proc, message.rid)
                proc.kill()
        for proc in retire:
            self._retire(proc)

    def _requeue_unsent(self, proc: _Proc, rid: int) -> None:
        """A job whose worker died before it could be sent goes back to the head of its
        queue: none of it ran, so the worker that replaces this one runs it (nothing lost)."""
        with self._lock:
            job = proc.job
            if job is None or job.data.rid != rid or not job.requeue():
                return
            proc.job = None
            job.data.proc = None
            self._queue_of(proc.slot).appendleft(job)
            self.events["requeued", "worker gone"] += 1

    def _finish_unsent(self, proc: _Proc, rid: int, err: Exception) -> None:
        with self._lock:
            job = proc.job
            if job is None or job.data.rid != rid:
                return
            proc.job = None
            job.leave()
        message = str(err) if isinstance(err, TypeError) else (
            f"context cannot be sent to the worker process: {err}")
        job.finish(AsyncMLResult(False, error=message, error_type="TypeError"))
        self._pump()

    def _arm_locked(self, proc: _Proc, job: Job, deadline: float) -> None:
        """`proc` is killed at `deadline` if it still runs `job` then (a stop's deadline
        only ever comes earlier). One deadline per process, not a heap of every run's: the
        finished runs' entries made the watchdog pop ~10,000 of them under the lock every
        few seconds under load (a 10-20 ms stall of every request)."""
        watch = proc.watch
        if watch is not None and watch[1]() is job:
            deadline = min(deadline, watch[0])
        proc.watch = (deadline, weakref.ref(job))      # a finished job is freed at once
        if deadline < self._next_wake:
            self._next_wake = deadline
            self._wake.notify()          # the watchdog sleeps until the earliest deadline

    # -- stopping ----------------------------------------------------------------------------
    def _stop_running_locked(self, job: Job) -> Callable[[], None]:
        proc: _Proc = job.worker
        self._arm_locked(proc, job, time.monotonic() + self.kill_grace)
        stop = job.stop or INTERRUPT
        message = StopRequest(job.data.rid, stop.kind, stop.base.__name__, stop.message)

        def send() -> None:
            proc.send(message)
        return send

    def _watch(self) -> None:
        while True:
            kill = []
            with self._lock:
                if self._closed and not self._procs:
                    return
                now = time.monotonic()
                wake = now + 0.5
                for proc in self._procs:
                    watch = proc.watch
                    if watch is None:
                        continue
                    deadline, ref = watch
                    job = ref()
                    if job is None or proc.job is not job or proc.dead:
                        proc.watch = None          # that run has ended
                    elif deadline <= now:
                        proc.watch = None
                        if job.stop is None:     # a timeout deadline (stops set their own)
                            job.mark_stop(timeout_stop(job.data.timeout or 0.0))
                        proc.kill_reason = job.stop
                        job.abandon()
                        kill.append(proc)
                    else:
                        wake = min(wake, deadline)
                self._next_wake = wake
                if not kill:
                    self._wake.wait(max(wake - now, 0.0))
            for proc in kill:
                stop = proc.kill_reason
                self.events["killed", stop.kind if isinstance(stop, Stop) else "stop"] += 1
                log.warning("worker process %s did not stop in time; killed", proc.pid)
                proc.kill()

    # -- messages from a worker ----------------------------------------------------------------
    def _job_of(self, proc: _Proc, rid: int) -> Job | None:
        job = proc.job
        return job if job is not None and job.data.rid == rid else None

    def _on_output(self, proc: _Proc, message: Output) -> None:
        job = self._job_of(proc, message.rid)
        if job is None:
            return
        run: ProcessRun = job.data
        for stream, text in message.chunks:
            if stream != "display":              # display messages: only to `write`
                (run.stdout if stream == "stdout" else run.stderr).append(text)
            if run.write is not None:
                run.write(stream, text)

    def _on_input_request(self, proc: _Proc, message: InputRequest) -> None:
        job = self._job_of(proc, message.rid)
        if job is not None and job.data.input is not None:
            self._answer_input(proc, message.rid, job.data.input, message.prompt)

    def _on_vars(self, proc: _Proc, message: VarsReply) -> None:
        waiter = self._queries.get(message.qid)
        if waiter is not None:
            waiter[1].append(message.items)
            waiter[0].set()

    def _on_ready(self, proc: _Proc, message: Ready) -> None:
        with self._lock:
            proc.ready = True
            proc.ready_at = time.monotonic()
        self._pump()

    def _answer_input(self, proc: _Proc, rid: int, reader: InputReader, prompt: str) -> None:
        def answer():
            try:
                text = reader(prompt)
                reply = text if text is None or isinstance(text, str) else str(text)
            except Exception as err:
                reply = {"error": f"input failed: {err}"}
            proc.send(InputReply(rid, reply))
        threading.Thread(target=answer, name="mlpy-input", daemon=True).start()

    def _worn(self, proc: _Proc) -> str | None:
        """Whether a one-shot worker measures over `recycle_rss` resident bytes ("rss") or
        over half its lifetime CPU limit ("cpu"): replaced between runs, before a limit can
        end a run."""
        if self.recycle_rss is not None and worker_rss(proc.pid, proc.statm) > self.recycle_rss:
            return "rss"          # (every run: one run can leave much memory behind)
        if self.cpu_limit is not None and proc.unmeasured >= self.cpu_limit / 20:
            # read only once the runs since the last read could have used a twentieth of
            # the limit (their wall time bounds their CPU time): far from the limit still
            proc.unmeasured = 0.0
            if worker_cpu(proc.pid) > self.cpu_limit / 2:
                return "cpu"
        return None

    def _on_done(self, proc: _Proc, message: Done) -> None:
        recycle = message.recycle
        pinned = proc.slot is not None and proc.slot.sid is not None    # a session's: kept
        for spent in (getattr(message.result, "execution_time", 0.0),
                      getattr(message.result, "transpile_time", 0.0)):
            proc.unmeasured += spent if isinstance(spent, float) else 0.0
        worn = (None if pinned or message.event in RECYCLE_EVENTS
                else self._worn(proc))                                   # /proc, unlocked
        with self._lock:
            job = self._job_of(proc, message.rid)
            if job is None:
                return
            proc.job = None
            proc.runs += 1
            job.leave()
            slot = proc.slot
            if slot is not None and slot.sid is not None:
                recycle = False           # a session's process keeps its namespace
            elif message.event in RECYCLE_EVENTS or worn:
                recycle = True
        result = self._result(job, message.result)
        if recycle and slot is not None and slot.proc is proc:
            self.events["recycled", message.event or worn or "abandoned"] += 1
            if self.loop is not None:     # starting a process must not hold up the loop
                with self._lock:
                    proc.retired = True       # (no run is sent to it meanwhile)
                threading.Thread(target=self._recycle, args=(proc, slot),
                                 name="mlpy-proc-recycle", daemon=True).start()
            else:
                self._retire(proc)
                self._replace(slot)
        job.finish(result)
        self._pump()

    def _recycle(self, proc: _Proc, slot: _Slot) -> None:
        self._exit(proc)
        self._replace(slot)

    def _on_death(self, proc: _Proc) -> None:
        with self._lock:
            proc.dead = True
            self._procs.discard(proc)
            job, proc.job = proc.job, None
            slot = proc.slot
            was_spare = self._spare is proc
            if was_spare:
                self._spare = None
            self._wake.notify()
        message, _, cause = self._exit_error(proc)
        killed = proc.kill_reason
        if killed is None and not proc.retired and not self._closed:
            self.events["crashed", cause] += 1        # it ended by itself
        elif isinstance(killed, Stop):
            cause = killed.kind
        elif killed is not None:
            cause = "invalid reply"
        reason = None
        if job is not None:
            result = self.stopped_result(job, proc)
            reason = result.error
            job.finish(result)
        if slot is not None and slot.sid is not None:
            if not proc.retired:
                self._lose(slot, reason or message, cause)
        elif slot is not None and slot.proc is proc and not proc.retired:
            self._replace(slot)
        elif was_spare and not self._closed and self.settings.spare_workers:
            self._replace_spare()
        self._pump()

    def _replace_spare(self) -> None:
        def start():
            proc = self._spawn("spare")
            with self._lock:
                if self._spare is None and not self._closed:
                    self._spare = proc
                    return
            self._retire(proc)
        threading.Thread(target=start, name="mlpy-proc-spawn", daemon=True).start()

    def _lose(self, slot: _Slot, reason: str, cause: str) -> None:
        """A session's process died: the session is lost, and says why from now on."""
        with self._lock:
            slot.lost = reason
            slot.proc = None
            queued = list(slot.private)
            slot.private.clear()
            self.events["session_lost", cause] += 1
        log.warning("session %s lost: %s", slot.sid, reason)
        for job in queued:
            job.finish(session_lost(reason))

    def _exit_error(self, proc: _Proc) -> tuple[str, str, str]:
        """(message, ML error type, short cause) for a worker process that ended by itself:
        what its exit status says (the CPU or memory limit, a signal, or an unexpected
        exit)."""
        code = proc.popen.returncode
        if code == -signal.SIGXCPU:
            return ("CPU time limit of the worker process exceeded", TimeoutStop.ml_type,  # run time
                    "cpu")
        if code == channel.EXIT_OUT_OF_MEMORY:
            return (memory_message(self.settings.memory_limit), MemoryLimitStop.ml_type,
                    "memory")
        if code is not None and code < 0:
            name = _signal_name(-code)
            return (f"the worker process running the program was killed ({name})",
                    "RuntimeError", name.lower())
        return (f"the worker process running the program ended unexpectedly "
                f"(exit status {code})"), "RuntimeError", "exit"

    # -- results -----------------------------------------------------------------------------
    @staticmethod
    def _result(job: Job, result: AsyncMLResult) -> AsyncMLResult:
        """The worker's result with the output the parent collected from `Output` batches."""
        if not isinstance(result, AsyncMLResult):
            return AsyncMLResult(False, error="the worker process sent an invalid reply",
                                 error_type="RuntimeError")
        run: ProcessRun = job.data
        result.stdout = "".join(run.stdout)
        result.stderr = "".join(run.stderr)
        return result

    def stopped_result(self, job: Job, proc: _Proc | None = None) -> AsyncMLResult:
        run: ProcessRun = job.data
        stop = job.stop or (proc.kill_reason if proc is not None else None)
        message, kind = (stop.message, stop.ml_type) if stop is not None else (None, None)
        stopped_by = stop.kind if isinstance(stop, Stop) else None
        if proc is not None and proc.kill_reason is None:
            message, kind, cause = self._exit_error(proc)
            stopped_by = _EXIT_STOPS.get(cause)
        if message is None:
            message, kind, stopped_by = "Execution interrupted", "KeyboardInterrupt", "interrupt"
        execution_time = 0.0
        if run.clock is not None:
            execution_time = perf_counter() - run.clock
        return AsyncMLResult(False, error=message, error_type=kind,
                             execution_time=execution_time, stdout="".join(run.stdout),
                             stderr="".join(run.stderr), stopped_by=stopped_by)

    # -- sessions ----------------------------------------------------------------------------
    def pin(self, sid: int) -> None:
        """Give session `sid` a process of its own: the warm spare (a new spare starts), or a
        freshly started one."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot open sessions after shutdown")
            spare, self._spare = self._spare, None
            slot = self._session_slots[sid] = _Slot(-sid, sid)
        proc = spare if spare is not None and spare.alive else self._spawn("session")
        self._install(slot, proc)
        if self.settings.spare_workers:
            self._replace_spare()

    def unpin(self, sid: int) -> None:
        """The session is closed: its process exits."""
        with self._lock:
            slot = self._session_slots.pop(sid, None)
            proc = slot.proc if slot is not None else None
        if proc is not None and not proc.dead:
            self._retire(proc)

    def lost_reason(self, sid: int) -> str | None:
        """Why session `sid`'s process is gone, or None while it lives."""
        slot = self._session_slots.get(sid)
        return "the session is closed" if slot is None else slot.lost

    def session_pid(self, sid: int) -> int | None:
        """The pid of session `sid`'s process (None once lost or closed)."""
        proc = self._session_proc(sid)
        return proc.pid if proc is not None else None

    def reset_session(self, sid: int) -> None:
        proc = self._session_proc(sid)
        if proc is not None:
            proc.send(ResetSession(sid))

    def _session_proc(self, sid: int) -> _Proc | None:
        slot = self._session_slots.get(sid)
        proc = slot.proc if slot is not None else None
        return proc if proc is not None and not proc.dead else None

    def variables(self, sid: int, timeout: float = 5.0) -> list:
        proc = self._session_proc(sid)
        if proc is None or not proc.ready:
            return []
        qid = next(self._rids)
        event, replies = threading.Event(), []  # type: tuple[threading.Event, list[list]]
        self._queries[qid] = (event, replies)
        try:
            if not proc.send(VarsRequest(qid, sid)) or not event.wait(timeout):
                return []
            return replies[0] if replies else []
        finally:
            self._queries.pop(qid, None)

    # -- lifecycle ---------------------------------------------------------------------------
    def shutdown(self, wait: bool = True, cancel_pending: bool = False,
                 stop: Stop = SHUTDOWN) -> None:
        with self._lock:
            self._closed = True
            pending: list[Job] = []
            if cancel_pending:
                for queue in [self._shared] + [s.private for s in self._all_slots()]:
                    pending.extend(j for j in queue if j.state == QUEUED)
                    queue.clear()
            running = [s.proc.job for s in self._all_slots()
                       if s.proc is not None and s.proc.job]
            spare, self._spare = self._spare, None
            self._wake.notify_all()
        for job in pending:
            self.request_stop(job, stop)
        if cancel_pending:
            for job in running:
                self.request_stop(job, stop)
        if spare is not None:
            self._retire(spare)
        self._pump()
        if wait:
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline:
                with self._lock:
                    busy = any(s.proc is not None and s.proc.job for s in self._all_slots())
                    queued = bool(self._shared) or any(s.private for s in self._all_slots())
                if not busy and not queued:
                    break
                time.sleep(0.01)
            self._pump()
            for proc in list(self._procs):
                if not proc.retired:
                    self._retire(proc)
            for proc in list(self._procs):
                try:
                    proc.popen.wait(max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    proc.kill()
                if proc.reader is not None:
                    proc.reader.join(1.0)

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> dict:
        with self._lock:
            procs = [s.proc for s in self._slots if s.proc is not None]
            return {"isolation": "process", "max_workers": self.max_workers,
                    "workers": sum(1 for p in procs if p.ready and not p.dead),
                    "busy": sum(1 for p in procs if p.job is not None),
                    "queued": len(self._shared) + sum(len(s.private) for s in self._all_slots()),
                    "sessions": len(self._session_slots),
                    "sessions_lost_total": self._total("session_lost"),
                    "abandoned_total": self._total("killed"),
                    "killed_total": self._total("killed"),
                    "recycled_total": self._total("recycled"),
                    "crashed_total": self._total("crashed"),
                    "spawned_total": self._total("started"),
                    "worker_events": [{"event": e, "reason": r, "count": n}
                                      for (e, r), n in sorted(self.events.items())],
                    "spare_ready": bool(self._spare and self._spare.ready),
                    "memory_limit": self.settings.memory_limit,
                    "processes": len(self._procs), "pids": [p.pid for p in procs]}

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block until every slot (and the spare) has a started worker. False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                procs = [s.proc for s in self._slots] + (
                    [self._spare] if self.settings.spare_workers else [])
                if all(p is not None and p.ready for p in procs):
                    return True
            time.sleep(0.005)
        return False


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def session_lost(reason: str) -> AsyncMLResult:
    """The result of a run on a session whose process is gone: loss announced, never silent."""
    return AsyncMLResult(False, error=f"session lost: {reason}", error_type="SessionLost",
                         stopped_by="lost")


class ProcessSession(Session):
    """A session of a process-isolated executor: its namespace lives in a worker process of
    its own."""

    _sids = itertools.count(1)

    def __init__(self, pool: ProcessPool, context: Mapping[str, Any] | None,
                 output_interval: float, *, durable: bool = False, restore: bytes | None = None):
        super().__init__(pool, context, output_interval, durable=durable, restore=restore)
        self._initial_namespace = None             # validated; the worker builds its own
        self._processes = pool
        self.sid = next(self._sids)
        self._jobs: list[Job] = []
        pool.pin(self.sid)

    def variables(self) -> list[dict]:
        if self._closed:
            return []
        pending = self._variables_to_restore()
        if pending is not None:
            return pending
        return self._processes.variables(self.sid)

    def reset(self) -> None:
        self.take_restore()
        self._processes.reset_session(self.sid)

    @property
    def lost(self) -> str | None:
        return None if self._closed else self._processes.lost_reason(self.sid)

    def enqueue(self, job: Job) -> None:
        with self._lock:
            self._jobs.append(job)
        job.add_done_callback(self._forget)
        self.pool.submit(job)

    def _forget(self, job: Job) -> None:
        with self._lock:
            try:
                self._jobs.remove(job)
            except ValueError:
                pass

    def _running_job(self) -> Job | None:
        with self._lock:
            for job in self._jobs:
                if job.state == RUNNING:
                    return job
        return None

    def _unfinished_jobs(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs if not job.finished]

    def _drain(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)

    def _release(self) -> None:
        self._processes.unpin(self.sid)
