"""`POST /execute` on its short path (execute.LeanExecute, issue 15) answers byte for byte as
FastAPI's route does — successes, every kind of bad request, refusals of the gateway and of
admission — and really is taken for plain requests."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient

from conftest import FakeExecutor
from mlpy_server.factory import create_app
from mlpy_server.routers.execute import LeanExecute
from mlpy_server.settings import Settings

JSON = {"content-type": "application/json"}

BODIES = [
    '{"code": "result = 2 + 2;"}',
    '{"code": "result = x + y;", "timeout": 5, "context": {"x": 10, "y": 20}}',
    '{"code": "fail"}',
    '{"code": "sleep 5", "timeout": 0.05}',
    '{"code": "print hi"}',
    '{"code": "result = 1;", "code": "result = 2 + 2;"}',           # the last one counts
    '{"code": "result = x + y;", "context": {"x": 1e308, "y": 123456789012345678901234567890}}',
    '{"code": "result = x + y;", "context": {"x": "a\\ud800", "y": "b"}}',
    '{"code": ""}', '{"timeout": 5}', '{"code": "result = 1;", "timeout": NaN}',
    '{"code": "result = 1;", "timeout": 1e400}', '{"code": "result = 1;", "timeout": true}',
    '{"code": "result = 1;", "timmeout": 1}', '{"code": "result = 1;", "context": {"if": 1}}',
    '{"code": "result = 1;", "context": {"x": NaN}}', '[1]', '"code"', 'not json', '',
    '{"code": "result = 1;"', '[' * 5000 + ']' * 5000,
    '{"code": "' + "x" * 200 + '"}',                                  # over max_code_length
    '{"code": "result = 1;", "context": {"x": "' + "y" * 3000 + '"}}',  # over context bytes
]


def _clients(**settings):
    for lean in (True, False):
        app = create_app(Settings(session_store="memory", max_code_length=100,
                                  max_context_bytes=2000, **settings),
                         executor_factory=lambda s: FakeExecutor(), lean=lean)
        yield TestClient(app, base_url="http://localhost")


def _answer(reply) -> tuple:
    headers = [(k, v) for k, v in reply.headers.multi_items() if k != "x-request-id"]
    return reply.status_code, headers, reply.content


@pytest.mark.parametrize("body", BODIES)
def test_the_short_path_answers_as_the_route_does(body):
    answers = []
    for client in _clients():
        with client:
            answers.append(_answer(client.post("/execute", content=body.encode("utf-8",
                                                                                "surrogatepass"),
                                               headers=JSON)))
    lean, routed = answers
    assert lean == routed
    json.loads(lean[2].decode("utf-8"))          # valid UTF-8 JSON either way


@pytest.mark.parametrize("headers, settings, status", [
    ({}, {"api_keys": ["k"]}, 401),
    ({"x-api-key": "k"}, {"api_keys": ["k"]}, 200),
    ({"content-type": "text/plain"}, {}, 415),
    ({"host": "evil.example"}, {}, 400),
    ({}, {"max_body_bytes": 1024}, 413),
])
def test_the_gateway_still_guards_the_short_path(headers, settings, status):
    answers = []
    body = b'{"code": "result = 1;"' + b" " * 2000 + b"}"
    for client in _clients(**settings):
        with client:
            answers.append(_answer(client.post("/execute", content=body,
                                               headers={**JSON, **headers})))
    assert answers[0] == answers[1] and answers[0][0] == status


def test_admission_refusals_are_the_same():
    for lean in (True, False):
        fake = FakeExecutor(max_workers=1)
        app = create_app(Settings(session_store="memory", max_queue=0,
                                  max_concurrent_per_client=1),
                         executor_factory=lambda s, fake=fake: fake, lean=lean)
        with TestClient(app, base_url="http://localhost") as client:
            slow = threading.Thread(target=client.post, args=("/execute",),
                                    kwargs={"json": {"code": "sleep 0.5"}})
            slow.start()
            while not fake.calls:
                pass
            reply = client.post("/execute", json={"code": "result = 2 + 2;"})
            slow.join()
        assert reply.status_code == 429 and "retry-after" in reply.headers
        assert "MLPY_MAX_CONCURRENT_PER_CLIENT" in reply.json()["detail"]


def test_plain_requests_take_the_short_path_and_are_counted(monkeypatch):
    taken = []
    original = LeanExecute._body

    def spy(messages, state):
        body = original(messages, state)
        taken.append(body is not None)
        return body

    monkeypatch.setattr(LeanExecute, "_body", staticmethod(spy))
    client = next(_clients())
    with client:
        assert client.post("/execute", json={"code": "result = 2 + 2;"}).json()["value"] == 4
        assert client.post("/execute", json={"code": ""}).status_code == 422
        metrics = client.get("/metrics").text
    assert taken == [True, False]
    assert 'mlpy_http_requests_total{method="POST",route="/execute",status="200"} 1' in metrics
    assert 'mlpy_http_requests_total{method="POST",route="/execute",status="422"} 1' in metrics
