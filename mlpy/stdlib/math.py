"""The ML `math` module: numeric functions and the constants pi and e (spec section 10)."""

from __future__ import annotations

import builtins as _builtins
import math as _m

from ..runtime.context import current
from ..runtime.ops import DIVISION_STEP_COST, int_divmod, int_product
from ..runtime.signals import LimitStop
from ..runtime.values import typeof
from . import LibraryModule

module = LibraryModule("math", "Mathematical functions and constants")
module.constant("pi", _m.pi)
module.constant("e", _m.e)

_INF = float("inf")
_NOT_FOUND = -999          # what ln/log answer outside their domain (spec section 10)


def _number(x, fname: str):
    """x itself if it is an ML number (booleans count as 1 and 0), else TypeError."""
    if isinstance(x, (int, float)):
        return x
    raise TypeError(f"math.{fname}() expects a number, got {typeof(x)}")


def _integer(x, fname: str) -> int:
    """x as a Python int if it is an integer (or an integral float), else an error."""
    _number(x, fname)
    if isinstance(x, float):
        if not x.is_integer():
            raise ValueError(f"math.{fname}() only accepts integral values")
        return int(x)
    return int(x)


def _check_bits(bits: float, fname: str) -> None:
    limit = current().limits.max_int_bits
    if bits > limit:
        raise LimitStop(f"math.{fname}(): integer result too large (more than {limit} bits)")


@module.function()
def sqrt(x):
    """Square root as a float; a negative argument gives the integer 0."""
    _number(x, "sqrt")
    if x < 0:
        return 0
    try:
        return _m.sqrt(x)
    except OverflowError:                  # an integer beyond the float range
        if x.bit_length() > 2048:          # its root is too (no long isqrt to find out)
            raise OverflowError("int too large to convert to float") from None
        return float(_m.isqrt(x))


@module.function()
def abs(x):
    """Absolute value."""
    _number(x, "abs")
    value = _builtins.abs(x)
    return int(value) if type(value) is bool else value


@module.function()
def pow(x, y):
    """x raised to the power y: exact for integers, inf when a float result overflows."""
    _number(x, "pow")
    _number(y, "pow")
    if not isinstance(x, float) and not isinstance(y, float) and y >= 0:
        x, y = int(x), int(y)
        if _builtins.abs(x) > 1:
            _check_bits((x.bit_length() - 1) * y + 1, "pow")
        return x ** y
    try:
        return _m.pow(x, y)
    except OverflowError:
        if float(x) < 0 and float(y).is_integer() and int(y) % 2 == 1:
            return -_INF
        return _INF


@module.function()
def exp(x):
    """e raised to the power x (inf on overflow)."""
    _number(x, "exp")
    try:
        return _m.exp(x)
    except OverflowError:
        return _INF if x > 0 else 0.0


@module.function()
def ln(x):
    """Natural logarithm; -999 when x <= 0."""
    _number(x, "ln")
    if x <= 0:
        return _NOT_FOUND
    return _m.log(x)


@module.function()
def log(x, base=10):
    """Logarithm of x in `base` (default 10); -999 when x <= 0, base <= 0 or base is 1."""
    _number(x, "log")
    _number(base, "log")
    if x <= 0 or base <= 0 or base == 1:
        return _NOT_FOUND
    if base == 10:
        return _m.log10(x)
    if base == 2:
        return _m.log2(x)
    return _m.log(x) / _m.log(base)


def _unary(name: str, fn, doc: str, *aliases: str):
    def wrapper(x):
        _number(x, name)
        return fn(x)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = doc
    module.function(name, *aliases)(wrapper)
    return wrapper


_unary("sin", _m.sin, "Sine of x (radians).")
_unary("cos", _m.cos, "Cosine of x (radians).")
_unary("tan", _m.tan, "Tangent of x (radians).")
_unary("asin", _m.asin, "Arc sine in radians; |x| > 1 is a math domain error.")
_unary("acos", _m.acos, "Arc cosine in radians; |x| > 1 is a math domain error.")
_unary("atan", _m.atan, "Arc tangent in radians.")
_unary("degrees", _m.degrees, "Radians to degrees.")
_unary("radians", _m.radians, "Degrees to radians.")
_unary("radToDeg", _m.degrees, "Radians to degrees (synonym of degrees).")
_unary("degToRad", _m.radians, "Degrees to radians (synonym of radians).")


@module.function()
def atan2(y, x):
    """Arc tangent of y/x in radians, using the signs of both to pick the quadrant."""
    _number(y, "atan2")
    _number(x, "atan2")
    return _m.atan2(y, x)


@module.function()
def floor(x):
    """Largest integer <= x (an integer)."""
    _number(x, "floor")
    return int(_m.floor(x))


@module.function()
def ceil(x):
    """Smallest integer >= x (an integer)."""
    _number(x, "ceil")
    return int(_m.ceil(x))


@module.function()
def round(x):
    """x rounded to the nearest integer (an integer), ties to even."""
    _number(x, "round")
    return int(_builtins.round(x))


@module.function()
def min(a, b):
    """The smaller of a and b (a when they are equal)."""
    return b if b < a else a


@module.function()
def max(a, b):
    """The larger of a and b (a when they are equal)."""
    return b if a < b else a


@module.function()
def factorial(n):
    """n! for an integer n >= 0; a negative n gives 0."""
    n = _integer(n, "factorial")
    if n < 0:
        return 0
    if n > 20:
        _check_bits(_m.lgamma(n + 1) / _m.log(2), "factorial")
    return _m.factorial(n)


@module.function()
def gcd(a, b):
    """Greatest common divisor of two integers."""
    return _gcd(_integer(a, "gcd"), _integer(b, "gcd"))


@module.function()
def lcm(a, b):
    """Least common multiple of two integers."""
    a, b = _integer(a, "lcm"), _integer(b, "lcm")
    if a == 0 or b == 0:
        return 0
    return _builtins.abs(int_product(int_divmod(a, _gcd(a, b))[0], b))


# Python's gcd is one C call, quadratic in the length: past this many bits (a few ms) it is
# done as Lehmer's algorithm here, whose steps are each linear, so a thread-mode timeout can
# land between them (spec §11.1).
_GCD_AT_ONCE_BITS = 30 * _m.isqrt(DIVISION_STEP_COST)


def _gcd(a: int, b: int) -> int:
    a, b = _builtins.abs(a), _builtins.abs(b)
    if a < b:
        a, b = b, a
    while b.bit_length() > _GCD_AT_ONCE_BITS:
        # Lehmer (Knuth, TAOCP 4.5.2, Algorithm L): the quotients of the leading 62 bits
        # give a cofactor matrix that advances a and b by many Euclid steps at once
        shift = a.bit_length() - 62
        x, y = a >> shift, b >> shift
        m11, m12, m21, m22 = 1, 0, 0, 1
        while y + m21 and y + m22:
            q = (x + m11) // (y + m21)
            if q != (x + m12) // (y + m22):
                break
            m11, m21 = m21, m11 - q * m21
            m12, m22 = m22, m12 - q * m22
            x, y = y, x - q * y
        if m12 == 0:                       # no agreed quotient: one long Euclid step
            a, b = b, int_divmod(a, b)[1]
        else:
            a, b = m11 * a + m12 * b, m21 * a + m22 * b
    if b == 0:
        return a
    return _m.gcd(b, int_divmod(a, b)[1])  # both short now


@module.function()
def sign(x):
    """-1, 0 or 1 according to the sign of x."""
    _number(x, "sign")
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


@module.function()
def random():
    """A random float in [0, 1) from the program's generator (see the random module)."""
    from .random import generator
    return generator().random()
