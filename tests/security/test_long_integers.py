"""Long integer work never holds a worker past its stop (issue 18, "caps that hold").

Python divides, roots and takes gcds of integers in single C calls that keep the GIL: on
integers at the size cap (1,000,000 bits) one `//` takes about half a second and one gcd
about two, and a thread-mode stop (an async exception, delivered between bytecodes) waits
for the call to return. mlpy does such work in steps, so the stop lands within one step:
the run ends with TimeoutError and the worker is neither abandoned (thread isolation) nor
killed (process isolation), even with a stop grace shorter than one of Python's calls.
(In thread mode the pool's own watchdog also waits for the GIL, so only the process pool's
kill count tells a stall from a step without a clock: that every C call the steps make is
short is tested in tests/language/test_long_integer_division.py and tests/stdlib/test_math.py;
test_health_under_load.py measures /health while long divisions run.) Results of the same
operations are exact, through the same executors. The executor runs are units beside the
started-server ones: they read the pool's abandon and kill counts, which HTTP does not show.
"""

from __future__ import annotations

import asyncio

import pytest

from mlpy import AsyncMLExecutor
from mlpy.executor.settings import ExecutorSettings

pytestmark = pytest.mark.timeout(180)

# about 998,500 and 499,700 bits: near the cap, the divisor half the dividend (the worst
# division), and 5**430000 coprime to the first (a gcd that runs the whole way down)
LONG = "import math; a = math.pow(3, 630000); b = math.pow(7, 178000); "

STOPPED = {
    "floor division": LONG + "while (true) { q = a // b; }",
    "modulo": LONG + "while (true) { r = a % b; }",
    "division of integer locals": (
        "function f() { a = 3; b = 0; i = 0; while (i < 19) { b = a; a = a * a; i = i + 1; } "
        "while (true) { r = a % b; q = a // b; } } f();"),
    "division by an expression": LONG + "while (true) { q = a // (b + 1); r = (a + 1) % (b + 1); }",
    "round to tens of thousands of digits": LONG + "while (true) { r = round(a, -150000); }",
    "math.gcd": LONG + "c = math.pow(5, 430000); while (true) { g = math.gcd(a, c); }",
    "math.lcm": LONG + "c = math.pow(5, 215000); while (true) { m = math.lcm(b, c); }",
}

# a grace shorter than one of Python's own calls on these integers: the stop must land
# between steps for the worker to survive it
GRACE = 0.3


def _run_all(isolation: str, programs: dict, timeout: float):
    settings = ExecutorSettings(stop_grace=GRACE, kill_grace=GRACE)

    async def scenario():
        async with AsyncMLExecutor(max_workers=1, isolation=isolation,
                                   settings=settings) as ex:
            results = {name: await ex.execute(code, timeout=timeout)
                       for name, code in programs.items()}
            after = await ex.execute("result = 1 + 1;", timeout=5)
            return results, after, ex.stats()

    return asyncio.run(scenario())


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_long_integer_work_is_stopped_between_steps(isolation):
    results, after, stats = _run_all(isolation, STOPPED, timeout=1.0)
    for name, result in results.items():
        assert result.error_type == "TimeoutError", (name, result.error_type, result.error)
        assert result.error == "Execution timeout after 1.0 seconds", name
    assert after.value == 2
    assert stats["abandoned_total"] == 0, stats
    if isolation == "process":
        assert stats["killed_total"] == 0, stats


EXACT = {
    # Python computes the expected values below; ML must give the same digits
    "floor division": (LONG + "result = (a // b) % 1000000007;",
                       lambda: (3 ** 630000 // 7 ** 178000) % 1000000007),
    "modulo": (LONG + "result = (a % b) % 1000000007;",
               lambda: (3 ** 630000 % 7 ** 178000) % 1000000007),
    "signs": (LONG + "result = [(-a) // b % 1000003, (-a) % b % 1000003, a // (-b) % 1000003, "
                     "a % (-b) % 1000003];",
              lambda: [(-3 ** 630000) // 7 ** 178000 % 1000003,
                       (-3 ** 630000) % 7 ** 178000 % 1000003,
                       3 ** 630000 // -7 ** 178000 % 1000003,
                       3 ** 630000 % -7 ** 178000 % 1000003]),
    "round": (LONG + "result = round(a, -150000) // math.pow(10, 150000) % 1000003;",
              lambda: round(3 ** 630000, -150000) // 10 ** 150000 % 1000003),
    "gcd": (LONG + "c = math.pow(3, 400000) * math.pow(5, 100000); "
                   "result = math.gcd(a * 25, c) == math.pow(3, 400000) * 25;",
            lambda: True),
}


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_long_integer_results_are_exact(isolation):
    results, _after, _stats = _run_all(isolation, {k: v[0] for k, v in EXACT.items()},
                                       timeout=60.0)
    for name, (_code, expected) in EXACT.items():
        assert results[name].success, (name, results[name].error)
        assert results[name].value == expected(), name


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_an_lcm_chain_meets_the_integer_cap(isolation):
    results, after, _stats = _run_all(isolation, {
        "lcm chain": "import math; x = 2; while (true) { x = math.lcm(x, x + 1); }"}, 30.0)
    result = results["lcm chain"]
    assert result.error_type == "LimitError"
    assert result.error == "integer of more than 1000000 bits exceeds the size limit"
    assert after.value == 2


@pytest.fixture
def client(plain_server):
    """A started server (uvicorn in its own process, conftest.py's) per isolation mode."""
    with plain_server.client() as c:
        yield c


def test_long_integers_as_results_and_displays_over_http(client):
    """Python writes at most 4300 decimal digits: a longer integer as a result is a clean
    SerialisationError, and as a session cell's displayed value a placeholder text — never an
    HTTP 500 nor Python's advice about its own settings."""
    for code, where in (("result = a;", "result"), ("result = [1, a];", "result[1]")):
        response = client.post("/execute", json={"code": LONG + code, "timeout": 10})
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert body["error_type"] == "SerialisationError"
        assert body["error"] == (f"result is not serialisable: the integer at {where} is "
                                 "too large to write as text")
    sid = client.post("/sessions").json()["id"]
    response = client.post(f"/sessions/{sid}/execute",
                           json={"code": LONG + "\n[a, 1]", "timeout": 10})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["display"]["text/plain"] == \
        "[<integer of 998527 bits, too large to write as text>, 1]"
    assert body["display_error"] == ("display value is not serialisable: the integer at "
                                     "display value[0] is too large to write as text")
    after = client.post(f"/sessions/{sid}/execute", json={"code": "a % 1000", "timeout": 10})
    assert after.json()["display"]["text/plain"] == str(3 ** 630000 % 1000)


@pytest.mark.parametrize("name", ["floor division", "math.gcd"])
def test_long_integer_work_is_stopped_over_http(client, name):
    """The same stop through the server: a TimeoutError reply, and the next run is served."""
    response = client.post("/execute", json={"code": STOPPED[name], "timeout": 1.0})
    assert response.status_code == 200
    body = response.json()
    assert (body["error_type"], body["error"]) == ("TimeoutError",
                                                   "Execution timeout after 1.0 seconds")
    assert client.post("/execute", json={"code": "result = 1 + 1;"}).json()["value"] == 2


def test_an_lcm_chain_meets_the_integer_cap_over_http(client):
    body = client.post("/execute", json={
        "code": "import math; x = 2; while (true) { x = math.lcm(x, x + 1); }",
        "timeout": 30}).json()
    assert (body["error_type"], body["error"]) == (
        "LimitError", "integer of more than 1000000 bits exceeds the size limit")
