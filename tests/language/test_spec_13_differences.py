"""Spec §13: where the original mlpy disagreed with its own documentation, ML follows the
documentation (hasattr/getattr, methods, random.getSeed, Pattern.getFlags, env), and the
other rules listed at the end of §13."""

from __future__ import annotations

import os

import pytest
from mltest import ml_fails, ml_out
from test_cli import mlpy_cli, text


def test_hasattr_and_getattr_see_object_keys():
    assert ml_out('o = {name: 1}; print(hasattr(o, "name"), hasattr(o, "other"), '
                  'getattr(o, "name"), getattr(o, "other", 5), getattr(o, "other"));') \
        == "true false 1 5 null\n"


@pytest.mark.parametrize("value", ['"abc"', "[1]", "math", 'regex.compile("a")', "{a: 1}", "1"])
def test_methods_lists_only_members_ml_allows(value):
    out = ml_out(f"import math; import regex; m = methods({value}); print(len(m));"
                 "for (n in m) { print(n); }")
    count, *names = out.splitlines()
    assert int(count) == len(names)
    assert not any(n.startswith("_") for n in names), names
    assert names == sorted(names)
    # every listed member is one ML lets the program use
    for name in names:
        assert ml_out(f"import math; import regex; v = {value}; "
                      f'print(hasattr(v, "{name}"));') == "true\n", name


def test_methods_of_strings_and_arrays_are_the_spec_methods():
    out = ml_out('print(methods("abc")); print(methods([1]));').splitlines()
    assert '"upper"' in out[0] and '"split"' in out[0] and '"append"' in out[1]
    assert "__" not in "".join(out) and '"maketrans"' not in out[0]


def test_random_get_seed_is_the_last_seed_given():
    assert ml_out("import random; print(random.getSeed()); random.setSeed(42); "
                  "print(random.getSeed()); random.setSeed(7); print(random.get_seed());") \
        == "null\n42\n7\n"


def test_pattern_get_flags_is_an_integer():
    assert ml_out('import regex; p = regex.compile("a", 2); q = regex.compile("b");'
                  "print(p.getFlags(), typeof(p.getFlags()), q.getFlags());") \
        == "2 number 0\n"


def test_env_sees_only_the_variables_the_host_passes(tmp_path, monkeypatch):
    (tmp_path / "e.ml").write_text('import env;\nprint(env.get("HOME"), env.get("MLPY_T13"));\n')
    monkeypatch.setenv("MLPY_T13", "five")
    assert os.environ.get("HOME")
    plain = mlpy_cli("run", "--allow", "env.read", "e.ml", cwd=tmp_path)
    assert text(plain.stdout) == "null null\n", text(plain.stderr)
    passed = mlpy_cli("run", "--allow", "env.read", "--env", "MLPY_T13", "e.ml", cwd=tmp_path)
    assert text(passed.stdout) == "null five\n", text(passed.stderr)


@pytest.mark.parametrize("expr", ["5 / 0", "5 % 0", "5 // 0", "5.0 / 0", "5.5 % 0"])
def test_division_and_modulo_by_zero(expr):
    ml_fails(f"x = {expr};", "ZeroDivisionError", "division by zero")


def test_annotations_ignored_keywords_and_python_names_usable():
    assert ml_out("function f(x: number, y: string) { return x + 1; } print(f(1, 2));") == "2\n"
    assert ml_out("def = 1; lambda = 2; class = 3; pass = 4; is = 5; "
                  "print(def + lambda + class + pass + is);") == "15\n"
    assert ml_out("dir = 1; open = 2; eval = 3; print(dir + open + eval);") == "6\n"
