"""The ML collections module: list first, inputs never modified (spec section 10)."""

import pytest

import mlpy.stdlib
from mlpy.runtime.values import display

L = mlpy.stdlib.load("collections").members
BASE = [5, 3, 8, 1]


@pytest.fixture
def base():
    return list(BASE)


def unchanged(base):
    return base == BASE


def test_example_28_collections_module(base):
    out = []
    p = lambda *vs: out.append(" ".join(display(v) for v in vs))
    p(L["append"](base, 9), L["prepend"](base, 0), base)
    p(L["concat"]([1, 2], [3]), L["length"](base))
    p(L["first"](base), L["last"](base), L["first"]([]))
    p(L["get"](base, 2), L["get"](base, 10), L["get"](base, -1))
    p(L["slice"](base, 1, 3), L["slice"](base, 2))
    p(L["reverse"](base), L["sort"](base), L["sort"](base, True))
    p(L["contains"](base, 8), L["indexOf"](base, 8), L["indexOf"](base, 7))
    p(L["take"](base, 2), L["drop"](base, 2))
    p(L["chunk"]([1, 2, 3, 4, 5], 2), L["flatten"]([[1, 2], 3, [4]]))
    p(L["unique"]([1, 2, 1, 3, 2]), L["removeAt"](base, 0), L["removeAt"](base, 9))
    p(L["isEmpty"]([]), L["isEmpty"](base))
    p(L["map"](base, lambda x: x * 10))
    p(L["filter"](base, lambda x: x > 3))
    p(L["reduce"](base, lambda acc, x: acc + x, 0))
    p(L["find"](base, lambda x: x > 5), L["find"](base, lambda x: x > 50))
    p(L["some"](base, lambda x: x > 7), L["every"](base, lambda x: x > 0))
    people = [{"n": "cy", "age": 40}, {"n": "al", "age": 25}, {"n": "bo", "age": 33}]
    p(L["map"](L["sortBy"](people, lambda q: q["age"]), lambda q: q["n"]))
    p(L["zip"]([1, 2], ["a", "b"]))
    p(L["index_of"](base, 1), L["is_empty"](base), L["remove_at"](base, 1))
    with open("/work/shared/examples/28_collections_module.out") as f:
        assert "\n".join(out) + "\n" == f.read()
    assert unchanged(base)


def test_results_are_new_lists(base):
    for name, args in [("append", (1,)), ("prepend", (1,)), ("reverse", ()), ("sort", ()),
                       ("slice", (0,)), ("take", (10,)), ("drop", (0,)), ("removeAt", (99,)),
                       ("unique", ()), ("flatten", ()), ("map", (lambda x: x,)),
                       ("filter", (lambda x: True,))]:
        result = L[name](base, *args)
        assert type(result) is list and result is not base, name
    assert unchanged(base)


def test_get_negative_and_bounds(base):
    assert L["get"](base, -4) == 5 and L["get"](base, -5) is None and L["get"](base, 4) is None
    with pytest.raises(TypeError):
        L["get"](base, 1.5)


def test_slice_negative_and_clamped(base):
    assert L["slice"](base, -2) == [8, 1] and L["slice"](base, 1, -1) == [3, 8]
    assert L["slice"](base, 10) == [] and L["slice"](base, -99, 99) == BASE


def test_take_drop_edge_cases(base):
    assert L["take"](base, 0) == [] and L["take"](base, -1) == [] and L["take"](base, 9) == BASE
    assert L["drop"](base, -2) == BASE and L["drop"](base, 9) == []


def test_remove_at(base):
    assert L["removeAt"](base, -1) == [5, 3, 8] and L["removeAt"](base, -9) == BASE
    assert unchanged(base)


def test_unique_first_occurrences_including_unhashables():
    assert L["unique"]([3, 1, 3, "3", 1]) == [3, 1, "3"]
    assert L["unique"]([[1], [2], [1], {"a": 1}, {"a": 1}]) == [[1], [2], {"a": 1}]


def test_chunk_sizes():
    assert L["chunk"]([1, 2, 3], 5) == [[1, 2, 3]] and L["chunk"]([1, 2, 3], 0) == []
    assert L["chunk"]([1, 2, 3], -1) == [] and L["chunk"]([], 2) == []


def test_sort_and_sort_by(base):
    assert L["sort"](["b", "a", "c"]) == ["a", "b", "c"]
    with pytest.raises(TypeError, match="not supported between"):
        L["sort"]([1, "a"])
    pairs = [[1, "a"], [0, "b"], [1, "c"]]
    assert L["sortBy"](pairs, lambda p: p[0]) == [[0, "b"], [1, "a"], [1, "c"]]
    assert L["sortBy"](pairs, lambda p: p[0], True) == [[1, "a"], [1, "c"], [0, "b"]]


def test_flatten_one_level():
    assert L["flatten"]([[1, [2]], [], 3]) == [1, [2], 3]


def test_zip_shortest():
    assert L["zip"]([1, 2, 3], ["a"]) == [[1, "a"]] and L["zip"]([], [1]) == []


def test_contains_and_index_of_use_ml_equality():
    assert L["contains"]([1, [2, 3]], [2, 3]) is True and L["contains"]([1], "1") is False
    assert L["indexOf"]([0, 1.0, 2], 1) == 1 and L["indexOf"]([], 1) == -1


def test_reduce_needs_initial_and_passes_acc_first():
    assert L["reduce"]([1, 2, 3], lambda acc, x: acc + [x], []) == [1, 2, 3]
    assert L["reduce"]([], lambda acc, x: acc, "init") == "init"
    with pytest.raises(TypeError):
        L["reduce"]([1], lambda a, b: a)


def test_every_some_on_empty():
    assert L["every"]([], lambda x: False) is True and L["some"]([], lambda x: True) is False


def test_callbacks_mutating_the_input_do_not_affect_iteration(base):
    seen = []

    def grow(x):
        base.append(x)
        seen.append(x)
        return x
    assert L["map"](base, grow) == BASE and seen == BASE


def test_non_arrays_are_type_errors():
    with pytest.raises(TypeError, match="expects an array, got number"):
        L["append"](5, 1)
    with pytest.raises(TypeError, match="expects an array, got null"):
        L["map"](None, lambda x: x)
    with pytest.raises(TypeError):
        L["length"](3)
    assert L["length"]("abc") == 3 and L["length"]({"a": 1}) == 1


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_28_runs_end_to_end():
    with open("/work/shared/examples/28_collections_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/28_collections_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_collections_callbacks_and_errors():
    result = mlpy.run('import collections as c; xs = [3, 1]; '
                      'print(c.reduce(xs, fn(acc, x) => acc + [x * 2], []), c.sortBy(["bb", "a"], len), xs); '
                      'try { c.first(5); } except (e) { print(e.type); }')
    assert result.success and result.stdout == '[6, 2] ["a", "bb"] [3, 1]\nTypeError\n'
