"""End to end: real HTTP against uvicorn on 127.0.0.1 with the real executor."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time

import httpx

from tests.mltest import TIME_SLACK
import pytest

from conftest import ROOT, free_port


LOOP_100 = ("sum = 0;\ni = 1;\nwhile (i <= 100) {\n    sum = sum + i;\n    i = i + 1;\n}\n"
            "result = sum;")


# -- every documented example ------------------------------------------------------------------
def test_documented_requests(live_server):
    with live_server.client() as c:
        r = c.post("/execute", json={"code": "result = x + y;", "timeout": 5.0,
                                     "context": {"x": 10, "y": 20}})
        body = r.json()
        assert r.status_code == 200
        assert body["success"] is True and body["value"] == 30 and body["error"] is None
        assert body["execution_time"] >= 0 and body["transpile_time"] >= 0

        assert c.post("/execute", json={"code": "result = 2 + 2;", "timeout": 5.0}
                      ).json()["value"] == 4
        assert c.post("/execute", json={"code": LOOP_100}).json()["value"] == 5050
        assert c.post("/execute", json={
            "code": "sum = 0;\nfor (n in numbers) {\n    sum = sum + n;\n}\nresult = sum;",
            "context": {"numbers": [1, 2, 3, 4, 5]}}).json()["value"] == 15
        assert c.post("/execute", json={"code": "result = x * y;", "context": {"x": 7, "y": 6},
                                        "timeout": 5.0}).json()["value"] == 42


def test_documented_curl_commands(live_server):
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    url = live_server.url
    out = subprocess.run(["curl", "-s", "-X", "POST", f"{url}/execute", "-H",
                          "Content-Type: application/json", "-d",
                          '{\n    "code": "result = 2 + 2;",\n    "timeout": 5.0\n  }'],
                         capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout)["value"] == 4
    for query, expected in (("operation=add&a=10&b=5", 15), ("operation=multiply&a=7&b=6", 42),
                            ("operation=power&a=2&b=8", 256)):
        out = subprocess.run(["curl", "-s", f"{url}/calculate?{query}"], capture_output=True,
                             text=True, timeout=30)
        assert json.loads(out.stdout)["result"] == expected


def test_documented_httpx_script(live_server):
    async def test_api():
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{live_server.url}/execute",
                                         json={"code": "result = 2 + 2;", "timeout": 5.0})
            first = response.json()
            response = await client.post(f"{live_server.url}/execute",
                                         json={"code": "result = x + y;",
                                               "context": {"x": 10, "y": 20}, "timeout": 5.0})
            return first, response.json()

    first, second = asyncio.run(test_api())
    assert first["value"] == 4 and second["value"] == 30


def test_documented_errors(live_server):
    with live_server.client() as c:
        body = c.post("/execute", json={"code": "result = ;"}).json()
        assert body["success"] is False and body["value"] is None
        assert body["error"].startswith("Parse error: ")
        body = c.post("/execute", json={"code": "result = undefined_variable;"}).json()
        assert body["success"] is False
        assert body["error"] == "name 'undefined_variable' is not defined"
        assert body["error_type"] == "NameError" and body["line"] == 1
        body = c.post("/execute", json={"code": "while (true) {}", "timeout": 0.5}).json()
        assert body["success"] is False and body["value"] is None
        assert body["error"] == "Execution timeout after 0.5 seconds"


def test_calculate(live_server):
    with live_server.client() as c:
        body = c.get("/calculate", params={"operation": "add", "a": 10, "b": 5}).json()
        assert body["operation"] == "add" and body["a"] == 10 and body["b"] == 5
        assert body["result"] == 15 and body["execution_time_ms"] >= 0
        assert c.get("/calculate?operation=subtract&a=10&b=5").json()["result"] == 5
        assert c.get("/calculate?operation=divide&a=10&b=4").json()["result"] == 2.5
        assert c.get("/calculate?operation=add&a=1.5&b=2").json()["result"] == 3.5
        r = c.get("/calculate?operation=divide&a=1&b=0")
        assert r.status_code == 400 and "division by zero" in r.json()["detail"]
        r = c.get("/calculate?operation=modulo&a=1&b=2")
        assert r.status_code == 400 and "add, subtract, multiply, divide, power" in r.text


def test_health_and_root(live_server):
    with live_server.client() as c:
        body = c.get("/health").json()
        assert body["status"] == "healthy"
        assert body["executor"]["max_workers"] == 4
        assert body["executor"]["strict_security"] is False
        assert body["test_execution"]["success"] is True
        root = c.get("/").json()
        assert root["version"] and "POST /execute" in root["endpoints"]
        assert c.get("/docs").status_code == 200 and c.get("/redoc").status_code == 200


@pytest.mark.parametrize("code,fragment", [
    ("result = fn(x) => x;", "a function"),
    ("result = [1, 2];\nresult.append(result);", "contains itself"),
    ("result = 1e308 * 10;", "inf"),
    ("result = float(\"nan\");", "nan"),
    ("import math;\nresult = math;", "a module"),
    ("result = {};\nresult[1] = 2;", "not a string"),
    ("x = [];\nresult = x;\ni = 0;\nwhile (i < 70) { y = []; x.append(y); x = y; i = i + 1; }",
     "nesting deeper than 64"),
    ("result = \"x\" * 1100000;", "more than the limit"),
])
def test_unserialisable_values(live_server, code, fragment):
    with live_server.client() as c:
        r = c.post("/execute", json={"code": code})
        assert r.status_code == 200
        body = r.json()
        assert body["success"] is False and body["value"] is None, body
        assert body["error"].startswith("result is not serialisable: ")
        assert fragment in body["error"]


def test_output_and_error_values(live_server):
    with live_server.client() as c:
        body = c.post("/execute", json={"code": 'print("a", [1, true, null]);\nresult = 1 / 0;'}
                      ).json()
        assert body["stdout"] == "a [1, true, null]\n"
        assert body["error"] == "division by zero" and body["error_type"] == "ZeroDivisionError"
        body = c.post("/execute", json={"code": "result = {\"a\": [1, 2.5, \"s\", null, true]};"}
                      ).json()
        assert body["value"] == {"a": [1, 2.5, "s", None, True]}
        body = c.post("/execute", json={"code": "result = x;", "context": {"x": {"k": [1]}}}
                      ).json()
        assert body["value"] == {"k": [1]}


def test_error_replies_carry_the_ml_call_stack(live_server):
    """/execute and session replies: a `traceback` list of ML frames, outermost first; a
    session's frame in a function from an earlier request quotes that request's line."""
    with live_server.client() as c:
        body = c.post("/execute", json={
            "code": "function g(a) {\n  return a / 0;\n}\nresult = g(1);"}).json()
        assert body["error_type"] == "ZeroDivisionError" and body["line"] == 2
        frames = body["traceback"]
        assert [(f["line"], f["column"], f["function"], f["source"]) for f in frames] == [
            (4, 10, None, "result = g(1);"), (2, 12, "g", "  return a / 0;")]
        assert frames[0]["file"] is None and frames[0]["program"] == frames[1]["program"]
        assert c.post("/execute", json={"code": "result = 1;"}).json()["traceback"] is None

        sid = c.post("/sessions").json()["id"]
        assert c.post(f"/sessions/{sid}/execute", json={
            "code": "x = 0;\nfunction g(a) {\n  return a / x;\n}"}).json()["success"]
        body = c.post(f"/sessions/{sid}/execute", json={"code": "y = 1;\ng(y);"}).json()
        frames = body["traceback"]
        assert [(f["line"], f["function"], f["source"]) for f in frames] == [
            (2, None, "g(y);"), (3, "g", "  return a / x;")]
        assert frames[0]["program"] != frames[1]["program"]
        c.delete(f"/sessions/{sid}")


# -- saturation ----------------------------------------------------------------------------
def test_twenty_infinite_loops_then_health_and_work(live_server):
    """20 concurrent `while (true) {}` at timeout 0.5 on 4 workers; then /health answers
    within 1 s and `result = 1 + 1;` succeeds."""
    async def scenario():
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as c:
            loops = [asyncio.create_task(c.post("/execute", json={"code": "while (true) {}",
                                                                  "timeout": 0.5}))
                     for _ in range(20)]
            await asyncio.sleep(0.3)
            # while they run: /health does not queue behind them
            start = time.perf_counter()
            during = await c.get("/health")
            during_s = time.perf_counter() - start
            results = await asyncio.gather(*loops)
            start = time.perf_counter()
            after = await c.get("/health")
            after_s = time.perf_counter() - start
            ok = await c.post("/execute", json={"code": "result = 1 + 1;"})
            return during, during_s, results, after, after_s, ok

    during, during_s, results, after, after_s, ok = asyncio.run(scenario())
    print("health during saturation took", during_s, "after", after_s)
    assert during_s < 1.0 * TIME_SLACK
    assert during.json()["status"] in ("healthy", "degraded")
    for r in results:
        body = r.json()
        assert body["success"] is False
        assert body["error"] == "Execution timeout after 0.5 seconds"
    assert after_s < 1.0 * TIME_SLACK and after.json()["status"] == "healthy"
    assert after.json()["executor"]["busy_workers"] == 0
    assert ok.json() == {**ok.json(), "success": True, "value": 2}


def test_saturated_health_is_degraded(live_server):
    async def scenario():
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as c:
            loops = [asyncio.create_task(c.post("/execute", json={"code": "while (true) {}",
                                                                  "timeout": 4}))
                     for _ in range(4)]
            for _ in range(100):
                h = (await c.get("/health")).json()
                if h["executor"]["busy_workers"] == 4:
                    break
                await asyncio.sleep(0.02)
            # (that check may itself have held a worker while a loop waited, and its test
            # execution is reused for MLPY_HEALTH_INTERVAL = 1 s): ask again after that
            await asyncio.sleep(1.1)
            h = (await c.get("/health")).json()
            ready = await c.get("/ready")
            await asyncio.gather(*loops)
            return h, ready

    health, ready = asyncio.run(scenario())
    assert health["status"] == "degraded"
    assert health["test_execution"]["success"] is True
    assert health["test_execution"]["via"] == "inline"
    assert ready.status_code == 503


# -- program-chosen errors are never host events -----------------------------------------------
LIMIT_NAMES = ["MemoryError", "MemoryLimit", "MemoryLimitError", "TimeoutError", "LimitError",
               "OutputLimitError", "KeyboardInterrupt", "RecursionError"]


def test_thrown_limit_names_are_the_callers_own_errors(live_server):
    """A program that throws {type: "MemoryError"} (or any limit name) gets its own error back,
    and the workers are neither retired nor recycled: a session beside them keeps its state."""
    with live_server.client() as c:
        sid = c.post("/sessions").json()["id"]
        assert c.post(f"/sessions/{sid}/execute", json={"code": "a = 41;"}).json()["success"]
        for _ in range(3):
            for name in LIMIT_NAMES:
                body = c.post("/execute", json={
                    "code": f'throw {{type: "{name}", message: "chosen by the program"}};'}
                ).json()
                assert body["success"] is False
                assert (body["error_type"], body["error"]) == (name, "chosen by the program")
        assert c.post(f"/sessions/{sid}/execute", json={"code": "a + 1"}
                      ).json()["display_value"] == 42


def _timeouts_counted(c) -> float:
    from prometheus_client.parser import text_string_to_metric_families
    return sum(sample.value for family in text_string_to_metric_families(c.get("/metrics").text)
               for sample in family.samples
               if sample.name == "mlpy_executions_total"
               and sample.labels.get("outcome") == "timeout")


def test_a_thrown_timeout_is_not_counted_as_one(live_server):
    """The metrics read the host's own event (`stopped_by`), not the error's type or text."""
    with live_server.client() as c:
        before = _timeouts_counted(c)
        body = c.post("/execute", json={"code": 'throw {type: "TimeoutError", message: '
                                                 '"Execution timeout after 1 seconds"};'}).json()
        assert body["error_type"] == "TimeoutError"
        assert _timeouts_counted(c) == before
        body = c.post("/execute", json={"code": "while (true) {}", "timeout": 0.5}).json()
        assert body["error_type"] == "TimeoutError"
        assert _timeouts_counted(c) == before + 1


# -- sessions and notebooks ------------------------------------------------------------------
def test_sessions(live_server):
    with live_server.client() as c:
        sid = c.post("/sessions").json()["id"]
        r = c.post(f"/sessions/{sid}/execute", json={"code": "a = 40;\nfunction twice(x) "
                                                             "{ return 2 * x; }"})
        assert r.json()["success"] is True
        body = c.post(f"/sessions/{sid}/execute", json={"code": "twice(a) + 2"}).json()
        assert body["display_value"] == 82 and body["display"] == {"text/plain": "82"}
        body = c.post(f"/sessions/{sid}/execute", json={"code": "[a, \"x\"]"}).json()
        assert body["display"]["text/plain"] == '[40, "x"]'
        assert body["display"]["application/json"] == [40, "x"]
        body = c.post(f"/sessions/{sid}/execute", json={"code": "twice"}).json()
        assert body["success"] is True and body["display_value"] is None
        assert body["display"]["text/plain"] == "<function twice>"
        assert "not serialisable" in body["display_error"]
        info = c.get(f"/sessions/{sid}").json()
        names = {v["name"]: v for v in info["variables"]}
        assert names["a"]["type"] == "number" and names["a"]["repr"] == "40"
        assert "twice" in names
        body = c.post(f"/sessions/{sid}/execute", json={"code": "while (true) {}",
                                                        "timeout": 0.3}).json()
        assert body["error"] == "Execution timeout after 0.3 seconds"
        assert c.post(f"/sessions/{sid}/execute", json={"code": "a"}).json()["display_value"] \
            == 40
        assert c.delete(f"/sessions/{sid}").status_code == 200
        assert c.get(f"/sessions/{sid}").status_code == 404
        assert c.post("/sessions/unknown/execute", json={"code": "a"}).status_code == 404


def test_notebook_execution(live_server):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "ml", "display_name": "ML", "language": "ml"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# demo"),
        nbformat.v4.new_code_cell('xs = [1, 2, 3];\nprint("sum", sum(xs));'),
        nbformat.v4.new_code_cell("{\"n\": len(xs), \"xs\": xs}"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_code_cell("null"),
        nbformat.v4.new_code_cell("y = 1 / 0;"),
        nbformat.v4.new_code_cell("print(\"never\");"),
    ]
    with live_server.client() as c:
        r = c.post("/notebooks/execute", json=nb)
        assert r.status_code == 200
        out = nbformat.from_dict(r.json())
        nbformat.validate(out)
        cells = out.cells
        assert cells[1].outputs == [{"output_type": "stream", "name": "stdout",
                                     "text": "sum 6\n"}]
        result = cells[2].outputs[0]
        assert result.output_type == "execute_result" and result.execution_count == 2
        assert result.data["text/plain"] == '{"n": 3, "xs": [1, 2, 3]}'
        assert "application/json" not in result.data          # as the kernel shows it
        assert cells[3].execution_count is None
        assert cells[4].outputs == [] and cells[4].execution_count == 3
        err = cells[5].outputs[0]
        assert err.output_type == "error" and err.ename == "ZeroDivisionError"
        assert err.evalue == "division by zero"
        assert any("y = 1 / 0;" in line for line in err.traceback)
        assert any(line.startswith("Cell In[4], line 1") for line in err.traceback)
        assert cells[6].execution_count is None and cells[6].outputs == []
        assert r.headers["x-notebook-status"] == "error"
        assert r.headers["x-notebook-failed-cell"] == "5"

        r = c.post("/notebooks/execute", params={"allow_errors": "true"}, json=nb)
        out = nbformat.from_dict(r.json())
        nbformat.validate(out)
        assert out.cells[6].outputs[0]["text"] == "never\n"
        assert out.cells[6].execution_count == 5


def test_metrics_endpoint(live_server):
    with live_server.client() as c:
        c.post("/execute", json={"code": "result = 2 + 2;"})
        text = c.get("/metrics").text
        assert "mlpy_executions_total" in text and "mlpy_busy_workers" in text
        assert "mlpy_http_request_duration_seconds_bucket" in text


def test_request_id_header(live_server):
    with live_server.client() as c:
        assert c.get("/", headers={"X-Request-ID": "req-42"}).headers["x-request-id"] == "req-42"
        assert c.get("/").headers["x-request-id"]


# -- ways to start the server ----------------------------------------------------------------
def _get_json(url: str, path: str):
    return httpx.get(url + path, timeout=10).json()


@pytest.mark.parametrize("package", ["mlpy_server", "server"])
def test_python_m_server(start_server, package):
    """`python -m mlpy_server` (the installed package), and `python -m server` in a checkout."""
    server = start_server([sys.executable, "-m", package, "--port", "{port}"])
    assert _get_json(server.url, "/health")["status"] == "healthy"


def test_uvicorn_server_app_in_a_checkout(start_server):
    """The seed's `uvicorn server.app:app` from the project folder serves the same app."""
    server = start_server([sys.executable, "-m", "uvicorn", "server.app:app", "--host", "127.0.0.1",
                           "--port", "{port}"], cwd=ROOT)
    body = httpx.post(server.url + "/execute", json={"code": "result = 2 + 2;"}).json()
    assert body["value"] == 4


