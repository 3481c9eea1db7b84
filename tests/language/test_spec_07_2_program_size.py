"""Spec §7.2 program size: long chains and deep nesting compile, whatever the caller's stack;
past the limit a program is refused with `SyntaxError: program too deeply nested`, never a host
RecursionError (generated programs, run at several host stack depths and in a worker thread)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

import mlpy
from mltest import ml_fails, ml_out

N = 10_000


def chain(op: str, operand: str, n: int = N) -> str:
    return f" {op} ".join([operand] * n)


MINIMUMS = {
    "plus": ("print(" + chain("+", "1") + ");", f"{N}\n"),
    "and": ("print(" + chain("&&", "true") + ");", "true\n"),
    "or": ("print(" + chain("||", "false") + ");", "false\n"),
    "strings": ('s = "a"' + ' + "x"' * N + "; print(len(s));", f"{N + 1}\n"),
    "compare-mix": ("print(" + chain("-", "1") + " < 0);", "true\n"),
    "arrays": ("x = " + "[" * 100 + "7" + "]" * 100 + "; print(1);", "1\n"),
    "calls": ("function f(v) { return v; }\nprint(" + "f(" * 100 + "3" + ")" * 100 + ");",
              "3\n"),
    "parens": ("print(" + "(" * 100 + "4" + ")" * 100 + ");", "4\n"),
    "objects": ("x = " + "{a: " * 100 + "1" + "}" * 100 + "; print(2);", "2\n"),
    "functions": ("".join(f"function f{i}() {{ " for i in range(100)) + "return 1;"
                  + " }" * 100 + ' print("ok");', "ok\n"),
    "arrows": ("f = " + "fn() => " * 100 + "5; print(6);", "6\n"),
    "blocks-if": ("if (true) { " * 100 + "print(8);" + " }" * 100, "8\n"),
    "loops": ("".join(f"for (i{i} in [1]) {{ " for i in range(18)) + "print(9);" + " }" * 18,
              "9\n"),
    "while": ("while (true) { " * 18 + "print(1);" + " break; }" * 18, "1\n"),
    "try": ("try { " * 18 + "print(2);" + " } except (e) { }" * 18, "2\n"),
}


def at_depth(depth: int, function: Callable[[], Any]) -> Any:
    """function() called with `depth` extra Python frames already on the host stack."""
    return function() if depth == 0 else at_depth(depth - 1, function)


@pytest.mark.parametrize("name", sorted(MINIMUMS))
def test_spec_minimums_run(name: str) -> None:
    source, expected = MINIMUMS[name]
    assert ml_out(source) == expected


@pytest.mark.parametrize("depth", [0, 400, 800])
def test_outcome_does_not_depend_on_the_host_stack_depth(depth: int) -> None:
    source, expected = MINIMUMS["plus"]
    result = at_depth(depth, lambda: mlpy.run(f"y = {depth};\n" + source))
    assert result.success and result.stdout == expected


def test_in_a_worker_thread_with_a_small_stack() -> None:
    results: list[Any] = []
    previous = threading.stack_size(256 << 10)
    try:
        worker = threading.Thread(target=lambda: results.append(
            at_depth(100, lambda: [mlpy.run("y = 1;\n" + MINIMUMS[k][0])
                                   for k in ("plus", "arrays", "try")])))
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    assert [r.stdout for r in results[0]] == [MINIMUMS[k][1] for k in ("plus", "arrays", "try")]


TOO_DEEP = {
    "chain": "x = " + chain("+", "1", 300_000) + ";",
    "arrays": "x = " + "[" * 60_000 + "]" * 60_000 + ";",
    "loops": "while (true) { " * 40 + "x = 1;" + " break; }" * 40,
    "try": "try { " * 40 + "x = 1;" + " } except (e) { }" * 40,
}


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
def test_past_the_limit_is_a_syntax_error(name: str) -> None:
    ml_fails(TOO_DEEP[name], "SyntaxError", "program too deeply nested")


def test_past_the_limit_in_a_worker_thread_is_the_same_error() -> None:
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(mlpy.run(TOO_DEEP["arrays"])))
    worker.start()
    worker.join()
    assert (results[0].error_type, results[0].error) == ("SyntaxError",
                                                          "program too deeply nested")


def test_recursion_limit_is_put_back_after_a_compile() -> None:
    before = sys.getrecursionlimit()
    mlpy.run("y = 2;\n" + MINIMUMS["plus"][0])
    assert sys.getrecursionlimit() == before


def test_cli_refuses_with_exit_2(tmp_path: Any) -> None:
    program = tmp_path / "deep.ml"
    program.write_text(TOO_DEEP["arrays"])
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "SyntaxError: program too deeply nested" in done.stderr
    assert "Traceback" not in done.stderr
