"""`parse(source) -> Program`: mlpy/grammar/ml.lark's LALR table, run by `_Driver`, building
typed nodes.

The table is lark's, shipped precomputed (mlpy.parse_table) and loaded on first use, so
`import mlpy` stays cheap; the driver runs it over the lexer's token tuples and makes each node
directly with the builder of its grammar rule, so no parse tree or intermediate list is built.
"""

from __future__ import annotations

import functools
import sys
from itertools import chain

from . import nodes as N
from . import parse_table
from .errors import MLSyntaxError
from .lexer import normalise_newlines, tokenize

GRAMMAR = parse_table.GRAMMAR

_TERMINAL_WORDS = {
    "_SEMI": "';'", "_COMMA": "','", "_LPAR": "'('", "_RPAR": "')'", "LBRACE": "'{'",
    "_BLOCK_LBRACE": "'{'", "_RBRACE": "'}'", "LSQB": "'['", "_RSQB": "']'", "_DOT": "'.'",
    "_COLON": "':'", "_QMARK": "'?'", "_ASSIGN": "'='", "_ARROW": "'=>'",
    "BINOP": "an operator", "MINUS": "'-'", "PLUS": "'+'", "BANG": "'!'",
    "NUMBER": "a number", "STRING": "a string",
    "NAME": "a name", "CAP_KIND": "read, write, execute, network or system",
    "$END": "the end of the input",
}
_EXPRESSION_STARTS = {"NUMBER", "STRING", "NAME", "TRUE", "FALSE", "NULL", "_LPAR", "LSQB",
                      "LBRACE", "FN", "BANG", "MINUS"}
_CLOSERS = (("_RPAR", "expected ')' to close '('"), ("_RSQB", "expected ']' to close '['"),
            ("_COLON", "expected ':'"), ("_SEMI", "expected ';' after the statement"))

# The end of the input, as a token (type, value, line, column, text).
_END = ("$END", "", 0, 0, "")

_PRECEDENCE = {"||": 2, "&&": 3, "==": 4, "!=": 4, "<": 5, ">": 5, "<=": 5, ">=": 5,
               "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7}


def _binary(op: tuple, left, right):
    text = op[1]
    if text == "&&" or text == "||":
        return N.Logical(left.line, left.column, text, left, right)
    return N.Binary(op[2], op[3], text, left, right)


def _fold(first, rest: list):
    """Operator-precedence parsing of `first op1 u1 op2 u2 ...` (all left-associative)."""
    operands = [first]
    operators: list = []
    for i in range(0, len(rest), 2):
        op = rest[i]
        level = _PRECEDENCE[op[1]]
        while operators and _PRECEDENCE[operators[-1][1]] >= level:
            right = operands.pop()
            operands.append(_binary(operators.pop(), operands.pop(), right))
        operators.append(op)
        operands.append(rest[i + 1])
    while operators:
        right = operands.pop()
        operands.append(_binary(operators.pop(), operands.pop(), right))
    return operands[0]


def _assign(target, value, equals=None):
    line, column = target.line, target.column
    if isinstance(target, (N.Name, N.Index, N.Member)):
        return N.Assign(line, column, target, value)
    if isinstance(target, N.Array) and all(isinstance(i, N.Name) for i in target.items) \
            and target.items:
        return N.Destructure(line, column, "array", [i.name for i in target.items], value)
    if equals is not None:
        # spec §2: the position of the first token that cannot continue a valid program
        line, column = equals[2], equals[3]
    raise MLSyntaxError(
        f"Parse error: unexpected '=' at line {line}, column {column}: cannot assign to this "
        "expression (expected a name, an index a[i], a member o.name or [names] before '=')",
        line=line, column=column)


# ------------------------------------------------------------------ builders
# One per alias in the grammar. A builder gets the value stack, whose top `size` entries are
# the values of the rule's symbols (a token tuple `(type, value, line, column, text)` for a
# terminal), and replaces them with the rule's value, in place: no child list per reduction.
# It pops what it consumes and appends the value (CPython 3.11 specialises neither a negative
# index nor a slice: `v[-4:]` unpacked and replaced is ~2x the four pops and an append).
_BUILDERS: dict[str, tuple[int, object]] = {}


def _rule(alias: str, size: int):
    def register(builder):
        _BUILDERS[alias] = (size, builder)
        return builder
    return register


@_rule("program", 1)                 # start: toplevel_list
def _program(v):
    v.append(N.Program(1, 1, v.pop()))


@_rule("empty_program", 0)           # start:
def _empty_program(v):
    v.append(N.Program(1, 1, []))


@_rule("list_first", 1)              # x_list: x
def _list_first(v):
    v.append([v.pop()])


@_rule("list_append", 2)             # x_list: x_list x
def _list_append(v):
    item = v.pop()
    v[-1].append(item)


@_rule("sep_list_first", 2)          # x_list: _COMMA x
def _sep_list_first(v):
    item = v.pop()
    v.pop()
    v.append([item])


@_rule("sep_list_append", 3)         # x_list: x_list _COMMA x
def _sep_list_append(v):
    item = v.pop()
    v.pop()
    v[-1].append(item)


@_rule("head_and_list", 2)           # xs: x x_list
def _head_and_list(v):
    rest = v.pop()
    v.append([v.pop(), *rest])


@_rule("word_list_first", 2)         # words: _DOT NAME | _COMMA NAME
def _word_list_first(v):
    word = v.pop()
    v.pop()
    v.append([word[1]])


@_rule("word_list_append", 3)        # words: words _DOT NAME | words _COMMA NAME
def _word_list_append(v):
    word = v.pop()
    v.pop()
    v[-1].append(word[1])


@_rule("second", 2)                  # ELSE block | FINALLY block
def _second(v):
    second = v.pop()
    v.pop()
    v.append(second)


# ----------------------------------------------------------- top level
@_rule("import_dotted_as", 6)        # IMPORT NAME dotted_list AS NAME _SEMI
def _import_dotted_as(v):
    v.pop()
    alias = v.pop()
    v.pop()
    dotted = v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.Import(kw[2], kw[3], [name[1], *dotted], alias[1]))


