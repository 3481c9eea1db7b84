"""The ML `functional` module: function first, data second; combinators return functions."""

from __future__ import annotations

import builtins as _builtins

from ..runtime.context import current
from ..runtime.ops import count_text
from ..runtime.signals import LimitStop
from ..runtime.values import typeof
from . import LibraryModule
from ._sequences import items

module = LibraryModule("functional", "Higher-order functions and function combinators")


def _items(xs, where: str) -> list:
    return items(xs, f"functional.{where}")


def _callable(f, where: str):
    if not callable(f) or isinstance(f, type):
        raise TypeError(f"functional.{where}() expects a function, got {typeof(f)}")
    return f


def _count(n, where: str) -> int:
    if not isinstance(n, int):
        raise TypeError(f"functional.{where}() count must be an integer, got {typeof(n)}")
    return int(n)


def _check_size(n: int, where: str) -> None:
    limit = current().limits.max_sequence
    if n > limit:
        raise LimitStop(f"functional.{where}(): {count_text(n)} elements exceed the limit of "
                        f"{limit}")


def _anonymous(fn, doc: str):
    """Make a returned closure print as `<function>` and describe itself for help()."""
    fn.__name__ = fn.__qualname__ = "<lambda>"
    fn.ml_doc = doc
    return fn


# --- applying functions to data ---------------------------------------------------------


@module.function()
def map(f, xs):
    """A new array of f(x) for every element x of xs."""
    return [f(x) for x in _items(xs, "map")]


@module.function()
def filter(pred, xs):
    """A new array of the elements x of xs for which pred(x) is truthy."""
    return [x for x in _items(xs, "filter") if pred(x)]


@module.function()
def reduce(f, xs, initial=None):
    """Fold xs from the left with acc = f(acc, x); a missing or null initial uses the first element."""
    items = _items(xs, "reduce")
    if initial is None:
        if not items:
            raise TypeError("reduce() of empty sequence with no initial value")
        acc, rest = items[0], items[1:]
    else:
        acc, rest = initial, items
    for x in rest:
        acc = f(acc, x)
    return acc


@module.function("forEach", "for_each")
def forEach(f, xs):
    """Call f(x) for every element x of xs; returns null."""
    for x in _items(xs, "forEach"):
        f(x)
    return None


@module.function()
def find(pred, xs):
    """The first element x of xs for which pred(x) is truthy, or null."""
    for x in _items(xs, "find"):
        if pred(x):
            return x
    return None


@module.function()
def some(pred, xs):
    """true if pred(x) is truthy for some element (false for [])."""
    return any(pred(x) for x in _items(xs, "some"))


@module.function()
def every(pred, xs):
    """true if pred(x) is truthy for every element (true for [])."""
    return all(pred(x) for x in _items(xs, "every"))


@module.function()
def partition(pred, xs):
    """[yes, no]: the elements for which pred(x) is truthy, and the others."""
    yes, no = [], []
    for x in _items(xs, "partition"):
        (yes if pred(x) else no).append(x)
    return [yes, no]


@module.function("groupBy", "group_by")
def groupBy(keyFn, xs):
    """An object mapping keyFn(x) to the array of elements with that key (keys in first-seen order)."""
    groups: dict = {}
    for x in _items(xs, "groupBy"):
        key = keyFn(x)
        if not (key is None or isinstance(key, (str, int, float))):
            raise TypeError(f"functional.groupBy() keys must be strings, numbers, booleans or null, "
                            f"got {typeof(key)}")
        groups.setdefault(key, []).append(x)
    return groups


@module.function()
def take(n, xs):
    """The first n elements of xs."""
    n = _count(n, "take")
    return _items(xs, "take")[:n] if n > 0 else []


@module.function()
def drop(n, xs):
    """The elements of xs after the first n."""
    n = _count(n, "drop")
    items = _items(xs, "drop")
    return items[n:] if n > 0 else items


