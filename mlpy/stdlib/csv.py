"""ML module `csv`: comma-separated values from and to text and files.

Rows read with headers are objects (column -> string; a short row gives "" for its missing
columns, extra fields are dropped); without headers they are arrays of strings. Empty lines
are skipped. Writing uses `\\r\\n` line ends and each value's display form (`str()`). File
functions are confined to the host-granted folder like the `file` module.
"""

from __future__ import annotations

import csv as _csv
import io

from ..runtime.values import display, typeof
from . import LibraryModule
from ._paths import confine_for

module = LibraryModule("csv", "Read and write CSV text and files")


def _delimiter(delimiter) -> str:
    if not isinstance(delimiter, str):
        raise TypeError(f"CSV delimiter must be a string, not {typeof(delimiter)}")
    if len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValueError(f"CSV delimiter must be one character other than a quote or line end: "
                         f"'{delimiter}'")
    return delimiter


def _rows(text: str, delimiter: str) -> list[list[str]]:
    try:
        return [row for row in _csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                if row]
    except _csv.Error as exc:
        raise ValueError(f"CSV parsing failed: {exc}") from None


def _parse(text, delimiter, headers) -> list:
    if not isinstance(text, str):
        raise TypeError(f"CSV text must be a string, not {typeof(text)}")
    rows = _rows(text, _delimiter(delimiter))
    if not headers:
        return rows
    if not rows:
        return []
    columns = rows[0]
    return [{column: (row[i] if i < len(row) else "") for i, column in enumerate(columns)}
            for row in rows[1:]]


def _cells(row, columns) -> list[str]:
    if isinstance(row, dict):
        if columns is None:
            return [display(v) for v in row.values()]
        return [display(row[c]) if c in row else "" for c in columns]
    if isinstance(row, list):
        return [display(v) for v in row]
    raise TypeError(f"CSV rows must be objects or arrays, not {typeof(row)}")


def _format(rows, delimiter, headers) -> str:
    if not isinstance(rows, list):
        raise TypeError(f"CSV rows must be an array, not {typeof(rows)}")
    delimiter = _delimiter(delimiter)
    out = io.StringIO()
    writer = _csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    columns = None
    if rows and isinstance(rows[0], dict):
        columns = list(rows[0].keys())
        if headers:
            writer.writerow([display(c) for c in columns])
    for row in rows:
        writer.writerow(_cells(row, columns))
    return out.getvalue()


def _read_file(path) -> str:
    from .file import read_text
    return read_text(confine_for("file.read", path), path, "utf-8", newline="")


@module.function()
def read_string(text, delimiter=",", headers=True):
    """Parse CSV text: objects keyed by the header row, or arrays without headers."""
    return _parse(text, delimiter, headers)


@module.function()
def write_string(rows, delimiter=",", headers=True):
    """CSV text (\\r\\n line ends) from an array of objects (header from the first) or arrays."""
    return _format(rows, delimiter, headers)


@module.function(capabilities=("file.read",))
def read(path, delimiter=",", headers=True):
    """Parse a CSV file: objects keyed by the header row, or arrays without headers."""
    return _parse(_read_file(path), delimiter, headers)


@module.function(capabilities=("file.read",))
def count_rows(path):
    """The number of data rows of a CSV file (the header row and empty lines not counted)."""
    return max(len(_rows(_read_file(path), ",")) - 1, 0)


@module.function(capabilities=("file.read",))
def get_headers(path):
    """The header row of a CSV file ([] if empty)."""
    rows = _rows(_read_file(path), ",")
    return rows[0] if rows else []


@module.function(capabilities=("file.write",))
def write(path, rows, delimiter=",", headers=True):
    """Write rows (objects or arrays) to a CSV file, creating parent folders."""
    from .file import write_text
    text = _format(rows, delimiter, headers)
    write_text(confine_for("file.write", path), path, text)


@module.function(capabilities=("file.read", "file.write"))
def append(path, row):
    """Append one row; an object follows the file's header (a new file gets one from its keys)."""
    from .file import write_text
    resolved = confine_for(("file.read", "file.write"), path)
    existing = _read_file(path) if resolved.is_file() else ""
    rows = _rows(existing, ",") if existing else []
    if isinstance(row, dict):
        if rows:
            columns = rows[0]
            text = _format([{c: row.get(c, "") for c in columns}], ",", False)
        else:
            text = _format([row], ",", True)
    elif isinstance(row, list):
        text = _format([row], ",", False)
    else:
        raise TypeError(f"CSV rows must be objects or arrays, not {typeof(row)}")
    if existing and not existing.endswith(("\n", "\r")):
        text = "\r\n" + text
    write_text(resolved, path, text, mode="a")
