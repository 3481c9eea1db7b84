"""Parser units: every construct of spec §1/§2 through `mlpy.parse`, and parse-error positions.

Expressions are rendered to compact S-expressions so the tree shape (precedence, nesting)
is visible in one string.
"""

from __future__ import annotations

import json

import re

import pytest

import mlpy
from mlpy import nodes as N
from mlpy.errors import MLSyntaxError
from mlpy.lexer import tokenize


# ------------------------------------------------------------------ helpers
def sx(node) -> str:
    """A compact S-expression of an expression node."""
    if isinstance(node, N.Number):
        return repr(node.value)
    if isinstance(node, N.String):
        return "s" + repr(node.value)
    if isinstance(node, N.Literal):
        return {True: "true", False: "false", None: "null"}[node.value]
    if isinstance(node, N.Name):
        return node.name
    if isinstance(node, N.Array):
        return "[" + " ".join(sx(i) for i in node.items) + "]"
    if isinstance(node, N.Object):
        return "{" + " ".join(f"{k}:{sx(v)}" for k, v in node.properties) + "}"
    if isinstance(node, N.Arrow):
        params = " ".join(p.name for p in node.params)
        if node.block:
            return f"(fn ({params}) {{{' '.join(st(s) for s in node.body)}}})"
        return f"(fn ({params}) {sx(node.body)})"
    if isinstance(node, N.Unary):
        return f"({node.op} {sx(node.operand)})"
    if isinstance(node, (N.Binary, N.Logical)):
        return f"({node.op} {sx(node.left)} {sx(node.right)})"
    if isinstance(node, N.Conditional):
        return f"(? {sx(node.test)} {sx(node.then)} {sx(node.otherwise)})"
    if isinstance(node, N.Call):
        return "(call " + " ".join(sx(x) for x in [node.func, *node.args]) + ")"
    if isinstance(node, N.Index):
        return f"(idx {sx(node.obj)} {sx(node.index)})"
    if isinstance(node, N.Slice):
        parts = ["_" if p is None else sx(p) for p in (node.start, node.stop, node.step)]
        return f"(slice {sx(node.obj)} {' '.join(parts)})"
    if isinstance(node, N.Member):
        return f"(. {sx(node.obj)} {node.name})"
    raise AssertionError(f"not an expression: {node!r}")


def st(node) -> str:
    """A compact rendering of a statement node (used inside block arrows)."""
    if isinstance(node, N.ExprStmt):
        return sx(node.expr) + ";"
    if isinstance(node, N.Return):
        return "return" + ("" if node.value is None else " " + sx(node.value)) + ";"
    if isinstance(node, N.Assign):
        return f"{sx(node.target)} = {sx(node.value)};"
    return type(node).__name__


def expr(source: str) -> str:
    """Parse `x = <source>;` and render the right-hand side."""
    program = mlpy.parse(f"x = {source};")
    assert len(program.body) == 1
    stmt = program.body[0]
    assert isinstance(stmt, N.Assign)
    return sx(stmt.value)


def one(source: str):
    program = mlpy.parse(source)
    assert len(program.body) == 1, program.body
    return program.body[0]


def parse_error(source: str) -> MLSyntaxError:
    with pytest.raises(MLSyntaxError) as info:
        mlpy.parse(source)
    err = info.value
    assert str(err).startswith("Parse error:"), str(err)
    return err


LARK_NAMES = re.compile(r"\b(SEMICOLON|_SEMI|SEMI|LPAR|RPAR|LSQB|RSQB|LBRACE|RBRACE|COMMA|"
                        r"COLON|DOT|EQUAL|__ANON_\d+|_[A-Z]+|[A-Z]{3,}_[A-Z_]+|"
                        r"IDENT|NUMBER|STRING|\$END|Token\()")


def assert_human(err: MLSyntaxError):
    text = str(err)
    assert not LARK_NAMES.search(text), f"lark token name leaked: {text!r}"


