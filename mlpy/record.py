"""`Record`: equality and repr over a class's fields, as a dataclass has them.

The classes every `mlpy run` loads (the execution context and limits, the compiled program,
the run's outcome) are plain classes with written-out `__init__`s on this base rather than
dataclasses: importing `dataclasses` imports `inspect` (and with it `dis`, `tokenize`, ...)
and each dataclass is made by running generated code, together ~10 ms of a start that is
~60 ms over Python's own (mlpy/nodes.py made the same choice for the syntax tree).
"""

from __future__ import annotations

from typing import Any


class Record:
    """`==` compares the values of `_fields` of two instances of the same class; the repr
    shows the fields in order (`_hidden` ones left out), as a dataclass's does. Mutable
    records are unhashable, as dataclasses with `eq` are."""

    _fields: tuple[str, ...] = ()
    _hidden: frozenset[str] = frozenset()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields
                          if name not in self._hidden)
        return f"{type(self).__qualname__}({shown})"


class FrozenRecord(Record):
    """A record whose fields cannot be set after `__init__` (which sets them with
    `object.__setattr__`); hashed by its fields, as a frozen dataclass is."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes` (what `dataclasses.replace` gives)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__qualname__} has no field {sorted(unknown)[0]!r}")
        return type(self)(**{name: changes.get(name, getattr(self, name))
                             for name in self._fields})
