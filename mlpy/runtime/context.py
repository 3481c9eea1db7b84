"""The execution context: what the host grants one run, and where its output goes.

Compiled ML code and the standard library find the context of the run on their own thread
with `current()`. Hosts (CLI, executor) build one per execution and install it with `using()`.
Keeping it per thread is what lets four programs print at once without swapping
`sys.stdout`.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable

from ..record import FrozenRecord, Record
from .signals import CapabilityDenied, OutputLimitStop

CAPABILITY_NAMES = (
    "file.read", "file.write", "file.append", "file.delete", "path.read", "path.write",
    "network.http", "env.read", "env.write", "args.read",
)


# Results up to this size skip the limit lookup in mlpy.runtime.ops (see check_sizes_above).
SIZE_CHECK_ABOVE = 1_000_000


class Limits(FrozenRecord):
    """Bounds on one execution. Every one stops the program with an uncatchable error.

    Immutable, compared and hashed by its fields; `replace(**changes)` gives a copy."""

    _fields = ("default_timeout", "max_timeout", "output_bytes", "recursion_depth",
               "max_sequence", "max_string", "max_int_bits")
    default_timeout: float | None
    max_timeout: float | None
    output_bytes: int
    recursion_depth: int
    max_sequence: int          # elements of one array / range / repetition
    max_string: int            # characters of one string result
    max_int_bits: int          # bits of one integer result (about 300k digits)

    def __init__(self, default_timeout: float | None = None, max_timeout: float | None = None,
                 output_bytes: int = 1 << 20, recursion_depth: int = 3000,
                 max_sequence: int = 10_000_000, max_string: int = 50_000_000,
                 max_int_bits: int = 1_000_000):
        init = object.__setattr__
        init(self, "default_timeout", default_timeout)
        init(self, "max_timeout", max_timeout)
        init(self, "output_bytes", output_bytes)
        init(self, "recursion_depth", recursion_depth)
        init(self, "max_sequence", max_sequence)
        init(self, "max_string", max_string)
        init(self, "max_int_bits", max_int_bits)
        smallest = min(self.max_sequence, self.max_string)
        if smallest < SIZE_CHECK_ABOVE:  # below ops' pre-check: make the operations check
            from .ops import check_sizes_above
            check_sizes_above(smallest)


class Capabilities:
    """The capability names a host granted for a run, optionally limited to resource patterns."""

    def __init__(self, granted: Iterable[str] = (), patterns: dict[str, list[str]] | None = None):
        names: set[str] = set()
        for name in granted:
            if name == "all":
                names.update(CAPABILITY_NAMES)
            else:
                names.add(name)
        self.granted = frozenset(names)
        self.patterns = patterns or {}
        self.usage: dict[str, int] = {}

    def has(self, name: str) -> bool:
        return name in self.granted

    def require(self, capability: str, function: str, hint: str = "") -> None:
        """Raise CapabilityError unless `capability` was granted; count the use."""
        if capability not in self.granted:
            # the message stays the same wherever it is read (a caught error's `message`); a
            # host's hint on how to grant it is added only where it prints an uncaught one
            del hint
            raise CapabilityDenied(
                f"{function} requires capability '{capability}', which has not been granted")
        self.usage[capability] = self.usage.get(capability, 0) + 1


class OutputSink:
    """Captures the output of one execution, streams it to a callback and enforces the cap.

    `on_output(stream, text)` is called with each write when given; the text is also kept in
    `text()` up to `limit` bytes. Passing the cap stops the program (OutputLimitStop)."""

    def __init__(self, limit: int = 1 << 20, on_output: Callable[[str, str], None] | None = None,
                 keep: bool = True):
        self.limit = limit
        self.on_output = on_output
        self.keep = keep
        self._parts: list[str] = []
        self._stderr: list[str] = []
        self.size = 0
        self.truncated = False

    def write(self, text: str, stream: str = "stdout") -> None:
        if not text:
            return
        size = len(text.encode("utf-8", "surrogatepass")) if not text.isascii() else len(text)
        if self.size + size > self.limit:
            room = max(self.limit - self.size, 0)
            head = text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
            self._emit(head, stream)
            self.size = self.limit
            self.truncated = True
            raise OutputLimitStop(f"output limit of {self.limit} bytes exceeded")
        self.size += size
        self._emit(text, stream)

    def _emit(self, text: str, stream: str) -> None:
        if not text:
            return
        if self.keep and stream != "display":      # display messages: only to on_output
            (self._parts if stream == "stdout" else self._stderr).append(text)
        if self.on_output is not None:
            self.on_output(stream, text)

    def text(self) -> str:
        return "".join(self._parts)

    def stderr_text(self) -> str:
        return "".join(self._stderr)


class ConsoleSink(OutputSink):
    """Writes straight to the process's stdout/stderr (the CLI: output as it happens)."""

    def __init__(self, limit: int = 1 << 62):
        super().__init__(limit=limit, keep=False)

    def _emit(self, text: str, stream: str) -> None:
        if stream == "display":                  # the display module: its text fallback
            from ..stdlib.display import message_of
            message = message_of(text) or {}
            text = message.get("data", {}).get("text/plain", "")
            if not text:
                return
            text += "\n"
            stream = "stdout"
        target = sys.stdout if stream == "stdout" else sys.stderr
        target.write(text)
        target.flush()