@_rule("import_dotted", 4)           # IMPORT NAME dotted_list _SEMI
def _import_dotted(v):
    v.pop()
    dotted = v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.Import(kw[2], kw[3], [name[1], *dotted], None))


@_rule("import_as", 5)               # IMPORT NAME AS NAME _SEMI
def _import_as(v):
    v.pop()
    alias = v.pop()
    v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.Import(kw[2], kw[3], [name[1]], alias[1]))


@_rule("import_plain", 3)            # IMPORT NAME _SEMI
def _import_plain(v):
    v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.Import(kw[2], kw[3], [name[1]], None))


@_rule("capability", 5)              # CAPABILITY NAME LBRACE cap_item_list _RBRACE
def _capability(v):
    v.pop()
    items = v.pop()
    v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.Capability(kw[2], kw[3], name[1], items))


@_rule("capability_empty", 4)        # CAPABILITY NAME LBRACE _RBRACE
def _capability_empty(v):
    del v[-2:]
    name = v.pop()
    kw = v.pop()
    v.append(N.Capability(kw[2], kw[3], name[1], []))


# A capability pattern is kept as written, quotes included (the compiler reads it so).
@_rule("cap_resource", 3)            # RESOURCE STRING _SEMI
def _cap_resource(v):
    v.pop()
    pattern = v.pop()
    v.pop()
    v.append(("resource", None, pattern[4]))


@_rule("cap_allow_pattern", 4)       # ALLOW CAP_KIND STRING _SEMI
def _cap_allow_pattern(v):
    v.pop()
    pattern = v.pop()
    kind = v.pop()
    v.pop()
    v.append(("allow", kind[1], pattern[4]))


@_rule("cap_allow", 3)               # ALLOW CAP_KIND _SEMI
def _cap_allow(v):
    v.pop()
    kind = v.pop()
    v.pop()
    v.append(("allow", kind[1], None))


# ----------------------------------------------------------- statements
@_rule("expr_stmt", 2)               # expression _SEMI
def _expr_stmt(v):
    v.pop()
    expr = v.pop()
    v.append(N.ExprStmt(expr.line, expr.column, expr))


@_rule("assign_stmt", 4)             # expression _ASSIGN expression _SEMI
def _assign_stmt(v):
    v.pop()
    value = v.pop()
    equals = v.pop()
    target = v.pop()
    if type(target) is N.Name:       # (most assignments: no call)
        v.append(N.Assign(target.line, target.column, target, value))
    else:
        v.append(_assign(target, value, equals))


@_rule("destructure_object", 6)      # LBRACE names _RBRACE _ASSIGN expression _SEMI
def _destructure_object(v):
    v.pop()
    value = v.pop()
    del v[-2:]
    names = v.pop()
    brace = v.pop()
    v.append(N.Destructure(brace[2], brace[3], "object", names, value))


@_rule("names", 2)                   # NAME name_list
def _names(v):
    rest = v.pop()
    v.append([v.pop()[1], *rest])


@_rule("names_one", 1)
def _names_one(v):
    v.append([v.pop()[1]])


@_rule("function_def", 6)            # FUNCTION NAME _LPAR params _RPAR block
def _function_def(v):
    body = v.pop()
    v.pop()
    params = v.pop()
    v.pop()
    name = v.pop()
    kw = v.pop()
    v.append(N.FunctionDef(kw[2], kw[3], name[1], params, body))


