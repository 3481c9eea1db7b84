"""Messages between the executor and its worker processes: length-prefixed pickles on pipes
(the framing `Channel` and `Frames` also carry the compile helpers' marshal data), and the
command line that starts such a child (`child_command`).

Each kind of message is one small typed record below (a NamedTuple): what the parent sends
(`RunRequest`, `StopRequest`, `InputReply`, `VarsRequest`, `ResetSession`, `Exit`, and the
`WorkerConfig` first) and what a worker sends back (`Ready`, `Output`, `InputRequest`,
`VarsReply`, `Done`). A run costs one `RunRequest` and one `Done` (plus any `Output`
batches). On the wire a record is a plain tuple, its kind's number then its fields (a
`Done` carries its `AsyncMLResult`'s fields in order), so a message names no class: pickling
and unpickling one is a few microseconds, where the records and the result's dataclass,
looked up by name and rebuilt field by field, cost ~9 µs each way (issue 15).
`Done.event` carries a host event the worker observed itself (a real MemoryError, a limit or
time stop); the parent never infers one from the ML error's type name, which a program picks.

The parent trusts what it sends; it does not trust what a worker sends back (the worker ran
untrusted code), so the parent unpickles with `load_from_worker`, which reconstructs plain
data, `ErrorValue`s and the stand-ins of `remote_value` and nothing else — no other class
or function can be named by a worker's message.

A worker's values that cannot cross a process boundary (functions, modules, library
objects, iterators) are sent as stand-ins that print the same way (`<function f>`,
`<module math>`, `<Regex>`); hosts that send JSON reject them as before.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
from dataclasses import fields
from typing import Any, NamedTuple

from ..runtime.values import (ErrorValue, MLIterator, MLModule, MLObject, OversizedValue,
                              function_name, typeof)
from .result import AsyncMLResult
from .settings import ExecutorSettings

# A child process (a process worker, a compile helper) is a fresh interpreter, never a fork of
# the host. It imports mlpy from the folder the parent's mlpy came from, not whichever mlpy is
# installed: a checkout, a CI clone or a second version beside the installed one runs its own.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_command(module: str, *args: str) -> list[str]:
    """The command line of a child that runs `mlpy.executor.<module>.main(*args)`, in
    isolated mode (no environment variables, no user site) with UTF-8 I/O."""
    bootstrap = ("import sys\n"
                 "sys.path.insert(0, sys.argv[1])\n"
                 f"from mlpy.executor import {module}\n"
                 f"{module}.main(*sys.argv[2:])\n")
    return [sys.executable, "-I", "-X", "utf8", "-c", bootstrap, PACKAGE_ROOT, *args]


# A worker process that exits by itself with this status ran out of memory under its cap:
# the parent reports its runs as the memory limit.
EXIT_OUT_OF_MEMORY = 4

_HEADER = struct.Struct("!Q")
PROTOCOL = 5
MAX_MESSAGE = 1 << 31          # a worker's message larger than this is refused


class ChannelClosed(Exception):
    """The other end has gone away."""


class Channel:
    """One direction of a pipe (`read_fd` or `write_fd`)."""

    def __init__(self, read_fd: int | None = None, write_fd: int | None = None):
        self.read_fd = read_fd
        self.write_fd = write_fd

    def send_bytes(self, data: bytes) -> None:
        fd = self.write_fd
        if fd is None:
            raise ChannelClosed("closed")
        view = memoryview(_HEADER.pack(len(data)) + data) if len(data) < 65536 else None
        try:
            if view is not None:
                while view:
                    view = view[os.write(fd, view):]
                return
            header = memoryview(_HEADER.pack(len(data)))
            while header:
                header = header[os.write(fd, header):]
            body = memoryview(data)
            while body:
                body = body[os.write(fd, body[:1 << 20]):]
        except (BrokenPipeError, OSError) as err:
            raise ChannelClosed(str(err)) from None

    def recv_bytes(self) -> bytes:
        header = self._read(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        if size > MAX_MESSAGE:
            raise ChannelClosed(f"message of {size} bytes refused")
        return self._read(size)

    def _read(self, n: int) -> bytes:
        fd = self.read_fd
        if fd is None:
            raise ChannelClosed("closed")
        chunks = []
        while n:
            try:
                chunk = os.read(fd, min(n, 1 << 20))
            except OSError as err:
                raise ChannelClosed(str(err)) from None
            if not chunk:
                raise ChannelClosed("end of file")
            chunks.append(chunk)
            n -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.read_fd = self.write_fd = None


class Frames:
    """The messages in a stream read in pieces (an event loop reading a pipe as it becomes
    readable): `feed` takes what one read returned and gives back the whole messages."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self.buffer
        buffer += chunk
        messages = []
        start = 0
        while len(buffer) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer, start)
            if size > MAX_MESSAGE:
                raise ChannelClosed(f"message of {size} bytes refused")
            end = start + _HEADER.size + size
            if len(buffer) < end:
                break
            messages.append(bytes(buffer[start + _HEADER.size:end]))
            start = end
        del buffer[:start]
        return messages