# ------------------------------------------------------------------ statements
class TestStatements:
    def test_expression_statement(self):
        s = one("f(1);")
        assert isinstance(s, N.ExprStmt)
        assert sx(s.expr) == "(call f 1)"

    def test_assignment_targets(self):
        a = one("x = 1;")
        assert isinstance(a, N.Assign) and sx(a.target) == "x"
        b = one("a[0] = 2;")
        assert sx(b.target) == "(idx a 0)"
        c = one("o.name = 3;")
        assert sx(c.target) == "(. o name)"
        d = one("f(1)[2].k = 4;")
        assert sx(d.target) == "(. (idx (call f 1) 2) k)"
        assert sx(d.value) == "4"

    def test_assignment_is_not_an_expression(self):
        parse_error("x = y = 1;")
        parse_error("f(x = 1);")

    def test_destructuring(self):
        a = one("[a, b] = pair;")
        assert isinstance(a, N.Destructure)
        assert (a.kind, a.names, sx(a.value)) == ("array", ["a", "b"], "pair")
        o = one("{x, y} = point;")
        assert (o.kind, o.names, sx(o.value)) == ("object", ["x", "y"], "point")
        single = one("[only] = [1];")
        assert single.names == ["only"]

    def test_destructuring_no_nesting_or_renaming(self):
        parse_error("[a, [b, c]] = x;")
        parse_error("{a: b} = x;")

    def test_function_def(self):
        f = one("function add(a, b: number) { return a + b; }")
        assert isinstance(f, N.FunctionDef)
        assert f.name == "add"
        assert [p.name for p in f.params] == ["a", "b"]
        assert f.params[1].annotation == "number"
        assert len(f.body) == 1 and isinstance(f.body[0], N.Return)
        empty = one("function nothing() {}")
        assert empty.params == [] and empty.body == []

    def test_function_needs_braces(self):
        parse_error("function f() return 1;")

    def test_if_elif_else_if_else(self):
        s = one("if (a) { x = 1; } elif (b) { x = 2; } else if (c) { x = 3; } else { x = 4; }")
        assert isinstance(s, N.If)
        assert [sx(t) for t, _ in s.branches] == ["a", "b", "c"]
        assert len(s.otherwise) == 1

    def test_if_without_else(self):
        s = one("if (a) { }")
        assert len(s.branches) == 1 and not s.otherwise

    def test_if_requires_parens_and_braces(self):
        parse_error("if a { }")
        parse_error("if (a) x = 1;")

    def test_while(self):
        s = one("while (i < 3) { i = i + 1; }")
        assert isinstance(s, N.While) and sx(s.test) == "(< i 3)" and len(s.body) == 1

    def test_for(self):
        s = one("for (item in items) { print(item); }")
        assert isinstance(s, N.For) and s.var == "item" and sx(s.iterable) == "items"

    def test_no_c_style_for(self):
        parse_error("for (i = 0; i < 3; i = i + 1) { }")

    def test_try_except_finally(self):
        s = one("try { a(); } except (e) { b(); } finally { c(); }")
        assert isinstance(s, N.Try)
        assert s.handler_name == "e" and len(s.handler) == 1 and len(s.finally_body) == 1

    def test_except_without_name_and_only_first_clause(self):
        s = one("try { a(); } except { b(); } except (e) { c(); d(); }")
        assert s.handler_name is None
        assert len(s.handler) == 1 and sx(s.handler[0].expr) == "(call b)"

    def test_try_finally_only(self):
        s = one("try { a(); } finally { c(); }")
        assert s.handler is None and len(s.finally_body) == 1

    def test_throw(self):
        s = one('throw {type: "E", message: "m"};')
        assert isinstance(s, N.Throw) and sx(s.value) == "{type:s'E' message:s'm'}"

    def test_return_forms(self):
        f = one("function f() { return; return 1 + 2; }")
        assert f.body[0].value is None
        assert sx(f.body[1].value) == "(+ 1 2)"

    def test_break_continue_nonlocal(self):
        s = one("while (true) { break; continue; }")
        assert isinstance(s.body[0], N.Break) and isinstance(s.body[1], N.Continue)
        f = one("function f() { nonlocal a, b; }")
        assert isinstance(f.body[0], N.Nonlocal) and f.body[0].names == ["a", "b"]

    def test_imports(self):
        prog = mlpy.parse("import math; import lib.util; import json as j; import a.b.c as d;")
        got = [(s.path, s.alias) for s in prog.body]
        assert got == [(["math"], None), (["lib", "util"], None), (["json"], "j"),
                       (["a", "b", "c"], "d")]

    def test_import_only_at_top_level(self):
        err = parse_error("if (1) { import math; }")
        assert (err.line, err.column) == (1, 10)
        parse_error("function f() { import math; }")

    def test_capability_block(self):
        s = one('capability Files { resource "data/*.txt"; allow read "data/*.txt"; allow write; '
                'allow execute; allow network "h"; allow system; }')
        assert isinstance(s, N.Capability) and s.name == "Files"
        assert len(s.items) == 6
        assert s.items[0][0] == "resource" and s.items[1][0] == "allow"

    def test_capability_words_are_names_outside_blocks(self):
        prog = mlpy.parse("read = 1; write = 2; resource = allow + execute + network + system;")
        assert len(prog.body) == 3

    def test_capability_words_named_before_a_block_are_its_words_inside(self):
        """The lexer types a name once seen; inside a block its capability words still count."""
        prog = mlpy.parse('read = 1; allow = 2; capability C { allow read "x"; resource "y"; }'
                          ' x = allow + read; o.read = read;')
        cap = prog.body[2]
        assert isinstance(cap, N.Capability)
        assert [item[:2] for item in cap.items] == [("allow", "read"), ("resource", None)]
        assert [type(s).__name__ for s in prog.body] == ["Assign"] * 2 + ["Capability"] + \
            ["Assign"] * 2

    def test_capability_only_at_top_level(self):
        parse_error("function f() { capability X { } }")

    def test_capability_rejects_unknown_permission(self):
        parse_error("capability X { allow fly; }")

    def test_python_and_non_ml_keywords_are_names(self):
        prog = mlpy.parse("class = 1; from = 2; def = 3; lambda = 4; None = 5; new = 6; this = 7; "
                          "let = 8; var = 9; switch = 10; do = 11; const = 12; trueValue = 13;")
        assert [s.target.name for s in prog.body] == [
            "class", "from", "def", "lambda", "None", "new", "this", "let", "var", "switch",
            "do", "const", "trueValue"]
        f = one("function g(class, from, def) { return class; }")
        assert [p.name for p in f.params] == ["class", "from", "def"]

    def test_reserved_words_are_not_names(self):
        for word in ["function", "fn", "return", "if", "elif", "else", "while", "for", "in",
                     "break", "continue", "try", "except", "finally", "throw", "import", "as",
                     "capability", "nonlocal", "true", "false", "null"]:
            parse_error(f"{word} = 1;")

    def test_empty_program_and_block(self):
        assert mlpy.parse("").body == []
        assert mlpy.parse("  // only a comment\n").body == []
        s = one("while (x) {}")
        assert s.body == []

    def test_positions_of_statements(self):
        prog = mlpy.parse("x = 1;\n  if (x) {\n    y = 2;\n  }\n")
        assert (prog.body[0].line, prog.body[0].column) == (1, 1)
        assert (prog.body[1].line, prog.body[1].column) == (2, 3)
        inner = prog.body[1].branches[0][1][0]
        assert (inner.line, inner.column) == (3, 5)

    def test_crlf_and_cr_line_ends(self):
        prog = mlpy.parse("x = 1;\r\ny = 2;\rz = 3;")
        assert [s.line for s in prog.body] == [1, 2, 3]


