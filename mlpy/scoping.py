"""Scope and type facts about ML function bodies, computed before any code is generated.

Which names a function binds, which it declares `nonlocal`, which locals only ever hold
integers (and which of those are counters stepped by small constants), which names hold
strings or arrays: the lowering (mlpy/lowering.py) reads these facts to pick a code shape.
Nothing here builds Python `ast`; it only reads ML syntax nodes.
"""

from __future__ import annotations

from . import nodes as N


_NONE: frozenset = frozenset()


class Scope:
    """A function's names: parameters, names its own body binds, and `nonlocal` decisions."""

    __slots__ = ("params", "bound", "nonlocals", "parent", "ints", "counters", "sequences",
                 "strs", "lists")

    def __init__(self, params: set, bound: set, nonlocals: dict | None = None,
                 parent: "Scope | None" = None):
        self.params = params
        self.bound = bound
        # name -> "nonlocal" | "global"
        self.nonlocals: dict = {} if nonlocals is None else nonlocals
        self.parent = parent
        self.ints: frozenset = _NONE           # locals that only ever hold integers
        self.counters: frozenset = _NONE       # int locals only stepped by constants
        self.sequences: frozenset = _NONE      # names assigned a string or array literal
        self.strs: frozenset = _NONE           # locals that only ever hold strings
        self.lists: frozenset = _NONE          # locals that only ever hold arrays

    @property
    def locals(self) -> set:
        return (self.params | self.bound) - set(self.nonlocals)


class BodyFacts:
    """What one walk over a body's own statements (inside if/while/for/try too, but not
    inside nested functions or arrows: they have scopes of their own) tells the scope
    analyses: the names it binds, its `nonlocal` statements in order, its `name = e`
    assignments (and their names), the names bound any other way, and the names it assigns
    a string or array (a hint that `+` on them concatenates)."""

    __slots__ = ("bound", "nonlocals", "assigns", "assigned", "other", "sequences")

    def __init__(self, body: list):
        self.nonlocals: list = []
        self.assigns: list = []
        self.assigned: set = set()
        self.other: set = set()
        sequences: set = set()
        self._visit(body, sequences)
        self.bound = self.assigned | self.other
        self.sequences = frozenset(sequences)

    def _visit(self, body: list, sequences: set) -> None:
        for stmt in body:
            t = type(stmt)
            if t is N.Assign:
                if type(stmt.target) is N.Name:
                    name = stmt.target.name
                    value = stmt.value
                    self.assigned.add(name)
                    self.assigns.append((name, value))
                    kind = type(value)
                    if kind is N.Array or kind is N.String or (
                            kind is N.Binary and value.op == "+" and is_str(value)):
                        sequences.add(name)
            elif t is N.ExprStmt or t is N.Return:
                continue
            elif t is N.If:
                for _, branch in stmt.branches:
                    self._visit(branch, sequences)
                if stmt.otherwise:
                    self._visit(stmt.otherwise, sequences)
            elif t is N.For:
                self.other.add(stmt.var)
                self._visit(stmt.body, sequences)
            elif t is N.FunctionDef:
                self.other.add(stmt.name)
            elif t is N.While:
                self._visit(stmt.body, sequences)
            elif t is N.Try:
                if stmt.handler_name:
                    self.other.add(stmt.handler_name)
                for part in (stmt.body, stmt.handler, stmt.finally_body):
                    if part:
                        self._visit(part, sequences)
            elif t is N.Nonlocal:
                self.nonlocals.append(stmt)
            elif t is N.Destructure:
                self.other.update(stmt.names)
            elif t is N.Import:
                self.other.add(stmt.alias or stmt.path[0])


def first_use(body: list, name: str):
    """(line, column) of the first read or binding of `name` in a function's own body."""
    first = None

    def visit(node):
        if isinstance(node, (list, tuple)):
            for item in node:
                visit(item)
            return
        if not isinstance(node, N.Node) or isinstance(node, (N.FunctionDef, N.Arrow)):
            if isinstance(node, N.FunctionDef) and node.name == name:
                _note(node)
            return
        hit = (isinstance(node, N.Name) and node.name == name) or (
            isinstance(node, (N.For,)) and node.var == name) or (
            isinstance(node, N.Destructure) and name in node.names) or (
            isinstance(node, N.Try) and node.handler_name == name)
        if hit:
            _note(node)
        for slot in node.__slots__:
            visit(getattr(node, slot))

    def _note(node):
        nonlocal first
        pos = (node.line, node.column)
        if first is None or pos < first:
            first = pos

    visit(body)
    return first