@_rule("function_def_bare", 5)       # FUNCTION NAME _LPAR _RPAR block
def _function_def_bare(v):
    body = v.pop()
    del v[-2:]
    name = v.pop()
    kw = v.pop()
    v.append(N.FunctionDef(kw[2], kw[3], name[1], [], body))


@_rule("param_annotated", 3)         # NAME _COLON NAME
def _param_annotated(v):
    annotation = v.pop()
    v.pop()
    name = v.pop()
    v.append(N.Param(name[2], name[3], name[1], annotation[1]))


@_rule("param", 1)
def _param(v):
    name = v.pop()
    v.append(N.Param(name[2], name[3], name[1], None))


class Body(list):
    """A block's statements, knowing where its closing `}` ends as (line, column): a
    function's own text (its docstring, mlpy/spans.py) is then cut from the source without
    scanning the tokens for the matching brace."""

    __slots__ = ("end",)
    end: tuple[int, int]


def _body(statements: list, close: tuple) -> Body:
    body = Body(statements)
    body.end = (close[2], close[3] + 1)
    return body


@_rule("block", 3)                   # LBRACE statement_list _RBRACE
def _block(v):
    close = v.pop()
    statements = v.pop()
    v.pop()
    v.append(_body(statements, close))


@_rule("block_empty", 2)             # LBRACE _RBRACE
def _block_empty(v):
    close = v.pop()
    v.pop()
    v.append(_body([], close))


def _if(v, elifs, otherwise) -> None:
    """The `if` whose `IF ( test ) block` is on top of the stack (the four rules below take
    their elif list and else clause first)."""
    body = v.pop()
    v.pop()
    test = v.pop()
    v.pop()
    kw = v.pop()
    v.append(N.If(kw[2], kw[3], [(test, body), *elifs], otherwise))


@_rule("if_elif_else", 7)            # IF _LPAR expression _RPAR block elif_list else_clause
def _if_elif_else(v):
    otherwise = v.pop()
    _if(v, v.pop(), otherwise)


@_rule("if_elif", 6)                 # IF _LPAR expression _RPAR block elif_list
def _if_elif(v):
    _if(v, v.pop(), None)


@_rule("if_else", 6)                 # IF _LPAR expression _RPAR block else_clause
def _if_else(v):
    _if(v, (), v.pop())


@_rule("if_only", 5)                 # IF _LPAR expression _RPAR block
def _if_only(v):
    _if(v, (), None)


@_rule("elif_clause", 5)             # ELIF _LPAR expression _RPAR block
def _elif_clause(v):
    body = v.pop()
    v.pop()
    test = v.pop()
    del v[-2:]
    v.append((test, body))


@_rule("else_if_clause", 6)          # ELSE IF _LPAR expression _RPAR block
def _else_if_clause(v):
    body = v.pop()
    v.pop()
    test = v.pop()
    del v[-3:]
    v.append((test, body))


@_rule("while_stmt", 5)              # WHILE _LPAR expression _RPAR block
def _while_stmt(v):
    body = v.pop()
    v.pop()
    test = v.pop()
    v.pop()
    kw = v.pop()
    v.append(N.While(kw[2], kw[3], test, body))


@_rule("for_stmt", 7)                # FOR _LPAR NAME IN expression _RPAR block
def _for_stmt(v):
    body = v.pop()
    v.pop()
    iterable = v.pop()
    v.pop()
    var = v.pop()
    v.pop()
    kw = v.pop()
    v.append(N.For(kw[2], kw[3], var[1], iterable, body))


# Only the first except clause is used; each clause's value is (name or None, body).
@_rule("try_except_finally", 4)      # TRY block except_list finally_clause
def _try_except_finally(v):
    finally_body = v.pop()
    handlers = v.pop()
    body = v.pop()
    kw = v.pop()
    name, handler = handlers[0]
    v.append(N.Try(kw[2], kw[3], body, handler, name, finally_body))


@_rule("try_except", 3)              # TRY block except_list
def _try_except(v):
    handlers = v.pop()
    body = v.pop()
    kw = v.pop()
    name, handler = handlers[0]
    v.append(N.Try(kw[2], kw[3], body, handler, name, None))


@_rule("try_finally", 3)             # TRY block finally_clause
def _try_finally(v):
    finally_body = v.pop()
    body = v.pop()
    kw = v.pop()
    v.append(N.Try(kw[2], kw[3], body, None, None, finally_body))


@_rule("try_only", 2)                # TRY block
def _try_only(v):
    body = v.pop()
    kw = v.pop()
    v.append(N.Try(kw[2], kw[3], body, None, None, None))


