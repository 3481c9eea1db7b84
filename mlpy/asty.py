"""Python `ast` nodes built with the ML position they come from (Hy's `asty` idea).

`asty.Name(node, "x", LOAD)` is `ast.Name("x", LOAD)` carrying `node`'s line and column, so
every node the compiler makes is positioned where it is made, with one call and no separate
stamping step. `asty.stamp(py, node)` positions a node built elsewhere (a function definition
assembled in parts, constant arguments of a helper call).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, TypeVar

_Py = TypeVar("_Py", bound=ast.AST)


def stamp(py: _Py, node: Any) -> _Py:
    """Give Python node `py` the position of ML node `node` (and return it)."""
    py.lineno = node.line           # type: ignore[attr-defined]
    py.col_offset = node.column - 1  # type: ignore[attr-defined]
    return py


class _Asty:
    """`asty.<AstClass>(ml_node, *args, **kwargs)`; each constructor is made once, on first use,
    and then found as a plain attribute (no per-call lookup)."""

    stamp = staticmethod(stamp)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        cls = getattr(ast, name)

        def build(node: Any, *args: Any, **kwargs: Any) -> Any:
            py = cls(*args, **kwargs)
            py.lineno = node.line
            py.col_offset = node.column - 1
            return py

        build.__name__ = name
        setattr(self, name, build)
        return build


asty = _Asty()
