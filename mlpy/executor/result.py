"""What one execution reports to its host."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class AsyncMLResult:
    """The outcome of one execution.

    `value` is the ML variable `result` after the run (None if never set, or if the run
    failed) — the raw ML value; hosts that send JSON convert (and reject) it themselves.
    `display_value` is the value of a final expression statement of an interactive run.
    `error` is the message alone: `Execution timeout after 5.0 seconds`, `Parse error: ...`,
    `name 'x' is not defined`; `error_type`, `line`, `column` locate it. A program can throw
    any text as its error's message and type, so both are bounded here, for every host."""

    success: bool
    value: Any = None
    error: str | None = None
    execution_time: float = 0.0
    transpile_time: float = 0.0
    stdout: str = ""
    stdout_truncated: bool = False
    error_type: str | None = None
    line: int | None = None
    column: int | None = None
    display_value: Any = None
    stderr: str = ""
    # durable sessions (`executor.session(durable=True)`): the session's state after the run
    # as a checkpoint record (mlpy/checkpoint.py), or why none could be written; and, on the
    # first run of a session made from a checkpoint, what could not be restored
    checkpoint: bytes | None = None
    checkpoint_error: str | None = None
    restored: bool = False
    lost: list[dict] | None = None
    # the ML call stack of a runtime error, outermost first (mlpy.runtime.errors.ml_stack):
    # frames of {file, program, line, column, function, source, repeat, skipped}
    traceback: list[dict] | None = None
    # what stopped the run from outside the program: "timeout", "interrupt", "shutdown",
    # "memory", "limit" (a size or output cap) or "lost" (a session's worker process is
    # gone); None when the program ended by itself.
    # Hosts read this, never `error_type`, which a program chooses (`throw {type: ...}`).
    stopped_by: str | None = None

    def __post_init__(self) -> None:
        self.error = bounded_message(self.error)
        if self.error_type is not None and len(self.error_type) > MAX_ERROR_TYPE:
            self.error_type = self.error_type[:MAX_ERROR_TYPE] + "..."

    def to_dict(self) -> dict:
        """The fields as a dict (values not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


MAX_ERROR_MESSAGE = 64 * 1024      # characters of an error message a host receives
MAX_ERROR_TYPE = 200               # characters of an error type a host receives


def bounded_message(message: str | None) -> str | None:
    """An error message cut to MAX_ERROR_MESSAGE characters (a program can throw any text)."""
    if message is None or len(message) <= MAX_ERROR_MESSAGE + 100:  # (already cut: kept)
        return message
    return (message[:MAX_ERROR_MESSAGE]
            + f"... (message truncated: {len(message)} characters)")


def memory_message(limit: int | None) -> str:
    """The error of a run that hit its worker process's memory limit."""
    if limit:
        return f"memory limit of {limit / (1 << 20):g} MiB exceeded"
    return "out of memory"