@_rule("except_named", 5)            # EXCEPT _LPAR NAME _RPAR block
def _except_named(v):
    body = v.pop()
    v.pop()
    name = v.pop()
    del v[-2:]
    v.append((name[1], body))


@_rule("except_bare", 2)             # EXCEPT block
def _except_bare(v):
    body = v.pop()
    v.pop()
    v.append((None, body))


@_rule("throw_stmt", 3)              # THROW expression _SEMI
def _throw_stmt(v):
    v.pop()
    value = v.pop()
    kw = v.pop()
    v.append(N.Throw(kw[2], kw[3], value))


@_rule("return_value", 3)            # RETURN expression _SEMI
def _return_value(v):
    v.pop()
    value = v.pop()
    kw = v.pop()
    v.append(N.Return(kw[2], kw[3], value))


@_rule("return_bare", 2)             # RETURN _SEMI
def _return_bare(v):
    v.pop()
    kw = v.pop()
    v.append(N.Return(kw[2], kw[3], None))


@_rule("break_stmt", 2)              # BREAK _SEMI
def _break_stmt(v):
    v.pop()
    kw = v.pop()
    v.append(N.Break(kw[2], kw[3]))


@_rule("continue_stmt", 2)           # CONTINUE _SEMI
def _continue_stmt(v):
    v.pop()
    kw = v.pop()
    v.append(N.Continue(kw[2], kw[3]))


@_rule("nonlocal_stmt", 3)           # NONLOCAL names _SEMI
def _nonlocal_stmt(v):
    v.pop()
    names = v.pop()
    kw = v.pop()
    v.append(N.Nonlocal(kw[2], kw[3], names))


# ----------------------------------------------------------- expressions
@_rule("conditional", 5)             # operation _QMARK expression _COLON expression
def _conditional(v):
    otherwise = v.pop()
    v.pop()
    then = v.pop()
    v.pop()
    test = v.pop()
    v.append(N.Conditional(test.line, test.column, test, then, otherwise))


@_rule("operation", 2)               # unary operator_list
def _operation(v):
    rest = v.pop()
    first = v.pop()
    if len(rest) == 2:
        v.append(_binary(rest[0], first, rest[1]))
    else:
        v.append(_fold(first, rest))


@_rule("pair_list_first", 2)         # operator_list: binop unary
def _pair_list_first(v):
    operand = v.pop()
    v.append([v.pop(), operand])


@_rule("pair_list_append", 3)        # operator_list: operator_list binop unary
def _pair_list_append(v):
    operand = v.pop()
    op = v.pop()
    pairs = v[-1]
    pairs.append(op)
    pairs.append(operand)


@_rule("unary", 2)                   # BANG unary | MINUS unary
def _unary(v):
    operand = v.pop()
    op = v.pop()
    if op[1] == "-" and isinstance(operand, N.Number):
        v.append(N.Number(op[2], op[3], -operand.value))
    else:
        v.append(N.Unary(op[2], op[3], op[1], operand))


@_rule("call", 4)                    # postfix _LPAR args _RPAR
def _call(v):
    v.pop()
    args = v.pop()
    v.pop()
    func = v.pop()
    v.append(N.Call(func.line, func.column, func, args))


@_rule("call_bare", 3)               # postfix _LPAR _RPAR
def _call_bare(v):
    del v[-2:]
    func = v.pop()
    v.append(N.Call(func.line, func.column, func, []))


@_rule("index", 4)                   # postfix LSQB expression _RSQB
def _index(v):
    v.pop()
    index = v.pop()
    bracket = v.pop()
    obj = v.pop()
    v.append(N.Index(bracket[2], bracket[3], obj, index))


@_rule("slicing", 4)                 # postfix LSQB slice _RSQB
def _slicing(v):
    v.pop()
    start, stop, step = v.pop()
    bracket = v.pop()
    obj = v.pop()
    v.append(N.Slice(bracket[2], bracket[3], obj, start, stop, step))


@_rule("member", 3)                  # postfix _DOT NAME
def _member(v):
    name = v.pop()
    v.pop()
    v.append(N.Member(name[2], name[3] - 1, v.pop(), name[1]))


def _slice_rule(alias: str):
    """The builder of `slice_e_e_e` ... `slice__`: `e` marks where an expression stands in
    `start : stop : step`; the value is the (start, stop, step) tuple, None where omitted."""
    positions = []               # where start, stop and step are among the rule's symbols
    size = 0
    for i, part in enumerate(alias.split("_")[1:]):
        size += i > 0            # the ':' before stop and before step
        positions.append(size if part == "e" else None)
        size += part == "e"
    positions += [None] * (3 - len(positions))

    def build(v):
        symbols = v[-size:]
        v[-size:] = [tuple(None if i is None else symbols[i] for i in positions)]
    _rule(alias, size)(build)


