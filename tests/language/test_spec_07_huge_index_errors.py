"""Index errors with integers too large for the host (spec §4/§7 wording, never Python's
"cannot fit 'int' into an index-sized integer" or "C ssize_t")."""

from __future__ import annotations

import pytest

import mlpy

B = "1" + "0" * 30


@pytest.mark.parametrize("code,error", [
    ("a = [1, 2]; x = a[B];", ("IndexError", "list index out of range")),
    ("a = [1, 2]; x = a[-B];", ("IndexError", "list index out of range")),
    ('x = "abc"[B];', ("IndexError", "string index out of range")),
    ('s = "abc"; x = s[-B];', ("IndexError", "string index out of range")),
    ('function f() { s = "abc"; return s[B]; } f();',
     ("IndexError", "string index out of range")),
    ("a = [1]; a[B] = 1;", ("IndexError", "list assignment index out of range")),
    ("a = [1]; a.pop(B);", ("IndexError", "pop index out of range")),
    ("a = []; a.pop(B);", ("IndexError", "pop from empty list")),
    # through a member (`o.k[big]`), at top level and in functions, nested, and on modules
    ('o = {k: "abc"}; x = o.k[B];', ("IndexError", "string index out of range")),
    ("o = {k: [1]}; x = o.k[B];", ("IndexError", "list index out of range")),
    ('o = {k: {j: "ab"}}; x = o.k.j[-B];', ("IndexError", "string index out of range")),
    ('function f(o) { return o.k[B]; } f({k: "abc"});',
     ("IndexError", "string index out of range")),
    ("function f(o) { return o.k[B]; } f({k: [1, 2]});",
     ("IndexError", "list index out of range")),
    ('o = {k: "abc"}; try { x = o.k[B]; } except (e) { throw {type: e.type, message: '
     'e.message + "!"}; }', ("IndexError", "string index out of range!")),
    ("o = {k: [1]}; o.k[B] = 1;", ("IndexError", "list assignment index out of range")),
    ("x = chr(B);", ("ValueError", "chr() arg not in range(0x110000)")),
    ("x = chr(-1);", ("ValueError", "chr() arg not in range(0x110000)")),
])
def test_huge_index_errors(code, error):
    result = mlpy.run(code.replace("B", B))
    assert (result.error_type, result.error) == error


def test_caught_message_is_ml_wording():
    result = mlpy.run('try { x = "abc"[B]; } except (e) { result = e.message; }'.replace("B", B))
    assert result.value == "string index out of range"


@pytest.mark.parametrize("sign,expected", [("", [1, 2]), ("-", [2, 1])])
def test_insert_with_a_huge_index_clamps(sign, expected):
    result = mlpy.run(f"a = [1]; a.insert({sign}{B}, 2); result = a;")
    assert result.value == expected
