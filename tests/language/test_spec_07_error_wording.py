"""Spec §2/§7 error wording: a bad assignment target is reported at its `=`; no Python type
names (`NoneType`) in messages."""

from __future__ import annotations

import pytest

import mlpy


@pytest.mark.parametrize("code,line,column", [
    ("null = 5;", 1, 6),
    ("function f() {}\nf() = 1;", 2, 5),
    ("x = 1; 1 + 2 = 3;", 1, 14),
])
def test_bad_assignment_target_points_at_the_equals(code, line, column):
    result = mlpy.run(code)
    assert result.error_type == "SyntaxError"
    assert result.error.startswith(f"Parse error: unexpected '=' at line {line}, column {column}")
    assert (result.line, result.column) == (line, column)


def test_no_nonetype_in_index_errors():
    result = mlpy.run("a = [1]; x = a[null];")
    assert result.error_type == "TypeError"
    assert "NoneType" not in result.error and "null" in result.error


def test_int_of_a_long_digit_string_does_not_echo_it():
    result = mlpy.run('x = int("' + "7" * 4301 + '");')
    assert result.error_type == "ValueError"
    assert "7777777" not in result.error and len(result.error) < 200


def test_caught_capability_error_message_has_no_command_line_hint():
    result = mlpy.run('import file; try { file.read("x"); } except (e) { result = e.message; }')
    assert result.value == "file.read requires capability 'file.read', which has not been granted"


def test_the_cli_adds_the_hint_to_an_uncaught_capability_error(tmp_path):
    import subprocess
    import sys
    (tmp_path / "p.ml").write_text(
        'import file;\ntry { file.read("x"); } except (e) { print(e.message); }\nfile.read("x");\n')
    done = subprocess.run([sys.executable, "-m", "mlpy", "run", "p.ml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--allow" not in done.stdout
    assert "(grant it with --allow file.read)" in done.stderr


def test_excerpt_of_a_very_long_line_is_cut_around_the_column():
    from mlpy.errors import source_excerpt
    ones = ", ".join(["1"] * 1000)
    line = "x = [" + ones + ", null + 1, " + ones + "];"
    column = line.index("null + 1") + 6
    text = source_excerpt(line, 1, column)
    code, caret = text.splitlines()
    assert len(code) < 200 and code.count("...") == 2
    assert code[caret.index("^")] == "+"
    short = source_excerpt("x = null + 1;", 1, 10)
    assert short.splitlines()[1].index("^") == short.splitlines()[0].index("+")


@pytest.mark.parametrize("code", ['x = "abc".split(1);', "a = [1]; x = a[null];",
                                  "x = bin(null);", 'x = "abc"[null];'])
def test_no_python_type_names_in_library_type_errors(code):
    result = mlpy.run(code)
    assert result.error_type == "TypeError"
    import re
    assert not re.search(r"\b(NoneType|None|int|str)\b|__index__|<lambda>", result.error), \
        result.error