for _alias in ("slice_e_e_e", "slice_e_e_", "slice_e_e", "slice_e__e", "slice_e__", "slice_e_",
               "slice__e_e", "slice__e_", "slice__e", "slice___e", "slice___", "slice__"):
    _slice_rule(_alias)


# The leaves: a node of the token's value at its position, made by the driver itself (the
# most frequent reductions: ~1,800 of the ~5,000 of a 20 KB program).
_BUILDERS["number"] = (1, N.Number)
_BUILDERS["string"] = (1, N.String)
_BUILDERS["name"] = (1, N.Name)


@_rule("true", 1)
def _true(v):
    t = v.pop()
    v.append(N.Literal(t[2], t[3], True))


@_rule("false", 1)
def _false(v):
    t = v.pop()
    v.append(N.Literal(t[2], t[3], False))


@_rule("null", 1)
def _null(v):
    t = v.pop()
    v.append(N.Literal(t[2], t[3], None))


@_rule("group", 3)                   # _LPAR expression _RPAR
def _group(v):
    v.pop()
    expr = v.pop()
    v.pop()
    v.append(expr)


@_rule("array", 3)                   # LSQB args _RSQB
def _array(v):
    v.pop()
    items = v.pop()
    bracket = v.pop()
    v.append(N.Array(bracket[2], bracket[3], items))


@_rule("array_empty", 2)             # LSQB _RSQB
def _array_empty(v):
    v.pop()
    bracket = v.pop()
    v.append(N.Array(bracket[2], bracket[3], []))


@_rule("object", 3)                  # LBRACE properties _RBRACE
def _object(v):
    v.pop()
    props = v.pop()
    brace = v.pop()
    v.append(N.Object(brace[2], brace[3], props))


@_rule("object_empty", 2)            # LBRACE _RBRACE
def _object_empty(v):
    v.pop()
    brace = v.pop()
    v.append(N.Object(brace[2], brace[3], []))


@_rule("property", 3)                # (NAME | STRING) _COLON expression
def _property(v):
    value = v.pop()
    v.pop()
    v.append((v.pop()[1], value))


@_rule("arrow_expr", 6)              # FN _LPAR params _RPAR _ARROW expression
def _arrow_expr(v):
    body = v.pop()
    del v[-2:]
    params = v.pop()
    v.pop()
    kw = v.pop()
    v.append(N.Arrow(kw[2], kw[3], params, body, False))


@_rule("arrow_expr_bare", 5)         # FN _LPAR _RPAR _ARROW expression
def _arrow_expr_bare(v):
    body = v.pop()
    del v[-3:]
    kw = v.pop()
    v.append(N.Arrow(kw[2], kw[3], [], body, False))


@_rule("arrow_block", 8)             # FN _LPAR params _RPAR _ARROW _BLOCK_LBRACE stmts _RBRACE
def _arrow_block(v):
    close = v.pop()
    body = v.pop()
    del v[-3:]
    params = v.pop()
    v.pop()
    kw = v.pop()
    v.append(N.Arrow(kw[2], kw[3], params, _body(body, close), True))


@_rule("arrow_block_bare", 7)        # FN _LPAR _RPAR _ARROW _BLOCK_LBRACE stmts _RBRACE
def _arrow_block_bare(v):
    close = v.pop()
    body = v.pop()
    del v[-4:]
    kw = v.pop()
    v.append(N.Arrow(kw[2], kw[3], [], _body(body, close), True))


# ------------------------------------------------------------------ the driver
class _Unexpected(Exception):
    """A token the LALR table has no action for (what `_syntax_error` reports)."""

    def __init__(self, token: tuple, expected: set[str]):
        super().__init__("unexpected token")
        self.token = token
        self.expected = expected