class ExecutionContext(Record):
    """Everything one run may reach outside its own values. (A field given as None, or not
    given, gets a fresh default where one is shown as `[...]`.)"""

    _fields = ("output", "capabilities", "limits", "file_root", "allowed_hosts", "env", "argv",
               "script", "import_paths", "input", "grant_hint", "importing", "state")

    def __init__(self, output: OutputSink | None = None,             # [OutputSink()]
                 capabilities: Capabilities | None = None,           # [Capabilities()]
                 limits: Limits | None = None,                       # [Limits()]
                 file_root: Path | None = None,        # file/path access is confined here
                 allowed_hosts: tuple[str, ...] = (),  # http may reach only these hosts
                 env: dict[str, str] | None = None,    # [{}] env vars the host lets ML read
                 argv: list[str] | None = None,        # [[]] arguments after the program
                 script: str = "",                     # the program's name for args.script()
                 import_paths: list[Path] | None = None,               # [[]]
                 input: Callable[[str], str | None] | None = None,  # input(); None: none
                 grant_hint: str = "",      # how to grant a capability, e.g. "--allow {cap}"
                 importing: set | None = None,   # [set()] user modules being imported now
                 state: dict | None = None):
        self.output = OutputSink() if output is None else output
        self.capabilities = Capabilities() if capabilities is None else capabilities
        self.limits = Limits() if limits is None else limits
        self.file_root = file_root
        self.allowed_hosts = allowed_hosts
        self.env = {} if env is None else env
        self.argv = [] if argv is None else argv
        self.script = script
        self.import_paths = [] if import_paths is None else import_paths
        self.input = input
        self.grant_hint = grant_hint
        self.importing = set() if importing is None else importing
        # [{}] Per-namespace state that outlives one execution (random generator, log
        # settings, loaded user modules). The executor's sessions pass the same dict each time.
        self.state = {} if state is None else state

    def require(self, capability: str, function: str) -> None:
        self.capabilities.require(capability, function, self.grant_hint)

    def root(self) -> Path:
        return (self.file_root or Path(os.getcwd())).resolve()

    def module_state(self, key: str, factory: Callable[[], object]):
        """Per-namespace state for a library module (created on first use)."""
        try:
            return self.state[key]
        except KeyError:
            value = self.state[key] = factory()
            return value


_local = threading.local()
_DEFAULT = ExecutionContext(output=ConsoleSink())


def current() -> ExecutionContext:
    """The context of the run on this thread (a console default outside of any run)."""
    return getattr(_local, "context", None) or _DEFAULT


class using:
    """Install `context` for the current thread for the duration of the block.

    A class, not a generator: when a host stop cuts a run short, a generator-based manager
    can be left suspended and finalised later by the garbage collector on whatever thread
    happens to run it, where its `finally` would replace *that* thread's context."""

    __slots__ = ("context", "previous")

    def __init__(self, context: ExecutionContext):
        self.context = context
        self.previous = None

    def __enter__(self) -> ExecutionContext:
        self.previous = getattr(_local, "context", None)
        _local.context = self.context
        return self.context

    def __exit__(self, *exc: object) -> None:
        _local.context = self.previous
