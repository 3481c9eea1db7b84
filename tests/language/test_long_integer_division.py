"""`//`, `%` and `round(x, -n)` on long integers (spec §4, §11.1): Python's results, computed
in steps a thread-mode stop can land between.

Python divides in one C call that holds the GIL, so `ops.int_divmod` splits a long division
into divisions that each cost at most `DIVISION_STEP_COST` digit products; these tests record
every division it makes. Small operands keep their cheap inline shapes."""

from __future__ import annotations

import random

import pytest

import mlpy
from mlpy.runtime import ops
from mlpy.runtime.builtins import round_
from mltest import ml_fails

LONG = "import math; a = math.pow(3, 630000); b = math.pow(7, 178000); "
A, B = 3 ** 630000, 7 ** 178000


def _cost(a: int, b: int) -> int:
    """Digit products (30-bit digits) of Python's schoolbook division of a by b."""
    na, nb = abs(a).bit_length(), abs(b).bit_length()
    return 0 if na <= nb else ((na - nb) // 30 + 1) * (nb // 30 + 1)


@pytest.fixture
def divisions(monkeypatch):
    """Every division ops makes with `divmod`, as (dividend, divisor) pairs."""
    seen: list[tuple[int, int]] = []

    def recording(a, b):
        seen.append((a, b))
        return divmod(a, b)

    monkeypatch.setattr(ops, "divmod", recording, raising=False)
    return seen


def test_int_divmod_is_divmod_for_every_sign_and_size(monkeypatch):
    monkeypatch.setattr(ops, "DIVISION_STEP_COST", 40)     # steps of at most 40 digit products
    rng = random.Random(18)
    for _ in range(1000):
        na = rng.choice([10, 300, 5000, 20_000])
        a = rng.getrandbits(na) * rng.choice([1, -1])
        b = (rng.getrandbits(rng.randint(1, na + 40)) or 1) * rng.choice([1, -1])
        if rng.random() < 0.2:
            a = b * rng.getrandbits(na)                # exact: a zero remainder
        assert ops.int_divmod(a, b) == divmod(a, b)
        assert ops.floordiv(a, b) == a // b and ops.mod(a, b) == a % b


def test_a_long_division_is_made_of_short_steps(divisions):
    assert ops.int_divmod(A, B) == divmod(A, B)
    assert len(divisions) > 10
    assert max(_cost(a, b) for a, b in divisions) <= ops.DIVISION_STEP_COST


@pytest.mark.parametrize("code", [
    LONG + "q = a // b; r = a % b;",                                     # top level
    LONG + "q = a // (b + 0); r = (a + 0) % (b + 0);",                   # any operands
    # integer locals: the inline test of the dividend's size sends long ones to the helper
    "function f() { a = 3; b = 0; i = 0; while (i < 19) { b = a; a = a * a; i = i + 1; } "
    "return [a // b, a % b, (a + 1) % b]; } x = f();",
])
def test_ml_division_of_long_integers_takes_the_steps(code, divisions):
    result = mlpy.run(code, timeout=60)
    assert result.success, result.error
    assert len(divisions) > 10
    assert max(_cost(a, b) for a, b in divisions) <= ops.DIVISION_STEP_COST


def test_ml_results_of_long_division_are_pythons():
    result = mlpy.run(LONG + "m = 1000000007; result = [(a // b) % m, (a % b) % m, "
                             "((-a) // b) % m, ((-a) % b) % m, (a // (-b)) % m, (a % (-b)) % m];",
                      timeout=60)
    m = 1000000007
    assert result.value == [(A // B) % m, (A % B) % m, ((-A) // B) % m, ((-A) % B) % m,
                            (A // -B) % m, (A % -B) % m]


@pytest.mark.parametrize("expression, value", [
    ("-7 // 2", -4), ("-7 % 3", 2), ("7 % -3", -2), ("7 // -2", -4), ("2.5 // 0.5", 5.0),
    ("7.5 % 2", 1.5), ("true // 1", 1), ("10 % true", 0), ("0 // 5", 0),
    ("123456789012345678901234567890 // 1234567890123", 100000000000036999),
    ("123456789012345678901234567890 % 1234567890123", 1123867907013),
])
def test_small_operands_keep_their_results(expression, value):
    result = mlpy.run(f"result = {expression};")
    assert result.value == value and type(result.value) is type(value)
    # the same inside a function, where the operands are integer locals when they can be
    result = mlpy.run(f"function f() {{ x = {expression}; return x; }} result = f();")
    assert result.value == value


@pytest.mark.parametrize("a, b", [(7, 2), (-7, 2), (7.5, 2), (7, 2.5), (True, 1), (10, True),
                                  (2 ** 70 + 5, 3), (2 ** 70 + 5, 2 ** 40 + 1), (-2 ** 70, 7)])
def test_operands_of_any_number_type_in_variables(a, b):
    """The shapes for operands whose types the compiler does not know: parameters, globals."""
    code = ("function f(x, y) { return [x // y, x % y, (x + 0) // y, (x + 0) % y]; } "
            "result = f(a, b);")
    assert mlpy.run(code, context={"a": a, "b": b}).value == [a // b, a % b, a // b, a % b]
    code = "result = [a // b, a % b, (a + 0) // (b + 0), (a + 0) % (b + 0)];"
    assert mlpy.run(code, context={"a": a, "b": b}).value == [a // b, a % b, a // b, a % b]


@pytest.mark.parametrize("code, error, message", [
    ('result = "a" // 2;', "TypeError", "unsupported operand type(s) for //: 'string' and 'number'"),
    ("result = null % 2;", "TypeError", "unsupported operand type(s) for %: 'null' and 'number'"),
    ("x = [1]; y = 2; result = x // y;", "TypeError",
     "unsupported operand type(s) for //: 'array' and 'number'"),
    ("result = 1 // 0;", "ZeroDivisionError", "division by zero"),
    ("x = 5; y = 0; result = x % y;", "ZeroDivisionError", "division by zero"),
    (LONG + "result = a // 0;", "ZeroDivisionError", "division by zero"),
    (LONG + "z = 0; result = a % z;", "ZeroDivisionError", "division by zero"),
    (LONG + 'result = a // "b";', "TypeError",
     "unsupported operand type(s) for //: 'number' and 'string'"),
])
def test_errors_are_unchanged(code, error, message):
    ml_fails(code, error, message)


def test_cheap_divisions_compile_to_pythons_operator():
    """The numeric fast paths stay as they were: a divisor constant below 2**32, a constant
    dividend or a counter needs no size test."""
    program = mlpy.compile("function f(n) { t = 0; i = 0; while (i < n) { "
                              "t = t + i * i % 7 - i // 3; u = 100 // n; i = i + 1; } "
                              "return t; } x = 5; y = x // 3;")
    text = program.python_source
    assert "t + i * i % 7 - i // 3" in text
    assert "u = 100 // n" in text
    assert "y = x // 3" in text
    assert "__ml_floordiv" not in text and "__ml_mod" not in text


def test_round_to_negative_digits_of_a_long_integer():
    rng = random.Random(11)
    for _ in range(60):
        x = rng.getrandbits(rng.choice([5000, 60000])) * rng.choice([1, -1])
        places = rng.randint(1, int(x.bit_length() * 0.3))
        if rng.random() < 0.3:                   # an exact tie: to the even multiple
            unit = 10 ** places
            x = x // unit * unit + unit // 2
        assert round_(x, -places) == round(x, -places)
    assert mlpy.run("x = 3; i = 0; while (i < 18) { x = x * x; i = i + 1; } "
                    "result = round(x, -30000000);").value == 0


def test_round_of_a_long_integer_takes_the_steps(divisions):
    result = mlpy.run(LONG + "r = round(a, -150000); result = r % 1000003;", timeout=60)
    assert result.value == round(A, -150000) % 1000003
    assert len(divisions) > 10
    assert max(_cost(a, b) for a, b in divisions) <= ops.DIVISION_STEP_COST