# ------------------------------------------------------------------ expressions
class TestPrecedence:
    def test_arithmetic_levels(self):
        assert expr("1 + 2 * 3") == "(+ 1 (* 2 3))"
        assert expr("1 * 2 + 3") == "(+ (* 1 2) 3)"
        assert expr("a - b - c") == "(- (- a b) c)"
        assert expr("a / b * c // d % e") == "(% (// (* (/ a b) c) d) e)"

    def test_every_binary_operator(self):
        for op in ["+", "-", "*", "/", "//", "%", "==", "!=", "<", ">", "<=", ">="]:
            assert expr(f"a {op} b") == f"({op} a b)", op
        assert expr("a && b") == "(&& a b)"
        assert expr("a || b") == "(|| a b)"

    def test_full_ladder(self):
        assert expr("a || b && c == d < e + f * -g") == \
            "(|| a (&& b (== c (< d (+ e (* f (- g)))))))"
        assert expr("-a.b[c](d)") == "(- (call (idx (. a b) c) d))"

    def test_logical_left_assoc_and_priority(self):
        assert expr("a || b || c") == "(|| (|| a b) c)"
        assert expr("a && b || c && d") == "(|| (&& a b) (&& c d))"

    def test_comparisons_do_not_chain(self):
        assert expr("a < b < c") == "(< (< a b) c)"
        assert expr("a == b == c") == "(== (== a b) c)"
        assert expr("a < b == c > d") == "(== (< a b) (> c d))"

    def test_unary(self):
        assert expr("!a") == "(! a)"
        assert expr("!!a") == "(! (! a))"
        assert expr("- -a") == "(- (- a))"
        assert expr("!a && b") == "(&& (! a) b)"
        assert expr("-a * b") == "(* (- a) b)"

    def test_no_unary_plus(self):
        parse_error("x = +a;")

    def test_ternary(self):
        assert expr("a ? b : c") == "(? a b c)"
        assert expr("a ? b : c ? d : e") == "(? a b (? c d e))"
        assert expr("a ? b ? c : d : e") == "(? a (? b c d) e)"
        assert expr("a || b ? c + 1 : d && e") == "(? (|| a b) (+ c 1) (&& d e))"

    def test_parentheses_group(self):
        assert expr("(true ? 1 : 2) + 10") == "(+ (? true 1 2) 10)"
        assert expr("(a + b) * c") == "(* (+ a b) c)"
        assert expr("x + (c ? 1 : 2)") == "(+ x (? c 1 2))"

    def test_ternary_inside_index_and_call(self):
        assert expr("a[c ? 1 : 2]") == "(idx a (? c 1 2))"
        assert expr("f(c ? 1 : 2, 3)") == "(call f (? c 1 2) 3)"
        assert expr("a[(c ? 1 : 2):]") == "(slice a (? c 1 2) _ _)"


