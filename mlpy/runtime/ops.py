"""The operations compiled ML code calls: the `+` rule, guarded members, iteration, errors.

Everything ML can reach goes through here or through plain Python operations that are safe on
ML values (arithmetic, comparison, subscripts). Member access is by allow-list per type; no
name starting with `_` is ever looked up.
"""

from __future__ import annotations

from . import slices
from .context import SIZE_CHECK_ABOVE, current
from .errors import error_value
from ..security import refused_member, refused_name
from .signals import LimitStop, MLThrow, SecurityViolation
from .values import ErrorValue, MLIterator, MLModule, MLObject, display, ml_repr, typeof

_MISSING = object()


# ----------------------------------------------------------------- size caps
# The public limits API the builtins and the library use: cap_sequence, cap_string, cap_int
# raise the uncatchable LimitStop when a result would exceed the run's `Limits`.
# Sizes at or below this skip the limit lookup (a context read per operation). A host whose
# limits are lower brings it down for the process (`Limits` calls check_sizes_above): the
# checks then only run more often.
_CHECK_ABOVE = SIZE_CHECK_ABOVE


def check_sizes_above(n: int) -> None:
    global _CHECK_ABOVE
    _CHECK_ABOVE = min(_CHECK_ABOVE, n)


def cap_sequence(n: int, what: str) -> None:
    limit = current().limits.max_sequence
    if n > limit:
        raise LimitStop(f"{what} would have {count_text(n)} elements, more than the limit of "
                        f"{limit}")


def cap_string(n: int) -> None:
    limit = current().limits.max_string
    if n > limit:
        raise LimitStop(f"string of {count_text(n)} characters exceeds the limit of {limit}")


def count_text(n: int) -> str:
    """A size for a limit's message: its digits, or its order of magnitude when the program
    asked for more than 2**64 (a count of a million digits cannot even be written)."""
    if n.bit_length() <= 64:
        return int.__repr__(n)
    return f"about 2**{n.bit_length() - 1}"


def cap_int(value: int) -> int:
    limit = current().limits.max_int_bits
    if value.bit_length() > limit:
        raise LimitStop(f"integer of more than {limit} bits exceeds the size limit")
    return value


def cap_result(value, where: str):
    """`value` if it is within the run's size caps (string, array, object, integer), else
    the LimitError: the check every library function's result passes through, so a function
    that forgot a cap of its own still cannot hand the program an oversized value."""
    cls = type(value)
    if cls is str:
        if len(value) > _CHECK_ABOVE:
            cap_string(len(value))
    elif cls is list or cls is dict:
        if len(value) > _CHECK_ABOVE:
            cap_sequence(len(value), f"the result of {where}")
    elif cls is int:
        if value.bit_length() > 4096:
            cap_int(value)
    return value


# ----------------------------------------------------------------- arithmetic
def add(a, b):
    """ML `+` (spec §4, D9): a string on either side concatenates display forms."""
    ta = type(a)
    tb = type(b)
    if ta is str or tb is str:           # (an int's text without a call of display)
        left = a if ta is str else int.__repr__(a) if ta is int else display(a)
        right = b if tb is str else int.__repr__(b) if tb is int else display(b)
        if len(left) + len(right) > _CHECK_ABOVE:
            cap_string(len(left) + len(right))
        return left + right
    if (ta is int or ta is float or ta is bool) and (tb is int or tb is float or tb is bool):
        return a + b
    if ta is list and tb is list:
        if len(a) + len(b) > _CHECK_ABOVE:
            cap_sequence(len(a) + len(b), "array")
        return a + b
    raise TypeError(f"unsupported operand type(s) for +: '{typeof(a)}' and '{typeof(b)}'")


_NUMBER = (int, float, bool)