def test_example_commands_inside_server_dir(start_server):
    """The integration example's `python app.py` and `uvicorn app:app --reload` from server/."""
    port = free_port()
    server = start_server([sys.executable, "app.py"], cwd=ROOT / "server",
                          env={"MLPY_PORT": str(port)}, port=port)
    assert _get_json(server.url, "/health")["status"] == "healthy"
    server = start_server([sys.executable, "-m", "uvicorn", "app:app", "--reload",
                           "--host", "127.0.0.1", "--port", "{port}"], cwd=ROOT / "server")
    body = httpx.post(server.url + "/execute", json={"code": "result = 2 + 2;"}).json()
    assert body["value"] == 4


def test_settings_from_environment(start_server):
    server = start_server(env={"MLPY_MAX_WORKERS": "2", "MLPY_STRICT_SECURITY": "true",
                               "MLPY_API_KEYS": "secret", "MLPY_RATE_LIMIT_PER_MINUTE": "600",
                               "MLPY_RATE_LIMIT_BURST": "2"})
    health = _get_json(server.url, "/health")
    assert health["executor"]["max_workers"] == 2
    assert health["executor"]["strict_security"] is True
    with server.client() as c:
        assert c.post("/execute", json={"code": "result = 1;"}).status_code == 401
        codes = [c.post("/execute", json={"code": "result = 1;"},
                        headers={"X-API-Key": "secret"}).status_code for _ in range(3)]
        assert codes[:2] == [200, 200] and codes[2] == 429


