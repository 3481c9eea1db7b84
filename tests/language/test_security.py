"""Spec §11: the sandbox rules, at run time (non-strict) and at compile time (strict)."""

from __future__ import annotations

import pytest

import mlpy
from mlpy.errors import MLSecurityError, MLSyntaxError

ML_ERROR_TYPES = {"SecurityError", "AttributeError", "TypeError", "NameError", "ValueError",
                  "KeyError", "IndexError"}

DENY_LISTED = ["eval", "exec", "compile", "execfile", "open", "globals", "locals", "vars", "dir",
               "breakpoint", "setattr", "delattr", "exit", "quit"]

FORBIDDEN_MODULES = ["os", "sys", "subprocess", "shutil", "socket", "pickle", "marshal",
                     "importlib", "ctypes", "builtins", "inspect", "gc", "types", "io", "pathlib",
                     "threading"]

# One expression of every kind of value.
VALUES = {
    "number": "5",
    "float": "1.5",
    "string": '"s"',
    "boolean": "true",
    "null": "null",
    "array": "[1]",
    "object": "{a: 1}",
    "function": "print",
    "arrow": "(fn() => 1)",
    "bound method": '"s".upper',
    "array method": "[].append",
    "module": "math",
    "builtin module": "builtin",
    "library object": 'regex.compile("a")',
    "match": 'regex.match("a", "a")',
    "datetime": "datetime.create(2024, 1, 2)",
    "iterator": "iter([1])",
}
PRELUDE = "import math; import regex; import datetime;\n"


def run(source: str, **kw):
    return mlpy.run(source, **kw)


def security_error(source: str, message: str | None = None, **kw):
    r = run(source, **kw)
    assert not r.success, f"expected SecurityError, got success: {r.stdout!r}"
    assert r.error_type == "SecurityError", (r.error_type, r.error)
    if message is not None:
        assert r.error == message
    return r


def strict_rejects(source: str, message: str | None = None) -> MLSecurityError:
    with pytest.raises(MLSecurityError) as info:
        mlpy.compile(source, strict_security=True)
    err = info.value
    assert err.type == "SecurityError"
    if message is not None:
        assert err.message == message, err.message
    return err


def assert_closed(r):
    """A failed run whose error is an ML error, not a Python object leaking out."""
    assert not r.success, f"escape succeeded: value={r.value!r} stdout={r.stdout!r}"
    assert r.error_type in ML_ERROR_TYPES, (r.error_type, r.error)
    for leak in ("<class", " object at 0x", "Traceback", "builtins.", "__main__"):
        assert leak not in (r.error or ""), r.error


# ------------------------------------------------------------------ underscore members
class TestUnderscoreMembers:
    @pytest.mark.parametrize("kind", list(VALUES))
    @pytest.mark.parametrize("member", ["__class__", "__dict__", "_private", "_"])
    def test_read(self, kind, member):
        security_error(f"{PRELUDE}v = {VALUES[kind]};\nx = v.{member};",
                       f"access to member '{member}' is not allowed")

    @pytest.mark.parametrize("kind", list(VALUES))
    def test_call(self, kind):
        security_error(f"{PRELUDE}v = {VALUES[kind]};\nv.__init__();",
                       "access to member '__init__' is not allowed")
        security_error(f"{PRELUDE}v = {VALUES[kind]};\nv._helper(1);",
                       "access to member '_helper' is not allowed")

    @pytest.mark.parametrize("kind", list(VALUES))
    def test_assign(self, kind):
        security_error(f"{PRELUDE}v = {VALUES[kind]};\nv.__class__ = 1;",
                       "access to member '__class__' is not allowed")
        security_error(f"{PRELUDE}v = {VALUES[kind]};\nv._x = 1;",
                       "access to member '_x' is not allowed")

    def test_object_with_underscore_key_is_still_refused_by_member(self):
        security_error("o = {_a: 1};\nx = o._a;", "access to member '_a' is not allowed")
        # indexing is key lookup, not member access
        r = run('o = {_a: 1, "__class__": 2}; print(o["_a"], o["__class__"]);')
        assert r.success and r.stdout == "1 2\n"

    def test_error_line_is_reported(self):
        r = security_error('x = 1;\ny = "s";\nz = y.__class__;')
        assert r.line == 3

    def test_catchable_at_run_time(self):
        r = run('try { x = "".__class__; } except (e) { print(e.type, e.message); }\nprint("on");')
        assert r.success
        assert r.stdout == "SecurityError access to member '__class__' is not allowed\non\n"

    @pytest.mark.parametrize("kind", list(VALUES))
    def test_getattr_hasattr_give_default(self, kind):
        r = run(f"{PRELUDE}v = {VALUES[kind]};\n"
                'print(getattr(v, "__class__"), getattr(v, "_x", "dflt"), '
                'hasattr(v, "__class__"), hasattr(v, "_x"), hasattr(v, "__dict__"));')
        assert r.success, r.error
        assert r.stdout == "null dflt false false false\n"

    def test_strict_rejects_at_compile_time(self):
        err = strict_rejects('print(1);\nx = "".__class__;',
                             "access to member '__class__' is not allowed")
        assert err.line == 2
        strict_rejects("o = {};\no._x = 1;")
        strict_rejects("f = fn(v) => v._m();")
        r = run('print("ran");\nx = "".__class__;', strict_security=True)
        assert not r.success and r.error_type == "SecurityError" and r.stdout == ""