class TestPostfix:
    def test_calls_on_any_expression(self):
        assert expr("f(1)(2)") == "(call (call f 1) 2)"
        assert expr("arr[0](x)") == "(call (idx arr 0) x)"
        assert expr('t.ops["k"](y)') == "(call (idx (. t ops) s'k') y)"
        assert expr("(fn(x) => x * 2)(21)") == "(call (fn (x) (* x 2)) 21)"
        assert expr("f()") == "(call f)"
        assert expr("f(a, b, c)") == "(call f a b c)"
        assert expr('"abc".upper()') == "(call (. s'abc' upper))"
        assert expr("[1, 2].length") == "(. [1 2] length)"

    def test_slices(self):
        assert expr("a[1:2]") == "(slice a 1 2 _)"
        assert expr("a[:]") == "(slice a _ _ _)"
        assert expr("a[::-1]") == "(slice a _ _ -1)"
        assert expr("a[1:]") == "(slice a 1 _ _)"
        assert expr("a[:2]") == "(slice a _ 2 _)"
        assert expr("a[1:5:2]") == "(slice a 1 5 2)"
        assert expr("a[::]") == "(slice a _ _ _)"
        assert expr("a[i + 1:n - 1]") == "(slice a (+ i 1) (- n 1) _)"

    def test_object_literal_as_left_operand(self):
        assert expr("{} + {}") == "(+ {} {})"
        assert expr('{a: 1} + "s"') == "(+ {a:1} s's')"
        assert expr("{} - 1") == "(- {} 1)"
        assert expr('print({a: 1} + "s")') == "(call print (+ {a:1} s's'))"
        assert expr("{} * 2") == "(* {} 2)"

    def test_index_and_member(self):
        assert expr("a[b][c]") == "(idx (idx a b) c)"
        assert expr("a.b.c") == "(. (. a b) c)"
        assert expr("a.length") == "(. a length)"

    def test_member_name_may_be_a_keyword_like_name(self):
        assert expr("o.class") == "(. o class)"


class TestLiterals:
    def test_numbers(self):
        assert expr("42") == "42"
        assert expr("3.14") == "3.14"
        assert expr(".5") == "0.5"
        assert expr("2.") == "2.0"
        assert expr("1e3") == "1000.0"
        assert expr("1.5E-7") == "1.5e-07"
        big = "123456789012345678901234567890"
        assert expr(big) == big

    def test_number_types(self):
        assert isinstance(one("x = 1e3;").value.value, float)
        assert type(one("x = 7;").value.value) is int

    def test_no_hex_or_separators(self):
        parse_error("x = 0x10;")
        parse_error("x = 1_000;")

    def test_signed_literals_vs_binary_minus(self):
        assert expr("-5") in ("-5", "(- 5)")
        assert expr("f(-2)") in ("(call f -2)", "(call f (- 2))")
        assert expr("[-1, 2]") in ("[-1 2]", "[(- 1) 2]")
        assert expr("a-1") == "(- a 1)"
        assert expr("a -1") == "(- a 1)"
        assert expr("f(x) -1") == "(- (call f x) 1)"
        assert expr("a[0] -1") == "(- (idx a 0) 1)"
        assert expr("3 -1") == "(- 3 1)"
        assert expr('"s" -1') == "(- s's' 1)"
        assert expr("true -1") == "(- true 1)"
        assert expr("2 * -3") in ("(* 2 -3)", "(* 2 (- 3))")

    def test_plus_sign_belongs_to_literal(self):
        assert expr("+5") == "5"
        assert expr("f(+2)") == "(call f 2)"
        assert expr("a +1") == "(+ a 1)"
        assert expr("a+1") == "(+ a 1)"

    def test_true_false_null(self):
        assert expr("[true, false, null]") == "[true false null]"
        assert expr("trueValue") == "trueValue"
        assert expr("nullish") == "nullish"

    def test_arrays_and_objects(self):
        assert expr("[]") == "[]"
        assert expr("[1, [2, 3]]") == "[1 [2 3]]"
        assert expr("{}") == "{}"
        assert expr('{a: 1, "any key": [2]}') == "{a:1 any key:[2]}"
        assert expr("{a: {b: 2}}") == "{a:{b:2}}"

    def test_trailing_commas_rejected(self):
        for src, col in [("x = [1,];", 8), ("f(a,);", 5), ("x = {a: 1,};", 11)]:
            err = parse_error(src)
            assert (err.line, err.column) == (1, col), (src, str(err))
            assert_human(err)


