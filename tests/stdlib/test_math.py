"""The ML math module (spec section 10), called through the library registry."""

import math as pymath

import pytest

import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.signals import LimitStop
from mlpy.runtime.values import display

M = mlpy.stdlib.load("math").members


def test_constants_are_members_not_functions():
    assert M["pi"] == pymath.pi and M["e"] == pymath.e
    assert not callable(M["pi"])


def test_sqrt():
    assert M["sqrt"](16) == 4.0 and type(M["sqrt"](16)) is float
    assert M["sqrt"](2) > 1.41
    assert M["sqrt"](-4) == 0 and type(M["sqrt"](-4)) is int
    assert M["sqrt"](10 ** 400) == pytest.approx(1e200)


def test_abs():
    assert M["abs"](-7.5) == 7.5 and M["abs"](3) == 3
    assert type(M["abs"](True)) is int


def test_pow_exact_for_integers_and_inf_on_overflow():
    assert M["pow"](2, 10) == 1024 and type(M["pow"](2, 10)) is int
    assert M["pow"](3, 50) == 3 ** 50
    assert M["pow"](2, 0.5) == M["sqrt"](2)
    assert display(M["pow"](2.0, 3)) == "8.0"
    assert M["pow"](2, -1) == 0.5
    assert M["pow"](10.0, 400) == float("inf")
    assert M["pow"](-10.0, 401) == float("-inf")
    assert M["pow"](1, 10 ** 18) == 1


def test_pow_domain_errors():
    with pytest.raises(ValueError, match="math domain error"):
        M["pow"](-8, 1 / 3)
    with pytest.raises(ValueError, match="math domain error"):
        M["pow"](0, -1)


def test_pow_integer_size_limit():
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_int_bits=1000))):
        assert M["pow"](2, 999) == 2 ** 999
        with pytest.raises(LimitStop):
            M["pow"](2, 5000)


def test_exp():
    assert M["exp"](0) == 1.0
    assert round(M["exp"](1), 6) == 2.718282
    assert M["exp"](1000) == float("inf")
    assert M["exp"](-(10 ** 400)) == 0.0


def test_ln_and_log():
    assert M["ln"](1) == 0.0 and round(M["ln"](pymath.e), 6) == 1.0
    assert M["ln"](0) == -999 and M["ln"](-3) == -999
    assert M["log"](1000) == 3.0 and M["log"](8, 2) == 3.0
    assert M["log"](81, 3) == pytest.approx(4.0)
    assert M["log"](-1) == -999 and M["log"](0) == -999
    assert M["log"](10, 1) == -999 and M["log"](10, 0) == -999 and M["log"](10, -2) == -999


def test_trigonometry():
    assert round(M["sin"](pymath.pi / 2), 6) == 1.0
    assert M["cos"](0) == 1.0 and M["tan"](0) == 0.0
    assert round(M["asin"](1), 6) == 1.570796 and M["acos"](1) == 0.0 and M["atan"](0) == 0.0
    assert round(M["atan2"](1, 1) * 4, 6) == 3.141593
    with pytest.raises(ValueError, match="math domain error"):
        M["asin"](2)
    with pytest.raises(ValueError, match="math domain error"):
        M["acos"](-1.5)


def test_angle_conversions_and_synonyms():
    assert round(M["degrees"](pymath.pi), 6) == 180.0
    assert round(M["radians"](180), 6) == 3.141593
    assert round(M["degToRad"](90), 6) == 1.570796
    assert round(M["radToDeg"](1), 4) == 57.2958


def test_floor_ceil_round_give_integers():
    assert [M["floor"](3.7), M["ceil"](3.2), M["floor"](-3.5), M["ceil"](-3.5)] == [3, 4, -4, -3]
    assert all(type(M[f](2.5)) is int for f in ("floor", "ceil", "round"))
    assert [M["round"](2.5), M["round"](3.5), M["round"](-1.4), M["round"](0.5)] == [2, 4, -1, 0]
    assert M["round"](7) == 7


def test_min_max():
    assert M["min"](3, 9) == 3 and M["max"](3, 9) == 9
    assert M["min"](2.5, -1) == -1 and M["max"]("a", "b") == "b"
    with pytest.raises(TypeError):
        M["min"](1, "a")


def test_factorial_gcd_lcm_sign():
    assert M["factorial"](10) == 3628800 and M["factorial"](0) == 1
    assert M["factorial"](-3) == 0
    assert M["factorial"](5.0) == 120
    with pytest.raises(ValueError):
        M["factorial"](2.5)
    assert M["gcd"](48, 36) == 12 and M["lcm"](4, 6) == 12
    assert [M["sign"](-12), M["sign"](0), M["sign"](0.5)] == [-1, 0, 1]


