"""The ML `collections` module: list helpers, list first; inputs are never modified."""

from __future__ import annotations

import builtins as _builtins

from ..runtime import slices
from ..runtime.values import typeof
from . import LibraryModule
from ._sequences import items

module = LibraryModule("collections", "List helpers that return new lists")


def _items(l, where: str) -> list:
    return items(l, f"collections.{where}")


def _index(i, where: str) -> int:
    if not isinstance(i, int):
        raise TypeError(f"collections.{where}() index must be an integer, got {typeof(i)}")
    return int(i)


def _count(n, where: str) -> int:
    if not isinstance(n, int):
        raise TypeError(f"collections.{where}() count must be an integer, got {typeof(n)}")
    return int(n)


@module.function()
def length(l):
    """Number of elements of an array (characters of a string, keys of an object)."""
    if isinstance(l, (list, str, dict)):
        return len(l)
    raise TypeError(f"collections.length() expects an array, got {typeof(l)}")


@module.function()
def append(l, x):
    """A new array: l followed by x."""
    items = _items(l, "append")
    items.append(x)
    return items


@module.function()
def prepend(l, x):
    """A new array: x followed by l."""
    return [x] + _items(l, "prepend")


@module.function()
def concat(a, b):
    """A new array: the elements of a, then those of b."""
    return _items(a, "concat") + _items(b, "concat")


@module.function()
def get(l, i):
    """l[i] (negative i counts from the end), or null when out of range."""
    items = _items(l, "get")
    i = _index(i, "get")
    if -len(items) <= i < len(items):
        return items[i]
    return None


@module.function()
def first(l):
    """The first element, or null for []."""
    items = _items(l, "first")
    return items[0] if items else None


@module.function()
def last(l):
    """The last element, or null for []."""
    items = _items(l, "last")
    return items[-1] if items else None


@module.function()
def slice(l, start, end=None):
    """Elements from start up to (not including) end; negative positions count from the end."""
    items = _items(l, "slice")
    if start is not None:
        start = _index(start, "slice")
    if end is not None:
        end = _index(end, "slice")
    return items[start:end]


@module.function()
def reverse(l):
    """A new array with the elements in reverse order."""
    items = _items(l, "reverse")
    items.reverse()
    return items


@module.function()
def contains(l, x):
    """true if some element == x."""
    return slices.contains(_items(l, "contains"), x)


@module.function("indexOf", "index_of")
def indexOf(l, x):
    """Position of the first element == x, or -1."""
    for i, item in enumerate(_items(l, "indexOf")):
        if item == x:
            return i
    return -1


@module.function()
def map(l, f):
    """A new array of f(x) for every element x."""
    return [f(x) for x in _items(l, "map")]


@module.function()
def filter(l, pred):
    """A new array of the elements x for which pred(x) is truthy."""
    return [x for x in _items(l, "filter") if pred(x)]


@module.function()
def find(l, pred):
    """The first element x for which pred(x) is truthy, or null."""
    for x in _items(l, "find"):
        if pred(x):
            return x
    return None


@module.function()
def reduce(l, f, initial):
    """Fold the array from the left: acc = f(acc, x), starting from initial."""
    acc = initial
    for x in _items(l, "reduce"):
        acc = f(acc, x)
    return acc


@module.function("removeAt", "remove_at")
def removeAt(l, i):
    """A new array without the element at i (negative from the end); out of range gives a copy."""
    items = _items(l, "removeAt")
    i = _index(i, "removeAt")
    if -len(items) <= i < len(items):
        del items[i]
    return items


@module.function("isEmpty", "is_empty")
def isEmpty(l):
    """true if the array has no elements."""
    return len(_items(l, "isEmpty")) == 0


@module.function()
def take(l, n):
    """The first n elements (all if n >= length, none if n <= 0)."""
    n = _count(n, "take")
    return _items(l, "take")[:n] if n > 0 else []


@module.function()
def drop(l, n):
    """The elements after the first n."""
    n = _count(n, "drop")
    return _items(l, "drop")[n:] if n > 0 else _items(l, "drop")


@module.function()
def unique(l):
    """The first occurrence of every distinct element (under ==), in order."""
    out = []
    seen = set()
    for x in _items(l, "unique"):
        try:
            if x in seen:
                continue
            seen.add(x)
        except TypeError:                  # arrays and objects: compare one by one
            if any(type(y) is type(x) and y == x for y in out):
                continue
        out.append(x)
    return out


@module.function()
def flatten(l):
    """One level flattened: array elements are spliced in, other elements kept."""
    out = []
    for x in _items(l, "flatten"):
        if isinstance(x, list):
            out.extend(x)
        else:
            out.append(x)
    return out


@module.function()
def zip(a, b):
    """Pairs [a[i], b[i]] as long as the shorter array."""
    return [[x, y] for x, y in _builtins.zip(_items(a, "zip"), _items(b, "zip"), strict=False)]


@module.function()
def sort(l, reverse=False):
    """A sorted copy, ordered by < (descending when reverse is true); stable."""
    return slices.sort(_items(l, "sort"), reverse=bool(reverse))


@module.function("sortBy")
def sortBy(l, keyFn, reverse=False):
    """A copy sorted by keyFn(x), ordered by < (descending when reverse is true); stable."""
    return slices.sort(_items(l, "sortBy"), key=keyFn, reverse=bool(reverse))


@module.function()
def chunk(l, size):
    """Consecutive pieces of `size` elements (the last may be shorter); size <= 0 gives []."""
    size = _count(size, "chunk")
    items = _items(l, "chunk")
    if size <= 0:
        return []
    return [items[i:i + size] for i in range(0, len(items), size)]


@module.function()
def every(l, pred):
    """true if pred(x) is truthy for every element (true for [])."""
    return all(pred(x) for x in _items(l, "every"))


@module.function()
def some(l, pred):
    """true if pred(x) is truthy for some element (false for [])."""
    return any(pred(x) for x in _items(l, "some"))
