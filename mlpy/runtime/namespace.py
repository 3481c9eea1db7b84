"""Namespaces ML code runs in: ML builtins, runtime helpers, context variables — nothing else.

`__builtins__` is an empty dict, so no Python builtin is reachable; the runtime helpers are
stored under `__ml_*` names, which ML cannot spell (identifiers starting with `__` are refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..language import IDENTIFIER, KW_PREFIX, RESERVED_WORDS, ml_name, py_name
from . import ops
from .builtins import BUILTINS, builtin_module
from .imports import make_importer
from ..security import denied_name_problem
from .signals import SecurityViolation
from .values import ErrorValue

_HELPERS = {
    "__ml_add": ops.add, "__ml_mul": ops.mul, "__ml_mod": ops.mod, "__ml_getm": ops.getm,
    "__ml_setm": ops.setm, "__ml_meth": ops.meth, "__ml_iter": ops.ml_iter,
    "__ml_unpack": ops.unpack, "__ml_pick": ops.pick, "__ml_throw": ops.throw,
    "__ml_catch": ops.catch, "__ml_Exception": Exception, "__ml_ReturnTop": ops.ReturnTop,
    "__ml_refuse_name": ops.refuse_name, "__ml_type": type, "__ml_int": int,
    "__ml_dict": dict, "__ml_list": list, "__ml_str": str, "__ml_eq": ops.eq, "__ml_ne": ops.ne,
    "__ml_TypeError": TypeError,
}
_BASE: dict[str, Any] = {**BUILTINS, **_HELPERS, "undefined": None}



def new_namespace(context_vars: dict | None = None, *, origin: Path | None = None) -> dict:
    """A fresh namespace, optionally pre-bound with (copied) context variables (spec §12.2).

    `origin` is the folder of the program's file: user modules are looked up there first."""
    ns: dict[str, Any] = dict(_BASE)
    ns["__builtins__"] = {}
    ns["builtin"] = builtin_module()
    ns["__ml_modules"] = {}
    ns["__ml_origin"] = origin          # the program's folder: user modules are found there
    ns["__ml_import"] = make_importer(ns, origin)
    ns["__ml_guarded_global"] = _guard(ns)
    if context_vars:
        bind_context(ns, context_vars)
    return ns


def _guard(ns: dict):
    def guarded_global(name: str):
        """A deny-listed name reads only if the program bound it itself (spec §11.1)."""
        if name in ns:
            return ns[name]
        raise SecurityViolation(denied_name_problem(name))
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