class TestStrings:
    def value(self, literal: str) -> str:
        stmt = one(f"x = {literal};")
        assert isinstance(stmt.value, N.String)
        return stmt.value.value

    def test_quotes(self):
        assert self.value('"abc"') == "abc"
        assert self.value("'abc'") == "abc"
        assert self.value('""') == ""
        assert self.value("'say \"hi\"'") == 'say "hi"'
        assert self.value('"it\'s"') == "it's"

    def test_escapes(self):
        assert self.value(r'"a\nb"') == "a\nb"
        assert self.value(r'"a\tb"') == "a\tb"
        assert self.value(r'"a\rb"') == "a\rb"
        assert self.value(r'"a\\b"') == "a\\b"
        assert self.value(r'"a\"b"') == 'a"b'
        assert self.value(r"'a\'b'") == "a'b"
        assert self.value(r'"a\'b"') == "a'b"
        assert self.value(r"'a\"b'") == 'a"b'

    def test_unicode_escapes(self):
        assert self.value(r'"caf\u00e9"') == "café"
        assert self.value(r'"\u0041\u00E9"') == "Aé"
        assert self.value(r'"\ud83d\ude00"') == "\U0001F600"
        assert len(self.value(r'"\ud83d\ude00"')) == 1

    def test_unknown_escapes_kept(self):
        assert self.value(r'"\d+\.\d*"') == "\\d+\\.\\d*"
        assert len(self.value(r'"\d+\.\d*"')) == 8
        assert self.value(r'"\u12"') == "\\u12"
        assert self.value(r'"\uZZZZ"') == "\\uZZZZ"
        assert self.value(r'"\x41"') == "\\x41"

    def test_backslash_stops_closing(self):
        assert self.value(r'"\\"') == "\\"
        assert self.value(r'"\""') == '"'

    def test_lone_surrogates_are_errors(self):
        for lit in [r'"\ud83d"', r'"\ude00"', r'"\ud83dx"', r'"\ude00\ud83d"']:
            err = parse_error(f"x = {lit};")
            assert err.line == 1
            assert_human(err)

    def test_unterminated_string(self):
        err = parse_error('x = 1;\ny = "abc;\nz = 2;')
        assert (err.line, err.column) == (2, 5)
        assert_human(err)
        err = parse_error("y = 'abc")
        assert (err.line, err.column) == (1, 5)

    def test_string_cannot_span_lines(self):
        parse_error('x = "a\nb";')

    def test_non_ascii_inside_strings_is_fine(self):
        assert self.value('"日本語 ✓"') == "日本語 ✓"


