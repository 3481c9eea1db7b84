"""The ML `random` module: one pseudo-random generator per program namespace (spec section 10).

The generator and the last seed live in `current().module_state("random", ...)`, so programs
running side by side (or sessions of one executor) never share or disturb each other's
sequence; `math.random()` draws from the same generator.
"""

from __future__ import annotations

from ..runtime.context import current
from ..runtime.ops import count_text
from ..runtime.signals import LimitStop
from ..runtime.values import typeof
from . import LibraryModule

module = LibraryModule("random", "Pseudo-random numbers, choices, shuffles and samples")


class _State:
    """The per-namespace generator and the seed last given to setSeed (None if never)."""

    __slots__ = ("rng", "seed")

    def __init__(self):
        import random as _py_random
        self.rng = _py_random.Random()
        self.seed = None


def _state() -> _State:
    return current().module_state("random", _State)


def generator():
    """The Python `random.Random` of the running program's namespace."""
    return _state().rng


def _number(x, where: str):
    if isinstance(x, (int, float)):
        return x
    raise TypeError(f"random.{where}() expects a number, got {typeof(x)}")


def _integer(x, where: str) -> int:
    _number(x, where)
    if isinstance(x, float):
        if not x.is_integer():
            raise TypeError(f"random.{where}() expects an integer, got {x!r}")
    return int(x)


def _sequence(xs, where: str) -> list:
    if isinstance(xs, list):
        return list(xs)
    if isinstance(xs, str):
        return list(xs)
    raise TypeError(f"random.{where}() expects an array, got {typeof(xs)}")


def _check_size(n: int, where: str) -> None:
    limit = current().limits.max_sequence
    if n > limit:
        raise LimitStop(f"random.{where}(): {count_text(n)} elements exceed the limit of "
                        f"{limit}")


@module.function("setSeed", "set_seed")
def setSeed(n):
    """Seed the program's generator so that the sequence repeats; returns n."""
    if type(n) is bool or not isinstance(n, (int, float, str)):
        raise TypeError(f"random.setSeed() expects a number or a string, got {typeof(n)}")
    state = _state()
    state.rng.seed(n)
    state.seed = n
    return n


@module.function("getSeed", "get_seed")
def getSeed():
    """The seed last given to setSeed, or null if the generator was never seeded."""
    return _state().seed


@module.function("random")
def random():
    """A float in [0, 1)."""
    return generator().random()


@module.function("randomFloat", "random_float")
def randomFloat(min=0, max=1):
    """A float between min and max (default 0 and 1)."""
    _number(min, "randomFloat")
    _number(max, "randomFloat")
    return generator().uniform(min, max)


@module.function("randomInt", "random_int")
def randomInt(min=0, max=100):
    """An integer n with min <= n < max (defaults 0 and 100)."""
    lo, hi = _integer(min, "randomInt"), _integer(max, "randomInt")
    if lo >= hi:
        raise ValueError(f"random.randomInt(): empty range, min ({lo}) must be less than max ({hi})")
    return generator().randrange(lo, hi)


@module.function()
def uniform(a, b):
    """A float between a and b."""
    _number(a, "uniform")
    _number(b, "uniform")
    return generator().uniform(a, b)


@module.function("randomNormal", "random_normal", "gaussian")
def randomNormal(mean=0, sd=1):
    """A normally distributed float with the given mean and standard deviation."""
    _number(mean, "randomNormal")
    _number(sd, "randomNormal")
    return generator().gauss(mean, sd)


@module.function()
def triangular(low, high, mode=None):
    """A float from the triangular distribution on [low, high] peaking at mode (default: middle)."""
    _number(low, "triangular")
    _number(high, "triangular")
    if mode is None:
        mode = (low + high) / 2
    _number(mode, "triangular")
    return generator().triangular(low, high, mode)


@module.function("randomBool", "random_bool")
def randomBool():
    """true or false with equal probability."""
    return generator().random() < 0.5


@module.function("randomBoolWeighted")
def randomBoolWeighted(p):
    """true with probability p (0 to 1)."""
    _number(p, "randomBoolWeighted")
    return generator().random() < p


@module.function("nextInt", "next_int")
def nextInt():
    """An integer from 0 to 2**32 - 1."""
    return generator().getrandbits(32)


@module.function()
def choice(arr):
    """A random element of arr (a character of a string), or null when it is empty."""
    items = _sequence(arr, "choice")
    if not items:
        return None
    return generator().choice(items)


@module.function()
def shuffle(arr):
    """A shuffled copy of arr (arr itself is unchanged)."""
    items = _sequence(arr, "shuffle")
    generator().shuffle(items)
    return items


@module.function()
def sample(arr, n):
    """n distinct elements of arr in random order; n >= length gives a shuffled copy."""
    items = _sequence(arr, "sample")
    n = _integer(n, "sample")
    if n < 0:
        raise ValueError("random.sample(): sample size must not be negative")
    rng = generator()
    if n >= len(items):
        rng.shuffle(items)
        return items
    return rng.sample(items, n)


@module.function("randomIndices", "random_indices")
def randomIndices(length, count):
    """count distinct random indices into an array of the given length (all, shuffled, if count >= length)."""
    length = _integer(length, "randomIndices")
    count = _integer(count, "randomIndices")
    if length < 0 or count < 0:
        raise ValueError("random.randomIndices(): length and count must not be negative")
    rng = generator()
    if count >= length:
        _check_size(length, "randomIndices")
        indices = list(range(length))
        rng.shuffle(indices)
        return indices
    _check_size(count, "randomIndices")
    return rng.sample(range(length), count)