@module.function("takeWhile")
def takeWhile(pred, xs):
    """The leading elements of xs for which pred(x) is truthy."""
    out = []
    for x in _items(xs, "takeWhile"):
        if not pred(x):
            break
        out.append(x)
    return out


@module.function()
def chunk(size, xs):
    """Consecutive pieces of `size` elements (the last may be shorter); size <= 0 gives []."""
    size = _count(size, "chunk")
    items = _items(xs, "chunk")
    if size <= 0:
        return []
    return [items[i:i + size] for i in range(0, len(items), size)]


@module.function()
def flatten(xs):
    """One level flattened: array elements are spliced in, other elements kept."""
    out = []
    for x in _items(xs, "flatten"):
        if isinstance(x, list):
            out.extend(x)
        else:
            out.append(x)
    return out


@module.function()
def unique(xs):
    """The first occurrence of every distinct element, in order (numbers, strings, booleans, null)."""
    out = []
    seen = set()
    for x in _items(xs, "unique"):
        if not (x is None or isinstance(x, (str, int, float))):
            raise TypeError(f"functional.unique() elements must be numbers, strings, booleans or null, "
                            f"got {typeof(x)}")
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


@module.function()
def reverse(xs):
    """A new array with the elements of xs in reverse order."""
    items = _items(xs, "reverse")
    items.reverse()
    return items


@module.function()
def zip(*arrays):
    """Arrays [xs[i], ys[i], ...] as long as the shortest input."""
    lists = [_items(a, "zip") for a in arrays]
    if not lists:
        return []
    return [_builtins.list(group) for group in _builtins.zip(*lists, strict=False)]


@module.function("zipWith")
def zipWith(f, xs, ys):
    """[f(xs[0], ys[0]), ...] as long as the shorter array."""
    pairs = _builtins.zip(_items(xs, "zipWith"), _items(ys, "zipWith"), strict=False)
    return [f(x, y) for x, y in pairs]


@module.function()
def times(n, f):
    """[f(0), f(1), ..., f(n-1)]."""
    n = _count(n, "times")
    _check_size(n, "times")
    return [f(i) for i in range(n)]


@module.function("range")
def range_(start, end=None, step=1):
    """Integers from start up to (not including) end by step; with one argument 0 ... start-1."""
    if end is None:
        start, end = 0, start
    for value in (start, end, step):
        if not isinstance(value, int):
            raise TypeError(f"functional.range() expects integers, got {typeof(value)}")
    if step == 0:
        raise ValueError("range() arg 3 must not be zero")
    r = range(int(start), int(end), int(step))
    _check_size(len(r), "range")
    return _builtins.list(r)


range_.__name__ = range_.__qualname__ = "range"


@module.function()
def repeat(v, n):
    """An array of n copies of v (the same value, not copies of it)."""
    n = _count(n, "repeat")
    _check_size(n, "repeat")
    return [v] * n if n > 0 else []


# --- combinators --------------------------------------------------------------------------


def _chain(fns: list):
    """Apply fns[0] to the call's arguments, then each later function to the previous result."""
    def chained(*args):
        if not fns:
            if len(args) != 1:
                raise TypeError(f"composed function takes 1 argument but {len(args)} were given")
            return args[0]
        result = fns[0](*args)
        for fn in fns[1:]:
            result = fn(result)
        return result
    return chained


def _functions(fns, where: str) -> list:
    return [_callable(f, where) for f in fns]


@module.function()
def compose(*fns):
    """A function applying the functions right to left: compose(f, g)(x) is f(g(x))."""
    chain = _functions(fns, "compose")
    chain.reverse()
    return _anonymous(_chain(chain), "Composition of functions (right to left).")


@module.function()
def pipe(*fns):
    """A function applying the functions left to right: pipe(f, g)(x) is g(f(x))."""
    return _anonymous(_chain(_functions(fns, "pipe")), "Pipeline of functions (left to right).")


@module.function("composeAll")
def composeAll(arr):
    """compose() over an array of functions."""
    chain = _functions(_items(arr, "composeAll"), "composeAll")
    chain.reverse()
    return _anonymous(_chain(chain), "Composition of functions (right to left).")