def test_factorial_size_limit():
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_int_bits=1000))):
        assert M["factorial"](100) == pymath.factorial(100)
        with pytest.raises(LimitStop):
            M["factorial"](10_000)


def test_gcd_and_lcm_of_long_integers_are_pythons():
    """Past 61,440 bits gcd runs Lehmer's algorithm in linear steps (Python's own gcd is one
    long C call a thread-mode stop cannot interrupt); the results are Python's."""
    import random
    rng = random.Random(5)
    with using(ExecutionContext(output=OutputSink())):
        for _ in range(40):
            common = rng.getrandbits(rng.choice([1, 64, 5000, 70_000]))
            a = rng.getrandbits(rng.choice([70_000, 150_000])) * common * rng.choice([1, -1])
            b = rng.getrandbits(rng.choice([100, 70_000, 150_000])) * common * rng.choice([1, -1])
            assert M["gcd"](a, b) == pymath.gcd(a, b)
            assert M["gcd"](b, a) == pymath.gcd(a, b)
        a, b = 3 ** 50000 * 10, 7 ** 30000 * 15
        assert M["lcm"](a, b) == pymath.lcm(a, b) and M["lcm"](-a, b) == pymath.lcm(a, b)
        assert M["gcd"](0, 0) == 0 and M["lcm"](0, 5) == 0 and M["gcd"](-12, 18) == 6
        assert M["gcd"](a, 0) == a and M["lcm"](a, 1) == a


def test_long_gcd_calls_python_only_on_short_integers(monkeypatch):
    seen = []
    gcd = pymath.gcd

    def recording(*args):
        seen.append(max(abs(x).bit_length() for x in args))
        return gcd(*args)

    monkeypatch.setattr(pymath, "gcd", recording)
    a, b = 3 ** 400_000, 5 ** 300_000
    with using(ExecutionContext(output=OutputSink())):
        assert M["gcd"](a * 7, b * 7) == 7
    assert seen and max(seen) <= 61_440


def test_lcm_past_the_integer_cap_is_a_limit_error():
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_int_bits=10_000))):
        assert M["lcm"](3 ** 2000, 5 ** 2000) == 15 ** 2000
        with pytest.raises(LimitStop, match="^integer of more than 10000 bits exceeds the size "
                                            "limit$"):
            M["lcm"](3 ** 4000, 5 ** 4000)


def test_sqrt_of_an_integer_whose_root_is_past_the_float_range():
    assert M["sqrt"](2 ** 2046) == 2.0 ** 1023
    with pytest.raises(OverflowError, match="^int too large to convert to float$"):
        M["sqrt"](2 ** 2048)
    with pytest.raises(OverflowError, match="^int too large to convert to float$"):
        M["sqrt"](3 ** 630_000)


def test_non_numbers_are_type_errors():
    for name in ("sqrt", "abs", "exp", "ln", "floor", "sin", "sign"):
        with pytest.raises(TypeError, match="expects a number, got string"):
            M[name]("4")
    with pytest.raises(TypeError):
        M["pow"](None, 2)


def test_random_in_unit_interval_and_shares_the_program_generator():
    with using(ExecutionContext(output=OutputSink())):
        values = [M["random"]() for _ in range(200)]
        assert all(0 <= v < 1 for v in values)
        rnd = mlpy.stdlib.load("random").members
        rnd["setSeed"](7)
        a = [M["random"]() for _ in range(3)]
        rnd["setSeed"](7)
        assert [rnd["random"]() for _ in range(3)] == a


def test_functions_have_docs_and_names():
    for name, fn in M.items():
        if callable(fn):
            assert fn.ml_doc, name
            assert fn.ml_qualname.startswith("math.")


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_26_runs_end_to_end():
    with open("/work/shared/examples/26_math_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/26_math_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_math_snippets():
    result = mlpy.run("import math; print(math.sqrt(16), math.pow(2, 100), math.exp(1000), "
                      "math.factorial(-1), typeof(math.pi), math.log(8, 2));")
    assert result.success
    assert result.stdout == "4.0 1267650600228229401496703205376 inf 0 number 3.0\n"


def test_ml_math_domain_error_is_catchable():
    result = mlpy.run('import math; try { math.acos(2); } except (e) { print(e.type + ": " + e.message); }')
    assert result.stdout == "ValueError: math domain error\n"
    uncaught = mlpy.run("import math;\nx = math.asin(5);")
    assert not uncaught.success and uncaught.error_type == "ValueError"
    assert uncaught.error == "math domain error" and uncaught.line == 2
