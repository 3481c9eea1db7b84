"""Helpers shared by every test package: run ML and check its output or its error, call a library
function under a chosen context, and the one time-slack factor for bounds taken from the issues.

`tests/conftest.py` puts this folder on `sys.path`, so test modules say `from mltest import ...`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from typing import Any

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, OutputSink, using

# Bounds taken from an issue ("interrupt within 1 s") are multiplied by this on a loaded machine.
TIME_SLACK = float(os.environ.get("MLPY_TEST_TIME_SLACK", "2.0"))


def slow_to_compile(chains: int = 95) -> str:
    """A program under the server's 100,000-character code cap whose Python compile() takes
    seconds (~3.5-9 s for 95 chains on the 2-core machine, and about 5 MB of memory per
    chain): chains of 250 `*` operands, each step with its inline integer fast path (a
    longer chain lowers to helper calls and compiles fast). Unique, so never cached."""
    chain = "y" + " * y" * 249
    return (f"// {uuid.uuid4().hex}\ny = 1;\n"
            + "".join(f"x{i} = {chain};\n" for i in range(chains)) + "result = 1;")


def ml_out(source: str, **kw: Any) -> str:
    """stdout of a program that must succeed."""
    r = mlpy.run(source, **kw)
    assert r.success, f"{r.error_type}: {r.error} (line {r.line})\nstdout: {r.stdout!r}"
    return r.stdout


def ml_fails(source: str, error_type: str, message: str | None = None, line: int | None = None,
             **kw: Any) -> mlpy.RunResult:
    """The failed result of a program that must fail with `error_type` (and message, line)."""
    r = mlpy.run(source, **kw)
    assert not r.success, f"expected {error_type}, got success; stdout {r.stdout!r}"
    assert r.error_type == error_type, (r.error_type, r.error)
    if message is not None:
        assert r.error == message, r.error
    if line is not None:
        assert r.line == line, (r.line, r.error)
    return r


def library_call(module: str, name: str, *args: Any, caps: Iterable[str] = (),
                 output: OutputSink | None = None, **context: Any) -> Any:
    """Call ML library function `module.name(*args)` directly, as compiled code would, inside an
    execution context granting `caps` (other ExecutionContext fields, e.g. file_root, by keyword)."""
    ctx = ExecutionContext(output=output or OutputSink(), capabilities=Capabilities(list(caps)),
                           **context)
    with using(ctx):
        return mlpy.stdlib.load(module).members[name](*args)


def ml_show(expression: str) -> str:
    """What `print(expression);` writes, without the newline."""
    text = ml_out(f"print({expression});")
    assert text.endswith("\n")
    return text[:-1]


def ml_caught(source: str) -> str:
    """Run `source` inside try; print the caught error's type and message."""
    return ml_out("try {\n" + source + "\n} except (e) { print(e.type + \"|\" + e.message); }")[:-1]
