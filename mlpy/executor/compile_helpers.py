"""Compiling large programs in helper processes, for thread isolation.

Python's `compile()` of a generated tree is one C call that holds the GIL: a chain of 10,000
operands holds it 0.4-0.8 s, during which a thread-isolated server's event loop stands still
and no stop can land. So a thread pool hands every program longer than
`ExecutorSettings.compile_elsewhere_above` characters (parse, lowering and `compile()`) to a
helper process and waits for the code object (sent back with `marshal`) in short,
GIL-free steps; a stop of the run (its timeout, a cancel) SIGKILLs the helper. Helpers are
started on first need, reused while they answer, and killed at shutdown; one that loses its
parent reads end-of-file and exits. The compile caches stay in front (`mlpy.program`): only
a program missing from them gets here.

The helper runs the same compiler as the thread would and nothing else: no ML code runs
there, so its reply (plain data and code objects, nothing `marshal` cannot make) is trusted
as a compile on this thread would be.
"""

from __future__ import annotations

import marshal
import os
import queue
import select
import signal
import subprocess
import threading
import time
from typing import Any

from ..errors import MLError, MLImportError, MLSecurityError, MLSyntaxError
from . import channel

_POLL_MS = 10       # milliseconds between two looks for a pending stop while waiting
_ERRORS = {cls.__name__: cls for cls in (MLSyntaxError, MLImportError, MLSecurityError)}
_kill = os.kill     # called first in the stop handler (see CompileHelpers.translate)


class CompileHelperFailed(RuntimeError):
    """The helper ended without answering (an internal error: it never runs ML code)."""