class _Driver:
    """The LALR loop over lark's parse table, with the work of each step resolved when the
    table is built. A state's row maps a terminal to an int (`_encode`): `~state`, below 0,
    for a shift to `state`, else the index in `reductions` of
    - None, at 0: no action (a parse error, or the end of the input);
    - for a rule that passes its one symbol through (`?rule: x`), its gotos;
    - from index `leaves`, `[node class, gotos]` for a leaf (`name`, `number`, `string`): the
      node of the token's value at its position replaces the token;
    - from index `builds`, `(cut, builder, gotos)`: the builder makes the rule's value on the
      value stack, and `cut` is the slice of the state stack its symbols hold.
    So the loop tells a shift, and each kind of reduction, by comparing ints. A reduction's
    gotos map the state then below the top to the next state and that state's action on the
    same look-ahead, so a reduction needs no look-up in the next state's row.
    Where passed-through rules follow each other on the same look-ahead (name -> postfix ->
    unary -> operation -> expression), the next state is the last one's: a chain is one step.
    The states skipped so all have an action for that look-ahead, so a token is rejected in
    the state lark's own loop over the same table rejects it in: the same parse errors."""

    def __init__(self, table: dict):
        self.start = table["start"]
        self.end = table["end"]
        self.rows, self.reductions = _encode(_driver_rows(table))
        self._bounds()

    @classmethod
    def from_rows(cls, start: int, end: int, rows: list[dict],
                  reductions: list) -> "_Driver":
        driver = cls.__new__(cls)
        driver.start, driver.end, driver.rows, driver.reductions = start, end, rows, reductions
        driver._bounds()
        return driver

    def _bounds(self) -> None:
        """Where the leaves and the builders start among the reductions (see above)."""
        kinds = [type(reduction) for reduction in self.reductions]
        self.builds = kinds.index(tuple) if tuple in kinds else len(kinds)
        self.leaves = kinds.index(list) if list in kinds else self.builds

    def parse(self, tokens: list):
        rows = self.rows
        reductions = self.reductions
        leaves = self.leaves
        builds = self.builds
        # The states under the top one, which is `state` (the top is read far more often than
        # set, and CPython 3.11 specialises no negative index); at the bottom a copy of the
        # start state, which the one rule of no symbols (`start:`, an empty program) reads as
        # the state below it.
        state = self.start
        stack = [state]
        row = rows[state]
        values: list = []
        # (`stack.append(x)` is a faster call than a bound `append` in CPython 3.11)
        for token in chain(tokens, (_END,)):
            kind = token[0]
            try:
                action = row[kind]
            except KeyError:
                action = 0
            while action >= 0:                  # reductions until the token is shifted
                if action >= builds:
                    cut, build, gotos = reductions[action]
                    build(values)
                    del stack[cut]
                    state, action = gotos[stack[-1]]
                elif action >= leaves:          # a leaf: replace the top
                    make, gotos = reductions[action]
                    leaf = values[-1]
                    values[-1] = make(leaf[2], leaf[3], leaf[1])
                    state, action = gotos[stack[-1]]
                elif action:
                    state, action = reductions[action][stack[-1]]
                else:
                    if state == self.end:       # `start` was reduced, on $END
                        return values[-1]
                    raise _Unexpected(token, set(rows[state]))
            stack.append(state)
            state = ~action
            values.append(token)
            row = rows[state]
        raise _Unexpected(_END, set())


def _driver_rows(table: dict) -> list[dict]:
    """The driver's rows (see `_Driver`) for lark's table."""
    lark_rows = dict(enumerate(table["states"]))
    rows: list[dict] = [{} for _ in range(len(lark_rows))]
    entered_from: dict[int, set[int]] = {state: set() for state in lark_rows}
    for state, row in lark_rows.items():
        for symbol, action in row.items():
            if action.__class__ is int:
                rows[state][symbol] = action       # a shift, or a goto after a reduction
                entered_from[action].add(state)

    @functools.cache
    def down(state: int, n: int) -> frozenset[int]:
        """The states that can be n below `state` on the stack: where a rule of n symbols
        reduced in `state` started (each state is entered by one symbol)."""
        if n == 0:
            return frozenset({state})
        return frozenset(lower for above in entered_from[state]
                         for lower in down(above, n - 1))

    passes = {(state, terminal): action[0]                 # pass-through reductions
              for state, row in lark_rows.items()
              for terminal, action in row.items()
              if action.__class__ is not int and action[2] is None}

    @functools.cache
    def goto_map(origin: str, lowers: frozenset[int], terminal: str) -> dict[int, int]:
        """By state below, where reducing to `origin` leads, with the pass-through
        reductions on `terminal` that follow. (Many rules share one.)"""
        result = {}
        for lower in lowers:
            top = rows[lower][origin]
            while (through := passes.get((top, terminal))) is not None:
                top = rows[lower][through]
            result[lower] = top
        return result

    for state, row in lark_rows.items():
        for terminal, action in row.items():
            if action.__class__ is int:
                continue
            origin, length, alias = action
            assert length or state == table["start"], action    # (see `_Driver.parse`)
            after = goto_map(origin, down(state, length), terminal)
            if alias is None:
                assert length == 1, action
                rows[state][terminal] = after
            else:
                size, builder = _BUILDERS[alias]
                assert size == length, (action, size)
                rows[state][terminal] = _reduction(size, builder, after)
    _shift_through(rows)
    # The symbols interned, as the lexer's token types are: a row's look-up of a token type
    # is then found by identity, where an equal string of its own is compared character by
    # character (marshal keeps them interned in the stored rows).
    return [{sys.intern(symbol): action for symbol, action in row.items()} for row in rows]


