"""Server-Sent Events for /execute and /sessions/{id}/execute, and session cells with
`context`: over the fake executor (TestClient) and a real server (httpx streaming)."""

from __future__ import annotations

import json

import httpx

SSE = {"Accept": "text/event-stream"}


def events(text: str) -> list[tuple[str, object]]:
    """(event, data) pairs of an SSE body; comments (pings) left out."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
        name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), "message")
        data = "\n".join(ln[5:].lstrip() for ln in lines if ln.startswith("data:"))
        if lines:
            out.append((name, json.loads(data)))
    return out


def test_execute_streams_output_then_result(make_client):
    r = make_client().post("/execute", json={"code": "print hello"}, headers=SSE)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    got = events(r.text)
    assert got[0] == ("stdout", {"text": "hello\n"})
    name, body = got[-1]
    assert name == "result" and body["success"] is True and body["stdout"] == "hello\n"


def test_execute_without_accept_is_json(make_client):
    r = make_client().post("/execute", json={"code": "print hello"})
    assert r.headers["content-type"].startswith("application/json")


def test_streamed_error_results_and_validation(make_client):
    c = make_client()
    name, body = events(c.post("/execute", json={"code": "fail"}, headers=SSE).text)[-1]
    assert name == "result" and body["error_type"] == "NameError"
    # validation happens before the stream starts: a plain 422
    assert c.post("/execute", json={"code": " "}, headers=SSE).status_code == 422


def test_streamed_execution_is_counted(make_client):
    c = make_client()
    c.post("/execute", json={"code": "print x"}, headers=SSE)
    metrics = c.get("/metrics").text
    assert 'mlpy_executions_total{endpoint="execute",outcome="success"} 1' in metrics


def test_session_streams_display_and_result(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    c.post(f"/sessions/{sid}/execute", json={"code": "a = 40;"})
    got = events(c.post(f"/sessions/{sid}/execute", json={"code": "a + 2"}, headers=SSE).text)
    names = [n for n, _ in got]
    assert names[-2:] == ["display", "result"]
    assert got[-1][1]["display_value"] == 42 and got[-1][1]["execution_count"] == 2


def test_streamed_lost_session_is_an_error_event(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    name, body = events(c.post(f"/sessions/{sid}/execute", json={"code": "lose"},
                               headers=SSE).text)[-1]
    assert name == "error" and body["status"] == 410 and body["error_type"] == "SessionLost"
    assert c.post(f"/sessions/{sid}/execute", json={"code": "a"}).status_code == 410


def test_session_cell_context(make_client):
    c = make_client()
    sid = c.post("/sessions").json()["id"]
    body = c.post(f"/sessions/{sid}/execute", json={"code": "n + 1", "context": {"n": 41}}).json()
    assert body["display_value"] == 42
    # the names stay bound for later cells
    assert c.post(f"/sessions/{sid}/execute", json={"code": "n"}).json()["display_value"] == 41
    bad = c.post(f"/sessions/{sid}/execute", json={"code": "n", "context": {"1x": 1}})
    assert bad.status_code == 422


def test_real_server_streams_output_before_the_result(live_server):
    """The stdout event of a program that then runs into its time-out arrives first."""
    code = 'print("first");\nwhile (true) {}'
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        with c.stream("POST", "/execute", json={"code": code, "timeout": 1.0},
                      headers=SSE) as r:
            assert r.status_code == 200
            text = "".join(r.iter_text())
    got = events(text)
    assert got[0] == ("stdout", {"text": "first\n"})
    name, body = got[-1]
    assert name == "result" and body["error_type"] == "TimeoutError"

    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        sid = c.post("/sessions").json()["id"]
        with c.stream("POST", f"/sessions/{sid}/execute", headers=SSE,
                      json={"code": 'print(k);\nk * 2', "context": {"k": 21}}) as r:
            got = events("".join(r.iter_text()))
    assert got[0] == ("stdout", {"text": "21\n"})
    assert got[-1][0] == "result" and got[-1][1]["display_value"] == 42


def test_real_server_streams_display_module_messages(live_server):
    code = ('import display;\nprint("a");\nh = display.show("0%");\n'
            'display.update(h, "100%");\nprint("b");')
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        with c.stream("POST", "/execute", json={"code": code}, headers=SSE) as r:
            got = events("".join(r.iter_text()))
    names = [n for n, _ in got]
    assert names == ["stdout", "display_data", "display_data", "stdout", "result"], got
    shown, updated = got[1][1], got[2][1]
    assert isinstance(shown, dict) and isinstance(updated, dict)
    assert shown["op"] == "display" and updated["op"] == "update"
    assert shown["id"] == updated["id"] and updated["data"] == {"text/plain": "100%"}
    assert got[-1][1]["stdout"] == "a\nb\n"
