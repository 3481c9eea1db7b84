"""Stopping code that runs on another thread.

CPython can raise an exception in another thread at its next bytecode boundary:
`PyThreadState_SetAsyncExc(thread_id, exception_class)`. The executor raises the `HostStop`
family (`TimeoutStop`, `InterruptStop`), which derive from `BaseException` only, so ML
`except` (compiled to `except Exception`) cannot catch them. A `finally` block can still run
more code, so the executor keeps re-raising until the worker has left the program.

A thread blocked inside one long C call (a huge regular-expression match, `time.sleep`)
only sees the exception when the call returns; the pool abandons such a worker instead.
"""

from __future__ import annotations

import ctypes
import functools

from ..runtime.signals import HostStop, InterruptStop, TimeoutStop

_api = ctypes.pythonapi
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", _api))
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", _api))
_rearm = ctypes.PYFUNCTYPE(None, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", _api))


def raise_in_thread(thread_id: int, exc_class: type[BaseException]) -> bool:
    """Schedule `exc_class` to be raised in the thread `thread_id`. False: no such thread."""
    if not (isinstance(exc_class, type) and issubclass(exc_class, BaseException)):
        raise TypeError("raise_in_thread needs an exception class")
    return _set_async_exc(thread_id, exc_class) > 0


def clear_pending(thread_id: int) -> None:
    """Drop an exception scheduled for `thread_id` that has not been raised yet."""
    _clear_async_exc(thread_id, None)


@functools.lru_cache(maxsize=256)
def stop_class(base: type[HostStop], message: str) -> type[HostStop]:
    """A subclass of `base` (same name) whose instances carry `message`.

    `PyThreadState_SetAsyncExc` raises a class without arguments; the message (which names the
    timeout) has to travel with the class."""

    def __init__(self, msg: str = message):
        base.__init__(self, msg or message)

    return type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__,
                                         "__qualname__": base.__qualname__})


@functools.lru_cache(maxsize=1024)
def sticky_stop_class(base: type[HostStop], message: str, thread_id: int) -> type[HostStop]:
    """A subclass of `base` that schedules itself again, in `thread_id`, whenever an instance
    is created — that is, each time it is raised and reaches a handler.

    A `finally` or `except` block entered because of the stop is therefore stopped at its
    first call or loop iteration, and nested ones unwind in microseconds instead of one
    re-injection each. `__init__` is a C-level callable (a `functools.partial` of the ctypes
    function), so no Python bytecode runs between re-arming and returning to the handler.
    The worker ends the barrage with `clear_pending` (called directly, see `pool.py`).
    Instances carry `message` as a class attribute."""
    cls = type(base.__name__, (base,), {"message": message, "__module__": base.__module__,
                                        "__qualname__": base.__qualname__})
    cls.__init__ = functools.partial(_rearm, thread_id, cls)
    return cls


def timeout_message(timeout: float) -> str:
    return f"Execution timeout after {float(timeout)} seconds"


INTERRUPT_MESSAGE = "Execution interrupted"
SHUTDOWN_MESSAGE = "Executor shut down"

__all__ = ["raise_in_thread", "clear_pending", "stop_class", "sticky_stop_class", "timeout_message",
           "HostStop", "TimeoutStop", "InterruptStop", "INTERRUPT_MESSAGE", "SHUTDOWN_MESSAGE"]
