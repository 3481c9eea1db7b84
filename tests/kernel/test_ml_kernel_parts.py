"""The kernel's parts without a kernel process: lexer, magics, introspection, kernelspec."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest
from pygments.token import Comment, Keyword, Name, Operator, String

from ml_kernel.introspect import Introspector, Var
from ml_kernel.lexer import MLLexer
from ml_kernel.magics import MagicError, parse_cell
from ml_kernel_testenv import REPO


def tokens(code):
    return [(t, v) for t, v in MLLexer().get_tokens(code) if v.strip()]


def test_lexer_floor_division_versus_comment():
    toks = tokens("x = 7 // 2; // two\n} // done")
    assert (Operator, "//") in toks
    assert (Comment.Single, "// two") in toks
    assert (Comment.Single, "// done") in toks


def test_lexer_kinds():
    toks = tokens('function f(a) { return "s" + a; }')
    assert toks[0] == (Keyword.Declaration, "function")
    assert (Name.Function, "f") in toks
    assert (String.Double, '"s"') in toks


def test_lexer_does_not_claim_ml_files():
    assert MLLexer.filenames == []


def test_magic_lines_keep_line_numbers():
    cell = parse_cell("%timeout 2\n%time\nx = 1;\ny = x\n% 2")
    assert cell.timeout == 2.0 and cell.has("time")
    assert cell.code.split("\n")[2] == "x = 1;"
    assert cell.code.endswith("% 2")          # a later % line is ML (modulo)


@pytest.mark.parametrize("source", ["%nope", "%timeout abc", "%timeout -1", "%who x"])
def test_bad_magics(source):
    with pytest.raises(MagicError):
        parse_cell(source)


def test_help_cells():
    assert parse_cell("len?").help == "len"
    assert parse_cell("?math.sqrt").help == "math.sqrt"


def make_introspector():
    variables = [Var("m", "module", "<module math>"), Var("s", "string", '"ab"'),
                 Var("add", "function", "<function add>"), Var("total", "number", "3")]
    sources = ["// Add two numbers.\nfunction add(a, b) {\n    return a + b;\n}\n"]
    return Introspector(lambda: variables, lambda: sources)


def test_completion_sources():
    i = make_introspector()
    assert i.complete("m.sq", 4)["matches"] == ["sqrt"]
    assert i.complete("tot", 3)["matches"] == ["total"]
    assert i.complete("s.up", 4)["matches"] == ["upper"]
    assert i.complete("import col", 10)["matches"] == ["collections"]
    assert "while" in i.complete("wh", 2)["matches"]
    reply = i.complete("x = math.fl", 11)
    assert reply["matches"] == ["floor"] and reply["cursor_start"] == 9


def test_inspect_user_function_and_module_member():
    i = make_introspector()
    text = i.inspect("add(1, ", 7)["data"]["text/plain"]
    assert text.startswith("add(a, b)") and "Add two numbers." in text
    text = i.inspect("m.sqrt", 6)["data"]["text/plain"]
    assert "math.sqrt(x)" in text and "Capabilities: None required" in text
    assert not i.inspect("nothing_here", 5)["found"]


@pytest.mark.parametrize("code,status", [
    ("x = 1", "complete"), ("function f(x) {", "incomplete"), ("x = [1,", "incomplete"),
    ("x = ;", "invalid"), ('x = "abc', "invalid"), ("(]", "invalid"), ("f(1;", "invalid"),
    ("%time", "incomplete"), ("%python\n", "incomplete"), ("%time\nx = 1", "complete"),
    ("// note\n%time", "incomplete"), ("%who", "complete"), ("%timeout 5", "complete"),
    ("%help len", "complete"),
])
def test_is_complete(code, status):
    assert make_introspector().is_complete(code)["status"] == status


def test_shipped_kernelspec():
    folder = REPO / "kernelspec" / "ml"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"] == ["python", "-m", "ml_kernel", "-f", "{connection_file}"]
    assert spec["display_name"] == "ML" and spec["language"] == "ml"
    assert spec["interrupt_mode"] == "message"
    for size in (32, 64):
        data = (folder / f"logo-{size}x{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)
    assert "<svg" in (folder / "logo-svg.svg").read_text()


def test_install_command_prefix(tmp_path):
    subprocess.run([sys.executable, "-m", "ml_kernel", "install", "--prefix", str(tmp_path)],
                   check=True, cwd=REPO, capture_output=True)
    target = tmp_path / "share" / "jupyter" / "kernels" / "ml"
    spec = json.loads((target / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable       # runs where mlpy is installed
    assert spec["argv"][1:] == ["-m", "ml_kernel", "-f", "{connection_file}"]
    assert (target / "logo-64x64.png").is_file()
