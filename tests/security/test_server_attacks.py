"""Attacks on the server itself (issue 18) against a started server (uvicorn in its own
process), one per isolation mode, with API keys and the default per-client share: compile
bombs, JSON bombs, sorting ten million items, oversized errors and literals, deep programs,
cross-site requests (Host and Content-Type), one client saturating its share, forged log
lines. /health is probed all along: it always answers, and its latency is printed (-s); the
bound on it is test_health_under_load.py's, which runs these classes on every worker."""

from __future__ import annotations

import asyncio
import re
import statistics
import threading
import time
import uuid

import httpx
import pytest
from attacks import TIMEOUT
from mltest import TIME_SLACK
from started import ISOLATIONS, security_server, stop_and_check_log

from mlpy.executor.result import MAX_ERROR_MESSAGE, MAX_ERROR_TYPE

pytestmark = pytest.mark.timeout(120)

KEYS = ("key-a", "key-b")
SLACK = 0.375 * TIME_SLACK   # as test_attacks.py: a busy 2-core CI machine


class Prober(threading.Thread):
    """GET /health every 50 ms until stopped; records each status and latency."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.samples: list[tuple[int, float]] = []

    def run(self) -> None:
        with self.server.client() as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                status = client.get("/health").status_code
                self.samples.append((status, time.perf_counter() - started))
                self.stop.wait(0.05)


@pytest.fixture(scope="module", params=ISOLATIONS)
def server(request, tmp_path_factory):
    """Two workers, so one client's default share (half of them) is one execution."""
    started = security_server(tmp_path_factory, "server-attacks", request.param,
                              MLPY_MAX_WORKERS="2", MLPY_API_KEYS=",".join(KEYS),
                              MLPY_MAX_CONCURRENT_PER_CLIENT=None)
    prober = Prober(started)
    prober.start()
    yield started
    prober.stop.set()
    prober.join(30)
    stop_and_check_log(started)
    latencies = sorted(t for _, t in prober.samples)
    print(f"\n/health during {request.param}-mode attacks: n={len(latencies)} median="
          f"{statistics.median(latencies) * 1000:.1f} ms max={latencies[-1] * 1000:.1f} ms")
    assert latencies, "the prober never got an answer"
    assert {status for status, _ in prober.samples} <= {200, 503}


@pytest.fixture(scope="module")
def client(server):
    with server.client(headers={"X-API-Key": KEYS[0]}) as c:
        yield c


def _run(client, code: str, timeout: float = TIMEOUT, **extra):
    started = time.perf_counter()
    response = client.post("/execute", json={"code": code, "timeout": timeout, **extra})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    return response, elapsed


def _still_serves(client) -> None:
    assert _run(client, "result = 1 + 1;", 5)[0].json()["value"] == 2


def _raw(client, body: bytes, path: str = "/execute", content_type: str = "application/json"):
    return client.post(path, content=body, headers={"content-type": content_type})


# -- compile bombs ---------------------------------------------------------------------------
def _compile_bomb() -> str:
    """About 98,000 characters (under the code cap, so it is compiled) of statements that
    take tenths of a second to compile; unique, so never in the compile cache."""
    return f"// {uuid.uuid4().hex}\n" + "".join(f"a{i} = [{i}, {{k: {i}}}];"
                                                for i in range(3900))


def test_a_compile_bomb_is_stopped_by_its_timeout(client):
    bomb = _compile_bomb()
    assert 90_000 < len(bomb) <= 100_000
    response, elapsed = _run(client, bomb, 0.05)
    body = response.json()
    assert (body["error_type"], body["error"]) == ("TimeoutError",
                                                   "Execution timeout after 0.05 seconds")
    assert elapsed <= 0.05 + 1.0 + SLACK, elapsed
    _still_serves(client)


# -- JSON bombs ------------------------------------------------------------------------------
JSON_BOMBS = {
    "deep body": (b"[" * 100_000 + b"]" * 100_000, 422, "nested too deeply"),
    "deep object body": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 422, "nested too deeply"),
    "body over the cap": (b'{"code": "result = 1;", "context": {"x": "' + b"y" * 2_000_000
                          + b'"}}', 413, "more than the limit of 1048576 bytes"),
    "context of 150,000 numbers": (b'{"code": "result = 1;", "context": {"x": ['
                                   + b",".join([b"1"] * 150_000) + b"]}}", 422,
                                   "more than the limit of 262144 bytes"),
    "context nested past its depth": (b'{"code": "result = 1;", "context": {"x": '
                                      + b"[" * 40 + b"]" * 40 + b"}}", 422, "deep"),
    "not JSON": (b'{"code": "result = 1;"' + b" " * 100_000, 422, "json_invalid"),
}


