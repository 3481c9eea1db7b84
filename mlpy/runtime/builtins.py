"""The ML builtin functions (spec §8). `BUILTINS` maps each ML name to its function.

Each function takes positional arguments only, returns ML values, and carries `ml_name`,
`ml_signature`, `ml_doc` and `ml_capabilities` for help(), completion and inspection.
"""

from __future__ import annotations

import math as _math
import re

from . import ops as _ops
from . import slices
from .context import current
from .describe import describe, member_help
from .ops import (cap_sequence, cap_string, add, getm, has_member, int_divmod,
                  member_names, ml_iter)
from .signals import MLThrow
from .values import (ErrorValue, MLIterator, MLModule, MLObject, display, function_name,
                     ml_repr, typeof)

BUILTINS: dict = {}


def builtin(*names):
    """Register a builtin under its own name (or the names given)."""
    def register(fn):
        ml_names = names or (fn.__name__.rstrip("_"),)
        for name in ml_names:
            BUILTINS[name] = fn
        # Python's argument-count errors use __qualname__: `len() missing 1 required
        # positional argument: 'x'`, not `len_() ...`.
        fn.__qualname__ = ml_names[0]
        return describe(fn, ml_names[0])
    return register


_NUM = (int, float)


def _is_number(x) -> bool:
    return type(x) is int or type(x) is float


# ----------------------------------------------------------------- conversion
@builtin("int")
def int_(x):
    """Convert to an integer: booleans 0/1, floats toward zero, numeric strings parsed."""
    t = type(x)
    if t is int:
        return x
    if t is bool:
        return int(x)
    if t is float:
        return int(x)
    if t is str:
        text = x.strip()
        try:
            return int(text, 10)
        except ValueError as exc:
            if "integer string conversion" in str(exc):
                raise       # spec §4: more than 4300 digits (no echo of the text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"invalid literal for int() with base 10: {_echo(x)}") from None
        if _math.isinf(number) or _math.isnan(number):
            raise ValueError(f"invalid literal for int() with base 10: {_echo(x)}")
        return int(number)
    raise TypeError(f"int() argument must be a string or a number, not '{typeof(x)}'")


def _echo(text: str, limit: int = 60) -> str:
    """The text an error message quotes, cut so a huge input is not echoed back whole."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


@builtin("float")
def float_(x):
    """Convert to a float: numbers, booleans and numeric strings ("2.5", "1e3", "inf")."""
    t = type(x)
    if t is float:
        return x
    if t is int or t is bool:
        return float(x)
    if t is str:
        try:
            return float(x)
        except ValueError:
            raise ValueError(f"could not convert string to float: {_echo(x)}") from None
    raise TypeError(f"float() argument must be a string or a number, not '{typeof(x)}'")


@builtin("str")
def str_(x=""):
    """The display form of a value: what print shows."""
    return display(x)


@builtin("repr")
def repr_(x):
    """The container form of a value: strings quoted, as inside arrays."""
    return ml_repr(x)


@builtin("bool")
def bool_(x=False):
    """Truthiness: false, null, 0, "", [] and {} are false."""
    return bool(x)


@builtin("typeof")
def typeof_(x):
    """The type name: number, string, boolean, null, array, object, function, module..."""
    return typeof(x)


@builtin("isinstance")
def isinstance_(x, name):
    """typeof(x) == name."""
    return typeof(x) == name


@builtin("callable")
def callable_(x):
    """True for functions."""
    return typeof(x) == "function"


@builtin("len")
def len_(x):
    """Characters of a string, elements of an array, keys of an object; 0 otherwise."""
    t = type(x)
    if t is str or t is list or t is dict or t is ErrorValue:
        return len(x)
    return 0


# ----------------------------------------------------------------- sequences
@builtin("range")
def range_(start, stop=None, step=1):
    """range(stop) or range(start, stop, step=1): a new array of integers."""
    return list(_checked_range(start, stop, step))


def _checked_range(start, stop=None, step=1) -> range:
    """ML's range checks (integer arguments, a step other than 0, the sequence size cap) and
    the Python range they allow."""
    for v in (start, stop, step):
        if v is not None and type(v) is not int and type(v) is not bool:
            raise TypeError(f"range() arguments must be integers, not '{typeof(v)}'")
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("range() arg 3 must not be zero")
    if step > 0:
        n = int_divmod(stop - start + step - 1, step)[0] if stop > start else 0
    else:
        n = int_divmod(start - stop - step - 1, -step)[0] if start > stop else 0
    # (past 2**63 too, where len(range) fails in C words; the threshold is lowered by a
    # host's lower Limits.max_sequence)
    if n > _ops._CHECK_ABOVE:
        cap_sequence(n, "range")
    return range(start, stop, step)


def range_iter(fn, *args):
    """What `for (i in range(...))` iterates: while the name `range` is still this builtin,
    the Python range `range_` would have turned into an array (same checks and errors, same
    size cap), since the loop never shows the array; else the call's value, as any `for`."""
    if fn is range_ and 1 <= len(args) <= 3:
        return _checked_range(*args)
    return ml_iter(fn(*args))


