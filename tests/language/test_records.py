"""The plain record classes a run loads (mlpy/record.py) behave as the dataclasses they
replaced: keyword and positional construction, defaults, `==`, repr, frozen limits."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import mlpy
from mlpy.program import CompiledProgram
from mlpy.runner import Outcome, RunResult
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink


def test_limits_defaults_equality_hash_and_repr():
    assert Limits() == Limits()
    assert Limits(max_string=5_000_000) != Limits()
    assert hash(Limits(1.0)) == hash(Limits(default_timeout=1.0))
    assert repr(Limits()) == (
        "Limits(default_timeout=None, max_timeout=None, output_bytes=1048576, "
        "recursion_depth=3000, max_sequence=10000000, max_string=50000000, "
        "max_int_bits=1000000)")


def test_limits_are_frozen_and_replace_makes_a_copy():
    limits = Limits(default_timeout=2.0)
    with pytest.raises(AttributeError):
        limits.default_timeout = 3.0          # type: ignore[misc]
    with pytest.raises(AttributeError):
        del limits.max_string
    changed = limits.replace(output_bytes=10)
    assert (changed.default_timeout, changed.output_bytes) == (2.0, 10)
    assert limits.output_bytes == 1 << 20
    with pytest.raises(TypeError):
        limits.replace(nonsense=1)


def test_limits_survive_pickle_and_copy():
    limits = Limits(max_timeout=9.0, max_sequence=2_000_000)
    assert pickle.loads(pickle.dumps(limits)) == limits
    assert copy.deepcopy(limits) == limits and copy.copy(limits) == limits


def test_execution_context_fields_get_fresh_defaults():
    a, b = ExecutionContext(), ExecutionContext()
    assert a.env is not b.env and a.state is not b.state and a.importing is not b.importing
    assert isinstance(a.output, OutputSink) and a.limits == Limits()
    assert a.argv == [] and a.import_paths == [] and a.allowed_hosts == ()


def test_run_result_repr_leaves_the_exception_out_and_compares_by_fields():
    result = mlpy.run("x = 1 / 0;")
    assert "exception=" not in repr(result) and repr(result).startswith("RunResult(success=False")
    assert RunResult(True, value=1) == RunResult(True, 1)
    assert RunResult(True, value=1) != RunResult(True, value=2)
    with pytest.raises(TypeError):
        hash(RunResult(True))
    assert Outcome(False, error=None) == Outcome(False)


def test_compiled_program_fields():
    program = mlpy.compile("result = 1;", cache=False)
    assert isinstance(program, CompiledProgram)
    assert program.imports == [] and program.filename == "<ml>" and not program.interactive
    assert program == CompiledProgram(program.source, program.code,
                                      transpile_time=program.transpile_time)


def test_mlpy_run_imports_no_dataclasses_argparse_or_openssl(tmp_path):
    """What `mlpy run FILE` leaves out of its start (each costs milliseconds of it)."""
    hello = tmp_path / "hello.ml"
    hello.write_text('print("hi");\n')
    probe = ("import sys, runpy; before = set(sys.modules)\n"
             "sys.argv = ['mlpy', 'run', sys.argv[1]]\n"
             "try:\n    runpy.run_module('mlpy', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('dataclasses', 'inspect', 'argparse', 'hashlib', "
             "'ctypes', 'json', 'lark') if m in sys.modules and m not in before))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = subprocess.run([sys.executable, "-c", probe, str(hello)], capture_output=True,
                         text=True, check=True, env=env).stdout
    assert out.splitlines() == ["hi", "[]"]
