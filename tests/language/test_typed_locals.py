"""Locals a function only ever gives strings or arrays, and `for (i in range(...))`: the
compiler's cheaper shapes for them (Scope.strs / Scope.lists, `__ml_range_iter`, `len` on such
a local) must give exactly ML's results, errors and size caps.

Each shape is first checked to be in the generated Python (so these tests cover it), then run
through `mlpy.run`, the runner with a shared namespace, or the `mlpy` command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlpy
from mlpy.runner import execute
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink
from mlpy.runtime.namespace import new_namespace
from mltest import ml_fails as fails
from mltest import ml_out as out

REPO = Path(__file__).resolve().parents[2]

BUILD = """
function build(n) {
    parts = [];
    s = "";
    for (i in range(n)) {
        s = s + "x" + i;
        if (len(s) > 12) { parts.append(s); s = ""; }
    }
    return [parts, len(parts), len(s), s];
}
"""


def python_of(source: str) -> str:
    return mlpy.compile(source, cache=False).python_source


def run_in(namespace: dict, source: str, limits: Limits | None = None):
    context = ExecutionContext(output=OutputSink(), limits=limits or Limits())
    return execute(mlpy.compile(source), namespace, context)


class TestShapes:
    def test_string_and_array_locals_take_the_plain_forms(self):
        py = python_of(BUILD)
        assert "s = s + 'x' + __ml_int_text(i) if __ml_type(i) is __ml_int" in py
        assert "__ml_py_len(s) if len is __ml_len else len(s)" in py
        assert "parts.append(s)" in py and "__ml_meth(parts" not in py
        assert "for i in __ml_range_iter(range, n):" in py

    def test_parameters_and_mixed_locals_keep_the_checks(self):
        py = python_of('function f(s, t) { u = "a"; u = 1; return [len(s), s + "x", u + "x",'
                       ' len(t), t.append(1)]; }')
        assert "__ml_py_len" not in py and "__ml_meth(t, 'append')" in py
        assert "__ml_type(s) is __ml_str" in py and "__ml_type(u) is __ml_str" in py

    def test_local_range_or_len_is_called_as_written(self):
        py = python_of('function f(range, len) { s = "ab"; for (i in range(2)) { } '
                       "return len(s); }")
        assert "__ml_range_iter" not in py and "__ml_py_len" not in py


class TestResults:
    def test_the_loop(self):
        value = mlpy.run(BUILD + "result = build(30);").value
        expected_s, parts = "", []
        for i in range(30):
            expected_s = expected_s + "x" + str(i)
            if len(expected_s) > 12:
                parts.append(expected_s)
                expected_s = ""
        assert value == [parts, len(parts), len(expected_s), expected_s]

    @pytest.mark.parametrize("value,shown", [("7", "7"), ("-3", "-3"), ("2.5", "2.5"),
                                             ("true", "true"), ("null", "null"), ('"z"', "z"),
                                             ("[1, \"a\"]", '[1, "a"]'), ("{k: 1}", '{"k": 1}'),
                                             ("print", "<function print>")])
    def test_a_string_local_plus_a_name_of_any_type(self, value, shown):
        program = (f'function f(i) {{ s = "a"; s = s + "x"; return [s + i, i + s, s + "x" + i,'
                   f' len(s)]; }} r = f({value}); print(r[0], r[1], r[2], r[3]);')
        assert out(program) == f"ax{shown} {shown}ax axx{shown} 2\n"

    def test_len_counts_characters_and_elements(self):
        assert out('function f() { s = "héllo✓"; a = []; a.append(s); a.append(1);'
                   " return [len(s), len(a)]; } print(f());") == "[6, 2]\n"

    def test_a_nested_function_rebinding_the_local_is_seen(self):
        # `nonlocal` from a nested function may give the local another type: no plain form
        program = """
        function f() {
            s = "a";
            g = fn() => { nonlocal s; s = 5; };
            g();
            parts = [];
            h = fn() => { nonlocal parts; parts = "text"; };
            h();
            return [s + 1, len(s), len(parts)];
        }
        print(f());
        """
        assert out(program) == "[6, 0, 4]\n"

    def test_range_forms(self):
        program = """
        function f() {
            out = [];
            for (i in range(3)) { out.append(i); }
            for (i in range(2, 5)) { out.append(i); }
            for (i in range(10, 0, -4)) { out.append(i); }
            for (i in range(true, 3)) { out.append(i); }
            for (i in range(0)) { out.append("never"); }
            return out;
        }
        print(f());
        """
        assert out(program) == "[0, 1, 2, 2, 3, 4, 10, 6, 2, 1, 2]\n"


class TestRebound:
    def test_range_rebound_by_the_program(self):
        program = ("range = fn(n) => [7, 8];\n"
                   'function f(n) { s = ""; for (i in range(n)) { s = s + i; } return s; }\n'
                   "print(f(3));")
        assert out(program) == "78\n"

    def test_range_rebound_to_a_non_iterable(self):
        fails("range = fn(n) => 5;\nfunction f() { for (i in range(3)) { } }\nf();",
              "TypeError", "'number' is not iterable", line=2)

    def test_len_rebound_by_the_program(self):
        assert out('len = fn(x) => 42;\nfunction f() { s = "abc"; return len(s); }\n'
                   "print(f());") == "42\n"

    def test_builtins_rebound_by_an_earlier_run_in_the_same_namespace(self):
        # a session or kernel runs programs one after another in one namespace
        namespace = new_namespace()
        assert run_in(namespace, "len = fn(x) => -1; range = fn(n) => [9];").success
        outcome = run_in(namespace, 'function f() { s = "abc"; a = [];'
                                    " for (i in range(5)) { a.append(i); }"
                                    " return [len(s), len(a), a]; }\nresult = f();")
        assert outcome.success and outcome.value == [-1, -1, [9]]


class TestErrorsAndCaps:
    @pytest.mark.parametrize("args,error_type,message", [
        ('"a"', "TypeError", "range() arguments must be integers, not 'string'"),
        ("1.5", "TypeError", "range() arguments must be integers, not 'number'"),
        ("0, 5, 0", "ValueError", "range() arg 3 must not be zero"),
        ('0, 5, "s"', "TypeError", "range() arguments must be integers, not 'string'"),
    ])
    def test_range_errors_point_at_the_call(self, args, error_type, message):
        result = fails(f"function f() {{\n  n = 0;\n  for (i in range({args})) {{ n = n + 1; }}\n"
                       "  return n;\n}\nf();", error_type, message, line=3)
        assert result.column == 13

    def test_range_argument_count(self):
        fails("function f() { for (i in range(1, 2, 3, 4)) { } }\nf();", "TypeError", line=1)

    def test_range_size_cap_holds_without_building_the_array(self):
        outcome = run_in(new_namespace(),
                         "function f(n) {\n  c = 0;\n  for (i in range(n)) { c = c + 1; }\n"
                         "  return c;\n}\nok = f(500);\nresult = f(5000);",
                         limits=Limits(max_sequence=1000))
        assert not outcome.success and outcome.error.type == "LimitError"
        assert "range would have 5000 elements" in outcome.error.message
        assert outcome.error.line == 3

    def test_string_local_doubling_meets_the_cap(self):
        outcome = run_in(new_namespace(),
                         'function f() {\n  s = "ab";\n  t = "c";\n'
                         "  for (k in range(30)) { t = s + t; s = t + t; }\n  return s;\n}\n"
                         "result = f();", limits=Limits(max_string=100_000))
        assert not outcome.success and outcome.error.type == "LimitError"
        assert "exceeds the limit of 100000" in outcome.error.message
        assert outcome.error.line == 4

    def test_unbound_string_local(self):
        fails('function f() {\n  x = s;\n  s = "a";\n  return x + "!";\n}\nf();', "NameError",
              line=2)

    def test_cli_reports_the_ml_line(self, tmp_path):
        (tmp_path / "p.ml").write_text(
            'function f(n) {\n  s = "";\n  for (i in range(n)) {\n    s = s + i;\n  }\n'
            "  return len(s);\n}\nprint(f(12));\nprint(f(\"x\"));\n", encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        r = subprocess.run([sys.executable, "-m", "mlpy", "run", "p.ml"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and r.stdout == "14\n"
        assert "TypeError: range() arguments must be integers, not 'string' (line 3)" in r.stderr
        assert "Traceback" not in r.stderr