def _sequence(seq, fname):
    t = type(seq)
    if t is list:
        return seq
    if t is str:
        return list(seq)
    if t is dict or t is ErrorValue:
        return list(seq)
    if t is MLIterator:
        return list(seq)
    raise TypeError(f"{fname}() expects an array, a string or an object, got {typeof(seq)}")


@builtin("enumerate")
def enumerate_(seq, start=0):
    """[[start, e0], [start + 1, e1], ...]."""
    return [[i, v] for i, v in enumerate(_sequence(seq, "enumerate"), start)]


@builtin("zip")
def zip_(*seqs):
    """[[a0, b0, ...], [a1, b1, ...], ...] as long as the shortest."""
    return [list(t) for t in zip(*[_sequence(s, "zip") for s in seqs], strict=False)]


@builtin("sorted")
def sorted_(arr, reverse=False):
    """A new array ordered by `<` (stable)."""
    return slices.sort(_sequence(arr, "sorted"), reverse=bool(reverse))


@builtin("reversed")
def reversed_(seq):
    """A new array in reverse order (a string gives its characters)."""
    return _sequence(seq, "reversed")[::-1]


@builtin("keys")
def keys_(obj):
    """The keys of an object, in insertion order."""
    if type(obj) is dict or type(obj) is ErrorValue:
        return list(obj)
    raise TypeError(f"keys() expects an object, got {typeof(obj)}")


@builtin("values")
def values_(obj):
    """The values of an object, in insertion order."""
    if type(obj) is dict or type(obj) is ErrorValue:
        return list(obj.values())
    raise TypeError(f"values() expects an object, got {typeof(obj)}")


@builtin("sum")
def sum_(arr, start=0):
    """start + arr[0] + arr[1] + ... with ML `+`."""
    total = start
    for v in _sequence(arr, "sum"):
        total = add(total, v)
    return total


@builtin("all")
def all_(arr):
    """True if every element is truthy (true for [])."""
    return all(_sequence(arr, "all"))


@builtin("any")
def any_(arr):
    """True if some element is truthy (false for [])."""
    return any(_sequence(arr, "any"))


@builtin("iter")
def iter_(x):
    """An iterator over an array, a string or an object's keys."""
    t = type(x)
    if t is list or t is str or t is dict or t is ErrorValue:
        return MLIterator(x)
    if t is MLIterator:
        return x
    raise TypeError(f"'{typeof(x)}' is not iterable")


_NO_DEFAULT = object()


@builtin("next")
def next_(it, default=_NO_DEFAULT):
    """The next item of an iterator; at the end, `default` or a RuntimeError."""
    if type(it) is not MLIterator:
        raise TypeError(f"next() expects an iterator, got {typeof(it)}")
    try:
        return next(it._it)
    except StopIteration:
        if default is _NO_DEFAULT:
            raise RuntimeError("Iterator exhausted - use default parameter to avoid error") \
                from None
        return default


