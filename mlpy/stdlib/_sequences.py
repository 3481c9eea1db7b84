"""Argument checks shared by the list-processing modules (collections, functional)."""

from __future__ import annotations

from ..runtime.values import typeof


def items(value, where: str) -> list:
    """A copy of the array `value` (a string gives its characters), else a TypeError naming
    the function, e.g. `collections.map() expects an array, got number`."""
    if isinstance(value, (list, str)):
        return list(value)
    raise TypeError(f"{where}() expects an array, got {typeof(value)}")
