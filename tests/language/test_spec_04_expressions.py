"""Expressions (spec §4): +, arithmetic, comparison, logic, evaluation order, indexing, members, assignment, destructuring.

Run through `mlpy.run` / `mlpy.compile` with the shared helpers of tests/mltest.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpy
from mlpy.runner import execute
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink
from mlpy.runtime.namespace import new_namespace
from mltest import ml_caught as caught
from mltest import ml_fails as fails
from mltest import ml_out as out
from mltest import ml_show as show


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
        # both operands calls (kept in a pair of temporaries): the second one's error too
        r = fails("function bad(s) {\n  return s - 1;\n}\nfunction f() {\n"
                  "  return bad(2) + bad(\"s\");\n}\nx = f();", "TypeError", line=2)
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


@pytest.mark.parametrize("value,shown", [("7", "7"), ("-3", "-3"), ("2.5", "2.5"),
                                         ("true", "true"), ("null", "null"), ('"z"', "z"),
                                         ("[1, \"a\"]", '[1, "a"]'), ("{k: 1}", '{"k": 1}')])
def test_concatenation_with_a_name_of_any_type(value, shown):
    """`s + "x" + i`, `"item" + i`, `i + "!"` (the compiler writes an int's text inline):
    D9's str() of the other operand whatever the name holds, at top level and in functions."""
    expected = f"ax{shown} item{shown} {shown}!"
    assert out(f's = "a"; i = {value}; print(s + "x" + i, "item" + i, i + "!");') \
        == expected + "\n"
    assert out(f'function f(s, i) {{ return [s + "x" + i, "item" + i, i + "!"]; }}'
                  f' r = f("a", {value}); print(r[0], r[1], r[2]);') == expected + "\n"


def test_concatenation_with_a_number_on_the_left_of_the_literal():
    assert out('s = 3; i = 4; print(s + "x" + i);') == "3x4\n"
    fails('s = null; i = 4; x = s - "x" + i;', "TypeError")