def test_limits_over_http(start_server):
    server = start_server(env={"MLPY_MAX_BODY_BYTES": "4096", "MLPY_MAX_CODE_LENGTH": "1000"})
    with server.client() as c:
        assert c.post("/execute", json={"code": "x" * 5000}).status_code == 413
        assert c.post("/execute", json={"code": "x" * 1001}).status_code == 422
        assert c.post("/execute", json={"code": "result = 1;"}).status_code == 200


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "mlpy_server", "--port", "{port}"],
    [sys.executable, "-m", "uvicorn", "mlpy_server.app:app", "--host", "127.0.0.1", "--port", "{port}"],
], ids=["python-m-mlpy_server", "uvicorn"])
def test_sigterm_stops_running_code(start_server, command):
    """SIGTERM while code runs with a 30 s timeout: the process exits within 10 s."""
    server = start_server(command)

    async def run_forever():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            return await c.post("/execute", json={"code": "while (true) {}", "timeout": 30})

    async def scenario():
        task = asyncio.create_task(run_forever())
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
            for _ in range(200):
                if (await c.get("/health")).json()["executor"]["busy_workers"] >= 1:
                    break
                await asyncio.sleep(0.02)
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        code = await loop.run_in_executor(None, server.proc.wait, 15)
        elapsed = time.monotonic() - start
        try:
            response = await asyncio.wait_for(task, 5)
        except Exception as exc:  # the connection may close first
            response = exc
        return code, elapsed, response

    code, elapsed, response = asyncio.run(scenario())
    assert elapsed < 10, server.log()
    # uvicorn re-raises the SIGTERM it captured once it has shut down cleanly
    assert code in (0, -signal.SIGTERM), server.log()
    assert "Traceback" not in server.log()
    if isinstance(response, httpx.Response):
        assert response.status_code == 503


