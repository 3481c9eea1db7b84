"""The lowering of ML's `+`, `*`, `%` and `//`: which Python code shape each operator takes.

ML's `+ * %` differ from Python's (string + number concatenates, integers and strings are
size-capped, `%` on strings is not formatting), and a long integer division must be done in
stoppable steps, so the general form is a runtime helper call. The facts mlpy/scoping.py
computes let most operators take a cheaper shape instead:

    operand facts                                  code shape
    ---------------------------------------------  -------------------------------------------
    `//` by a constant below 2**32, of a constant  `a // b` (cheap whatever the types)
    or of a counter
    both known integers (scope.ints)               `a op b`; `*` of two unbounded names adds an
                                                   inline size test, else `__ml_mul`; `%` `//`
                                                   an inline test of the dividend's size unless
                                                   cheap (as above)
    `+` with a string literal operand              `a + b` if the other is a str, else `__ml_add`
    `+` with a likely string/array operand         `__ml_add(a, b)` (no int test worth paying)
    `x = a + b;` / `return a + b;` (statement)     `try: a + +b` / `except TypeError: __ml_add`
    `//` otherwise, right operand a name/constant  `a // b if type(a) is not int or -B < a < B
                                                    else __ml_floordiv(a, b)`
    anything else                                  `a op b if type(a) is type(b) is int
                                                    else __ml_op(a, b)` (small constants: no bound;
                                                    `%` `//` add `-B < a < B` unless cheap)

The mixin is part of `Compiler`: it calls back `expr`, `helper` and `_temp` and reads `scope`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from . import nodes as N
from .asty import asty
from .language import py_name
from .runtime import helper_names as H
from .scoping import Scope, cannot_rebind, is_int, is_str, small_factor, str_typed

# Expression contexts and operators carry no state, so every node shares one (as CPython's
# own AST does); so do the operator lists of comparisons (nothing changes them).
LOAD = ast.Load()
STORE = ast.Store()
_LOAD, _STORE = LOAD, STORE
_OPERATORS = {cls: cls() for cls in (ast.Add, ast.Mult, ast.Mod, ast.FloorDiv)}
_IS_CHAIN = {1: [ast.Is()], 2: [ast.Is(), ast.Is()]}
_IS_NOT = [ast.IsNot()]
_BETWEEN = [ast.Lt(), ast.Lt()]
_AND = ast.And()
_OR = ast.Or()
_UADD = ast.UAdd()


_STABLE = (ast.Name, ast.Constant)       # operands that read the same value twice


def _rereadable(left, right, e) -> tuple:
    """((left, rereadable), (right, rereadable)) for the compiled operands of binary `e`: a
    constant always reads the same; a name too, unless (on the left) evaluating the right
    operand could rebind it in between."""
    right_stable = type(right) in _STABLE
    left_stable = type(left) is ast.Constant or (
        type(left) is ast.Name and (right_stable or cannot_rebind(e.right)))
    return (left, left_stable), (right, right_stable)


def _short_concat(node) -> bool:
    """`name + "lit"` or `"lit" + name`: certainly a string, small, and calls nothing."""
    return (type(node) is N.Binary and node.op == "+"
            and {type(node.left), type(node.right)} == {N.Name, N.String})


def copy_operand(node, ml_node):
    """A fresh node reading the same operand again (a name or a constant), at `ml_node`."""
    if type(node) is ast.Name:
        return asty.Name(ml_node, node.id, _LOAD)
    return asty.Constant(ml_node, node.value)


class ArithmeticLowering:
    """`+ * % //` for `Compiler` (see the table above)."""

    # provided by Compiler (declared here so type checkers see the mixin's contract)
    scope: Scope | None

    if TYPE_CHECKING:
        @property
        def top_sequences(self) -> frozenset: ...
        def expr(self, e: Any) -> Any: ...
        def helper(self, name: str, args: list, node: Any) -> ast.Call: ...
        def _temp(self, kind: str) -> str: ...

    def _add_statement(self, e, emit) -> list | None:
        """`x = L + R;` / `return L + R;` as Python's `+` on `L` and `+R` inside a `try`.

        Unary `+` fails on anything but a number, and so does `number + non-number`, so the
        Python `+` succeeds exactly when ML's `+` is numeric addition; every other case (string
        concatenation, arrays, errors) raises TypeError and takes the helper with its size caps.
        A `try` costs nothing until it catches, which makes this cheaper than checking both
        operand types (fib-like recursion). Statements only: the operands are evaluated first,
        so a TypeError raised while computing them is never mistaken for the `+` failing.
        Returns None where the expression form serves better (not a `+`, integer operands, or
        operands that look like strings or arrays)."""
        if type(e) is not N.Binary or e.op != "+":
            return None
        ints = self.scope.ints if self.scope is not None else ()
        if ints and is_int(e.left, ints) and is_int(e.right, ints):     # (the cheaper test first)
            return None
        if self._known_str(e.left) or self._known_str(e.right):
            return None
        if self._looks_like_sequence(e.left) or self._looks_like_sequence(e.right):
            return None
        out: list = []
        left, right = self.expr(e.left), self.expr(e.right)
        operands = []
        stores, values = [], []
        for value, stable in _rereadable(left, right, e):
            if not stable:
                temp = self._temp("v")
                stores.append(asty.Name(e, temp, _STORE))
                values.append(value)
                value = asty.Name(e, temp, _LOAD)
            operands.append(value)
        if len(stores) == 2 and self.scope is not None:
            # `v1, v2 = L, R`: both values stay on the stack until both are computed, then
            # two stores Python fuses into one step (a function's locals only: at top level
            # the pair costs a swap more)
            out.append(asty.Assign(e, targets=[asty.Tuple(e, stores, _STORE)],
                                   value=asty.Tuple(e, values, _LOAD)))
        else:
            out.extend(asty.Assign(e, targets=[store], value=value)
                       for store, value in zip(stores, values, strict=True))
        a, b = operands
        plus_b = b if type(b) is ast.Constant and type(b.value) in (int, float) else \
            asty.UnaryOp(e, _UADD, b)
        fast = asty.BinOp(e, a, _OPERATORS[ast.Add], plus_b)
        slow = self.helper(H.ADD, [copy_operand(a, e), copy_operand(b, e)], e)
        handler = asty.ExceptHandler(e, type=asty.Name(e, H.TYPE_ERROR, _LOAD),
                                       name=None, body=[emit(slow)])
        out.append(asty.Try(e, body=[emit(fast)], handlers=[handler], orelse=[], finalbody=[]))
        return out

    def _known_str(self, node) -> bool:
        """Whether an expression certainly gives a string: a literal, `+` with one, or a local
        of this function that only ever holds strings (`Scope.strs`)."""
        return str_typed(node, self.scope.strs) if self.scope is not None else is_str(node)

    def _looks_like_sequence(self, node) -> bool:
        """An array or object literal, or a name this scope assigns a string or array."""
        t = type(node)
        if t is N.Array or t is N.Object:
            return True
        if t is N.Name:
            names = self.scope.sequences if self.scope is not None else self.top_sequences
            return node.name in names
        return False

    def _is_type(self, value, type_name: str, node):
        """`__ml_type(value) is <type_name>`."""
        return asty.Compare(node, asty.Call(node, asty.Name(node, H.TYPE, _LOAD), [value], []),
                              _IS_CHAIN[1], [asty.Name(node, type_name, _LOAD)])

    _HELPED = {"+": (H.ADD, ast.Add), "*": (H.MUL, ast.Mult),
               "%": (H.MOD, ast.Mod), "//": (H.FLOORDIV, ast.FloorDiv)}

    def _arithmetic(self, left, right, op: str, e):
        """`+ * % //`: Python's operator where the operand types are known, else checked."""
        helper, pyop = self._HELPED[op]
        if op == "//" and self._cheap_division(e):
            return asty.BinOp(e, left, _OPERATORS[ast.FloorDiv], right)   # Python's rules
        ints = self.scope.ints if self.scope is not None else ()
        if ints and is_int(e.left, ints) and is_int(e.right, ints):
            return self._int_op(left, right, pyop, helper, e)
        if op == "//":
            return self._division(left, right, pyop, helper, e, False)
        if op == "+" and (type(e.left) is N.String or type(e.right) is N.String):
            return self._concat_literal(left, right, e)
        if op == "+" and type(e.right) is N.Name and _short_concat(e.left):
            # `s + "x" + i`: the left side is certainly a string; the name is read again
            # (reading it before the left side changes nothing: that side calls nothing), and
            # the left side, small, is compiled a second time for the helper's branch
            return self._with_int_text(left, right, True, e, self.expr(e.left))
        if op == "+" and type(e.left) is N.Name and type(e.right) is N.Name:
            # `s + i` / `i + s`, `s` a string local: an int's text inline, as with a literal
            left_str, right_str = self._known_str(e.left), self._known_str(e.right)
            if left_str != right_str:
                return self._with_int_text(left, right, left_str, e)
        if op == "+" and (is_str(e.left) or is_str(e.right) or self._looks_like_sequence(
                e.left) or self._looks_like_sequence(e.right)):
            return self.helper(helper, [left, right], e)      # concatenation: no int check
        return self._fast_int(left, right, pyop, helper, e)

    def _concat_literal(self, left, right, e):
        """`s + "lit"` / `"lit" + s`: Python's `+` when the other operand is a string, else the
        helper. No size check: adding a literal grows a string only by the literal's length,
        linearly with the work done (the timeout bounds it); doubling still meets the cap."""
        literal_left = type(e.left) is N.String
        other = right if literal_left else left
        if self._known_str(e.right if literal_left else e.left):    # certainly a string too
            return asty.BinOp(e, left, _OPERATORS[ast.Add], right)
        if type(other) is ast.Constant:                        # a number, true, false, null
            return self.helper(H.ADD, [left, right], e)
        literal = left if literal_left else right

        def in_order(value, lit) -> list:
            return [lit, value] if literal_left else [value, lit]

        def fast(value):
            a, b = in_order(value, literal)
            return asty.BinOp(e, a, _OPERATORS[ast.Add], b)

        def slow(value):
            if type(value) is ast.Name:                 # `"item" + i`: an int's text inline
                lit = copy_operand(literal, e)
                return self._with_int_text(*in_order(value, lit), literal_left, e)
            return self.helper(H.ADD, in_order(value, copy_operand(literal, e)), e)

        return self._by_type(other, H.STR, fast, slow, e)

    def _with_int_text(self, left, right, name_right: bool, e, left_again=None):
        """`str + name` (or `name + str`) where the other side certainly gives a string: the
        int's text inline when the name holds an int (growth by an int's digits, linear as
        with a literal; no size check), else the helper (strings of any size are checked)."""
        name = right if name_right else left
        text = asty.Call(e, asty.Name(e, H.INT_TEXT, _LOAD), [copy_operand(name, e)], [])
        fast = (asty.BinOp(e, left, _OPERATORS[ast.Add], text) if name_right
                else asty.BinOp(e, text, _OPERATORS[ast.Add], right))
        again = left_again if left_again is not None else copy_operand(left, e)
        slow = self.helper(H.ADD, [again, copy_operand(right, e)], e)
        return asty.IfExp(e, self._is_type(copy_operand(name, e), H.INT, e), fast, slow)

    def _cheap_division(self, e) -> bool:
        """Whether `a // b` / `a % b` costs little whatever the integers: a divisor constant
        below 2**32 (linear in the dividend), a constant dividend (at most 4300 digits) or
        a counter (see `counter_locals`). Other long divisions take the helper, which
        divides in stoppable steps (ops.int_divmod)."""
        left = e.left
        if small_factor(e.right) or type(left) is N.Number:
            return True
        counters = self.scope.counters if self.scope is not None else frozenset()
        return type(left) is N.Name and left.name in counters

    def _int_op(self, left, right, pyop, helper: str, e):
        """Both operands are known integers: `+` is Python's; `*` checks the factors' size
        inline when they are names or constants (else the helper applies the cap); `%` and
        `//` check the dividend's size inline unless the division is cheap."""
        plain = asty.BinOp(e, left, _OPERATORS[pyop], right)
        if pyop is ast.Mod or pyop is ast.FloorDiv:
            if self._cheap_division(e):
                return plain
            return self._division(left, right, pyop, helper, e, True)
        if pyop is not ast.Mult:
            return plain
        bound = self._MUL_BOUND
        names = []
        for factor in (e.left, e.right):
            if type(factor) is N.Name:
                if factor.name not in names:
                    names.append(factor.name)
            elif type(factor) is not N.Number or not -bound < factor.value < bound:
                return self.helper(helper, [left, right], e)
        counters = self.scope.counters if self.scope is not None else frozenset()
        if not names or any(small_factor(f) or (type(f) is N.Name and f.name in counters)
                            for f in (e.left, e.right)):
            return plain
        checks = [asty.Compare(e, asty.Constant(e, -bound), _BETWEEN,
                                 [asty.Name(e, py_name(n), _LOAD), asty.Constant(e, bound)])
                  for n in names]
        test = checks[0] if len(checks) == 1 else asty.BoolOp(e, _AND, checks)
        slow = self.helper(helper, [self.expr(e.left), self.expr(e.right)], e)
        return asty.IfExp(e, test, plain, slow)

    def _division(self, left, right, pyop, helper: str, e, known_ints: bool):
        """`a // b` or `a % b` whose dividend may be long: the operator when the dividend is
        an int below _MUL_BOUND (known integers: `(a op b) if -B < a < B else helper(a, b)`;
        `//` of anything: `(a // b) if type(a) is not int or -B < a < B else ...`, Python's
        `//` being ML's), else the helper, which divides a long integer in steps. A dividend
        that is not a name is kept in a temporary; other shapes take `_fast_int`."""
        (left, left_stable), (right, right_stable) = _rereadable(left, right, e)
        if not right_stable or not (known_ints or pyop is ast.FloorDiv):
            return self._fast_int(left, right, pyop, helper, e)
        if left_stable:
            first, value = left, copy_operand(left, e)
        else:
            temp = self._temp("a")
            first = asty.NamedExpr(e, asty.Name(e, temp, _STORE), left)
            value = asty.Name(e, temp, _LOAD)
        bound = self._MUL_BOUND
        small = asty.Compare(e, asty.Constant(e, -bound), _BETWEEN,
                             [first if known_ints else copy_operand(value, e),
                              asty.Constant(e, bound)])
        test = small
        if not known_ints:
            not_int = asty.Compare(e, asty.Call(e, asty.Name(e, H.TYPE, _LOAD), [first], []),
                                   _IS_NOT, [asty.Name(e, H.INT, _LOAD)])
            test = asty.BoolOp(e, _OR, [not_int, small])
        fast = asty.BinOp(e, value, _OPERATORS[pyop], right)
        slow = self.helper(helper, [copy_operand(value, e), copy_operand(right, e)], e)
        return asty.IfExp(e, test, fast, slow)

    # The largest factor the inline `*` path accepts: the product stays small, so a loop of
    # squarings reaches the helper (and its integer size cap) instead of growing unchecked.
    # Also the largest dividend inline `%` and `//` take: a longer one reaches the helper,
    # which divides a long integer in stoppable steps.
    _MUL_BOUND = 1 << 62

    def _fast_int(self, left, right, pyop, helper: str, e):
        """`left op right` inline when both operands are ints, else the helper (ML rules).

        (a op b) if type(a := L) is type(b := R) is int else helper(a, b) — costs a couple of
        fast type checks instead of a Python call on the hot numeric path. An operand that is
        a constant or a name is read again instead of kept in a temporary (a left-hand name
        only when the right operand cannot rebind it first); an integer constant needs no
        check, nor, for `*`, a bound when it is small; the other factor of a small constant
        needs no bound either (see `small_factor`)."""
        operands, checks, bounds = [], [], []
        bounded = pyop is ast.Mult and not (small_factor(e.left) or small_factor(e.right))
        division = pyop is ast.Mod or pyop is ast.FloorDiv
        bound_left = division and not self._cheap_division(e)     # the dividend only
        for value, stable in _rereadable(left, right, e):
            if type(value) is ast.Constant:
                if type(value.value) is not int:
                    return self.helper(helper, [left, right], e)   # never both ints
                if pyop is ast.Mult and not -self._MUL_BOUND < value.value < self._MUL_BOUND:
                    return self.helper(helper, [left, right], e)
                operands.append(value)
                continue
            if stable:
                first = value
            else:
                temp = self._temp("a")
                first = asty.NamedExpr(e, asty.Name(e, temp, _STORE), value)
                value = asty.Name(e, temp, _LOAD)
            checks.append(asty.Call(e, asty.Name(e, H.TYPE, _LOAD), [first], []))
            if bounded or (bound_left and not operands):
                bounds.append(asty.Compare(e, asty.Constant(e, -self._MUL_BOUND), _BETWEEN,
                                             [copy_operand(value, e),
                                              asty.Constant(e, self._MUL_BOUND)]))
            operands.append(value)
        a, b = operands
        fast = asty.BinOp(e, a, _OPERATORS[pyop], b)
        if not checks:
            return fast
        test = asty.Compare(e, checks[0], _IS_CHAIN[len(checks)],
                              checks[1:] + [asty.Name(e, H.INT, _LOAD)])
        if bounds:
            test = asty.BoolOp(e, _AND, [test] + bounds)
        slow = asty.Call(e, asty.Name(e, helper, _LOAD), [copy_operand(a, e),
                                                         copy_operand(b, e)], [])
        return asty.IfExp(e, test, fast, slow)

    def _by_type(self, obj, type_name: str, fast, slow, node):
        """`fast(o) if type(o) is <type_name> else slow(o)`, `o` being the value of `obj`
        computed once: a name is simply read again, anything else kept in a temporary."""
        if type(obj) is ast.Name:
            first, use = obj, lambda: copy_operand(obj, node)
        else:
            t = self._temp("t")
            first = asty.NamedExpr(node, asty.Name(node, t, _STORE), obj)
            use = lambda: asty.Name(node, t, _LOAD)  # noqa: E731
        return asty.IfExp(node, self._is_type(first, type_name, node), fast(use()), slow(use()))
