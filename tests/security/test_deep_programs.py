"""Programs nested deeper than the compiler descends are refused with spec §7.2's
`SyntaxError: program too deeply nested`, never a Python RecursionError or an InternalError:
from mlpy.run at several host stack depths, from both executors, and from the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import mlpy
from mlpy import AsyncMLExecutor

DEEP = {
    "arrays": "result = " + "[" * 30000 + "]" * 30000 + ";",
    "calls": "function f(x) { return x; }\nresult = " + "f(" * 30000 + "1" + ")" * 30000 + ";",
    "blocks": "if (true) {" * 30000 + "x = 1;" + "}" * 30000,
    "functions": "function f() {" * 30000 + "}" * 30000,
    "objects": "result = " + "{a: " * 30000 + "1" + "}" * 30000 + ";",
}


def _refused(result) -> None:
    assert not result.success
    assert (result.error_type, result.error) == ("SyntaxError", "program too deeply nested"), \
        (result.error_type, result.error)


def _at_depth(depth: int, fn):
    """Call `fn` with `depth` host frames already on the stack."""
    if depth == 0:
        return fn()
    return _at_depth(depth - 1, fn)


@pytest.mark.parametrize("name", sorted(DEEP))
@pytest.mark.parametrize("host_depth", [0, 300, 700])
def test_run_refuses_deep_programs_cleanly(name, host_depth):
    result = _at_depth(host_depth, lambda: mlpy.run(DEEP[name], timeout=10))
    _refused(result)


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_executors_refuse_deep_programs_cleanly(isolation):
    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation) as ex:
            results = [await ex.execute(code, timeout=10) for code in DEEP.values()]
            after = await ex.execute("result = [[1]];", timeout=5)
            return results, after

    results, after = asyncio.run(scenario())
    for result in results:
        _refused(result)
    assert after.value == [[1]]


def test_deep_parentheses_are_no_nesting_at_all():
    assert mlpy.run("result = " + "(" * 30000 + "1" + ")" * 30000 + ";").value == 1


def test_the_cli_refuses_a_deep_program_with_exit_status_2(tmp_path):
    program = tmp_path / "deep.ml"
    program.write_text(DEEP["arrays"])
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "SyntaxError: program too deeply nested" in done.stderr
    assert "Traceback" not in done.stderr
