"""`compile(source) -> CompiledProgram`, with a bounded cache keyed by source and options."""

from __future__ import annotations

import ast
import builtins
import functools
import gc
import os
import queue
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from types import CodeType
from typing import Any

from .compiler import TOO_DEEP, Compiler
from .errors import MLError, MLSyntaxError
from .language import KW_PREFIX
from .parser import parse_tokens
from .record import Record

try:
    # the built-in BLAKE2 (what hashlib.blake2b is): importing hashlib loads OpenSSL, ~2.5 ms
    # of every `mlpy run`'s start
    from _blake2 import blake2b as _blake2b
except ImportError:                                     # pragma: no cover - other builds
    from hashlib import blake2b as _blake2b

CACHE_SIZE = 512          # compiled programs of up to SMALL_PROGRAM characters kept
SMALL_PROGRAM = 2048
LARGE_CACHE_SIZE = 4      # larger programs kept (see _cached_large: the caches' byte bound)

# Python's compiler warns about literals it can see will fail (`[1]["a"]`, `"s"(1)`); in ML
# they are run-time errors with ML messages, so the warning would only leak Python wording.
# One filter for code compiled from ML (file names "<ml...>"), set once: toggling the
# process-wide filters around each compile would not be thread-safe.
warnings.filterwarnings("ignore", category=SyntaxWarning, module="<ml")


class CompiledProgram(Record):
    """A compiled ML program: the code object to exec, and what hosts want to know of it."""

    _fields = ("source", "code", "interactive", "strict_security", "has_display", "imports",
               "transpile_time", "filename")

    def __init__(self, source: str, code: CodeType, interactive: bool = False,
                 strict_security: bool = False, has_display: bool = False,
                 imports: list | None = None, transpile_time: float = 0.0,
                 filename: str = "<ml>"):
        self.source = source
        self.code = code
        self.interactive = interactive
        self.strict_security = strict_security
        self.has_display = has_display
        self.imports: list = [] if imports is None else imports   # [(path tuple, line, column)]
        self.transpile_time = transpile_time
        self.filename = filename

    @property
    def tree(self) -> ast.Module:
        """The generated Python syntax tree, made again on demand: kept, it would hold ~10
        nodes per ML token alive in every cached program."""
        return _generate(self.source, self.interactive, self.strict_security, self.filename)[0]

    @property
    def python_source(self) -> str:
        """Readable Python for `mlpy transpile` and `%python` (made on first use)."""
        text = self.__dict__.get("_python_source")
        if text is None:
            text = self.__dict__["_python_source"] = ast.unparse(self.tree)
        return text





