"""ML syntax tree -> Python `ast` -> code object.

Every generated Python node carries the ML line and column of the construct it came from,
so a traceback of the compiled code points at ML lines, and `ast.unparse` shows readable
Python for `mlpy transpile` and `%python`. Runtime helpers are referenced by names starting
with `__ml_`, which ML cannot spell (identifiers starting with `__` are refused).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, TypeVar

from . import nodes as N
from .asty import asty, stamp
from .errors import MLSecurityError, MLSyntaxError
from .language import py_name
from .lowering import LOAD as _LOAD
from .lowering import STORE as _STORE
from .lowering import _AND, _IS_CHAIN, _IS_NOT, _OR, ArithmeticLowering, copy_operand
from .runtime import helper_names as H
from .runtime import ops
from .runtime.builtins import BUILTINS
from .scoping import (BodyFacts, Scope, all_bound, cannot_rebind, counter_locals, first_use,
                      is_int, list_typed, str_typed, typed_locals)
from .spans import FunctionSources
from .security import (DENIED_NAMES, identifier_problem, import_problem, member_problem,
                       refused_name)

# Method names with a single direct owner type (see ops.ARRAY_DIRECT and ops.STRING_DIRECT).
_DIRECT_METHOD_OWNER = {
    **{name: H.LIST for name in ops.ARRAY_DIRECT - ops.STRING_DIRECT},
    **{name: H.STR for name in ops.STRING_DIRECT - ops.ARRAY_DIRECT},
}


# ML name -> Python name, for names that need no check when read (not `__`-reserved, not
# deny-listed); bounded, so a long-running host cannot grow it without end.
_PLAIN_NAMES: dict = {}


_Method = TypeVar("_Method", bound=Callable[..., Any])
# syntax node class -> the Compiler method that translates it (filled by the decorators below)
_STMT: dict[type, Callable[..., list]] = {}
_EXPR: dict[type, Callable[..., Any]] = {}


_SCALAR_LITERALS = frozenset({N.Number, N.String, N.Literal})
_CHAIN_CHUNK = 64      # steps of an operator chain per level of the Python tree
# A chain longer than this lowers each `+ * % //` step to its helper call alone, without the
# inline fast path: that path is ~10x the tree, and compiling a 10,000-operand `*` chain with
# it took ~230 MB, past a process worker's memory cap (spec §7.2: such a chain runs)
_LONG_CHAIN = 256
_PY_BLOCK_BUDGET = 15  # Python blocks per function before a block is outlined (Python: 20)
_ML_BLOCK_LIMIT = 100  # nested ML loops/try (spec §7.2: at least 18)
TOO_DEEP = "program too deeply nested"      # spec §7.2


class _BlockExits(ast.NodeTransformer):
    """Inside an outlined block: `return v` -> `return (v,)`, a `break`/`continue` of a loop
    outside the block -> `return 1`/`return 2` (nested functions and loops are left alone)."""

    def __init__(self) -> None:
        self.breaks = self.continues = self.returns = False
        self.loops = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node

    def _loop(self, node: ast.AST) -> ast.AST:
        self.loops += 1
        try:
            return self.generic_visit(node)
        finally:
            self.loops -= 1

    visit_For = visit_While = _loop

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.returns = True
        value = node.value if node.value is not None else ast.Constant(None)
        packed = ast.Tuple(elts=[value], ctx=ast.Load())
        return ast.copy_location(ast.Return(ast.copy_location(packed, node)), node)

    def _jump(self, node: ast.AST, code: int) -> ast.AST:
        if self.loops:
            return node
        if code == 1:
            self.breaks = True
        else:
            self.continues = True
        return ast.copy_location(ast.Return(ast.copy_location(ast.Constant(code), node)), node)

    def visit_Break(self, node: ast.Break) -> ast.AST:
        return self._jump(node, 1)

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        return self._jump(node, 2)


def _compiled_twice_grows(stmts: list) -> bool:
    """Whether a `finally` body holds code Python would also compile twice (a function, or
    a `finally` of its own): inlined, such bodies would grow the code as 2**depth."""
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) or (
                    isinstance(node, ast.Try) and node.finalbody):
                return True
    return False


def _bound_names(stmts: list) -> set:
    """Names the statements bind in their own Python scope (outlined blocks inside count:
    they declare the same names nonlocal; other nested functions do not)."""
    names: set = set()
    todo = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if node.name.startswith(H.BLOCK):
                todo.extend(st for st in node.body
                            if not isinstance(st, (ast.Global, ast.Nonlocal)))
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        todo.extend(ast.iter_child_nodes(node))
    return names


# Python 3.12+ gives FunctionDef a `type_params` list, which must not be left None
_TYPE_PARAMS: dict = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


def _function_def(node, name: str, args: list, body: list) -> ast.FunctionDef:
    """`def name(args): body` at `node`'s position. (Positional `ast.arguments(...)`: with
    keywords the constructor costs ~4x as much.)"""
    arguments = ast.arguments([], args, None, [], [], None, [])
    return asty.FunctionDef(node, name, arguments, body, [], **_TYPE_PARAMS)


def _registers(table: dict[type, Callable[..., Any]], *classes: type) -> Callable[[_Method], _Method]:
    def register(method: _Method) -> _Method:
        for cls in classes:
            table[cls] = method
        return method
    return register


def statement(*classes: type) -> Callable[[_Method], _Method]:
    """Register the decorated method as the translation of statement nodes `classes`."""
    return _registers(_STMT, *classes)


def expression(*classes: type) -> Callable[[_Method], _Method]:
    """Register the decorated method as the translation of expression nodes `classes`."""
    return _registers(_EXPR, *classes)


def _not_allowed(compiler: "Compiler", node: N.Node) -> Any:
    """Default deny: a syntax node with no translation is refused, never guessed at."""
    raise MLSyntaxError(f"{type(node).__name__} is not allowed here", line=node.line,
                        column=node.column)


class Compiler(ArithmeticLowering):
    """Translates one Program. `strict` turns run-time security refusals into compile errors;
    `problems` (when a list) collects security problems instead of raising the first."""

    def __init__(self, source: str, *, interactive: bool = False, strict: bool = False,
                 filename: str = "<ml>", problems: list | None = None,
                 tokens: list | None = None):
        self.source = source
        self.interactive = interactive
        self.strict = strict
        self.filename = filename
        self.problems = problems
        self.scope: Scope | None = None
        self.loop_depth = 0
        self.prelude: list[ast.stmt] = []   # statements to put before the one being compiled
        self.arrow_count = 0
        self.temp_count = 0
        self.imports: list[N.Import] = []
        self.has_display = False
        self.says_nonlocal = "nonlocal" in source
        self.statement_line: int | None = None   # the top-level statement being compiled
        self.function_sources = FunctionSources(source, tokens)
        # Python's statically nested blocks (loops, try) in the Python function being built,
        # and the ML loops/try around the statement being compiled (spec §7.2)
        self.py_blocks = 0
        self.ml_blocks = 0
        self.block_count = 0
        self.outlined_names: set = set()     # names outlined blocks of this function bind

    # ------------------------------------------------------------ entry point
    def compile_module(self, program: N.Program) -> ast.Module:
        self.program = program
        body: list = []
        stmts = program.body
        shown = stmts[-1] if self.interactive and stmts and type(stmts[-1]) is N.ExprStmt else None
        prelude = self.prelude      # (as in `block`; nothing is in it between statements)
        for stmt in stmts:
            self.statement_line = stmt.line
            if stmt is shown:
                self.has_display = True
                out = [asty.Assign(shown, targets=[ast.Name(H.DISPLAY, _STORE)],
                                   value=self.expr(shown.expr))]
            else:
                out = _STMT.get(type(stmt), _not_allowed)(self, stmt)
            if prelude:
                body.extend(prelude)
                prelude.clear()
            body.extend(out)
        return ast.Module(body=body, type_ignores=[])

    @property
    def top_sequences(self) -> frozenset:
        """Names the program's top level assigns a string or array (computed only when a
        top-level `+` asks)."""
        names = self.__dict__.get("_top_sequences")
        if names is None:
            names = self.__dict__["_top_sequences"] = BodyFacts(self.program.body).sequences
        return names

    @property
    def program_bound(self) -> set:
        """Every name the program binds (computed only when a deny-listed name is read)."""
        names = self.__dict__.get("_program_bound")
        if names is None:
            names = self.__dict__["_program_bound"] = all_bound(self.program)
        return names

    # ------------------------------------------------------------ helpers
    def error(self, cls, message: str, node) -> None:
        err = cls(message, line=node.line, column=node.column)
        if self.problems is not None and cls is MLSecurityError:
            self.problems.append(err)
            return
        raise err

    def helper(self, name: str, args: list, node) -> ast.Call:
        """A call of runtime helper `name`; constant arguments take the call's position."""
        for arg in args:
            if type(arg) is ast.Constant and not hasattr(arg, "lineno"):
                stamp(arg, node)
            elif type(arg) is ast.Tuple:
                stamp(arg, node)
                for item in arg.elts:
                    stamp(item, node)
        return asty.Call(node, func=asty.Name(node, name, _LOAD),
                                 args=args, keywords=[])

    def _with_prelude(self, build, *args) -> list:
        """The statements `build(*args)` returns, after the ones compiling them put in the
        prelude (functions made for arrows). The prelude is one list for the whole compile:
        each statement takes back what was added while it compiled (nested statements have
        taken theirs already), which costs nothing when nothing was. No `finally`: a failed
        compile discards the Compiler."""
        prelude = self.prelude
        mark = len(prelude)
        stmts = build(*args)
        if len(prelude) == mark:
            return stmts
        made = prelude[mark:]
        del prelude[mark:]
        return made + stmts

    def block(self, body: list, owner) -> list:
        """The statements of an ML block; an empty block is a `pass` at its owner's position."""
        out: list = []
        prelude = self.prelude
        for stmt in body:
            # (`_with_prelude`, inlined: this runs for every statement)
            mark = len(prelude)
            stmts = _STMT.get(type(stmt), _not_allowed)(self, stmt)
            if len(prelude) != mark:
                out.extend(prelude[mark:])
                del prelude[mark:]
            out.extend(stmts)
        return out or [asty.Pass(owner)]

    def nested_block(self, body: list, owner, weight: int, final: bool = False) -> list:
        """The block of a loop or `try`, which Python nests `weight` blocks deeper. Python
        refuses more than 20 statically nested blocks per function; spec §7.2 wants 18 nested
        loops/`try` (each `try` with except and finally is 2-3 Python blocks): past
        _PY_BLOCK_BUDGET the block is outlined into a function of its own. Python also
        compiles a `finally` body twice (normal and exceptional exit), so nested ones grow
        as 2**depth: a `finally` body holding a function or another `finally` is outlined
        too (the caller puts the function before the `try`, so only its call is repeated)."""
        self.ml_blocks += 1
        if self.ml_blocks > _ML_BLOCK_LIMIT:
            raise MLSyntaxError(TOO_DEEP, line=owner.line, column=owner.column)
        saved = self.py_blocks
        outline = saved + weight > _PY_BLOCK_BUDGET
        self.py_blocks = 0 if outline else saved + weight
        try:
            stmts = self.block(body, owner)
        finally:
            self.py_blocks = saved
            self.ml_blocks -= 1
        if outline or (final and _compiled_twice_grows(stmts)):
            return self._outline(stmts, owner)
        return stmts

    def _outline(self, stmts: list, owner) -> list:
        """`stmts` as the body of a new nested function, and its call: `return v`, `break`
        and `continue` leaving the block come back as the call's result ((v,), 1, 2) and are
        done at the call; names the block binds are declared global (top level) or nonlocal."""
        self.block_count += 1
        name = f"{H.BLOCK}{self.block_count}"
        exits = _BlockExits()
        stmts = [exits.visit(st) for st in stmts]
        bound = {n for n in _bound_names(stmts) if not n.startswith(H.BLOCK)}  # (its own)
        decls: list = []
        if bound:
            if self.scope is None:
                decls.append(stamp(ast.Global(names=sorted(bound)), owner))
            else:
                ml_globals = {py_name(n) for n, k in self.scope.nonlocals.items()
                              if k == "global"}
                if bound & ml_globals:
                    decls.append(stamp(ast.Global(names=sorted(bound & ml_globals)), owner))
                if bound - ml_globals:
                    decls.append(stamp(ast.Nonlocal(names=sorted(bound - ml_globals)), owner))
                self.outlined_names |= bound - ml_globals
        fdef = _function_def(owner, name, [], decls + stmts)
        call = asty.Call(owner, func=asty.Name(owner, name, _LOAD), args=[], keywords=[])
        if not (exits.breaks or exits.continues or exits.returns):
            return [fdef, asty.Expr(owner, call)]
        result = f"{H.BLOCK}r{self.block_count}"
        then: list = []
        for flag, code, jump in ((exits.breaks, 1, ast.Break), (exits.continues, 2, ast.Continue)):
            if flag:
                test = asty.Compare(owner, asty.Name(owner, result, _LOAD), [ast.Eq()],
                                    [asty.Constant(owner, code)])
                then.append(asty.If(owner, test, [stamp(jump(), owner)], []))
        if exits.returns:
            then.append(asty.Return(owner, asty.Subscript(
                owner, asty.Name(owner, result, _LOAD), asty.Constant(owner, 0), _LOAD)))
        return [fdef,
                asty.Assign(owner, targets=[asty.Name(owner, result, _STORE)], value=call),
                asty.If(owner, asty.Compare(owner, asty.Name(owner, result, _LOAD), _IS_NOT,
                                            [asty.Constant(owner, None)]), then, [])]

    # ------------------------------------------------------------ names
    def check_name(self, name: str, node) -> bool:
        """Refuse reserved identifiers (spec §11.1). True if the name may be used."""
        problem = identifier_problem(name)
        if problem:
            if self.strict or self.problems is not None:
                self.error(MLSecurityError, problem, node)
            return False
        return True

    def _bound_in_functions(self, name: str) -> bool:
        scope = self.scope
        while scope is not None:
            if name in scope.params or name in scope.bound:
                return True
            scope = scope.parent
        return False

    def load_name(self, name: str, node):
        py = _PLAIN_NAMES.get(name)
        if py is not None:
            return asty.Name(node, py, _LOAD)
        if not self.check_name(name, node):
            return self.helper(H.REFUSE_NAME, [ast.Constant(name)], node)
        if name in DENIED_NAMES and not self._bound_in_functions(name):
            if name not in self.program_bound and (self.strict or self.problems is not None):
                self.error(MLSecurityError, refused_name(name), node)
            return self.helper(H.GUARDED_GLOBAL, [ast.Constant(name)], node)
        if name not in DENIED_NAMES and len(_PLAIN_NAMES) < 10_000:
            _PLAIN_NAMES[name] = py_name(name)
        return asty.Name(node, py_name(name), _LOAD)

    def store_name(self, name: str, node):
        py = _PLAIN_NAMES.get(name)
        if py is None:
            if not self.check_name(name, node):
                return None
            py = py_name(name)
        return asty.Name(node, py, _STORE)

    def _refuse_stmt(self, name: str, node) -> list:
        return [asty.Expr(node, self.helper(H.REFUSE_NAME, [ast.Constant(name)], node))]

    # ------------------------------------------------------------ statements
    def stmt(self, s) -> list:
        return _STMT.get(type(s), _not_allowed)(self, s)

    @statement(N.ExprStmt)
    def stmt_ExprStmt(self, s):
        return [asty.Expr(s, self.expr(s.expr))]

    @statement(N.Assign)
    def stmt_Assign(self, s):
        target = s.target
        if type(target) is N.Name:
            py = _PLAIN_NAMES.get(target.name)     # (store_name's first case, without the call)
            store = (asty.Name(target, py, _STORE) if py is not None
                     else self.store_name(target.name, target))
            if store is None:
                return self._refuse_stmt(target.name, target)
            value = s.value
            if type(value) is N.Binary and value.op == "+":
                py = store.id
                emit = lambda v: asty.Assign(s,  # noqa: E731
                    targets=[asty.Name(target, py, _STORE)], value=v)
                add = self._add_statement(value, emit)
                if add:
                    return add
            return [asty.Assign(s, targets=[store], value=self.expr(value))]
        value = self.expr(s.value)
        if type(target) is N.Index:
            sub = asty.Subscript(target, self.expr(target.obj), self.expr(target.index),
                                         _STORE)
            return [asty.Assign(s, targets=[sub], value=value)]
        # o.name = v: value first, then the object (spec §3); a plain object is set inline
        self.check_member(target.name, target)
        obj = self.expr(target.obj)
        if target.name.startswith("_"):
            call = self.helper(H.SETM, [value, obj, ast.Constant(target.name)], target)
            return [asty.Expr(s, call)]
        out = []
        # the value is computed first, once: a constant, or a name nothing in the object
        # expression can rebind, is simply read again
        if not (type(value) is ast.Constant or (type(value) is ast.Name
                                                and cannot_rebind(target.obj))):
            v = self._temp("v")
            out.append(asty.Assign(target, targets=[asty.Name(target, v, _STORE)], value=value))
            value = asty.Name(target, v, _LOAD)
        if type(obj) is not ast.Name:
            o = self._temp("o")
            out.append(asty.Assign(target, targets=[asty.Name(target, o, _STORE)], value=obj))
            obj = asty.Name(target, o, _LOAD)
        store = asty.Assign(target, targets=[asty.Subscript(target, copy_operand(obj, target),
                                                          asty.Constant(target, target.name),
                                                          _STORE)],
                              value=copy_operand(value, target))
        slow = asty.Expr(target, self.helper(H.SETM, [copy_operand(value, target),
                                                     copy_operand(obj, target),
                                                     asty.Constant(target, target.name)], target))
        out.append(asty.If(target, self._is_type(obj, H.DICT, target), [store], [slow]))
        return out



    def _temp(self, kind: str) -> str:
        self.temp_count += 1
        return f"{H.PREFIX}{kind}{self.temp_count}"


    @statement(N.Destructure)
    def stmt_Destructure(self, s):
        targets = []
        for name in s.names:
            py = self.store_name(name, s)
            if py is None:
                return self._refuse_stmt(name, s)
            targets.append(py)
        if s.kind == "array":
            value = self.helper(H.UNPACK, [self.expr(s.value)], s)
        else:
            value = self.helper(H.PICK, [self.expr(s.value),
                                              ast.Tuple([ast.Constant(n) for n in s.names],
                                                        _LOAD)], s)
        tup = asty.Tuple(s, targets, _STORE)
        return [asty.Assign(s, targets=[tup], value=value)]

    def _function(self, name: str, params: list, body_builder, node) -> ast.FunctionDef:
        seen = set()
        args = []
        for p in params:
            if p.name in seen:
                raise MLSyntaxError(f"duplicate parameter '{p.name}' in function definition",
                                    line=p.line, column=p.column)
            seen.add(p.name)
            if not self.check_name(p.name, p):
                raise MLSecurityError(refused_name(p.name), line=p.line, column=p.column)
            args.append(asty.arg(p, py_name(p.name)))
        outer_scope, outer_loops = self.scope, self.loop_depth
        body_nodes = body_builder(None)
        facts = BodyFacts(body_nodes) if isinstance(body_nodes, list) else None
        scope = Scope(params=seen, bound=facts.bound if facts else set(), parent=outer_scope)
        decls: list[ast.stmt] = []
        if facts:
            for stmt in facts.nonlocals:
                for nl_name in stmt.names:
                    used = first_use(body_nodes, nl_name)
                    if used is not None and used < (stmt.line, stmt.column):
                        raise MLSyntaxError(
                            f"name '{nl_name}' is used prior to nonlocal declaration",
                            line=stmt.line, column=stmt.column)
                    if nl_name in seen:
                        raise MLSyntaxError(f"name '{nl_name}' is parameter and nonlocal",
                                            line=stmt.line, column=stmt.column)
                    kind = self._resolve_nonlocal(nl_name, outer_scope)
                    scope.nonlocals[nl_name] = kind
        for nl_name, kind in scope.nonlocals.items():
            cls = ast.Nonlocal if kind == "nonlocal" else ast.Global
            decls.append(stamp(cls(names=[py_name(nl_name)]), node))
        if facts:
            # (a program whose text never says `nonlocal` has no nested rebinding to look for)
            scope.ints, scope.strs, scope.lists = typed_locals(
                body_nodes, facts, scope, self.says_nonlocal, is_int, str_typed, list_typed)
            scope.counters = counter_locals(facts, scope.ints)
            scope.sequences = facts.sequences
        outer_blocks, outer_outlined = self.py_blocks, self.outlined_names
        self.scope, self.loop_depth, self.py_blocks, self.outlined_names = scope, 0, 0, set()
        try:
            body = body_builder(scope)
            # names only an outlined block binds: local here (an annotation binds nothing),
            # so the block's `nonlocal` finds them
            if self.outlined_names:
                decls.extend(stamp(ast.AnnAssign(
                    target=stamp(ast.Name(py, _STORE), node),
                    annotation=stamp(ast.Constant(0), node), value=None, simple=1), node)
                    for py in sorted(self.outlined_names - {py_name(p) for p in seen}
                                     - {py_name(n) for n in scope.nonlocals}))
        finally:
            self.scope, self.loop_depth = outer_scope, outer_loops
            self.py_blocks, self.outlined_names = outer_blocks, outer_outlined
        # its own ML text as its docstring: what a session checkpoint re-creates it from
        text = self.function_sources.text(node.line, node.column,
                                          getattr(body_nodes, "end", None))
        doc = [asty.Expr(node, asty.Constant(node, text))] if text is not None else []
        return _function_def(node, name, args, doc + decls + body)

    def _resolve_nonlocal(self, name: str, enclosing: Scope | None) -> str:
        scope = enclosing
        while scope is not None:
            if name in scope.nonlocals:
                return scope.nonlocals[name]
            if name in scope.params or name in scope.bound:
                return "nonlocal"
            scope = scope.parent
        return "global"

    @statement(N.FunctionDef)
    def stmt_FunctionDef(self, s):
        if not self.check_name(s.name, s):      # (store_name's test; no Name node needed)
            return self._refuse_stmt(s.name, s)

        def build(scope):
            return s.body if scope is None else self.block(s.body, s)

        return [self._function(py_name(s.name), s.params, build, s)]

    @statement(N.Nonlocal)
    def stmt_Nonlocal(self, s):
        if self.scope is None:
            raise MLSyntaxError("nonlocal declaration not allowed at top level",
                                line=s.line, column=s.column)
        return []          # emitted as a declaration at the top of the function

    @statement(N.If)
    def stmt_If(self, s):
        orelse = self.block(s.otherwise, s) if s.otherwise else []
        for test, body in reversed(s.branches[1:]):
            node = asty.If(test, self.expr(test), self.block(body, test), orelse)
            orelse = [node]
        test, body = s.branches[0]
        return [asty.If(s, self.expr(test), self.block(body, s), orelse)]

    @statement(N.While)
    def stmt_While(self, s):
        test = self.expr(s.test)
        self.loop_depth += 1
        try:
            body = self.nested_block(s.body, s, 1)
        finally:
            self.loop_depth -= 1
        return [asty.While(s, test, body, [])]

    @statement(N.For)
    def stmt_For(self, s):
        target = self.store_name(s.var, s)
        if target is None:
            return self._refuse_stmt(s.var, s)
        it = s.iterable
        if (type(it) is N.Call and type(it.func) is N.Name and it.func.name == "range"
                and 1 <= len(it.args) <= 3 and not self._bound_in_functions("range")):
            # `for (i in range(...))`: the array is never seen, so while `range` is still
            # ML's builtin the loop runs over Python's range (same checks, same size cap)
            iterable = self.helper(H.RANGE_ITER, [self.expr(it.func)]
                                   + [self.expr(a) for a in it.args], it)
        else:
            iterable = self.helper(H.ITER, [self.expr(it)], it)
        self.loop_depth += 1
        try:
            body = self.nested_block(s.body, s, 1)
        finally:
            self.loop_depth -= 1
        return [asty.For(s, target, iterable, body, [])]

    @statement(N.Try)
    def stmt_Try(self, s):
        # Python's blocks: the body is in one (two with both except and finally), a handler
        # in two more than the try (three with finally), a finally body in one
        both = s.handler is not None and s.finally_body is not None
        body = self.nested_block(s.body, s, 1 + both)
        handlers = []
        if s.handler is not None:
            hbody = []
            catch = self.helper(H.CATCH, [asty.Name(s, H.EXC, _LOAD)], s)
            if s.handler_name:
                target = self.store_name(s.handler_name, s)
                if target is None:
                    return self._refuse_stmt(s.handler_name, s)
                hbody.append(asty.Assign(s, targets=[target], value=catch))
            else:
                hbody.append(asty.Expr(s, catch))
            hbody.extend(self.nested_block(s.handler, s, 2 + both) if s.handler else [])
            if s.handler_name:
                # unbound after the clause; bound first, as Python does, so a nested clause
                # with the same name that already unbound it is no error
                hbody.append(asty.Assign(s, targets=[asty.Name(s, py_name(s.handler_name),
                                                               _STORE)],
                                         value=asty.Constant(s, None)))
                hbody.append(asty.Delete(s, [asty.Name(s, py_name(s.handler_name),
                                                                    ast.Del())]))
                if self.scope is None and s.handler_name in BUILTINS:
                    # unbound after the clause: at top level a builtin's name finds the
                    # builtin again (spec §7)
                    hbody.append(asty.Assign(s, targets=[asty.Name(s, s.handler_name, _STORE)],
                                             value=self.helper(H.BUILTIN_OF, [
                                                 asty.Constant(s, s.handler_name)], s)))
            handlers.append(asty.ExceptHandler(s, type=asty.Name(s, H.EXCEPTION, _LOAD), name=H.EXC,
                body=hbody))
        final = (self.nested_block(s.finally_body, s, 1, final=True)
                 if s.finally_body is not None else [])
        hoisted = []
        if final and type(final[0]) is ast.FunctionDef:     # an outlined finally body
            hoisted, final = final[:1], final[1:]
        if not handlers and not final:
            final = [asty.Pass(s)]
        return hoisted + [asty.Try(s, body=body, handlers=handlers, orelse=[], finalbody=final)]

    @statement(N.Throw)
    def stmt_Throw(self, s):
        return [asty.Raise(s, exc=self.helper(H.THROW, [self.expr(s.value)], s),
                                   cause=None)]

    @statement(N.Return)
    def stmt_Return(self, s):
        if self.scope is not None and type(s.value) is N.Binary and s.value.op == "+":
            add = self._add_statement(s.value, lambda v: asty.Return(s, v))
            if add:
                return add
        value = self.expr(s.value) if s.value is not None else asty.Constant(s, None)
        if self.scope is None:
            # top level: `return;` ends the program or cell quietly
            out = []
            if s.value is not None:
                out.append(asty.Expr(s, value))
            out.append(asty.Raise(s, exc=self.helper(H.RETURN_TOP, [], s), cause=None))
            return out
        return [asty.Return(s, value)]

    @statement(N.Break, N.Continue)
    def stmt_loop_jump(self, s):
        brk = type(s) is N.Break
        if not self.loop_depth:
            raise MLSyntaxError(f"'{'break' if brk else 'continue'}' outside loop", line=s.line,
                                column=s.column)
        return [asty.Break(s) if brk else asty.Continue(s)]

    @statement(N.Import)
    def stmt_Import(self, s):
        reserved = False
        for part in s.path + ([s.alias] if s.alias else []):
            problem = identifier_problem(part)
            if problem:                         # refused in every mode
                reserved = True
                self.error(MLSecurityError, problem, s)
        if not reserved and (self.strict or self.problems is not None):
            problem = import_problem(s.path)   # else the runtime importer refuses it
            if problem:
                self.error(MLSecurityError, problem, s)
        self.imports.append(s)
        bind = s.alias or s.path[0]
        target = self.store_name(bind, s)
        if target is None:
            return self._refuse_stmt(bind, s)
        call = self.helper(H.IMPORT, [ast.Constant(tuple(s.path)),
                                           ast.Constant(s.alias is None)], s)
        return [asty.Assign(s, targets=[target], value=call)]

    @statement(N.Capability)
    def stmt_Capability(self, s):
        return []          # capability blocks parse and grant nothing (spec §3, D15)

    # ------------------------------------------------------------ expressions
    def expr(self, e):
        t = type(e)
        # names and numbers are half of all expressions: made here, without a second call
        if t is N.Name:
            py = _PLAIN_NAMES.get(e.name)
            if py is not None:
                return asty.Name(e, py, _LOAD)
            return self.load_name(e.name, e)
        if t is N.Number:
            return asty.Constant(e, e.value)
        return _EXPR.get(t, _not_allowed)(self, e)

    @expression(N.Number, N.String, N.Literal)
    def expr_Number(self, e):
        return asty.Constant(e, e.value)


    @expression(N.Name)
    def expr_Name(self, e):                 # (`expr` makes plain names itself)
        return self.load_name(e.name, e)

    @expression(N.Array)
    def expr_Array(self, e):
        return asty.List(e, [self.expr(i) for i in e.items], _LOAD)

    @expression(N.Object)
    def expr_Object(self, e):
        return asty.Dict(e, [asty.Constant(e, k) for k, _ in e.properties],
                                 [self.expr(v) for _, v in e.properties])

    @expression(N.Arrow)
    def expr_Arrow(self, e):
        self.arrow_count += 1
        name = f"{H.ARROW_PREFIX}{self.arrow_count}"

        def build(scope):
            if e.block:
                if scope is None:
                    return e.body
                return self.block(e.body, e)
            if scope is None:
                return []
            emit = lambda v: asty.Return(e, v)  # noqa: E731
            return self._with_prelude(
                lambda: self._add_statement(e.body, emit) or [emit(self.expr(e.body))])

        fdef = self._function(name, e.params, build, e)
        self.prelude.append(fdef)
        return asty.Name(e, name, _LOAD)

    @expression(N.Unary)
    def expr_Unary(self, e):
        operand = self.expr(e.operand)
        op = self._UNARY[e.op]
        return asty.UnaryOp(e, op, operand)

    _UNARY = {"!": ast.Not(), "-": ast.USub()}
    _BINOPS = {"-": ast.Sub(), "/": ast.Div()}
    _CMPOPS = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), ">": ast.Gt(), "<=": ast.LtE(),
               ">=": ast.GtE()}

    @expression(N.Binary)
    def expr_Binary(self, e):
        # A chain `a + b + c + ...` is a left-deep tree; walk its spine with a loop, so a
        # chain of any length costs no recursion here (spec §7.2: 10,000 operands).
        if type(e.left) is not N.Binary:            # one operator (most): no spine to walk
            return self._binary(e, self.expr(e.left))
        spine = []
        node = e
        while type(node) is N.Binary:
            spine.append(node)
            node = node.left
        acc = self.expr(node)
        parts: list = []
        compact = len(spine) > _LONG_CHAIN
        for count, b in enumerate(reversed(spine), 1):
            if compact and b.op in self._HELPED:
                right = self.expr(b.right)
                acc = self.helper(self._HELPED[b.op][0], [acc, right], b)
            else:
                acc = self._binary(b, acc)
            if count % _CHAIN_CHUNK == 0 and count < len(spine):
                # a long chain becomes `(t := <64 steps>, t := <t + 64 steps>, ...)[-1]`:
                # the same evaluation order, with a Python tree of bounded depth
                temp = self._temp("c")
                parts.append(asty.NamedExpr(b, asty.Name(b, temp, _STORE), acc))
                acc = asty.Name(b, temp, _LOAD)
        if parts:
            parts.append(acc)
            acc = asty.Subscript(e, asty.Tuple(e, parts, _LOAD), asty.Constant(e, -1), _LOAD)
        return acc

    def _binary(self, e, left):
        right = self.expr(e.right)
        op = e.op
        if op in ("==", "!=") and not (type(e.left) in _SCALAR_LITERALS
                                       or type(e.right) in _SCALAR_LITERALS):
            # two containers that hold themselves would overflow Python's `==`
            return self.helper(H.EQ if op == "==" else H.NE, [left, right], e)
        if op in self._CMPOPS:
            return asty.Compare(e, left, [self._CMPOPS[op]], [right])
        if op in self._BINOPS:
            return asty.BinOp(e, left, self._BINOPS[op], right)
        return self._arithmetic(left, right, op, e)

    @expression(N.Logical)
    def expr_Logical(self, e):
        # `a && b && c ...` is one flat Python BoolOp, built with a loop (spec §7.2)
        op = _AND if e.op == "&&" else _OR
        rights = []
        node = e
        while type(node) is N.Logical and node.op == e.op:
            rights.append(node.right)
            node = node.left
        values = [self.expr(node)]
        for right in reversed(rights):
            values.append(self.expr(right))
        return asty.BoolOp(e, op, values)

    @expression(N.Conditional)
    def expr_Conditional(self, e):
        return asty.IfExp(e, self.expr(e.test), self.expr(e.then),
                                  self.expr(e.otherwise))

    @expression(N.Call)
    def expr_Call(self, e):
        func = e.func
        if type(func) is N.Member:
            self.check_member(func.name, func)
            callee = self._method(func)
        else:
            callee = self.expr(func)
            if (type(func) is N.Name and func.name == "len" and len(e.args) == 1
                    and type(e.args[0]) is N.Name and self.scope is not None
                    and e.args[0].name in self.scope.strs | self.scope.lists
                    and not self._bound_in_functions("len")):
                return self._sized_len(callee, e)
        return asty.Call(e, callee, [self.expr(a) for a in e.args], [])

    def _sized_len(self, callee, e):
        """`len(x)`, `x` a local that only holds strings or arrays: Python's `len` (a C call)
        while the global `len` is still ML's builtin (the program or an earlier run in the
        same namespace may rebind it), else the call as written."""
        arg = self.expr(e.args[0])
        test = asty.Compare(e, callee, _IS_CHAIN[1], [asty.Name(e, H.ML_LEN, _LOAD)])
        fast = asty.Call(e, asty.Name(e, H.PY_LEN, _LOAD), [arg], [])
        slow = asty.Call(e, self.expr(e.func), [copy_operand(arg, e)], [])
        return asty.IfExp(e, test, fast, slow)

    def _method(self, m):
        """The callee of `obj.name(...)`. A name only arrays (or only strings) have as a method
        whose Python behaviour is ML's is looked up inline when `obj` is exactly that type;
        everything else goes through `ops.meth` and its allow-lists."""
        obj = self.expr(m.obj)
        if (type(m.obj) is N.Name and m.name in ops.ARRAY_DIRECT and self.scope is not None
                and m.obj.name in self.scope.lists):
            return asty.Attribute(m, obj, m.name, _LOAD)      # a local only ever an array
        owner = _DIRECT_METHOD_OWNER.get(m.name)
        if owner is None:
            return self.helper(H.METH, [obj, ast.Constant(m.name)], m)
        return self._by_type(
            obj, owner, lambda o: asty.Attribute(m, o, m.name, _LOAD),
            lambda o: self.helper(H.METH, [o, ast.Constant(m.name)], m), m)


    @expression(N.Index)
    def expr_Index(self, e):
        return asty.Subscript(e, self.expr(e.obj), self.expr(e.index), _LOAD)

    @expression(N.Slice)
    def expr_Slice(self, e):
        parts = [self.expr(p) if p is not None else None for p in (e.start, e.stop, e.step)]
        return asty.Subscript(e, self.expr(e.obj), asty.Slice(e, *parts),
                                      _LOAD)

    def check_member(self, name: str, node) -> None:
        if self.strict or self.problems is not None:
            problem = member_problem(name)
            if problem:
                self.error(MLSecurityError, problem, node)

    @expression(N.Member)
    def expr_Member(self, e):
        """`o.name`: a plain object is read inline (`dict.get` gives null when absent, as ML
        does); everything else — and `length`, and `_` names — goes through the guard."""
        self.check_member(e.name, e)
        obj = self.expr(e.obj)
        if e.name == "length" or e.name.startswith("_"):
            return self.helper(H.GETM, [obj, ast.Constant(e.name)], e)
        return self._by_type(
            obj, H.DICT,
            lambda o: asty.Call(e, asty.Attribute(e, o, "get", _LOAD), [asty.Constant(e, e.name)],
                                  []),
            lambda o: self.helper(H.GETM, [o, asty.Constant(e, e.name)], e), e)