# -- the messages: parent -> worker -------------------------------------------------------------
class WorkerConfig(NamedTuple):
    """The first message: how the worker's executor is set up and its OS limits."""
    path: list[str]
    settings: ExecutorSettings
    strict_security: bool
    capabilities: Any                 # names, or name -> resource patterns
    allowed_hosts: tuple[str, ...]
    file_root: Any
    env: dict[str, str]


class RunRequest(NamedTuple):
    rid: int
    code: str
    timeout: float | None
    context: Any
    interactive: bool
    sid: int | None                   # the session the run belongs to (None: one-shot)
    session_context: dict[str, Any] | None
    has_input: bool
    durable: bool = False             # attach the session's checkpoint to the result
    restore: bytes | None = None      # the checkpoint the new session starts from


class StopRequest(NamedTuple):
    rid: int
    kind: str
    stop_class: str                   # the HostStop class name to raise in the worker
    message: str


class InputReply(NamedTuple):
    rid: int
    text: Any                         # str, None (end of input) or {"error": message}


class VarsRequest(NamedTuple):
    qid: int
    sid: int


class ResetSession(NamedTuple):
    sid: int


class Exit(NamedTuple):
    pass


# -- the messages: worker -> parent -------------------------------------------------------------
class Ready(NamedTuple):
    pid: int


class Output(NamedTuple):
    rid: int
    chunks: list[tuple[str, str]]     # (stream, text), in order


class InputRequest(NamedTuple):
    rid: int
    prompt: str


class VarsReply(NamedTuple):
    qid: int
    items: list[dict[str, Any]]


class Done(NamedTuple):
    rid: int
    result: AsyncMLResult             # stdout/stderr empty: the parent has them from Output
    event: str | None                 # "memory" | "timeout" | "limit" | "interrupt" | None
    recycle: bool                     # the worker asks to be replaced (it abandoned a thread)


TO_WORKER = (WorkerConfig, RunRequest, StopRequest, InputReply, VarsRequest, ResetSession,
             Exit)
FROM_WORKER = (Ready, Output, InputRequest, VarsReply, Done)
_TO_TAGS = {cls: tag for tag, cls in enumerate(TO_WORKER)}
_FROM_TAGS = {cls: tag for tag, cls in enumerate(FROM_WORKER)}
_DONE = _FROM_TAGS[Done]
_RESULT_FIELDS = tuple(f.name for f in fields(AsyncMLResult))
# stdout and stderr reach the parent in `Output` batches: a Done carries them empty
_UNSENT = frozenset({"stdout", "stderr"})
_RESULT_SENT = tuple((name, name not in _UNSENT) for name in _RESULT_FIELDS)


# -- values leaving a worker ---------------------------------------------------------------
class RemoteObject(MLObject):
    """A library object (or any other value) that stayed in the worker process."""

    ml_members = frozenset()

    def __init__(self, ml_type: str):
        self.ml_type = ml_type


def _remote_function(name: str) -> Any:
    def remote(*_args: Any, **_kwargs: Any) -> Any:
        raise TypeError(f"function {name or '<function>'} ran in a worker process and "
                        f"cannot be called here")
    setattr(remote, "ml_name", name)  # noqa: B010 - how ML names a function value
    remote.__name__ = remote.__qualname__ = name or "function"
    return remote


