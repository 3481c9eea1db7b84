"""Errors as the host sees them: a type, a message and an ML position.

Every failure that leaves `mlpy` (parse, compile, security, run time, capability, time-out,
limit) is an `MLError`. Front doors render them in their own convention; `render()` is the
shared human form (the CLI and the kernel's traceback use it).
"""

from __future__ import annotations


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

    def render(self, source: str | None = None) -> str:
        """The headline, then the offending source line with a caret under the column."""
        lines = [self.headline()]
        if self.message.startswith("Parse error:"):
            lines.extend(self.message.splitlines()[1:])
        if self.file is not None:
            source = self.file_source
        excerpt = source_excerpt(source, self.line, self.column)
        if excerpt:
            lines.append(excerpt)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        out = {"type": self.type, "message": self.message, "line": self.line,
               "column": self.column}
        if self.file is not None:
            out["file"] = self.file
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
    text = src_lines[line - 1].replace("\t", " ")
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
