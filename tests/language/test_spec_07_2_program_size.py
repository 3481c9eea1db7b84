"""Spec §7.2 size of programs: chains of 10,000 operands run, 100 levels of nesting and 18
nested loops/`try` work, whatever the host's stack depth or thread; past the limit the program
is refused with `SyntaxError: program too deeply nested`, never a host traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

import mlpy
from mlpy import AsyncMLExecutor
from mlpy.program import clear_cache

N = 10_000
D = 100
L = 18

CHAINS = {
    "plus": ("result = " + " + ".join(["1"] * N) + ";", N),
    "minus": ("result = " + " - ".join(["1"] * N) + ";", 1 - (N - 1)),
    "times": ("result = " + " * ".join(["1"] * N) + ";", 1),
    "and": ("result = " + " && ".join(["true"] * N) + ";", True),
    "or": ("result = " + " || ".join(["false"] * N) + ";", False),
    "string": ('s = "a"; result = len(s' + ' + "x"' * N + ");", N + 1),
    "mixed": ("result = " + " + ".join(["2 * 3"] * N) + ";", 6 * N),
    "compare": ("result = " + " == ".join(["1"] * N) + ";", N % 2 == 0),
    "names": ("a = 1; result = " + " + ".join(["a"] * N) + ";", N),
    "and_or": ("result = " + " && ".join(["true || false"] * N) + ";", True),
}

NESTED = {
    "arrays": ("x = " + "[" * D + "7" + "]" * D + "; result = x" + "[0]" * D + ";", 7),
    "objects": ("x = " + "{a: " * D + "7" + "}" * D + "; result = x" + ".a" * D + ";", 7),
    "calls": ("function f(v) { return v; }\nresult = " + "f(" * D + "7" + ")" * D + ";", 7),
    "parens": ("result = " + "(" * D + "7" + ")" * D + ";", 7),
    "blocks": ("if (true) {" * D + "result = 7;" + "}" * D, 7),
    "functions": ("".join(f"function f{i}() {{ " for i in range(D)) + "return 7;"
                  + "".join(f"}} return f{i}(); " for i in reversed(range(1, D))) + "}"
                  + " result = f0();", 7),
    "arrows": ("g = " + "fn() => " * D + "7; result = g" + "()" * D + ";", 7),
    "block_arrows": ("g = " + "fn() => { return " * D + "7;" + " };" * (D - 1) + " }; "
                     "result = g" + "()" * D + ";", 7),
    "unary": ("result = " + "-" * D + "7;", 7),
    "not": ("result = " + "!" * D + "true;", True),
    "ternary": ("result = " + "false ? 0 : " * D + "7;", 7),
    "loops": ("result = 0;" + "".join(f"for (i{k} in [1]) {{ " for k in range(L))
              + "result = 7;" + "}" * L, 7),
    "whiles": ("x = 0;" + "while (x < 1) {" * L + "x = 1; result = 7;" + "}" * L, 7),
    "tries": ("try {" * L + "result = 7;" + "} except (e) {}" * L, 7),
    "loops_and_tries": ("".join(f"for (i{k} in [1]) {{ try {{ " for k in range(L // 2))
                        + "result = 7;" + "} except (e) {} }" * (L // 2), 7),
    # each `try` with except and finally is two or three of Python's 20 static blocks
    "tries_finally": ("result = 0;" + "try {" * L + "result = result + 7;"
                      + "} finally { result = result + 1; }" * L, 7 + L),
    "tries_except_finally": ("n = 0; " + "try {" * L + 'throw {message: "x"};'
                             + "} except (e) { n = n + 1; } finally { n = n + 10; }" * L
                             + " result = n;", 1 + 10 * L),
    "handlers": ('try { throw {message: "a"}; } except (e) {' * L + "result = 7;" + "}" * L, 7),
    "loops_each_in_a_try": ("".join(f"for (i{k} in [1, 2]) {{ try {{ " for k in range(L))
                            + "result = 7;" + "} except (e) {} finally {} }" * L, 7),
    "finally_in_finally": ("try {} finally {" * L + "result = 7;" + "}" * L, 7),
}

# return, break and continue cross the deepest blocks (which the compiler may move into
# functions of their own) exactly as they do shallow ones
JUMPS = {
    "return": ("function f(n) { " + "try {" * L + "if (n > 0) { return n * 2; } t = n;"
               + "} except (e) { } finally { n = n + 1; }" * L + " return [t, n]; }"
               " result = [f(5), f(0)];", [10, [0, L]]),
    "break_continue": ("function f() { s = 0; "
                       + "while (true) { try { " * L
                       + "s = s + 1; if (s % 2 == 1) { continue; } if (s > 6) { break; }"
                       + "} finally { } }" + " } finally { } break; }" * (L - 1)
                       + " return s; } result = f();", 8),
    "top_level_break": ("n = 0; for (i in [1, 2, 3, 4]) {" + "try {" * L
                        + "if (i == 3) { break; } n = n + i;" + "} finally { }" * L
                        + "} result = n;", 3),
    "closure": ("function f() { " + "try {" * L + "k = 5; g = fn() => k + 1;"
                + "} except (e) { } finally { }" * L + " return g(); } result = f();", 6),
    "nonlocal": ("total = 0; function add(v) { nonlocal total; " + "try {" * L
                 + "total = total + v;" + "} finally { }" * L
                 + " } add(2); add(3); result = total;", 5),
    "unbound_after": ("try {" * L + 'throw {message: "x"};' + "} except (sorted) { }" * L
                      + " result = sorted([2, 1]);", [1, 2]),
}

TOO_DEEP = {
    "arrays": "result = " + "[" * 50_000 + "]" * 50_000 + ";",
    "loops": "".join(f"for (i{k} in [1]) {{ " for k in range(200)) + "x = 1;" + "}" * 200,
    "tries": "try {" * 200 + "x = 1;" + "} except (e) {}" * 200,
    "loops_101": "for (i in [1]) {" * 101 + "x = 1;" + "}" * 101,
    "arrows": "g = " + "fn() => " * 50_000 + "1;",
}


def _at_depth(depth: int, fn):
    """Call `fn` with `depth` host frames already on the stack."""
    if depth == 0:
        return fn()
    return _at_depth(depth - 1, fn)


def _run(code):
    clear_cache()      # compile every time: the cache would hide the host depth
    return mlpy.run(code, timeout=30)


@pytest.mark.parametrize("name", sorted(CHAINS))
@pytest.mark.parametrize("host_depth", [0, 850])
def test_long_chains_run(name, host_depth):
    code, expected = CHAINS[name]
    result = _at_depth(host_depth, lambda: _run(code))
    assert result.success, (result.error_type, result.error)
    assert result.value == expected


@pytest.mark.parametrize("name", sorted(NESTED))
@pytest.mark.parametrize("host_depth", [0, 850])
def test_nesting_at_the_spec_minimum_runs(name, host_depth):
    code, expected = NESTED[name]
    result = _at_depth(host_depth, lambda: _run(code))
    assert result.success, (result.error_type, result.error)
    assert result.value == expected


@pytest.mark.parametrize("name", sorted(JUMPS))
def test_jumps_across_deep_blocks(name):
    code, value = JUMPS[name]
    result = _run(code)
    assert (result.success, result.value) == (True, value), (result.error_type, result.error)


def test_loops_nest_a_hundred_deep():
    result = _run("x = 0;" + "for (i in [1]) {" * 100 + "x = x + 1;" + "}" * 100 + "result = x;")
    assert result.value == 1, result.error


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
def test_past_the_limit_is_refused(name):
    result = _run(TOO_DEEP[name])
    assert not result.success
    assert (result.error_type, result.error) == ("SyntaxError", "program too deeply nested")


def test_inside_a_worker_thread_with_a_small_stack():
    results: list = []

    def work():
        for code, _ in list(CHAINS.values()) + list(NESTED.values()):
            results.append(_run(code))
        results.append(_run(TOO_DEEP["arrays"]))

    previous = threading.stack_size()
    threading.stack_size(512 * 1024)
    try:
        thread = threading.Thread(target=work)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    expected = [v for _, v in CHAINS.values()] + [v for _, v in NESTED.values()]
    assert [r.value for r in results[:-1]] == expected
    assert results[-1].error == "program too deeply nested"


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_executors(isolation):
    programs = [CHAINS["plus"][0], CHAINS["and"][0], NESTED["functions"][0],
                NESTED["loops"][0], TOO_DEEP["arrays"], TOO_DEEP["loops"]]

    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation) as ex:
            return [await ex.execute(code, timeout=30) for code in programs]

    results = asyncio.run(scenario())
    assert [r.value for r in results[:4]] == [N, True, 7, 7], \
        [(r.error_type, r.error) for r in results]
    for r in results[4:]:
        assert (r.error_type, r.error) == ("SyntaxError", "program too deeply nested")


def test_cli_too_many_nested_loops_exit_2(tmp_path):
    program = tmp_path / "deep.ml"
    program.write_text(TOO_DEEP["loops"])
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "SyntaxError: program too deeply nested" in done.stderr
    assert "Traceback" not in done.stderr and "statically" not in done.stderr


def test_cli_long_chain_runs(tmp_path):
    program = tmp_path / "chain.ml"
    program.write_text("print(" + " + ".join(["1"] * N) + ");")
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(N)


def test_cli_eighteen_nested_try_finally_run(tmp_path):
    """Python's own "too many statically nested blocks" never reaches `mlpy run`."""
    program = tmp_path / "tries.ml"
    program.write_text(NESTED["tries_except_finally"][0] + "\nprint(result);\n")
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(1 + 10 * L)
    program.write_text("x = 1;\n" + "while (x < 2) {\n" * 120 + "x = 2;" + "}" * 120 + "\n")
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("SyntaxError: program too deeply nested (line 102)"), \
        done.stderr
    assert "Traceback" not in done.stderr and "statically" not in done.stderr
