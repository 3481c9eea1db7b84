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

from mlpy.errors import MLError, Where
from mlpy.runtime.values import ErrorValue, OversizedValue, ml_repr, typeof


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
    if cls is OversizedValue:         # a worker found it far over the host's cap
        raise NotSerialisable(f"its JSON form is more than the limit of {max_bytes} bytes")
    try:
        plain = _walk(value, name, 0, max_depth, set(), [max_bytes])
    except _OverCap:
        raise NotSerialisable(f"its JSON form is more than the limit of {max_bytes} "
                              f"bytes") from None
    try:
        size = len(json.dumps(plain, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8", "surrogatepass"))
    except ValueError as exc:  # an integer over Python's digit limit inside a container
        raise NotSerialisable(str(exc)) from None
    if size > max_bytes:
        raise NotSerialisable(f"its JSON form is {size} bytes, more than the limit of "
                              f"{max_bytes} bytes")
    return plain, size


class _OverCap(Exception):
    """The walk passed the size cap (reported by `to_json` with the cap)."""


def bounded_repr(value: Any, limit: int) -> str:
    """The container form (`ml_repr`) of `value`, cut to about `limit` characters (ending in
    "...") without formatting all of a large container first; nesting deeper than
    MAX_REPR_DEPTH shows as `[...]` / `{...}` (no recursion error, whatever the depth)."""
    text = _bounded(value, limit + 1, set(), 0)
    if len(text) > limit:
        text = text[:max(limit - 3, 0)] + "..."
    return text


MAX_REPR_DEPTH = 100


def _bounded(value: Any, budget: int, active: set, depth: int) -> str:
    cls = type(value)
    if cls is list or cls is dict or cls is ErrorValue:
        if not value:
            return "[]" if cls is list else "{}"
        if id(value) in active or depth >= MAX_REPR_DEPTH:
            return "[...]" if cls is list else "{...}"
        active.add(id(value))
        try:
            parts: list[str] = []
            used = 2
            if cls is list:
                for item in value:
                    if used > budget:
                        break
                    part = _bounded(item, budget - used, active, depth + 1)
                    parts.append(part)
                    used += len(part) + 2
                open_, close = "[", "]"
            else:
                for key, item in list(value.items()):
                    if used > budget:
                        break
                    part = (_bounded(key, budget - used, active, depth + 1) + ": "
                            + _bounded(item, budget - used, active, depth + 1))
                    parts.append(part)
                    used += len(part) + 2
                open_, close = "{", "}"
            text = open_ + ", ".join(parts)
            if len(parts) < len(value):
                text += ", ..."
            return text + close
        finally:
            active.discard(id(value))
    if cls is str and len(value) > budget:
        return ml_repr(value[:budget]) + "..."
    if cls is int:
        digits = _int_text(value)
        if digits is None:
            return f"<integer of {value.bit_length()} bits, too large to write as text>"
        return digits
    return ml_repr(value)


# Python writes integers of at most 4300 decimal digits (spec §4); every integer of this many
# bits or fewer has at most that many
_ALWAYS_DECIMAL_BITS = 14_284


def _int_text(value: int) -> str | None:
    """An integer's decimal text, or None past Python's limit on the digits it writes."""
    try:
        return int.__repr__(value)
    except ValueError:
        return None


def _walk(value: Any, path: str, depth: int, max_depth: int, active: set,
          budget: list[int]) -> Any:
    """A JSON-ready copy; `budget[0]` (bytes left of the cap) shrinks by a lower bound of
    each part's JSON size, and the walk stops as soon as it is spent — O(cap), never O(size
    of the value) for a value far over the cap."""
    cls = type(value)
    if value is None or cls is bool:
        budget[0] -= 4
        return value
    if cls is str:
        budget[0] -= len(value) + 2
        if budget[0] < 0:
            raise _OverCap()
        return value
    budget[0] -= 1
    if budget[0] < 0:
        raise _OverCap()
    if cls is int:
        if value.bit_length() > _ALWAYS_DECIMAL_BITS and _int_text(value) is None:
            raise NotSerialisable(f"the integer at {path} is too large to write as text")
        return value
    if cls is float:
        if math.isfinite(value):
            return value
        word = "nan" if value != value else ("inf" if value > 0 else "-inf")
        raise NotSerialisable(f"{word} at {path} is not a JSON number")
    if isinstance(value, (list, dict)) and not _is_plain_container(value):
        raise NotSerialisable(f"{_describe(value)} at {path}")
    if isinstance(value, list):
        return _walk_array(value, path, depth, max_depth, active, budget)
    if isinstance(value, dict):
        return _walk_object(value, path, depth, max_depth, active, budget)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return _walk(float(value), path, depth, max_depth, active, budget)
    raise NotSerialisable(f"{_describe(value)} at {path}")


def _enter(value: Any, kind: str, path: str, depth: int, max_depth: int, active: set) -> int:
    if depth >= max_depth:
        raise NotSerialisable(f"nesting deeper than {max_depth} levels")
    key = id(value)
    if key in active:
        raise NotSerialisable(f"the {kind} at {path} contains itself")
    active.add(key)
    return key


def _walk_array(value: list, path: str, depth: int, max_depth: int, active: set,
                budget: list[int]) -> list:
    key = _enter(value, "array", path, depth, max_depth, active)
    budget[0] -= len(value)          # brackets and commas (with the 1 already counted)
    out = [_walk(item, f"{path}[{i}]", depth + 1, max_depth, active, budget)
           for i, item in enumerate(value)]
    active.discard(key)
    return out


def _walk_object(value: dict, path: str, depth: int, max_depth: int, active: set,
                 budget: list[int]) -> dict:
    key = _enter(value, "object", path, depth, max_depth, active)
    budget[0] -= len(value)          # braces and commas
    obj: dict[str, Any] = {}
    for k, v in value.items():
        if type(k) is not str:
            raise NotSerialisable(f"the object at {path} has a key that is not a string "
                                  f"({_describe(k)})")
        budget[0] -= len(k) + 3      # "key":
        obj[k] = _walk(v, _key_path(path, k), depth + 1, max_depth, active, budget)
    active.discard(key)
    return obj


def _is_plain_container(value) -> bool:
    # list, dict and the runtime's dict subclass for error values are ML arrays/objects
    return type(value) in (list, dict, ErrorValue)



# -- Jupyter --------------------------------------------------------------------------------

def mime_bundle(value: Any, *, max_json_bytes: int = 1024 * 1024, json: bool = True,
                text_limit: int | None = None, table_rows: int | None = None) -> dict:
    """The `data` of an execute_result for a displayed ML value (spec §12.3).

    `{}` for null (nothing is shown); otherwise `text/plain` in ML container form (cut at
    `text_limit` characters with a note; default `max_json_bytes`), plus `text/html` (a table
    of at most `table_rows` rows) for a non-empty array whose elements are all objects, plus
    — when `json` is true — `application/json` for arrays and objects that JSON can carry
    and whose integers a JavaScript number holds exactly (a front end parses the JSON with
    doubles, so 12345678901234567890 would show as ...67000: such values are left out)."""
    if value is None:
        return {}
    limit = max_json_bytes if text_limit is None else text_limit
    data: dict[str, Any] = {"text/plain": display_text(value, limit)}
    if typeof(value) in ("array", "object") and _is_plain_container(value):
        table = html_table(value, MAX_TABLE_ROWS if table_rows is None else table_rows)
        if table is not None:
            data["text/html"] = table
        if json:
            try:
                plain = to_json(value, name="value", max_bytes=max_json_bytes)[0]
            except NotSerialisable:
                plain = None
            if plain is not None and _js_safe(plain):
                data["application/json"] = plain
    return data


JS_SAFE_INT = 2 ** 53 - 1     # Number.MAX_SAFE_INTEGER


def _js_safe(plain: Any) -> bool:
    """True when every integer in a JSON-ready value survives a JavaScript number."""
    stack = [plain]
    while stack:
        item = stack.pop()
        cls = type(item)
        if cls is int:
            if not -JS_SAFE_INT <= item <= JS_SAFE_INT:
                return False
        elif cls is list:
            stack.extend(item)
        elif cls is dict:
            stack.extend(item.values())
    return True


MAX_TABLE_ROWS = 500


def html_table(value: Any, max_rows: int = MAX_TABLE_ROWS) -> str | None:
    """An HTML table for a non-empty array whose elements are all objects, else None.

    Columns are the keys in first-seen order; a missing key leaves the cell empty; strings
    show as they are, other values in container form; at most `max_rows` rows, then a
    "... M more rows" note."""
    if type(value) is not list or not value or not all(isinstance(row, dict) for row in value):
        return None
    columns: dict[Any, None] = {}
    for row in value[:max_rows]:
        for key in row:
            columns.setdefault(key, None)
    head = "".join(f"<th>{_cell(key)}</th>" for key in columns)
    rows = []
    for row in value[:max_rows]:
        cells = "".join(f"<td>{_cell(row[key]) if key in row else ''}</td>" for key in columns)
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(value) > max_rows:
        more = f'<p class="ml-table-more">... {len(value) - max_rows} more rows</p>'
    return ('<table class="ml-table">\n<thead><tr>' + head + "</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody>\n</table>" + more)


MAX_CELL = 1000        # characters of one table cell


def _cell(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= MAX_CELL else value[:MAX_CELL - 3] + "..."
    else:
        text = bounded_repr(value, MAX_CELL)
    return html.escape(text)


def display_text(value: Any, limit: int) -> str:
    """`text/plain` of a displayed value: its container form, cut at `limit` characters with
    a note saying so (the display is cut, never the value)."""
    text = _bounded(value, limit + 1, set(), 0)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... (display cut at {limit} characters; the value is complete)"


def _as_ml_error(error: Any) -> MLError:
    if isinstance(error, MLError):
        return error
    # an executor result (error, error_type, line, column) or any exception
    message = getattr(error, "error", None)
    if message is None:
        message = str(error)
    etype = getattr(error, "error_type", None) or (
        type(error).__name__ if isinstance(error, BaseException) else "Error")
    err = MLError(str(message), type=etype, line=getattr(error, "line", None),
                  column=getattr(error, "column", None))
    err.traceback = getattr(error, "traceback", None)
    return err


def error_traceback(error: Any, source: str | None = None, where: Where | None = None) -> list[str]:
    """Traceback lines for a Jupyter `error` output: the headline (`Type: message (line N)`),
    then the offending source line with a caret, or the ML call stack (innermost last) with
    each frame's place (`where`: `Cell In[3]`).  `error` is an MLError, an executor result
    with error/error_type/line/column/traceback, or an exception."""
    return _render(_as_ml_error(error), source, where).splitlines()


def _render(err: MLError, source: str | None, where: Where | None) -> str:
    # with a call stack the frames carry the lines; the headline is Python's `Type: message`
    headline = f"{err.type}: {err.message}" if err.traceback and where is not None else None
    if headline is not None and err.message.startswith("Parse error:"):
        headline = None
    return err.render(source, where, headline=headline)


RED = "\x1b[0;31m"
RESET = "\x1b[0m"


def error_content(error: Any, source: str | None = None, *, color: bool = True,
                  where: Where | None = None) -> dict:
    """`{"ename", "evalue", "traceback"}` as in a Jupyter error message / output; the error
    type at the start of the traceback's headline is red (ANSI) unless `color` is false;
    `where` names each call-stack frame's place (error_traceback)."""
    err = _as_ml_error(error)
    tb = _render(err, source, where).splitlines() or [f"{err.type}: {err.message}"]
    if color and tb[0].startswith(err.type):
        tb[0] = f"{RED}{err.type}{RESET}{tb[0][len(err.type):]}"
    return {"ename": err.type, "evalue": err.message, "traceback": tb}
