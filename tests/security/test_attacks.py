"""Every attack of attacks.py through the executor in thread and process isolation and
through HTTP against a started server (uvicorn in its own process) in both isolation modes:
each ends with its expected ML error type (or harmlessly succeeds), leaks neither the canary
environment variable nor /etc/passwd, answers within timeout + 1 s, and `result = 1 + 1;`
works right after. The executor runs are kept beside the HTTP ones: they reach what HTTP
cannot (granted capabilities confined to a file root, Python objects in a context)."""

from __future__ import annotations

import gc
import time

import pytest

from attacks import ANY, ATTACKS, OK, PASSWD_MARK, TIMEOUT
from mltest import TIME_SLACK
from started import ISOLATIONS, security_server, stop_and_check_log

from mlpy.executor import AsyncMLExecutor
from mlpy.executor.result import MAX_ERROR_MESSAGE
from mlpy.executor.session import short_repr

pytestmark = pytest.mark.timeout(120)

SLACK = 0.375 * TIME_SLACK   # a busy 2-core CI machine, on top of the timeout + 1 s
GRANTS = ["file.read", "file.write", "file.append", "path.read", "env.read", "network.http",
          "args.read"]


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="module")
def executors(roots, listener, log_records):
    root, _outside = roots
    made = {}
    for mode in ("thread", "process"):
        made[mode, False] = AsyncMLExecutor(max_workers=2, isolation=mode)
        made[mode, True] = AsyncMLExecutor(max_workers=2, isolation=mode, capabilities=GRANTS,
                                           file_root=root, allowed_hosts=["example.invalid"],
                                           env={"VISIBLE": "yes"})
    for ex in made.values():
        assert ex.run_sync("result = 1 + 1;").value == 2       # started and warm
    gc.collect()
    before = rss_bytes()
    yield made
    gc.collect()
    growth = rss_bytes() - before
    for (mode, _), ex in made.items():
        stats = ex.stats()
        assert stats["isolation"] == mode
        if mode == "process":
            assert stats["processes"] <= ex.max_workers + 2, stats   # no leaked workers
        ex.shutdown(wait=True, cancel_pending=True)
    assert growth < 400 << 20, f"host memory grew by {growth >> 20} MiB"


@pytest.fixture(scope="module", params=ISOLATIONS)
def http_client(request, tmp_path_factory):
    """A started server per isolation mode; afterwards its log (at debug level, as the
    executors' records are read) holds neither the canary nor /etc/passwd, no traceback,
    internal error or forged line."""
    server = security_server(tmp_path_factory, "attacks", request.param,
                             MLPY_MAX_WORKERS="2", MLPY_LOG_LEVEL="debug")
    with server.client() as client:
        assert client.get("/health").json()["executor"]["isolation"] == request.param
        yield client
    stop_and_check_log(server)


def _program(attack, roots, listener, canary_name):
    _root, outside = roots
    return (attack.code.replace("{PORT}", str(listener.port))
            .replace("{OUTSIDE}", str(outside)).replace("{CANARY}", canary_name))


def _visible_text(outcome: dict) -> str:
    """Everything a host would see of an outcome, bounded (values may be deep or cyclic)."""
    value = outcome.get("value")
    parts = [str(outcome.get("error") or ""), outcome.get("stdout") or "",
             outcome.get("stderr") or ""]
    if type(value) is str:
        parts.append(value)
    else:
        parts.append(short_repr(value, 4000))
    return "\n".join(parts)


def check(attack, outcome: dict, elapsed: float, canary: str) -> None:
    expected = attack.expect if isinstance(attack.expect, tuple) else (attack.expect,)
    got = OK if outcome["success"] else outcome["error_type"]
    assert got in expected, (f"{attack.name}: expected {expected}, got {got}: "
                             f"{str(outcome.get('error'))[:300]}")
    if got == OK and attack.value is not ANY:
        assert outcome["value"] == attack.value, attack.name
    if not outcome["success"]:
        assert outcome["error"], "an error must say what went wrong"
        assert len(outcome["error"]) <= MAX_ERROR_MESSAGE + 100
    text = _visible_text(outcome)
    assert canary not in text
    assert PASSWD_MARK not in text
    assert "Traceback" not in text and "File \"/" not in text
    assert elapsed <= TIMEOUT + 1.0 + SLACK, f"{attack.name} answered after {elapsed:.2f} s"
    if attack.stdout_must_not_contain:
        assert attack.stdout_must_not_contain not in (outcome.get("stdout") or "")


def _cases(mode):
    return [pytest.param(a, id=a.name) for a in ATTACKS if mode in a.modes]


def _run_on_executor(executor, attack, code):
    started = time.perf_counter()
    result = executor.run_sync(code, timeout=TIMEOUT, context=attack.context)
    elapsed = time.perf_counter() - started
    return result.to_dict(), elapsed


@pytest.mark.parametrize("attack", _cases("thread"))
def test_attack_thread_mode(attack, executors, roots, listener, canary):
    executor = executors["thread", attack.grants]
    outcome, elapsed = _run_on_executor(executor, attack, _program(attack, roots, listener,
                                                                   "MLPY_SECURITY_CANARY"))
    check(attack, outcome, elapsed, canary)
    assert executor.run_sync("result = 1 + 1;", timeout=5).value == 2


@pytest.mark.parametrize("attack", _cases("process"))
def test_attack_process_mode(attack, executors, roots, listener, canary):
    executor = executors["process", attack.grants]
    outcome, elapsed = _run_on_executor(executor, attack, _program(attack, roots, listener,
                                                                   "MLPY_SECURITY_CANARY"))
    check(attack, outcome, elapsed, canary)
    assert executor.run_sync("result = 1 + 1;", timeout=5).value == 2


@pytest.mark.parametrize("attack", [pytest.param(a, id=a.name) for a in ATTACKS
                                    if "http" in a.modes and not a.grants
                                    and not a.python_context])
def test_attack_over_http(attack, http_client, roots, listener, canary):
    code = _program(attack, roots, listener, "MLPY_SECURITY_CANARY")
    body = {"code": code, "timeout": TIMEOUT}
    if attack.context is not None:
        body["context"] = attack.context
    started = time.perf_counter()
    response = http_client.post("/execute", json=body)
    elapsed = time.perf_counter() - started
    assert canary not in response.text and PASSWD_MARK not in response.text
    if response.status_code == 422:       # the server refused the request itself
        assert attack.expect == "ValueError" or "ValueError" in attack.expect
        return
    assert response.status_code == 200, response.text[:500]
    check(attack, response.json(), elapsed, canary)
    after = http_client.post("/execute", json={"code": "result = 1 + 1;", "timeout": 5})
    assert after.json()["value"] == 2


@pytest.mark.parametrize("code", [
    'result = "x" * 40000000;',
    "a = []; i = 0; while (i < 100000) { a = [a]; i = i + 1; } result = a;",
    "a = [1]; a.append(a); result = a;",
    "result = print;",
    "import math; result = math;",
    'import regex; result = regex.compile("a");',
])
def test_unsendable_results_over_http_are_clean_failures(code, http_client, canary):
    response = http_client.post("/execute", json={"code": code, "timeout": TIMEOUT})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False and body["error"]
    assert len(response.content) < 1 << 20
    assert canary not in response.text


def test_the_suite_is_large_enough():
    assert len(ATTACKS) >= 60
    categories = {a.category for a in ATTACKS}
    assert categories >= {"introspection", "rebinding", "leaks", "imports", "capabilities",
                          "context", "injection", "resources"}
