"""The ML random module: one generator per program namespace (spec section 10)."""

import pytest

import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink, using

R = mlpy.stdlib.load("random").members


@pytest.fixture
def ctx():
    with using(ExecutionContext(output=OutputSink())) as context:
        yield context


def test_same_seed_same_sequence(ctx):
    assert R["setSeed"](1234) == 1234
    first = [R["randomInt"](1, 7) for _ in range(20)] + [R["random"](), R["randomNormal"]()]
    R["set_seed"](1234)
    second = [R["randomInt"](1, 7) for _ in range(20)] + [R["random"](), R["randomNormal"]()]
    assert first == second
    R["setSeed"](99)
    assert [R["randomInt"](1, 7) for _ in range(20)] != first[:20]   # another seed, another sequence


def test_seed_is_remembered_and_null_before(ctx):
    assert R["getSeed"]() is None
    R["setSeed"](42)
    assert R["getSeed"]() == 42 and R["get_seed"]() == 42
    R["setSeed"]("text seed")
    assert R["getSeed"]() == "text seed"
    with pytest.raises(TypeError):
        R["setSeed"]([1])


def test_each_namespace_has_its_own_generator():
    a = ExecutionContext(output=OutputSink())
    b = ExecutionContext(output=OutputSink())
    with using(a):
        R["setSeed"](5)
        first = R["random"]()
    with using(b):
        assert R["getSeed"]() is None
        R["setSeed"](5)
        R["random"]()
    with using(a):
        second = R["random"]()                   # b's draws did not advance a's generator
    with using(ExecutionContext(output=OutputSink())):
        R["setSeed"](5)
        expected = [R["random"](), R["random"]()]
    assert [first, second] == expected


def test_ranges(ctx):
    for _ in range(300):
        assert 1 <= R["randomInt"](1, 7) < 7
        assert 0 <= R["random_int"]() < 100
        assert 0 <= R["random"]() < 1
        assert 5 <= R["randomFloat"](5, 6) <= 6
        assert 0 <= R["random_float"]() <= 1
        assert -2 <= R["uniform"](-2, 2) <= 2
        assert 1 <= R["triangular"](1, 3) <= 3 and 1 <= R["triangular"](1, 3, 1) <= 3
        assert 0 <= R["nextInt"]() <= 2 ** 32 - 1 and 0 <= R["next_int"]() <= 2 ** 32 - 1
    assert type(R["randomInt"](0, 2)) is int and R["randomInt"](3, 4) == 3


def test_random_int_errors(ctx):
    with pytest.raises(ValueError):
        R["randomInt"](7, 7)
    with pytest.raises(TypeError):
        R["randomInt"](0.5, 3)
    with pytest.raises(TypeError):
        R["randomInt"]("1", 3)


def test_normal_distribution_aliases(ctx):
    values = [R[name](10, 0.001) for name in ("randomNormal", "random_normal", "gaussian")]
    assert all(abs(v - 10) < 0.1 for v in values)
    mean = sum(R["gaussian"]() for _ in range(2000)) / 2000
    assert abs(mean) < 0.2


def test_booleans(ctx):
    draws = [R["randomBool"]() for _ in range(200)] + [R["random_bool"]()]
    assert all(type(d) is bool for d in draws) and True in draws and False in draws
    assert all(R["randomBoolWeighted"](1) for _ in range(50))
    assert not any(R["randomBoolWeighted"](0) for _ in range(50))


def test_choice(ctx):
    colours = ["red", "green", "blue"]
    assert all(R["choice"](colours) in colours for _ in range(50))
    assert R["choice"]([]) is None and R["choice"]("ab") in ("a", "b")
    with pytest.raises(TypeError):
        R["choice"](5)


def test_shuffle_returns_a_copy(ctx):
    deck = list(range(10))
    shuffled = R["shuffle"](deck)
    assert sorted(shuffled) == deck and deck == list(range(10)) and shuffled is not deck
    assert R["shuffle"]([]) == []


def test_sample(ctx):
    deck = list(range(10))
    s = R["sample"](deck, 3)
    assert len(s) == 3 and len(set(s)) == 3 and set(s) <= set(deck)
    everything = R["sample"](deck, 99)
    assert sorted(everything) == deck and everything is not deck
    assert R["sample"](deck, 0) == []
    with pytest.raises(ValueError):
        R["sample"](deck, -1)


def test_random_indices(ctx):
    idx = R["randomIndices"](10, 4)
    assert len(idx) == 4 and len(set(idx)) == 4 and all(0 <= i < 10 for i in idx)
    assert sorted(R["random_indices"](5, 9)) == [0, 1, 2, 3, 4]
    assert R["randomIndices"](0, 3) == []
    assert len(R["randomIndices"](10 ** 12, 3)) == 3
    with pytest.raises(ValueError):
        R["randomIndices"](-1, 2)


def test_random_indices_respects_sequence_limit():
    from mlpy.runtime.signals import LimitStop
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_sequence=1000))):
        with pytest.raises(LimitStop):
            R["randomIndices"](10 ** 9, 10 ** 9)


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_32_runs_end_to_end():
    with open("/work/shared/examples/32_random_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/32_random_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_seeded_sequences_repeat_across_runs():
    src = "import random; random.set_seed(77); print(random.randomInt(0, 1000000), random.nextInt(), random.getSeed());"
    first, second = mlpy.run(src), mlpy.run(src)
    assert first.success and first.stdout == second.stdout and first.stdout.endswith(" 77\n")
