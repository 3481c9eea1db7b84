"""Statements and scope (spec §3, §6): functions, closures, scope, loops; try/except (§7.1).

Run through `mlpy.run` / `mlpy.compile` with the shared helpers of tests/mltest.py."""

from __future__ import annotations

import pytest

import mlpy
from mlpy.errors import MLSyntaxError
from mltest import ml_caught as caught
from mltest import ml_fails as fails
from mltest import ml_out as out


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