# ------------------------------------------------------------------ reserved identifiers
class TestReservedIdentifiers:
    @pytest.mark.parametrize("source, name", [
        ("x = __builtins__;", "__builtins__"),
        ('x = __import__("os");', "__import__"),
        ("x = __name__;", "__name__"),
        ("x = __ml_display;", "__ml_display"),
        ("__x = 1;", "__x"),
        ("function __f() { }", "__f"),
        ("function f(__a) { return __a; }", "__a"),
        ("for (__i in [1]) { }", "__i"),
        ("[__a, b] = [1, 2];", "__a"),
        ("try { throw {}; } except (__e) { }", "__e"),
        ("g = fn(__p) => 1;", "__p"),
    ])
    def test_refused(self, source, name):
        security_error(source, f"'{name}' is not allowed")
        strict_rejects(source, f"'{name}' is not allowed")

    def test_single_underscore_names_are_ordinary(self):
        r = run("_x = 1; _ = 2; print(_x + _);")
        assert r.success and r.stdout == "3\n"

    def test_runtime_helpers_not_reachable(self):
        for name in ["__ml_display", "__ml_import", "__ml_modules", "__builtins__"]:
            r = run(f"x = {name};")
            assert_closed(r)


# ------------------------------------------------------------------ deny-listed names
class TestDenyListedNames:
    @pytest.mark.parametrize("name", DENY_LISTED)
    def test_read_and_call_refused(self, name):
        security_error(f"x = {name};", f"'{name}' is not allowed")
        security_error(f'x = {name}("1");', f"'{name}' is not allowed")
        r = run(f'try {{ {name}("1"); }} except (e) {{ print(e.type, e.message); }}')
        assert r.success and r.stdout == f"SecurityError '{name}' is not allowed\n"

    @pytest.mark.parametrize("name", DENY_LISTED)
    def test_strict_rejects(self, name):
        strict_rejects(f"print(1);\nx = {name};", f"'{name}' is not allowed")

    @pytest.mark.parametrize("name", DENY_LISTED)
    def test_allowed_when_program_binds_it(self, name):
        for source in [f"{name} = 5; print({name});",
                       f"function {name}(p) {{ return p; }} print({name}(5));",
                       f"function f({name}) {{ return {name}; }} print(f(5));",
                       f"for ({name} in [5]) {{ print({name}); }}",
                       f"[{name}] = [5]; print({name});"]:
            mlpy.compile(source, strict_security=True)
            r = run(source)
            assert r.success and r.stdout == "5\n", (source, r.error)
            r = run(source, strict_security=True)
            assert r.success and r.stdout == "5\n", (source, r.error)

    def test_binding_in_one_function_does_not_open_the_builtin_elsewhere(self):
        r = run("function f() { open = 1; return open; }\nprint(f());\nx = open;")
        assert not r.success and r.error_type in ("SecurityError", "NameError")
        assert r.stdout == "1\n"

    def test_read_before_own_binding(self):
        r = run("print(open);\nopen = 1;")
        assert not r.success and r.error_type in ("SecurityError", "NameError")

    def test_not_reachable_through_builtin_module(self):
        for name in DENY_LISTED + ["__import__"]:
            r = run(f"x = builtin.{name};")
            assert_closed(r)
            r = run(f'print(getattr(builtin, "{name}"));')
            assert r.success and r.stdout == "null\n", (name, r.stdout)

    def test_other_python_builtins_are_not_defined(self):
        for name in ["type", "object", "getattr_", "super", "memoryview", "bytes", "classmethod",
                     "staticmethod", "property", "id", "hash", "issubclass", "frozenset", "set",
                     "tuple", "list", "dict", "slice", "map", "filter", "help_", "license",
                     "copyright", "credits", "__build_class__"]:
            r = run(f"x = {name};")
            assert_closed(r)


