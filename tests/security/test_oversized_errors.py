"""What a program throws is bounded before any host sees it: a huge message, a huge type
name, re-thrown or not, in both isolation modes; huge literals and conversions give the
spec's ML errors, never Python internals or an echo of the input."""

from __future__ import annotations

import asyncio

import pytest

import mlpy
from mlpy import AsyncMLExecutor
from mlpy.executor.result import MAX_ERROR_MESSAGE, MAX_ERROR_TYPE

THROWN = {
    "rethrown message": ('try { throw {message: "x" * 10000000, type: "Boom"}; } '
                         "except (e) { throw e; }"),
    "type": 'throw {type: "T" * 10000000, message: "m"};',
    "changed message": 'try { x = 1 / 0; } except (e) { e.message = "y" * 10000000; throw e; }',
}


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_thrown_text_is_bounded(isolation):
    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation) as ex:
            return {name: await ex.execute(code, timeout=5) for name, code in THROWN.items()}

    results = asyncio.run(scenario())
    for name, result in results.items():
        assert not result.success, name
        assert len(result.error) <= MAX_ERROR_MESSAGE + 100, name
        assert len(result.error_type) <= MAX_ERROR_TYPE + 3, name
    assert results["rethrown message"].error_type == "Boom"
    assert results["rethrown message"].error.endswith("(message truncated: 10000000 characters)")
    assert results["type"].error_type == "T" * MAX_ERROR_TYPE + "..."


def test_integer_literal_past_4300_digits_is_a_parse_error():
    result = mlpy.run("x = 1;\nresult = " + "7" * 5000 + ";")
    assert (result.error_type, result.line, result.column) == ("SyntaxError", 2, 10)
    assert result.error == ("Parse error: integer literal of 5000 digits at line 2, column 10 "
                            "(the most is 4300)")
    assert mlpy.run("result = " + "7" * 4300 + " > 0;").value is True


def test_int_of_a_huge_digit_string_says_why_without_echoing_it():
    result = mlpy.run('result = int("' + "9" * 5000 + '");')
    assert result.error_type == "ValueError"
    assert result.error == ("Exceeds the limit (4300 digits) for integer string conversion: "
                            "value has 5000 digits")
    other = mlpy.run('result = int("x' + "9" * 5000 + '");')
    assert other.error_type == "ValueError" and len(other.error) < 200
    assert other.error.startswith("invalid literal for int() with base 10: 'x999")


def test_round_to_huge_negative_digits_is_immediate_and_exact():
    """round(x, -30000000) used to compute 10**30000000 inside one builtin call (49 s past a
    5 s timeout in thread mode)."""
    assert mlpy.run("result = round(70, -30000000);", timeout=5).value == 0
    assert mlpy.run("result = round(1234, -2);").value == 1200
    assert mlpy.run("result = round(1250, -2);").value == 1200
    assert mlpy.run("result = round(1351, -2);").value == 1400
    assert mlpy.run("result = round(-1351, -2);").value == -1400
    assert mlpy.run('result = round(5, "x");').error_type == "TypeError"
