"""TestClient units over a scripted fake executor: validation, limits, auth, rate limit,
admission, health, sessions, notebooks, metrics, request ids."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from conftest import FakeExecutor


# -- /execute: the contract -------------------------------------------------------------------
def test_execute_simple(make_client):
    c = make_client()
    r = c.post("/execute", json={"code": "result = 2 + 2;", "timeout": 5.0})
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True and body["value"] == 4 and body["error"] is None
    for key in ("execution_time", "transpile_time", "stdout", "stdout_truncated",
                "error_type", "line", "column"):
        assert key in body


def test_execute_context(make_client):
    r = make_client().post("/execute", json={"code": "result = x + y;", "timeout": 5.0,
                                             "context": {"x": 10, "y": 20}})
    assert r.json()["value"] == 30


def test_runtime_error_is_200(make_client):
    body = make_client().post("/execute", json={"code": "fail"}).json()
    assert body["success"] is False and body["value"] is None
    assert body["error"] == "name 'undefined_variable' is not defined"
    assert body["error_type"] == "NameError" and body["line"] == 1
    assert body["stdout"] == "before\n"


def test_timeout_is_200(make_client):
    body = make_client().post("/execute", json={"code": "sleep 5", "timeout": 0.05}).json()
    assert body["success"] is False
    assert body["error"] == "Execution timeout after 0.05 seconds"


@pytest.mark.parametrize("raw", [
    '{"code": ""}',
    '{"timeout": 5}',
    '{"code": "result = 1;", "timeout": null}',
    '{"code": "result = 1;", "timeout": NaN}',
    '{"code": "result = 1;", "timeout": Infinity}',
    '{"code": "result = 1;", "timeout": -Infinity}',
    '{"code": "result = 1;", "timeout": 0}',
    '{"code": "result = 1;", "timeout": -1}',
    '{"code": "result = 1;", "timeout": 30.0001}',
    '{"code": "result = 1;", "timeout": true}',
    '{"code": "result = 1;", "timeout": "5"}',
    '{"code": null}',
    '{"code": 5}',
    '{"code": "result = 1;", "context": [1, 2]}',
    '{"code": "result = 1;", "context": {"__class__": 1}}',
    '{"code": "result = 1;", "context": {"not valid": 1}}',
    '{"code": "result = 1;", "context": {"x": NaN}}',
    '[1]',
    'not json',
])
def test_bad_requests_are_422(make_client, raw):
    r = make_client().post("/execute", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "detail" in r.json()


def test_timeout_bounds_inclusive(make_client):
    c = make_client()
    assert c.post("/execute", json={"code": "result = 2 + 2;", "timeout": 30}).status_code == 200
    assert c.post("/execute", json={"code": "result = 2 + 2;", "timeout": 0.001}).status_code == 200


@pytest.mark.parametrize("script,fragment", [
    ("nan", "nan at result is not a JSON number"),
    ("inf", "inf at result is not a JSON number"),
    ("fn", "a function"),
    ("cycle", "contains itself"),
    ("deep65", "nesting deeper than 64 levels"),
    ("big", "more than the limit of 1048576 bytes"),
    ("intkey", "key that is not a string"),
    ("nested_fn", 'result["f"]'),
])
def test_unserialisable_results(make_client, script, fragment):
    r = make_client().post("/execute", json={"code": script})
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is False and body["value"] is None
    assert body["error"].startswith("result is not serialisable: ")
    assert fragment in body["error"]
    assert body["error_type"] == "SerialisationError"


def test_depth_64_is_fine(make_client):
    body = make_client().post("/execute", json={"code": "deep64"}).json()
    assert body["success"] is True


def test_code_length_cap(make_client):
    c = make_client(max_code_length=100)
    r = c.post("/execute", json={"code": "x" * 101})
    assert r.status_code == 422 and "limit" in r.text
    assert c.post("/execute", json={"code": " " * 10}).status_code == 422


def test_context_caps(make_client):
    c = make_client(max_context_bytes=1000, max_context_depth=3)
    assert c.post("/execute", json={"code": "result = x + y;",
                                    "context": {"x": "a" * 2000, "y": ""}}).status_code == 422
    deep = {"x": [[[[1]]]], "y": 1}
    r = c.post("/execute", json={"code": "result = 2 + 2;", "context": deep})
    assert r.status_code == 422 and "nesting" in r.text
    assert c.post("/execute", json={"code": "result = 2 + 2;",
                                    "context": {"x": [[1]]}}).status_code == 200


def test_body_cap(make_client):
    c = make_client(max_body_bytes=2048)
    r = c.post("/execute", json={"code": "x" * 5000})
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]

    def chunks():  # no content-length: counted while read
        for _ in range(10):
            yield b" " * 1000

    r = c.post("/execute", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# -- auth, rate limit, request id -----------------------------------------------------------
def test_open_without_keys(make_client):
    assert make_client().post("/execute", json={"code": "result = 2 + 2;"}).status_code == 200


def test_api_keys(make_client):
    c = make_client(api_keys=["k1", "k2"])
    assert c.post("/execute", json={"code": "result = 2 + 2;"}).status_code == 401
    assert c.post("/execute", json={"code": "result = 2 + 2;"},
                  headers={"X-API-Key": "nope"}).status_code == 401
    for key in ("k1", "k2"):
        assert c.post("/execute", json={"code": "result = 2 + 2;"},
                      headers={"X-API-Key": key}).status_code == 200
    assert c.get("/metrics").status_code == 401
    # probes and docs stay open
    for path in ("/health", "/ready", "/", "/openapi.json", "/docs"):
        assert c.get(path).status_code == 200, path


def test_api_keys_from_environment(monkeypatch):
    from mlpy_server.settings import Settings

    monkeypatch.setenv("MLPY_API_KEYS", "a, b")
    monkeypatch.setenv("MLPY_MAX_WORKERS", "7")
    monkeypatch.setenv("MLPY_CORS_ORIGINS", '["http://localhost:3000"]')
    s = Settings()
    assert s.api_keys == ["a", "b"] and s.max_workers == 7
    assert s.cors_origins == ["http://localhost:3000"]


def test_rate_limit(make_client):
    c = make_client(rate_limit_per_minute=60, rate_limit_burst=3)
    codes = [c.post("/execute", json={"code": "result = 2 + 2;"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.post("/execute", json={"code": "result = 2 + 2;"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert c.get("/health").status_code == 200  # probes are not limited


def test_retry_after_is_spread_so_rejected_clients_do_not_return_together(make_client):
    c = make_client(rate_limit_per_minute=60, rate_limit_burst=1)
    assert c.post("/execute", json={"code": "result = 1;"}).status_code == 200
    waits = [c.post("/execute", json={"code": "result = 1;"}).headers["retry-after"]
             for _ in range(30)]
    assert all(1 <= int(w) <= 2 for w in waits)
    assert len(set(waits)) == 2        # spread over [wait, 2 * wait], never below the wait


def test_rate_limit_refills_with_time(make_client):
    clock = FakeClock()
    c = make_client(rate_limit_per_minute=60, rate_limit_burst=2, clock=clock)
    ok = {"code": "result = 2 + 2;"}
    assert [c.post("/execute", json=ok).status_code for _ in range(3)] == [200, 200, 429]
    assert c.post("/execute", json=ok).headers["retry-after"] in ("1", "2")
    clock.now += 1.0                                     # one token per second comes back
    assert [c.post("/execute", json=ok).status_code for _ in range(2)] == [200, 429]
    clock.now += 10.0                                    # never more than the burst
    assert [c.post("/execute", json=ok).status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limit_per_key(make_client):
    c = make_client(api_keys=["a", "b"], rate_limit_per_minute=60, rate_limit_burst=1)
    ok = {"code": "result = 2 + 2;"}
    assert c.post("/execute", json=ok, headers={"X-API-Key": "a"}).status_code == 200
    assert c.post("/execute", json=ok, headers={"X-API-Key": "a"}).status_code == 429
    assert c.post("/execute", json=ok, headers={"X-API-Key": "b"}).status_code == 200


def test_request_id(make_client):
    c = make_client()
    r = c.get("/")
    generated = r.headers["x-request-id"]
    assert len(generated) >= 16
    r = c.post("/execute", json={"code": "result = 2 + 2;"},
               headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    # ids that could forge log lines are replaced
    r = c.get("/", headers={"X-Request-ID": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces"
    assert c.post("/execute", json={"code": ""}).headers.get("x-request-id")
    assert c.get("/nowhere").headers.get("x-request-id")


def test_request_id_in_log_records(make_client, caplog):
    import logging

    from mlpy_server.logs import install_record_factory

    install_record_factory()
    c = make_client()
    with caplog.at_level(logging.INFO, logger="mlpy.server"):
        c.get("/", headers={"X-Request-ID": "trace-me-1"})
    records = [r for r in caplog.records if "GET /" in r.getMessage()]
    assert records and records[-1].request_id == "trace-me-1"


# -- admission, health, ready --------------------------------------------------------------
def _fire(c, n, code="sleep 0.5", timeout=5.0, headers=None):
    results: list = [None] * n

    def one(i):
        results[i] = c.post("/execute", json={"code": code, "timeout": timeout},
                            headers=headers)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def _wait_busy(c, busy, queued=0):
    for _ in range(200):
        info = c.get("/health").json()["executor"]
        if info["busy_workers"] >= busy and info["queued"] >= queued:
            return info
        time.sleep(0.01)
    raise AssertionError(f"never saw {busy} busy / {queued} queued: {info}")


def test_queue_full_is_503(make_client):
    c = make_client(max_workers=2, max_queue=1, max_concurrent_per_client=8)  # many tenants
    threads, results = _fire(c, 3, "sleep 0.6")
    _wait_busy(c, 2, 1)
    r = c.post("/execute", json={"code": "result = 2 + 2;"})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    for t in threads:
        t.join()
    assert [x.status_code for x in results] == [200, 200, 200]
    assert c.post("/execute", json={"code": "result = 2 + 2;"}).status_code == 200
    metrics = c.get("/metrics").text
    assert 'mlpy_executions_total{endpoint="execute",outcome="rejected"} 1' in metrics


def test_one_client_gets_its_share_of_the_workers(make_client):
    """By default a client (API key, else address) has at most half the workers' worth of
    executions running or waiting: its runaway requests cannot lock the others out."""
    c = make_client(max_workers=4, api_keys=["alice", "bob"])
    alice, bob = {"X-API-Key": "alice"}, {"X-API-Key": "bob"}
    threads, results = _fire(c, 2, "sleep 0.6", headers=alice)
    _wait_busy(c, 2)
    r = c.post("/execute", json={"code": "result = 2 + 2;"}, headers=alice)
    assert r.status_code == 429, r.text
    assert "MLPY_MAX_CONCURRENT_PER_CLIENT" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    r = c.post("/execute", json={"code": "result = 2 + 2;"}, headers=bob)
    assert r.status_code == 200 and r.json()["value"] == 4
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200]
    assert c.post("/execute", json={"code": "result = 2 + 2;"},
                  headers=alice).status_code == 200            # her share is free again
    assert 'mlpy_executions_total{endpoint="execute",outcome="rejected"} 1' in \
        c.get("/metrics", headers=alice).text


def test_health_degraded_and_ready_when_saturated(make_client):
    c = make_client(max_workers=2, max_concurrent_per_client=8)     # as if many tenants
    assert c.get("/ready").status_code == 200
    h = c.get("/health").json()
    assert h["status"] == "healthy" and h["executor"]["max_workers"] == 2
    threads, _ = _fire(c, 4, "sleep 0.6")
    _wait_busy(c, 2, 2)
    r = c.get("/ready")
    assert r.status_code == 503 and r.json()["ready"] is False
    h = c.get("/health").json()
    assert h["status"] in ("degraded", "unhealthy")  # the fake has no mlpy.run fallback
    assert h["executor"]["busy_workers"] == 2 and h["executor"]["queued"] == 2
    for t in threads:
        t.join()
    assert c.get("/ready").status_code == 200


def test_health_shape(make_client):
    body = make_client().get("/health").json()
    assert body["status"] == "healthy"
    assert body["executor"] == {"max_workers": 4, "strict_security": False,
                                "isolation": "thread", "busy_workers": 0, "queued": 0,
                                "worker_events": {}}
    assert body["test_execution"]["success"] is True
    assert body["test_execution"]["execution_time_ms"] >= 0


# -- calculate -------------------------------------------------------------------------------
def test_calculate_unknown_operation(make_client):
    r = make_client().get("/calculate", params={"operation": "mod", "a": 1, "b": 2})
    assert r.status_code == 400
    detail = r.json()["detail"]
    for op in ("add", "subtract", "multiply", "divide", "power"):
        assert op in detail


def test_calculate_bad_numbers(make_client):
    c = make_client()
    for a in ("nan", "inf", "x"):
        assert c.get("/calculate", params={"operation": "add", "a": a, "b": 1}).status_code == 422
    assert c.get("/calculate", params={"operation": "add", "a": 1}).status_code == 422


# -- sessions -------------------------------------------------------------------------------
def test_session_lifecycle(make_client):
    c = make_client()
    r = c.post("/sessions")
    assert r.status_code == 201
    sid = r.json()["id"]
    r = c.post(f"/sessions/{sid}/execute", json={"code": "a = 40;"})
    assert r.json()["success"] is True and r.json()["execution_count"] == 1
    body = c.post(f"/sessions/{sid}/execute", json={"code": "a + 2"}).json()
    assert body["display_value"] == 42 and body["display"] == {"text/plain": "42"}
    assert body["execution_count"] == 2
    info = c.get(f"/sessions/{sid}").json()
    assert info["variables"] == [{"name": "a", "type": "number", "repr": "40"}]
    assert c.delete(f"/sessions/{sid}").status_code == 200
    assert c.get(f"/sessions/{sid}").status_code == 404
    assert c.post(f"/sessions/{sid}/execute", json={"code": "a"}).status_code == 404
    assert c.delete(f"/sessions/{sid}").status_code == 404


def test_session_display_not_serialisable(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    body = c.post(f"/sessions/{sid}/execute", json={"code": "fn"}).json()
    assert body["display_value"] is None
    assert body["display"]["text/plain"].startswith("<function")
    assert body["display_error"].startswith("display value is not serialisable")


def test_session_unknown_404(make_client):
    c = make_client()
    assert c.get("/sessions/nope").status_code == 404
    assert c.post("/sessions/nope/execute", json={"code": "a"}).status_code == 404


def test_session_validation(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    assert c.post(f"/sessions/{sid}/execute", json={"code": ""}).status_code == 422
    assert c.post(f"/sessions/{sid}/execute",
                  json={"code": "a", "timeout": 31}).status_code == 422


def test_session_cap_evicts_lru(make_client):
    c = make_client(max_sessions=2)
    s1, s2 = (c.post("/sessions").json()["id"] for _ in range(2))
    c.get(f"/sessions/{s1}")  # s1 is now the most recently used
    s3 = c.post("/sessions").json()["id"]
    evicted = c.get(f"/sessions/{s2}")                    # 410 with why, not a bare 404
    assert evicted.status_code == 410 and evicted.json()["reason"].startswith("evicted:")
    assert c.get(f"/sessions/{s1}").status_code == 200
    assert c.get(f"/sessions/{s3}").status_code == 200


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeping tests)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_session_ttl(make_client):
    clock = FakeClock()
    c = make_client(session_ttl=60, clock=clock)
    sid = c.post("/sessions").json()["id"]
    clock.now += 59
    assert c.get(f"/sessions/{sid}").status_code == 200      # use renews the idle time
    clock.now += 59
    assert c.get(f"/sessions/{sid}").status_code == 200
    clock.now += 61
    r = c.get(f"/sessions/{sid}")                             # expired: 410 with the reason
    assert r.status_code == 410 and r.json()["error_type"] == "SessionLost"
    assert r.json()["reason"] == "expired: unused for more than 60 seconds"
    assert c.get("/sessions/never-was").status_code == 404    # 404 only for no such session
    assert c.get("/health").json()["sessions"] == 0


def test_sessions_belong_to_their_key(make_client):
    c = make_client(api_keys=["a", "b"])
    sid = c.post("/sessions", headers={"X-API-Key": "a"}).json()["id"]
    assert c.get(f"/sessions/{sid}", headers={"X-API-Key": "a"}).status_code == 200
    assert c.get(f"/sessions/{sid}", headers={"X-API-Key": "b"}).status_code == 404


# -- notebooks ------------------------------------------------------------------------------
def _nb(*sources, tags=None):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# title"))
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    return nb


def test_notebook_outputs_and_validation(make_client):
    import nbformat

    c = make_client()
    nb = _nb("a = 1;", "print hello", "", "a + 1")
    r = c.post("/notebooks/execute", json=nb)
    assert r.status_code == 200, r.text
    assert r.headers["x-notebook-status"] == "ok"
    out = nbformat.from_dict(r.json())
    nbformat.validate(out)
    cells = out.cells
    assert cells[1].execution_count == 1 and cells[1].outputs == []
    assert cells[2].outputs == [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]
    assert cells[3].execution_count is None and cells[3].outputs == []  # empty: not run
    assert cells[4].execution_count == 3
    assert cells[4].outputs[0]["output_type"] == "execute_result"
    assert cells[4].outputs[0]["data"] == {"text/plain": "2"}
    assert cells[4].outputs[0]["execution_count"] == 3


def test_notebook_stops_on_error(make_client):
    import nbformat

    c = make_client()
    r = c.post("/notebooks/execute", json=_nb("a = 1;", "fail", "a = 2;"))
    assert r.headers["x-notebook-status"] == "error"
    assert r.headers["x-notebook-failed-cell"] == "2"
    out = nbformat.from_dict(r.json())
    nbformat.validate(out)
    err = out.cells[2].outputs[-1]
    assert err.output_type == "error" and err.ename == "NameError"
    assert err.evalue == "name 'undefined_variable' is not defined"
    assert "NameError" in err.traceback[0]
    assert out.cells[2].outputs[0] == {"output_type": "stream", "name": "stdout",
                                       "text": "before\n"}
    assert out.cells[3].execution_count is None  # not reached


def test_notebook_allow_errors(make_client):
    c = make_client()
    r = c.post("/notebooks/execute", params={"allow_errors": "true"},
               json=_nb("fail", "a = 2;"))
    assert r.headers["x-notebook-status"] == "error"      # it ran on, but a cell failed
    assert r.json()["cells"][2]["execution_count"] == 2


def test_notebook_raises_exception_tag(make_client):
    c = make_client()
    r = c.post("/notebooks/execute", json=_nb("fail", "a = 2;",
                                              tags={0: ["raises-exception"]}))
    assert r.json()["cells"][2]["execution_count"] == 2
    assert r.headers["x-notebook-status"] == "ok"         # the error was expected


def test_notebook_rejects_non_notebooks(make_client):
    c = make_client()
    assert c.post("/notebooks/execute", json={"cells": []}).status_code == 422
    assert c.post("/notebooks/execute", json={"nbformat": 3, "cells": []}).status_code == 422
    assert c.post("/notebooks/execute", json={"nbformat": 4, "nbformat_minor": 5,
                                              "metadata": {}, "cells": [{"x": 1}]}
                  ).status_code == 422


# -- docs and metrics ----------------------------------------------------------------------
def test_openapi_has_examples(make_client):
    schema = make_client().get("/openapi.json").json()
    op = schema["paths"]["/execute"]["post"]
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert examples["simple"]["value"] == {"code": "result = 2 + 2;", "timeout": 5.0}
    for path in ("/calculate", "/health", "/ready", "/sessions", "/sessions/{session_id}",
                 "/sessions/{session_id}/execute", "/notebooks/execute", "/metrics", "/"):
        assert path in schema["paths"], path
    assert make_client().get("/redoc").status_code == 200


def test_metrics_text(make_client):
    c = make_client()
    c.post("/execute", json={"code": "result = 2 + 2;"})
    c.post("/execute", json={"code": "fail"})
    c.post("/execute", json={"code": "sleep 1", "timeout": 0.01})
    r = c.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'mlpy_executions_total{endpoint="execute",outcome="success"} 1' in text
    assert 'mlpy_executions_total{endpoint="execute",outcome="error"} 1' in text
    assert 'mlpy_executions_total{endpoint="execute",outcome="timeout"} 1' in text
    assert 'mlpy_http_requests_total{method="POST",route="/execute",status="200"} 3' in text
    assert "mlpy_busy_workers 0" in text and "mlpy_queued_executions 0" in text
    assert 'mlpy_execution_duration_seconds_bucket{endpoint="execute",le="+Inf"} 3' in text
    for line in text.splitlines():  # every sample line: name{labels} number
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value.replace("+Inf", "inf"))


def test_root(make_client):
    body = make_client().get("/").json()
    assert body["name"] and body["version"] and "POST /execute" in body["endpoints"]


# -- shutdown ------------------------------------------------------------------------------
def test_lifespan_shuts_executor_down(make_client):
    fake = FakeExecutor()
    from fastapi.testclient import TestClient

    from mlpy_server.factory import create_app
    from mlpy_server.settings import Settings

    with TestClient(create_app(Settings(), executor_factory=lambda s: fake),
                    base_url="http://localhost") as c:
        assert c.get("/ready").status_code == 200
    assert fake.closed


def test_lifespan_sets_and_restores_the_collectors_pace():
    """The server spaces the collector's young passes (a pass over a program's fresh big list
    holds the GIL) while it runs, and leaves the process as it found it."""
    import gc

    from fastapi.testclient import TestClient

    from mlpy_server.factory import create_app
    from mlpy_server.settings import Settings

    before = gc.get_threshold()
    with TestClient(create_app(Settings(gc_young_threshold=12_345),
                               executor_factory=lambda s: FakeExecutor()),
                    base_url="http://localhost") as c:
        assert c.get("/ready").status_code == 200
        assert gc.get_threshold() == (12_345, *before[1:])
    assert gc.get_threshold() == before
    with TestClient(create_app(Settings(gc_young_threshold=0),
                               executor_factory=lambda s: FakeExecutor()),
                    base_url="http://localhost"):
        assert gc.get_threshold() == before


def test_drain_stops_running_executions(make_client):
    c = make_client()
    threads, results = _fire(c, 2, "sleep 20", timeout=30)
    _wait_busy(c, 2)
    state = c.app.state.ml
    c.portal.call(lambda: asyncio.sleep(0))
    stopped = c.portal.call(_stop, state)
    assert stopped == 2
    for t in threads:
        t.join(10)
    assert [r.status_code for r in results] == [503, 503]
    assert "shutting down" in results[0].json()["detail"]


async def _stop(state):
    return state.stop_running()


def test_code_runs_only_from_json_bodies(make_client):
    """A browser posts forms and text/plain cross-site without a preflight: such bodies never
    run code (415), whatever they contain."""
    c = make_client()
    body = '{"code": "result = 2 + 2;"}'
    for label in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
                  None):
        headers = {"content-type": label} if label else {}
        for path in ("/execute", "/notebooks/execute"):
            r = c.post(path, content=body, headers=headers)
            assert r.status_code == 415, (label, path, r.text)
            assert "application/json" in r.json()["detail"]
            assert r.headers["x-request-id"]
    assert c.fake.calls == 0
    for label in ("application/json", "application/json; charset=utf-8",
                  "application/vnd.api+json"):
        r = c.post("/execute", content=body, headers={"content-type": label})
        assert r.status_code == 200 and r.json()["value"] == 4, label
    metrics = c.get("/metrics").text
    assert 'route="<unmatched>",status="415"' in metrics or 'status="415"' in metrics


@pytest.mark.parametrize("host, allowed", [
    ("localhost", True), ("localhost:8000", True), ("127.0.0.1:8000", True),
    ("[::1]:8000", True), ("LOCALHOST", True), ("evil.example", False),
    ("evil.example:8000", False), ("localhost.evil.example", False)])
def test_the_host_header_must_name_this_server(make_client, host, allowed):
    """Against DNS rebinding: a page whose own name now points at 127.0.0.1 sends its own
    name as Host, and is refused."""
    c = make_client()
    r = c.get("/health", headers={"host": host})
    assert (r.status_code == 200) == allowed, r.text
    if not allowed:
        assert r.status_code == 400 and "MLPY_ALLOWED_HOSTS" in r.json()["detail"]


def test_allowed_hosts_setting(make_client):
    c = make_client(allowed_hosts=["*.example.org", "api.test"])
    assert c.get("/health", headers={"host": "a.example.org"}).status_code == 200
    assert c.get("/health", headers={"host": "api.test:80"}).status_code == 200
    assert c.get("/health", headers={"host": "localhost"}).status_code == 400
    assert make_client(allowed_hosts=["*"]).get(
        "/health", headers={"host": "anything"}).status_code == 200
    from mlpy_server.settings import Settings
    assert "10.1.2.3" in Settings(host="10.1.2.3").allowed_hosts
    assert "0.0.0.0" not in Settings(host="0.0.0.0").allowed_hosts


def test_log_lines_cannot_be_forged(make_client, caplog):
    """A request path or user text with line breaks stays on one escaped log line."""
    import logging

    c = make_client()
    with caplog.at_level(logging.INFO, logger="mlpy.server"):
        c.get("/nothing%0a2026-01-01 00:00:00 INFO [x] forged: line")
        c.post("/execute", json={"code": "explode"}, headers={"x-request-id": "ref-42"})
    messages = [r.getMessage() for r in caplog.records]
    assert messages and not any("\n" in m or "\r" in m for m in messages), messages
    assert any("/nothing\\n2026-01-01" in m for m in messages), messages
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "[ref ref-42]" in errors[0].getMessage()
    assert errors[0].exc_info is None          # the traceback only at debug level


def test_an_internal_error_names_its_reference_not_python_internals(make_client):
    c = make_client()
    r = c.post("/execute", json={"code": "explode"}, headers={"x-request-id": "ref-43"})
    body = r.json()
    assert r.status_code == 200 and body["error_type"] == "InternalError"
    assert body["error"] == "internal error (reference ref-43)"


def test_health_runs_its_test_execution_at_most_once_per_interval(make_client):
    c = make_client(health_interval=60)
    first = c.get("/health").json()
    calls = c.fake.calls
    for _ in range(20):
        again = c.get("/health").json()
        assert again["status"] == "healthy"
        assert again["test_execution"]["age_seconds"] >= 0
    assert c.fake.calls == calls, "the test execution ran again within the interval"
    assert first["test_execution"]["success"] is True
    every = make_client(health_interval=0)
    before = every.fake.calls
    for _ in range(3):
        every.get("/health")
    assert every.fake.calls == before + 3


def test_log_config_has_request_ids():
    import logging.config

    from mlpy_server.logs import REQUEST_ID, uvicorn_log_config

    config = uvicorn_log_config("info")
    assert "%(request_id)s" in config["formatters"]["default"]["format"]
    logging.config.dictConfig(config)
    handler = logging.getLogger("uvicorn").handlers[0]
    token = REQUEST_ID.set("rid-7")
    try:
        record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "hello", (), None)
        assert handler.filter(record)
        assert "[rid-7]" in handler.format(record)
    finally:
        REQUEST_ID.reset(token)


def test_cors(make_client):
    c = make_client(cors_origins=["http://localhost:3000"])
    r = c.options("/execute", headers={"Origin": "http://localhost:3000",
                                       "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    r = c.post("/execute", json={"code": "result = 2 + 2;"},
               headers={"Origin": "http://localhost:3000"})
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert make_client().options("/execute", headers={
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST"}).headers.get(
        "access-control-allow-origin") is None


def test_a_lost_session_answers_410_with_its_reason(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    assert c.post(f"/sessions/{sid}/execute", json={"code": "a = 1;"}).status_code == 200
    r = c.post(f"/sessions/{sid}/execute", json={"code": "lose"})
    assert r.status_code == 410
    body = r.json()
    assert body["error_type"] == "SessionLost" and "SIGKILL" in body["reason"]
    again = c.post(f"/sessions/{sid}/execute", json={"code": "a = 1;"})
    assert again.status_code == 410 and again.json()["reason"] == body["reason"]
    assert 'outcome="lost"' in c.get("/metrics").text


def test_a_disconnect_stops_the_work_whether_it_came_early_or_late():
    """The disconnect watcher starts only once a run has lasted WATCH_AFTER: a client gone
    before that (or after) still has its work cancelled (ClientGone); work that ends first
    returns its value and leaves no watcher or timer behind."""
    from mlpy_server.deps import WATCH_AFTER, ClientGone, unless_disconnected

    async def scenario(disconnect_after: float, work_seconds: float):
        cancelled = asyncio.Event()

        async def receive():
            await asyncio.sleep(disconnect_after)
            return {"type": "http.disconnect"}

        async def work():
            try:
                await asyncio.sleep(work_seconds)
                return "done"
            except asyncio.CancelledError:
                cancelled.set()
                raise

        try:
            outcome = await unless_disconnected(receive, work())
        except ClientGone:
            outcome = "gone"
        await asyncio.sleep(0)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return outcome, cancelled.is_set(), others

    assert asyncio.run(scenario(0.0, 30)) == ("gone", True, [])
    assert asyncio.run(scenario(WATCH_AFTER * 4, 30)) == ("gone", True, [])
    assert asyncio.run(scenario(30, 0.0)) == ("done", False, [])
    assert asyncio.run(scenario(30, WATCH_AFTER * 2)) == ("done", False, [])