# ------------------------------------------------------------------ imports
class TestImports:
    @pytest.mark.parametrize("module", FORBIDDEN_MODULES)
    def test_forbidden_import_strict(self, module):
        strict_rejects(f"import {module};", f"import of '{module}' is not allowed")
        strict_rejects(f"import {module} as m;", f"import of '{module}' is not allowed")

    @pytest.mark.parametrize("module", FORBIDDEN_MODULES)
    def test_forbidden_import_non_strict_runtime(self, module):
        r = security_error(f'x = 1;\nimport {module};\nprint("after");',
                           f"import of '{module}' is not allowed")
        assert "after" not in r.stdout
        assert r.line == 2

    @pytest.mark.parametrize("source, name", [
        ("import os.path;", "os.path"), ("import sys as x;", "sys"),
        ("import importlib.util;", "importlib.util"), ("import ctypes.util as u;", "ctypes.util"),
        ("import os.path as p;", "os.path"),
    ])
    def test_submodules_and_aliases(self, source, name):
        strict_rejects(source)
        r = security_error(source)
        assert name in r.error

    def test_strict_run_reports_before_running(self):
        r = run('print("ran");\nimport subprocess;', strict_security=True)
        assert not r.success and r.error_type == "SecurityError" and r.stdout == ""

    def test_unknown_module(self):
        r = run("import no_such_module_xyz;")
        assert not r.success and r.error_type == "ImportError"
        assert r.error == "no ML module named 'no_such_module_xyz'"

    def test_check_lists_every_problem(self):
        problems = mlpy.check('x = eval;\ny = "".__class__;\nimport os;\nz = __q;', strict=True)
        got = sorted((p.line, p.type) for p in problems)
        assert got == [(1, "SecurityError"), (2, "SecurityError"), (3, "SecurityError"),
                       (4, "SecurityError")]
        assert mlpy.check("x = 1;", strict=True) == []


# ------------------------------------------------------------------ no path to internals
ESCAPES = [
    "f = print; x = f.__globals__;",
    'x = "".join.__self__;',
    "x = [].append.__func__;",
    "x = [].append.__self__;",
    "x = print.__call__;",
    "x = (fn() => 1).__closure__;",
    "f = fn() => 1; x = f.__code__.co_consts;",
    "function g() { } x = g.__globals__;",
    "function g() { } x = g.__defaults__;",
    "x = iter([]).__class__;",
    "x = iter([1]).__next__;",
    "x = builtin.__dict__;",
    "x = builtin.__loader__;",
    "import math; x = math.__dict__;",
    "import math; x = math.sqrt.__module__;",
    "import math; x = math.members;",
    'import regex; x = regex.compile("a").pattern;',
    'import regex; x = regex.compile("a")._pattern;',
    'import regex; m = regex.match("a", "a"); x = m.re;',
    'import datetime; d = datetime.now(); x = d.replace;',
    'import datetime; d = datetime.now(); x = d._dt;',
    "x = sorted.__doc__;",
    "x = help.__wrapped__;",
    'x = "{0.__class__}".format(1);',
    'x = "{0.__class__.__mro__}".format_map({});',
    'x = "%s" % [print];',
    'x = "".__class__.__mro__[1].__subclasses__();',
    "x = [].__class__.__base__;",
    "x = {}.__class__.__subclasses__;",
    "x = true.__class__;",
    "x = null.__class__;",
    "x = (1).__class__;",
    "x = print.__name__;",
    "x = print.func_globals;",
    "x = print.im_self;",
    "x = iter([1]).gi_frame;",
    "x = iter([1]).gi_code;",
    "try { 1 / 0; } except (e) { x = e.__traceback__; }",
    "try { 1 / 0; } except (e) { x = e.__class__; }",
    "try { 1 / 0; } except (e) { x = e.__cause__; }",
    "try { 1 / 0; } except (e) { x = e.with_traceback(null); }",
    "try { throw {}; } except (e) { x = e.copy(); }",
    "x = call(getattr(print, \"__globals__\"), 1);",
    "x = getattr(print, \"__class__\")();",
    "x = builtin.getattr(print, \"__globals__\").keys;",
    "x = keys(builtin);",
    "x = values(builtin);",
    "x = keys(print);",
    'import math; x = math["sqrt"];',
    'x = builtin["eval"];',
    'x = builtin["__dict__"];',
    "x = print[0];",
    'f = fn() => 1; x = f["__code__"];',
    'import regex; x = regex.compile("a")["test"];',
    "import math; for (k in math) { }",
    "for (k in builtin) { }",
    "x = iter(print);",
    "[a, b] = builtin;",
    "{a} = builtin;",
    '{__class__} = "";',
    "x = sorted(builtin);",
]