@pytest.mark.parametrize("name", list(JSON_BOMBS))
def test_json_bombs_are_refused_cleanly(client, name):
    body, status, fragment = JSON_BOMBS[name]
    response = _raw(client, body)
    assert response.status_code == status, response.text[:300]
    assert fragment in response.text
    assert len(response.content) < 4096
    _still_serves(client)


# -- sorting ten million items ---------------------------------------------------------------
# ten million items in scrambled blocks of 100,000 (a linear congruential generator): one
# C sort of them takes Python about 7 s, a repeated short pattern only 1.6
TEN_MILLION = ("x = 1; block = []; for (i in range(100000)) { "
               "x = (x * 1103515245 + 12345) % 2147483648; block.append(x); } "
               "b = block * 100; ")


def test_sorting_ten_million_items_stops_on_time(client, server):
    """In thread mode the sort runs in short steps a stop lands between (one C sort of these
    items would hold the GIL, and the stop, for seconds); a worker process may meet its
    memory cap first."""
    isolation = client.get("/health").json()["executor"]["isolation"]
    response, elapsed = _run(client, TEN_MILLION + "while (true) { a = sorted(b); }")
    body = response.json()
    expected = {"TimeoutError"} | ({"MemoryLimitError"} if isolation == "process" else set())
    assert body["error_type"] in expected, body["error"]
    assert elapsed <= TIMEOUT + 1.0 + SLACK, f"answered after {elapsed:.2f} s"
    _still_serves(client)


def test_sorting_is_exact_and_past_the_array_cap_refused(client):
    body = _run(client, "a = sorted([3, 1, 2, 5, 4] * 200000); "
                        "result = [a.length, a[0], a[199999], a[200000], a[999999]];", 30)[0]
    assert body.json()["value"] == [1_000_000, 1, 1, 2, 5]
    over = _run(client, "result = sorted([3, 1] * 5000001).length;")[0].json()
    assert (over["error_type"], over["error"]) == (
        "LimitError", "array would have 10000002 elements, more than the limit of 10000000")


# -- oversized errors, literals and programs -------------------------------------------------
def test_thrown_text_is_bounded(client):
    for code in ('try { throw {message: "x" * 10000000, type: "Boom"}; } '
                 "except (e) { throw e; }",
                 'try { x = 1 / 0; } except (e) { e.message = "y" * 10000000; throw e; }'):
        response, _ = _run(client, code, 5)
        body = response.json()
        assert body["success"] is False
        assert len(body["error"]) <= MAX_ERROR_MESSAGE + 100
        assert body["error"].endswith("(message truncated: 10000000 characters)")
        assert len(response.content) < 4 * MAX_ERROR_MESSAGE
    body = _run(client, 'throw {type: "T" * 10000000, message: "m"};', 5)[0].json()
    assert body["error_type"] == "T" * MAX_ERROR_TYPE + "..."


def test_huge_literals_and_deep_programs_are_ml_errors(client):
    literal = _run(client, "x = 1;\nresult = " + "7" * 5000 + ";")[0].json()
    assert (literal["error_type"], literal["line"], literal["column"]) == ("SyntaxError", 2, 10)
    assert literal["error"] == ("Parse error: integer literal of 5000 digits at line 2, "
                                "column 10 (the most is 4300)")
    digits = _run(client, 'result = int("' + "9" * 5000 + '");')[0].json()
    assert (digits["error_type"], digits["error"]) == (
        "ValueError", "Exceeds the limit (4300 digits) for integer string conversion: value "
        "has 5000 digits")
    for deep in ("result = " + "[" * 30000 + "]" * 30000 + ";",
                 "if (true) {" * 3000 + "x = 1;" + "}" * 3000):
        body = _run(client, deep, 10)[0].json()
        assert (body["error_type"], body["error"]) == ("SyntaxError", "program too deeply nested")
        assert "Recursion" not in str(body) and "Internal" not in str(body)
    _still_serves(client)


# -- cross-site requests ---------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example",
                                  "127.0.0.1.nip.io"])
