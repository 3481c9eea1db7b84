"""Completion and Shift-Tab help through jupyter_client: object keys after `o.` and inside
`o["`, members by the run-time type of the expression before `.`, nothing inside strings
and comments, help for methods and keywords."""

from __future__ import annotations

import pytest
from jupyter_client.manager import start_new_kernel

from ml_kernel_testenv import run_cell, setup_kernelspec

setup_kernelspec()

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def kc():
    km, client = start_new_kernel(kernel_name="ml")
    try:
        run_cell(client, 'o = {name: "Ada", nat: 1815, "two words": 2, inner: {deep: 1}};\n'
                         'rows = [{city: "Bergen"}];\ns = "text";\nimport regex;\n'
                         'p = regex.compile("a+");\nm = p.search("baa");\nimport math;\n'
                         'import datetime;\nd = datetime.now();\nimport log;\n'
                         'logger = log.create_logger("app");')
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def complete(kc, code: str, pos: int | None = None) -> dict:
    msg_id = kc.complete(code, len(code) if pos is None else pos)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"]


def inspect(kc, code: str, pos: int | None = None) -> dict:
    kc.inspect(code, len(code) if pos is None else pos)
    return kc.get_shell_msg(timeout=30)["content"]


def test_object_keys_after_dot(kc):
    reply = complete(kc, "o.")
    assert {"name", "nat", "inner", "length"} <= set(reply["matches"])
    assert "two words" not in reply["matches"]          # not a name: only o["two words"]
    assert "print" not in reply["matches"]
    reply = complete(kc, "x = o.na")
    assert reply["matches"] == ["name", "nat"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (6, 8)
    assert complete(kc, "o.inner.")["matches"] == ["deep", "length"]
    assert complete(kc, "rows[0].ci")["matches"] == ["city"]


def test_object_keys_inside_brackets(kc):
    reply = complete(kc, 'o["tw')
    assert reply["matches"] == ["two words"]
    assert reply["cursor_start"] == 3


def test_methods_by_type(kc):
    assert complete(kc, '"abc".up')["matches"] == ["upper"]
    assert "lower" in complete(kc, '"abc".')["matches"]
    assert "print" not in complete(kc, '"abc".')["matches"]
    assert complete(kc, "s.spl")["matches"] == ["split"]
    assert complete(kc, "[1, 2].app")["matches"] == ["append"]
    assert complete(kc, "rows.ext")["matches"] == ["extend"]
    assert complete(kc, "math.sq")["matches"] == ["sqrt"]
    assert {"search", "findall", "sub"} <= set(complete(kc, "p.")["matches"])


def test_nothing_inside_strings_and_comments(kc):
    assert complete(kc, 'x = "pri')["matches"] == []
    assert complete(kc, "x = 1; // pri")["matches"] == []
    assert complete(kc, 'x = "a.b')["matches"] == []
    assert complete(kc, 'x = "a" + pri')["matches"] == ["print"]
    assert complete(kc, "x = 7 // 2 + pri")["matches"] == ["print"]


def test_completion_runs_no_calls(kc):
    run_cell(kc, "calls = 0;\nfunction bump() { nonlocal calls; calls = calls + 1; return {a: 1}; }")
    complete(kc, "bump().")
    reply, outputs, _ = run_cell(kc, "calls")
    assert [m["content"]["data"]["text/plain"] for m in outputs
            if m["msg_type"] == "execute_result"] == ["0"]


def test_help_for_methods_keywords_and_library(kc):
    for code, pos in (('"abc".upper', None), ("s.upper", None), ('s.upper("x")', 8),
                      ("s.upper + 1", 3)):
        reply = inspect(kc, code, pos)
        assert reply["found"], code
        assert "upper()" in reply["data"]["text/plain"]
    text = inspect(kc, "rows.append")["data"]["text/plain"]
    assert "append(x)" in text
    text = inspect(kc, "elif")["data"]["text/plain"]
    assert "elif (test)" in text
    text = inspect(kc, "math.sqrt")["data"]["text/plain"]
    assert "sqrt" in text and "Capabilities" in text
    assert "len" in inspect(kc, "len")["data"]["text/plain"]


def test_help_for_library_object_methods_by_run_time_type(kc):
    """Shift-Tab on a method of a library object: the method's own signature and docstring
    (what ML's help() shows), chosen by the object's type in the session."""
    cases = {
        "p.match": "Pattern.match(text, pos=0, endpos=null)\n\nMatch at the start of text",
        "m.group": "Match.group(n_or_name=0)\n\nA group's text by number or name",
        "d.addDays": "DateTimeObject.addDays(n)\n\nA new value n days later",
        "d.add_days": "DateTimeObject.add_days(n)\n\nA new value n days later",
        "logger.add_file": "Logger.add_file(path)\n\nAlso append every logged line",
    }
    for code, start in cases.items():
        reply = inspect(kc, code)
        assert reply["found"], code
        assert reply["data"]["text/plain"].startswith(start), code
    # inside the call's parentheses, and on an expression (not only a variable)
    text = inspect(kc, 'p.findall("aa", ', 10)["data"]["text/plain"]
    assert text.startswith("Pattern.findall(text, pos=0, endpos=null)")
    assert not inspect(kc, "x = d.date().isWeekend")["found"]   # a call's result: not evaluated
    run_cell(kc, "today = d.date();")
    text = inspect(kc, "today.isWeekend")["data"]["text/plain"]
    assert text.startswith("Date.isWeekend()\n\nTrue on Saturday and Sunday.")
    # a method the type does not have is not found; the same name on a string is a string's
    assert not inspect(kc, "p.upper")["found"]
    assert inspect(kc, "s.count")["data"]["text/plain"].startswith("string method count(sub)")
    assert inspect(kc, "p.count")["data"]["text/plain"].startswith("Pattern.count(text)")

    # `NAME?` and `%help NAME` page the same text
    for code in ("p.match?", "%help p.match"):
        reply, _, _ = run_cell(kc, code)
        page = reply["payload"][0]["data"]["text/plain"]
        assert page.startswith("Pattern.match(text, pos=0, endpos=null)\n\nMatch at the start"), code
    reply, _, _ = run_cell(kc, "s.upper?")
    assert reply["payload"][0]["data"]["text/plain"].startswith("string method upper()")


def test_help_for_keywords_anywhere_in_a_statement(kc):
    for code, pos, start in (("while", None, "while (test)"), ("while (", None, "while (test)"),
                             ("while (x < 3) {", 2, "while (test)"),
                             ("x = 1; nonlocal", None, "nonlocal name;"),
                             ("try { f(); } except (e) {}", 16, "except (e)"),
                             ("null", None, "null")):
        reply = inspect(kc, code, pos)
        assert reply["found"], code
        assert reply["data"]["text/plain"].startswith(start), code
