"""Spec §2/§7 error wording: a bad assignment target is reported at its `=`; no Python type
names (`NoneType`) in messages."""

from __future__ import annotations

import pytest

import mlpy


@pytest.mark.parametrize("code,line,column", [
    ("null = 5;", 1, 6),
    ("function f() {}\nf() = 1;", 2, 5),
    ("x = 1; 1 + 2 = 3;", 1, 14),
])
def test_bad_assignment_target_points_at_the_equals(code, line, column):
    result = mlpy.run(code)
    assert result.error_type == "SyntaxError"
    assert result.error.startswith(f"Parse error: unexpected '=' at line {line}, column {column}")
    assert (result.line, result.column) == (line, column)


def test_no_nonetype_in_index_errors():
    result = mlpy.run("a = [1]; x = a[null];")
    assert result.error_type == "TypeError"
    assert "NoneType" not in result.error and "null" in result.error


def test_int_of_a_long_digit_string_does_not_echo_it():
    result = mlpy.run('x = int("' + "7" * 4301 + '");')
    assert result.error_type == "ValueError"
    assert "7777777" not in result.error and len(result.error) < 200
