"""The ML `json` module: parse, serialise and inspect JSON values (spec section 10).

Numbers parse as in ML source (`2` an integer, `2.0` and `3e2` floats); NaN and Infinity are
not JSON and are refused both ways. Python's json module is imported on first use only.
"""

from __future__ import annotations

from ..runtime.context import current
from ..runtime.signals import LimitStop
from ..runtime.values import MLObject, MLModule, typeof
from . import LibraryModule

module = LibraryModule("json", "JSON parsing, serialisation and inspection")

_MAX_SAFE_DEPTH = 100


class _TooDeep(ValueError):
    """JSON text nested beyond what the parser can follow."""


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _loads(text, where: str):
    """Parse `text` or raise ValueError("JSON parsing failed: ...")."""
    import json as _json
    if not isinstance(text, str):
        raise TypeError(f"json.{where}() expects a string, got {typeof(text)}")
    try:
        return _json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _TooDeep("JSON parsing failed: nesting is too deep") from None
    except ValueError as exc:          # JSONDecodeError, NaN/Infinity, over-long integers
        raise ValueError(f"JSON parsing failed: {exc}") from None


def _not_serialisable(value):
    if isinstance(value, MLObject):
        kind = value.ml_type
    elif isinstance(value, MLModule):
        kind = "module"
    else:
        kind = typeof(value)
    raise TypeError(f"a value of type {kind} is not JSON serializable")


def _dumps(value, indent=None) -> str:
    import json as _json
    try:
        if indent is None:
            return _json.dumps(value, ensure_ascii=True, allow_nan=False,
                               separators=(", ", ": "), default=_not_serialisable)
        return _json.dumps(value, ensure_ascii=True, allow_nan=False, indent=indent,
                           separators=(",", ": "), default=_not_serialisable)
    except RecursionError:
        raise ValueError("JSON serialization failed: nesting is too deep") from None
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if message == "Circular reference detected":
            message = "circular reference detected"
        elif message.startswith("Out of range float values"):
            message = "nan and inf are not JSON numbers"
        elif message.startswith("keys must be"):
            message = "object keys must be strings, numbers, booleans or null"
        raise ValueError(f"JSON serialization failed: {message}") from None


@module.function()
def parse(text):
    """Parse JSON text into an ML value; invalid text raises ValueError."""
    return _loads(text, "parse")


def _check_depth(value, limit: int, depth: int = 0) -> None:
    if depth > limit:
        raise ValueError(f"JSON object depth exceeds maximum allowed ({limit})")
    if type(value) is dict:
        for item in value.values():
            _check_depth(item, limit, depth + 1)
    elif type(value) is list:
        for item in value:
            _check_depth(item, limit, depth + 1)


@module.function("safeParse")
def safeParse(text, max_depth=100):
    """Parse JSON text, refusing values nested deeper than max_depth (at most 100)."""
    if type(max_depth) is not int:
        raise TypeError(f"json.safeParse() max_depth must be an integer, got {typeof(max_depth)}")
    limit = min(max_depth, _MAX_SAFE_DEPTH)
    try:
        value = _loads(text, "safeParse")
    except _TooDeep:
        raise ValueError(f"JSON object depth exceeds maximum allowed ({limit})") from None
    _check_depth(value, limit)
    return value


@module.function()
def stringify(value):
    """JSON text of value, with ", " and ": " separators and non-ASCII escaped as \\uXXXX."""
    return _dumps(value)


@module.function("prettyPrint")
def prettyPrint(value, indent=4):
    """JSON text with every element and member on its own line, indented `indent` spaces per level."""
    if type(indent) is not int:
        raise TypeError(f"json.prettyPrint() indent must be an integer, got {typeof(indent)}")
    indent = max(indent, 0)
    if indent > 16:
        # Indentation grows with indent * depth on every line: bound the text before building it.
        flat, one = _dumps(value, indent=0), _dumps(value, indent=1)
        size = len(flat) + indent * (len(one) - len(flat))
        limit = current().limits.max_string
        if size > limit:
            raise LimitStop(f"json.prettyPrint(): the text would exceed {limit} characters")
    return _dumps(value, indent=indent)


@module.function()
def validate(text):
    """true if text is valid JSON, else false."""
    if not isinstance(text, str):
        return False
    try:
        _loads(text, "validate")
    except ValueError:
        return False
    return True


@module.function("isObject")
def isObject(value):
    """true for an object."""
    return isinstance(value, dict)


@module.function("isArray")
def isArray(value):
    """true for an array."""
    return type(value) is list


@module.function("isString")
def isString(value):
    """true for a string."""
    return type(value) is str


@module.function("isNumber")
def isNumber(value):
    """true for a number (booleans are not numbers)."""
    return type(value) is int or type(value) is float


@module.function("isBoolean")
def isBoolean(value):
    """true for true and false."""
    return type(value) is bool


@module.function("isNull")
def isNull(value):
    """true for null."""
    return value is None


@module.function()
def keys(obj):
    """The keys of an object in order ([] for other values)."""
    return list(obj.keys()) if isinstance(obj, dict) else []


@module.function()
def values(obj):
    """The values of an object in key order ([] for other values)."""
    return list(obj.values()) if isinstance(obj, dict) else []


def _has(obj, key) -> bool:
    try:
        return key in obj
    except TypeError:                  # an array or object as key: never present
        return False


@module.function("hasKey")
def hasKey(obj, key):
    """true if obj is an object with the key."""
    return isinstance(obj, dict) and _has(obj, key)


@module.function()
def get(obj, key, default=None):
    """obj[key] if obj is an object with the key, else default."""
    if isinstance(obj, dict) and _has(obj, key):
        return obj[key]
    return default


@module.function()
def merge(a, b):
    """A new object with the members of a, then those of b (b wins)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        raise TypeError(f"json.merge() expects two objects, got {typeof(a)} and {typeof(b)}")
    merged = dict(a)
    merged.update(b)
    return merged
