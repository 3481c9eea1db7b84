"""The one size budget every producer of a large string or array spends from.

A producer that builds its result in parts (the container form of nested arrays, a split)
makes a `Budget` for the run's cap and spends each part's size as it goes: passing the cap
stops the program with the spec's LimitError before the oversized result exists, rather than
after it was built in full (time and memory already spent).
"""

from __future__ import annotations

from .context import current
from .signals import LimitStop


class Budget:
    """Characters (kind "string") or elements (kind "array") left for one result."""

    __slots__ = ("left", "limit", "kind")

    def __init__(self, kind: str = "string"):
        limits = current().limits
        self.kind = kind
        self.limit = limits.max_string if kind == "string" else limits.max_sequence
        self.left = self.limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            if self.kind == "string":
                raise LimitStop(f"string of more than {self.limit} characters exceeds the "
                                f"limit of {self.limit}")
            raise LimitStop(f"array would have more than {self.limit} elements, more than "
                            f"the limit of {self.limit}")
