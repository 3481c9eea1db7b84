"""`parse(source) -> Program`: lark LALR over mlpy/grammar/ml.lark, building typed nodes.

The parser is built once per process (lazily, so `import mlpy` stays cheap) and runs with an
inline Transformer, so no intermediate parse tree is built.
"""

from __future__ import annotations

from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from . import nodes as N
from .errors import MLSyntaxError
from .lexer import MLLexer, make_token, normalise_newlines, tokenize

GRAMMAR = Path(__file__).with_name("grammar") / "ml.lark"

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


_PRECEDENCE = {"||": 2, "&&": 3, "==": 4, "!=": 4, "<": 5, ">": 5, "<=": 5, ">=": 5,
               "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7}


def _reduce(operands: list, op: Token) -> None:
    right = operands.pop()
    left = operands.pop()
    text = op.value
    if text == "&&" or text == "||":
        operands.append(N.Logical(left.line, left.column, text, left, right))
    else:
        operands.append(N.Binary(op.line, op.column, text, left, right))


def _word(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    return f"'{terminal.lower()}'"


def _pos(item) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.line, item.column
    return item.line, item.column


def _names(tokens) -> list[str]:
    return [str(t) for t in tokens]


class _Build(Transformer):
    """Rule callbacks: lark children -> typed nodes (mlpy.nodes)."""

    # ----------------------------------------------------------- program
    def start(self, items):
        return N.Program(1, 1, list(items))

    def import_stmt(self, c):
        kw, *rest = c
        alias = None
        if len(rest) >= 2 and isinstance(rest[-2], Token) and rest[-2].type == "AS":
            alias = str(rest[-1])
            rest = rest[:-2]
        return N.Import(kw.line, kw.column, [str(t) for t in rest], alias)

    def capability_decl(self, c):
        kw, name, _brace, *items = c
        return N.Capability(kw.line, kw.column, str(name), list(items))

    def cap_resource(self, c):
        return ("resource", None, str(c[1]))

    def cap_allow(self, c):
        return ("allow", str(c[1]), str(c[2]) if len(c) > 2 else None)

    # ----------------------------------------------------------- statements
    def expr_stmt(self, c):
        expr = c[0]
        return N.ExprStmt(expr.line, expr.column, expr)

    def assign_stmt(self, c):
        target, value = c
        line, column = target.line, target.column
        if isinstance(target, (N.Name, N.Index, N.Member)):
            return N.Assign(line, column, target, value)
        if isinstance(target, N.Array) and all(isinstance(i, N.Name) for i in target.items) \
                and target.items:
            return N.Destructure(line, column, "array", [i.name for i in target.items], value)
        raise MLSyntaxError(
            f"Parse error: cannot assign to this expression at line {line}, column {column}: "
            "expected a name, an index a[i], a member o.name or [names]", line=line, column=column)

    def destructure_object(self, c):
        brace, names, value = c
        return N.Destructure(brace.line, brace.column, "object", names, value)

    def names(self, c):
        return _names(c)

    def function_def(self, c):
        kw, name, params, body = c
        return N.FunctionDef(kw.line, kw.column, str(name), params or [], body)

    def params(self, c):
        return list(c)

    def param(self, c):
        return N.Param(c[0].line, c[0].column, str(c[0]), str(c[1]) if len(c) > 1 else None)

    def block(self, c):
        return list(c[1:])

    def if_stmt(self, c):
        kw, test, body, *rest = c
        branches = [(test, body)]
        otherwise = None
        for item in rest:
            if isinstance(item, tuple):
                branches.append(item)
            else:
                otherwise = item
        return N.If(kw.line, kw.column, branches, otherwise)

    def elif_clause(self, c):
        *_kws, test, body = c
        return (test, body)

    def else_clause(self, c):
        return c[1]

    def while_stmt(self, c):
        kw, test, body = c
        return N.While(kw.line, kw.column, test, body)

    def for_stmt(self, c):
        kw, var, _in, iterable, body = c
        return N.For(kw.line, kw.column, str(var), iterable, body)

    def try_stmt(self, c):
        kw, body, *clauses = c
        handler = handler_name = finally_body = None
        seen_handler = False
        for clause in clauses:
            if clause[0] == "except":
                if not seen_handler:          # only the first except clause is used
                    seen_handler = True
                    handler_name, handler = clause[1], clause[2]
            else:
                finally_body = clause[1]
        return N.Try(kw.line, kw.column, body, handler if seen_handler else None,
                     handler_name, finally_body)

    def except_clause(self, c):
        if len(c) == 3:
            return ("except", str(c[1]), c[2])
        return ("except", None, c[1])

    def finally_clause(self, c):
        return ("finally", c[1])

    def throw_stmt(self, c):
        return N.Throw(c[0].line, c[0].column, c[1])

    def return_stmt(self, c):
        return N.Return(c[0].line, c[0].column, c[1] if len(c) > 1 else None)

    def break_stmt(self, c):
        return N.Break(c[0].line, c[0].column)

    def continue_stmt(self, c):
        return N.Continue(c[0].line, c[0].column)

    def nonlocal_stmt(self, c):
        return N.Nonlocal(c[0].line, c[0].column, c[1])

    # ----------------------------------------------------------- expressions
    def conditional(self, c):
        test, then, otherwise = c
        return N.Conditional(test.line, test.column, test, then, otherwise)

    def operation(self, c):
        """Operator-precedence parsing of `u0 op1 u1 op2 u2 ...` (all left-associative)."""
        operands = [c[0]]
        operators: list = []
        for i in range(1, len(c), 2):
            op, right = c[i], c[i + 1]
            level = _PRECEDENCE[op.value]
            while operators and _PRECEDENCE[operators[-1].value] >= level:
                _reduce(operands, operators.pop())
            operators.append(op)
            operands.append(right)
        while operators:
            _reduce(operands, operators.pop())
        return operands[0]

    def unary(self, c):
        op, operand = c
        if str(op) == "-" and isinstance(operand, N.Number):
            return N.Number(op.line, op.column, -operand.value)
        return N.Unary(op.line, op.column, str(op), operand)

    def call(self, c):
        func, args = c
        return N.Call(func.line, func.column, func, args or [])

    def index(self, c):
        obj, bracket, index = c
        return N.Index(bracket.line, bracket.column, obj, index)

    def slicing(self, c):
        obj, bracket, (start, stop, step) = c
        return N.Slice(bracket.line, bracket.column, obj, start, stop, step)

    def slice(self, c):
        parts = list(c) + [None] * (3 - len(c))
        return tuple(parts[:3])

    def member(self, c):
        obj, name = c
        return N.Member(name.line, name.column - 1, obj, str(name))

    def args(self, c):
        return list(c)

    def number(self, c):
        t = c[0]
        return N.Number(t.line, t.column, t.value)

    def string(self, c):
        t = c[0]
        return N.String(t.line, t.column, t.value)

    def true(self, c):
        return N.Literal(c[0].line, c[0].column, True)

    def false(self, c):
        return N.Literal(c[0].line, c[0].column, False)

    def null(self, c):
        return N.Literal(c[0].line, c[0].column, None)

    def name(self, c):
        t = c[0]
        return N.Name(t.line, t.column, str(t))

    def array(self, c):
        bracket, items = c
        return N.Array(bracket.line, bracket.column, items or [])

    def object(self, c):
        brace, props = c
        return N.Object(brace.line, brace.column, props or [])

    def properties(self, c):
        return list(c)

    def property(self, c):
        key, value = c
        return (key.value if key.type == "STRING" else str(key), value)

    def arrow_expr(self, c):
        kw, params, body = c
        return N.Arrow(kw.line, kw.column, params or [], body, False)

    def arrow_block(self, c):
        kw, params, *body = c
        return N.Arrow(kw.line, kw.column, params or [], list(body), True)


class _Unexpected(UnexpectedToken):
    """A token the LALR table has no action for (what `_syntax_error` reports)."""

    def __init__(self, token, expected):
        Exception.__init__(self, "unexpected token")
        self.token = token
        self.expected = expected


def _passes_through(callback) -> bool:
    """True if a reduction callback returns its single child unchanged (an inlined `?rule`)."""
    probe = object()
    try:
        return callback([probe]) is probe
    except Exception:
        return False


class _Driver:
    """The LALR loop over lark's parse table, with each reduction's size, target and
    callback resolved once (lark's own loop hashes Rule objects and checks asserts per step).
    Same table, same callbacks, same result as `Lark.parse`."""

    def __init__(self, lark: Lark):
        inner = lark.parser.parser.parser
        table = inner.parse_table
        callbacks = inner.callbacks
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        self.states: dict = {}
        for state, actions in table.states.items():
            row = {}
            for terminal, (action, arg) in actions.items():
                if action is Shift:
                    row[str(terminal)] = (True, arg)
                else:
                    size = len(arg.expansion)
                    callback = callbacks[arg]
                    if size == 1 and _passes_through(callback):
                        callback = None       # `?rule` with one child: the child itself
                    row[str(terminal)] = (False, (size, str(arg.origin.name), callback))
            self.states[state] = row

    def parse(self, tokens: list):
        states = self.states
        state_stack = [self.start]
        value_stack: list = []
        end = Token("$END", "")
        end.start_pos = None
        for token in tokens + [end]:
            kind = token.type
            while True:
                row = states[state_stack[-1]]
                try:
                    shift, arg = row[kind]
                except KeyError:
                    raise _Unexpected(token, {t for t in row if t.isupper()}) from None
                if shift:
                    state_stack.append(arg)
                    value_stack.append(token)
                    break
                size, origin, callback = arg
                if callback is None:
                    state_stack.pop()
                    state_stack.append(states[state_stack[-1]][origin][1])
                    continue
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value_stack.append(callback(children))
                state_stack.append(states[state_stack[-1]][origin][1])
                if token is end and state_stack[-1] == self.end:
                    return value_stack[-1]
        raise _Unexpected(end, set())


_parser: _Driver | None = None


def _get_parser() -> _Driver:
    """The parser, built on first use. No lock: two threads racing here both build one and
    the last wins, whereas a lock held when a host stop lands would hang every later parse."""
    global _parser
    if _parser is None:
        lark = Lark(GRAMMAR.read_text(), parser="lalr", lexer=MLLexer, maybe_placeholders=True,
                    transformer=_Build())
        _parser = _Driver(lark)
    return _parser


def parse(source: str, *, interactive: bool = False) -> N.Program:
    """Parse ML source into a Program; raise MLSyntaxError with line and column on failure.

    With `interactive`, the final statement may omit its `;` (spec §12.3)."""
    source = normalise_newlines(source)
    tokens = tokenize(source)
    parser = _get_parser()
    try:
        tree = parser.parse(tokens)
    except UnexpectedToken as exc:
        if interactive and exc.token.type == "$END" and "_SEMI" in exc.expected and tokens:
            last = tokens[-1]
            tokens.append(make_token("_SEMI", ";", last.end_pos, last.line,
                                     last.column + (last.end_pos - last.start_pos),
                                     last.end_pos))
            try:
                tree = parser.parse(tokens)
            except UnexpectedInput:
                tokens.pop()          # report the program as written, not the retry
                raise _syntax_error(exc, source, tokens) from None
            tree.interactive_tail = True
            return tree
        raise _syntax_error(exc, source, tokens) from None
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source, tokens) from None
    return tree


def _open_bracket(tokens: list, token) -> str | None:
    """The innermost bracket still open where the parser stopped: what the error should name."""
    stop = token.start_pos if token is not None and token.type != "$END" else None
    stack: list[list] = [["", 0]]        # [bracket, conditionals waiting for ':']
    for tok in tokens:
        if stop is not None and tok.start_pos >= stop:
            break
        kind = tok.type
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


def _syntax_error(exc: UnexpectedInput, source: str, tokens: list) -> MLSyntaxError:
    token = getattr(exc, "token", None)
    expected = set(getattr(exc, "expected", ()) or ())
    opener = _open_bracket(tokens, token)
    closer = {"_LPAR": "_RPAR", "LSQB": "_RSQB"}.get(opener)
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


def _error_at(token, source: str, expectation: str) -> MLSyntaxError:
    if token is None or token.type == "$END":
        lines = source.split("\n")
        line = len(lines)
        column = len(lines[-1]) + 1
        # point at the end of the last non-empty line
        while line > 1 and not lines[line - 1].strip():
            line -= 1
            column = len(lines[line - 1]) + 1
        what = "end of input"
    else:
        line, column = token.line, token.column
        what = f"'{token.value}'" if token.type != "STRING" else "string"
        if token.type == "NUMBER":
            what = f"number {token.value}"
        elif token.type == "NAME":
            what = f"name '{token.value}'"
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
    words = sorted({_word(t) for t in expected})
    if not words:
        return "unexpected input"
    if len(words) > 6:
        words = words[:6] + ["..."]
    return "expected " + (words[0] if len(words) == 1 else "one of " + ", ".join(words))
