"""The worker process of `AsyncMLExecutor(isolation="process")`.

Started by `process.py` as `python -I -X utf8 -c BOOTSTRAP READ_FD WRITE_FD` with an empty
environment, its working directory in an empty temporary folder and no descriptors but the
two pipes (stdin and stdout are /dev/null). Before any ML code runs it imports the toolchain,
builds the parser, then sets its OS limits (address space, CPU seconds, file size, open files,
no core dumps).

Inside, ML programs run exactly as in thread mode — an `AsyncMLExecutor` with one worker
thread, so time-outs, interrupts, output caps and sessions behave the same — while the main
thread reads the parent's messages. Output is streamed back in batches; the result follows
the last batch. Messages (tuples) are described in `process.py`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

BOOTSTRAP = (
    "import sys\n"
    "from mlpy.executor import worker\n"
    "worker.main(int(sys.argv[1]), int(sys.argv[2]))\n"
)

OUTPUT_BATCH = 32 * 1024        # bytes of output that are sent at once without waiting


def _set_limits(cfg: dict) -> None:
    import resource
    mib = 1 << 20

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
    if cfg.get("memory_limit"):
        setlimit(resource.RLIMIT_AS, int(cfg["memory_limit"]))
    if cfg.get("cpu_limit"):
        cpu = int(cfg["cpu_limit"])
        setlimit(resource.RLIMIT_CPU, cpu, cpu + 5)
    if cfg.get("file_size_limit"):
        setlimit(resource.RLIMIT_FSIZE, int(cfg["file_size_limit"]))
    if cfg.get("open_files_limit"):
        setlimit(resource.RLIMIT_NOFILE, int(cfg["open_files_limit"]))
    del mib


def _one_malloc_arena() -> None:
    # Every thread's malloc arena reserves 64 MiB of address space, which RLIMIT_AS counts.
    try:
        import ctypes
        ctypes.CDLL(None).mallopt(-8, 1)     # M_ARENA_MAX = 1
    except Exception:
        pass


class Worker:
    def __init__(self, read_fd: int, write_fd: int, cfg: dict):
        from . import channel
        from .executor import AsyncMLExecutor
        from .pool import Stop
        from ..runtime.signals import HostStop
        self._channel_mod = channel
        self.inbox = channel.Channel(read_fd=read_fd)
        self.outbox = channel.Channel(write_fd=write_fd)
        self.send_lock = threading.Lock()
        self.cfg = cfg
        self.Stop = Stop
        self.stops = {cls.__name__: cls for cls in _host_stops(HostStop)}
        settings = cfg["settings"]
        self.executor = AsyncMLExecutor(
            max_workers=1, strict_security=cfg["strict_security"], settings=settings,
            capabilities=cfg["capabilities"], allowed_hosts=cfg["allowed_hosts"],
            file_root=cfg["file_root"], env=cfg["env"])
        worker = self

        class _Pool(type(self.executor._pool)):
            def start_clock(self, job):
                super().start_clock(job)
                rid = worker.rid_of.get(job)
                if rid is not None:
                    worker.send(("clock", rid))

        self.executor._pool.__class__ = _Pool
        self.rid_of: dict = {}
        self.jobs: dict[int, Any] = {}
        self.sessions: dict[int, Any] = {}
        self.inputs: dict[int, Any] = {}
        self.memory_limit = cfg.get("memory_limit") or 0
        self.reserve = bytearray(1 << 20)    # freed on MemoryError to report it
        # output: one buffer, flushed by a helper thread every `interval` or when large
        self.out_lock = threading.Lock()
        self.out_wake = threading.Condition(self.out_lock)
        self.out_items: list = []
        self.out_size = 0
        self.interval = settings.output_interval or 0.02
        threading.Thread(target=self._flusher, name="mlpy-output", daemon=True).start()

    # -- sending -----------------------------------------------------------------------------
    def send(self, message: tuple) -> None:
        data = self._channel_mod.dump_from_worker(message)
        with self.send_lock:
            self.outbox.send_bytes(data)

    def _write(self, rid: int):
        def write(stream: str, text: str) -> None:
            with self.out_lock:
                self.out_items.append((rid, stream, text))
                self.out_size += len(text)
                if self.out_size >= OUTPUT_BATCH:
                    try:
                        self._flush_locked()
                    except self._channel_mod.ChannelClosed:
                        os._exit(3)
                elif len(self.out_items) == 1:
                    self.out_wake.notify()
        return write

    def _flush_locked(self) -> None:
        items, self.out_items, self.out_size = self.out_items, [], 0
        if not items:
            return
        batches: dict[int, list] = {}
        for rid, stream, text in items:
            chunks = batches.setdefault(rid, [])
            if chunks and chunks[-1][0] == stream:
                chunks[-1][1].append(text)
            else:
                chunks.append((stream, [text]))
        for rid, chunks in batches.items():
            self.send(("out", rid, [(stream, "".join(parts)) for stream, parts in chunks]))

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
    def run(self, rid, code, timeout, context, interactive, sid, session_context, has_input):
        session = None
        if sid is not None:
            session = self.sessions.get(sid)
            if session is None:
                session = self.sessions[sid] = self.executor.session(session_context)
        reader = self._input(rid) if has_input else None
        try:
            job = self.executor._make_job(code, timeout, context, interactive, session,
                                          self._write(rid), reader)
        except (TypeError, ValueError) as err:
            self.send(("done", rid, _failure(type(err).__name__, str(err)), False))
            return
        self.rid_of[job] = rid
        self.jobs[rid] = job
        job.add_done_callback(lambda job, rid=rid: self._done(rid, job))
        self.executor._submit(job, session)

    def _done(self, rid: int, job) -> None:
        try:
            self._report(rid, job)
        except BaseException as err:    # never leave the parent waiting
            self.reserve = None
            kind = "MemoryLimit" if isinstance(err, MemoryError) else "InternalError"
            message = (memory_message(self.memory_limit) if isinstance(err, MemoryError)
                       else f"internal error while reporting: {type(err).__name__}")
            try:
                self.send(("done", rid, _failure(kind, message), True))
            except BaseException:
                os._exit(4)

    def _report(self, rid: int, job) -> None:
        self.rid_of.pop(job, None)
        self.jobs.pop(rid, None)
        self.inputs.pop(rid, None)
        result = job.result
        recycle = self.executor._pool.abandoned_total > 0
        fields = _fields(result)
        if fields[7] == "MemoryError" or (fields[7] == "InternalError"
                                          and "MemoryError" in (fields[2] or "")):
            fields = _memory_limit(fields, self.memory_limit)
            recycle = True
        with self.out_lock:
            try:
                self._flush_locked()
                try:
                    data = self._channel_mod.dump_from_worker(("done", rid, fields, recycle))
                except MemoryError:
                    self.reserve = None
                    fields = _memory_limit(fields, self.memory_limit)
                    fields = fields[:1] + (None,) + fields[2:10] + (None,)
                    data = self._channel_mod.dump_from_worker(("done", rid, fields, True))
                except Exception:          # a value pickle cannot take (too deep, ...)
                    fields = fields[:1] + (_opaque(fields[1]),) + fields[2:10] + (
                        _opaque(fields[10]),)
                    data = self._channel_mod.dump_from_worker(("done", rid, fields, recycle))
                with self.send_lock:
                    self.outbox.send_bytes(data)
            except self._channel_mod.ChannelClosed:
                os._exit(3)

    def _input(self, rid: int):
        import queue
        box: queue.SimpleQueue = queue.SimpleQueue()
        self.inputs[rid] = box

        def read(prompt: str = "") -> str | None:
            self.send(("input?", rid, str(prompt)))
            while True:      # short waits, so a stop can land between them
                try:
                    return box.get(timeout=0.05)
                except queue.Empty:
                    continue
        return read

    def stop(self, rid: int, kind: str, cls_name: str, message: str) -> None:
        job = self.jobs.get(rid)
        if job is None:
            return
        base = self.stops.get(cls_name)
        if base is None:
            return
        self.executor._pool.request_stop(job, self.Stop(kind, base, message))

    def variables(self, qid: int, sid: int) -> None:
        session = self.sessions.get(sid)
        try:
            items = session.variables() if session is not None else []
        except Exception:
            items = []
        self.send(("vars", qid, items))

    # -- the loop ----------------------------------------------------------------------------
    def serve(self) -> None:
        load = self._channel_mod.load
        self.send(("ready", os.getpid()))
        while True:
            try:
                message = load(self.inbox.recv_bytes())
            except self._channel_mod.ChannelClosed:
                os._exit(0)
            kind = message[0]
            if kind == "run":
                self.run(*message[1:])
            elif kind == "stop":
                self.stop(*message[1:])
            elif kind == "input":
                box = self.inputs.get(message[1])
                if box is not None:
                    box.put(message[2])
            elif kind == "vars":
                self.variables(*message[1:])
            elif kind == "reset":
                session = self.sessions.get(message[1])
                if session is not None:
                    session.reset()
            elif kind == "drop":
                session = self.sessions.pop(message[1], None)
                if session is not None:
                    session.close()
            elif kind == "exit":
                self.executor.shutdown(wait=False, cancel_pending=True)
                os._exit(0)


def _host_stops(base) -> list:
    out, todo = [], [base]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def _fields(result) -> tuple:
    return (result.success, result.value, result.error, result.execution_time,
            result.transpile_time, None, result.stdout_truncated, result.error_type,
            result.line, result.column, result.display_value)


def _failure(error_type: str, message: str) -> tuple:
    return (False, None, message, 0.0, 0.0, None, False, error_type, None, None, None)


def memory_message(limit: int) -> str:
    if limit:
        return f"memory limit of {limit / (1 << 20):g} MiB exceeded"
    return "out of memory"


def _memory_limit(fields: tuple, limit: int) -> tuple:
    return (False, None, memory_message(limit)) + fields[3:7] + ("MemoryLimit",) + fields[8:10] + (
        None,)


def _opaque(value: Any) -> Any:
    from .channel import remote_value
    from ..runtime.values import typeof
    if value is None:
        return None
    kind = typeof(value)
    return remote_value("object", kind if kind not in ("array", "object") else f"deep {kind}")


def main(read_fd: int, write_fd: int) -> None:
    _one_malloc_arena()                            # before any thread exists
    threading.stack_size(512 << 10)                # helper threads; the worker sets its own
    from . import channel
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    inbox = channel.Channel(read_fd=read_fd)
    cfg = channel.load(inbox.recv_bytes())
    if cfg.get("path"):
        sys.path[:] = cfg["path"]
    import mlpy
    mlpy.compile("x = 1;")                         # build the parser before the limits
    mlpy.compile("x = 1", interactive=True)
    worker = Worker(read_fd, write_fd, cfg)
    worker.executor.run_sync("result = 1;")        # start its worker thread
    _set_limits(cfg)
    try:
        worker.serve()
    except MemoryError:
        worker.reserve = None
        os._exit(4)
    except BaseException:
        os._exit(5)


if __name__ == "__main__":   # pragma: no cover - started through BOOTSTRAP
    main(int(sys.argv[1]), int(sys.argv[2]))