# ----------------------------------------------------------------- numbers
@builtin("abs")
def abs_(x):
    """Absolute value."""
    if type(x) not in (int, float, bool):
        raise TypeError(f"bad operand type for abs(): '{typeof(x)}'")
    return abs(x)


def _extreme(values, pick_max: bool):
    if len(values) == 1 and type(values[0]) is list:
        values = values[0]
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        if (best < v) if pick_max else (v < best):
            best = v
    return best


@builtin("min")
def min_(*values):
    """The smallest of the arguments, or of one array (null if there are none)."""
    if len(values) == 2:
        a, b = values
        return b if b < a else a
    return _extreme(list(values), False)


@builtin("max")
def max_(*values):
    """The largest of the arguments, or of one array (null if there are none)."""
    if len(values) == 2:
        a, b = values
        return b if a < b else a
    return _extreme(list(values), True)


@builtin("round")
def round_(x, digits=0):
    """Round half to even; a float stays a float, an integer stays an integer."""
    if type(x) is bool:
        x = int(x)
    if type(digits) is bool or type(digits) is not int:
        raise TypeError(f"round() digits must be an integer, not {typeof(digits)}")
    if type(x) is int:
        if digits >= 0:
            return x
        if -digits > x.bit_length() * 0.302 + 2:     # 10**-digits > 2*|x|: rounds to 0,
            return 0                                  # never computing a giant power of ten
        if x.bit_length() <= 4096:
            return round(x, digits)
        return _round_long(x, -digits)
    if type(x) is float:
        if _math.isinf(x) or _math.isnan(x):
            return x
        return float(round(x, digits))
    raise TypeError(f"round() expects a number, got {typeof(x)}")


def _round_long(x: int, places: int) -> int:
    """`round(x, -places)` of a long integer, its division in stoppable steps (Python's own
    is one C call a thread-mode timeout cannot interrupt): the nearest multiple of
    10**places, ties to the even multiple."""
    unit = 5 ** places << places
    q, r = int_divmod(x, unit)                    # floor: 0 <= r < unit
    if 2 * r > unit or (2 * r == unit and q & 1):
        q += 1
    return q * unit


@builtin("chr")
def chr_(code):
    """The character with this code point."""
    if type(code) is int and not 0 <= code < 0x110000:
        raise ValueError("chr() arg not in range(0x110000)")
    return chr(code)


@builtin("ord")
def ord_(ch):
    """The code point of a one-character string."""
    return ord(ch)


@builtin("hex")
def hex_(n):
    """'0xff'."""
    return hex(n)


@builtin("bin")
def bin_(n):
    """'0b101'."""
    return bin(n)


@builtin("oct")
def oct_(n):
    """'0o10'."""
    return oct(n)


@builtin("format")
def format_(value, spec=""):
    """Python format specs: format(3.14159, ".2f") -> 3.14."""
    if type(spec) is not str:
        raise TypeError("format() spec must be a string")
    for number in re.findall(r"\d+", spec):          # width and precision are size caps
        if len(number) > 9:
            cap_string(10 ** 9)
        cap_string(int(number))
    if type(value) in (int, float, str):
        return format(value, spec)
    return format(display(value), spec)


# ----------------------------------------------------------------- input/output
@builtin("print")
def print_(*values):
    """Write the display forms separated by spaces, then a newline."""
    current().output.write(" ".join([display(v) for v in values]) + "\n")


@builtin("input")
def input_(prompt=""):
    """One line of input without its newline (null at the end of input)."""
    reader = current().input
    if reader is None:
        raise RuntimeError("input is not available")
    return reader(display(prompt))


# ----------------------------------------------------------------- functions and members
@builtin("call")
def call_(f, *args):
    """call(f, a, b) is f(a, b)."""
    if not callable(f):
        raise TypeError(f"'{typeof(f)}' object is not callable")
    return f(*args)


@builtin("hasattr")
def hasattr_(x, name):
    """Whether member access x.name would succeed."""
    return has_member(x, name)


@builtin("getattr")
def getattr_(x, name, default=None):
    """x.name where it succeeds, else `default`."""
    if not has_member(x, name):
        return default
    try:
        value = getm(x, name)
    except Exception:
        return default
    return default if value is None and (type(x) is dict and name not in x) else value