def _shift_through(rows: list[dict]) -> None:
    """A shift into a state that only passes the token on (`?binop: BINOP`), to one next
    state expecting the same terminals, goes to that state directly: a step less for every
    operator, and a token is rejected with the same expected terminals as before."""
    def terminals(row: dict) -> set[str]:
        return {symbol for symbol in row if symbol.isupper()}

    for state, row in enumerate(rows):
        for terminal, action in row.items():
            if type(action) is not int or not terminal.isupper():
                continue
            after = rows[action]
            targets = {through.get(state) if type(through) is dict else None
                       for through in after.values()}
            if len(targets) == 1 and (target := targets.pop()) is not None \
                    and terminals(after) == terminals(rows[target]):
                row[terminal] = target


def _reduction(size: int, builder, gotos: dict):
    """A reduction (see `_Driver`). Its cut is what a rule of `size` symbols takes off the
    stack under the top state: its `size - 1` symbols' states below the top (a rule of no
    symbols takes nothing: see `_Driver.parse`)."""
    if type(builder) is type:
        return [builder, gotos]
    return (slice(1 - size, None) if size > 1 else slice(0, 0), builder, gotos)


def _encode(rows: list[dict]) -> tuple[list[dict], list]:
    """The rows with each terminal's action an int, and the reductions they index (see
    `_Driver`): a comparison of ints tells them apart in fewer steps than `type()`. A
    reduction's gotos give the next state with its action on the reduction's look-ahead, so
    the loop does not look that up in the next state's row."""
    reductions: list = [None]
    look_aheads = [""]
    index: dict[int, int] = {}
    for kind in (dict, list, tuple):
        for row in rows:
            for symbol, action in row.items():
                if type(action) is kind and symbol.isupper() and id(action) not in index:
                    index[id(action)] = len(reductions)
                    reductions.append(action)
                    look_aheads.append(symbol)
    encoded = [{symbol: ~action if type(action) is int else index[id(action)]
                for symbol, action in row.items() if symbol.isupper()}    # (no gotos)
               for row in rows]
    made: dict[int, dict] = {}         # (a gotos dict is shared by one look-ahead's rules)
    pairs: dict[tuple, tuple] = {}     # (each pair once: stored once, then by reference)

    def then(gotos: dict, terminal: str) -> dict:
        if id(gotos) not in made:
            made[id(gotos)] = {
                below: pairs.setdefault(pair := (state, encoded[state].get(terminal, 0)), pair)
                for below, state in gotos.items()}
        return made[id(gotos)]

    for i, (action, terminal) in enumerate(zip(reductions, look_aheads, strict=True)):
        if type(action) is dict:
            reductions[i] = then(action, terminal)
        elif type(action) is list:
            reductions[i] = [action[0], then(action[1], terminal)]
        elif type(action) is tuple:
            reductions[i] = (action[0], action[1], then(action[2], terminal))
    return encoded, reductions


# The rows cost ~9 ms to derive from lark's table, paid by every process on its first parse
# (each `mlpy run`): they are stored next to the grammar too (`python -m mlpy.parse_table`
# writes both), with each builder named by its alias, and only the builders are looked up
# when they are loaded. A missing or stale file falls back to deriving them.
_LAYOUT = 2          # of the stored rows: raised when what `_Driver` reads changes


def stored_rows(driver: _Driver) -> dict:
    """What is stored of a driver: its rows, and its reductions with a builder or leaf as
    (alias, gotos)."""
    alias_of = {id(builder): alias for alias, (_, builder) in _BUILDERS.items()}
    reductions = [(alias_of[id(action[1])], action[2]) if type(action) is tuple
                  else (alias_of[id(action[0])], action[1]) if type(action) is list
                  else action for action in driver.reductions]
    return {"layout": _LAYOUT, "builders": _builder_sizes(), "start": driver.start,
            "end": driver.end, "rows": driver.rows, "reductions": reductions}


def _builder_sizes() -> dict[str, int]:
    return {alias: size for alias, (size, _) in _BUILDERS.items()}


def _from_stored(stored: dict) -> _Driver | None:
    """The driver of stored rows, or None if they were made for other builders or by
    another layout of the driver."""
    if stored.get("layout") != _LAYOUT or stored.get("builders") != _builder_sizes():
        return None
    builders = _BUILDERS
    reductions = stored["reductions"]
    for i, action in enumerate(reductions):
        if type(action) is tuple:
            size, builder = builders[action[0]]
            reductions[i] = _reduction(size, builder, action[1])
    return _Driver.from_rows(stored["start"], stored["end"], stored["rows"], reductions)


_parser: _Driver | None = None


def _get_parser() -> _Driver:
    """The parser, built on first use. No lock: two threads racing here both build one and
    the last wins, whereas a lock held when a host stop lands would hang every later parse."""
    global _parser
    if _parser is None:
        stored = parse_table.load_driver()
        driver = _from_stored(stored) if stored is not None else None
        _parser = driver if driver is not None else _Driver(parse_table.load())
    return _parser