def test_a_foreign_host_header_is_refused(client, host):
    """DNS rebinding: a page of another site whose name now points at 127.0.0.1."""
    response = client.post("/execute", json={"code": "result = 1;"}, headers={"host": host})
    assert response.status_code == 400
    assert "is not allowed" in response.json()["detail"]


def test_local_host_names_are_served(client, server):
    port = server.url.rsplit(":", 1)[1]
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}"):
        response = client.post("/execute", json={"code": "result = 1;"}, headers={"host": host})
        assert response.json()["value"] == 1, host


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", ""])
def test_only_json_bodies_are_run(client, content_type):
    """A browser's cross-site form post (no preflight) cannot run code, not even in a session."""
    sid = client.post("/sessions").json()["id"]
    for path in ("/execute", f"/sessions/{sid}/execute"):
        response = _raw(client, b'{"code": "x = 1;\\nprint(\\"ran\\");"}', path, content_type)
        assert response.status_code == 415, (path, response.text[:200])
    left = client.post(f"/sessions/{sid}/execute", json={"code": "x"}).json()
    assert left["error_type"] == "NameError"          # the refused cell never ran
    client.delete(f"/sessions/{sid}")


# -- one client saturating its share ---------------------------------------------------------
def _busy(client) -> int:
    text = client.get("/metrics").text
    return int(float(re.search(r"^mlpy_busy_workers (\S+)$", text, re.MULTILINE).group(1)))


def test_one_client_cannot_take_every_worker(client, server):
    """On by default: one API key gets half of the workers (here one), so its runaway
    request leaves the other worker to everyone else."""
    runaway: list = []
    loop = threading.Thread(target=lambda: runaway.append(client.post(
        "/execute", json={"code": "while (true) { }", "timeout": 2})))
    loop.start()
    try:
        for _ in range(200):                     # until the runaway run holds its worker
            if _busy(client) >= 1:
                break
            time.sleep(0.02)
        refused = client.post("/execute", json={"code": "result = 1;"})
        assert refused.status_code == 429, refused.text[:200]
        assert "MLPY_MAX_CONCURRENT_PER_CLIENT" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        with server.client(headers={"X-API-Key": KEYS[1]}) as other:
            served = other.post("/execute", json={"code": "result = 1 + 1;", "timeout": 5})
            assert served.json()["value"] == 2
    finally:
        loop.join(30)
    assert runaway[0].json()["error_type"] == "TimeoutError"
    _still_serves(client)


