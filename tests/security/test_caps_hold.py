"""The string and array caps hold for producers that build a result in parts or in C: the
container form of a shared nested array, a split into more parts than the array cap, a
replacement template that multiplies its text, or a replacement function. Each stops with LimitError (spec §11.1) and
the program's next run is unaffected."""

from __future__ import annotations

import asyncio

import pytest

import mlpy
from mlpy import AsyncMLExecutor

CASES = {
    "container form": ('a = ["x" * 100000] * 1000; b = [a, a, a, a, a, a, a, a, a, a]; '
                       "result = str(b).length;"),
    "print of a container": 'a = ["x" * 100000] * 1000; print([a, a, a, a, a, a]);',
    "split": 'result = ("," * 20000000).split(",").length;',
    "rsplit": 'result = ("," * 20000000).rsplit(",").length;',
    "replacement template": ('import regex; result = regex.sub("a", "\\\\g<0>" * 600, '
                             '"a" * 100000).length;'),
    # a replacement function's results are held the same way (it had grown to 10 GB)
    "replacement function": ('import regex; result = regex.sub("a", fn(m) => "x" * 1000000, '
                             '"a" * 100000).length;'),
    # library functions: every module function's result passes the caps (ops.cap_result)
    "encodeURI": 'import http; result = http.encodeURI("\\u00e9" * 20000000).length;',
    "json.stringify": ('import json; a = ["x" * 100000] * 1000; b = [a, a, a, a, a, a]; '
                       "result = json.stringify(b).length;"),
    "flatten": ('import functional; a = [0] * 4000000; '
                "result = functional.flatten([a, a, a]).length;"),
    # a library object's method that builds its text in parts spends from the budget
    "datetime.format": ('import datetime; d = datetime.now(); '
                        'result = d.format("%B" * 20000000).length;'),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_cap_stops_the_producer(name):
    result = mlpy.run(CASES[name], timeout=30)
    assert not result.success
    assert result.error_type == "LimitError", (result.error_type, result.error)
    assert "exceeds the limit" in result.error or "more than the limit" in result.error


def test_results_under_the_caps_are_exact():
    assert mlpy.run('result = ("abcdefghij " * 2500000).split().length;').value == 2500000
    assert mlpy.run('result = "a,b,,c".split(",");').value == ["a", "b", "", "c"]
    assert mlpy.run('result = ("x," * 20000000).split(",", 3).length;').value == 4
    assert mlpy.run('a = [1, [2, "x"], {k: 3.5}]; result = str(a);').value == \
        '[1, [2, "x"], {"k": 3.5}]'
    # a template that could pass the cap over this text is expanded match by match: the
    # same result as the engine's
    replaced = mlpy.run('import regex; t = "xa" + "b" * 20000000 + "a"; '
                        'r = regex.subn("(a)", "<\\\\1\\\\g<0>>", t); '
                        'result = [r.count, r.result.length, r.result[0:8]];').value
    assert replaced == [2, 20000009, "x<aa>bbb"]


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_caps_hold_in_both_isolation_modes(isolation):
    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation) as ex:
            capped = await ex.execute(CASES["container form"], timeout=30)
            after = await ex.execute("result = str([1, 2]);", timeout=5)
            return capped, after

    capped, after = asyncio.run(scenario())
    assert capped.error_type == "LimitError"
    assert after.value == "[1, 2]"
