"""Executor sessions: persistent namespaces, order, cancel, reset, variables."""

import asyncio
import time

import pytest

from mlpy import AsyncMLExecutor
from mlpy.executor.session import short_repr

pytestmark = pytest.mark.timeout(60)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def executor():
    ex = AsyncMLExecutor(max_workers=2)
    yield ex
    ex.shutdown(wait=False, cancel_pending=True)


def test_variables_and_functions_persist(executor):
    async def main():
        session = executor.session()
        await session.execute("a = 1; function double(x) { return x * 2; }")
        second = await session.execute("print(double(a + 1)); a = a + 10;")
        third = await session.execute("result = a;")
        return session, second, third
    session, second, third = run(main())
    assert second.stdout == "4\n" and third.value == 11
    names = {v["name"]: v for v in session.variables()}
    assert names["a"] == {"name": "a", "type": "number", "repr": "11"}
    assert names["double"]["type"] == "function" and names["double"]["repr"] == "<function double>"


def test_imports_persist(executor):
    session = executor.session()
    session.run_sync("import math;")
    assert session.run_sync("result = math.sqrt(16);").value == 4.0


def test_reset_forgets_everything_but_the_context(executor):
    session = executor.session(context={"base": 5})
    session.run_sync("a = base + 1;")
    assert [v["name"] for v in session.variables()] == ["base", "a"]
    session.reset()
    assert [v["name"] for v in session.variables()] == ["base"]
    result = session.run_sync("result = a;")
    assert result.error == "name 'a' is not defined"
    assert session.run_sync("result = base;").value == 5


def test_executions_run_one_at_a_time_in_order(executor):
    async def main():
        session = executor.session()
        await session.execute("log = [];")
        steps = [session.execute(f"i = 0; while (i < 2000) {{ i = i + 1; }} log.append({n});")
                 for n in range(8)]
        await asyncio.gather(*steps)
        return await session.execute("result = log;")
    assert run(main()).value == list(range(8))


def test_interactive_is_the_default_for_sessions(executor):
    session = executor.session()
    assert session.run_sync("x = 3;\nx + 4").display_value == 7
    assert session.run_sync("x + 4", interactive=False).error.startswith("Parse error:")


def test_cancel_stops_the_running_execution(executor):
    async def main():
        session = executor.session()
        assert not await session.cancel()            # nothing running
        await session.execute("kept = 1;")
        task = asyncio.ensure_future(session.execute('print("go"); while (true) {}'))
        while not session.busy or executor.stats()["busy"] == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        started = time.monotonic()
        assert await session.cancel()
        stopped_in = time.monotonic() - started
        result = await task
        after = await session.execute("result = kept;")
        return result, after, stopped_in
    result, after, stopped_in = run(main())
    assert result.error == "Execution interrupted" and result.error_type == "KeyboardInterrupt"
    assert result.stdout == "go\n" and result.line == 1
    assert stopped_in < 1.0
    assert after.success and after.value == 1


def test_cancelling_the_awaiting_task_stops_the_code_and_keeps_order(executor):
    async def main():
        session = executor.session()
        task = asyncio.ensure_future(session.execute("x = 1; while (true) {}"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the next execution waits for the stopped one, then sees its binding
        return await asyncio.wait_for(session.execute("result = x;"), 3)
    result = run(main())
    assert result.success and result.value == 1
    assert executor.stats()["abandoned_total"] == 0


def test_timeout_in_a_session_keeps_the_namespace(executor):
    session = executor.session()
    session.run_sync("a = 1;")
    timed_out = session.run_sync("a = 2; while (true) {}", timeout=0.2)
    assert timed_out.error == "Execution timeout after 0.2 seconds"
    assert session.run_sync("result = a;").value == 2


def test_context_per_execution_is_copied(executor):
    data = {"items": [1, 2]}
    session = executor.session()
    session.run_sync("items.append(3); result = items;", context=data)
    assert data == {"items": [1, 2]}
    assert session.run_sync("result = items;").value == [1, 2, 3]
    bad = session.run_sync("result = 1;", context={"__import__": 1})
    assert not bad.success and bad.error_type == "ValueError"


def test_session_context_is_validated_at_once(executor):
    with pytest.raises(ValueError):
        executor.session(context={"while": 1})


def test_sessions_are_independent(executor):
    one, two = executor.session(), executor.session()
    one.run_sync("a = 1;")
    assert two.run_sync("result = a;").error == "name 'a' is not defined"


def test_close(executor):
    session = executor.session()
    session.run_sync("a = 1;")
    session.close()
    assert session.closed and session.variables() == []
    with pytest.raises(RuntimeError):
        session.run_sync("result = 1;")


def test_variables_repr_is_short_and_ml_spelled(executor):
    session = executor.session()
    session.run_sync('big = range(100000); flag = true; nothing = null; '
                     'obj = {name: "x", list: [1, 2]}; s = "q";')
    found = {v["name"]: (v["type"], v["repr"]) for v in session.variables()}
    assert found["flag"] == ("boolean", "true")
    assert found["nothing"] == ("null", "null")
    assert found["obj"] == ("object", '{"name": "x", "list": [1, 2]}')
    assert found["s"] == ("string", '"q"')
    kind, text = found["big"]
    assert kind == "array" and text.startswith("[0, 1, 2") and len(text) <= 80


def test_short_repr():
    assert short_repr([1, "a", None, True]) == '[1, "a", null, true]'
    assert short_repr({"k": [1.5]}) == '{"k": [1.5]}'
    cyclic = [1]
    cyclic.append(cyclic)
    assert short_repr(cyclic) == "[1, [...]]"
    long = short_repr("x" * 1000)
    assert len(long) <= 80 and long.startswith('"xxx') and long.endswith("...")
    assert len(short_repr(list(range(10**6)))) <= 80
