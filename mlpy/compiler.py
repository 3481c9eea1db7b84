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
from .lowering import ArithmeticLowering, copy_operand
from .runtime import helper_names as H
from .runtime import ops
from .runtime.builtins import BUILTINS
from .scoping import (BodyFacts, Scope, all_bound, cannot_rebind, counter_locals, first_use,
                      integer_locals)
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


_CHAIN_CHUNK = 64      # steps of an operator chain per level of the Python tree


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
                 filename: str = "<ml>", problems: list | None = None):
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
        self.top_sequences: frozenset = frozenset()
        self.says_nonlocal = "nonlocal" in source
        self.statement_line: int | None = None   # the top-level statement being compiled
        self.function_sources = FunctionSources(source)

    # ------------------------------------------------------------ entry point
    def compile_module(self, program: N.Program) -> ast.Module:
        self.program = program
        self.top_sequences = BodyFacts(program.body).sequences
        body: list = []
        stmts = program.body
        for i, stmt in enumerate(stmts):
            self.statement_line = stmt.line
            last = i == len(stmts) - 1
            if last and self.interactive and type(stmt) is N.ExprStmt:
                self.has_display = True
                body.extend(self._with_prelude(
                    lambda s=stmt: [asty.Assign(s, targets=[ast.Name(H.DISPLAY, _STORE)],
                        value=self.expr(s.expr))]))
            else:
                body.extend(self._with_prelude(_STMT.get(type(stmt), _not_allowed), self, stmt))
        return ast.Module(body=body, type_ignores=[])

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
        prelude (functions made for arrows). No `finally`: a failed compile discards the
        Compiler."""
        outer = self.prelude
        prelude: list[ast.stmt] = []
        self.prelude = prelude
        stmts = build(*args)
        self.prelude = outer
        return prelude + stmts if prelude else stmts

    def block(self, body: list, owner) -> list:
        """The statements of an ML block; an empty block is a `pass` at its owner's position."""
        out: list = []
        stmt_methods = _STMT
        for stmt in body:
            out.extend(self._with_prelude(stmt_methods.get(type(stmt), _not_allowed), self, stmt))
        return out or [asty.Pass(owner)]

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
            load = ast.Name(py, _LOAD)
            load.lineno = node.line
            load.col_offset = node.column - 1
            return load
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
        store = ast.Name(py, _STORE)
        store.lineno = node.line
        store.col_offset = node.column - 1
        return store

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
            store = self.store_name(target.name, target)
            if store is None:
                return self._refuse_stmt(target.name, target)
            value = s.value
            if type(value) is N.Binary and value.op == "+":
                emit = lambda v: asty.Assign(s,  # noqa: E731
                    targets=[self.store_name(target.name, target)], value=v)
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
        decls = []
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
            scope.ints = integer_locals(body_nodes, facts, scope, self.says_nonlocal)
            scope.counters = counter_locals(facts, scope.ints)
            scope.sequences = facts.sequences
        self.scope, self.loop_depth = scope, 0
        try:
            body = body_builder(scope)
        finally:
            self.scope, self.loop_depth = outer_scope, outer_loops
        # its own ML text as its docstring: what a session checkpoint re-creates it from
        text = self.function_sources.text(node.line, node.column)
        doc = [asty.Expr(node, asty.Constant(node, text))] if text is not None else []
        fdef = ast.FunctionDef(name=name, args=ast.arguments(
            posonlyargs=[], args=args, vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]), body=doc + decls + body, decorator_list=[], returns=None)
        if "type_params" in ast.FunctionDef._fields:
            fdef.type_params = []  # type: ignore[attr-defined]  # (Python 3.12+ field)
        return stamp(fdef, node)

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
        target = self.store_name(s.name, s)
        if target is None:
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
            body = self.block(s.body, s)
        finally:
            self.loop_depth -= 1
        return [asty.While(s, test, body, [])]

    @statement(N.For)
    def stmt_For(self, s):
        target = self.store_name(s.var, s)
        if target is None:
            return self._refuse_stmt(s.var, s)
        iterable = self.helper(H.ITER, [self.expr(s.iterable)], s.iterable)
        self.loop_depth += 1
        try:
            body = self.block(s.body, s)
        finally:
            self.loop_depth -= 1
        return [asty.For(s, target, iterable, body, [])]

    @statement(N.Try)
    def stmt_Try(self, s):
        body = self.block(s.body, s)
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
            hbody.extend(self.block(s.handler, s) if s.handler else [])
            if s.handler_name:
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
        final = self.block(s.finally_body, s) if s.finally_body is not None else []
        if not handlers and not final:
            final = [asty.Pass(s)]
        return [asty.Try(s, body=body, handlers=handlers, orelse=[], finalbody=final)]

    @statement(N.Throw)
    def stmt_Throw(self, s):
        return [asty.Raise(s, exc=self.helper(H.THROW, [self.expr(s.value)], s),
                                   cause=None)]

    @statement(N.Return)
    def stmt_Return(self, s):
        if self.scope is not None and s.value is not None:
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
        return _EXPR.get(type(e), _not_allowed)(self, e)

    @expression(N.Number, N.String, N.Literal)
    def expr_Number(self, e):
        const = ast.Constant(e.value)
        const.lineno = e.line
        const.col_offset = e.column - 1
        return const


    @expression(N.Name)
    def expr_Name(self, e):
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
        op = ast.Not() if e.op == "!" else ast.USub()
        return asty.UnaryOp(e, op, operand)

    _BINOPS = {"-": ast.Sub(), "/": ast.Div(), "//": ast.FloorDiv()}
    _CMPOPS = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), ">": ast.Gt(), "<=": ast.LtE(),
               ">=": ast.GtE()}

    @expression(N.Binary)
    def expr_Binary(self, e):
        # A chain `a + b + c + ...` is a left-deep tree; walk its spine with a loop, so a
        # chain of any length costs no recursion here (spec §7.2: 10,000 operands).
        spine = []
        node = e
        while type(node) is N.Binary:
            spine.append(node)
            node = node.left
        acc = _EXPR.get(type(node), _not_allowed)(self, node)
        parts: list = []
        for count, b in enumerate(reversed(spine), 1):
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
        right = _EXPR.get(type(e.right), _not_allowed)(self, e.right)
        op = e.op
        if op in ("==", "!=") and not (self._scalar_literal(e.left)
                                       or self._scalar_literal(e.right)):
            # two containers that hold themselves would overflow Python's `==`
            return self.helper(H.EQ if op == "==" else H.NE, [left, right], e)
        if op in self._CMPOPS:
            py = ast.Compare(left, [self._CMPOPS[op]], [right])
        elif op in self._BINOPS:
            py = ast.BinOp(left, self._BINOPS[op], right)
        else:
            return self._arithmetic(left, right, op, e)
        py.lineno = e.line
        py.col_offset = e.column - 1
        return py

    @staticmethod
    def _scalar_literal(node) -> bool:
        return type(node) in (N.Number, N.String, N.Literal)

    @expression(N.Logical)
    def expr_Logical(self, e):
        # `a && b && c ...` is one flat Python BoolOp, built with a loop (spec §7.2)
        op = ast.And() if e.op == "&&" else ast.Or()
        rights = []
        node = e
        while type(node) is N.Logical and node.op == e.op:
            rights.append(node.right)
            node = node.left
        values = [self.expr(node)]
        values.extend(self.expr(r) for r in reversed(rights))
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
        return asty.Call(e, callee, [self.expr(a) for a in e.args], [])

    def _method(self, m):
        """The callee of `obj.name(...)`. A name only arrays (or only strings) have as a method
        whose Python behaviour is ML's is looked up inline when `obj` is exactly that type;
        everything else goes through `ops.meth` and its allow-lists."""
        obj = self.expr(m.obj)
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

