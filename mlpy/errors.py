"""Errors as the host sees them: a type, a message and an ML position.

Every failure that leaves `mlpy` (parse, compile, security, run time, capability, time-out,
limit) is an `MLError`. Front doors render them in their own convention; `render()` is the
shared human form (the CLI and the kernel's traceback use it).
"""

from __future__ import annotations

from typing import Callable


class MLError(Exception):
    """An ML error with its type, message and (where known) 1-based line and column."""

    type = "Error"

    def __init__(self, message: str, *, type: str | None = None, line: int | None = None,
                 column: int | None = None, value: dict | None = None):
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type
        self.line = line
        self.column = column
        # The ML error value (for runtime errors): what `except (e)` would have bound.
        self.value = value
        # raised in a user module: its file (as shown) and source; None: the program itself
        self.file: str | None = None
        self.file_source: str | None = None
        # The ML call stack of a runtime error, outermost first (mlpy.runtime.errors.ml_stack)
        self.traceback: list[dict] | None = None

    def __str__(self) -> str:
        return self.message

    def headline(self) -> str:
        """`Type: message (line N)` — the one-line form of spec §7.3."""
        if self.message.startswith("Parse error:"):
            first = self.message.splitlines()[0]
            if self.file:
                first = first.replace("Parse error:", f"Parse error in {self.file}:", 1)
            return first
        text = f"{self.type}: {self.message}"
        if self.line is not None:
            text += f" (line {self.line}" + (f" of {self.file})" if self.file else ")")
        return text

    def render(self, source: str | None = None, where: Where | None = None, *,
               headline: str | None = None) -> str:
        """The headline, then the offending source line with a caret under the column — or,
        for an error raised inside functions or imported modules, the ML call stack
        (innermost last), each frame with its place (`where`), line and caret."""
        lines = [self.headline() if headline is None else headline]
        if self.message.startswith("Parse error:"):
            lines.extend(self.message.splitlines()[1:])
        if self.traceback and (where is not None or needs_stack(self.traceback)):
            lines.extend(render_stack(self.traceback, where))
            return "\n".join(lines)
        if self.file is not None:
            source = self.file_source
        excerpt = source_excerpt(source, self.line, self.column)
        if excerpt:
            lines.append(excerpt)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        out = {"type": self.type, "message": self.message, "line": self.line,
               "column": self.column, "traceback": self.traceback}
        if self.file is not None:
            out["file"] = self.file
        return out


# How a front door names where a frame's code came from: `File "x.ml"`, `Cell In[3]`.
Where = Callable[[dict], "str | None"]


def needs_stack(frames: list[dict]) -> bool:
    """More to say than one line of the program itself: a call, or code of another file."""
    return len(frames) > 1 or any(f.get("function") for f in frames)


def frame_place(frame: dict) -> str:
    """`File "util.ml"` for a file's code, "" for code given as text."""
    return f'File "{frame["file"]}"' if frame.get("file") else ""


def render_stack(frames: list[dict], where: Where | None = None) -> list[str]:
    """Each frame as `PLACE, line N, in NAME` and its source line with a caret."""
    out: list[str] = []
    for frame in frames:
        place = (where(frame) if where is not None else None) or frame_place(frame)
        head = f"line {frame['line']}"
        if place:
            head = f"{place}, {head}"
        if frame.get("function"):
            head += f", in {frame['function']}"
        out.append(head)
        excerpt = line_excerpt(frame.get("source"), frame.get("line"), frame.get("column"))
        if excerpt:
            out.extend(excerpt.split("\n"))
        if frame.get("repeat"):
            out.append(f"[the call above repeated {frame['repeat']} more times]")
        if frame.get("skipped"):
            out.append(f"[... {frame['skipped']} more calls ...]")
    return out


class MLSyntaxError(MLError):
    """Parse and compile-time errors: nothing has run."""

    type = "SyntaxError"


class MLImportError(MLSyntaxError):
    type = "ImportError"


class MLSecurityError(MLError):
    type = "SecurityError"


class MLRuntimeError(MLError):
    """An uncaught error raised while the program ran; `type` is the ML error type."""

    type = "RuntimeError"


class MLCapabilityError(MLRuntimeError):
    type = "CapabilityError"


class MLTimeoutError(MLError):
    type = "TimeoutError"


class MLLimitError(MLError):
    """A host limit stopped the program (output, size, memory, recursion of the host)."""

    type = "LimitError"


_EXCERPT_WIDTH = 160


def source_excerpt(source: str | None, line: int | None, column: int | None) -> str:
    """`  4 | x = ;` and a caret line, or "" when there is nothing to show."""
    if not source or not line:
        return ""
    src_lines = source.splitlines()
    if not 1 <= line <= len(src_lines):
        return ""
    return line_excerpt(src_lines[line - 1], line, column)


def line_excerpt(text: str | None, line: int | None, column: int | None) -> str:
    """One source line (line `line` of its program) with the gutter and a caret."""
    if text is None or not line:
        return ""
    text = text.replace("\t", " ")
    if len(text) > _EXCERPT_WIDTH:
        # a very long line (minified code, one-line data) is cut around the column
        at = (column or 1) - 1
        start = max(0, min(at - _EXCERPT_WIDTH // 2, len(text) - _EXCERPT_WIDTH))
        end = start + _EXCERPT_WIDTH
        text = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
        if column:
            column = column - start + (3 if start else 0)
    gutter = f"{line:>4} | "
    out = gutter + text
    if column and column >= 1:
        out += "\n" + " " * (len(gutter) + column - 1) + "^"
    return out
