"""Run-time behaviour of ML programs (spec §3–§9, §12.3) through `mlpy.run` / `mlpy.compile`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpy
from mlpy.errors import MLSyntaxError
from mlpy.runner import execute
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink
from mlpy.runtime.namespace import new_namespace
from mltest import ml_fails as fails
from mltest import ml_out as out


# ------------------------------------------------------------------ helpers
def show(expression: str) -> str:
    """What `print(expression);` writes, without the newline."""
    text = out(f"print({expression});")
    assert text.endswith("\n")
    return text[:-1]


def caught(source: str) -> str:
    """Run `source` inside try; print the caught error's type and message."""
    return out("try {\n" + source + "\n} except (e) { print(e.type + \"|\" + e.message); }")[:-1]


# ------------------------------------------------------------------ §5 printing
class TestPrinting:
    def test_spec_examples_verbatim(self):
        assert out('print([1, true, null, "s", 2.5]);') == '[1, true, null, "s", 2.5]\n'
        assert out('print({"a": 1, "b": [false, "it\'s \\"x\\""]});') == \
            '{"a": 1, "b": [false, "it\'s \\"x\\""]}\n'
        assert out('print("n: " + [1, "a"], str(null), repr("a\\nb"));') == \
            'n: [1, "a"] null "a\\nb"\n'

    def test_lexical_spec_examples(self):
        assert out('print("a\\tb", \'it\\\'s\', "say \\"hi\\"", "caf\\u00e9");') == \
            'a\tb it\'s say "hi" café\n'
        assert out('print(len("\\n"), len("\\\\n"), len("\\d"));') == "1 2 2\n"

    def test_print_forms(self):
        assert out("print();") == "\n"
        assert out('print(1, "a", true, null);') == "1 a true null\n"
        assert out('print("a\\"b");') == 'a"b\n'
        assert out("print(false);") == "false\n"

    @pytest.mark.parametrize("expression, text", [
        ("2.0", "2.0"), ("0.1 + 0.2", "0.30000000000000004"), ("1e20", "1e+20"),
        ("1.5e-7", "1.5e-07"), ("1e15", "1000000000000000.0"), ("1e16", "1e+16"),
        ("1e308 * 10", "inf"), ("-1e308 * 10", "-inf"), ('float("nan")', "nan"),
        ("-0.0", "-0.0"), ("3", "3"), ("-3", "-3"), ("1 / 3", "0.3333333333333333"),
    ])
    def test_numbers(self, expression, text):
        assert show(expression) == text

    def test_functions_modules_library_objects(self):
        assert out("function f() {} print(f);") == "<function f>\n"
        assert out("g = fn(x) => x; print(g, [g]);") == "<function> [<function>]\n"
        assert out("import math; print(math);") == "<module math>\n"
        assert out('import regex; print(regex.compile("a"));') == "<Pattern>\n"

    def test_container_string_escapes(self):
        assert show('repr("q\\"b\\\\s\\tt\\rr\\nn")') == '"q\\"b\\\\s\\tt\\rr\\nn"'
        assert show('repr("\\u0001\\u001b")') == '"\\u0001\\u001b"'
        assert show('["it\'s", "é✓"]') == '["it\'s", "é✓"]'
        assert show('repr("a")') == '"a"'
        assert show("repr(1.5)") == "1.5"
        assert show("repr(null)") == "null"
        assert show("[[], {}, [[]]]") == "[[], {}, [[]]]"

    def test_object_keys_in_container_form(self):
        assert out('o = {}; o[1] = "x"; o["1"] = "y"; o[true] = 2; print(o);') == \
            '{1: 2, "1": "y"}\n'
        assert out('o = {"a b": {c: [1]}}; print(o);') == '{"a b": {"c": [1]}}\n'

    def test_self_containing_containers(self):
        assert out("a = [1]; a.append(a); print(a);") == "[1, [...]]\n"
        assert out("o = {}; o.me = o; print(o);") == '{"me": {...}}\n'
        assert out("a = [1]; b = [a, a]; print(b);") == "[[1], [1]]\n"

    def test_error_values_display_as_message(self):
        src = 'try { 1 / 0; } except (e) { print(e); print(str(e), "x" + e); print([e]); }'
        assert out(src) == ("division by zero\n"
                            "division by zero xdivision by zero\n"
                            '[{"message": "division by zero", "type": "ZeroDivisionError"}]\n')

    def test_str_and_repr_of_values(self):
        assert show("str(true) + str(null) + str(1.0) + str([1, \"a\"])") == 'truenull1.0[1, "a"]'
        assert show('repr([1, "a"])') == '[1, "a"]'
        assert show('typeof(repr("x"))') == "string"


# ------------------------------------------------------------------ §4 operators
class TestPlus:
    @pytest.mark.parametrize("expression, text", [
        ('"n=" + 1', "n=1"), ('1 + 2 + "c"', "3c"), ('"c" + 1 + 2', "c12"),
        ('"x" + true', "xtrue"), ('"x" + null', "xnull"), ('"v" + [1, "a"]', 'v[1, "a"]'),
        ('"o" + {a: 1}', 'o{"a": 1}'), ('1.0 + "s"', "1.0s"), ('null + "s"', "nulls"),
        ('"f" + print', "f<function print>"), ("[1] + [2, 3]", "[1, 2, 3]"),
        ("true + true", "2"), ("1 + 2.5", "3.5"), ('"" + ""', ""),
    ])
    def test_plus(self, expression, text):
        assert show(expression) == text

    def test_literal_and_variable(self):
        # `+` with a string literal is Python's `+` when the other side is a string
        program = """
        function wrap(v) { return "<" + v + ">"; }
        items = ["s", 1, 2.5, true, null, [1, "a"], {k: 1}, wrap];
        for (v in items) { print(wrap(v), v + "!", "!" + v); }
        """
        assert out(program).splitlines() == [
            "<s> s! !s", "<1> 1! !1", "<2.5> 2.5! !2.5", "<true> true! !true",
            "<null> null! !null", '<[1, "a"]> [1, "a"]! ![1, "a"]', '<{"k": 1}> {"k": 1}! !{"k": 1}',
            "<<function wrap>> <function wrap>! !<function wrap>"]

    def test_low_size_limits_hold_for_concatenation(self):
        context = ExecutionContext(output=OutputSink(), limits=Limits(max_string=1000))
        outcome = execute(mlpy.compile('s = "x" * 600; function f(a, b) { return a + b; }\n'
                                       "t = f(s, s);"), new_namespace(), context)
        assert not outcome.success and outcome.error.type == "LimitError"
        assert "1200" in outcome.error.message and outcome.error.line == 1

    def test_string_variable_plus_number(self):
        assert out('s = "s"; print(s + 1);') == "s1\n"

    def test_plus_mismatches(self):
        fails("x = null + 1;", "TypeError", "unsupported operand type(s) for +: 'null' and 'number'")
        fails("x = {} + {};", "TypeError")   # an object literal is a valid left operand
        fails("o = {};\nx = o + o;", "TypeError", line=2)
        fails("x = [1] + {a: 1};", "TypeError")
        fails("x = [1] + 1;", "TypeError")
        fails("x = 1 + [1];", "TypeError")

    def test_concatenation_makes_new_array(self):
        assert out("a = [1]; b = a + [2]; b.append(3); print(a, b);") == "[1] [1, 2, 3]\n"


PLUS_CASES = [('"n"', "1"), ("1", '"n"'), ("1", "2"), ("2.5", "1"), ("true", "true"),
              ("1", "false"), ('"a"', '"b"'), ("[1]", "[2, 3]"), ('"s"', "null"), ("null", '"s"'),
              ('"v"', "[1]"), ("99999999999999999999", "1"), ("-0.0", "-0.0")]


PLUS_OPERANDS = ["0", "1", "-7", "2.5", "-0.0", "1e308", "99999999999999999999", "true", "false",
                 "null", '""', '"s"', '"1"', "[]", "[1, 2]", '["a"]', "{}", "{k: 1}", "print",
                 "fn(x) => x", '[[1], "a"]', '"x" * 3']
