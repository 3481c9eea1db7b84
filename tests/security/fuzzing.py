"""Hypothesis strategies and checks shared by tests/security/test_fuzz.py and bench/fuzz.py:
random and mutated ML source fed to parse, compile and run, where only ML errors (or
success) may come out — never another Python exception, a hang or a crash."""

from __future__ import annotations

import time

from hypothesis import strategies as st

import mlpy

SEEDS = [
    "result = 2 + 2;",
    "x = [1, 2, 3]; result = x.length + len(x);",
    'o = {a: 1, "b c": [2, 3]}; o.d = o.a + o["b c"][1]; result = o;',
    "function f(n) { if (n <= 1) { return 1; } return n * f(n - 1); } result = f(10);",
    "sq = fn(x) => x * x; result = map(sq, [1, 2, 3]);",
    'try { throw {message: "m", type: "E"}; } except (e) { result = e.type; } finally { z = 1; }',
    'for (i in range(3)) { if (i == 1) { continue; } print(i); } result = "done";',
    "i = 0; while (i < 5) { i = i + 1; if (i > 3) { break; } } result = i;",
    "[a, b] = [1, 2]; {c, d} = {c: 3, d: 4}; result = a + b + c + d;",
    'import math; import json; result = json.stringify({r: math.sqrt(16)});',
    'import regex; result = regex.findall("[0-9]+", "a1b22c333");',
    "function outer() { x = 1; function inner() { nonlocal x; x = x + 1; } inner(); return x; } "
    "result = outer();",
    'result = "a" + 1 + true + null + [1] + {k: "v"};',
    "x = 5; result = x > 3 && x < 10 || !true ? \"yes\" : \"no\";",
    'result = "x".__class__;',
    "result = getattr(print, \"__globals__\", 0);",
    "import os;",
    "while (true) { }",
    'result = "\\u0041\\n\\t\\"";',
    "def = 1; class = 2; result = def + class;",
]

TOKENS = [
    "result", "=", ";", "(", ")", "{", "}", "[", "]", ",", ".", ":", "?", "+", "-", "*", "/",
    "//", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "=>", "fn", "function",
    "return", "if", "elif", "else", "while", "for", "in", "break", "continue", "try",
    "except", "finally", "throw", "import", "as", "nonlocal", "true", "false", "null", "x",
    "y", "f", "0", "1", "1.5", "1e309", "999999999999999999999", '"s"', "'t'", '"\\u0000"',
    "__class__", "__globals__", "_x", "__ml_getm", "__builtins__", "eval", "exec", "print",
    "getattr", "len", "range", "math", "regex", "os", "sys", "\n", " ", "//c\n", "/*c*/",
    "\uff3f", "\u00e9", "\U0001d522", "\x00", "\\", '"', "'", "`", "$", "@", "#",
]

token_programs = st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)
raw_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                   max_size=200)


@st.composite
def mutated(draw):
    """A seed program with a few characters or tokens deleted, inserted or duplicated."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 8)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "token"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(max_size=3)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap" and j > i:
            text = text[:i] + text[i:j][::-1] + text[j:]
        else:
            text = text[:i] + " " + draw(st.sampled_from(TOKENS)) + " " + text[i:]
    return text


programs = st.one_of(token_programs, raw_text, mutated())


def check_parse_and_compile(source: str) -> None:
    """parse/compile either succeed or raise an mlpy.MLError — nothing else."""
    for interactive in (False, True):
        try:
            mlpy.compile(source, interactive=interactive, cache=False)
        except mlpy.MLError as err:
            assert isinstance(err.message, str) and err.type
    try:
        mlpy.parse(source)
    except mlpy.MLError:
        pass


def check_run(source: str, timeout: float = 0.3) -> None:
    """mlpy.run reports every failure as an ML error, within timeout + slack."""
    started = time.perf_counter()
    result = mlpy.run(source, timeout=timeout)
    elapsed = time.perf_counter() - started
    if not result.success:
        assert isinstance(result.error, str) and result.error_type
        assert result.error_type not in ("InternalError",), result.error
        assert "Traceback" not in result.error
    assert elapsed < timeout + 2.0, f"run took {elapsed:.2f} s"


# Deep and long programs (spec §7.2): nestings and operator chains of random kind and size,
# mixed, to show no size reaches the host as RecursionError or Python's block limit.
_NESTINGS = [
    ("[", "]"), ("(", ")"), ("{a: ", "}"), ("f(", ")"), ("fn() => ", ""), ("-", ""),
    ("!", ""), ("false ? 0 : ", ""), ("fn() => { return ", "; }"),
]
_STATEMENT_NESTINGS = [
    ("if (true) { ", " }"), ("while (false) { ", " }"), ("for (i in [1]) { ", " }"),
    ("try { ", " } except (e) { }"), ("try { ", " } finally { }"),
    ("function g() { ", " }"),
]
_CHAIN_OPS = [" + ", " - ", " * ", " && ", " || ", " == ", " < ", " / ", " % "]


@st.composite
def deep_programs(draw):
    depth = draw(st.sampled_from([1, 17, 18, 19, 20, 21, 100, 101, 300, 1000, 5000, 40_000]))
    length = draw(st.sampled_from([2, 100, 1000, 10_000, 20_000]))
    ops = draw(st.lists(st.sampled_from(_CHAIN_OPS), min_size=1, max_size=3))
    leaf = draw(st.sampled_from(["1", "x", '"s"', "true", "null", "[1]"]))
    chain = "".join(leaf + ops[i % len(ops)] for i in range(length - 1)) + leaf
    kinds = draw(st.lists(st.sampled_from(_NESTINGS), min_size=1, max_size=3))
    body = "result = " + _nest(chain, kinds, depth) + ";"
    statements = draw(st.lists(st.sampled_from(_STATEMENT_NESTINGS), max_size=3))
    if statements:
        levels = draw(st.sampled_from([1, 9, 18, 19, 40, 200]))
        body = _nest(body, statements, levels)
    return "function f(v) { return v; }\nx = 2;\n" + body


def _nest(inner: str, kinds: list, depth: int) -> str:
    """`inner` wrapped `depth` times, level i (from the inside) in kinds[i % len(kinds)].
    Joined once: wrapping a string level by level copies it each time, which took minutes
    for a 40,000-deep program around a 20,000-operand chain."""
    levels = [kinds[i % len(kinds)] for i in range(depth)]
    return ("".join(opening for opening, _ in reversed(levels)) + inner
            + "".join(closing for _, closing in levels))


def check_deep(source: str, timeout: float = 5.0) -> None:
    """A deep or long program runs or is refused with an ML error; never a host error."""
    result = mlpy.run(source, timeout=timeout)
    if not result.success:
        assert isinstance(result.error, str) and result.error_type, result
        assert result.error_type != "InternalError", result.error
        for word in ("Traceback", "recursion", "statically", "Recursion"):
            assert word not in result.error, result.error


mlpy.run("x = 1;")      # the runner raises the recursion limit once, before any example
