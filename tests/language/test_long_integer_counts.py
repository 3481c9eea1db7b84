"""A count or size given as an integer far past 2**63 (spec §11.1): a LimitError that says
the order of magnitude, or the behaviour of any count larger than the string — never
Python's "int too large to convert to C ssize_t" nor a message that cannot be written
(a million-bit number has more digits than Python writes)."""

from __future__ import annotations

import pytest

import mlpy
from mltest import ml_fails

HUGE = "import math; a = math.pow(3, 630000); "      # about 2**998526


@pytest.mark.parametrize("code, message", [
    ('result = "ab" * a;', "string of about 2**998527 characters exceeds the limit of 50000000"),
    ('result = "ab".ljust(a);', "string of about 2**998526 characters exceeds the limit of "
                                "50000000"),
    ("result = [0] * a;", "array would have about 2**998526 elements, more than the limit of "
                          "10000000"),
    ("result = range(a);", "range would have about 2**998526 elements, more than the limit of "
                           "10000000"),
    ("result = range(-a, 0, 7);", "range would have about 2**998523 elements, more than the "
                                  "limit of 10000000"),
    ("import functional; result = functional.repeat(1, a);",
     "functional.repeat(): about 2**998526 elements exceed the limit of 10000000"),
    ("result = range(10000000000);", "range would have 10000000000 elements, more than the "
                                     "limit of 10000000"),
])
def test_huge_counts_are_limit_errors(code, message):
    ml_fails(HUGE + code, "LimitError", message)


def test_huge_counts_of_splits_and_replacements_mean_all():
    result = mlpy.run(HUGE + 'result = ["a,b,c".split(",", a), "a,b,c".rsplit(",", -a), '
                             '"aaa".replace("a", "b", a), "a,b,c".split(",", 1)];')
    assert result.value == [["a", "b", "c"], ["a", "b", "c"], "bbb", ["a", "b,c"]]


@pytest.mark.parametrize("args", ["5", "2, 9", "9, 2, -3", "0, 10, 4", "-7, 7, 5", "5, 5",
                                  "3, 1", "1, 3, -1", "a, a + 3", "a + 3, a, -2"])
def test_range_is_pythons(args):
    result = mlpy.run(f"import math; a = math.pow(3, 6300); result = range({args});")
    expected = eval(f"list(range({args}))", {"a": 3 ** 6300})   # the same arguments in Python
    assert result.value == expected
