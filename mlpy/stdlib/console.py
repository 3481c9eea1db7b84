"""The ML `console` module: print-like output to standard output and standard error."""

from __future__ import annotations

from ..runtime.context import current
from ..runtime.values import display
from . import LibraryModule

module = LibraryModule("console", "Console output: log, info and debug to stdout; warn and error to stderr")


def _emit(args: tuple, stream: str, prefix: str | None = None) -> None:
    parts = [display(a) for a in args]
    if prefix is not None:
        parts.insert(0, prefix)
    current().output.write(" ".join(parts) + "\n", stream)


@module.function()
def log(*values):
    """Print the values like print(): display forms joined by spaces, then a newline."""
    _emit(values, "stdout")


@module.function()
def info(*values):
    """Print the values to standard output after an `INFO:` label."""
    _emit(values, "stdout", "INFO:")


@module.function()
def debug(*values):
    """Print the values to standard output after a `DEBUG:` label."""
    _emit(values, "stdout", "DEBUG:")


@module.function()
def warn(*values):
    """Write the values to standard error after a `WARNING:` label."""
    _emit(values, "stderr", "WARNING:")


@module.function()
def error(*values):
    """Write the values to standard error, like print()."""
    _emit(values, "stderr")
