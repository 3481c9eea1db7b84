"""Attack programs and what each must end as.

`expect` is the ML error type the attack must fail with (or a tuple of acceptable types), or
OK when it is harmless and must succeed (`value` then checks the result when given).
`grants=True` runs it on the executor that was granted file/path/env/network/args
capabilities (confined to a file root and an allowed host that does not exist); those and
attacks with Python objects in their context do not go through HTTP. `{PORT}` is the port of
a listener that must never see a connection; `{OUTSIDE}` a folder outside the file root
that must stay empty.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
ANY = object()          # for `value`: do not check
TIMEOUT = 1.0           # seconds every attack is given
CANARY_VAR = "MLPY_SECURITY_CANARY"
PASSWD_MARK = "root:x:0:0"


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    expect: Any
    value: Any = ANY
    grants: bool = False
    context: dict | None = None
    python_context: bool = False          # context holds Python objects (not JSON)
    modes: tuple = ("thread", "process", "http")
    category: str = ""
    stdout_must_not_contain: str | None = None
    extra: dict = field(default_factory=dict)


def _a(category, name, code, expect, **kw):
    return Attack(name=name, code=code, expect=expect, category=category, **kw)


SEC = "SecurityError"
ATTR = "AttributeError"
TYPE = "TypeError"
CAP = "CapabilityError"
LIMIT = "LimitError"
TIME = "TimeoutError"
IMP = ("SecurityError", "ImportError")

# two integers near the size cap (1,000,000 bits): about 998,500 and 499,700 bits
_LONG = "import math; a = math.pow(3, 630000); b = math.pow(7, 178000); "

INTROSPECTION = [
    _a("introspection", "class_of_string", 'x = "a".__class__;', SEC),
    _a("introspection", "subclasses_chain", 'x = [].__class__.__base__.__subclasses__();', SEC),
    _a("introspection", "function_globals", "f = fn(x) => x; result = f.__globals__;", SEC),
    _a("introspection", "builtin_self", "result = print.__self__;", SEC),
    _a("introspection", "getattr_dunder_default", 'result = getattr("a", "__class__", "no");',
       OK, value="no"),
    _a("introspection", "getattr_globals_default", 'result = getattr(print, "__globals__", 7);',
       OK, value=7),
    _a("introspection", "hasattr_dunder", 'result = hasattr(print, "__globals__");', OK,
       value=False),
    _a("introspection", "getattr_built_name",
       'n = "_" + "_glo" + "bals_" + "_"; result = getattr(len, n, "none");', OK, value="none"),
    _a("introspection", "gi_frame_of_iterator", "it = iter([1, 2]); result = it.gi_frame;",
       (ATTR, SEC)),
    _a("introspection", "getattr_gi_frame", 'it = iter([1]); result = getattr(it, "gi_frame", 0);',
       OK, value=0),
    _a("introspection", "f_back_of_function", "function f() { return 1; } result = f.f_back;",
       (ATTR, SEC)),
    _a("introspection", "func_code_by_getattr", 'result = getattr(typeof, "func_code", null);',
       OK, value=None),
    _a("introspection", "tb_frame_of_error", "try { x = 1 / 0; } except (e) { result = e.tb_frame; }",
       OK, value=None),
    _a("introspection", "traceback_of_error",
       "try { x = 1 / 0; } except (e) { result = e.__traceback__; }", SEC),
    _a("introspection", "error_keys_only_message_type",
       'try { x = [][1]; } except (e) { result = keys(e); }', OK, value=["message", "type"]),
    _a("introspection", "str_format_traversal", 'result = "{0.__class__}".format(1);', (ATTR, SEC)),
    _a("introspection", "format_map_traversal", 'result = "{x.__globals__}".format_map({x: print});',
       (ATTR, SEC)),
    _a("introspection", "module_dict", "import math; result = math.__dict__;", SEC),
    _a("introspection", "module_subscript_dunder", 'import math; result = math["__dict__"];',
       (TYPE, SEC, "KeyError")),
    _a("introspection", "function_subscript", 'result = print["__globals__"];', (TYPE, SEC)),
    _a("introspection", "library_object_private", 'import regex; r = regex.compile("a"); '
       "result = r._pattern;", SEC),
    _a("introspection", "bound_method_self", "m = [].append; result = m.__self__;", SEC),
    _a("introspection", "builtin_module_eval", "result = builtin.eval;", (ATTR, SEC)),
    _a("introspection", "iterate_function", "for (k in print) { x = k; }", TYPE),
    _a("introspection", "dunder_key_is_just_a_key", 'o = {"__class__": 5}; result = o["__class__"];',
       OK, value=5),
    _a("introspection", "dunder_member_on_object", 'o = {"__class__": 5}; result = o.__class__;', SEC),
]

REBINDING = [
    _a("rebinding", "assign_runtime_helper", "__ml_getm = fn(o, n) => 1;", (SEC, "SyntaxError")),
    _a("rebinding", "parameter_named_helper",
       'function f(__ml_getm) { return "a".__class__; } result = f(1);', (SEC, "SyntaxError")),
    _a("rebinding", "parameter_named_builtins",
       "function f(__builtins__) { return 1; } result = f(1);", (SEC, "SyntaxError")),
    _a("rebinding", "keyword_helper_name", "__ml_kw_def = 1;", (SEC, "SyntaxError")),
    _a("rebinding", "rebind_getattr_then_dunder",
       'getattr = fn(o, n, d) => 1; result = "a".__class__;', SEC),
    _a("rebinding", "rebind_builtin_harmless", "typeof = 1; result = typeof;", OK, value=1),
    _a("rebinding", "eval_unbound", 'result = eval("1 + 1");', SEC),
    _a("rebinding", "eval_bound_by_program", "eval = fn(x) => x; result = eval(3);", OK, value=3),
    _a("rebinding", "dunder_import_name", "x = __import__;", (SEC, "SyntaxError")),
    _a("rebinding", "assign_into_builtin_module", "builtin.print = 1;", (TYPE, SEC)),
    _a("rebinding", "parameter_named_eval", "function f(eval) { return eval; } result = f(2);", OK,
       value=2),
    _a("rebinding", "nonlocal_of_helper",
       "function f() { nonlocal __ml_add; __ml_add = 5; } f(); result = 1 + 1;",
       (SEC, "SyntaxError")),
]

LEAKS = [
    _a("leaks", "error_value_is_plain_object",
       'try { x = int("abc"); } except (e) { result = [typeof(e), e.type, e.message]; }', OK,
       value=["object", "ValueError", "invalid literal for int() with base 10: 'abc'"]),
    _a("leaks", "null_member_message_is_ml", "x = null; x.foo();", ATTR),
    _a("leaks", "str_of_function_has_no_address", "result = str(print);", OK,
       value="<function print>"),
    _a("leaks", "str_of_library_object", 'import regex; result = str(regex.compile("a"));', OK,
       value="<Pattern>"),
    _a("leaks", "error_of_python_exception_type", "result = [1, 2] < [\"a\"];", TYPE),
    _a("leaks", "thrown_object_keeps_only_ml_values",
       'try { throw {message: "m", code: 3}; } except (e) { result = e; }', OK,
       value={"message": "m", "code": 3, "type": "Error"}),
]

IMPORTS = [
    _a("imports", "import_os", "import os;", IMP),
    _a("imports", "import_os_path", "import os.path;", IMP),
    _a("imports", "import_subprocess_aliased", "import subprocess as math; result = 1;", IMP),
    _a("imports", "import_sys", "import sys;", IMP),
    _a("imports", "import_builtins", "import builtins;", IMP),
    _a("imports", "import_importlib_util", "import importlib.util;", IMP),
    _a("imports", "import_ctypes_alias", "import ctypes as c;", IMP),
    _a("imports", "import_pickle", "import pickle;", IMP),
    _a("imports", "import_unlisted_python_module", "import encodings;", IMP),
    _a("imports", "import_library_submodule", "import json.decoder;", IMP),
    _a("imports", "import_collections_abc", "import collections.abc;", IMP),
    _a("imports", "import_socket_as_library_name", "import socket as json;", IMP),
    _a("imports", "import_posix", "import posix;", IMP),
]

CAPABILITIES = [
    _a("capabilities", "file_read_without_grant", 'import file; result = file.read("/etc/passwd");',
       CAP),
    _a("capabilities", "file_read_passwd_outside_root",
       'import file; result = file.read("/etc/passwd");', (SEC, CAP, "RuntimeError", "ValueError"),
       grants=True, modes=("thread", "process")),
    _a("capabilities", "file_read_dotdot", 'import file; '
       'result = file.read("../../../../../../../../etc/passwd");',
       (SEC, CAP, "RuntimeError", "ValueError"), grants=True, modes=("thread", "process")),
    _a("capabilities", "file_read_proc_environ",
       'import file; result = file.read("/proc/self/environ");',
       (SEC, CAP, "RuntimeError", "ValueError"), grants=True, modes=("thread", "process")),
    _a("capabilities", "file_write_dotdot", 'import file; file.write("../escape.txt", "x");',
       (SEC, CAP, "RuntimeError", "ValueError"), grants=True, modes=("thread", "process")),
    _a("capabilities", "file_write_absolute", 'import file; file.write("{OUTSIDE}/abs.txt", "x");',
       (SEC, CAP, "RuntimeError", "ValueError"), grants=True, modes=("thread", "process")),
    _a("capabilities", "file_write_inside_root_is_fine",
       'import file; file.write("inside.txt", "x"); result = file.read("inside.txt");', OK,
       value="x", grants=True, modes=("thread", "process")),
    _a("capabilities", "env_without_grant", 'import env; result = env.get("{CANARY}");', CAP),
    _a("capabilities", "env_canary_not_listed", 'import env; result = env.get("{CANARY}");', OK,
       value=None, grants=True, modes=("thread", "process")),
    _a("capabilities", "http_without_grant",
       'import http; result = http.get("http://127.0.0.1:{PORT}/");', CAP),
    _a("capabilities", "http_host_not_allowed",
       'import http; result = http.get("http://127.0.0.1:{PORT}/");', (SEC, CAP), grants=True,
       modes=("thread", "process")),
    _a("capabilities", "args_without_grant", "import args; result = args.argv();",
       (CAP, ATTR)),
    _a("capabilities", "stdin_input", 'result = input("password: ");', "RuntimeError"),
    _a("capabilities", "path_list_root", 'import path; result = path.list("/");', (CAP, ATTR)),
    _a("capabilities", "log_to_file", 'import log; log.add_file("{OUTSIDE}/log.txt");',
       (CAP, ATTR)),
    _a("capabilities", "hash_passwd", 'import crypto; result = crypto.hash_file("/etc/passwd");',
       CAP),
]

CONTEXT_OBJECTS = [
    _a("context", "path_object_read_text", "result = p.read_text();", (ATTR, SEC, TYPE),
       context={"p": pathlib.PurePosixPath("/etc/passwd")}, python_context=True),
    _a("context", "path_object_dunder", "result = p.__class__;", SEC,
       context={"p": pathlib.PurePosixPath("/etc/passwd")}, python_context=True),
    _a("context", "path_object_display_is_opaque", "result = str(p);", OK,
       context={"p": pathlib.PurePosixPath("/etc/passwd")}, python_context=True),
    _a("context", "dict_with_dunder_key", "result = o.__class__;", SEC,
       context={"o": {"__class__": 1}}),
    _a("context", "context_name_cannot_be_dunder", "result = 1;", "ValueError",
       context={"__builtins__": 1}, modes=("thread", "process")),
]

INJECTION = [
    _a("injection", "quote_breakout_string", 'result = "a\\"; import os; x = \\"";', OK,
       value='a"; import os; x = "'),
    _a("injection", "quote_breakout_key", "o = {\"a'b\\\"c\": 1}; result = o[\"a'b\\\"c\"];", OK,
       value=1),
    _a("injection", "newline_breakout_string", 'result = "x\\n__import__(\'os\')";', OK,
       value="x\n__import__('os')"),
    _a("injection", "nul_byte_string", 'result = "a\\u0000b";', OK, value="a\x00b"),
    _a("injection", "fullwidth_dunder_builtins", "x = \uff3f\uff3fbuiltins\uff3f\uff3f;",
       (SEC, "SyntaxError")),
    _a("injection", "fullwidth_dunder_import", 'x = \uff3f\uff3fimport\uff3f\uff3f("os");',
       (SEC, "SyntaxError")),
    _a("injection", "nfkc_member_name", 'result = "a".\uff3f\uff3fclass\uff3f\uff3f;',
       (SEC, "SyntaxError")),
    _a("injection", "nfkc_eval", 'result = \uff45val("1");', (SEC, "SyntaxError", "NameError")),
    _a("injection", "mathematical_letters_eval", 'result = \U0001d522val("1");',
       (SEC, "SyntaxError", "NameError")),
    _a("injection", "python_keywords_as_names",
       "def = 1; class = 2; lambda = 3; result = def + class + lambda;", OK, value=6),
    _a("injection", "python_constants_as_names", "None = 1; True = 2; result = None + True;", OK,
       value=3),
    _a("injection", "keyword_function_and_member",
       "function yield(x) { return x; } o = {}; o.class = yield(4); result = o.class;", OK,
       value=4),
    _a("injection", "async_await_names", "async = 1; await = 2; result = async + await;", OK,
       value=3),
    _a("injection", "member_name_escape", 'o = {}; result = getattr(o, "\\u005f_class__", 1);', OK,
       value=1),
    _a("injection", "comment_does_not_end_with_escape", "result = 1; // \\\nresult = 2;", OK,
       value=2),
    _a("injection", "very_long_identifier", "a" * 20000 + " = 1; result = " + "a" * 20000 + ";",
       OK, value=1),
]

RESOURCES = [
    _a("resources", "infinite_loop", "while (true) { }", TIME),
    _a("resources", "loop_catching_the_stop",
       'while (true) { try { while (true) { } } except (e) { print("caught", e.type); } }', TIME,
       stdout_must_not_contain="caught"),
    _a("resources", "finally_that_loops",
       "while (true) { try { while (true) { } } finally { while (true) { } } }", TIME),
    _a("resources", "recursion_bomb", "function f() { return f(); } f();", "RecursionError"),
    _a("resources", "recursion_that_catches",
       "function f(n) { try { return f(n + 1); } except (e) { return f(n + 1); } } f(0);",
       (TIME, "RecursionError")),
    _a("resources", "big_integer_squaring", "x = 3; while (true) { x = x * x; }", LIMIT),
    # inside a function `x` and `i` are integer locals, compiled to Python's `*` with an
    # inline size check that only a counter (`i = i + 1`) or a small constant may skip
    _a("resources", "big_integer_squaring_of_a_local",
       "function f() { x = 3; i = 0; while (true) { x = x * x; i = i + 1; } } f();", LIMIT),
    _a("resources", "big_integer_squaring_of_a_stepped_local",
       "function f() { i = 2; while (true) { i = i * i + 1; } } f();", LIMIT),
    _a("resources", "big_integer_power", "import math; result = math.pow(7, 100000000);",
       (LIMIT, "OverflowError")),
    # one C call on integers at the size cap would hold the GIL past a thread-mode timeout
    # (a 1,000,000-bit by 500,000-bit `//` half a second, `math.gcd` two): long divisions,
    # gcds and roundings run in steps a stop can land between
    _a("resources", "long_division_loop", _LONG + "while (true) { q = a // b; }", TIME),
    _a("resources", "long_modulo_loop", _LONG + "while (true) { r = a % b; }", TIME),
    _a("resources", "long_division_of_integer_locals",
       "function f() { a = 3; b = 0; i = 0; while (i < 19) { b = a; a = a * a; i = i + 1; } "
       "while (true) { r = a % b; q = a // b; } } f();",
       TIME),
    _a("resources", "long_rounding_loop", _LONG + "while (true) { r = round(a, -150000); }",
       TIME),
    _a("resources", "long_gcd", _LONG + "c = math.pow(5, 430000); result = math.gcd(a, c);",
       TIME),
    _a("resources", "long_lcm_chain", "import math; x = 2; while (true) { x = math.lcm(x, x + 1); }",
       LIMIT),
    _a("resources", "long_square_root", _LONG + "result = math.sqrt(a);", "OverflowError"),
    _a("resources", "int_to_huge_string",
       "x = 1; i = 0; while (i < 20000) { x = x * 7; i = i + 1; } result = str(x);", "ValueError"),
    _a("resources", "string_doubling", 's = "x"; while (true) { s = s + s; }', LIMIT),
    _a("resources", "array_doubling", "a = [1]; while (true) { a = a + a; }", LIMIT),
    # `return v + v` and `x = a + b` compile to Python's `+` in a `try` (no hint says strings)
    _a("resources", "string_doubling_through_a_function",
       "function twice(v) { return v + v; } s = str(1); while (true) { s = twice(s); }", LIMIT),
    _a("resources", "array_doubling_through_parameters",
       "function join(a, b) { c = a + b; return c; } a = [1];"
       " while (true) { a = join(a, a); }", LIMIT),
    _a("resources", "array_repeat", "a = [0] * 1000000000;", LIMIT),
    _a("resources", "string_repeat", 's = "ab" * 1000000000;', LIMIT),
    _a("resources", "huge_range", "result = range(1000000000000);", LIMIT),
    _a("resources", "huge_sorted", "result = sorted(range(1000000000));", LIMIT),
    _a("resources", "huge_sum", "result = sum(range(1000000000000));", (LIMIT, TIME)),
    _a("resources", "join_amplification",
       's = "x" * 1000000; a = [s] * 1000; result = len(",".join(a));', LIMIT),
    _a("resources", "pad_amplification", 'result = "x".ljust(1000000000);', LIMIT),
    _a("resources", "replace_amplification",
       's = "a" * 10000; result = len(s.replace("a", "b" * 100000));', LIMIT),
    _a("resources", "regex_backtracking", 'import regex; '
       'result = regex.test("(a|aa)+$", "' + "a" * 60 + 'b");', ("RuntimeError", TIME)),
    _a("resources", "output_flood", 'while (true) { print("x" * 1000); }', "OutputLimitError"),
    _a("resources", "huge_error_message", 'throw {message: "x" * 40000000};', "Error"),
    _a("resources", "huge_result", 'result = "x" * 40000000;', OK, value=ANY,
       modes=("thread", "process")),
    _a("resources", "deep_result",
       "a = []; i = 0; while (i < 100000) { a = [a]; i = i + 1; } result = a;", OK,
       modes=("thread", "process")),
    _a("resources", "cyclic_result", "a = [1]; a.append(a); result = a;", OK,
       modes=("thread", "process")),
    _a("resources", "cyclic_print", "a = [1]; a.append(a); print(a);", OK),
    _a("resources", "deep_print",
       "a = []; i = 0; while (i < 100000) { a = [a]; i = i + 1; } print(a);",
       ("RecursionError", LIMIT)),
    _a("resources", "json_nesting_bomb",
       'import json; result = json.parse("[" * 100000 + "]" * 100000);',
       ("ValueError", "RecursionError")),
    _a("resources", "json_cycle", "import json; a = []; a.append(a); result = json.stringify(a);",
       ("ValueError", "RecursionError")),
    _a("resources", "error_chain_growth",
       'e = null; while (true) { try { throw {message: "x", inner: e}; } except (err) { e = err; } }',
       TIME),
    _a("resources", "memory_accumulation",
       'a = []; while (true) { a.append("x" * 10000000); }', "MemoryLimitError",
       modes=("process",)),
    _a("resources", "memory_big_dict",
       'o = {}; i = 0; while (true) { o[str(i)] = "v" * 1000000 + str(i); i = i + 1; }',
       "MemoryLimitError", modes=("process",)),
]

ATTACKS = INTROSPECTION + REBINDING + LEAKS + IMPORTS + CAPABILITIES + CONTEXT_OBJECTS + \
    INJECTION + RESOURCES

assert len({a.name for a in ATTACKS}) == len(ATTACKS), "attack names must be unique"
