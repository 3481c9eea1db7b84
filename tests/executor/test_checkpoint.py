"""Session checkpoints (mlpy/checkpoint.py) through the executor's public API: a durable
session's results carry its state, and a session made from that record has it back — in
both isolation modes — with what could not be saved named, and bad records refused."""

from __future__ import annotations

import asyncio
import json

import pytest

from mlpy.checkpoint import CheckpointError, dump, load
from mlpy.executor import AsyncMLExecutor, ExecutorSettings
from mlpy.runtime.namespace import new_namespace, user_variables

STATE = """import math;
big = 12345678901234567890123456789;
shared = [1, 2];
o = {a: shared, b: shared, f: 1.5, inf: float("inf"), neg: -big, s: "\\ud83d\\ude00 é"};
o.self = o;
function add(x, y) { return x + y + big; }
sq = fn(x) => x * x;
twice = sq;
function maker() { k = 3; return fn(y) => y + k; }
closure = maker();
position = iter([1, 2]);
root = math.sqrt;
say = print;
e = null;
try { throw {type: "Oops", message: "m"}; } except (err) { e = err; }
"""

CHECK = """o.a.append(3);
[big, o.b, o.self.f, add(1, 2), sq(4), twice(3), root(16), math.pi, o.inf, o.neg, o.s,
 typeof(say), e.type, maker()(1)]"""


def restored_values(isolation: str) -> tuple[list, list]:
    async def go():
        executor = AsyncMLExecutor(max_workers=1, isolation=isolation)
        try:
            first = executor.session(durable=True)
            made = await first.execute(STATE)
            assert made.success, made.error
            assert made.checkpoint is not None and made.checkpoint_error is None
            again = executor.session(durable=True, restore=made.checkpoint)
            shown = await again.execute(CHECK)
            assert shown.success, shown.error
            assert shown.restored is True
            later = await again.execute("1")
            assert later.restored is False and later.lost is None
            return shown.display_value, shown.lost
        finally:
            executor.shutdown()
    return asyncio.run(go())


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_restored_session_has_its_values_functions_and_modules(isolation):
    value, lost = restored_values(isolation)
    big = 12345678901234567890123456789
    assert value[:11] == [big, [1, 2, 3], 1.5, big + 3, 16, 9, 4.0, 3.141592653589793,
                          float("inf"), -big, "\U0001F600 é"]
    assert value[11:] == ["function", "Oops", 4]
    assert {item["name"]: item["reason"] for item in lost} == {
        "closure": "a function that keeps variables of the function that made it (a closure)",
        "position": "an iterator (its position cannot be saved)"}


def test_a_record_is_json_behind_a_digest_line():
    executor = AsyncMLExecutor(max_workers=1)
    try:
        session = executor.session(durable=True)
        result = session.run_sync("a = [1, 2]; b = a; n = 1208925819614629174706176;")
    finally:
        executor.shutdown()
    head, body = result.checkpoint.split(b"\n", 1)
    assert head.startswith(b"mlpy-checkpoint/1 sha256=")
    data = json.loads(body)
    assert data["bindings"] == [["a", {"array": [1, 2], "id": 0}], ["b", {"ref": 0}],
                                ["n", {"int": hex(2 ** 80)}]]
    assert data["lost"] == []


def record(code: str, **kw) -> bytes:
    executor = AsyncMLExecutor(max_workers=1)
    try:
        result = executor.session(durable=True).run_sync(code)
        assert result.success
        return result.checkpoint
    finally:
        executor.shutdown()


def test_tampered_truncated_and_oversized_records_are_refused():
    good = record("a = 1;")
    head, body = good.split(b"\n", 1)
    with pytest.raises(CheckpointError, match="digest does not match"):
        load(head + b"\n" + body.replace(b"1", b"2"))
    with pytest.raises(CheckpointError, match="digest does not match"):
        load(good[:-3])
    with pytest.raises(CheckpointError, match="not an mlpy checkpoint"):
        load(b"\x80\x04pickle")
    with pytest.raises(CheckpointError, match="more than the limit"):
        load(good, max_bytes=10)
    with pytest.raises(CheckpointError, match="another key"):
        load(good, key=b"secret")


def test_a_signed_record_needs_its_key():
    ns = new_namespace({"a": 1})
    signed = dump(ns, user_variables, key=b"k1")
    assert load(signed, key=b"k1").bindings == [["a", 1]]
    with pytest.raises(CheckpointError):
        load(signed)


def test_a_record_whose_digest_was_recomputed_still_cannot_run_code():
    """Someone who can write the store can forge an unsigned record, but a 'function' must
    be exactly one definition: statements are refused and the variable reported lost."""
    import hashlib
    body = json.dumps({"imports": [], "lost": [], "bindings": [
        ["f", {"function": "function f() { return 1; } print(\"pwned\");", "id": 0}],
        ["g", {"function": "fn() => 2", "id": 1}]]}).encode()
    forged = b"mlpy-checkpoint/1 sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    executor = AsyncMLExecutor(max_workers=1)
    try:
        result = executor.session(restore=forged).run_sync("g()")
    finally:
        executor.shutdown()
    assert result.success and result.display_value == 2 and result.stdout == ""
    assert [item["name"] for item in result.lost] == ["f"]
    assert "not one function definition" in result.lost[0]["reason"]


def test_bad_structure_is_refused_with_what_is_wrong():
    import hashlib

    def forged(data: dict) -> bytes:
        body = json.dumps(data).encode()
        return b"mlpy-checkpoint/1 sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    with pytest.raises(CheckpointError, match="bad binding"):
        load(forged({"imports": [], "lost": [], "bindings": [["__class__", 1]]}))
    with pytest.raises(CheckpointError, match="imports"):
        load(forged({"imports": [1], "lost": [], "bindings": []}))
    executor = AsyncMLExecutor(max_workers=1)
    try:
        result = executor.session(restore=forged(
            {"imports": [], "lost": [], "bindings": [["a", {"ref": 9}]]})).run_sync("1")
    finally:
        executor.shutdown()
    assert result.lost[0]["name"] == "(every variable)"
    assert "unknown value" in result.lost[0]["reason"]


def test_state_over_the_checkpoint_limit_is_announced_not_dropped():
    executor = AsyncMLExecutor(max_workers=1,
                               settings=ExecutorSettings(checkpoint_max_bytes=1000))
    try:
        result = executor.session(durable=True).run_sync('s = "x" * 5000;')
    finally:
        executor.shutdown()
    assert result.success and result.checkpoint is None
    assert "more than 1000 bytes as a checkpoint" in result.checkpoint_error


def test_deep_values_are_lost_by_name_not_a_crash():
    executor = AsyncMLExecutor(max_workers=1)
    try:
        result = executor.session(durable=True).run_sync(
            "d = []; i = 0; while (i < 2000) { d = [d]; i = i + 1; } ok = 1;")
    finally:
        executor.shutdown()
    data = json.loads(result.checkpoint.split(b"\n", 1)[1])
    assert data["bindings"] == [["i", 2000], ["ok", 1]]
    assert [item["name"] for item in data["lost"]] == ["d"]