def program_id(source: str) -> str:
    """A short digest of a program's text: what its code objects' file name carries, so a
    call stack can say which program (which notebook cell) each frame's code came from."""
    return _blake2b(source.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def code_filename(filename: str, source: str) -> str:
    """`<ml#id>` / `<ml:name#id>`: the file name given to Python's compiler."""
    return f"{filename[:-1]}#{program_id(source)}>"


# Programs by their code file name, for the source lines of a call stack. Weak: a program
# dropped from the compile caches takes its text with it (a frame then falls back to its
# function's own text, kept as the function's docstring).
_PROGRAMS: weakref.WeakValueDictionary[str, CompiledProgram] = weakref.WeakValueDictionary()


def program_source(code_filename: str) -> str | None:
    """The ML text of a live compiled program, by its code objects' file name."""
    program = _PROGRAMS.get(code_filename)
    return program.source if program is not None else None


def compile(source: str, *, interactive: bool = False, strict_security: bool = False,
            cache: bool = True, filename: str = "<ml>") -> CompiledProgram:
    """Parse, check and compile ML source. Raises MLSyntaxError / MLSecurityError."""
    if not isinstance(source, str):
        raise TypeError("ML source must be a string")
    if cache:
        cached = _cached if len(source) <= SMALL_PROGRAM else _cached_large
        return cached(source, interactive, strict_security, filename)
    return _compile(source, interactive, strict_security, filename)


# A compile allocates tens of thousands of small tracked objects (tokens, nodes, Python AST)
# that all stay alive until it ends, so the cyclic GC's young-generation passes find nothing
# and cost ~10% of a large compile. The threshold is raised while compiling instead of the GC
# being paused: it is process-wide state, and if a host stop skips the restore, the GC still
# runs, only less often (a setting many services choose on purpose).
_COMPILE_GC_THRESHOLD = 50_000


def _compile(source: str, interactive: bool, strict_security: bool,
             filename: str) -> CompiledProgram:
    started = time.perf_counter()
    threshold = gc.get_threshold()
    relaxed = threshold[0] < _COMPILE_GC_THRESHOLD
    if relaxed:
        gc.set_threshold(_COMPILE_GC_THRESHOLD, *threshold[1:])
    try:
        # the trees die when _translate returns, before the GC is back to its usual pace,
        # so its next young-generation pass has little to walk
        code, has_display, imports = _translate(source, interactive, strict_security, filename)
    finally:
        if relaxed and gc.get_threshold()[0] == _COMPILE_GC_THRESHOLD:
            gc.set_threshold(*threshold)
    program = CompiledProgram(
        source=source, code=code, interactive=interactive, strict_security=strict_security,
        has_display=has_display, imports=imports,
        transpile_time=time.perf_counter() - started, filename=filename)
    _PROGRAMS[code.co_filename] = program
    return program


def _generate(source: str, interactive: bool, strict_security: bool,
              filename: str) -> tuple[ast.Module, Compiler]:
    """ML source -> the Python syntax tree (and the compiler that made it).

    A program nested past what the recursive passes can descend is refused as spec §7.2
    says (`SyntaxError: program too deeply nested`, with the line of the top-level statement
    holding it), never with Python's RecursionError."""
    try:
        program, tokens = parse_tokens(source, interactive=interactive)
    except RecursionError:
        raise MLSyntaxError(TOO_DEEP) from None
    compiler = Compiler(source, interactive=interactive, strict=strict_security,
                        filename=filename, tokens=tokens)
    try:
        return compiler.compile_module(program), compiler
    except RecursionError:
        raise MLSyntaxError(TOO_DEEP, line=compiler.statement_line) from None


# Where this thread's compiles may be done instead of here: a function taking _translate's
# arguments and returning its tuple, or None to compile here after all. The thread executor
# sets its helper processes' (executor/compile_helpers.py) on its worker threads, so a long
# program's compile holds neither their GIL nor a stop off. Read below the compile caches:
# a cached program never goes there.
_elsewhere: ContextVar[Callable[..., tuple | None] | None] = ContextVar(
    "mlpy_compile_elsewhere", default=None)


def translate_elsewhere(translate: Callable[..., tuple | None] | None) -> None:
    """Have this thread's compiles (from now on) offered to `translate` first (see above)."""
    if _elsewhere.get() is not translate:
        _elsewhere.set(translate)


def _translate(source: str, interactive: bool, strict_security: bool, filename: str) -> tuple:
    """(code object, has a display value, imports) of ML source."""
    elsewhere = _elsewhere.get()
    if elsewhere is not None:
        done = elsewhere(source, interactive, strict_security, filename)
        if done is not None:
            return done
    return _on_compile_stack(_translate_here, source, interactive, strict_security, filename)


def _translate_here(source: str, interactive: bool, strict_security: bool,
                    filename: str) -> tuple:
    tree, compiler = _generate(source, interactive, strict_security, filename)
    return (_python_compile(tree, code_filename(filename, source)), compiler.has_display,
            [(tuple(i.path), i.line, i.column) for i in compiler.imports])


# Spec §7.2: how deep a program may nest must not depend on how deep the caller's stack
# already is. So parse and compile run on a thread of their own with a bounded stack (below:
# started for the compile, or kept from the last one): 32 MiB fits the process workers' 256 MiB
# address-space limit. Operator chains are lowered without recursion
# (and cut into shallow pieces for Python's compiler), so the recursion limit only has to
# cover real nesting; it is raised once to what the runner also uses, never lowered (the
# limit is process-wide: changing it back and forth would race with other threads).
_COMPILE_STACK = 32 * 1024 * 1024
_COMPILE_RECURSION = 3200
_stack_lock = threading.Lock()


class _CompileAbandoned(BaseException):
    """Sent to a compile thread whose caller was stopped; nobody reads its result."""


# Compile threads are started by one thread of their own, never by the caller. CPython gives
# a thread being started a thread state that carries its *parent's* id until the new thread
# runs, and PyThreadState_SetAsyncExc delivers to the first state with the id: a host stop
# aimed at a pool worker in the instant it starts a thread lands in the new thread instead
# (which dies before it is marked started, leaving the worker blocked in Thread.start with
# the stop lost, holding _stack_lock: every later compile of the process then hung). Nothing
# ever sends a stop to the starter, so nothing can be misdelivered through its threads.
_starts: queue.SimpleQueue = queue.SimpleQueue()
_starter: list = [None, 0]             # the starter thread and the pid it belongs to
_starter_lock = threading.Lock()


def _start_threads() -> None:
    while True:
        thread, started = _starts.get()
        with _stack_lock:
            previous = threading.stack_size()
            try:
                threading.stack_size(_COMPILE_STACK)
                try:
                    thread.start()
                finally:
                    threading.stack_size(previous)
            except (RuntimeError, MemoryError, ValueError):
                pass                           # no room for the thread: ident stays None
        started.set()


def _start(thread: threading.Thread) -> threading.Event:
    """Have the starter start `thread`; the event is set once it has tried."""
    if _starter[0] is None or _starter[1] != os.getpid():     # first use, or a forked child
        with _starter_lock:
            if _starter[0] is None or _starter[1] != os.getpid():
                starter = threading.Thread(target=_start_threads, name="mlpy-compile-starter",
                                           daemon=True)
                starter.start()
                _starter[:] = [starter, os.getpid()]
    started = threading.Event()
    _starts.put((thread, started))
    return started


_NOTHING = object()


class _Job:
    """One compile for a compile thread, and its outcome. Every slot is filled from the
    start: recording the outcome allocates nothing, so it still works when the compile has
    used up a worker's memory."""

    __slots__ = ("fn", "args", "wanted", "ran", "value", "error", "done", "worker",
                 "memory_capped")

    def __init__(self, fn: Callable, args: tuple) -> None:
        self.fn = fn
        self.args = args
        self.wanted = True          # cleared when the caller leaves without the outcome
        self.ran = False
        self.value: Any = _NOTHING
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()         # released once the outcome is recorded
        self.worker: _CompileThread | None = None     # the thread it was handed to
        self.memory_capped = False  # the process has an address-space limit (no thread kept)

    def run(self) -> bool:
        """Compile, recording the outcome (never raises); True if the stop sent to this
        thread for the job landed in it."""
        try:
            if self.wanted:
                self.ran = True
                self.value = self.fn(*self.args)
        except _CompileAbandoned as exc:
            self.error = exc
            return True
        except MemoryError as exc:
            # without its traceback: the frames hold the compile's trees, which the
            # caller's error handling needs the memory of
            self.error = exc.with_traceback(None)
        except SystemError as exc:
            # CPython 3.11 reports some allocation failures deep in a compile as "error
            # return without exception set": seen only under a worker's address-space cap
            # (bench/fuzz.py's deep programs through the process executor: 4 in ~6,800 at
            # 256 MiB, none in the same ~6,500 at 1 GiB), so there it is that cap
            lost = self.memory_capped and "without exception set" in str(exc)
            self.error = MemoryError() if lost else exc
        except BaseException as exc:       # handed to the caller's thread
            self.error = exc
        return False

    def abandon(self) -> None:
        """The caller is leaving without the outcome (a host stop): stop the compile."""
        self.wanted = False
        if self.worker is not None:
            self.worker.stop(self)


# One finished compile thread is kept for the next compile: starting a thread and faulting in
# its stack cost ~0.2 ms, 2% of compiling a 20 KB program. It ends after _KEPT_FOR seconds
# without work, and none is kept under an address-space limit (a process worker's
# `memory_limit`), where its 32 MiB would count against the program's memory. What it keeps
# resident is the stack its deepest compile touched (~6 MB after the deepest programs §7.2
# accepts).
_KEPT_FOR = 30.0
_idle: list[_CompileThread] = []
_idle_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's compile threads, and a lock one of them held
    at the fork would stay held in the child for good."""
    global _idle_lock, _stack_lock
    _idle.clear()
    _idle_lock = threading.Lock()
    _stack_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _address_space_limited() -> bool:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY


class _CompileThread:
    """A thread with the compile stack doing one job at a time.

    A caller's stop is passed on to the thread (so it does not go on compiling on borrowed
    time) only while the thread is on that caller's job, under `lock`; a thread that was sent
    one ends once it has landed, so no stop meant for one job can land in a later one."""

    def __init__(self, job: _Job) -> None:
        self.lock = threading.Lock()
        self.job: _Job | None = None      # the job a stop may be sent for
        self.stopped = False              # a stop was sent (the thread then ends)
        self.ending = False               # done with its last job, not kept
        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="mlpy-compile", daemon=True)
        self.take(job)

    def take(self, job: _Job) -> None:
        with self.lock:
            self.job = job
        job.worker = self
        self.jobs.put(job)

    def stop(self, job: _Job) -> None:
        # (a job not begun yet is skipped, being no longer wanted: a stop sent to a thread
        # still starting could land in threading's start-up code, outside of any handler)
        ident = self.thread.ident
        with self.lock:
            if self.job is job and job.ran and not self.stopped and ident is not None:
                self.stopped = True
                import ctypes       # (here: ~2 ms of every process's start otherwise)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(_CompileAbandoned))

    def _serve(self) -> None:
        landed = False
        try:
            while True:
                try:
                    job = self.jobs.get(timeout=_KEPT_FOR)
                except queue.Empty:
                    # unused (or taken from the idle by a caller stopped before it handed
                    # over its job; one that hands it over late finds the thread ended)
                    with _idle_lock:
                        if self in _idle:
                            _idle.remove(self)
                    return
                landed = job.run()
                with self.lock:
                    self.job = None
                    stopped = self.stopped
                # back among the idle before the caller hears the job is done: its next
                # compile finds the thread there. Nothing here allocates unless the thread is
                # kept: after a compile that ran out of memory under a worker's cap, a thread
                # that did (`import resource` here) was seen spinning for good in failing
                # allocations, its caller waiting out the run's timeout.
                kept = not job.memory_capped and not stopped and self._rest()
                self.ending = not kept
                job.done.release()
                if not kept:
                    break
            if stopped:
                # a stop was sent and lands at the next check of this loop; bounded, as the
                # caller may itself have been stopped before sending it
                for _ in range(100):
                    if landed:
                        break
                    time.sleep(0.001)
        except _CompileAbandoned:
            pass

    def _rest(self) -> bool:
        """Wait among the idle for the next job, if one is wanted there; False to end."""
        with _idle_lock:
            if _idle:
                return False
            _idle.append(self)
        return True


def _hand_over(job: _Job) -> _CompileThread:
    """Give `job` to an idle compile thread, or to a new one started for it (whose `ident`
    is None if there was no room for a thread)."""
    job.memory_capped = _address_space_limited()
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is not None:
        worker.take(job)
        return worker
    worker = _CompileThread(job)
    started = _start(worker.thread)
    while not started.wait(0.01):
        pass
    return worker


def _on_compile_stack(fn, *args):
    if sys.getrecursionlimit() < _COMPILE_RECURSION:
        sys.setrecursionlimit(_COMPILE_RECURSION)
    job = _Job(fn, args)
    try:
        while not job.ran:
            worker = _hand_over(job)
            if worker.thread.ident is None:
                job.run()                  # no room for a thread: compile here
                break
            # waited for in short steps, so a host stop (an asynchronous exception sent to
            # this thread, e.g. a timeout) lands; it is passed on to the compile thread
            while not job.done.acquire(timeout=0.01):
                if not worker.thread.is_alive():
                    break       # it ended: before taking the job (another is tried), or in it
            if worker.ending:
                # its memory and stack are given back before the caller goes on: under a
                # worker's memory cap, the next compile's thread needs them (a thread started
                # short of memory can die before threading marks it started, and then
                # `start()` never returns)
                while worker.thread.is_alive():
                    worker.thread.join(0.01)
    except BaseException:
        job.abandon()
        raise
    if job.error is None and job.value is _NOTHING:
        # it ran and died without a word: only a failed allocation does that (compiling it
        # again here would meet the same wall, on the caller's smaller stack)
        raise MemoryError("out of memory while compiling")
    error = job.error
    if error is not None:
        job.error = None
        raise error
    return job.value


# The bounded LRU caches keyed by source and options. functools' C implementation takes no
# Python-level lock: a host stop landing in a compile can never leave a lock held. Bounded in
# bytes by keeping large programs apart: a compiled program takes about 40 bytes per source
# character (code objects, constants, the source), so the small-program cache holds at most
# CACHE_SIZE x 2 KiB x 40 ≈ 40 MB and the large one LARGE_CACHE_SIZE x 100 KiB x 40 ≈ 16 MB
# (100 KB: the server's code limit; a larger program is cached only as one of those four).
_cached = functools.lru_cache(maxsize=CACHE_SIZE)(_compile)
_cached_large = functools.lru_cache(maxsize=LARGE_CACHE_SIZE)(_compile)


def _python_compile(tree: ast.Module, filename: str) -> CodeType:
    try:
        try:
            return builtins.compile(tree, filename, "exec")
        except (TypeError, ValueError):
            # a generated node without a position: take its parent's (a safety net; the
            # compiler positions every node it makes, and a test checks it does)
            _fill_positions(tree, 1, 0)
            return builtins.compile(tree, filename, "exec")
    except SyntaxError as exc:
        # Scope rules Python checks for us (e.g. a name used before its nonlocal declaration)
        if "too many statically nested blocks" in exc.msg:
            raise MLSyntaxError(TOO_DEEP, line=exc.lineno) from None
        message = exc.msg.replace(KW_PREFIX, "")
        if "prior to global declaration" in message:
            message = message.replace("global", "nonlocal")
        raise MLSyntaxError(message, line=exc.lineno, column=(exc.offset or 0) + 1 or None) \
            from None
    except (RecursionError, MemoryError):
        raise MLSyntaxError(TOO_DEEP) from None


def _fill_positions(node: Any, line: int, column: int) -> None:
    """Give every located node of the tree a position (the nearest enclosing one)."""
    if "lineno" in node._attributes:
        if getattr(node, "lineno", None) is None:
            node.lineno, node.col_offset = line, column
        line, column = node.lineno, node.col_offset
        node.end_lineno, node.end_col_offset = line, column + 1
    for child in ast.iter_child_nodes(node):
        _fill_positions(child, line, column)


def check(source: str, *, strict: bool = True) -> list[MLError]:
    """All syntax and security problems of a program (for `mlpy check`); [] when clean."""
    try:
        program, tokens = parse_tokens(source)
    except MLSyntaxError as exc:
        return [exc]
    problems: list[MLError] = []
    compiler = Compiler(source, strict=strict, problems=problems if strict else None,
                        tokens=tokens)
    try:
        tree = compiler.compile_module(program)
        _python_compile(tree, "<ml>")
    except MLError as exc:
        problems.append(exc)
    problems.sort(key=lambda e: (e.line or 0, e.column or 0))
    return problems


def clear_cache() -> None:
    _cached.cache_clear()
    _cached_large.cache_clear()
