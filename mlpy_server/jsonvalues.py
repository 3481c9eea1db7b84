"""JSON checks for requests and responses; the value conversion lives in mlpy.display."""

from __future__ import annotations

import json
from typing import Any

from mlpy.display import NotSerialisable, _walk, to_json
from mlpy.language import IDENTIFIER

__all__ = ["NotSerialisable", "to_json", "check_context"]

def check_context(context: Any, *, max_depth: int, max_bytes: int) -> str | None:
    """Why a request's `context` is unacceptable, or None.  (It arrived as JSON, so only
    depth, size, non-finite numbers and key names remain to check.)"""
    if context is None:
        return None
    for key in context:
        if not IDENTIFIER.match(key):
            return f"context key {key!r} is not a valid ML identifier"
        if key.startswith("_"):
            return f"context key {key!r} must not start with '_'"
    try:
        for key, value in context.items():
            _walk(value, f"context[{json.dumps(key)}]", 0, max_depth, set(), [1 << 62])
    except NotSerialisable as exc:
        return f"context value: {exc}"
    size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"context is {size} bytes as JSON, more than the limit of {max_bytes} bytes"
    return None
