"""The `mlpy` command line (`python -m mlpy`), through subprocesses.

The example programs live in tests/examples (a copy of the shared corpus); set MLPY_EXAMPLES
to run another folder of NN_name.ml / .out / .err programs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mlpy

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = Path(os.environ.get("MLPY_EXAMPLES") or REPO / "tests" / "examples")
PROGRAMS = sorted(EXAMPLES.glob("*.ml"))


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _close_stdin():
    os.close(0)


def mlpy_cli(*args, cwd=None, stdin_closed=True, input_text=None, timeout=60):
    kw = {}
    if input_text is not None:
        kw["input"] = input_text.encode()
    elif stdin_closed:
        kw["stdin"] = subprocess.DEVNULL
        kw["preexec_fn"] = _close_stdin
    return subprocess.run([sys.executable, "-m", "mlpy", *map(str, args)], cwd=cwd,
                          capture_output=True, env=_env(), timeout=timeout, **kw)


def text(data: bytes) -> str:
    return data.decode("utf-8")


def test_examples_found():
    assert len(PROGRAMS) >= 40, EXAMPLES


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_example(program: Path):
    expected_out = program.with_suffix(".out").read_bytes()
    err_file = program.with_suffix(".err")
    r = mlpy_cli("run", program.name, cwd=program.parent)
    assert r.stdout == expected_out, (
        f"stdout differs\n--- got\n{text(r.stdout)}\n--- expected\n{text(expected_out)}\n"
        f"--- stderr\n{text(r.stderr)}")
    if not err_file.exists():
        assert r.returncode == 0, text(r.stderr)
        return
    assert r.returncode != 0
    report = text(r.stderr) + text(r.stdout)
    for line in err_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            assert line in report, f"{line!r} not in error report:\n{report}"
    # compile-time (parse, security) failures exit 2 before running; runtime errors exit 1
    first = err_file.read_text(encoding="utf-8").splitlines()[0]
    if first.startswith("Parse error") or program.stem.split("_", 2)[-1].startswith("security") \
            or "import" in program.stem:
        assert r.returncode == 2, report
        assert r.stdout == b""
    else:
        assert r.returncode == 1, report


# ------------------------------------------------------------------ run
class TestRun:
    @pytest.mark.parametrize("argv", [["run", "p.ml"], ["run", ""], ["run", "dir/p q.ml"]])
    def test_plain_run_reads_as_argparse_does(self, argv):
        from mlpy import cli
        plain = cli._plain_run(argv)
        assert plain is not None
        assert vars(plain) == vars(cli.build_parser().parse_args(argv))

    @pytest.mark.parametrize("argv", [["run"], ["run", "-"], ["run", "--help"],
                                      ["run", "p.ml", "--no-strict"], ["check", "p.ml"],
                                      ["transpile", "p.ml"], ["--version"], []])
    def test_anything_else_goes_to_argparse(self, argv):
        from mlpy import cli
        assert cli._plain_run(argv) is None

    def test_success(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("hi", 1 + 1);\nresult = 3;\n', encoding="utf-8")
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert (r.returncode, r.stdout, r.stderr) == (0, b"hi 2\n", b"")

    def test_runtime_error_exit_1_output_kept(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("before");\nx = 1;\ny = x / 0;\nprint("after");\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        assert r.stdout == b"before\n"
        assert "ZeroDivisionError: division by zero (line 3)" in text(r.stderr)

    def test_error_inside_function_reports_function_line(self, tmp_path):
        (tmp_path / "p.ml").write_text("function f(a) {\n  return a[5];\n}\nf([1]);\n")
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        assert "IndexError: list index out of range (line 2)" in text(r.stderr)

    def test_error_report_has_the_ml_call_stack(self, tmp_path):
        """Headline as spec §7.3 says, then the ML frames, innermost last: the file, line and
        function of each, its source line and a caret; never a Python frame."""
        (tmp_path / "util.ml").write_text(
            "function ratio(a, b) {\n  return a / b;\n}\n", encoding="utf-8")
        (tmp_path / "p.ml").write_text(
            "import util;\nfunction g(x) {\n  y = x - 1;\n  return util.ratio(x, y);\n}\n"
            "print(g(3));\nprint(g(1));\n", encoding="utf-8")
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == b"1.5\n"
        assert text(r.stderr).splitlines() == [
            "ZeroDivisionError: division by zero (line 2 of util.ml)",
            'File "p.ml", line 7',
            "   7 | print(g(1));",
            "             ^",
            'File "p.ml", line 4, in g',
            "   4 |   return util.ratio(x, y);",
            "                    ^",
            'File "util.ml", line 2, in ratio',
            "   2 |   return a / b;",
            "                  ^",
        ]

    def test_recursion_error_stack_is_folded(self, tmp_path):
        (tmp_path / "p.ml").write_text("function f(n) {\n  return f(n + 1);\n}\nf(0);\n")
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        err = text(r.stderr)
        assert r.returncode == 1 and err.startswith("RecursionError: ")
        assert err.count('File "p.ml", line 2, in f') == 3
        assert "[the call above repeated " in err and ".py" not in err
        assert len(err.splitlines()) < 20

    def test_uncaught_throw(self, tmp_path):
        (tmp_path / "p.ml").write_text('x = 1;\nthrow {type: "ValidationError", message: "bad age"};\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        assert "ValidationError: bad age (line 2)" in text(r.stderr)

    def test_parse_error_exit_2_nothing_runs(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("ran");\nx = (1 + 2;\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == b""
        assert "Parse error:" in text(r.stderr) and "line 2, column 11" in text(r.stderr)

    def test_compile_time_syntax_error_exit_2(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("ran");\nbreak;\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == b""
        assert "SyntaxError" in text(r.stderr)

    def test_strict_by_default_and_no_strict(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("ran");\ntry { x = "".__class__; } except (e) { print(e.type); }\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == b""
        assert "SecurityError" in text(r.stderr) and "__class__" in text(r.stderr)
        r = mlpy_cli("run", "--no-strict", "p.ml", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == b"ran\nSecurityError\n"

    def test_missing_file(self, tmp_path):
        r = mlpy_cli("run", "nope.ml", cwd=tmp_path)
        assert r.returncode == 2 and "nope.ml" in text(r.stderr)

    def test_utf8_output(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("café ✓", "\\ud83d\\ude00");\n', encoding="utf-8")
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 0 and text(r.stdout) == "café ✓ \U0001F600\n"

    def test_input_with_closed_and_given_stdin(self, tmp_path):
        (tmp_path / "p.ml").write_text('a = input(); b = input(); print("got", a, b);\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path, input_text="line one\n")
        assert r.returncode == 0 and r.stdout == b"got line one null\n"
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == b""
        assert "RuntimeError: input is not available" in text(r.stderr)


class TestCapabilitiesAndTimeout:
    def test_allow_file_read(self, tmp_path):
        (tmp_path / "data.txt").write_text("hello file\n")
        (tmp_path / "p.ml").write_text('import file;\nprint(file.read("data.txt"));\n'
                                       'print(getCapabilities());\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        assert "CapabilityError" in text(r.stderr) and "file.read" in text(r.stderr)
        r = mlpy_cli("run", "--allow", "file.read", "p.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b'hello file\n\n["file.read"]\n'

    def test_options_after_file(self, tmp_path):
        # the documented usage is `mlpy run FILE [--allow CAP]... [--timeout S] [-- ARGS...]`
        # and the CapabilityError hint says "grant it with --allow file.read"
        (tmp_path / "data.txt").write_text("hello file\n")
        (tmp_path / "p.ml").write_text('import file;\nprint(file.read("data.txt"));\n')
        r = mlpy_cli("run", "p.ml", "--allow", "file.read", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b"hello file\n\n"
        (tmp_path / "t.ml").write_text("while (true) { }\n")
        r = mlpy_cli("run", "t.ml", "--timeout", "1", cwd=tmp_path, timeout=30)
        assert r.returncode == 1 and "TimeoutError" in text(r.stderr)

    def test_program_arguments_after_double_dash(self, tmp_path):
        (tmp_path / "p.ml").write_text("import args;\nprint(args.rest(), args.all());\n")
        r = mlpy_cli("run", "--allow", "args.read", "p.ml", "--", "a", "--b", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b'["a", "--b"] ["p.ml", "a", "--b"]\n'

    def test_allow_all(self, tmp_path):
        (tmp_path / "data.txt").write_text("x")
        (tmp_path / "p.ml").write_text('import file;\nprint(file.read("data.txt"), hasCapability("file.write"));\n')
        r = mlpy_cli("run", "--allow", "all", "p.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b"x true\n"

    def test_capability_block_grants_nothing(self, tmp_path):
        (tmp_path / "data.txt").write_text("x")
        (tmp_path / "p.ml").write_text('capability R { allow read "data.txt"; }\nimport file;\n'
                                       'print(file.read("data.txt"));\n')
        r = mlpy_cli("run", "p.ml", cwd=tmp_path)
        assert r.returncode == 1 and "CapabilityError" in text(r.stderr)

    def test_timeout_stops_infinite_loop(self, tmp_path):
        (tmp_path / "p.ml").write_text('print("start");\nwhile (true) { }\n')
        started = time.monotonic()
        r = mlpy_cli("run", "--timeout", "1", "p.ml", cwd=tmp_path, timeout=30)
        assert time.monotonic() - started < 20
        assert r.returncode == 1
        assert r.stdout == b"start\n"
        assert "TimeoutError" in text(r.stderr)

    def test_timeout_not_caught_by_try(self, tmp_path):
        (tmp_path / "p.ml").write_text("while (true) { try { while (true) { } } except (e) { } "
                                       "finally { } }\n")
        r = mlpy_cli("run", "--timeout", "1", "p.ml", cwd=tmp_path, timeout=30)
        assert r.returncode == 1 and "TimeoutError" in text(r.stderr)

    def test_default_timeout_and_zero_for_none(self, tmp_path):
        from mlpy.cli import DEFAULT_RUN_TIMEOUT
        assert 0 < DEFAULT_RUN_TIMEOUT < float("inf")
        r = mlpy_cli("run", "--help")
        assert f"default {DEFAULT_RUN_TIMEOUT:g}; 0 = no limit" in text(r.stdout)
        (tmp_path / "p.ml").write_text('print("done");\n')
        r = mlpy_cli("run", "--timeout", "0", "p.ml", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == b"done\n"

    def test_default_timeout_applies_without_the_option(self, tmp_path, monkeypatch, capsys):
        import mlpy.cli
        monkeypatch.setattr(mlpy.cli, "DEFAULT_RUN_TIMEOUT", 0.3)
        (tmp_path / "p.ml").write_text("while (true) { }\n")
        assert mlpy.cli.main(["run", str(tmp_path / "p.ml")]) == 1
        assert "TimeoutError: Execution timeout after 0.3 seconds" in capsys.readouterr().err

    @pytest.mark.parametrize("bad", ["-1", "inf", "soon"])
    def test_bad_timeout_is_a_usage_error(self, tmp_path, bad):
        (tmp_path / "p.ml").write_text('print("never");\n')
        r = mlpy_cli("run", "--timeout", bad, "p.ml", cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == b""
        assert "--timeout" in text(r.stderr)


# ------------------------------------------------------------------ transpile / check
class TestTranspileAndCheck:
    def test_transpile_prints_python(self, tmp_path):
        (tmp_path / "p.ml").write_text("function f(x) { return x + 1; }\nresult = f(1);\n")
        r = mlpy_cli("transpile", "p.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        source = text(r.stdout)
        compile(source, "<transpiled>", "exec")     # valid Python
        assert "def " in source and "return" in source

    def test_transpile_parse_error(self, tmp_path):
        (tmp_path / "p.ml").write_text("x = ;\n")
        r = mlpy_cli("transpile", "p.ml", cwd=tmp_path)
        assert r.returncode == 2 and "Parse error:" in text(r.stderr)

    def test_check_clean(self, tmp_path):
        (tmp_path / "p.ml").write_text("x = 1;\nprint(x);\n")
        r = mlpy_cli("check", "p.ml", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == b""

    def test_check_problems(self, tmp_path):
        (tmp_path / "p.ml").write_text('x = 1;\ny = x.__class__;\nz = eval;\n')
        r = mlpy_cli("check", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        lines = text(r.stdout).splitlines()
        assert lines == ["p.ml:2:6: SecurityError: access to member '__class__' is not allowed",
                         "p.ml:3:5: SecurityError: 'eval' is not allowed"]

    def test_check_parse_error(self, tmp_path):
        (tmp_path / "p.ml").write_text("x = 1;\ny = (2 + 3;\n")
        r = mlpy_cli("check", "p.ml", cwd=tmp_path)
        assert r.returncode == 1
        line = text(r.stdout).splitlines()[0]
        assert line.startswith("p.ml:2:11: Parse error:"), line

    def test_check_no_strict(self, tmp_path):
        (tmp_path / "p.ml").write_text('y = "".__class__;\n')
        assert mlpy_cli("check", "p.ml", cwd=tmp_path).returncode == 1
        r = mlpy_cli("check", "p.ml", "--no-strict", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == b""


# ------------------------------------------------------------------ user modules
class TestUserModules:
    def test_sibling_module(self, tmp_path):
        (tmp_path / "util.ml").write_text('print("loading util");\nfunction double(x) { return x * 2; }\n'
                                          "answer = 42;\n")
        (tmp_path / "main.ml").write_text("import util;\nimport util;\n"
                                          "print(util.double(4), util.answer, typeof(util));\n")
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b"loading util\n8 42 module\n"

    def test_dotted_module_and_alias(self, tmp_path):
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib" / "util.ml").write_text("function inc(x) { return x + 1; }\n")
        (tmp_path / "main.ml").write_text("import lib.util;\nimport lib.util as u;\n"
                                          "print(lib.util.inc(1), u.inc(2));\n")
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b"2 3\n"

    def test_module_found_next_to_importing_file_not_cwd(self, tmp_path):
        (tmp_path / "proj").mkdir()
        (tmp_path / "proj" / "helper.ml").write_text('greeting = "hello";\n')
        (tmp_path / "proj" / "main.ml").write_text("import helper as h;\nprint(h.greeting);\n")
        r = mlpy_cli("run", "proj/main.ml", cwd=tmp_path)
        assert r.returncode == 0, text(r.stderr)
        assert r.stdout == b"hello\n"

    def test_module_with_error(self, tmp_path):
        (tmp_path / "bad.ml").write_text("x = 1 / 0;\n")
        (tmp_path / "main.ml").write_text("import bad;\nprint(1);\n")
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode != 0 and r.stdout == b""
        assert "ZeroDivisionError" in text(r.stderr)

    def test_circular_import(self, tmp_path):
        (tmp_path / "a.ml").write_text("import b;\nx = 1;\n")
        (tmp_path / "b.ml").write_text("import a;\ny = 2;\n")
        (tmp_path / "main.ml").write_text("import a;\nprint(1);\n")
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode != 0 and r.stdout == b""
        assert "circular import of ML module 'a'" in text(r.stderr)

    def test_import_in_progress_belongs_to_the_run_not_the_namespace(self, tmp_path):
        # A host stop can skip the `finally` that ends an import; what is left behind must go
        # with that run's context, not poison later runs in the same (session) namespace.
        from mlpy.runner import execute
        from mlpy.runtime.context import ExecutionContext, OutputSink
        from mlpy.runtime.namespace import new_namespace
        (tmp_path / "util.ml").write_text("answer = 42;\n")
        program = mlpy.compile("import util;\nresult = util.answer;")
        namespace = new_namespace(origin=tmp_path)
        stale = ExecutionContext(output=OutputSink())
        stale.importing.add(str((tmp_path / "util.ml").resolve()))
        outcome = execute(program, namespace, stale)
        assert not outcome.success and "circular import" in outcome.error.message
        outcome = execute(program, namespace, ExecutionContext(output=OutputSink()))
        assert outcome.success and outcome.value == 42

    def test_missing_module(self, tmp_path):
        (tmp_path / "main.ml").write_text("import nothere;\nprint(1);\n")
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode == 2 and r.stdout == b""
        assert "ImportError" in text(r.stderr) and "no ML module named 'nothere'" in text(r.stderr)

    def test_module_names_are_sandboxed_too(self, tmp_path):
        (tmp_path / "evil.ml").write_text('x = "".__class__;\n')
        (tmp_path / "main.ml").write_text('import evil;\nprint("ran");\n')
        r = mlpy_cli("run", "main.ml", cwd=tmp_path)
        assert r.returncode != 0 and b"ran" not in r.stdout
        assert "SecurityError" in text(r.stderr)
