"""Namespaces ML code runs in: ML builtins, runtime helpers, context variables — nothing else.

`__builtins__` is an empty dict, so no Python builtin is reachable; the runtime helpers are
stored under `__ml_*` names, which ML cannot spell (identifiers starting with `__` are refused).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import helper_names as H
from ..language import IDENTIFIER, KW_PREFIX, RESERVED_WORDS, ml_name, py_name
from . import ops
from .builtins import BUILTINS, builtin_module, range_iter
from .imports import make_importer
from ..security import refused_name
from .signals import SecurityViolation
from .values import ErrorValue

_HELPERS = {
    H.ADD: ops.add, H.MUL: ops.mul, H.MOD: ops.mod, H.FLOORDIV: ops.floordiv, H.GETM: ops.getm,
    H.SETM: ops.setm, H.METH: ops.meth, H.ITER: ops.ml_iter,
    H.UNPACK: ops.unpack, H.PICK: ops.pick, H.THROW: ops.throw,
    H.CATCH: ops.catch, H.EXCEPTION: Exception, H.RETURN_TOP: ops.ReturnTop,
    H.REFUSE_NAME: ops.refuse_name, H.TYPE: type, H.INT: int, H.INT_TEXT: str,
    H.DICT: dict, H.LIST: list, H.STR: str, H.EQ: ops.eq, H.NE: ops.ne,
    H.TYPE_ERROR: TypeError, H.BUILTIN_OF: BUILTINS.__getitem__,
    H.RANGE_ITER: range_iter, H.ML_LEN: BUILTINS["len"], H.PY_LEN: len,
}
_BASE: dict[str, Any] = {**BUILTINS, **_HELPERS, "undefined": None}



def new_namespace(context_vars: dict | None = None, *, origin: Path | None = None) -> dict:
    """A fresh namespace, optionally pre-bound with (copied) context variables (spec §12.2).

    `origin` is the folder of the program's file: user modules are looked up there first."""
    ns: dict[str, Any] = dict(_BASE)
    ns["__builtins__"] = {}
    ns["builtin"] = builtin_module()
    ns[H.MODULES] = {}
    ns[H.ORIGIN] = origin          # the program's folder: user modules are found there
    ns[H.IMPORT] = make_importer(ns, origin)
    ns[H.GUARDED_GLOBAL] = _guard(ns)
    if context_vars:
        bind_context(ns, context_vars)
    return ns


def _guard(ns: dict):
    def guarded_global(name: str):
        """A deny-listed name reads only if the program bound it itself (spec §11.1)."""
        if name in ns:
            return ns[name]
        raise SecurityViolation(refused_name(name))
    return guarded_global


def check_context_name(name: Any) -> None:
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise ValueError(f"context variable name {name!r} is not an ML identifier")
    if name.startswith("_"):
        raise ValueError(f"context variable name {name!r} may not start with '_'")
    if name in RESERVED_WORDS:
        raise ValueError(f"context variable name {name!r} is an ML reserved word")


def bind_context(ns: dict, context_vars: dict) -> None:
    """Bind host values as ML variables: JSON-like values are copied, so the caller's objects
    are never mutated; other Python values pass as they are (through the same guards)."""
    for name in context_vars:
        check_context_name(name)
    for name, value in context_vars.items():
        ns[py_name(name)] = copy_value(value, {})


def copy_value(value: Any, memo: dict) -> Any:
    """Deep copy of lists/dicts/tuples (tuples become arrays), keeping shared and cyclic shape."""
    cls = type(value)
    if cls in (int, float, str, bool) or value is None:
        return value
    if cls is list or cls is tuple or cls is dict or cls is ErrorValue:
        key = id(value)
        if key in memo:
            return memo[key]
        if cls is dict or cls is ErrorValue:
            out: Any = cls() if cls is ErrorValue else {}
            memo[key] = out
            for k, v in value.items():
                out[copy_value(k, memo)] = copy_value(v, memo)
            return out
        out = []
        memo[key] = out
        out.extend(copy_value(v, memo) for v in value)
        return out
    return value


class LiveMembers(Mapping):
    """A user module's top-level names, read from its namespace at each access, so a module
    function rebinding one (`nonlocal` at module level) is seen by importers."""

    __slots__ = ("_ns",)

    def __init__(self, ns: dict):
        self._ns = ns

    def __getitem__(self, name: str) -> Any:
        key = py_name(name)
        if (key.startswith("__") and not key.startswith(KW_PREFIX)) or key == "builtin":
            raise KeyError(name)
        value = self._ns[key]
        if key in _BASE and _BASE[key] is value:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(user_variables(self._ns))

    def __len__(self) -> int:
        return len(user_variables(self._ns))


def user_variables(ns: dict) -> dict[str, Any]:
    """The names ML code (or the host's context) bound, in binding order."""
    out = {}
    for name, value in ns.items():
        if name.startswith(KW_PREFIX):
            out[ml_name(name)] = value
            continue
        if name.startswith("__") or name == "builtin":
            continue
        if name in _BASE and _BASE[name] is value:
            continue
        out[name] = value
    return out
