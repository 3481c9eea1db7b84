"""Stopping running ML code, and finding where it was: one place for every host.

The CLI (`mlpy run --timeout`), `mlpy.run(timeout=...)`, the thread pool and the worker
processes all stop a program the same way: CPython raises an exception in the program's thread
at its next bytecode boundary (`PyThreadState_SetAsyncExc(thread_id, exception_class)`). The
exceptions are the `HostStop` family (signals.py), derived from `BaseException` only, so ML's
`except` (compiled to `except Exception`) cannot catch them.

A thread blocked inside one long C call only sees the exception when the call returns; the
thread pool abandons such a worker, the process pool kills its process.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from typing import Any

from .signals import HostStop, InterruptStop, TimeoutStop


def _async_exc_functions() -> tuple[Any, Any]:
    """`PyThreadState_SetAsyncExc` through ctypes: as a setter, and with a NULL exception as
    `clear_async_exc` (a C-level callable: the thread pool calls it where no Python bytecode
    may run). Made on first use: importing ctypes is ~2 ms of every `mlpy run`'s start, and a
    run without a stop never needs it."""
    import ctypes
    api = ctypes.pythonapi
    setter = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
        ("PyThreadState_SetAsyncExc", api))
    clearer = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
        ("PyThreadState_SetAsyncExc", api))
    globals().update(_set_async_exc=setter, clear_async_exc=clearer)
    return setter, clearer


def __getattr__(name: str) -> Any:
    if name in ("_set_async_exc", "clear_async_exc"):
        return _async_exc_functions()[name == "clear_async_exc"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

INTERRUPT_MESSAGE = "Execution interrupted"
SHUTDOWN_MESSAGE = "Executor shut down"


def timeout_message(timeout: float) -> str:
    return f"Execution timeout after {float(timeout)} seconds"


def raise_in_thread(thread_id: int, exc_class: type[BaseException]) -> bool:
    """Schedule `exc_class` to be raised in the thread `thread_id`. False: no such thread."""
    if not (isinstance(exc_class, type) and issubclass(exc_class, BaseException)):
        raise TypeError("raise_in_thread needs an exception class")
    setter = globals().get("_set_async_exc") or _async_exc_functions()[0]
    return bool(setter(thread_id, exc_class) > 0)


def clear_pending(thread_id: int) -> None:
    """Drop an exception scheduled for `thread_id` that has not been raised yet."""
    clearer = globals().get("clear_async_exc") or _async_exc_functions()[1]
    clearer(thread_id, None)


@functools.lru_cache(maxsize=256)
def stop_class(base: type[HostStop], message: str) -> type[HostStop]:
    """A subclass of `base` (same name) whose instances carry `message`.

    `PyThreadState_SetAsyncExc` raises a class without arguments; the message (which names the
    timeout) has to travel with the class."""

    def __init__(self: HostStop, msg: str = message) -> None:
        base.__init__(self, msg or message)

    return type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__,
                                         "__qualname__": base.__qualname__})


class Stop:
    """Why a run is being stopped: the HostStop class to raise and the message to report."""

    __slots__ = ("kind", "base", "message", "ml_type")

    def __init__(self, kind: str, base: type[HostStop], message: str):
        self.kind = kind                      # "timeout" | "interrupt" | "shutdown"
        self.base = base
        self.message = message
        self.ml_type = base.ml_type

    def __repr__(self) -> str:
        return f"Stop({self.kind!r}, {self.base.__name__}, {self.message!r})"


INTERRUPT = Stop("interrupt", InterruptStop, INTERRUPT_MESSAGE)
SHUTDOWN = Stop("shutdown", InterruptStop, SHUTDOWN_MESSAGE)


def timeout_stop(seconds: float) -> Stop:
    return Stop("timeout", TimeoutStop, timeout_message(seconds))


def ml_position(exc: BaseException | None, *, origin: bool = False) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the innermost ML frame (code compiled from "<ml...>") in
    the traceback of `exc` — or, with `origin`, of the first exception of its `__context__`
    chain: a stop raised again inside a `finally` reports where the program was when stopped.
    """
    return ml_location(exc, origin=origin)[1:]


def ml_location(exc: BaseException | None, *,
                origin: bool = False) -> tuple[str | None, int | None, int | None]:
    """ml_position with the code filename of that frame first ("<ml...>": the program's, or
    a user module's "<ml:FILE#id>")."""
    if origin:
        seen = 0
        while exc is not None and exc.__context__ is not None and seen < 10_000:
            exc, seen = exc.__context__, seen + 1
    filename = line = column = None
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith("<ml"):
            filename, line, column = code.co_filename, tb.tb_lineno, None
            for start, _end, col, _end_col in itertools.islice(
                    code.co_positions(), tb.tb_lasti // 2, tb.tb_lasti // 2 + 1):
                if start is not None:
                    line = start
                if col is not None:
                    column = col + 1
        tb = tb.tb_next
    return filename, line, column


# Threads running an ML program right now. A host finalizer or weakref callback that the
# garbage collector happens to run on such a thread can fail through no fault of its own:
# the program has used up the recursion limit, or a stop lands in it. Python reports that as
# an "unraisable" exception; those two kinds are the program's doing and are not passed on
# to the host's hook (a test runner fails the test over them, and formatting one at the
# recursion limit fails again). Any other unraisable exception is passed on. The thread pool
# and `mlpy.run(timeout=...)` both mark their program threads here.
IN_PROGRAM: set[int] = set()


def install_unraisable_filter() -> None:
    """Put the filter in front of sys.unraisablehook (once)."""
    previous = sys.unraisablehook
    if getattr(previous, "mlpy_filter", False):
        return

    def hook(unraisable: Any) -> None:
        if threading.get_ident() in IN_PROGRAM and isinstance(
                unraisable.exc_value, (RecursionError, HostStop)):
            return
        previous(unraisable)

    hook.mlpy_filter = True      # type: ignore[attr-defined]
    sys.unraisablehook = hook