@module.function("pipeAll")
def pipeAll(arr):
    """pipe() over an array of functions."""
    return _anonymous(_chain(_functions(_items(arr, "pipeAll"), "pipeAll")),
                      "Pipeline of functions (left to right).")


def _arity(f) -> int | None:
    """The number of required positional parameters of f, or None if it cannot be told."""
    declared = getattr(f, "ml_arity", None)
    if isinstance(declared, int):
        return declared
    import inspect
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    count = 0
    for p in signature.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None if count == 0 else count
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
    return count


def _curried(f, arity: int, collected: tuple):
    def curried(*args):
        got = collected + args
        if len(got) >= arity:
            return f(*got)
        return _curried(f, arity, got)
    return _anonymous(curried, f"Curried function awaiting {arity - len(collected)} more argument(s).")


@module.function()
def curry(f, arity=None):
    """A curried f taking one or more arguments per call until `arity` (default: f's parameter count)."""
    _callable(f, "curry")
    if arity is None:
        arity = _arity(f)
        if arity is None:
            raise TypeError("functional.curry() cannot tell how many arguments the function takes; "
                            "pass the arity")
    elif not isinstance(arity, int) or isinstance(arity, bool):
        raise TypeError(f"functional.curry() arity must be an integer, got {typeof(arity)}")
    return _curried(f, arity, ())


@module.function()
def curry2(f):
    """A curried two-argument f: curry2(f)(a)(b) is f(a, b)."""
    _callable(f, "curry2")
    return _curried(f, 2, ())


@module.function("partial", "partial_apply")
def partial(f, *args):
    """A function calling f with `args` followed by its own arguments."""
    _callable(f, "partial")
    bound = tuple(args)

    def partially(*more):
        return f(*bound, *more)
    return _anonymous(partially, "Partially applied function.")


_MEMO_KEY_TYPES = (type(None), bool, int, float, str)


@module.function()
def memoize(f):
    """A function caching f's result per argument list (numbers, strings, booleans or null)."""
    _callable(f, "memoize")
    cache: dict = {}

    def memoized(*args):
        key = []
        for a in args:
            if type(a) not in _MEMO_KEY_TYPES:
                raise TypeError("memoized function arguments must be numbers, strings, booleans or "
                                f"null, got {typeof(a)}")
            key.append((type(a), a))
        key = tuple(key)
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = f(*args)
            return value
    return _anonymous(memoized, "Memoized function.")


@module.function()
def constant(v):
    """A function of no arguments that always returns v."""
    def constantly():
        return v
    return _anonymous(constantly, "Function returning a constant.")


@module.function()
def identity(x):
    """x itself."""
    return x


@module.function()
def juxt(fs):
    """A function x => [f1(x), f2(x), ...]."""
    fns = _functions(_items(fs, "juxt"), "juxt")

    def juxtaposed(*args):
        return [fn(*args) for fn in fns]
    return _anonymous(juxtaposed, "Juxtaposition of functions.")


@module.function("ifElse")
def ifElse(pred, f, g):
    """A function x => pred(x) ? f(x) : g(x)."""
    _callable(pred, "ifElse")
    _callable(f, "ifElse")
    _callable(g, "ifElse")

    def branch(*args):
        return f(*args) if pred(*args) else g(*args)
    return _anonymous(branch, "Conditional function.")


@module.function()
def cond(pairs):
    """A function x => f(x) for the first [pred, f] pair with a truthy pred(x), else null."""
    clauses = []
    for pair in _items(pairs, "cond"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise TypeError("functional.cond() expects an array of [predicate, function] pairs")
        clauses.append((_callable(pair[0], "cond"), _callable(pair[1], "cond")))

    def conditional(*args):
        for pred, fn in clauses:
            if pred(*args):
                return fn(*args)
        return None
    return _anonymous(conditional, "Conditional dispatch function.")