mlpy.run("x = 1;")      # the runner raises the recursion limit once, before any example


class TestPlusStatements:
    """`x = a + b;`, `return a + b;` and `fn(a, b) => a + b` take Python's `+` inside a `try`
    (compiler `_add_statement`): every operand pairing must still follow the ML `+` rule."""

    @pytest.mark.parametrize("left, right", PLUS_CASES)
    def test_same_result_as_the_expression_form(self, left, right):
        expected = show(f"{left} + {right}")
        program = (f"function add(a, b) {{ return a + b; }}\n"
                   f"function keep(a, b) {{ c = a + b; return c; }}\n"
                   f"arrow = fn(a, b) => a + b;\n"
                   f"a = {left}; b = {right}; x = a + b;\n"
                   f"print(add({left}, {right}), keep({left}, {right}), x, arrow(a, b));")
        assert out(program) == f"{expected} {expected} {expected} {expected}\n"

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.sampled_from(PLUS_OPERANDS), st.sampled_from(PLUS_OPERANDS))
    def test_statement_and_expression_forms_agree(self, left, right):
        # the expression form checks operand types first; the statement forms try Python's +
        program = (f"function ret(a, b) {{ return a + b; }}\n"
                   f"function keep(a, b) {{ c = a + b; return c; }}\n"
                   f"arrow = fn(a, b) => a + b;\n"
                   f"function expr(a, b) {{ return [a + b][0]; }}\n"
                   f"results = [];\n"
                   f"for (f in [expr, ret, keep, arrow]) {{\n"
                   f"    try {{ results.append(f({left}, {right})); }}\n"
                   f"    except (e) {{ results.append(e.type + \": \" + e.message); }}\n"
                   f"}}\n"
                   f"print(results[0]); print(results[1]); print(results[2]); print(results[3]);")
        lines = out(program).splitlines()
        assert len(lines) == 4 and len(set(lines)) == 1, lines

    @pytest.mark.parametrize("left, right", [("null", "1"), ("1", "null"), ("[1]", "1"),
                                             ("1", "[1]"), ("{}", "{}"), ("print", "1")])
    def test_mismatches_report_the_plus(self, left, right):
        expected = mlpy.run(f"x = {left} + {right};")
        assert not expected.success
        r = fails(f"function add(a, b) {{\n  return a + b;\n}}\nx = add({left}, {right});",
                  "TypeError", expected.error, line=2)
        assert r.column == 12

    def test_type_error_inside_an_operand_is_not_the_plus(self):
        # a TypeError raised while computing an operand keeps its own line and message
        r = fails("function bad(s) {\n  return s - 1;\n}\nfunction f() {\n"
                  "  return bad(\"s\") + 1;\n}\nx = f();", "TypeError", line=2)
        assert "for -" in r.error
        assert caught("function f(n) { return (n - 1) + 1; } f(\"s\");").startswith(
            "TypeError|unsupported operand type(s) for -")

    def test_operands_evaluate_once_left_to_right(self):
        program = """
        log = [];
        function t(v) { log.append(v); return v; }
        function f() { return t(1) + t(2); }
        x = t("a") + t(3);
        print(f(), x, log);
        """
        assert out(program) == '3 a3 ["a", 3, 1, 2]\n'

    def test_left_name_is_read_before_the_right_operand_runs(self):
        program = """
        x = 1;
        function bump() { nonlocal x; x = 100; return 2; }
        function f() { return x + bump(); }
        y = x + bump();
        x = 1;
        print(y, f());
        """
        assert out(program) == "3 3\n"

    def test_concatenation_caps_still_apply(self):
        def limit_error(source):
            context = ExecutionContext(output=OutputSink(),
                                       limits=Limits(max_string=1_500_000,
                                                     max_sequence=1_500_000))
            outcome = execute(mlpy.compile(source), new_namespace(), context)
            assert not outcome.success and outcome.error.type == "LimitError"
            return outcome.error

        error = limit_error('function twice(v) { return v + v; }\n'
                            's = "x" * 1000000;\nt = twice(s);')
        assert "string of 2000000 characters" in error.message and error.line == 1
        error = limit_error("function join(a, b) {\n  c = a + b;\n  return c;\n}\n"
                            "r = [0] * 1000000;\nx = join(r, r);")
        assert "2000000" in error.message and error.line == 2


