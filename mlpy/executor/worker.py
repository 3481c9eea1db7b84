"""The worker process of `AsyncMLExecutor(isolation="process")`.

Started by `process.py` (`channel.child_command("worker", READ_FD, WRITE_FD)`) with an empty
environment, its working directory in an empty temporary folder and no descriptors but the
two pipes (stdin and stdout are /dev/null). Before any ML code runs it imports the toolchain,
builds the parser, then sets its OS limits (address space, CPU seconds, file size, open files,
no core dumps).

Inside, ML programs run exactly as in thread mode — an `AsyncMLExecutor` with one worker
thread, so time-outs, interrupts, output caps and sessions behave the same — while the main
thread reads the parent's messages. Output is streamed back in batches; the result follows
the last batch. The messages are the typed records of `channel.py`.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..runtime.signals import HostStop, MemoryLimitStop
from ..runtime.values import OversizedValue
from ..runtime.stops import Stop
from . import channel
from .channel import (Done, Exit, InputReply, InputRequest, Output,
                      Ready, ResetSession, RunRequest, StopRequest, VarsReply, VarsRequest,
                      WorkerConfig)
from .executor import AsyncMLExecutor
from .jobs import Job
from .result import AsyncMLResult, memory_message
from .session import Session
from .thread_pool import ThreadPool

OUTPUT_BATCH = 32 * 1024        # bytes of output that are sent at once without waiting


def _set_limits(settings: Any) -> None:
    import resource

    def setlimit(which, soft, hard=None):
        if soft is None:
            return
        hard = soft if hard is None else hard
        try:
            current_soft, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                hard = min(hard, current_hard)
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass

    setlimit(resource.RLIMIT_CORE, 0)
    if settings.memory_limit:
        setlimit(resource.RLIMIT_AS, int(settings.memory_limit))
    if settings.cpu_limit:
        cpu = int(settings.cpu_limit)
        setlimit(resource.RLIMIT_CPU, cpu, cpu + 5)
    if settings.file_size_limit:
        setlimit(resource.RLIMIT_FSIZE, int(settings.file_size_limit))
    if settings.open_files_limit:
        setlimit(resource.RLIMIT_NOFILE, int(settings.open_files_limit))


def _one_malloc_arena() -> None:
    # Every thread's malloc arena reserves 64 MiB of address space, which RLIMIT_AS counts.
    try:
        import ctypes
        ctypes.CDLL(None).mallopt(-8, 1)     # M_ARENA_MAX = 1
    except Exception:
        pass


def _exit_for(err: BaseException) -> None:
    os._exit(channel.EXIT_OUT_OF_MEMORY if isinstance(err, MemoryError) else 5)


class Worker:
    def __init__(self, read_fd: int, write_fd: int, cfg: WorkerConfig):
        self.inbox = channel.Channel(read_fd=read_fd)
        self.outbox = channel.Channel(write_fd=write_fd)
        self.send_lock = threading.Lock()
        self.stops = {cls.__name__: cls for cls in _host_stops(HostStop)}
        # the worker is the process a compile is stopped in: no helper processes of its own
        settings = dataclasses.replace(cfg.settings, compile_elsewhere_above=None)
        self.executor = AsyncMLExecutor(
            max_workers=1, strict_security=cfg.strict_security, settings=settings,
            capabilities=cfg.capabilities, allowed_hosts=cfg.allowed_hosts,
            file_root=cfg.file_root, env=cfg.env)
        pool = self.executor.pool
        assert isinstance(pool, ThreadPool)
        self.pool: ThreadPool = pool
        # the program thread dying unreported would leave the parent waiting for the whole
        # timeout: exit instead, with the status the parent reads as the memory cap
        pool.workers.on_thread_death = _exit_for
        self.jobs: dict[int, Job] = {}
        self.sessions: dict[int, Session] = {}
        self.inputs: dict[int, queue.SimpleQueue[Any]] = {}
        self.memory_limit = settings.memory_limit or 0
        cap = settings.max_result_bytes
        self.result_cap = None if cap is None else 3 * cap + (64 << 10)
        self.reserve: bytearray | None = bytearray(1 << 20)    # freed on MemoryError to report it
        # output: one buffer, flushed by a helper thread every `interval` or when large
        self.out_lock = threading.Lock()
        self.out_wake = threading.Condition(self.out_lock)
        self.out_items: list[tuple[int, str, str]] = []
        self.out_size = 0
        self.interval = settings.output_interval or 0.02
        self.handlers: dict[type, Callable[[Any], None]] = {
            RunRequest: self.run, StopRequest: self.stop, InputReply: self.input_reply,
            VarsRequest: self.variables, ResetSession: self.reset, Exit: self.exit}
        threading.Thread(target=self._flusher, name="mlpy-output", daemon=True).start()

    # -- sending -----------------------------------------------------------------------------
    def send(self, message: tuple) -> None:
        data = channel.dump_message_from_worker(message)
        with self.send_lock:
            self.outbox.send_bytes(data)

    def _write(self, rid: int) -> Callable[[str, str], None]:
        def write(stream: str, text: str) -> None:
            with self.out_lock:
                self.out_items.append((rid, stream, text))
                self.out_size += len(text)
                if self.out_size >= OUTPUT_BATCH:
                    try:
                        self._flush_locked()
                    except channel.ChannelClosed:
                        os._exit(3)
                elif len(self.out_items) == 1:
                    self.out_wake.notify()
        return write

    def _flush_locked(self) -> None:
        items, self.out_items, self.out_size = self.out_items, [], 0
        if not items:
            return
        batches: dict[int, list[tuple[str, list[str]]]] = {}
        for rid, stream, text in items:
            chunks = batches.setdefault(rid, [])
            if chunks and chunks[-1][0] == stream and stream != "display":   # kept whole
                chunks[-1][1].append(text)
            else:
                chunks.append((stream, [text]))
        for rid, chunks in batches.items():
            self.send(Output(rid, [(stream, "".join(parts)) for stream, parts in chunks]))

    def _flusher(self) -> None:
        with self.out_lock:
            while True:
                while not self.out_items:
                    self.out_wake.wait()
                self.out_wake.wait(self.interval)
                try:
                    self._flush_locked()
                except Exception:
                    os._exit(3)         # the parent has gone

    # -- running -----------------------------------------------------------------------------
    def run(self, request: RunRequest) -> None:
        rid, session = request.rid, None
        if request.sid is not None:
            session = self.sessions.get(request.sid)
            if session is None:
                session = self.sessions[request.sid] = self.executor.session(
                    request.session_context, durable=request.durable, restore=request.restore)
        reader = self._input(rid) if request.has_input else None
        try:
            job = self.pool.make_job(request.code, request.timeout, request.context,
                                     request.interactive, session, self._write(rid), reader)
        except (TypeError, ValueError) as err:
            self.send(Done(rid, AsyncMLResult(False, error=str(err),
                                              error_type=type(err).__name__), None, False))
            return
        self.jobs[rid] = job

        def report(done: Job) -> None:
            self._done(rid, done)
        job.add_done_callback(report)
        if session is not None:
            session.enqueue(job)
        else:
            self.pool.submit(job)

    def _done(self, rid: int, job: Job) -> None:
        try:
            self._report(rid, job)
        except BaseException as err:    # never leave the parent waiting
            self.reserve = None
            memory = isinstance(err, MemoryError)
            result = AsyncMLResult(False, error=f"internal error while reporting: "
                                   f"{type(err).__name__}", error_type="InternalError")
            if memory:
                result = self._memory_limit(result)
            try:
                self.send(Done(rid, result, "memory" if memory else None, True))
            except BaseException:
                os._exit(channel.EXIT_OUT_OF_MEMORY)

    def _report(self, rid: int, job: Job) -> None:
        self.jobs.pop(rid, None)
        self.inputs.pop(rid, None)
        result: AsyncMLResult = job.result    # (its stdout and stderr went in Output)
        event = job.event
        recycle = self.pool.abandoned_total > 0
        if event == "memory":
            result = self._memory_limit(result)
            recycle = True
        with self.out_lock:
            try:
                self._flush_locked()
                try:
                    data = channel.dump_message_from_worker(Done(rid, result, event, recycle))
                    if self.result_cap is not None and len(data) > self.result_cap:
                        result = self._oversized(result)
                        data = channel.dump_message_from_worker(Done(rid, result, event, recycle))
                except MemoryError:
                    self.reserve = None
                    result = dataclasses.replace(self._memory_limit(result), display_value=None)
                    data = channel.dump_message_from_worker(Done(rid, result, "memory", True))
                except Exception:          # a value pickle cannot take (too deep, ...)
                    result = dataclasses.replace(result, value=_opaque(result.value),
                                                 display_value=_opaque(result.display_value))
                    data = channel.dump_message_from_worker(Done(rid, result, event, recycle))
                with self.send_lock:
                    self.outbox.send_bytes(data)
            except channel.ChannelClosed:
                os._exit(3)

    def _oversized(self, result: AsyncMLResult) -> AsyncMLResult:
        """The result with each of its values whose pickle alone is over the cap replaced
        by an OversizedValue. A string is sent as it is: unpickling it is one copy, and a
        displayed one still shows its first part."""
        cap = self.result_cap
        assert cap is not None
        changes: dict[str, Any] = {}
        for name in ("value", "display_value"):
            value = getattr(result, name)
            if type(value) is str:
                continue
            size = len(channel.dump_from_worker(value))
            if size > cap:
                changes[name] = OversizedValue(size)
        return dataclasses.replace(result, **changes)

    def _memory_limit(self, result: AsyncMLResult) -> AsyncMLResult:
        return dataclasses.replace(result, success=False, value=None, display_value=None,
                                   error=memory_message(self.memory_limit),
                                   error_type=MemoryLimitStop.ml_type, stopped_by="memory")

    def _input(self, rid: int) -> Callable[[str], str | None]:
        box: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.inputs[rid] = box

        def read(prompt: str = "") -> str | None:
            self.send(InputRequest(rid, str(prompt)))
            while True:      # short waits, so a stop can land between them
                try:
                    reply: str | None = box.get(timeout=0.05)
                    return reply
                except queue.Empty:
                    continue
        return read

    def stop(self, request: StopRequest) -> None:
        job = self.jobs.get(request.rid)
        base = self.stops.get(request.stop_class)
        if job is not None and base is not None:
            self.pool.request_stop(job, Stop(request.kind, base, request.message))

    def input_reply(self, message: InputReply) -> None:
        box = self.inputs.get(message.rid)
        if box is not None:
            box.put(message.text)

    def variables(self, request: VarsRequest) -> None:
        session = self.sessions.get(request.sid)
        try:
            items = session.variables() if session is not None else []
        except Exception:
            items = []
        self.send(VarsReply(request.qid, items))

    def reset(self, message: ResetSession) -> None:
        session = self.sessions.get(message.sid)
        if session is not None:
            session.reset()

    def exit(self, _message: Exit) -> None:
        self.executor.shutdown(wait=False, cancel_pending=True)
        os._exit(0)

    # -- the loop ----------------------------------------------------------------------------
    def serve(self) -> None:
        self.send(Ready(os.getpid()))
        while True:
            try:
                message = channel.load(self.inbox.recv_bytes())
            except channel.ChannelClosed:
                os._exit(0)
            self.handlers[type(message)](message)


def _host_stops(base: type) -> list[type]:
    out, todo = [], [base]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def _opaque(value: Any) -> Any:
    from ..runtime.values import typeof
    if value is None:
        return None
    kind = typeof(value)
    return channel.remote_value("object", kind if kind not in ("array", "object")
                                else f"deep {kind}")


def main(read_arg: str, write_arg: str) -> None:
    read_fd, write_fd = int(read_arg), int(write_arg)      # (the command line's text)
    _one_malloc_arena()                            # before any thread exists
    threading.stack_size(512 << 10)                # helper threads; the worker sets its own
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    inbox = channel.Channel(read_fd=read_fd)
    cfg: WorkerConfig = channel.load(inbox.recv_bytes())
    if cfg.path:
        sys.path[:] = cfg.path
    import mlpy
    mlpy.compile("x = 1;")                         # build the parser before the limits
    mlpy.compile("x = 1", interactive=True)
    worker = Worker(read_fd, write_fd, cfg)
    worker.executor.run_sync("result = 1;")        # start its worker thread
    gc.collect()
    gc.freeze()           # the toolchain lives as long as the worker: keep it out of GC scans
    _set_limits(cfg.settings)
    try:
        worker.serve()
    except BaseException as err:
        _exit_for(err)


if __name__ == "__main__":   # pragma: no cover - started through channel.child_command
    main(sys.argv[1], sys.argv[2])
