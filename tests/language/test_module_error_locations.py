"""Errors raised inside a user module (an imported .ml file) name that module's file, its
line and its source line (issue 17); errors of the program itself stay as they were."""

from __future__ import annotations

from test_cli import mlpy_cli, text


def _write(folder, files: dict) -> None:
    for name, source in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_runtime_error_in_a_module_function(tmp_path):
    _write(tmp_path, {
        "mod.ml": "function f(x) {\n  y = x + 1;\n  return y / 0;\n}\n",
        "main.ml": 'import mod;\nprint("before");\n\nresult = mod.f(1);\n',
    })
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert r.returncode == 1
    assert text(r.stdout) == "before\n"
    assert text(r.stderr).splitlines() == [       # the headline names the module, then
        "ZeroDivisionError: division by zero (line 3 of mod.ml)",   # the ML call stack
        'File "main.ml", line 4',
        "   4 | result = mod.f(1);",
        "                   ^",
        'File "mod.ml", line 3, in f',
        "   3 |   return y / 0;",
        "                  ^",   # under the / of the module's line
    ]


def test_error_while_the_module_loads_and_in_a_package(tmp_path):
    _write(tmp_path, {
        "pkg/util.ml": 'a = [1, 2];\nb = a[5];\n',
        "main.ml": "import pkg.util;\nprint(1);\n",
    })
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert r.returncode == 1
    lines = text(r.stderr).splitlines()
    assert lines[0] == "IndexError: list index out of range (line 2 of pkg/util.ml)"
    assert lines[-3:] == ['File "pkg/util.ml", line 2', "   2 | b = a[5];", "            ^"]


def test_parse_error_in_a_module(tmp_path):
    _write(tmp_path, {"bad.ml": "x = 1;\ny = x +;\n", "main.ml": "import bad;\n"})
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert r.returncode == 2
    lines = text(r.stderr).splitlines()
    assert lines[0].startswith("Parse error in bad.ml: unexpected ';' at line 2, column 8")
    assert "   2 | y = x +;" in lines


def test_errors_of_the_program_itself_name_no_file(tmp_path):
    _write(tmp_path, {
        "mod.ml": "function ok(x) { return x; }\n",
        "main.ml": "import mod;\nx = mod.ok(1);\ny = x / 0;\n",
    })
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert r.returncode == 1
    assert text(r.stderr).splitlines()[:2] == [
        "ZeroDivisionError: division by zero (line 3)", "   3 | y = x / 0;"]


def test_a_thrown_error_in_a_module_and_a_caught_one(tmp_path):
    _write(tmp_path, {
        "mod.ml": 'function check(v) {\n  if (v < 0) {\n    throw {type: "BadValue", message: "neg"};'
                  '\n  }\n  return v;\n}\n',
        "main.ml": "import mod;\ntry { mod.check(-1); } except (e) { print(e.type); }\n"
                   "mod.check(-2);\n",
    })
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert r.returncode == 1 and text(r.stdout) == "BadValue\n"
    assert text(r.stderr).splitlines()[0] == "BadValue: neg (line 3 of mod.ml)"


def test_huge_index_of_a_module_member(tmp_path):
    """`mod.text[big]` reads the member through the module: the spec's string wording."""
    big = "1" + "0" * 30
    _write(tmp_path, {"mod.ml": 'text = "abc";\nitems = [1];\n',
                      "main.ml": f"import mod;\nx = mod.items[{big}];\n",
                      "main2.ml": f"import mod;\nx = mod.text[{big}];\n"})
    r = mlpy_cli("run", "main.ml", cwd=tmp_path)
    assert text(r.stderr).splitlines()[0] == "IndexError: list index out of range (line 2)"
    r = mlpy_cli("run", "main2.ml", cwd=tmp_path)
    assert text(r.stderr).splitlines()[0] == "IndexError: string index out of range (line 2)"