class TestComments:
    def test_comment_after_semicolon_and_braces(self):
        prog = mlpy.parse("x = 7; // two\nif (x) { // open\n y = 1; } // done\n")
        assert len(prog.body) == 2

    def test_floor_division_after_operand_ends(self):
        assert expr("7 // 2") == "(// 7 2)"
        assert expr("a // b") == "(// a b)"
        assert expr("f(a) // 2") == "(// (call f a) 2)"
        assert expr("a[1] // 2") == "(// (idx a 1) 2)"
        assert expr('"s" // 2') == "(// s's' 2)"
        assert expr("true // 2") == "(// true 2)"
        assert expr("null // 2") == "(// null 2)"
        assert expr("7//2") == "(// 7 2)"

    def test_comment_elsewhere(self):
        prog = mlpy.parse("x = [1, // one\n 2];")
        assert sx(prog.body[0].value) == "[1 2]"
        prog = mlpy.parse("f( // arg\n 3);")
        assert sx(prog.body[0].expr) == "(call f 3)"
        prog = mlpy.parse("// whole line\nx = 1;")
        assert len(prog.body) == 1

    def test_comment_after_operator_breaks_expression(self):
        # after `=` the `//` starts a comment, so the value continues on the next line
        prog = mlpy.parse("x = // note\n 5;")
        assert sx(prog.body[0].value) == "5"

    def test_no_block_comments(self):
        parse_error("x = 1; /* no */")


class TestRepeatedPieces:
    """The lexer remembers what each piece (a token with the whitespace before it) is once
    seen; a piece whose type depends on the token before it follows that token every time."""

    @staticmethod
    def types(source: str) -> list[str]:
        return [t[0] for t in tokenize(source)]

    def test_a_sign_is_binary_only_after_an_operand_end(self):
        assert self.types("b - c - - c") == ["NAME", "BINOP", "NAME", "BINOP", "MINUS", "NAME"]
        assert self.types("x = + c;\ny = a + c;\nz = + c;") == \
            ["NAME", "_ASSIGN", "PLUS", "NAME", "_SEMI"] + \
            ["NAME", "_ASSIGN", "NAME", "BINOP", "NAME", "_SEMI"] + \
            ["NAME", "_ASSIGN", "PLUS", "NAME", "_SEMI"]

    def test_a_reserved_word_after_a_dot_is_a_name(self):
        assert self.types("if o.if if\n.if") == \
            ["IF", "NAME", "_DOT", "NAME", "IF", "_DOT", "NAME"]
        prog = mlpy.parse("o.capability = 1; capability C { allow read; } o.capability = 2;")
        assert [type(s).__name__ for s in prog.body] == ["Assign", "Capability", "Assign"]

    def test_a_brace_after_an_arrow_on_the_line_before_opens_a_block(self):
        assert "_BLOCK_LBRACE" in self.types("f = fn() =>\n{ return 1; };")
        assert "_BLOCK_LBRACE" not in self.types("f = fn() =>\n{ a: 1 };")

    def test_columns_follow_the_whitespace_of_each_piece(self):
        tokens = tokenize("x = 1;\n  x  =\t1 ;")
        assert [(t[2], t[3]) for t in tokens] == \
            [(1, 1), (1, 3), (1, 5), (1, 6), (2, 3), (2, 6), (2, 8), (2, 10)]


class TestArrows:
    def test_expression_body(self):
        assert expr("fn(x) => x + 1") == "(fn (x) (+ x 1))"
        assert expr("fn() => 1") == "(fn () 1)"
        assert expr("fn(a, b) => a * b") == "(fn (a b) (* a b))"

    def test_expression_body_extends_as_far_as_possible(self):
        assert expr("fn(x) => x ? 1 : 2") == "(fn (x) (? x 1 2))"
        assert expr("fn(x) => fn(y) => x + y") == "(fn (x) (fn (y) (+ x y)))"

    def test_comma_or_bracket_ends_body(self):
        assert expr("f(fn(x) => x + 1, 2)") == "(call f (fn (x) (+ x 1)) 2)"
        assert expr("[fn(x) => x, 3]") == "[(fn (x) x) 3]"

    def test_block_body(self):
        assert expr("fn(x) => { return x; }") == "(fn (x) {return x;})"
        assert expr("fn(x) => { y = x * 2; return y; }") == "(fn (x) {y = (* x 2); return y;})"
        assert expr("fn() => { print(1); }") == "(fn () {(call print 1);})"

    def test_braces_after_arrow_that_are_objects(self):
        assert expr("fn() => {}") == "(fn () {})"
        assert expr("fn() => { }") == "(fn () {})"
        assert expr("fn(x) => {a: x}") == "(fn (x) {a:x})"
        assert expr('fn(x) => {"k": x, b: 2}') == "(fn (x) {k:x b:2})"

    def test_annotated_params(self):
        a = one("f = fn(x: number, y) => x;").value
        assert [p.name for p in a.params] == ["x", "y"]

    def test_empty_or_lone_semicolon_arrow_block_is_error(self):
        err = parse_error("g = fn(x) => { ; };")
        assert (err.line, err.column) == (1, 16)
        assert_human(err)


