"""mlpy/security.py is the one source of the §11 refusals: the compiler's static check (strict
mode) and the runtime guard (non-strict mode) refuse the same programs with the same message."""

import pytest

import mlpy
from mlpy import security

# (program, the policy's own message for it)
RULES = [
    ('x = "a"._y;', security.member_problem("_y")),
    ("x = [].__class__;", security.member_problem("__class__")),
    ("o = {}; o._k = 1;", security.member_problem("_k")),
    ("x = __builtins__;", security.identifier_problem("__builtins__")),
    ("x = eval;", security.denied_name_problem("eval")),
    ("import os;", security.import_problem(("os",))),
    ("import subprocess.run;", security.import_problem(("subprocess", "run"))),
]


@pytest.mark.parametrize(("source", "message"), RULES)
def test_static_and_runtime_refusals_share_the_policy_message(source, message):
    assert message                                     # the policy refuses it
    static = mlpy.run(source, strict_security=True)
    dynamic = mlpy.run(source, strict_security=False)
    for result in (static, dynamic):
        assert (result.success, result.error_type, result.error) == (False, "SecurityError",
                                                                     message)


def test_the_policy_allows_what_ml_may_reach():
    assert security.identifier_problem("_private") is None     # one underscore: an ML name
    assert security.member_problem("length") is None
    assert security.denied_name_problem("print") is None
    assert security.import_problem(("math",)) is None
    assert security.import_problem(("lib", "util")) is None


def test_a_reserved_segment_makes_an_import_a_reserved_name_problem():
    assert security.import_problem(("lib", "__init__")) == security.refused_name("__init__")
