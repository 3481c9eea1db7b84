"""Values and printing (spec §5): text forms and the container form of print.

Run through `mlpy.run` / `mlpy.compile` with the shared helpers of tests/mltest.py."""

from __future__ import annotations

import pytest

from mltest import ml_out as out
from mltest import ml_show as show


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