# ------------------------------------------------------------------ errors
class TestParseErrors:
    def test_spec_example_position(self):
        src = open_example("35_fail_parse_error.ml")
        err = parse_error(src)
        assert (err.line, err.column) == (4, 11)
        assert "line 4, column 11" in str(err)

    def test_message_form(self):
        err = parse_error("x = 1;\n;")
        assert (err.line, err.column) == (2, 1)
        assert str(err).startswith("Parse error: unexpected ';' at line 2, column 1")
        assert_human(err)

    def test_lone_semicolon(self):
        for src, pos in [(";", (1, 1)), ("x = 1;;", (1, 7)),
                         ("while (x) { ; }", (1, 13)), ("if (a) { x = 1; };", (1, 18))]:
            err = parse_error(src)
            assert (err.line, err.column) == pos, (src, str(err))
            assert_human(err)

    def test_missing_semicolon_points_at_next_token(self):
        err = parse_error("x = 1\ny = 2;")
        assert (err.line, err.column) == (2, 1)
        assert "line 2, column 1" in str(err)
        assert_human(err)

    def test_missing_semicolon_mentions_semicolon_not_paren(self):
        err = parse_error("x = 1\ny = 2;")
        text = str(err).splitlines()[0]
        assert "';'" in text, text
        assert "')'" not in text, text

    def test_end_of_input(self):
        err = parse_error("if (x) { y = 1;")
        assert (err.line, err.column) == (1, 16)
        assert "end of input" in str(err)
        assert_human(err)
        err = parse_error("return")
        assert "end of input" in str(err)

    @pytest.mark.parametrize("src, pos", [
        ("x = 1 +;", (1, 8)),
        ("x = a < ;", (1, 9)),
        ("x = (1 + 2;", (1, 11)),
        ("x = 1 ** 2;", (1, 8)),
        ("x++;", (1, 3)),
        ("x += 1;", (1, 4)),
        ("a = 1 === 1;", (1, 9)),
        ("f(;", (1, 3)),
        ("while x {}", (1, 7)),
        ("function (a) {}", (1, 10)),
        ("x = [1, 2;", (1, 10)),
        ("x = {a 1};", (1, 8)),
        ("x = a.;", (1, 7)),
        ("x = a.1;", (1, 6)),   # `.1` is a number token
    ])
    def test_error_at_offending_token(self, src, pos):
        err = parse_error(src)
        assert (err.line, err.column) == pos, str(err)
        assert f"line {pos[0]}, column {pos[1]}" in str(err)
        assert_human(err)

    def test_non_ascii_identifier(self):
        err = parse_error("café = 1;")
        assert (err.line, err.column) == (1, 4)
        assert_human(err)
        err = parse_error("x = 1;\n  ｏｐｅｎ(1);")
        assert (err.line, err.column) == (2, 3)

    def test_unknown_character(self):
        err = parse_error("x = 1 & 2;")
        assert (err.line, err.column) == (1, 7)
        err = parse_error("x = 1;\ny = #;")
        assert (err.line, err.column) == (2, 5)

    def test_errors_never_leak_lark_names(self):
        for src in ["x = (1;", "f(a b);", "x = [1 2];", "{a b} = c;", "if (x) {", "x = ;",
                    "function f( { }", "try { } except (1) { }", "import ;", "x = 1 }",
                    "fn(x) => ;", "x = fn(x) => ;", "nonlocal ;", "x.;", "capability { }"]:
            err = parse_error(src)
            assert_human(err)
            assert "line" in str(err) and "column" in str(err), str(err)


