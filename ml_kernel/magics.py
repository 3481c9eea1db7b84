"""Cell magics: leading `%name args` lines, and `name?` / `?name` help requests.

Only lines at the start of a cell (before any ML code) are magics; a later line starting
with `%` is ML (a continued `a\n% b` is modulo). Magic lines are blanked rather than removed,
so ML line numbers in errors stay the cell's line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAGICS = {
    "timeout": "%timeout N — time limit for this cell in seconds; alone in a cell: the default "
               "for later cells (%timeout off: no default; %timeout: show it)",
    "python": "%python — show the Python that the rest of the cell compiles to, without running it",
    "time": "%time — run the rest of the cell and report how long it took",
    "reset": "%reset — forget every variable, function and import of the session",
    "who": "%who — list the session's variables with their types and values",
    "capabilities": "%capabilities — list the capabilities granted to this kernel's programs",
    "clear": "%clear — clear this cell's output so far",
    "help": "%help NAME — show the documentation of a builtin, module, function or variable "
            "(also NAME? or ?NAME)",
    "display": "%display json|text — results also as application/json (json) or only as text "
               "and tables (text, the default); alone in a cell: for later cells; %display: "
               "show the setting",
    "lsmagic": "%lsmagic — list the magics",
    "output_limit": "%output_limit N — show at most N characters of this cell's output (the "
                    "rest is cut with a note; the cell goes on); alone in a cell: for later "
                    "cells (%output_limit off: no cut; %output_limit: show it)",
}

DISPLAY_MODES = ("text", "json")

_MAGIC_LINE = re.compile(r"^\s*%([A-Za-z_][A-Za-z0-9_]*)\s*(.*?)\s*$")
_HELP = re.compile(r"^\s*(?:\?\s*([A-Za-z_][\w.]*)|([A-Za-z_][\w.]*)\s*\?)\s*$")


class MagicError(Exception):
    """A magic line that cannot be used: unknown name or bad argument."""


@dataclass
class Cell:
    code: str                                            # ML code, magic lines blanked
    magics: list[tuple[str, str]] = field(default_factory=list)   # (name, argument), in order
    help: str | None = None                              # `name?` cells: the name
    timeout: float | None = None                         # from `%timeout N`
    timeout_off: bool = False                            # `%timeout off`
    output_limit: int | None = None                      # from `%output_limit N`
    output_limit_off: bool = False                       # `%output_limit off`

    def has(self, name: str) -> bool:
        return any(m == name for m, _ in self.magics)

    @property
    def only_magics(self) -> bool:
        return not self.code.strip()


def parse_cell(source: str) -> Cell:
    """Split a cell into its leading magics and its ML code. Raises MagicError."""
    help_match = _HELP.match(source)
    if help_match:
        return Cell(code="", help=help_match.group(1) or help_match.group(2))
    lines = source.split("\n")
    cell = Cell(code="")
    index = 0
    for index, line in enumerate(lines):
        if not line.strip() or line.strip().startswith("//"):
            continue                    # blank and comment lines may come before a magic
        match = _MAGIC_LINE.match(line)
        if not match:
            break
        name, arg = match.group(1), match.group(2)
        if name not in MAGICS:
            raise MagicError(f"unknown magic %{name}; available: "
                             + ", ".join("%" + m for m in MAGICS))
        cell.magics.append((name, arg))
        lines[index] = ""
        if name == "timeout" and arg:
            if arg.lower() in ("off", "none", "0"):
                cell.timeout_off = True
            else:
                cell.timeout = parse_seconds(arg)
        elif name == "output_limit" and arg:
            if arg.lower() in ("off", "none"):
                cell.output_limit_off = True
            else:
                cell.output_limit = parse_characters(arg)
        elif name == "help":
            if not arg:
                raise MagicError("%help expects a name, e.g. %help len")
            cell.help = arg
        elif name == "display" and arg and arg.lower() not in DISPLAY_MODES:
            raise MagicError(f"%display expects one of {', '.join(DISPLAY_MODES)}, got {arg!r}")
        elif arg and name not in ("timeout", "help", "display", "output_limit"):
            raise MagicError(f"%{name} takes no argument (got {arg!r}); put ML code on the "
                             "next line")
    else:
        index = len(lines)
    cell.code = "\n".join(lines)
    return cell


def parse_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise MagicError(f"%timeout expects a number of seconds, got {text!r}") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise MagicError(f"%timeout expects a positive number of seconds, got {text!r}")
    return seconds


def parse_characters(text: str) -> int:
    """%output_limit's argument: a positive whole number of characters."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise MagicError(f"%output_limit expects a number of characters or off, got {text!r}"
                         ) from None
    if value <= 0:
        raise MagicError(f"%output_limit expects a positive number of characters, got {text!r}")
    return value


def lsmagic() -> str:
    return "\n".join(MAGICS.values())