def remote_value(kind: str, name: str) -> Any:
    """The parent's stand-in for a value that cannot leave the worker."""
    if kind == "function":
        return _remote_function(name)
    if kind == "module":
        return MLModule(name, {})
    if kind == "iterator":
        return MLIterator(())
    return RemoteObject(name or "unknown")


class _WorkerPickler(pickle.Pickler):
    def reducer_override(self, obj):
        cls = type(obj)
        if (cls is ErrorValue or cls is OversizedValue
                or obj is remote_value or isinstance(obj, type)):
            return NotImplemented          # classes go by name; the parent allows a few
        if cls is MLModule:
            return remote_value, ("module", obj.ml_name)
        if cls is MLIterator:
            return remote_value, ("iterator", "")
        if isinstance(obj, MLObject):
            return remote_value, ("object", obj.ml_type)
        if cls in (bool, int, float, str, list, dict, tuple, bytes) or obj is None:
            return NotImplemented
        if callable(obj) and not isinstance(obj, type):
            return remote_value, ("function", function_name(obj))
        return remote_value, ("object", typeof(obj))


def dump_from_worker(obj: Any) -> bytes:
    """A value as a worker sends it (stand-ins for what cannot leave the worker)."""
    buffer = io.BytesIO()
    _WorkerPickler(buffer, PROTOCOL).dump(obj)
    return buffer.getvalue()


def dump_message_from_worker(message: Any) -> bytes:
    """A worker's message (one of FROM_WORKER) as its wire tuple."""
    cls = type(message)
    if cls is Done:
        result = message.result
        wire = (_DONE, message.rid, message.event, message.recycle,
                *[getattr(result, name) if sent else "" for name, sent in _RESULT_SENT])
    else:
        wire = (_FROM_TAGS[cls], *message)
    return dump_from_worker(wire)


_ALLOWED = {("mlpy.runtime.values", "ErrorValue"): ErrorValue,
            ("mlpy.runtime.values", "OversizedValue"): OversizedValue,
            ("mlpy.executor.channel", "remote_value"): remote_value}


class _ParentUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"a worker may not send {module}.{name}") from None


def load_from_worker(data: bytes) -> Any:
    """A worker's message, rebuilt from its wire tuple. Anything else — another shape, an
    unknown kind, the wrong number of fields, a class the worker may not name — raises
    (the parent then kills the worker)."""
    wire = _ParentUnpickler(io.BytesIO(data)).load()
    if type(wire) is not tuple or not wire or type(wire[0]) is not int:
        raise pickle.UnpicklingError("a worker's message is not a message tuple")
    tag = wire[0]
    if tag == _DONE:
        if len(wire) != 4 + len(_RESULT_FIELDS):
            raise pickle.UnpicklingError("a worker's Done has the wrong number of fields")
        return Done(wire[1], AsyncMLResult(*wire[4:]), wire[2], wire[3])
    if not 0 <= tag < len(FROM_WORKER):
        raise pickle.UnpicklingError(f"a worker may not send a message of kind {tag}")
    return FROM_WORKER[tag](*wire[1:])


class _ToWorkerPickler(pickle.Pickler):
    """What the parent sends: data only. A host callable in a context would be pickled by
    name and then run in the worker — process isolation cannot call back into the host."""

    def reducer_override(self, obj):
        if callable(obj) and not isinstance(obj, type):
            name = getattr(obj, "__qualname__", None) or type(obj).__name__
            raise TypeError(f"a Python callable ({name}) cannot be passed to a "
                            f"process-isolated executor: a context carries data only (use "
                            f"isolation='thread' to give ML code host functions)")
        return NotImplemented


def dump(message: Any) -> bytes:
    """A message to a worker (one of TO_WORKER) as its wire tuple."""
    buffer = io.BytesIO()
    _ToWorkerPickler(buffer, PROTOCOL).dump((_TO_TAGS[type(message)], *message))
    return buffer.getvalue()


def load(data: bytes) -> Any:
    """A message from the parent (trusted), rebuilt from its wire tuple."""
    wire = pickle.loads(data)
    return TO_WORKER[wire[0]](*wire[1:])