class TestArithmetic:
    @pytest.mark.parametrize("expression, text", [
        ("7 / 2", "3.5"), ("8 / 2", "4.0"), ("-7 // 2", "-4"), ("7 // 2", "3"),
        ("-7 % 3", "2"), ("7 % -3", "-2"), ("7.5 // 2", "3.0"), ("7.5 % 2", "1.5"),
        ("2 * 3 - 4", "2"), ("10 - 2 - 3", "5"), ("-(3)", "-3"), ("- -3", "3"),
        ("true * 5", "5"), ("false + 1", "1"), ('"ab" * 3', "ababab"), ('3 * "ab"', "ababab"),
        ("[0] * 4", "[0, 0, 0, 0]"), ('"ab" * 0', ""), ("[1] * -2", "[]"),
        ("123456789012345678901234567890 * 10", "1234567890123456789012345678900"),
        ("99999999999999999999 + 1", "100000000000000000000"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_integer_results(self):
        assert show("typeof(7 // 2) + typeof(-7 % 3)") == "numbernumber"
        assert out("x = 6 // 3; print(x, 6 / 3);") == "2 2.0\n"

    def test_products_of_integer_locals(self):
        # `i` is a counter (`*` by it needs no size check), `x` is squared (it does)
        program = """
        function f(n) {
            i = 0; s = 0; x = 3;
            while (i < n) { s = s + i * i; x = x * x % 1000003; i = i + 1; }
            return [s, x, i * 3000000000];
        }
        print(f(50));
        """
        expected = [sum(i * i for i in range(50)), None, 50 * 3000000000]
        x = 3
        for _ in range(50):
            x = x * x % 1000003
        expected[1] = x
        assert out(program) == f"[{expected[0]}, {expected[1]}, {expected[2]}]\n"

    def test_repeated_arrays_share_elements(self):
        assert out("a = [[0]] * 2; a[0].append(1); print(a);") == "[[0, 1], [0, 1]]\n"

    @pytest.mark.parametrize("expression", ["1 / 0", "1 // 0", "1 % 0", "1.0 / 0", "1 % 0.0",
                                            "5 // 0.0", "0 / 0"])
    def test_division_by_zero(self, expression):
        fails(f"x = 1;\ny = {expression};", "ZeroDivisionError", "division by zero", line=2)

    def test_big_integer_text_limit(self):
        fails("x = 1; for (i in range(5000)) { x = x * 10; } s = str(x);", "ValueError")
        assert out("x = 1; for (i in range(4000)) { x = x * 10; } print(len(str(x)));") == "4001\n"

    def test_overflow(self):
        fails("x = 1; for (i in range(400)) { x = x * 10; } y = x + 1.0;", "OverflowError",
              "int too large to convert to float")
        fails("x = 1; for (i in range(400)) { x = x * 10; } y = x / 3;", "OverflowError")

    def test_bad_operand_types(self):
        fails('x = "a" - 1;', "TypeError")
        fails("x = null * 2;", "TypeError")
        fails('x = -"a";', "TypeError")
        fails("x = [1] - [1];", "TypeError")


class TestComparison:
    @pytest.mark.parametrize("expression, text", [
        ("1 == 1.0", "true"), ("true == 1", "true"), ('"1" == 1', "false"),
        ("[1, [2, 3]] == [1, [2, 3]]", "true"), ("[1, 2] == [2, 1]", "false"),
        ("{a: 1, b: [2]} == {b: [2], a: 1}", "true"), ("{a: 1} == {a: 2}", "false"),
        ("null == null", "true"), ("null == false", "false"), ('null == ""', "false"),
        ("0 == false", "true"), ("[] == {}", "false"), ("1 != 2", "true"),
        ('"a" != "a"', "false"), ("print == print", "true"), ("print == len", "false"),
        ('"abc" < "abd"', "true"), ('"B" < "a"', "true"), ("[1, 2] < [1, 3]", "true"),
        ("[1, 2] < [1, 2, 0]", "true"), ("2 <= 2", "true"), ("2.5 > 2", "true"),
        ("3 >= 4", "false"), ("true > false", "true"),
        ("1 < 2 < 3", "true"), ("3 > 2 > 1", "false"), ("1 == 1 == 1", "true"),
        ("2 == 2 == 2", "false"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_ordering_errors(self):
        fails('x = 1 < "a";', "TypeError", "'<' not supported between instances of 'int' and 'str'")
        fails('x = "a" >= 1;', "TypeError")
        fails("x = {} < {};", "TypeError")
        fails("x = null < 1;", "TypeError")

    def test_equality_of_cyclic_containers_never_raises(self):
        r = mlpy.run("a = []; a.append(a); b = []; b.append(b);\n"
                     "result = [a == a, a != a, a == b, a != b, a == 1];")
        assert r.success, f"{r.error_type}: {r.error}"
        eq_aa, ne_aa, eq_ab, ne_ab, eq_a1 = r.value
        assert (eq_aa, ne_aa, eq_a1) == (True, False, False)
        assert eq_ab is not ne_ab
        r = mlpy.run("o = {}; o.me = o; p = {}; p.me = p; result = [o == p, o != p];")
        assert r.success, f"{r.error_type}: {r.error}"

    def test_equality_never_raises(self):
        assert show('[1, "a", null] == [1, "a", null] && !({a: print} == 1) && !(iter([]) == 1)') \
            == "true"


class TestTruthinessAndLogic:
    def test_falsy_and_truthy(self):
        falsy = ["false", "null", "0", "0.0", '""', "[]", "{}"]
        truthy = ['"0"', "[0]", "{a: 0}", "print", "fn() => 0", "-1", "0.1", '" "', "true"]
        for v in falsy:
            assert out(f"if ({v}) {{ print(1); }} else {{ print(0); }}") == "0\n", v
            assert show(f"bool({v})") == "false", v
            assert show(f"!{v}" if v[0] not in "-" else f"!({v})") == "true", v
        for v in truthy:
            assert out(f"if ({v}) {{ print(1); }} else {{ print(0); }}") == "1\n", v
            assert show(f"bool({v})") == "true", v
        assert out("while ([]) { print(1); } print(2);") == "2\n"

    @pytest.mark.parametrize("expression, text", [
        ('0 || "d"', "d"), ("null && 1", "null"), ("1 && 2", "2"), ('"" || 0', "0"),
        ('"a" || "b"', "a"), ("[] && 1", "[]"), ("0 && x_never", "0"), ("1 || x_never", "1"),
        ("!1", "false"), ("!null", "true"), ("typeof(!0)", "boolean"),
    ])
    def test_operands_returned(self, expression, text):
        assert show(expression) == text

    def test_short_circuit_and_conditional_evaluate_only_needed(self):
        src = ("log = [];\nfunction t(v) { log.append(v); return v; }\n"
               "x = t(0) && t(1); y = t(2) || t(3); z = t(true) ? t(4) : t(5); w = t(false) ? t(6) : t(7);\n"
               "print(log, x, y, z, w);")
        assert out(src) == "[0, 2, true, 4, false, 7] 0 2 4 7\n"

    def test_nested_ternary(self):
        src = 'function g(n) { return n < 0 ? "neg" : n == 0 ? "zero" : "pos"; } print(g(-1), g(0), g(5));'
        assert out(src) == "neg zero pos\n"
        assert show("(true ? 1 : 2) + 10") == "11"
        assert show("true ? 1 : 2 + 10") == "1"


class TestEvaluationOrder:
    def test_operands_and_arguments_left_to_right_callee_first(self):
        src = ("log = [];\nfunction t(v) { log.append(v); return v; }\n"
               "function callee() { log.append(\"callee\"); return fn(a, b) => a + b; }\n"
               "x = t(1) + t(2) * t(3); y = callee()(t(4), t(5)); print(log);")
        assert out(src) == '[1, 2, 3, "callee", 4, 5]\n'

    def test_assignment_evaluates_right_side_first(self):
        src = ("log = [];\nfunction t(v) { log.append(v); return v; }\n"
               "a = [0, 0]; o = {};\n"
               "t(a)[t(1)] = t(\"rhs\"); t(o).k = t(\"rhs2\"); print(log, a, o);")
        # the log holds the (since mutated) array and object themselves
        assert out(src) == ('["rhs", [0, "rhs"], 1, "rhs2", {"k": "rhs2"}] '
                            '[0, "rhs"] {"k": "rhs2"}\n')


# ------------------------------------------------------------------ indexing, members
class TestIndexing:
    @pytest.mark.parametrize("expression, text", [
        ("[1, 2, 3][0]", "1"), ("[1, 2, 3][-1]", "3"), ('"abc"[1]', "b"), ('"abc"[-3]', "a"),
        ('{a: 1}["a"]', "1"), ("[1, 2, 3, 4][1:3]", "[2, 3]"), ('"hello"[::-1]', "olleh"),
        ("[1, 2, 3][-2:]", "[2, 3]"), ("[1, 2][5:10]", "[]"), ("[1, 2, 3, 4, 5][::2]", "[1, 3, 5]"),
        ('"hello"[1:-1]', "ell"), ("[1, 2, 3][:]", "[1, 2, 3]"), ("[1, 2, 3][-100:100]", "[1, 2, 3]"),
        ('"abc"[10:]', ""), ("[1, 2, 3][::-1]", "[3, 2, 1]"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_index_errors(self):
        fails("a = [1];\nx = a[5];", "IndexError", "list index out of range", line=2)
        fails("x = [1][-2];", "IndexError", "list index out of range")
        fails('x = "ab"[5];', "IndexError", "string index out of range")
        fails('x = [1]["a"];', "TypeError")
        fails("x = [1, 2][1.0];", "TypeError")
        fails('x = "ab"[null];', "TypeError")

    def test_key_errors(self):
        fails('o = {a: 1};\nx = o["b"];', "KeyError", "'b'", line=2)
        fails("o = {}; x = o[5];", "KeyError", "5")
        fails("o = {}; x = o[true];", "KeyError", "true")

    def test_slice_step_zero(self):
        fails("x = [1, 2][::0];", "ValueError")
        fails('x = "ab"[::0];', "ValueError")

    def test_slice_is_a_copy(self):
        assert out("a = [1, 2]; b = a[:]; b.append(3); print(a, b);") == "[1, 2] [1, 2, 3]\n"

    def test_conditional_inside_index(self):
        assert out("a = [10, 20, 30]; c = true; print(a[c ? 1 : 2], a[(c ? 1 : 2):]);") == \
            "20 [20, 30]\n"


class TestMembers:
    def test_object_members(self):
        assert out("o = {a: 1}; print(o.a, o.b);") == "1 null\n"
        assert show("{a: 1, b: 2}.length") == "2"
        assert show("{length: 10, a: 1}.length") == "10"
        assert show("{}.length") == "0"

    def test_length_everywhere(self):
        assert show('"abc".length + [1, 2].length + "".length') == "5"
        assert out('s = "héllo"; print(s.length);') == "5\n"

    def test_attribute_errors(self):
        fails('x = "abc".foo;', "AttributeError")
        fails("x = [1].map;", "AttributeError")
        fails("n = 5; x = n.x;", "AttributeError")
        fails("x = null.x;", "AttributeError")
        fails("import math; x = math.nope;", "AttributeError")
        fails("o = {}; o.keys();", "AttributeError", "object has no property 'keys'")

    def test_methods_on_objects_holding_functions(self):
        src = ('ops = {double: fn(x) => x * 2, "add": fn(a, b) => a + b};\n'
               'print(ops.double(21), ops.add(1, 2), ops["add"](3, 4));')
        assert out(src) == "42 3 7\n"

    def test_no_implicit_this(self):
        src = "o = {n: 1, get: fn() => n}; n = 99; print(o.get());"
        assert out(src) == "99\n"

    def test_method_call_errors(self):
        fails("o = {a: 1};\no.g();", "AttributeError", "object has no property 'g'", line=2)
        fails("o = {x: 1};\no.x();", "TypeError", "property 'x' is not a function", line=2)

    def test_bound_methods(self):
        assert out("items = []; f = items.append; f(1); f(2); print(items, typeof(f));") == \
            "[1, 2] function\n"
        assert out('u = "ab".upper; print(u());') == "AB\n"

    def test_calling_non_functions(self):
        fails("x = 5; x();", "TypeError")
        fails('x = "s"(1);', "TypeError")
        fails("x = null();", "TypeError")

    def test_call_any_expression(self):
        src = ("function adder(a) { return fn(b) => a + b; }\n"
               "arr = [fn(x) => x + 1]; t = {ops: {k: fn(y) => y * 3}};\n"
               'print(adder(1)(2), arr[0](1), t.ops["k"](2), (fn(x) => x * 2)(21));')
        assert out(src) == "3 2 6 42\n"


class TestAssignment:
    def test_array_element(self):
        assert out("a = [1, 2, 3]; a[0] = 9; a[-1] = 7; print(a);") == "[9, 2, 7]\n"
        fails("a = [1, 2];\na[5] = 1;", "IndexError", "list assignment index out of range", line=2)
        fails("a = [];\na[0] = 1;", "IndexError", "list assignment index out of range")
        fails("a = [1];\na[-2] = 1;", "IndexError", "list assignment index out of range")

    def test_object_keys_equal_under_eq_are_one_key(self):
        assert out('o = {}; o[1] = "a"; o[1.0] = "b"; o[true] = "c"; print(o, len(o));') == \
            '{1: "c"} 1\n'
        assert out('o = {}; o[1] = "a"; o["1"] = "s"; print(len(o), o[1], o["1"]);') == \
            "2 a s\n"
        assert out('o = {}; o[true] = 1; o[1] = 2; print(o);') == "{true: 2}\n"

    def test_member_and_key_set(self):
        assert out('o = {a: 1}; o.b = 2; o["a"] = 3; print(o);') == '{"a": 3, "b": 2}\n'

    def test_object_literal_repeated_key_keeps_last(self):
        assert out("o = {a: 1, b: 2, a: 3}; print(o);") == '{"a": 3, "b": 2}\n'

    def test_assign_into_string_or_scalar(self):
        fails('s = "abc";\ns[0] = "x";', "TypeError", line=2)
        fails("n = 5;\nn.x = 1;", "TypeError", line=2)
        fails('s = "abc"; s.x = 1;', "TypeError")
        fails("a = [1]; a.x = 1;", "TypeError")

    def test_references(self):
        assert out("a = [1]; b = a; b.append(2); o = {}; p = o; p.k = 1; print(a, o);") == \
            '[1, 2] {"k": 1}\n'


class TestDestructuring:
    def test_ok(self):
        assert out("[a, b] = [1, 2]; print(a, b);") == "1 2\n"
        assert out('[a, b] = "xy"; print(a, b);') == "x y\n"
        assert out("{x, y} = {y: 2, x: 1, z: 3}; print(x, y);") == "1 2\n"
        assert out("a = 1; b = 2; [a, b] = [b, a]; print(a, b);") == "2 1\n"

    def test_errors(self):
        fails("[a, b] = [1, 2, 3];", "ValueError", "too many values to unpack (expected 2)")
        fails("[a, b, c] = [1, 2];", "ValueError", "not enough values to unpack (expected 3, got 2)")
        fails('{a, b} = {a: 1};', "KeyError", "'b'")
        fails("[a] = 5;", "TypeError")


# ------------------------------------------------------------------ functions & scope
class TestFunctions:
    def test_arity_errors(self):
        fails("function f(a, b) { return a; }\nf(1);", "TypeError",
              "f() missing 1 required positional argument: 'b'", line=2)
        fails("function f(a, b) { return a; }\nf(1, 2, 3);", "TypeError",
              "f() takes 2 positional arguments but 3 were given", line=2)
        fails("function g() { }\ng(1);", "TypeError")
        fails("h = fn(x) => x;\nh();", "TypeError", line=2)

    def test_arity_errors_of_nested_functions_use_their_own_name(self):
        fails("function outer() {\n  function inner(a) { }\n  inner();\n}\nouter();", "TypeError",
              "inner() missing 1 required positional argument: 'a'", line=3)
        fails("function o() { function m() { function i(a, b) { } i(1, 2, 3); } m(); }\no();",
              "TypeError", "i() takes 2 positional arguments but 3 were given")
        assert caught("function o() { function m() { g = fn(q) => q; g(); } m(); }\no();") == \
            "TypeError|<function>() missing 1 required positional argument: 'q'"

    def test_return_values(self):
        assert out("function f() { } function g() { return; } print(f(), g());") == "null null\n"
        assert out("function f(x) { if (x) { return 1; } return 2; } print(f(true), f(false));") \
            == "1 2\n"

    def test_annotations_ignored(self):
        assert out("function f(x: number, y: string) { return x + y; } print(f(1, 2));") == "3\n"

    def test_no_hoisting(self):
        fails("f();\nfunction f() { }", "NameError", "name 'f' is not defined", line=1)
        assert out("function a() { return b(); } function b() { return 7; } print(a());") == "7\n"

    def test_function_definition_anywhere(self):
        src = "if (true) { function f() { return 1; } } print(f());"
        assert out(src) == "1\n"

    def test_duplicate_parameters_compile_error(self):
        with pytest.raises(MLSyntaxError):
            mlpy.compile("function f(a, a) { }")
        r = mlpy.run('print("before"); function f(a, a) { }')
        assert not r.success and r.error_type == "SyntaxError" and r.stdout == ""

    def test_closures_capture_variables(self):
        src = ("fs = [];\nfor (i in [1, 2, 3]) { fs.append(fn() => i); }\n"
               "print(fs[0](), fs[2]());\n"
               "function make(v) { return fn() => v; }\n"
               "gs = []; for (j in [1, 2, 3]) { gs.append(make(j)); }\n"
               "print(gs[0](), gs[2]());")
        assert out(src) == "3 3\n1 3\n"

    def test_nonlocal_spec_example(self):
        src = ("total = 0;\nfunction add(n) { nonlocal total; total = total + n; }\n"
               "function counter() {\n    count = 0;\n"
               "    return fn() => { nonlocal count; count = count + 1; return count; };\n}\n"
               "c = counter(); c(); add(5);\nprint(c(), total);")
        assert out(src) == "2 5\n"

    def test_nonlocal_nearest_enclosing(self):
        src = ("x = \"top\";\nfunction outer() {\n  x = \"outer\";\n"
               "  function mid() { function inner() { nonlocal x; x = \"inner\"; } inner(); }\n"
               "  mid(); return x;\n}\nprint(outer(), x);")
        assert out(src) == "inner top\n"

    def test_nonlocal_top_level_target_not_yet_defined(self):
        src = "function setx() { nonlocal late; late = 5; }\nsetx(); print(late);"
        assert out(src) == "5\n"

    def test_nonlocal_at_top_level_is_compile_error(self):
        with pytest.raises(MLSyntaxError):
            mlpy.compile("nonlocal x;")

    def test_nonlocal_after_use_is_compile_error(self):
        with pytest.raises(MLSyntaxError):
            mlpy.compile("function f() { x = 1; nonlocal x; }")

    def test_break_continue_outside_loop(self):
        for src in ["break;", "continue;", "while (true) { function g() { break; } }",
                    "for (x in [1]) { f = fn() => { continue; }; }"]:
            with pytest.raises(MLSyntaxError) as info:
                mlpy.compile(src)
            assert info.value.type == "SyntaxError"

    def test_recursion_1000_deep(self):
        src = ("function d(n) { if (n == 0) { return 0; } return 1 + d(n - 1); }\n"
               "print(d(1000));")
        assert out(src) == "1000\n"

    def test_deeper_recursion_is_catchable_recursion_error(self):
        src = ("function d(n) { if (n == 0) { return 0; } return 1 + d(n - 1); }\n"
               "try { d(1000000); } except (e) { print(e.type, e.message); }\nprint(d(10));")
        assert out(src) == "RecursionError maximum recursion depth exceeded\n10\n"

    def test_uncaught_recursion_error(self):
        fails("function r() { return r(); }\nr();", "RecursionError",
              "maximum recursion depth exceeded")

    def test_error_line_inside_function(self):
        fails("function f() {\n  x = 1;\n  return x / 0;\n}\nf();", "ZeroDivisionError",
              "division by zero", line=3)

    def test_arrow_block_body(self):
        assert out("f = fn(x) => { y = x * 2; return y + 1; }; g = fn() => { }; print(f(3), g());") \
            == "7 {}\n"
        assert out("h = fn() => { print(\"side\"); }; print(h());") == "side\nnull\n"

    def test_arrow_returning_object(self):
        assert out("f = fn() => {}; g = fn(x) => {v: x}; print(f(), g(1), typeof(f()));") == \
            '{} {"v": 1} object\n'


class TestScope:
    def test_local_read_before_assignment(self):
        fails("x = 1;\nfunction f() {\n  print(x);\n  x = 2;\n}\nf();", "NameError",
              "cannot access local variable 'x' where it is not associated with a value", line=3)

    def test_unbound_name(self):
        fails("a = 1;\nb = a + totl;", "NameError", "name 'totl' is not defined", line=2)

    def test_unbound_name_only_when_read_executes(self):
        assert out("if (false) { print(nope); } function f() { return later; } later = 3; "
                   "print(f());") == "3\n"

    def test_assignment_in_function_is_local(self):
        assert out("x = 1; function f() { x = 2; return x; } print(f(), x);") == "2 1\n"

    def test_locals_from_for_destructuring_except_function(self):
        src = ("i = \"top\"; a = \"top\"; e = \"top\"; g = \"top\";\n"
               "function f() {\n  for (i in [1]) { }\n  [a] = [1];\n"
               "  try { throw {}; } except (e) { }\n  function g() { }\n  return i;\n}\n"
               "print(f(), i, a, e, g);")
        assert out(src) == "1 top top top top\n"

    def test_no_block_scope(self):
        assert out("if (true) { z = 1; } while (!w_done) { w_done = true; q = 2; } print(z, q);",
                   context={"w_done": False}) == "1 2\n"

    def test_reads_outer_and_builtins(self):
        assert out("y = 10; function f() { function g() { return y + len(\"ab\"); } return g(); } "
                   "print(f());") == "12\n"

    def test_context_variables(self):
        assert out("print(x + 1); x = 5; print(x);", context={"x": 3}) == "4\n5\n"

    def test_context_variable_names_are_checked(self):
        for name in ["_x", "__builtins__", "if", "true", "caf\u00e9", "1x", "a-b", ""]:
            r = mlpy.run("print(1);", context={name: 1})
            assert not r.success and r.stdout == "", name
        assert out("print(class);", context={"class": 2}) == "2\n"

    def test_result_is_the_value(self):
        r = mlpy.run("result = 2 + 2;")
        assert r.success and r.value == 4
        assert mlpy.run("x = 1;").value is None
        assert mlpy.run('result = {a: [1, "b"]};').value == {"a": [1, "b"]}


class TestForLoops:
    def test_array_appending_during_iteration(self):
        assert out("a = [1, 2];\nfor (x in a) { if (x < 4) { a.append(x + 2); } }\nprint(a, x);") \
            == "[1, 2, 3, 4, 5] 5\n"

    def test_string_object_iterator(self):
        assert out('for (c in "ab") { print(c); }') == "a\nb\n"
        assert out("for (k in {b: 1, a: 2}) { print(k); }") == "b\na\n"
        assert out("it = iter([1, 2]); print(next(it)); for (x in it) { print(x); }") == "1\n2\n"

    def test_changing_key_set_is_runtime_error(self):
        fails("o = {a: 1};\nfor (k in o) {\n  o.b = 2;\n}", "RuntimeError")
        # updating values of existing keys is fine
        assert out("o = {a: 1, b: 2}; for (k in o) { o[k] = o[k] * 10; } print(o);") == \
            '{"a": 10, "b": 20}\n'

    def test_non_iterable(self):
        fails("for (x in 5) { }", "TypeError")
        fails("for (x in null) { }", "TypeError")
        fails("for (x in print) { }", "TypeError")

    def test_variable_keeps_last_value_and_break_continue(self):
        src = ("for (i in range(10)) {\n  if (i == 1) { continue; }\n  if (i == 3) { break; }\n"
               "  print(i);\n}\nprint(i);")
        assert out(src) == "0\n2\n3\n"

    def test_break_is_innermost(self):
        src = ("for (i in [1, 2]) { for (j in [1, 2, 3]) { if (j == 2) { break; } print(i, j); } }")
        assert out(src) == "1 1\n2 1\n"

    def test_while(self):
        assert out("i = 0; while (i < 3) { i = i + 1; if (i == 2) { continue; } print(i); }") == \
            "1\n3\n"


class TestTryExcept:
    def test_runtime_error_value(self):
        src = "try { 1 / 0; } except (e) { print(keys(e), e.type, e.message, typeof(e)); }"
        assert out(src) == '["message", "type"] ZeroDivisionError division by zero object\n'

    def test_spec_throw_example(self):
        src = ('try {\n    throw {type: "ValidationError", message: "age must be positive", field: "age"};\n'
               "} except (e) {\n    print(e.type, e.field, e.message);\n}")
        assert out(src) == "ValidationError age age must be positive\n"

    def test_thrown_defaults_and_key_order(self):
        src = 'try { throw {code: 5}; } except (e) { print(keys(e), e.message, e.type, e.code); }'
        assert out(src) == '["code", "message", "type"] User-defined exception Error 5\n'

    def test_thrown_fields_become_strings(self):
        src = 'try { throw {type: 7, message: 8}; } except (e) { print(typeof(e.type), typeof(e.message), e.type, e.message); }'
        assert out(src) == "string string 7 8\n"

    def test_thrown_value_is_a_copy(self):
        src = ('o = {message: "m"};\ntry { throw o; } except (e) { e.extra = 1; print(e == o); }\n'
               "print(keys(o));")
        assert out(src) == 'false\n["message"]\n'

    def test_throw_non_object(self):
        fails('throw "x";', "TypeError", "throw expects an object, got string")
        fails("throw 5;", "TypeError", "throw expects an object, got number")
        fails("throw null;", "TypeError", "throw expects an object, got null")
        fails("throw [1];", "TypeError", "throw expects an object, got array")
        assert caught('throw "x";') == "TypeError|throw expects an object, got string"

    def test_rethrow_unchanged(self):
        src = ('try {\n  try { throw {type: "A", message: "m", x: 1}; } except (e) { throw e; }\n'
               "} except (e2) { print(e2, keys(e2), e2.type, e2.x); }\n"
               "try {\n  try { [1][3]; } except (e) { throw e; }\n"
               "} except (e3) { print(e3.type, e3.message, keys(e3)); }")
        assert out(src) == ('m ["type", "message", "x"] A 1\n'
                            'IndexError list index out of range ["message", "type"]\n')

    def test_uncaught_throw_reports_type_message_line(self):
        r = fails('x = 1;\nthrow {type: "ValidationError", message: "bad"};', "ValidationError",
                  "bad", line=2)
        assert r.stdout == ""

    def test_e_unbound_afterwards(self):
        fails("try { 1 / 0; } except (e) { }\nprint(e);", "NameError", "name 'e' is not defined",
              line=2)
        # unbound even when the name had a value before the clause
        fails('e = "before";\ntry { 1 / 0; } except (e) { }\nprint(e);', "NameError",
              "name 'e' is not defined", line=3)

    def test_except_without_name_and_only_first_clause(self):
        assert out("try { 1 / 0; } except { print(1); } except (e) { print(2); }") == "1\n"

    def test_finally_runs_on_every_path(self):
        src = ("function f(k) {\n  try {\n    if (k == 1) { return \"ret\"; }\n"
               "    if (k == 2) { 1 / 0; }\n  } except (e) { return \"caught\"; }\n"
               "  finally { print(\"fin\", k); }\n  return \"end\";\n}\n"
               "print(f(1)); print(f(2)); print(f(3));\n"
               "for (i in [1, 2]) { try { break; } finally { print(\"loopfin\"); } }")
        assert out(src) == "fin 1\nret\nfin 2\ncaught\nfin 3\nend\nloopfin\n"

    def test_finally_return_wins(self):
        assert out("function f() { try { return 1; } finally { return 2; } } print(f());") == "2\n"
        assert out("function f() { try { 1 / 0; } finally { return 3; } } print(f());") == "3\n"
        src = "for (i in [1, 2]) { try { throw {}; } finally { continue; } } print(\"after\", i);"
        assert out(src) == "after 2\n"

    def test_uncaught_error_after_finally(self):
        r = fails("try { 1 / 0; } finally { print(\"fin\"); }", "ZeroDivisionError")
        assert r.stdout == "fin\n"

    def test_catches_security_errors_non_strict(self):
        assert caught('x = "".__class__;') == \
            "SecurityError|access to member '__class__' is not allowed"
        assert caught("x = eval;") == "SecurityError|'eval' is not allowed"

    def test_catches_capability_errors(self):
        text = out('import file;\ntry { x = file.read("nope.txt"); } except (e) { print(e.type, e.message); }')
        assert text.startswith("CapabilityError ") and "file.read" in text

    def test_output_before_error_is_kept(self):
        r = fails('print("a");\nprint("b");\nx = [1][2];', "IndexError", line=3)
        assert r.stdout == "a\nb\n"


# ------------------------------------------------------------------ §8 builtins
class TestConversions:
    @pytest.mark.parametrize("expression, text", [
        ("int(true)", "1"), ("int(false)", "0"), ("int(3.9)", "3"), ("int(-3.9)", "-3"),
        ('int("42")', "42"), ('int("3.9")', "3"), ('int("1e3")', "1000"), ('int(" 7 ")', "7"),
        ('int("-12")', "-12"), ("int(10)", "10"),
        ("float(2)", "2.0"), ("float(true)", "1.0"), ('float("2.5")', "2.5"),
        ('float("1e3")', "1000.0"), ('float("inf")', "inf"), ('float(" 1.5 ")', "1.5"),
        ("str(1.0)", "1.0"), ('str("s")', "s"), ('str([1, "a"])', '[1, "a"]'),
        ('repr("s")', '"s"'), ("repr(true)", "true"), ("bool(0)", "false"), ('bool("0")', "true"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_int_types(self):
        assert show('typeof(int("3.9")) + " " + typeof(float(2))') == "number number"
        assert out('x = int("1e3"); print(x + 1);') == "1001\n"

    def test_int_errors(self):
        fails('x = int("abc");', "ValueError", "invalid literal for int() with base 10: 'abc'")
        fails('x = int("");', "ValueError")
        r = mlpy.run("x = int(null);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")
        r = mlpy.run("x = int([1]);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")

    def test_float_errors(self):
        fails('x = float("x");', "ValueError", "could not convert string to float: 'x'")
        r = mlpy.run("x = float(null);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")


class TestTypeof:
    @pytest.mark.parametrize("expression, text", [
        ("1", "number"), ("1.5", "number"), ('""', "string"), ("true", "boolean"),
        ("null", "null"), ("[]", "array"), ("{}", "object"), ("print", "function"),
        ("fn() => 1", "function"), ('"a".upper', "function"), ("[].append", "function"),
        ("iter([])", "unknown"), ("undefined", "null"),
    ])
    def test_kinds(self, expression, text):
        assert show(f"typeof({expression})") == text

    def test_more_kinds(self):
        assert out("function f() {} import math; import regex;\n"
                   'print(typeof(f), typeof(math), typeof(regex.compile("a")), typeof(math.sqrt));') \
            == "function module Pattern function\n"
        assert out("try { x = 1 / 0; } except (e) { print(typeof(e)); }") == "object\n"

    def test_isinstance_and_callable(self):
        assert show('[isinstance(1, "number"), isinstance("a", "number"), isinstance(null, "null")]') \
            == "[true, false, true]"
        assert show("[callable(print), callable(fn() => 1), callable(1), callable(\"print\")]") == \
            "[true, true, false, false]"


class TestCollectionsBuiltins:
    @pytest.mark.parametrize("expression, text", [
        ('len("héllo")', "5"), ("len([1, 2])", "2"), ("len({a: 1})", "1"), ("len(5)", "0"),
        ("len(null)", "0"),
        ("range(3)", "[0, 1, 2]"), ("range(1, 4)", "[1, 2, 3]"), ("range(0, 10, 3)", "[0, 3, 6, 9]"),
        ("range(5, 0, -2)", "[5, 3, 1]"), ("range(0)", "[]"), ("range(-2)", "[]"),
        ('enumerate(["a", "b"])', '[[0, "a"], [1, "b"]]'), ('enumerate(["a"], 1)', '[[1, "a"]]'),
        ('zip([1, 2, 3], ["a", "b"])', '[[1, "a"], [2, "b"]]'),
        ("zip([1, 2], [3, 4], [5, 6])", "[[1, 3, 5], [2, 4, 6]]"),
        ("sorted([3, 1, 2])", "[1, 2, 3]"), ("sorted([3, 1, 2], true)", "[3, 2, 1]"),
        ('sorted(["b", "a", "C"])', '["C", "a", "b"]'), ("sorted([[2], [1, 5], [1]])", "[[1], [1, 5], [2]]"),
        ("sorted([1.0, 1, true])", "[1.0, 1, true]"), ("sorted([true, 1, 1.0], true)", "[true, 1, 1.0]"),
        ('reversed("abc")', '["c", "b", "a"]'), ("reversed([1, 2])", "[2, 1]"),
        ("keys({b: 1, a: 2})", '["b", "a"]'), ("values({b: 1, a: 2})", "[1, 2]"),
        ("sum([1, 2, 3])", "6"), ("sum([1, 2], 10)", "13"), ("sum([0.5, 0.5])", "1.0"), ("sum([])", "0"),
        ("all([])", "true"), ("any([])", "false"), ("all([1, 0])", "false"), ("any([0, null, 2])", "true"),
        ("abs(-3)", "3"), ("abs(-2.5)", "2.5"), ("abs(4)", "4"),
        ("min(3, 1, 2)", "1"), ("max([1, 5, 2])", "5"), ("min([])", "null"), ("max()", "null"),
        ("min(1, 1.0)", "1"), ("max(1.0, 1)", "1.0"), ('max("a", "b")', "b"), ("min([[2], [1]])", "[1]"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_sorted_returns_new_array(self):
        assert out("a = [2, 1]; b = sorted(a); print(a, b);") == "[2, 1] [1, 2]\n"

    def test_errors(self):
        fails("x = range(1, 2, 0);", "ValueError")
        fails('x = sorted([1, "a"]);', "TypeError")
        fails('x = min(1, "a");', "TypeError")

    def test_iterators(self):
        assert out('it = iter("ab"); print(next(it), next(it), next(it, "done"));') == "a b done\n"
        assert out("it = iter({x: 1, y: 2}); print(next(it), next(it), next(it, null));") == \
            "x y null\n"
        fails("it = iter([1]);\nnext(it);\nnext(it);", "RuntimeError",
              "Iterator exhausted - use default parameter to avoid error", line=3)


class TestNumberBuiltins:
    @pytest.mark.parametrize("expression, text", [
        ("round(2.5)", "2.0"), ("round(3.5)", "4.0"), ("round(-2.5)", "-2.0"), ("round(0.5)", "0.0"),
        ("round(2.675, 2)", "2.67"), ("round(7)", "7"), ("round(1.23456, 3)", "1.235"),
        ("typeof(round(7))", "number"),
        ("chr(65)", "A"), ('ord("A")', "65"), ("chr(233)", "é"), ("hex(255)", "0xff"), ("bin(5)", "0b101"),
        ("oct(8)", "0o10"), ("hex(-1)", "-0x1"),
        ('format(3.14159, ".2f")', "3.14"), ('format(42, "05d")', "00042"),
        ('format(1234567, ",")', "1,234,567"), ('format(0.25, ".0%")', "25%"),
        ('format(null, "*>6")', "**null"), ('format(true, ">5")', " true"),
        ('format("ab", "^6")', "  ab  "), ('format([1], ">4")', " [1]"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_round_int_out_is_int(self):
        assert out("x = round(7); print(x, x * 2, round(7.0));") == "7 14 7.0\n"


class TestMiscBuiltins:
    def test_builtin_arity_errors_use_ml_names(self):
        fails("x = len();", "TypeError", "len() missing 1 required positional argument: 'x'")
        fails("x = range(1, 2, 3, 4);", "TypeError",
              "range() takes from 1 to 3 positional arguments but 4 were given")
        fails("x = typeof();", "TypeError")
        for name in ["len", "range", "typeof", "getattr", "format", "callable", "hasCapability",
                     "module_info", "enumerate", "str", "int"]:
            r = mlpy.run(f"x = {name}(1, 2, 3, 4, 5, 6);")
            assert not r.success and r.error_type == "TypeError", name
            assert "_(" not in r.error and "_()" not in r.error, r.error

    def test_call(self):
        assert show("call(fn(a, b) => a - b, 5, 3)") == "2"
        assert show("call(max, 1, 9)") == "9"

    def test_input_not_available_in_run(self):
        fails("x = input();", "RuntimeError", "input is not available")
        assert caught('x = input("? ");') == "RuntimeError|input is not available"

    def test_hasattr_getattr(self):
        src = ('print(hasattr("abc", "upper"), hasattr("abc", "nope"), hasattr({a: 1}, "a"), '
               'hasattr({a: 1}, "b"), hasattr([1], "length"), hasattr(5, "x"));\n'
               'print(getattr({a: 1}, "b", 5), getattr({a: 1}, "a"), getattr("abc", "length"), '
               'getattr(5, "x", "d"), getattr({a: 1}, "zz"));\n'
               'print(hasattr({_x: 1}, "_x"), getattr({_x: 1}, "_x", "no"), '
               'getattr("s", "__class__"), hasattr(print, "__call__"));')
        assert out(src) == ("true false true false true false\n"
                            "5 1 3 d null\n"
                            "false no null false\n")

    def test_getattr_method_is_bound(self):
        assert out('u = getattr("ab", "upper"); print(u());') == "AB\n"

    def test_builtin_namespace(self):
        assert out('print(builtin.len("ab"), typeof(builtin.print));') == "2 function\n"
        assert out('len = fn(x) => 0; print(len("ab"), builtin.len("ab"));') == "0 2\n"

    def test_help(self):
        text = show("help(len)")
        assert text.rstrip().endswith("Capabilities: None required"), text
        assert show("help(42)").startswith("No help available for")
        assert out("import file; print(help(file.read));").rstrip().endswith("Requires: file.read")
        assert "Capabilities: None required" in out("import math; print(help(math));")

    def test_methods(self):
        string_methods = {"upper", "lower", "capitalize", "title", "swapcase", "strip", "lstrip",
                          "rstrip", "replace", "split", "rsplit", "join", "startswith",
                          "endswith", "find", "rfind", "index", "rindex", "count", "isdigit",
                          "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle",
                          "center", "ljust", "rjust"}
        array_methods = {"append", "extend", "insert", "remove", "clear", "sort", "reverse",
                         "pop", "index", "count", "copy"}
        r = mlpy.run('result = [methods("s"), methods([]), methods(5), methods(null)];')
        assert r.success, r.error
        strs, arrs, num, nul = r.value
        assert strs == sorted(strs) and arrs == sorted(arrs)
        assert string_methods <= set(strs) <= string_methods | {"length"}
        assert array_methods <= set(arrs) <= array_methods | {"length"}
        assert num == [] and nul == []
        r = mlpy.run('import math; result = methods(math);')
        assert "sqrt" in r.value and r.value == sorted(r.value)
        assert not any(name.startswith("_") for name in r.value)

    def test_modules(self):
        r = mlpy.run("result = [modules(), has_module(\"math\"), has_module(\"nope\"), "
                     "has_module(\"os\"), module_info(\"nope\")];")
        assert r.success, r.error
        mods, yes, no, os_, info = r.value
        assert mods == sorted(mods)
        assert {"console", "math", "json", "collections", "functional", "regex", "datetime",
                "random", "file", "path", "http", "env", "args", "csv", "crypto", "log"} <= set(mods)
        assert (yes, no, os_, info) == (True, False, False, None)
        r = mlpy.run('result = module_info("math");')
        assert set(r.value) == {"name", "description", "functions", "capabilities"}
        assert r.value["name"] == "math" and "sqrt" in r.value["functions"]
        r = mlpy.run('result = available_modules();')
        assert "math" in r.value

    def test_capability_builtins(self):
        r = mlpy.run('import file; import math; result = [hasCapability("file.read"), '
                     'getCapabilities(), getCapabilityInfo("file.read"), '
                     'requiredCapabilities(file.read), requiredCapabilities(print), '
                     'requiredCapabilities(math.sqrt)];')
        assert r.success, r.error
        assert r.value == [False, [], None, ["file.read"], [], []]
        r = mlpy.run('result = [hasCapability("file.read"), getCapabilities(), '
                     'getCapabilityInfo("file.read")];', capabilities=("path.read", "file.read"))
        has, caps, info = r.value
        assert has is True and caps == ["file.read", "path.read"]
        assert set(info) == {"type", "available", "usage_count", "patterns", "operations",
                             "max_usage", "expires_at"}

    def test_capability_block_grants_nothing(self):
        src = ('capability C { allow read "x"; }\nimport file;\n'
               'try { file.read("x"); } except (e) { print(e.type); }\nprint(getCapabilities());')
        assert out(src) == "CapabilityError\n[]\n"


# ------------------------------------------------------------------ §9 methods
class TestStringMethods:
    @pytest.mark.parametrize("expression, text", [
        ('"aBc".upper()', "ABC"), ('"aBc".lower()', "abc"), ('"hello world".capitalize()', "Hello world"),
        ('"hello world".title()', "Hello World"), ('"aBc".swapcase()', "AbC"),
        ('"  x  ".strip() + "|"', "x|"), ('"xxaxx".strip("x")', "a"), ('"  x".lstrip()', "x"),
        ('"x  ".rstrip() + "|"', "x|"), ('"a-b-c".replace("-", "+")', "a+b+c"),
        ('"a-b-c".replace("-", "+", 1)', "a+b-c"), ('" a  b ".split()', '["a", "b"]'),
        ('"a,b,,c".split(",")', '["a", "b", "", "c"]'), ('"a,b,c".split(",", 1)', '["a", "b,c"]'),
        ('"a,b,c".rsplit(",", 1)', '["a,b", "c"]'), ('"-".join(["a", "b"])', "a-b"),
        ('"abc".startswith("ab")', "true"), ('"abc".endswith("bc")', "true"),
        ('"abcabc".find("c")', "2"), ('"abc".find("z")', "-1"), ('"abcabc".rfind("c")', "5"),
        ('"abcabc".index("b")', "1"), ('"abcabc".rindex("b")', "4"), ('"aaa".count("a")', "3"),
        ('"123".isdigit()', "true"), ('"ab1".isalpha()', "false"), ('"ab1".isalnum()', "true"),
        ('" ".isspace()', "true"), ('"AB".isupper()', "true"), ('"ab".islower()', "true"),
        ('"Ab Cd".istitle()', "true"), ('"ab".center(6, "*")', "**ab**"), ('"ab".ljust(4, ".")', "ab.."),
        ('"ab".rjust(4)', "  ab"), ('"7".rjust(3, "0")', "007"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_strings_are_immutable(self):
        assert out('s = "ab"; t = s.upper(); print(s, t);') == "ab AB\n"

    def test_errors(self):
        fails('x = "abc".index("z");', "ValueError", "substring not found")
        fails('x = "abc".rindex("z");', "ValueError", "substring not found")
        fails('x = "-".join([1, 2]);', "TypeError")

    @pytest.mark.parametrize("name", ["encode", "format", "zfill", "partition", "splitlines",
                                      "casefold", "expandtabs", "maketrans", "translate",
                                      "removeprefix", "keys", "length_of"])
    def test_other_members_are_attribute_errors(self, name):
        fails(f'x = "abc".{name};', "AttributeError")
        fails(f'x = "abc".{name}();', "AttributeError")


class TestArrayMethods:
    def test_mutators_return_null(self):
        src = ("a = [3, 1];\nprint(a.append(2), a.extend([5]), a.insert(0, 9), a.remove(1), "
               "a.sort(), a.reverse(), a);\nb = [1]; print(b.clear(), b);")
        assert out(src) == "null null null null null null [9, 5, 3, 2]\nnull []\n"

    def test_pop_index_count_copy(self):
        src = ("a = [1, 2, 3, 2];\nprint(a.pop(), a.pop(0), a, a.index(2), a.count(2));\n"
               "c = a.copy(); c.append(7); print(a, c);\n"
               "n = [[1]]; m = n.copy(); m[0].append(2); print(n);")
        assert out(src) == "2 1 [2, 3] 0 1\n[2, 3] [2, 3, 7]\n[[1, 2]]\n"

    def test_errors(self):
        fails("a = [];\na.pop();", "IndexError", "pop from empty list", line=2)
        fails("x = [1].index(5);", "ValueError", "5 is not in list")
        fails("a = [1]; a.remove(5);", "ValueError")
        fails('a = [1, "a"]; a.sort();', "TypeError")
        fails("a = [1]; a.pop(5);", "IndexError")

    @pytest.mark.parametrize("name", ["map", "filter", "push", "len", "length_of", "keys",
                                      "sorted", "join"])
    def test_other_members_are_attribute_errors(self, name):
        fails(f"x = [1].{name};", "AttributeError")


# ------------------------------------------------------------------ names
class TestNames:
    def test_python_keywords_as_ml_names(self):
        src = ("class = 1; from = 2; None = 5;\ndef = fn(lambda) => lambda + 1;\n"
               "function is(not, and, or) { return not + and + or; }\n"
               "print(class + from, def(None), is(1, 2, 3), None);\n"
               "o = {class: 1, def: 2}; print(o.class + o.def);\n"
               "for (pass in [1]) { print(pass); }\n"
               "try { throw {}; } except (raise) { print(raise.type); }")
        assert out(src) == "3 6 6 5\n3\n1\nError\n"

    def test_non_keyword_js_words_are_names(self):
        assert out("new = 1; this = 2; let = 3; var = 4; const = 5; switch = 6; do = 7; "
                   "print(new + this + let + var + const + switch + do);") == "28\n"

    def test_builtins_shadowing(self):
        src = ("function len(x) { return 42; }\nprint(len(\"a\"));\n"
               "function f(print) { return print; }\nprint(f(3));\n"
               "max = 3; print(max);\n"
               "function g() { str = fn(x) => \"local\"; return str(1); }\nprint(g(), str(1));")
        assert out(src) == "42\n3\n3\nlocal 1\n"

    def test_shadowing_print_in_calls(self):
        r = mlpy.run("log = []; print = fn(x) => log.append(x); print(\"hidden\"); result = log;")
        assert r.success and r.stdout == "" and r.value == ["hidden"]

    def test_undefined_reads_null(self):
        assert out("print(undefined, undefined == null);") == "null true\n"
        assert out("undefined = 5; print(undefined);") == "5\n"
        assert out("function f() { return undefined; } print(f());") == "null\n"

    def test_allowed_own_names_that_python_denies(self):
        assert out("dir = \"d\"; open = fn() => 1; vars = 2; print(dir, open(), vars);") == \
            "d 1 2\n"


# ------------------------------------------------------------------ top-level return, interactive
class TestProgramLevel:
    def test_compile_leaves_the_gc_threshold_as_it_found_it(self):
        import gc
        before = gc.get_threshold()
        try:
            gc.set_threshold(900, 11, 12)
            mlpy.compile("x = 1;", cache=False)
            assert gc.get_threshold() == (900, 11, 12)
            with pytest.raises(MLSyntaxError):
                mlpy.compile("x = ;", cache=False)
            assert gc.get_threshold() == (900, 11, 12)
        finally:
            gc.set_threshold(*before)

    def test_top_level_return(self):
        r = mlpy.run("print(1);\nif (true) { return; }\nprint(2);")
        assert r.success and r.stdout == "1\n"

    def test_missing_semicolon_non_interactive(self):
        with pytest.raises(MLSyntaxError):
            mlpy.compile("x = 1")
        r = mlpy.run("x = 1")
        assert not r.success and r.error.startswith("Parse error:")

    def run_cell(self, source: str, namespace=None):
        program = mlpy.compile(source, interactive=True)
        namespace = new_namespace() if namespace is None else namespace
        sink = OutputSink()
        outcome = execute(program, namespace, ExecutionContext(output=sink))
        return program, outcome, sink.text(), namespace

    def test_interactive_final_expression_without_semicolon(self):
        program, outcome, text, _ = self.run_cell("x = 2;\nx * 21")
        assert program.interactive and program.has_display
        assert outcome.success and outcome.has_display and outcome.display_value == 42
        assert text == ""

    def test_interactive_final_statement_with_semicolon_and_assignment(self):
        program, outcome, _, _ = self.run_cell("x = 5")
        assert outcome.success and not outcome.has_display
        program, outcome, _, _ = self.run_cell('"shown";')
        assert outcome.success and outcome.has_display and outcome.display_value == "shown"

    def test_interactive_persistent_namespace(self):
        _, _, _, ns = self.run_cell("function sq(n) { return n * n; }\nbase = 3")
        _, outcome, text, _ = self.run_cell("print(sq(base))\n", ns)
        assert outcome.success and text == "9\n"
        _, outcome, _, _ = self.run_cell("sq(base) + 1", ns)
        assert outcome.display_value == 10

    def test_interactive_null_shows_nothing(self):
        _, outcome, _, _ = self.run_cell("null")
        assert outcome.success
        assert not outcome.has_display or outcome.display_value is None

    def test_interactive_still_needs_inner_semicolons(self):
        with pytest.raises(MLSyntaxError):
            mlpy.compile("x = 1\ny = 2", interactive=True)

    def test_parse_error_before_anything_runs(self):
        r = mlpy.run('print("ran");\nx = ;')
        assert not r.success and r.stdout == "" and r.line == 2

    def test_timeout(self):
        r = mlpy.run("while (true) { }", timeout=0.5)
        assert not r.success and r.error_type == "TimeoutError"
        r = mlpy.run("while (true) { try { x = 1; } except (e) { } }", timeout=0.5)
        assert not r.success and r.error_type == "TimeoutError"
