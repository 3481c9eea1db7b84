"""The ML functional module: function first, data second; combinators (spec section 10)."""

import pytest

import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.signals import LimitStop
from mlpy.runtime.values import display, function_name

F = mlpy.stdlib.load("functional").members
NUMS = [1, 2, 3, 4, 5, 6]


def test_example_29_functional_module():
    out = []
    p = lambda *vs: out.append(" ".join(display(v) for v in vs))
    f = F
    nums = list(NUMS)
    p(f["map"](lambda x: x * x, nums))
    p(f["filter"](lambda x: x % 2 == 0, nums))
    p(f["reduce"](lambda a, b: a + b, nums), f["reduce"](lambda a, b: a + b, nums, 100))
    inc, dbl = (lambda x: x + 1), (lambda x: x * 2)
    p(f["compose"](inc, dbl)(5), f["pipe"](inc, dbl)(5))
    p(f["composeAll"]([inc, inc, dbl])(1), f["pipeAll"]([inc, inc, dbl])(1))
    add3 = f["curry"](lambda a, b, c: a + b + c)
    p(add3(1)(2)(3), add3(1, 2, 3))
    p(f["curry2"](lambda a, b: a * b)(6)(7))
    p(f["partial"](lambda greeting, name: greeting + " " + name, "Hi")("Bo"))
    calls = []

    def slow_square(x):
        calls.append(x)
        return x * x
    fast = f["memoize"](slow_square)
    p(fast(4), fast(4), fast(5), calls)
    p(f["partition"](lambda x: x > 3, nums))
    p(f["groupBy"](lambda w: w[0], ["apple", "avocado", "banana", "cherry", "blueberry"]))
    p(f["take"](2, nums), f["drop"](4, nums), f["takeWhile"](lambda x: x < 4, nums))
    p(f["chunk"](4, nums), f["flatten"]([[1], [2, [3]], 4]))
    p(f["unique"]([3, 1, 3, 2, 1]), f["reverse"]([1, 2, 3]))
    p(f["zipWith"](lambda a, b: a * b, [1, 2, 3], [4, 5, 6]))
    p(f["times"](4, lambda i: i * i), f["range"](3), f["range"](2, 8, 2), f["repeat"]("ab", 3))
    p(f["some"](lambda x: x > 5, nums), f["every"](lambda x: x > 5, nums), f["find"](lambda x: x > 2, nums))
    p(f["juxt"]([min, max, len])(nums))
    abs2 = f["ifElse"](lambda x: x < 0, lambda x: -x, f["identity"])
    p(abs2(-9), abs2(4))
    size = f["cond"]([[lambda x: x < 10, lambda x: "small"], [lambda x: x < 100, lambda x: "medium"]])
    p(size(5), size(50), size(500))
    p(f["constant"]("same")(), f["identity"]([1]))
    seen = []
    f["forEach"](lambda x: seen.append(x * 100), [1, 2])
    p(seen)
    with open("/work/shared/examples/29_functional_module.out") as fh:
        assert "\n".join(out) + "\n" == fh.read()
    assert nums == NUMS


def test_reduce_initial_rules():
    add = lambda a, b: a + b
    assert F["reduce"](add, [1, 2, 3], None) == 6          # null initial: first element starts
    assert F["reduce"](add, [], 0) == 0
    assert F["reduce"](lambda acc, x: acc + [x], [1, 2], []) == [1, 2]
    with pytest.raises(TypeError, match="empty sequence"):
        F["reduce"](add, [])


def test_for_each_alias_and_null_result():
    seen = []
    assert F["for_each"](seen.append, [1, 2]) is None and seen == [1, 2]


def test_group_by_keeps_first_seen_key_order_and_alias():
    groups = F["group_by"](lambda x: x % 3, [3, 1, 4, 6, 2])
    assert list(groups) == [0, 1, 2] and groups == {0: [3, 6], 1: [1, 4], 2: [2]}
    with pytest.raises(TypeError):
        F["groupBy"](lambda x: [x], [1])


def test_take_drop_chunk_edges():
    assert F["take"](-1, NUMS) == [] and F["drop"](-1, NUMS) == NUMS and F["drop"](10, NUMS) == []
    assert F["chunk"](0, NUMS) == [] and F["chunk"](10, NUMS) == [NUMS]
    assert F["takeWhile"](lambda x: True, []) == []


def test_unique_accepts_scalars_only():
    assert F["unique"]([None, True, 1, "1", 1.5, None]) == [None, True, "1", 1.5]
    with pytest.raises(TypeError):
        F["unique"]([[1], [1]])


def test_zip_variadic_and_shortest():
    assert F["zip"]([1, 2, 3], ["a", "b"], [True, False, None]) == [[1, "a", True], [2, "b", False]]
    assert F["zip"]([1]) == [[1]] and F["zip"]() == []
    assert F["zipWith"](lambda a, b: [a, b], [1, 2], ["x"]) == [[1, "x"]]