def mul(a, b):
    """ML `*`: numbers multiply; a string or array times a count repeats (size-capped)."""
    ta = type(a)
    tb = type(b)
    if ta in _NUMBER and tb in _NUMBER:
        return int_product(a, b) if ta is int and tb is int else a * b
    if (ta is str or ta is list) and (tb is int or tb is bool):
        seq, count = a, b
    elif (tb is str or tb is list) and (ta is int or ta is bool):
        seq, count = b, a
    else:
        raise TypeError(f"unsupported operand type(s) for *: '{typeof(a)}' and '{typeof(b)}'")
    total = len(seq) * max(int(count), 0)
    if type(seq) is str:
        cap_string(total)
        return seq * count
    cap_sequence(total, "array")
    return slices.repeat(seq, count)


def _big_product(a: int, b: int) -> int:
    limit = current().limits.max_int_bits
    if a.bit_length() + b.bit_length() > limit + 1:
        raise LimitStop(f"integer of more than {limit} bits exceeds the size limit")
    return a * b


def int_product(a: int, b: int) -> int:
    """`a * b` of two ints under the integer size cap, refused before a product far over it
    is computed."""
    if a.bit_length() + b.bit_length() > 4096:
        return cap_int(_big_product(a, b))
    return a * b


def mod(a, b):
    """ML `%` on numbers only (Python's string formatting `%` is not reachable)."""
    if type(a) is int and type(b) is int and a.bit_length() > _DIVIDE_AT_ONCE_BITS:
        return int_divmod(a, b)[1]
    if type(a) in _NUMBER and type(b) in _NUMBER:
        return a % b
    raise TypeError(f"unsupported operand type(s) for %: '{typeof(a)}' and '{typeof(b)}'")


def floordiv(a, b):
    """ML `//`: Python's, except that a long integer division is done in stoppable steps."""
    if type(a) is int and type(b) is int and a.bit_length() > _DIVIDE_AT_ONCE_BITS:
        return int_divmod(a, b)[0]
    return a // b


# ----------------------------------------------------------------- long division
# Python divides integers in one C call that holds the GIL: a thread-isolated run's timeout
# (an async exception, delivered between bytecodes) cannot land until it returns, and a
# 1,000,000-bit by 500,000-bit division takes about half a second. Schoolbook division
# costs about (quotient digits + 1) * divisor digits (30-bit digits); a division above
# DIVISION_STEP_COST is done as a loop of divisions that each cost at most that much, so a
# stop lands within one step (a millisecond or two), and a thread-mode event loop waiting
# for the GIL waits at most that long per hand-off. Dividends below this many bits never cost
# that much, whatever the divisor.
DIVISION_STEP_COST = 1 << 20
_DIVIDE_AT_ONCE_BITS = 4096


