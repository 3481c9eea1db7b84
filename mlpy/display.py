"""Rendering ML values and errors for hosts: JSON values, Jupyter MIME bundles, tracebacks.

Shared by the front doors (the FastAPI server and the Jupyter kernel), which import it and
never each other.

JSON values (spec §12.1)

JSON carries null, booleans, finite numbers, strings, arrays and objects with string keys.
Anything else (functions, modules, library objects, iterators, inf/nan, cycles, objects with
non-string keys), nesting deeper than `max_depth` or a JSON text over `max_bytes` is refused
with a reason; nothing is altered or silently replaced by null.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from mlpy.errors import MLError
from mlpy.runtime.values import ErrorValue, ml_repr, typeof


class NotSerialisable(Exception):
    """`str()` is the reason, e.g. `a function (<function f>) at result["f"]`."""


def _describe(value: Any) -> str:
    kind, text = typeof(value), ml_repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    article = "an" if kind[:1] in "aeiou" else "a"
    return f"{article} {kind} ({text})"


def _key_path(path: str, key: Any) -> str:
    if isinstance(key, str):
        return f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    return f"{path}[{key!r}]"


def to_json(value: Any, *, name: str = "result", max_depth: int = 64,
            max_bytes: int = 1024 * 1024) -> tuple[Any, int]:
    """A plain JSON-ready copy of `value` and its encoded size in bytes.

    Raises NotSerialisable with the reason.  Scalars take a fast path."""
    cls = type(value)
    if value is None or cls is bool:
        return value, 5
    if cls is int:
        try:
            text = int.__repr__(value)
        except ValueError:  # more digits than Python's int/str limit
            raise NotSerialisable(f"the integer at {name} is too large to write as text") from None
        if len(text) > max_bytes:
            raise NotSerialisable(f"its JSON form is more than {max_bytes} bytes")
        return value, len(text)
    if cls is str and len(value) * 6 + 2 <= max_bytes:
        return value, len(value) + 2  # an estimate is enough: cannot exceed the cap
    plain = _walk(value, name, 0, max_depth, set())
    try:
        size = len(json.dumps(plain, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8", "surrogatepass"))
    except ValueError as exc:  # an integer over Python's digit limit inside a container
        raise NotSerialisable(str(exc)) from None
    if size > max_bytes:
        raise NotSerialisable(f"its JSON form is {size} bytes, more than the limit of "
                              f"{max_bytes} bytes")
    return plain, size


def _walk(value: Any, path: str, depth: int, max_depth: int, active: set) -> Any:
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value
    if cls is int:
        return value
    if cls is float:
        if math.isfinite(value):
            return value
        word = "nan" if value != value else ("inf" if value > 0 else "-inf")
        raise NotSerialisable(f"{word} at {path} is not a JSON number")
    if isinstance(value, (list, dict)) and not _is_plain_container(value):
        raise NotSerialisable(f"{_describe(value)} at {path}")
    if isinstance(value, list):
        if depth >= max_depth:
            raise NotSerialisable(f"nesting deeper than {max_depth} levels")
        key = id(value)
        if key in active:
            raise NotSerialisable(f"the array at {path} contains itself")
        active.add(key)
        out = [_walk(item, f"{path}[{i}]", depth + 1, max_depth, active)
               for i, item in enumerate(value)]
        active.discard(key)
        return out
    if isinstance(value, dict):
        if depth >= max_depth:
            raise NotSerialisable(f"nesting deeper than {max_depth} levels")
        key = id(value)
        if key in active:
            raise NotSerialisable(f"the object at {path} contains itself")
        active.add(key)
        obj: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotSerialisable(f"the object at {path} has a key that is not a string "
                                      f"({_describe(k)})")
            obj[k] = _walk(v, _key_path(path, k), depth + 1, max_depth, active)
        active.discard(key)
        return obj
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return _walk(float(value), path, depth, max_depth, active)
    raise NotSerialisable(f"{_describe(value)} at {path}")


def _is_plain_container(value) -> bool:
    # list, dict and the runtime's dict subclass for error values are ML arrays/objects
    return type(value) in (list, dict, ErrorValue)



# -- Jupyter --------------------------------------------------------------------------------

def mime_bundle(value: Any, *, max_json_bytes: int = 1024 * 1024) -> dict:
    """The `data` of an execute_result for a displayed ML value (spec §12.3).

    `{}` for null (nothing is shown); otherwise `text/plain` in ML container form, plus
    `application/json` for arrays and objects that JSON can carry, plus `text/html` (a table)
    for a non-empty array whose elements are all objects."""
    if value is None:
        return {}
    data: dict[str, Any] = {"text/plain": ml_repr(value)}
    if typeof(value) in ("array", "object") and _is_plain_container(value):
        try:
            data["application/json"] = to_json(value, name="value",
                                               max_bytes=max_json_bytes)[0]
        except NotSerialisable:
            pass
        table = html_table(value)
        if table is not None:
            data["text/html"] = table
    return data


MAX_TABLE_ROWS = 500


def html_table(value: Any) -> str | None:
    """An HTML table for a non-empty array whose elements are all objects, else None.

    Columns are the keys in first-seen order; a missing key leaves the cell empty; strings
    show as they are, other values in container form; at most MAX_TABLE_ROWS rows."""
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
    return ('<table class="ml-table">\n<thead><tr>' + head + "</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody>\n</table>" + more)


def _cell(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else ml_repr(value))


def _as_ml_error(error: Any) -> MLError:
    if isinstance(error, MLError):
        return error
    # an executor result (error, error_type, line, column) or any exception
    message = getattr(error, "error", None)
    if message is None:
        message = str(error)
    etype = getattr(error, "error_type", None) or (
        type(error).__name__ if isinstance(error, BaseException) else "Error")
    return MLError(str(message), type=etype, line=getattr(error, "line", None),
                   column=getattr(error, "column", None))


def error_traceback(error: Any, source: str | None = None) -> list[str]:
    """Traceback lines for a Jupyter `error` output: the headline (`Type: message (line N)`),
    then the offending source line with a caret.  `error` is an MLError, an executor result
    with error/error_type/line/column, or an exception."""
    return _as_ml_error(error).render(source).splitlines()


RED = "\x1b[0;31m"
RESET = "\x1b[0m"


def error_content(error: Any, source: str | None = None, *, color: bool = True) -> dict:
    """`{"ename", "evalue", "traceback"}` as in a Jupyter error message / output; the error
    type at the start of the traceback's headline is red (ANSI) unless `color` is false."""
    err = _as_ml_error(error)
    tb = err.render(source).splitlines() or [f"{err.type}: {err.message}"]
    if color and tb[0].startswith(err.type):
        tb[0] = f"{RED}{err.type}{RESET}{tb[0][len(err.type):]}"
    return {"ename": err.type, "evalue": err.message, "traceback": tb}