def test_range_and_repeat():
    assert F["range"](0) == [] and F["range"](5, 0, -2) == [5, 3, 1] and F["range"](-2, 2) == [-2, -1, 0, 1]
    with pytest.raises(ValueError):
        F["range"](0, 5, 0)
    with pytest.raises(TypeError):
        F["range"](1.5)
    assert F["repeat"](0, 0) == [] and F["repeat"](1, -3) == []
    shared = [1]
    reps = F["repeat"](shared, 2)
    assert reps[0] is shared and reps[1] is shared
    assert F["times"](0, lambda i: i) == []


def test_size_limits():
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_sequence=100))):
        assert len(F["range"](100)) == 100
        for call in (lambda: F["range"](101), lambda: F["repeat"](0, 10 ** 12),
                     lambda: F["times"](10 ** 9, lambda i: i)):
            with pytest.raises(LimitStop):
                call()


def test_compose_and_pipe_orders_and_identity():
    inc, dbl = (lambda x: x + 1), (lambda x: x * 2)
    assert F["compose"](inc, dbl)(5) == 11 and F["pipe"](inc, dbl)(5) == 12
    assert F["compose"]()(7) == 7 and F["pipeAll"]([])(7) == 7
    assert F["compose"](inc, lambda a, b: a * b)(3, 4) == 13      # the first applied gets all arguments
    with pytest.raises(TypeError):
        F["compose"](inc, 5)
    with pytest.raises(TypeError):
        F["pipeAll"]("not functions")


def test_curry_arity_and_partial_calls():
    add3 = F["curry"](lambda a, b, c: a + b + c)
    assert add3(1, 2)(3) == 6 and add3(1)(2, 3) == 6
    assert F["curry"](lambda *xs: sum(xs), 3)(1)(2)(3) == 6
    with pytest.raises(TypeError, match="arity"):
        F["curry"](lambda *xs: 0)
    with pytest.raises(TypeError):
        F["curry"](lambda a: a, "2")
    mul = F["curry2"](lambda a, b: a * b)
    assert mul(3)(4) == 12 and mul(3, 4) == 12


def test_curry_counts_parameters_of_library_functions():
    curried_take = F["curry"](F["take"])
    assert curried_take(2)([1, 2, 3]) == [1, 2]


def test_partial_and_alias():
    assert F["partial_apply"](lambda a, b, c: [a, b, c], 1, 2)(3) == [1, 2, 3]
    assert F["partial"](lambda: "none")() == "none"


def test_memoize_keys_by_type_and_refuses_containers():
    calls = []

    def f(*args):
        calls.append(args)
        return len(calls)
    m = F["memoize"](f)
    assert m(1) == 1 and m(1) == 1 and m(1.0) == 2 and m(True) == 3 and m("1") == 4
    assert m(None, "a") == 5 and m(None, "a") == 5 and m() == 6 and m() == 6
    with pytest.raises(TypeError, match="numbers, strings, booleans or null"):
        m([1])


def test_constant_takes_no_arguments():
    always = F["constant"]([1])
    assert always() == [1]
    with pytest.raises(TypeError):
        always(1)


def test_juxt_if_else_cond():
    assert F["juxt"]([])(1) == []
    assert F["ifElse"](lambda x: x, lambda x: "yes", lambda x: "no")(0) == "no"
    assert F["cond"]([])(1) is None
    with pytest.raises(TypeError):
        F["cond"]([[lambda x: True]])


def test_returned_functions_print_as_anonymous():
    for fn in (F["compose"](), F["curry2"](lambda a, b: a), F["memoize"](abs),
               F["constant"](1), F["juxt"]([]), F["partial"](abs)):
        assert callable(fn) and function_name(fn) == "" and display([fn]) == "[<function>]"


def test_data_arguments_must_be_arrays():
    with pytest.raises(TypeError, match="expects an array, got number"):
        F["map"](abs, 5)
    assert F["map"](str.upper, "ab") == ["A", "B"]


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_29_runs_end_to_end():
    with open("/work/shared/examples/29_functional_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/29_functional_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_curry_uses_the_parameter_count_of_ml_functions():
    result = mlpy.run("import functional as f;\nfunction sub3(a, b, c) { return a - b - c; }\n"
                      "g = f.curry(sub3); print(g(10)(1)(2), g(10, 1)(2), g, f.curry(fn() => 5));")
    assert result.success and result.stdout == "7 7 <function> <function>\n"


def test_ml_reduce_without_values_is_a_type_error():
    result = mlpy.run("import functional as f; f.reduce(fn(a, b) => a + b, []);")
    assert not result.success and result.error_type == "TypeError"
