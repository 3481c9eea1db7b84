"""The ML call stack of an uncaught error (mlpy.runtime.errors.ml_stack): ML frames only,
outermost first, each with where its code came from, its line, column, function and source
line; the same through `mlpy.run` and both executor isolations."""

from __future__ import annotations

import asyncio
import gc

import pytest

import mlpy
from mlpy import AsyncMLExecutor
from mlpy.program import compile as compile_program, program_id
from mlpy.runner import execute
from mlpy.runtime.context import ExecutionContext, OutputSink
from mlpy.runtime.namespace import new_namespace

pytestmark = pytest.mark.timeout(120)


def frames(source: str) -> list[tuple]:
    err = mlpy.run(source).exception
    assert err is not None and err.traceback
    return [(f["line"], f["column"], f["function"], f["source"]) for f in err.traceback]


def test_frames_through_named_arrow_and_library_callbacks():
    source = ("import functional;\nfunction g(a) {\n  return 10 / a;\n}\n"
              "h = fn (x) => g(x - 1);\n"
              "result = functional.map(fn (v) => h(v), [3, 2, 1]);\n")
    assert frames(source) == [
        (6, 20, None, "result = functional.map(fn (v) => h(v), [3, 2, 1]);"),
        (6, 35, "<function>", "result = functional.map(fn (v) => h(v), [3, 2, 1]);"),
        (5, 15, "<function>", "h = fn (x) => g(x - 1);"),
        (3, 13, "g", "  return 10 / a;"),
    ]


def test_top_level_error_has_one_frame_and_keeps_the_simple_report():
    source = "x = 1;\ny = x / 0;"
    err = mlpy.run(source).exception
    assert [(f["line"], f["function"]) for f in err.traceback] == [(2, None)]
    assert err.render(source) == ("ZeroDivisionError: division by zero (line 2)\n"
                                  "   2 | y = x / 0;\n             ^")


def test_thrown_error_and_no_python_names():
    source = ('function check(n) {\n  if (n < 0) { throw {type: "ValueError", message: "neg"}; }'
              '\n}\ncheck(-1);')
    err = mlpy.run(source).exception
    text = err.render(source)
    assert [f["function"] for f in err.traceback] == [None, "check"]
    assert "__ml" not in text and ".py" not in text and "<module>" not in text


def test_keyword_named_function_shows_its_ml_name():
    assert [f[2] for f in frames("function match(a) { return a / 0; }\nmatch(1);")] == [
        None, "match"]


def test_deep_recursion_is_folded_and_cut():
    err = mlpy.run("function f(n) { return f(n + 1); }\nf(0);").exception
    stack = err.traceback
    assert stack[0]["function"] is None and len(stack) == 4
    assert stack[-1]["repeat"] > 1000
    err = mlpy.run("function a(n) { return b(n + 1); }\n"
                   "function b(n) { return a(n + 1); }\na(0);").exception
    assert len(err.traceback) == 20
    assert sum(f["skipped"] for f in err.traceback) > 1000


def test_function_of_a_dropped_program_quotes_its_own_text():
    """A program gone from the caches: a frame in one of its functions still shows the line
    (from the function's own text), except the first line, which is cut at its keyword."""
    ns = new_namespace()
    ctx = ExecutionContext(output=OutputSink())
    first = compile_program("function g(a) {\n  b = a;\n  return b / 0;\n}", cache=False,
                            interactive=True)
    assert execute(first, ns, ctx).success
    defined = program_id(first.source)
    del first
    gc.collect()
    outcome = execute(compile_program("g(1);", cache=False), ns, ctx)
    inner = outcome.error.traceback[-1]
    assert (inner["program"], inner["line"], inner["source"]) == (defined, 3, "  return b / 0;")


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_executor_session_results_carry_the_stack(isolation):
    async def main():
        ex = AsyncMLExecutor(max_workers=1, isolation=isolation)
        try:
            session = ex.session()
            await session.execute("function g(a) {\n  return a / 0;\n}")
            return await session.execute("y = 1;\ng(y)")
        finally:
            ex.shutdown(wait=True, cancel_pending=True)

    result = asyncio.run(main())
    assert result.error_type == "ZeroDivisionError"
    stack = result.traceback
    assert [(f["line"], f["function"], f["source"]) for f in stack] == [
        (2, None, "g(y)"), (2, "g", "  return a / 0;")]
    assert stack[0]["program"] == program_id("y = 1;\ng(y)")
    assert stack[1]["program"] == program_id("function g(a) {\n  return a / 0;\n}")