def test_gunicorn_two_workers(start_server):
    server = start_server([sys.executable, "-m", "gunicorn", "mlpy_server.app:app", "--workers", "2",
                           "--worker-class", "uvicorn.workers.UvicornWorker",
                           "--bind", "127.0.0.1:{port}", "--graceful-timeout", "10"])
    pids = set()
    for _ in range(200):
        with httpx.Client(base_url=server.url, timeout=10) as c:  # a new connection each time
            pids.add(c.get("/health").json()["pid"])
        if len(pids) >= 2:
            break
    assert len(pids) == 2
    assert httpx.post(server.url + "/execute", json={"code": "result = 2 + 2;"}).json()["value"] \
        == 4


def test_process_isolation(start_server):
    server = start_server(env={"MLPY_ISOLATION": "process", "MLPY_MAX_WORKERS": "2"})
    with server.client() as c:
        assert c.get("/health").json()["executor"]["isolation"] == "process"
        assert c.post("/execute", json={"code": "result = x + y;",
                                        "context": {"x": 1, "y": 2}}).json()["value"] == 3
        body = c.post("/execute", json={"code": "while (true) {}", "timeout": 0.5}).json()
        assert body["error"] == "Execution timeout after 0.5 seconds"
        assert c.post("/execute", json={"code": "result = 1 + 1;"}).json()["value"] == 2


