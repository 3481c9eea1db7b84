"""Streaming a running program's output to the host, batched and in order.

The program writes on its worker thread (through the `OutputSink` of its context); the host's
`on_output(stream, text)` is called on the host's side: on the event loop for `execute()`,
on the calling thread for `run_sync()`. Consecutive writes to the same stream are joined, and
an async host gets at most one batch per `interval` seconds. Everything written is delivered
before the execution's result is returned.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
from typing import Callable

log = logging.getLogger("mlpy.executor")

OutputCallback = Callable[[str, str], object]


def coalesce(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join consecutive chunks of the same stream, keeping the order (each `display`
    message stays whole)."""
    out: list[tuple[str, list[str]]] = []
    for stream, text in items:
        if out and out[-1][0] == stream and stream != "display":
            out[-1][1].append(text)
        else:
            out.append((stream, [text]))
    return [(stream, "".join(parts)) for stream, parts in out]


def _call(callback: OutputCallback, stream: str, text: str) -> None:
    try:
        outcome = callback(stream, text)
        if inspect.isawaitable(outcome):
            asyncio.ensure_future(outcome)
    except Exception:  # the host's callback failing must not lose the execution
        log.exception("on_output callback failed")


class LoopOutput:
    """Forwards writes from a worker thread to `callback` on `loop`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: OutputCallback,
                 interval: float = 0.02):
        self._loop = loop
        self._callback = callback
        self._interval = interval
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str]] = []
        self._scheduled = False
        self._last = 0.0

    def write(self, stream: str, text: str) -> None:
        """Worker thread: queue a chunk; wake the loop if no flush is scheduled."""
        with self._lock:
            self._pending.append((stream, text))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._arm)
        except RuntimeError:  # the loop is closed: the host is gone
            pass

    def _arm(self) -> None:
        delay = self._last + self._interval - self._loop.time()
        if delay > 0:
            self._loop.call_later(delay, self.flush)
        else:
            self.flush()

    def flush(self) -> None:
        """Loop thread: deliver everything queued so far."""
        with self._lock:
            items, self._pending = self._pending, []
            self._scheduled = False
        if not items:
            return
        self._last = self._loop.time()
        for stream, text in coalesce(items):
            _call(self._callback, stream, text)


class ThreadOutput:
    """Forwards writes from a worker thread to a thread waiting in `run_sync`.

    The same queue carries the end of the execution, so output always arrives first."""

    DONE = object()

    def __init__(self, callback: OutputCallback | None):
        self.callback = callback
        self.queue: queue.SimpleQueue = queue.SimpleQueue()

    def write(self, stream: str, text: str) -> None:
        self.queue.put((stream, text))

    def done(self, _job=None) -> None:
        self.queue.put(self.DONE)

    def wait(self, timeout: float | None = None) -> bool:
        """Deliver output until the execution has finished. False if `timeout` passed first."""
        while True:
            try:
                item = self.queue.get(timeout=timeout)
            except queue.Empty:
                return False
            items = []
            finished = False
            while True:
                if item is self.DONE:
                    finished = True
                    break
                items.append(item)
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
            if self.callback is not None:
                for stream, text in coalesce(items):
                    _call(self.callback, stream, text)
            if finished:
                return True