def int_divmod(a: int, b: int) -> tuple[int, int]:
    """`divmod(a, b)` for two ints (floor division, the remainder has the divisor's sign),
    stoppable between steps when it is long."""
    nb = b.bit_length()
    na = a.bit_length()
    if nb == 0 or na <= nb or ((na - nb) // 30 + 1) * (nb // 30 + 1) <= DIVISION_STEP_COST:
        return divmod(a, b)                   # (by zero: Python's ZeroDivisionError)
    q, r = _divmod_in_steps(-a if a < 0 else a, -b if b < 0 else b)
    if (a < 0) != (b < 0) and r:              # floor: one more towards minus infinity
        q = -q - 1
        r = (-b if b < 0 else b) - r
    elif (a < 0) != (b < 0):
        q = -q
    return q, (-r if b < 0 else r)


def _divmod_in_steps(a: int, b: int) -> tuple[int, int]:
    """divmod of a > b > 0, long division in chunks of `step` bits of the dividend from the
    top: each step divides a number of (bits of b + step) bits by b."""
    nb = b.bit_length()
    step = max(30, (DIVISION_STEP_COST // (nb // 30 + 1) - 1) * 30)
    shift = a.bit_length() - nb               # bits of `a` still to bring down
    q, r = divmod(a >> shift, b)              # the top nb bits: q is 0 or 1
    pieces = []
    while shift > 0:
        take = step if shift > step else shift
        shift -= take
        r = (r << take) | ((a >> shift) & ((1 << take) - 1))
        piece, r = divmod(r, b)
        pieces.append((piece, take))
    for piece, take in pieces:                # (bounded too: linear steps on the quotient)
        q = (q << take) | piece
    return q, r


# ----------------------------------------------------------------- equality
def eq(a, b) -> bool:
    """ML `==`: structural, and never raises — containers that hold themselves included."""
    try:
        if type(a) is list and type(b) is list and len(a) > slices.STEP:
            return slices.equal_lists(a, b)
        return a == b
    except RecursionError:
        return _equal(a, b, set())


def ne(a, b) -> bool:
    return not eq(a, b)


def _equal(a, b, assumed: set) -> bool:
    """Structural equality that treats a pair already being compared as equal (so cycles of
    the same shape are equal), with an explicit stack instead of recursion."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        tx, ty = type(x), type(y)
        if tx in (list, dict, ErrorValue) or ty in (list, dict, ErrorValue):
            key = (id(x), id(y))
            if key in assumed:
                continue
            assumed.add(key)
            if tx is list and ty is list:
                if len(x) != len(y):
                    return False
                stack.extend(zip(x, y, strict=True))
            elif tx in (dict, ErrorValue) and ty in (dict, ErrorValue):
                if len(x) != len(y) or x.keys() != y.keys():
                    return False
                stack.extend((x[k], y[k]) for k in x)
            else:
                return False
        elif not (x == y):
            return False
    return True


# ----------------------------------------------------------------- members
def _string_method(name):
    return STRING_METHODS.get(name)


def getm(obj, name: str):
    """`obj.name` (spec §4): object keys, `length`, allow-listed methods, module members."""
    if name[0] == "_":                  # security.member_problem's rule, inline (hot path)
        raise SecurityViolation(refused_member(name))
    cls = type(obj)
    if cls is dict or cls is ErrorValue:
        value = obj.get(name, _MISSING)
        if value is _MISSING:
            return len(obj) if name == "length" else None
        return value
    if cls is str or cls is list:
        if name == "length":
            return len(obj)
        table = STRING_METHODS if cls is str else ARRAY_METHODS
        method = table.get(name)
        if method is None:
            raise AttributeError(f"'{typeof(obj)}' object has no property '{name}'")
        return method(obj)
    if cls is MLModule:
        try:
            return obj.members[name]
        except KeyError:
            raise AttributeError(f"module '{obj.ml_name}' has no property '{name}'") from None
    if isinstance(obj, MLObject):
        attr = obj.ml_attribute(name)
        if attr is None:
            raise AttributeError(f"'{obj.ml_type}' object has no property '{name}'")
        return getattr(obj, attr)
    raise AttributeError(f"'{typeof(obj)}' value has no property '{name}'")


def meth(obj, name: str):
    """The callable for `obj.name(...)`: on an object the property must hold a function."""
    cls = type(obj)
    if cls is list:
        if name in ARRAY_DIRECT:
            return getattr(obj, name)
    elif cls is str:
        if name in STRING_DIRECT:
            return getattr(obj, name)
    elif cls is dict or cls is ErrorValue:
        if name[0] == "_":
            raise SecurityViolation(refused_member(name))
        value = obj.get(name, _MISSING)
        if value is _MISSING:
            raise AttributeError(f"object has no property '{name}'")
        if not callable(value):
            raise TypeError(f"property '{name}' is not a function")
        return value
    value = getm(obj, name)
    if not callable(value):
        raise TypeError(f"property '{name}' is not a function")
    return value


def setm(value, obj, name: str) -> None:
    """`obj.name = value` — objects only."""
    if name[0] == "_":
        raise SecurityViolation(refused_member(name))
    if type(obj) is dict or type(obj) is ErrorValue:
        obj[name] = value
        return
    raise TypeError(f"cannot set property '{name}' on {typeof(obj)}")


def has_member(obj, name: str) -> bool:
    if not isinstance(name, str) or not name or name[0] == "_":
        return False
    if type(obj) is dict or type(obj) is ErrorValue:
        return name in obj or name == "length"
    try:
        getm(obj, name)
        return True
    except Exception:
        return False


def member_names(obj) -> list:
    cls = type(obj)
    if cls is str:
        return sorted(STRING_METHODS)
    if cls is list:
        return sorted(ARRAY_METHODS)
    if cls is MLModule:
        return sorted(obj.members)
    if isinstance(obj, MLObject):
        return obj.ml_member_names()
    return []


# ----------------------------------------------------------------- methods of strings/arrays
def _bound(fn, obj, name):
    def method(*args):
        return fn(obj, *args)
    method.__name__ = method.__qualname__ = name
    method.ml_name = name
    return method


def _plain(name):
    def get(obj):
        return getattr(obj, name)
    return get


def _wrapped(name, fn):
    def get(obj):
        return _bound(fn, obj, name)
    return get


def _pad(kind):
    def pad(s, width, fill=" "):
        if type(width) is not int:
            raise TypeError(f"{kind}() width must be an integer")
        cap_string(width)
        return getattr(str, kind)(s, width, fill)
    return pad


def _replace(s, old, new, count=-1):
    if type(count) is int and not -_HUGE < count < _HUGE:
        count = -1                      # more than any string holds: all of them
    if type(old) is str and type(new) is str and len(new) > len(old):
        occurrences = s.count(old) if old else len(s) + 1
        if count >= 0:
            occurrences = min(occurrences, count)
        cap_string(len(s) + occurrences * (len(new) - len(old)))
    return s.replace(old, new, count)


def _split(s, sep=None, maxsplit=-1):
    return _capped_split(str.split, s, sep, maxsplit)


def _rsplit(s, sep=None, maxsplit=-1):
    return _capped_split(str.rsplit, s, sep, maxsplit)


def _capped_split(split, s, sep, maxsplit):
    """A split that never makes more parts than the array cap allows: it splits at most
    cap times, and more parts than the cap means the whole split would be over it."""
    if type(maxsplit) is int and not -_HUGE < maxsplit < _HUGE:
        maxsplit = -1                   # more than any string holds: no limit
    if len(s) <= _CHECK_ABOVE:
        return split(s, sep, maxsplit)
    cap = current().limits.max_sequence
    if type(maxsplit) is int and 0 <= maxsplit < cap:
        return split(s, sep, maxsplit)
    parts = split(s, sep, cap)
    if len(parts) > cap:
        cap_sequence(len(parts), "split()")
    return parts


def _join(s, items):
    if type(items) is not list:
        raise TypeError("join() expects an array of strings")
    total = len(s) * max(len(items) - 1, 0)
    for i, item in enumerate(items):
        if type(item) is not str:
            raise TypeError(f"join() element {i} is {typeof(item)}, not string")
        total += len(item)
    if total > _CHECK_ABOVE:
        cap_string(total)
    return s.join(items)


_STRING_PLAIN = ("upper lower capitalize title swapcase strip lstrip rstrip startswith endswith "
                 "find rfind index rindex count isdigit isalpha isalnum isspace isupper islower "
                 "istitle").split()
STRING_METHODS = {name: _plain(name) for name in _STRING_PLAIN}
STRING_METHODS.update({
    "replace": _wrapped("replace", _replace), "split": _wrapped("split", _split),
    "rsplit": _wrapped("rsplit", _rsplit), "join": _wrapped("join", _join),
    "center": _wrapped("center", _pad("center")), "ljust": _wrapped("ljust", _pad("ljust")),
    "rjust": _wrapped("rjust", _pad("rjust")),
})


def _extend(a, items):
    if type(items) is not list:
        raise TypeError(f"extend() expects an array, got {typeof(items)}")
    if len(a) + len(items) > _CHECK_ABOVE:
        cap_sequence(len(a) + len(items), "array")
    a.extend(items)


def _index(a, item, *rest):
    if len(a) > slices.STEP:
        try:
            [].index(item, *rest)           # Python's checks of start and stop, no search
        except ValueError:
            pass
        found = slices.index(a, item, *rest)
    else:
        try:
            found = a.index(item, *rest)
        except ValueError:
            found = -1
    if found < 0:
        raise ValueError(f"{ml_repr(item)} is not in list")
    return found


def _remove(a, item):
    del a[_index(a, item)]


def _sort(a, reverse=False):
    if len(a) > slices.STEP:
        a[:] = slices.sort(a, reverse=bool(reverse))
    else:
        a.sort(reverse=bool(reverse))


def _insert(a, index, item):
    if type(index) is int and not -_HUGE < index < _HUGE:
        index = len(a) if index > 0 else 0      # as any index past the ends: clamped
    a.insert(index, item)


def _pop(a, *index):
    if index and type(index[0]) is int and not -_HUGE < index[0] < _HUGE:
        raise IndexError("pop index out of range" if a else "pop from empty list")
    return a.pop(*index)


_HUGE = 2 ** 62       # past Python's index-sized integers' reach (they fail with C wording)


_ARRAY_PLAIN = "clear reverse copy".split()
# Methods whose Python behaviour is the ML behaviour (append grows by one element at a time,
# so it needs no size check): a method call can use the bound builtin directly.
ARRAY_DIRECT = frozenset(_ARRAY_PLAIN + ["append"])
STRING_DIRECT = frozenset(_STRING_PLAIN)
ARRAY_METHODS = {name: _plain(name) for name in _ARRAY_PLAIN}
ARRAY_METHODS.update({
    "append": _plain("append"), "extend": _wrapped("extend", _extend),
    "index": _wrapped("index", _index), "remove": _wrapped("remove", _remove),
    "sort": _wrapped("sort", _sort), "insert": _wrapped("insert", _insert),
    "pop": _wrapped("pop", _pop), "count": _wrapped("count", slices.count),
})


# ----------------------------------------------------------------- iteration and unpacking
def ml_iter(value):
    """What `for (x in value)` iterates: array elements, characters, object keys, iterators."""
    cls = type(value)
    if cls is list or cls is str or cls is dict:
        return value
    if cls is MLIterator:
        return value
    if cls is ErrorValue:
        return value
    raise TypeError(f"'{typeof(value)}' is not iterable")


def unpack(value):
    """`[a, b] = value` needs an array or a string (Python checks the count and says so)."""
    if type(value) is list or type(value) is str:
        return value
    raise TypeError(f"cannot unpack {typeof(value)} (expected an array or a string)")


def pick(value, names: tuple):
    """`{a, b} = value` -> (value["a"], value["b"])."""
    if type(value) is not dict and type(value) is not ErrorValue:
        raise TypeError(f"cannot destructure {typeof(value)} (expected an object)")
    return tuple(value[n] for n in names)


# ----------------------------------------------------------------- errors
def throw(value):
    """`throw value;` — a copy of the object with `message` and `type` filled in (spec §3)."""
    if type(value) is ErrorValue:
        return MLThrow(value)
    if type(value) is not dict:
        raise TypeError(f"throw expects an object, got {typeof(value)}")
    err = ErrorValue(value)
    if "message" not in err:
        err["message"] = "User-defined exception"
    else:
        err["message"] = display(err["message"]) if type(err["message"]) is not str \
            else err["message"]
    if "type" not in err:
        err["type"] = "Error"
    elif type(err["type"]) is not str:
        err["type"] = display(err["type"])
    return MLThrow(err)


def catch(exc: BaseException) -> ErrorValue:
    """The error value `except (e)` binds; host limits are re-raised, never caught.

    The caught exception forgets the one it was raised while handling (`__context__`): ML
    has no use for it, and a handler that fails again (recursion that catches its own
    RecursionError) would otherwise chain every error of the run into one list that keeps
    their frames alive and takes minutes to format."""
    if isinstance(exc, MemoryError):
        raise exc
    exc.__context__ = None
    return error_value(exc)


class ReturnTop(BaseException):
    """`return;` at top level: ends the program or cell quietly."""


def refuse_name(name: str):
    """Reading or binding a reserved name the compiler let through (non-strict mode)."""
    raise SecurityViolation(refused_name(name))
