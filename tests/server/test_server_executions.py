"""Asynchronous executions (POST /executions, GET and DELETE /executions/{id}) against real
servers over HTTP: 202 + Location, polling to the /execute result, cancelling a running
program, 404 and 410, API keys, the per-client share, the rate limit and retention."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server.conftest import module_server

K1, K2 = "exec-key-one", "exec-key-two"
FINISHED = {"done", "cancelled", "failed"}
LOOP = {"code": "while (true) { }", "timeout": 30}


def poll(c: httpx.Client, url: str, until: set[str], headers: dict | None = None,
         tries: int = 600) -> dict:
    """GET `url` until its status is one of `until` (bounded: tries x 50 ms)."""
    for _ in range(tries):
        r = c.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in until:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{url} never reached {until}: {body}")


def gone(c: httpx.Client, url: str, headers: dict | None = None, tries: int = 600) -> dict:
    """GET `url` until it answers 410 (bounded)."""
    for _ in range(tries):
        r = c.get(url, headers=headers)
        if r.status_code == 410:
            return r.json()
        assert r.status_code == 200, r.text
        time.sleep(0.05)
    raise AssertionError(f"{url} was never dropped")


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """One worker, two API keys, one execution per key at a time, two finished kept."""
    server = module_server(tmp_path_factory, "executions", {
        "MLPY_MAX_WORKERS": "1", "MLPY_API_KEYS": f"{K1},{K2}",
        "MLPY_MAX_CONCURRENT_PER_CLIENT": "1", "MLPY_MAX_EXECUTIONS": "2",
        "MLPY_QUEUE_TIMEOUT": "1"})
    yield server
    server.stop()


A, B = {"X-API-Key": K1}, {"X-API-Key": K2}


def test_accepted_then_done_with_the_execute_result(keyed):
    body = {"code": 'print("hi");\nresult = x * y;', "context": {"x": 6, "y": 7}}
    with keyed.client() as c:
        r = c.post("/executions", json=body, headers=A)
        assert r.status_code == 202, r.text
        accepted = r.json()
        assert r.headers["location"] == f"/executions/{accepted['id']}"
        assert accepted["status"] in ("queued", "running") and accepted["result"] is None
        done = poll(c, r.headers["location"], FINISHED, A)
        assert done["status"] == "done" and done["error"] is None
        assert done["finished_at"] >= done["started_at"] >= done["created_at"]
        assert done["expires_at"] > done["finished_at"]
        direct = c.post("/execute", json=body, headers=A).json()
        times = ("execution_time", "transpile_time")
        assert ({k: v for k, v in done["result"].items() if k not in times}
                == {k: v for k, v in direct.items() if k not in times})
        assert done["result"]["value"] == 42 and done["result"]["stdout"] == "hi\n"
        # an ML error is a result too: done, success false
        r = c.post("/executions", json={"code": "result = nope;"}, headers=A)
        failed_code = poll(c, r.headers["location"], FINISHED, A)
        assert failed_code["status"] == "done"
        assert failed_code["result"]["success"] is False
        assert failed_code["result"]["error_type"] == "NameError"


def test_delete_stops_a_running_program(keyed):
    with keyed.client() as c:
        url = c.post("/executions", json=LOOP, headers=A).headers["location"]
        poll(c, url, {"running"}, A)
        r = c.delete(url, headers=A)
        assert r.status_code == 200
        final = r.json()
        assert final["status"] == "cancelled" and final["result"] is None
        assert "cancelled" in final["error"]
        assert c.get(url, headers=A).json()["status"] == "cancelled"
        # the one worker is free again: the key's share is back and code runs
        assert c.get("/ready").status_code == 200
        assert c.post("/execute", json={"code": "result = 2 + 2;"}, headers=A).json()["value"] == 4
        # deleting a finished execution changes nothing
        assert c.delete(url, headers=A).json()["status"] == "cancelled"
        metrics = c.get("/metrics", headers=A).text
        assert 'mlpy_executions_total{endpoint="async",outcome="cancelled"}' in metrics


def test_queued_then_failed_when_no_worker_frees(keyed):
    """Key A holds the only worker; key B's execution waits, then fails after
    MLPY_QUEUE_TIMEOUT (1 s) with the 503 /execute would give."""
    with keyed.client() as c:
        running = c.post("/executions", json=LOOP, headers=A).headers["location"]
        poll(c, running, {"running"}, A)
        r = c.post("/executions", json={"code": "result = 1;"}, headers=B)
        assert r.status_code == 202 and r.json()["status"] == "queued"
        failed = poll(c, r.headers["location"], FINISHED, B)
        assert failed["status"] == "failed" and failed["started_at"] is None
        assert "no worker became free" in failed["error"] and "503" in failed["error"]
        assert c.delete(running, headers=A).json()["status"] == "cancelled"


def test_per_client_share_is_a_429_at_once(keyed):
    with keyed.client() as c:
        running = c.post("/executions", json=LOOP, headers=A).headers["location"]
        r = c.post("/executions", json={"code": "result = 1;"}, headers=A)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "MLPY_MAX_CONCURRENT_PER_CLIENT" in r.json()["detail"]
        r = c.post("/execute", json={"code": "result = 1;"}, headers=A)
        assert r.status_code == 429            # async runs count in the same share
        c.delete(running, headers=A)
        assert c.post("/executions", json={"code": "result = 1;"}, headers=A).status_code == 202


def test_api_keys_own_executions(keyed):
    with keyed.client() as c:
        assert c.post("/executions", json={"code": "result = 1;"}).status_code == 401
        url = c.post("/executions", json={"code": "result = 1;"}, headers=A).headers["location"]
        assert c.get(url).status_code == 401
        assert c.get(url, headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.get(url, headers=B).status_code == 404       # another key's: not found
        assert c.delete(url, headers=B).status_code == 404
        assert poll(c, url, FINISHED, A)["status"] == "done"


def test_unknown_ids_and_bad_requests(keyed):
    with keyed.client() as c:
        for method in ("GET", "DELETE"):
            r = c.request(method, "/executions/no-such-id", headers=A)
            assert r.status_code == 404 and "not found" in r.json()["detail"]
        assert c.post("/executions", json={"code": "result = 1;", "timout": 30},
                      headers=A).status_code == 422
        assert c.post("/executions", content=b'{"code": "result = 1;"}',
                      headers={**A, "Content-Type": "text/plain"}).status_code == 415
        r = c.put("/executions", headers=A)
        assert r.status_code == 405 and {"GET", "POST"} <= set(r.headers["allow"].split(", "))


def test_get_executions_lists_the_keys_own(keyed):
    """GET /executions: the key's executions, queued/running and finished, oldest first,
    without results but with the result's success; another key's are not listed."""
    with keyed.client() as c:
        ok = c.post("/executions", json={"code": "result = 1;"}, headers=A).headers["location"]
        poll(c, ok, FINISHED, A)
        bad = c.post("/executions", json={"code": "result = nope;"},
                     headers=A).headers["location"]
        poll(c, bad, FINISHED, A)
        running = c.post("/executions", json=LOOP, headers=A).headers["location"]
        poll(c, running, {"running"}, A)
        r = c.get("/executions", headers=A)
        assert r.status_code == 200
        listed = r.json()["executions"]
        ids = [url.rsplit("/", 1)[1] for url in (ok, bad, running)]
        assert [e["id"] for e in listed] == ids      # MLPY_MAX_EXECUTIONS=2 finished kept
        assert [e["status"] for e in listed] == ["done", "done", "running"]
        assert [e["success"] for e in listed] == [True, False, None]
        assert all("result" not in e for e in listed)
        assert [e["created_at"] for e in listed] == sorted(e["created_at"] for e in listed)
        others = c.get("/executions", headers=B).json()["executions"]
        assert not {e["id"] for e in others} & set(ids)
        assert c.get("/executions").status_code == 401
        c.delete(running, headers=A)
        assert c.get("/executions", headers=A).json()["executions"][-1]["status"] == "cancelled"


def test_oldest_finished_are_evicted_past_the_count(keyed):
    """MLPY_MAX_EXECUTIONS=2: a third finished execution drops the first (410, saying why)."""
    with keyed.client() as c:
        urls = []
        for n in range(3):
            url = c.post("/executions", json={"code": f"result = {n};"},
                         headers=A).headers["location"]
            assert poll(c, url, FINISHED, A)["result"]["value"] == n
            urls.append(url)
        r = c.get(urls[0], headers=A)
        assert r.status_code == 410
        assert "evicted" in r.json()["detail"] and "MLPY_MAX_EXECUTIONS" in r.json()["detail"]
        assert c.get(urls[0], headers=B).status_code == 404   # not B's to know of
        assert c.get(urls[2], headers=A).json()["result"]["value"] == 2


def test_finished_results_expire(start_server):
    server = start_server(env={"MLPY_EXECUTION_RETENTION_SECONDS": "0.5",
                               "MLPY_ISOLATION": "thread"})
    with server.client() as c:
        url = c.post("/executions", json={"code": "result = 1;"}).headers["location"]
        detail = gone(c, url)["detail"]
        assert "expired" in detail and "MLPY_EXECUTION_RETENTION_SECONDS" in detail
        assert c.delete(url).status_code == 410


def test_rate_limit_counts_executions(start_server):
    server = start_server(env={"MLPY_RATE_LIMIT_PER_MINUTE": "2", "MLPY_ISOLATION": "thread"})
    with server.client() as c:
        replies = [c.post("/executions", json={"code": "result = 1;"}) for _ in range(3)]
        assert [r.status_code for r in replies] == [202, 202, 429]
        assert "retry-after" in replies[2].headers


def test_openapi_describes_executions(keyed):
    with keyed.client() as c:
        doc = c.get("/openapi.json").json()
    post = doc["paths"]["/executions"]["post"]
    assert "Location" in post["responses"]["202"]["headers"]
    assert post["security"] == [{"APIKeyHeader": []}]
    assert {"401", "415", "422", "429", "503"} <= set(post["responses"])
    listing = doc["paths"]["/executions"]["get"]
    assert listing["security"] == [{"APIKeyHeader": []}] and "401" in listing["responses"]
    assert "ExecutionList" in str(listing["responses"]["200"])
    item = doc["paths"]["/executions/{execution_id}"]
    assert set(item) >= {"get", "delete"}
    for op in (item["get"], item["delete"]):
        assert {"401", "404", "410"} <= set(op["responses"])
    status = doc["components"]["schemas"]["ExecutionState"]["properties"]["status"]
    assert set(status["enum"]) == {"queued", "running", "done", "cancelled", "failed"}


def test_kept_results_are_bounded_in_bytes(start_server):
    """MLPY_MAX_EXECUTION_BYTES: results of about 800 bytes each, 1024 bytes kept in all:
    the second finished execution drops the first (410, naming the setting)."""
    server = start_server(env={"MLPY_MAX_EXECUTION_BYTES": "1024", "MLPY_ISOLATION": "thread"})
    body = {"code": "result = s;", "context": {"s": "x" * 600}}
    with server.client() as c:
        first = c.post("/executions", json=body).headers["location"]
        assert poll(c, first, FINISHED)["result"]["value"] == "x" * 600
        second = c.post("/executions", json=body).headers["location"]
        assert poll(c, second, FINISHED)["status"] == "done"
        r = c.get(first)
        assert r.status_code == 410 and "MLPY_MAX_EXECUTION_BYTES" in r.json()["detail"]
        assert c.get(second).status_code == 200
        assert [e["id"] for e in c.get("/executions").json()["executions"]] == [
            second.rsplit("/", 1)[1]]
