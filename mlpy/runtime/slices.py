"""Work over big arrays in bounded C steps: sorting, searching, counting, comparing.

One builtin C call holds the GIL until it returns: `sorted` of ten million items holds it for
seconds. In thread isolation that stalls the server's event loop (and every other run), and a
timeout, which can only land between bytecodes, waits for the call to end. Each function here
gives the answer of the single call it replaces, doing at most `STEP` items' worth of C work
per call, with bytecodes (where the GIL can move and a timeout can land) in between.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

# Items one C call handles: sorting this many takes about a millisecond (each GIL hand-off
# of a thread-mode event loop may wait out one step).
STEP = 1 << 13
# Items one C copy handles: a repeat or an extend moves references, not comparing them, so a
# step this size also takes about a millisecond.
COPY_STEP = 1 << 18


def repeat(items: list, count: int) -> list:
    """A new list: `items * count`, copying at most about `COPY_STEP` references per C call
    (ten million in one call held the GIL ~30-40 ms)."""
    n = len(items)
    count = int(count)
    if n * count <= COPY_STEP:
        return items * count
    out: list = []
    if n >= COPY_STEP:
        for _ in range(count):
            for s in range(0, n, COPY_STEP):
                out += items[s:s + COPY_STEP]
        return out
    per = COPY_STEP // n
    block = items * per
    whole, rest = divmod(count, per)
    for _ in range(whole):
        out += block
    out += items * rest
    return out


def sort(items: list, key=None, reverse: bool = False) -> list:
    """A new list: `sorted(items, key=key, reverse=reverse)`, the same order (stable, by `<`
    only), the same key calls in the same order, the same errors (for two kinds of item that
    `<` cannot compare, the message may name them in the other order when the first such
    pair is past the first block: which comparison comes first is the algorithm's choice).
    The input is not changed, even when the sort fails.

    Sorted blocks of `STEP` items are merged pairwise; each merge step takes one run's whole
    next block and from the other run the items that belong before that block's last item
    (found by bisection, within one block), and sorts that piece (two sorted runs: a linear
    merge in C). Equal items keep the first run's before the second's, so the sort is stable.
    Like Python, `reverse` sorts the reversed input ascending and reverses the result, which
    keeps equal items in their input order."""
    n = len(items)
    if n <= STEP:
        return sorted(items, key=key, reverse=reverse)
    spans = [(s, min(s + STEP, n)) for s in range(0, n, STEP)]
    if reverse:
        spans.reverse()
    if key is None:
        runs = [sorted(items[s:e][::-1] if reverse else items[s:e]) for s, e in spans]
        out = _merge_all(runs, None)
    else:
        keys = [key(x) for x in items]
        by_key = keys.__getitem__
        runs = [sorted(range(e - 1, s - 1, -1) if reverse else range(s, e), key=by_key)
                for s, e in spans]
        order = _merge_all(runs, by_key)
        out = []
        pick = items.__getitem__
        for s in range(0, n, STEP):
            out += map(pick, order[s:s + STEP])
    return reversed_copy(out) if reverse else out


def _merge_all(runs: list, key) -> list:
    """Merge neighbouring runs pairwise until one is left; a pair's runs are let go as soon
    as they are merged (at most one level's copy is alive at a time)."""
    while len(runs) > 1:
        merged = []
        for i in range(0, len(runs) - 1, 2):
            pair = runs[i], runs[i + 1]
            runs[i] = runs[i + 1] = None
            merged.append(_merge(*pair, key))
            del pair
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return runs[0]


def _merge(a: list, b: list, key) -> list:
    """The stable merge of sorted runs a (first) and b, one bounded step at a time."""
    out: list = []
    i = j = 0
    na, nb = len(a), len(b)
    while i < na and j < nb:
        ea, eb = min(i + STEP, na), min(j + STEP, nb)
        last_a, last_b = a[ea - 1], b[eb - 1]
        if key is not None:
            last_a, last_b = key(last_a), key(last_b)
        if last_b < last_a:
            # b's whole block, and a's items up to and including those equal to its end
            k = bisect_right(a, last_b, i, ea, key=key)
            piece = a[i:k]
            piece += b[j:eb]
            i, j = k, eb
        else:
            # a's whole block, and b's items below its end (equal ones wait: a's go first)
            k = bisect_left(b, last_a, j, eb, key=key)
            piece = a[i:ea]
            piece += b[j:k]
            i, j = ea, k
        piece.sort(key=key)
        out += piece
    for rest, start, end in ((a, i, na), (b, j, nb)):
        for s in range(start, end, STEP):
            out += rest[s:min(s + STEP, end)]
    return out


def reversed_copy(items: list) -> list:
    """`items[::-1]`, a block at a time."""
    out: list = []
    for e in range(len(items), 0, -STEP):
        out += items[max(e - STEP, 0):e][::-1]
    return out


def index(items: list, value, start: int = 0, stop: int | None = None) -> int:
    """The first position in items[start:stop] (slice rules) holding an item `== value`,
    or -1: what `list.index` finds (identity first, then `==`)."""
    start, stop, _ = slice(start, stop).indices(len(items))
    for s in range(start, stop, STEP):
        try:
            return items.index(value, s, min(s + STEP, stop))
        except ValueError:
            pass
    return -1


def contains(items: list, value) -> bool:
    """`value in items`."""
    return index(items, value) >= 0


def count(items: list, value) -> int:
    """`items.count(value)`."""
    return sum(items[s:s + STEP].count(value) for s in range(0, len(items), STEP))


def equal_lists(a: list, b: list) -> bool:
    """`a == b` for two lists, compared a block of items at a time."""
    if len(a) != len(b):
        return False
    for s in range(0, len(a), STEP):
        if not a[s:s + STEP] == b[s:s + STEP]:
            return False
    return True


_PLAIN_SCALARS = frozenset({type(None), bool, int, float, str})


def plain_data(value) -> bool:
    """Whether `value` holds nothing but null, booleans, numbers, strings, arrays and objects
    (no function, module or other host object), looked at a block of items at a time."""
    from .values import ErrorValue
    containers = (list, dict, ErrorValue)
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PLAIN_SCALARS:
            continue
        if kind not in containers:
            return False
        if id(item) in seen:
            continue
        seen.add(id(item))
        items = item if kind is list else list(item.values())
        for s in range(0, len(items), STEP):
            block = items[s:s + STEP]
            if not set(map(type, block)) <= _PLAIN_SCALARS:
                stack += [x for x in block if type(x) not in _PLAIN_SCALARS]
    return True
