"""How the kernel shows values and errors.

The shared rendering lives in `mlpy.display` (the server's notebook endpoint uses it too):
`mime_bundle(value)` gives text/plain in container form and application/json for arrays and
objects; `error_content(error, source)` gives ename/evalue and a traceback with the ML line and
a caret. This module adds what the shared one does not (yet) produce: an HTML table for an
array of objects, and a colour on the traceback's headline.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mlpy import display as shared
from mlpy.runtime.values import display as display_form, ml_repr

RED = "\x1b[0;31m"
RESET = "\x1b[0m"
MAX_TABLE_ROWS = 500


def mime_bundle(value: Any) -> dict:
    """The `data` of an execute_result (empty for null: nothing is shown)."""
    data = shared.mime_bundle(value)
    if data and "text/html" not in data:
        table = html_table(value)
        if table is not None:
            data["text/html"] = table
    return data


def html_table(value: Any) -> str | None:
    """An HTML table for a non-empty array whose elements are all objects, else None.

    Columns are the keys in first-seen order; a missing key leaves the cell empty; strings
    show as they are, other values in container form."""
    if type(value) is not list or not value or not all(isinstance(row, dict) for row in value):
        return None
    columns: dict[Any, None] = {}
    for row in value:
        for key in row:
            columns.setdefault(key, None)
    head = "".join(f"<th>{_cell(key)}</th>" for key in columns)
    rows = []
    for row in value[:MAX_TABLE_ROWS]:
        cells = "".join(f"<td>{_cell(row[key]) if key in row else ''}</td>" for key in columns)
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(value) > MAX_TABLE_ROWS:
        more = f"<p>{len(value) - MAX_TABLE_ROWS} more rows not shown</p>"
    return (f'<table class="ml-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>" + more)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else ml_repr(value)
    return html.escape(text)


def error_content(error: Any, source: str | None = None) -> dict:
    """`{"ename", "evalue", "traceback"}` for an `error` message and an error execute_reply."""
    content = shared.error_content(error, source)
    tb = list(content.get("traceback") or [f"{content['ename']}: {content['evalue']}"])
    head = tb[0]
    name = content["ename"]
    if head.startswith(name):
        tb[0] = f"{RED}{name}{RESET}{head[len(name):]}"
    content["traceback"] = tb
    return content


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """`text` without ANSI colour codes."""
    return ANSI.sub("", text)


def value_text(value: Any) -> str:
    """Display form (what print shows)."""
    return display_form(value)