def test_slow_and_half_open_clients_are_dropped(start_server):
    """A client that never finishes its headers is disconnected after MLPY_HEADER_TIMEOUT;
    one that stalls in its body gets 408 after MLPY_BODY_TIMEOUT; others are served."""
    import socket

    server = start_server([sys.executable, "-m", "mlpy_server", "--port", "{port}"],
                          env={"MLPY_HEADER_TIMEOUT": "1", "MLPY_BODY_TIMEOUT": "1"})
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as slow_headers:
        slow_headers.sendall(b"POST /execute HTTP/1.1\r\nHost: localhost\r\n")
        slow_headers.settimeout(30)
        assert slow_headers.recv(100) == b""          # closed by the server, no answer
    with socket.create_connection(("127.0.0.1", port)) as slow_body:
        slow_body.sendall(b"POST /execute HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                          b"application/json\r\nContent-Length: 100\r\n\r\n{\"co")
        slow_body.settimeout(30)
        assert slow_body.recv(100).startswith(b"HTTP/1.1 408 ")
    with socket.create_connection(("127.0.0.1", port)) as silent:   # never sends a byte
        silent.settimeout(30)
        assert silent.recv(100) == b""
    assert httpx.post(server.url + "/execute",
                      json={"code": "result = 2 + 2;"}).json()["value"] == 4
