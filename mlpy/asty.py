"""Python `ast` nodes built with the ML position they come from (Hy's `asty` idea).

`asty.Name(node, "x", LOAD)` is `ast.Name("x", LOAD)` carrying `node`'s line and column, so
every node the compiler makes is positioned where it is made, with one call and no separate
stamping step. `asty.stamp(py, node)` positions a node built elsewhere (a function definition
assembled in parts, constant arguments of a helper call).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

_Py = TypeVar("_Py", bound=ast.AST)
# A bare node: `cls()` (a type call: ~10 ns less a node than `ast.AST.__new__(cls)`, which
# makes an argument tuple), except from Python 3.13, where `cls()` warns about every
# required field it is not given.
_BARE = "new(cls)" if sys.version_info >= (3, 13) else "cls()"
_new = ast.AST.__new__


def stamp(py: _Py, node: Any) -> _Py:
    """Give Python node `py` the position of ML node `node` (and return it)."""
    py.lineno = node.line           # type: ignore[attr-defined]
    py.col_offset = node.column - 1  # type: ignore[attr-defined]
    return py


def _builder(cls: type[ast.AST]) -> Callable[..., Any]:
    """`build(node, <cls's fields>)`: the node made with its attribute dict in one step.

    `cls(*args)` followed by setting the two positions costs ~1.5x as much (the constructor
    looks up `_fields` and sets each attribute by name; a large program makes ~6,000 nodes).
    Generated from `cls._fields` as dataclasses generate `__init__`. A field not given is
    None, which Python's compiler reads as absent (lists must be given, as before)."""
    fields = cls._fields
    assert all(f.isidentifier() for f in fields), fields
    params = "".join(f", {f}=None" for f in fields)
    items = "".join(f"{f!r}: {f}, " for f in fields)
    text = (f"def {cls.__name__}(node{params}):\n"
            f"    py = {_BARE}\n"
            f"    py.__dict__ = {{{items}'lineno': node.line, 'col_offset': node.column - 1}}\n"
            f"    return py\n")
    namespace: dict[str, Any] = {"new": _new, "cls": cls}
    exec(text, namespace)  # noqa: S102 - text made from the ast class's own field names
    return namespace[cls.__name__]


class _Asty:
    """`asty.<AstClass>(ml_node, *args, **kwargs)`. Every ast class name starts as a stand-in
    that makes the real constructor on its first call and puts it in its place, so each
    constructor is made once, on first use, and then found as a plain instance attribute.
    (No `__getattr__` for that: a class with one sends every attribute read through the
    hook, which CPython does not specialize: ~15 ns more a read, ~7,000 reads a compile.)"""

    stamp = staticmethod(stamp)

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Callable[..., Any]: ...


asty = _Asty()


def _build_on_first_call(class_name: str, /, *args: Any, **kwargs: Any) -> Any:
    build = _builder(getattr(ast, class_name))
    setattr(asty, class_name, build)
    return build(*args, **kwargs)


asty.__dict__.update({name: partial(_build_on_first_call, name) for name, cls in vars(ast).items()
                      if isinstance(cls, type) and issubclass(cls, ast.AST)})