class _Helper:
    """One helper process and its two pipes (its stdin and stdout)."""

    def __init__(self) -> None:
        self.popen = subprocess.Popen(
            channel.child_command("compile_helpers"),
            env={}, cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True)
        self.pid = self.popen.pid
        self.left = False       # its caller was stopped: nobody reads its pipes any more

    def wait_ready(self) -> bool:
        """Block until the helper has built its compiler (it writes one byte then)."""
        assert self.popen.stdout is not None
        try:
            return os.read(self.popen.stdout.fileno(), 1) == b"R"
        except OSError:
            return False

    def ask(self, request: bytes) -> bytes:
        """Send one request and wait for its reply, waking every _POLL_MS milliseconds so that
        a host stop raised in this thread lands."""
        assert self.popen.stdin is not None and self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        poller = select.poll()           # (not select.select: a server's fds pass 1024)
        poller.register(fd, select.POLLIN)
        frames = channel.Frames()
        try:
            channel.Channel(write_fd=self.popen.stdin.fileno()).send_bytes(request)
            while True:
                if not poller.poll(_POLL_MS):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise channel.ChannelClosed(f"exit status {self.popen.poll()}")
                replies = frames.feed(chunk)
                if replies:
                    return replies[0]
        except (channel.ChannelClosed, OSError) as err:
            raise CompileHelperFailed(f"the compile process ended ({err})") from None

    def close(self) -> None:
        """Kill the process (it may be mid-compile), reap it, close its pipes."""
        try:
            self.popen.kill()
        except OSError:
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:       # pragma: no cover - the kernel is slow
            pass
        for pipe in (self.popen.stdin, self.popen.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


_SPAWN = "spawn"


class CompileHelpers:
    """The helper processes of one thread pool: `translate` is what `mlpy.program` calls
    (see `program.translate_elsewhere`) for a program missing from the compile caches.

    Worker threads (which a stop may interrupt anywhere) only take idle helpers, use them
    and hand them back, with no lock and no process or file handling of their own beyond
    the kill; a manager thread of the pool's own starts helpers one at a time (each ready
    before the next is started, so a flood of stopped compiles cannot start processes
    faster than one core can run their start-up), and kills, reaps and closes those
    that are done with."""

    def __init__(self, above: int, keep: int = 2):
        self.above = above
        self.keep = keep                    # idle helpers kept
        self.compiled = 0                   # programs a helper answered for (for tests)
        self._idle: list[_Helper] = []
        self._all: set[_Helper] = set()     # every helper not yet closed, busy or idle
        self._closed = False
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()   # _SPAWN, a _Helper, None
        # started here, on the host's thread: never by a worker (see program._start)
        self._manager = threading.Thread(target=self._manage, name="mlpy-compile-helpers",
                                         daemon=True)
        self._manager.start()

    def translate(self, source: str, interactive: bool, strict_security: bool,
                  filename: str) -> tuple | None:
        """(code, has a display value, imports) of a long program, compiled by a helper;
        None for a short one (the caller compiles it on its own thread)."""
        if len(source) <= self.above or self._closed:
            return None
        request = marshal.dumps((source, interactive, strict_security, filename))
        helper = self._take()
        if helper is None:                   # shut down meanwhile: the run's stop follows
            return None
        pid = helper.pid
        try:
            reply = helper.ask(request)
        except CompileHelperFailed:
            helper.left = True
            if self._closed:                 # killed by shutdown: the run's stop follows
                self._forget(helper)
                return None
            self._inbox.put(helper)
            raise
        except BaseException:
            # A host stop re-raises itself at the first Python call or loop of a handler
            # (executor/interrupt.py): the attribute store runs no call, and the kill is the
            # handler's first call (a C function, on locals). The manager reaps the helper.
            helper.left = True
            try:
                _kill(pid, signal.SIGKILL)
            except OSError:          # already gone
                pass
            raise
        if len(self._idle) >= self.keep:
            self._inbox.put(helper)
        else:
            self._idle.append(helper)
        if self._closed:                     # shut down meanwhile
            self._forget(helper)
        self.compiled += 1
        return _decode(marshal.loads(reply))

    def _take(self) -> _Helper | None:
        """An idle helper, else one the manager starts (waited for in short sleeps)."""
        asked = 0
        while not self._closed:
            try:
                helper = self._idle.pop()
            except IndexError:
                if asked % 100 == 0:        # again after a second: another caller took it
                    self._inbox.put(_SPAWN)
                asked += 1
                time.sleep(_POLL_MS / 1000)
                continue
            if helper.popen.returncode is None:
                return helper
            self._inbox.put(helper)         # died while idle
        return None

    # -- the manager thread --------------------------------------------------------------
    def _manage(self) -> None:
        while True:
            message = self._inbox.get()
            if message is None:
                return
            for helper in list(self._all):          # killed when their callers were stopped
                if helper.left and helper not in self._idle:
                    self._forget(helper)
            if isinstance(message, _Helper):
                self._forget(message)
            elif not self._idle and not self._closed:
                self._spawn()

    def _spawn(self) -> None:
        try:
            helper = _Helper()
        except OSError:                              # no process: callers keep waiting
            return
        self._all.add(helper)
        if helper.wait_ready() and not self._closed:
            self._idle.append(helper)
        else:
            self._forget(helper)

    def _forget(self, helper: _Helper) -> None:
        self._all.discard(helper)
        helper.close()

    def pids(self) -> list[int]:
        """Process ids of the helpers not yet closed (busy or idle)."""
        return [helper.pid for helper in list(self._all)]

    def shutdown(self) -> None:
        """Kill every helper, idle or busy, and close those nobody reads from any more (a busy
        one's caller reads end-of-file and closes it itself)."""
        self._closed = True
        self._inbox.put(None)
        self._manager.join(10)
        idle, self._idle[:] = list(self._idle), []
        for helper in list(self._all):
            if helper in idle or helper.left or helper.popen.returncode is not None:
                self._forget(helper)
            else:
                try:
                    helper.popen.kill()
                except OSError:
                    pass


def _decode(reply: tuple) -> tuple:
    kind = reply[0]
    if kind == "ok":
        return reply[1], reply[2], [(tuple(path), line, column)
                                    for path, line, column in reply[3]]
    if kind == "error":
        name, message, line, column, ml_type = reply[1:]
        cls = _ERRORS.get(name)
        if cls is not None:
            raise cls(message, line=line, column=column)
        raise MLError(message, type=ml_type, line=line, column=column)
    raise CompileHelperFailed(reply[1])


def _reply(request: bytes) -> Any:
    from ..program import _translate
    source, interactive, strict_security, filename = marshal.loads(request)
    try:
        code, has_display, imports = _translate(source, interactive, strict_security, filename)
    except MLError as err:
        return ("error", type(err).__name__, err.message, err.line, err.column, err.type)
    except Exception as err:        # a compiler bug: the caller reports an internal error
        return ("failed", f"{type(err).__name__}: {err}")
    return ("ok", code, has_display, [(list(path), line, column)
                                      for path, line, column in imports])


def main() -> None:
    """The helper: read requests on stdin, answer on stdout, until stdin ends."""
    import gc

    from .. import program
    program.compile("x = 1;", cache=False)       # build the parser before the first request
    gc.collect()
    gc.freeze()
    os.write(1, b"R")
    link = channel.Channel(read_fd=0, write_fd=1)
    try:
        while True:
            link.send_bytes(marshal.dumps(_reply(link.recv_bytes())))
    except channel.ChannelClosed:         # the parent has gone, or closed our stdin
        return