_INT_OPERATORS = frozenset({"+", "-", "*", "//", "%"})   # int op int gives an int


def is_int(node, ints) -> bool:
    """Whether an expression always gives an int, knowing the locals in `ints` hold ints.
    Such expressions are also pure (names, integer constants, arithmetic)."""
    t = type(node)
    if t is N.Name:
        return node.name in ints
    if t is N.Number:
        return type(node.value) is int
    if t is N.Binary:
        return node.op in _INT_OPERATORS and is_int(node.left, ints) and \
            is_int(node.right, ints)
    if t is N.Unary:
        return node.op == "-" and is_int(node.operand, ints)
    return False



def cannot_rebind(node) -> bool:
    """Whether evaluating an ML expression runs no code that could rebind a name: no calls
    (and so no user functions), only names, literals, operators, members and indexing."""
    t = type(node)
    if t is N.Name or t is N.Number or t is N.String or t is N.Literal:
        return True
    if t is N.Binary or t is N.Logical:
        return cannot_rebind(node.left) and cannot_rebind(node.right)
    if t is N.Unary:
        return cannot_rebind(node.operand)
    if t is N.Member:
        return cannot_rebind(node.obj)
    if t is N.Index:
        return cannot_rebind(node.obj) and cannot_rebind(node.index)
    return False



def small_factor(node) -> bool:
    """An integer constant below 2**32: multiplying by it adds at most 32 bits, so a loop of
    such products grows an integer only linearly with the work done (the timeout bounds it);
    only products of two unbounded factors (squaring) need the inline size check."""
    return type(node) is N.Number and type(node.value) is int and -(1 << 32) < node.value < 1 << 32



# is_str of `+` nodes already answered, by id (the node is kept with its answer, so an id that
# was reused can never match). The lowering asks at every level of a 10,000-operand chain
# (spec §7.2); without it each question walks the whole chain below, a quadratic compile.
_STR_MEMO: dict[int, tuple[object, bool]] = {}
_STR_MEMO_SIZE = 1 << 16


def is_str(node) -> bool:
    """Whether an expression certainly gives a string (a literal, or `+` with one)."""
    t = type(node)
    if t is N.String:
        return True
    if t is not N.Binary or node.op != "+":
        return False
    left, right = node.left, node.right
    if not (type(left) is N.Binary and left.op == "+" or
            type(right) is N.Binary and right.op == "+"):   # no `+` below: nothing to remember
        return type(left) is N.String or type(right) is N.String
    spine = []                      # the `+` nodes down the left side not answered yet
    answer = False
    while type(node) is N.Binary and node.op == "+":
        known = _STR_MEMO.get(id(node))
        if known is not None and known[0] is node:
            answer = known[1]
            break
        spine.append(node)
        node = node.left
    else:
        answer = type(node) is N.String
    if len(_STR_MEMO) + len(spine) > _STR_MEMO_SIZE:
        _STR_MEMO.clear()
    for binary in reversed(spine):  # bottom up: left answered, then this node's right side
        answer = answer or is_str(binary.right)
        _STR_MEMO[id(binary)] = (binary, answer)
    return answer