def open_example(name: str) -> str:
    from pathlib import Path
    return (Path(__file__).resolve().parents[1] / "examples" / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ the shipped LALR table
class TestParseTable:
    def test_shipped_table_is_larks_for_the_current_grammar(self):
        from mlpy import parse_table
        stored = json.loads(parse_table.TABLE.read_text(encoding="utf-8"))
        computed = parse_table.compute(parse_table.GRAMMAR.read_text(encoding="utf-8"))
        assert stored == computed, "stale table: run `python -m mlpy.parse_table`"

    def test_shipped_driver_rows_are_the_tables(self):
        import marshal
        from mlpy import parse_table, parser
        stored = marshal.loads(parse_table.DRIVER.read_bytes())
        table = parse_table.load()
        derived = parser.stored_rows(parser._Driver(table))
        derived["grammar_sha256"] = table["grammar_sha256"]
        assert stored == derived, "stale driver rows: run `python -m mlpy.parse_table`"
        assert parse_table.load_driver() == stored

    @pytest.mark.parametrize("content", [b"not marshal", None, "stale", "builders", "layout"])
    def test_missing_or_stale_driver_rows_are_derived_again(self, tmp_path, monkeypatch,
                                                            content):
        import marshal
        from mlpy import parse_table, parser
        from mlpy.lexer import tokenize
        path = tmp_path / "ml.driver.marshal"
        if content == "stale":
            stored = marshal.loads(parse_table.DRIVER.read_bytes())
            stored["grammar_sha256"] = "0"
            content = marshal.dumps(stored)
        elif content == "builders":
            stored = marshal.loads(parse_table.DRIVER.read_bytes())
            stored["builders"] = {**stored["builders"], "program": 9}
            content = marshal.dumps(stored)
        elif content == "layout":            # rows stored by an earlier driver
            stored = marshal.loads(parse_table.DRIVER.read_bytes())
            del stored["layout"], stored["reductions"]
            content = marshal.dumps(stored)
        if content is not None:
            path.write_bytes(content)
        monkeypatch.setattr(parse_table, "DRIVER", path)
        monkeypatch.setattr(parser, "_parser", None)
        driver = parser._get_parser()
        assert parser.stored_rows(driver) == parser.stored_rows(
            parser._Driver(parse_table.load()))
        source = "function f(a) { return a * (2 + a); }\nx = f(1) < 3 ? [1] : {k: 2};"
        assert driver.parse(tokenize(source)) == mlpy.parse(source)

    @pytest.mark.parametrize("content", ["not json", '{"grammar_sha256": "0"}', None])
    def test_missing_or_stale_table_falls_back_to_lark(self, tmp_path, monkeypatch, content):
        from mlpy import parse_table, parser
        from mlpy.lexer import tokenize
        table = tmp_path / "ml.table.json"
        if content is not None:
            table.write_text(content)
        monkeypatch.setattr(parse_table, "TABLE", table)
        loaded = parse_table.load()
        assert loaded == parse_table.compute(parse_table.GRAMMAR.read_text(encoding="utf-8"))
        source = "function f(a) { return a * (2 + a); }\nx = f(1) < 3 ? [1] : {k: 2};"
        program = parser._Driver(loaded).parse(tokenize(source))
        assert program == mlpy.parse(source)


# ------------------------------------------------------------------ function texts
_TRICKY_FUNCTIONS = (
    'x = 1;\r\n'
    'function outer(a) {\n'
    '    s = "}}";   // a } in a comment\n'
    "    t = '{';\n"
    '    function inner() { return {k: [1, 2]}; }\n'
    '    g = fn(b) => {\treturn b + "}"; };\n'
    '    return inner;\n'
    '}\n'
    'function empty() {}\n'
    'h = fn() => { if (true) { return 1; } return 2; };\n'
)


def _functions(node, out):
    if isinstance(node, (list, tuple)):
        for item in node:
            _functions(item, out)
    elif isinstance(node, N.Node):
        if isinstance(node, (N.FunctionDef, N.Arrow)):
            out.append(node)
        for slot in node.__slots__:
            _functions(getattr(node, slot), out)
    return out


def test_function_text_from_the_parsed_end_is_the_token_scan_text():
    """The end a block records (its `}`) cuts the same text as scanning the tokens for the
    matching brace, with braces in strings and comments, nesting, tabs and CRLF."""
    from mlpy.parser import parse_tokens
    from mlpy.spans import FunctionSources

    program, tokens = parse_tokens(_TRICKY_FUNCTIONS)
    sources = FunctionSources(_TRICKY_FUNCTIONS, tokens)
    found = [f for f in _functions(program.body, []) if getattr(f.body, "end", None)]
    assert len(found) == 5
    for f in found:
        scanned = sources.text(f.line, f.column)
        assert scanned is not None and scanned.endswith("}")
        assert sources.text(f.line, f.column, f.body.end) == scanned


def test_compiled_function_docstring_is_its_ml_text():
    namespace: dict = {}
    program = mlpy.compile(_TRICKY_FUNCTIONS, cache=False)
    from mlpy.runtime.namespace import new_namespace
    namespace = new_namespace()
    exec(program.code, namespace)
    assert namespace["empty"].__doc__ == "function empty() {}"
    assert namespace["outer"].__doc__.startswith("function outer(a) {\n")
    assert namespace["outer"].__doc__.endswith("    return inner;\n}")
