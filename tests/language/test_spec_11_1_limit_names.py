"""Spec §11.1 limit names: TimeoutError, OutputLimitError, LimitError (a size cap) and
MemoryLimitError (a worker process's memory). A real memory error of a run without a worker
process is a host limit too: LimitError, uncatchable, never Python's MemoryError."""

from __future__ import annotations

import resource
import subprocess
import sys

from mltest import ml_fails

from mlpy.runner import runtime_error
from test_cli import _env


def test_a_size_cap_is_limit_error():
    ml_fails('s = "x" * 1000000000000;', "LimitError")


def test_timeout_name():
    # (OutputLimitError: tests/executor/test_executor_async.py, the hosts that cap output)
    ml_fails("while (true) { }", "TimeoutError", timeout=0.3)


def test_a_thrown_limit_name_is_only_the_programs_own_error():
    for name in ("MemoryError", "MemoryLimitError", "LimitError", "TimeoutError",
                 "OutputLimitError"):
        r = ml_fails(f'throw {{type: "{name}", message: "mine"}};', name, "mine")
        assert r.error == "mine"
    # ... and it is catchable, unlike a real limit
    r = ml_fails('try { throw {type: "MemoryLimitError"}; } except (e) { throw {type: "X"}; }',
                 "X")
    assert r.line == 1


def test_memory_error_without_a_worker_is_a_limit_error():
    err = runtime_error(MemoryError())
    assert (err.type, err.message) == ("LimitError",
                                       "out of memory: a value is too large for the host's memory")


def _small_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (700 << 20, 700 << 20))


def test_cli_out_of_memory_is_a_limit_error(tmp_path):
    """`mlpy run` in a process whose memory runs out: LimitError with the ML line, exit 1."""
    prog = tmp_path / "grow.ml"
    prog.write_text('a = [];\nwhile (true) { a.append("x" * 5000000 + str(len(a))); }\n')
    proc = subprocess.run([sys.executable, "-m", "mlpy", "run", str(prog)], env=_env(),
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_small_address_space)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("LimitError: out of memory"), proc.stderr
    assert "(line 2)" in proc.stderr and "Traceback" not in proc.stderr
    assert "MemoryError" not in proc.stderr