def parse(source: str, *, interactive: bool = False) -> N.Program:
    """Parse ML source into a Program; raise MLSyntaxError with line and column on failure.

    With `interactive`, the final statement may omit its `;` (spec §12.3)."""
    return parse_tokens(source, interactive=interactive)[0]


def parse_tokens(source: str, *, interactive: bool = False) -> tuple[N.Program, list]:
    """`parse`, also giving the token list, so the compiler finds each function's text in it
    (mlpy/spans.py) instead of tokenizing the program a second time."""
    source = normalise_newlines(source)
    tokens = tokenize(source)
    parser = _get_parser()
    try:
        return parser.parse(tokens), tokens
    except _Unexpected as exc:
        if interactive and exc.token[0] == "$END" and "_SEMI" in exc.expected and tokens:
            last = tokens[-1]
            tokens.append(("_SEMI", ";", last[2], last[3] + len(last[4]), ";"))
            try:
                tree = parser.parse(tokens)
            except _Unexpected:
                tokens.pop()          # report the program as written, not the retry
                raise _syntax_error(exc, source, tokens) from None
            tree.interactive_tail = True
            return tree, tokens
        raise _syntax_error(exc, source, tokens) from None


def _word(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    return f"'{terminal.lower()}'"


def _open_bracket(tokens: list, token: tuple) -> str | None:
    """The innermost bracket still open where the parser stopped: what the error should name."""
    stop = (token[2], token[3]) if token[0] != "$END" else None
    stack: list[list] = [["", 0]]        # [bracket, conditionals waiting for ':']
    for tok in tokens:
        if stop is not None and (tok[2], tok[3]) >= stop:
            break
        kind = tok[0]
        if kind in ("_LPAR", "LSQB", "LBRACE", "_BLOCK_LBRACE"):
            stack.append([kind, 0])
        elif kind in ("_RPAR", "_RSQB", "_RBRACE") and len(stack) > 1:
            stack.pop()
        elif kind == "_QMARK":
            stack[-1][1] += 1
        elif kind == "_COLON" and stack[-1][1]:
            stack[-1][1] -= 1
        elif kind == "_SEMI":
            stack[-1][1] = 0
    if stack[-1][1]:
        return "?"
    return stack[-1][0] or None


def _syntax_error(exc: _Unexpected, source: str, tokens: list) -> MLSyntaxError:
    token = exc.token
    expected = set(exc.expected)
    opener = _open_bracket(tokens, token)
    closer = {"_LPAR": "_RPAR", "LSQB": "_RSQB"}.get(opener or "")
    # LALR merges look-ahead sets: keep only the closer of the bracket actually open
    for other in ("_RPAR", "_RSQB"):
        if other != closer and len(expected) > 1:
            expected.discard(other)
    if opener == "?" and "_COLON" in expected:
        expected = {"_COLON"}
    elif opener == "LBRACE" and "_RBRACE" in expected and "_COMMA" in expected:
        return _error_at(token, source, "expected ',' or '}'")
    elif "_SEMI" in expected:
        expected.discard("_COLON")
    return _error_at(token, source, _expected_words(expected))


def _error_at(token: tuple, source: str, expectation: str) -> MLSyntaxError:
    kind = token[0]
    if kind == "$END":
        lines = source.split("\n")
        line = len(lines)
        column = len(lines[-1]) + 1
        # point at the end of the last non-empty line
        while line > 1 and not lines[line - 1].strip():
            line -= 1
            column = len(lines[line - 1]) + 1
        what = "end of input"
    else:
        line, column = token[2], token[3]
        what = f"'{token[1]}'" if kind != "STRING" else "string"
        if kind == "NUMBER":
            what = f"number {token[1]}"
        elif kind == "NAME":
            what = f"name '{token[1]}'"
    return MLSyntaxError(f"Parse error: unexpected {what} at line {line}, column {column}: "
                         f"{expectation}", line=line, column=column)


def _expected_words(expected: set[str]) -> str:
    for terminal, words in _CLOSERS:
        if terminal in expected:
            return words
    if "_RBRACE" in expected and len(expected & _EXPRESSION_STARTS) >= 5:
        return "expected a statement or '}'"
    if len(expected & _EXPRESSION_STARTS) >= 5:
        return "expected an expression"
    if expected == {"_BLOCK_LBRACE"} or expected == {"LBRACE"}:
        return "expected '{' to start a block"
    names = sorted({_word(t) for t in expected})
    if not names:
        return "unexpected input"
    if len(names) > 6:
        names = names[:6] + ["..."]
    return "expected " + (names[0] if len(names) == 1 else "one of " + ", ".join(names))
