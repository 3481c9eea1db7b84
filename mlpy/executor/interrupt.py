"""Stopping a program on a pool thread, even through its `finally` blocks.

The one-shot stop (`raise_in_thread` with a `stop_class`) lives in `mlpy.runtime.stops`; a
pool's worker needs more: a `finally` block entered because of the stop can run more code,
so the stop must keep re-raising itself until the worker has left the program.
"""

from __future__ import annotations

import ctypes
import functools

from ..runtime.signals import HostStop

_rearm = ctypes.PYFUNCTYPE(None, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


@functools.lru_cache(maxsize=1024)
def sticky_stop_class(base: type[HostStop], message: str, thread_id: int) -> type[HostStop]:
    """A subclass of `base` that schedules itself again, in `thread_id`, whenever an instance
    is created — that is, each time it is raised and reaches a handler.

    A `finally` or `except` block entered because of the stop is therefore stopped at its
    first call or loop iteration, and nested ones unwind in microseconds instead of one
    re-injection each. `__init__` is a C-level callable (a `functools.partial` of the ctypes
    function), so no Python bytecode runs between re-arming and returning to the handler.
    The worker ends the barrage with `clear_async_exc` (called directly, see `threads.py`).
    Instances carry `message` as a class attribute."""
    cls = type(base.__name__, (base,), {"message": message, "__module__": base.__module__,
                                        "__qualname__": base.__qualname__})
    setattr(cls, "__init__", functools.partial(_rearm, thread_id, cls))  # noqa: B010
    return cls
