"""ML values as Python values, and their one spelling (spec §5).

number -> int | float (bool is boolean), string -> str, null -> None, array -> list,
object -> dict (error values: `ErrorValue`, a dict), function -> any Python callable the
runtime hands out, module -> `MLModule`, library objects -> `MLObject` subclasses,
iterators -> `MLIterator`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from ..language import KW_PREFIX, ml_name


class ErrorValue(dict):
    """A caught error: a plain ML object whose display form is its message (spec §7.1)."""

    __slots__ = ()


class MLObject:
    """Base of library objects (Pattern, Match, DateTimeObject, ...).

    ML reaches only the names in `ml_members` (ML name -> Python attribute); `ml_type` is what
    `typeof` answers and what the object prints as (`<Pattern>`)."""

    ml_type = "object"
    ml_members: frozenset[str] | dict[str, str] = frozenset()

    def ml_member_names(self) -> list[str]:
        return sorted(self.ml_members)

    def ml_attribute(self, name: str) -> str | None:
        members = self.ml_members
        if isinstance(members, dict):
            return members.get(name)
        return name if name in members else None

    def __repr__(self) -> str:
        return f"<{self.ml_type}>"


class OversizedValue(MLObject):
    """What a process worker sends instead of a value whose JSON form is surely over the
    host's cap (ExecutorSettings.max_result_bytes): `size` is its pickle's size in bytes."""

    ml_type = "value too large to send"

    def __init__(self, size: int):
        self.size = size

    def __reduce__(self):
        return OversizedValue, (self.size,)

    def __repr__(self) -> str:
        return f"<a value of more than {self.size // 3} bytes as JSON, not sent by the worker>"


class MLModule:
    """An imported module: a standard-library module or a user module's top-level names."""

    __slots__ = ("ml_name", "members", "description", "capabilities")

    def __init__(self, name: str, members: Mapping[str, Any], description: str = "",
                 capabilities: tuple[str, ...] = ()):
        self.ml_name = name
        self.members = members
        self.description = description
        self.capabilities = capabilities

    def __repr__(self) -> str:
        return f"<module {self.ml_name}>"


class MLIterator:
    """What `iter()` returns: typeof "unknown", usable by `next()` and `for`."""

    __slots__ = ("_it",)

    def __init__(self, iterable):
        self._it = iter(iterable)

    def __iter__(self):
        return self._it

    def __repr__(self) -> str:
        return "<iterator>"


FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                  types.BuiltinMethodType, types.MethodWrapperType)


def typeof(value: Any) -> str:
    """The ML type name of spec §5.1."""
    cls = type(value)
    if cls is bool:
        return "boolean"
    if cls is int or cls is float:
        return "number"
    if cls is str:
        return "string"
    if value is None:
        return "null"
    if cls is list:
        return "array"
    if cls is dict or cls is ErrorValue:
        return "object"
    if isinstance(value, MLObject):
        return value.ml_type
    if cls is MLModule:
        return "module"
    if callable(value) and not isinstance(value, type):
        return "function"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def function_name(fn: Any) -> str:
    """The ML name of a function value ("" for an anonymous arrow)."""
    name = getattr(fn, "ml_name", None)
    if name is None:
        name = getattr(fn, "__name__", "") or ""
    if name.startswith(KW_PREFIX):
        return ml_name(name)
    if name.startswith("__") or name == "<lambda>":
        return ""
    return name


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(text: str) -> str:
    """A string in container form: double quotes, minimal escapes (spec §5.3)."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " ":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def display(value: Any) -> str:
    """Display form: what print, str() and string `+` show."""
    cls = type(value)
    if cls is str:
        return value
    if cls is int:
        return int.__repr__(value)
    if cls is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if cls is float:
        return float.__repr__(value)
    if cls is ErrorValue:
        return display(value.get("message", ""))
    return ml_repr(value)


def ml_repr(value: Any) -> str:
    """Container form: what repr() gives and how values print inside arrays and objects.
    A container's text is built against the run's string cap (`capped.Budget`): a shared,
    nested array cannot make a text of gigabytes before the limit is noticed."""
    cls = type(value)
    if cls is list or cls is dict or cls is ErrorValue:
        from .capped import Budget
        return _container(value, set(), Budget())
    return _container(value, set(), None)


def _container(value: Any, active: set, budget: Any) -> str:
    cls = type(value)
    if cls is str:
        text = quote(value)
        if budget is not None:
            budget.spend(len(text))
        return text
    if cls is list:
        if not value:
            return "[]"
        key = id(value)
        if key in active:
            return "[...]"
        active.add(key)
        try:
            budget.spend(len(value) * 2)        # brackets and ", " separators
            return "[" + ", ".join([_container(v, active, budget) for v in value]) + "]"
        finally:
            active.discard(key)
    if cls is dict or cls is ErrorValue:
        if not value:
            return "{}"
        key = id(value)
        if key in active:
            return "{...}"
        active.add(key)
        try:
            budget.spend(len(value) * 4)        # braces, ": " and ", "
            return "{" + ", ".join([_container(k, active, budget) + ": "
                                    + _container(v, active, budget)
                                    for k, v in value.items()]) + "}"
        finally:
            active.discard(key)
    if budget is not None and (cls is int or cls is float):
        text = int.__repr__(value) if cls is int else float.__repr__(value)
        budget.spend(len(text))
        return text
    if cls is int:
        return int.__repr__(value)
    if cls is float:
        return float.__repr__(value)
    if cls is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return _other(value)


def _other(value: Any) -> str:
    if isinstance(value, MLObject):
        return f"<{value.ml_type}>"
    if type(value) is MLModule:
        return f"<module {value.ml_name}>"
    if type(value) is MLIterator:
        return "<iterator>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str, list, dict)):
        return ml_repr(type(value).__mro__[-2](value))  # a subclass from the host
    if callable(value):
        name = function_name(value)
        return f"<function {name}>" if name else "<function>"
    return "<unknown>"


def truthy(value: Any) -> bool:
    return bool(value)