class TestNoPathToInternals:
    @pytest.mark.parametrize("source", ESCAPES)
    def test_escape_fails(self, source):
        assert_closed(run(source))

    @pytest.mark.parametrize("source", ESCAPES)
    def test_escape_fails_strict(self, source):
        try:
            mlpy.compile(source, strict_security=True)
        except (MLSecurityError, MLSyntaxError):
            return
        assert_closed(run(source, strict_security=True))

    def test_getattr_chains_give_defaults(self):
        r = run('print(getattr(print, "__globals__"), getattr(getattr, "__self__"), '
                'call(getattr, print, "__globals__"), getattr(builtin, "__dict__", 7), '
                'typeof(getattr(print, "__class__")));')
        assert r.success, r.error
        assert r.stdout == "null null null 7 null\n"

    def test_format_spec_cannot_traverse(self):
        r = run('x = format(1, "{0.__class__}");')
        assert_closed(r)
        r = run('print(format("{0.__class__}", ""));')
        assert r.success and r.stdout == "{0.__class__}\n"

    def test_error_values_are_plain_objects(self):
        r = run("try { [][1]; } except (e) { result = [keys(e), typeof(e), methods(e), e.args]; }")
        assert r.success
        assert r.value == [["message", "type"], "object", [], None]
        r = run("try { x = nope; } except (e) { result = e; }")
        assert r.value == {"message": "name 'nope' is not defined", "type": "NameError"}
        assert type(r.value) in (dict,) or isinstance(r.value, dict)

    def test_typeof_of_weird_things(self):
        r = run("import math; import regex;\n"
                "result = [typeof(builtin), typeof(math), typeof(getattr), typeof(iter(\"\")), "
                "typeof([].append), typeof(regex.compile(\"a\").test), typeof(math.pi), "
                "typeof(builtin.print)];")
        assert r.success, r.error
        assert r.value == ["module", "module", "function", "unknown", "function", "function",
                           "number", "function"]

    def test_display_of_internals_is_ml_text(self):
        r = run('import math; print(print, [].append, math, builtin, iter([]), "".upper);')
        assert r.success
        assert " at 0x" not in r.stdout and "built-in" not in r.stdout and "<class" not in r.stdout
        assert r.stdout.startswith("<function print> ")

    def test_results_are_ml_values(self):
        r = run('import regex; result = regex.findall("(a)(b)", "abab");')
        assert r.value == [["a", "b"], ["a", "b"]]
        r = run("result = enumerate([5]);")
        assert r.value == [[0, 5]]


# ------------------------------------------------------------------ unicode identifiers
class TestUnicodeIdentifiers:
    @pytest.mark.parametrize("source", [
        "ｏｐｅｎ(\"x\");",
        "ｅｖａｌ(\"1\");",
        "x = \"\".＿＿class＿＿;",
        "x = ﹍﹍import﹍﹍;",
        "ｉｍｐｏｒｔ os;",
        "x = ℯval;",
        "a\u200b = 1;",
    ])
    def test_rejected_at_parse_time(self, source):
        with pytest.raises(MLSyntaxError) as info:
            mlpy.parse(source)
        assert str(info.value).startswith("Parse error:")
        r = run(source)
        assert not r.success and r.error_type == "SyntaxError" and r.stdout == ""