def typed_locals(body: list, facts: BodyFacts, scope: "Scope", may_nest_nonlocal: bool,
                 *typed) -> tuple[frozenset, ...]:
    """For each predicate of `typed`, the locals of a function whose every binding is
    `name = e` with `typed(e, names)` true, `names` being the candidates themselves (a
    fixpoint: `i = i + 1` keeps `i` an integer with `is_int`, `s = s + "x"` a string with
    `str_typed`). A read before the first binding is Python's unbound-local error, so such a
    local holds a value of that type whenever it can be read. Names a nested function may
    rebind through `nonlocal` are left out. The candidates are found once for all the
    predicates (the nested-`nonlocal` walk covers the whole body, nested functions too)."""
    names = facts.assigned - facts.other - scope.params
    if scope.nonlocals:
        names.difference_update(scope.nonlocals)
    if names and may_nest_nonlocal:
        names -= nested_nonlocal_names(body)
    if not names:
        return (_NONE,) * len(typed)
    assigns = facts.assigns
    if len(names) < len(facts.assigned):
        assigns = [(name, value) for name, value in assigns if name in names]
    found = []
    for predicate in typed:
        kept = set(names)
        changed = True
        while changed and kept:
            changed = False
            for name, value in assigns:
                if name in kept and not predicate(value, kept):
                    kept.discard(name)
                    changed = True
        found.append(frozenset(kept) if kept else _NONE)
    return tuple(found)


def str_typed(node, strs) -> bool:
    """Whether an expression certainly gives a string (or fails), knowing the names in `strs`
    hold strings: a literal, such a name, or ML `+` with a string anywhere among its operands
    (a string on either side makes `+` concatenate display forms)."""
    t = type(node)
    if t is N.String:
        return True
    if t is N.Name:
        return node.name in strs
    if t is not N.Binary or node.op != "+":
        return False
    if is_str(node):
        return True
    if not strs:
        return False
    todo = [node]
    while todo:
        node = todo.pop()
        t = type(node)
        if t is N.Name:
            if node.name in strs:
                return True
        elif t is N.Binary and node.op == "+":
            todo.append(node.right)
            todo.append(node.left)
    return False


def list_typed(node, lists) -> bool:
    """Whether an expression certainly gives an array: an array literal, or a name in `lists`."""
    t = type(node)
    return t is N.Array or (t is N.Name and node.name in lists)


def counter_locals(facts: BodyFacts, ints: frozenset) -> frozenset:
    """Integer locals whose every assignment is a small constant or the local itself plus or
    minus a small constant (`i = 0;` ... `i = i + 1;`): their size grows at most linearly
    with the work done, so a product with one adds few bits and needs no size check."""
    counters = set(ints)
    for name, value in facts.assigns:
        if name not in counters or small_factor(value):
            continue
        if not (type(value) is N.Binary and value.op in ("+", "-") and (
                (type(value.left) is N.Name and value.left.name == name
                 and small_factor(value.right))
                or (value.op == "+" and type(value.right) is N.Name
                    and value.right.name == name and small_factor(value.left)))):
            counters.discard(name)
    return frozenset(counters)


def nested_nonlocal_names(body: list) -> set:
    """Names declared nonlocal by any function or arrow nested in `body`."""
    names: set = set()

    def walk(node, nested):
        if isinstance(node, (list, tuple)):
            for item in node:
                walk(item, nested)
            return
        if not isinstance(node, N.Node):
            return
        if isinstance(node, N.Nonlocal) and nested:
            names.update(node.names)
        inner = nested or isinstance(node, (N.FunctionDef, N.Arrow))
        for slot in node.__slots__:
            walk(getattr(node, slot), inner)

    walk(body, False)
    return names


def all_bound(program: N.Program) -> set:
    """Every name the program binds anywhere (for the deny-list rule of spec §11.1)."""
    names: set = set()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if isinstance(node, tuple):
            for item in node:
                walk(item)
            return
        if not isinstance(node, N.Node):
            return
        if isinstance(node, N.Assign) and isinstance(node.target, N.Name):
            names.add(node.target.name)
        elif isinstance(node, N.Destructure):
            names.update(node.names)
        elif isinstance(node, N.FunctionDef):
            names.add(node.name)
        elif isinstance(node, N.For):
            names.add(node.var)
        elif isinstance(node, N.Try) and node.handler_name:
            names.add(node.handler_name)
        elif isinstance(node, N.Param):
            names.add(node.name)
        elif isinstance(node, N.Import):
            names.add(node.alias or node.path[0])
        for slot in node.__slots__:
            walk(getattr(node, slot))

    walk(program.body)
    return names