def _disconnected(client) -> int:
    found = re.search(r'^mlpy_executions_total\{endpoint="execute",outcome="disconnected"\} '
                      r"(\S+)$", client.get("/metrics").text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0


def test_a_client_that_goes_away_stops_its_run(client, server):
    """A client that leaves mid-run (here: its read timeout) frees the worker: the run is
    stopped, not left to spin for its 30 s, and counted as disconnected."""
    before = _disconnected(client)
    with httpx.Client(base_url=server.url, timeout=0.5,
                      headers={"X-API-Key": KEYS[1]}) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post("/execute", json={"code": "while (true) { }", "timeout": 30})
    # (on a loaded machine the request may start only after the client has left: no worker
    # busy yet is not the end of it; the run's stop is, counted as disconnected)
    for _ in range(500):                 # a stop lands within WATCH_AFTER + the stop's grace
        if _disconnected(client) > before and _busy(client) == 0:
            break
        time.sleep(0.02)
    assert _disconnected(client) == before + 1, "the run of the client that left was not stopped"
    assert _busy(client) == 0, "the run of the client that left is still going"
    _still_serves(client)


def test_a_health_flood_costs_one_test_execution_per_interval(client, server):
    """Two hundred concurrent /health requests share the probe's test execution (run at
    most once per MLPY_HEALTH_INTERVAL, 1 s by default) instead of queueing one each behind
    the workers; every one is answered."""
    async def flood():
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            started = time.monotonic()
            replies = await asyncio.gather(*(c.get("/health") for _ in range(200)))
            return replies, time.monotonic() - started

    replies, elapsed = asyncio.run(flood())
    assert {r.status_code for r in replies} <= {200, 503}
    runs = {(r.json()["test_execution"]["execution_time_ms"],
             r.json()["test_execution"]["via"]) for r in replies}
    # one run per started interval, and one more that the first reply may have found
    assert len(runs) <= elapsed / 1.0 + 2, (len(runs), elapsed)
    _still_serves(client)


# -- forged log lines ------------------------------------------------------------------------
FORGED = "2026-01-01 00:00:00,000 ERROR [-] mlpy.server: forged"


def test_a_path_cannot_forge_a_log_line(client, server):
    assert client.get("/nothing%0d%0a" + FORGED.replace(" ", "%20")).status_code == 404
    for _ in range(200):             # the access line is written by a queue listener thread
        if "forged" in server.log():
            break
        time.sleep(0.05)
    lines = server.log().splitlines()
    assert any("\\r\\n" + FORGED in line for line in lines)
    assert not any(line.startswith(FORGED) for line in lines)


# -- program-chosen errors are never host events ---------------------------------------------
LIMIT_NAMES = ["MemoryError", "MemoryLimitError", "TimeoutError", "LimitError",
               "OutputLimitError", "KeyboardInterrupt", "SessionLost"]


def _worker_events(client) -> float:
    """Worker processes started, recycled, killed... so far (none in thread isolation),
    except the spare started when a session takes the last one: that start runs on a thread
    of its own and may be counted a moment after the session's first reply."""
    from prometheus_client.parser import text_string_to_metric_families
    return sum(sample.value for family in text_string_to_metric_families(
        client.get("/metrics").text) for sample in family.samples
        if sample.name == "mlpy_worker_events_total"
        and (sample.labels.get("event"), sample.labels.get("reason")) != ("started", "spare"))


def test_thrown_limit_names_are_the_callers_own_errors(client):
    """A thrown {type: "MemoryError"} comes back as the program's own error; no worker is
    retired or replaced for it, and a session beside it keeps its state."""
    sid = client.post("/sessions").json()["id"]
    assert client.post(f"/sessions/{sid}/execute", json={"code": "a = 41;"}).json()["success"]
    before = _worker_events(client)
    for _ in range(2):
        for name in LIMIT_NAMES:
            for path in ("/execute", f"/sessions/{sid}/execute"):
                body = client.post(path, json={
                    "code": f'throw {{type: "{name}", message: "chosen by the program"}};'}
                ).json()
                assert (body["success"], body["error_type"], body["error"]) == (
                    False, name, "chosen by the program")
    assert _worker_events(client) == before
    assert client.post(f"/sessions/{sid}/execute", json={"code": "a + 1"}).json()[
        "display_value"] == 42
    client.delete(f"/sessions/{sid}")


# -- no endpoint waits on a busy worker ------------------------------------------------------
def test_a_session_answers_while_its_cell_runs(client):
    """GET /sessions/{id} and /health answer while the session's cell loops: the cell's
    reply comes only after them (it runs until its timeout)."""
    sid = client.post("/sessions").json()["id"]
    replies: list = []
    cell = threading.Thread(target=lambda: replies.append(client.post(
        f"/sessions/{sid}/execute", json={"code": "while (true) { }", "timeout": 2})))
    cell.start()
    try:
        for _ in range(200):
            if client.get(f"/sessions/{sid}").json().get("running"):
                break
            time.sleep(0.02)
        info = client.get(f"/sessions/{sid}")
        assert info.status_code == 200 and info.json()["running"] is True, info.text[:200]
        assert client.get("/health").status_code in (200, 503)
        assert cell.is_alive() and not replies
    finally:
        cell.join(30)
    assert replies[0].json()["error_type"] == "TimeoutError"
    client.delete(f"/sessions/{sid}")


# -- caps that hold for every producer -------------------------------------------------------
CAPPED = {
    "container form": ('a = ["x" * 100000] * 1000; b = [a, a, a, a, a, a, a, a, a, a]; '
                       "result = str(b).length;"),
    "split": 'result = ("," * 20000000).split(",").length;',
    "replacement template": ('import regex; result = regex.sub("a", "\\\\g<0>" * 600, '
                             '"a" * 100000).length;'),
    "replacement function": ('import regex; result = regex.sub("a", fn(m) => "x" * 1000000, '
                             '"a" * 100000).length;'),
    "join": 's = "x" * 1000000; a = [s] * 1000; result = ",".join(a).length;',
}


@pytest.mark.parametrize("name", list(CAPPED))
def test_producers_meet_the_caps(client, name):
    body = _run(client, CAPPED[name], 10)[0].json()
    assert body["error_type"] == "LimitError", (body["error_type"], body["error"])
    assert "limit" in body["error"]
    _still_serves(client)
