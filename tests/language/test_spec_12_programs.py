"""Names and whole programs (spec §1 identifiers, §12 hosts and `result`, interactive runs).

Run through `mlpy.run` / `mlpy.compile` with the shared helpers of tests/mltest.py."""

from __future__ import annotations

import pytest

import mlpy
from mlpy.errors import MLSyntaxError
from mlpy.runner import execute
from mlpy.runtime.context import ExecutionContext, OutputSink
from mlpy.runtime.namespace import new_namespace
from mltest import ml_out as out


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