@builtin("methods")
def methods_(x):
    """Sorted member names usable on x."""
    return member_names(x)


@builtin("help")
def help_(x=None):
    """A description of a builtin, library function, module or library object."""
    if type(x) is MLModule:
        caps = ", ".join(x.capabilities) if x.capabilities else "None required"
        text = f"module {x.ml_name}: {x.description}\nFunctions: {', '.join(sorted(x.members))}"
        return text + ("\nCapabilities: None required" if not x.capabilities
                       else f"\nRequires: {caps}")
    owner = getattr(x, "__self__", None)
    if isinstance(owner, MLObject):             # a library object's method: p.match
        text = member_help(type(owner), getattr(x, "__name__", ""))
        if text is not None:
            return text
    if isinstance(x, MLObject):
        return (f"{x.ml_type} object\nMethods: {', '.join(x.ml_member_names())}\n"
                "Capabilities: None required")
    signature = getattr(x, "ml_signature", None)
    if signature is not None and callable(x):
        caps = getattr(x, "ml_capabilities", ())
        doc = getattr(x, "ml_doc", "")
        tail = f"Requires: {', '.join(caps)}" if caps else "Capabilities: None required"
        return "\n".join(part for part in (signature, doc, tail) if part)
    return f"No help available for {display(x)}"


# ----------------------------------------------------------------- modules and capabilities
@builtin("modules")
def modules_():
    """Sorted names of the modules this program has imported so far, plus "builtin"."""
    imported = current().module_state("__ml_imported", set)
    return sorted(set(imported) | {"builtin"})


def _user_modules() -> list:
    names = set()
    for folder in current().import_paths:
        try:
            for path in folder.rglob("*.ml"):
                rel = path.relative_to(folder).with_suffix("")
                parts = rel.parts
                if all(p.isidentifier() and not p.startswith("__") for p in parts):
                    names.add(".".join(parts))
        except OSError:
            continue
    return sorted(names)


@builtin("available_modules")
def available_modules_():
    """Standard-library modules and the user modules on the import path."""
    from ..stdlib import MODULE_NAMES
    return sorted(set(MODULE_NAMES) | set(_user_modules()))


@builtin("has_module")
def has_module_(name):
    """Whether `import name;` would find a module."""
    return name in available_modules_()


@builtin("module_info")
def module_info_(name):
    """{name, description, functions, capabilities} of a library module, or null."""
    from ..stdlib import declaration
    decl = declaration(name) if type(name) is str else None
    if decl is None:
        return None
    return {"name": decl.name, "description": decl.description,
            "functions": sorted(k for k, v in decl.members.items() if callable(v)),
            "capabilities": sorted(decl.capabilities)}


@builtin("hasCapability")
def has_capability_(name):
    """Whether the host granted capability `name`."""
    return current().capabilities.has(name)


@builtin("getCapabilities")
def get_capabilities_():
    """Sorted names of the granted capabilities."""
    return sorted(current().capabilities.granted)


@builtin("getCapabilityInfo")
def get_capability_info_(name):
    """Details of a granted capability, or null."""
    caps = current().capabilities
    if not caps.has(name):
        return None
    patterns = caps.patterns.get(name)
    restricted = bool(patterns)       # spec §8: both null for a grant without restrictions
    return {"type": name, "available": True, "usage_count": caps.usage.get(name, 0),
            "patterns": list(patterns) if restricted else None,
            "operations": [name.split(".")[-1]] if restricted else None,
            "max_usage": None, "expires_at": None}


@builtin("requiredCapabilities")
def required_capabilities_(f):
    """The capabilities library function f needs ([] for others)."""
    return list(getattr(f, "ml_capabilities", ()) or ())


BUILTIN_MODULE_DESCRIPTION = "The builtin functions, also reachable as builtin.name"


def builtin_module() -> MLModule:
    return MLModule("builtin", dict(BUILTINS), BUILTIN_MODULE_DESCRIPTION)


__all__ = ["BUILTINS", "builtin_module", "MLThrow", "function_name"]
