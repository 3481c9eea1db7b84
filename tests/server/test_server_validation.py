"""Request validation that says what it does (issue 14), against a real server: unknown
fields, reserved or private context names and blank code are 422 with the rule broken; replies
are valid UTF-8 whatever the strings hold; the OpenAPI schema states the same rules."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture(scope="module")
def client(live_server):
    with live_server.client() as c:
        yield c


def detail(reply) -> str:
    assert reply.status_code == 422, reply.text
    return " ".join(item["msg"] for item in reply.json()["detail"])


def test_unknown_fields_are_refused_not_ignored(client):
    reply = client.post("/execute", json={"code": "result = 1;", "timout": 30})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "timout"]
    sid = client.post("/sessions").json()["id"]
    reply = client.post(f"/sessions/{sid}/execute", json={"code": "1", "contexts": {}})
    assert reply.status_code == 422 and reply.json()["detail"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("name, rule", [("if", "reserved word"), ("true", "reserved word"),
                                        ("_secret", "may not start with '_'"),
                                        ("2x", "not an ML identifier")])
def test_context_names_follow_the_language(client, name, rule):
    reply = client.post("/execute", json={"code": "result = 1;", "context": {name: 1}})
    assert rule in detail(reply)


def test_names_that_merely_start_like_a_keyword_are_fine(client):
    reply = client.post("/execute", json={"code": "result = iffy + truest;",
                                          "context": {"iffy": 1, "truest": 2}})
    assert reply.json()["value"] == 3


def test_blank_code_is_refused(client):
    assert "code is blank" in detail(client.post("/execute", json={"code": " \n\t"}))


def test_replies_are_valid_utf8_with_lone_surrogates(client):
    for body in ({"code": "result = chr(55296);"},
                 {"code": "result = s + \"!\";", "context": {"s": "a\ud800"}}):
        reply = client.post("/execute", content=json.dumps(body), headers={
            "content-type": "application/json"})
        text = reply.content.decode("utf-8")          # raises on invalid UTF-8
        assert "\\ud800" in text
        assert json.loads(text)["value"].startswith(("\ud800", "a\ud800"))


def test_the_schema_states_the_rules(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("ExecuteRequest", "SessionExecuteRequest"):
        schema = schemas[model]
        assert schema["additionalProperties"] is False
        assert schema["properties"]["code"]["pattern"] == r"\S"
        names = schema["properties"]["context"]["anyOf"][0]["propertyNames"]["pattern"]
        assert re.match(names, "iffy") and not re.match(names, "if")
        assert not re.match(names, "_x") and not re.match(names, "2x")


def test_unsupported_methods_are_405_with_allow(client):
    reply = client.put("/execute", json={"code": "result = 1;"})
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"


def test_calculate_results_json_cannot_carry_are_a_clear_400(client):
    reply = client.get("/calculate", params={"operation": "multiply", "a": 1e308, "b": 10})
    assert reply.status_code == 400
    assert reply.json()["detail"] == ("multiply(1e+308, 10) is inf (it overflowed): a JSON "
                                      "reply cannot carry a number that is not finite")
    big = client.get("/calculate", params={"operation": "power", "a": 10, "b": 400})
    assert big.status_code == 200 and big.json()["result"] == 10 ** 400


def _notebook(*sources: str) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "source": s} for s in sources]}


def test_a_notebook_with_a_failed_cell_says_error_even_with_allow_errors(client):
    reply = client.post("/notebooks/execute", params={"allow_errors": "true"},
                        json=_notebook("a = 1;", "1 / 0", "a + 1", "nope"))
    assert reply.status_code == 200
    assert reply.headers["x-notebook-status"] == "error"
    assert reply.headers["x-notebook-failed-cells"] == "1,3"
    assert reply.headers["x-notebook-failed-cell"] == "1"
    outputs = [c["outputs"] for c in reply.json()["cells"]]
    assert outputs[2][0]["data"]["text/plain"] == "2"           # it went on after the error


def test_a_notebook_run_has_an_overall_time_bound(start_server):
    server = start_server(env={"MLPY_MAX_NOTEBOOK_SECONDS": "1.5", "MLPY_ISOLATION": "thread"})
    spin = "i = 0; while (true) { i = i + 1; }"
    with server.client() as c:
        reply = c.post("/notebooks/execute", params={"allow_errors": "true", "timeout": 30},
                       json=_notebook("x = 1;", spin, spin, "x"))
    assert reply.status_code == 200
    assert reply.headers["x-notebook-status"] == "error"
    assert "time limit of 1.5 seconds" in reply.headers["x-notebook-stopped"]
    cells = reply.json()["cells"]
    assert cells[1]["outputs"][0]["ename"] == "TimeoutError"   # cut to what was left
    assert cells[3]["execution_count"] is None                 # never run


def test_unknown_or_repeated_query_parameters_are_refused(client):
    assert "unknown query parameter" in detail(client.get("/calculate", params={
        "operation": "add", "a": 1, "b": 2, "c": 3}))
    assert "given more than once" in detail(client.get(
        "/calculate?operation=add&a=1&a=2&b=3"))
    assert "unknown query parameter" in detail(client.post(
        "/notebooks/execute", params={"timout": 3}, json=_notebook("1")))


def test_the_openapi_document_declares_the_key_and_the_headers(start_server):
    server = start_server(env={"MLPY_API_KEYS": "k1", "MLPY_ISOLATION": "thread"})
    with server.client() as c:
        doc = c.get("/openapi.json").json()
        assert c.put("/sessions", headers={"X-API-Key": "k1"}).headers["allow"] == "GET, HEAD, POST"
        refused = c.get("/sessions/x", headers={"X-API-Key": "k1", "Host": "evil.example"})
    # the gateway checks Host before any route: every operation says it may answer 400
    assert refused.status_code == 400 and "MLPY_ALLOWED_HOSTS" in refused.json()["detail"]
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert all("MLPY_ALLOWED_HOSTS" in op["responses"]["400"]["description"]
               for op in operations)
    scheme = doc["components"]["securitySchemes"]["APIKeyHeader"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-API-Key"}
    execute = doc["paths"]["/execute"]["post"]
    assert execute["security"] == [{"APIKeyHeader": []}] and "401" in execute["responses"]
    assert "security" not in doc["paths"]["/health"]["get"]
    assert "Retry-After" in execute["responses"]["503"]["headers"]
    assert all("X-Request-ID" in r["headers"] for r in execute["responses"].values())
    notebook = doc["paths"]["/notebooks/execute"]["post"]["responses"]["200"]["headers"]
    assert {"X-Notebook-Status", "X-Notebook-Failed-Cells", "X-Notebook-Stopped"} <= set(notebook)


def test_notebook_shapes_nbformat_fails_on_are_a_422(client):
    # nbformat's validator raises a TypeError on these while wording its message (found by
    # schemathesis): the server answers 422 naming the field, never 500
    cell = {"cell_type": {}, "source": "1", "metadata": {}}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    reply = client.post("/notebooks/execute", json=nb)
    assert "must be a string" in detail(reply)
    assert reply.json()["detail"][0]["loc"] == ["body", "cells", 0, "cell_type"]
    cell.update(cell_type="code", outputs=[{"output_type": [1]}])
    reply = client.post("/notebooks/execute", json=nb)
    assert reply.json()["detail"][0]["loc"] == ["body", "cells", 0, "outputs", 0, "output_type"]
    nb["cells"] = [[None, None]]
    assert "must be an object" in detail(client.post("/notebooks/execute", json=nb))
    nb["cells"] = "AAA"
    assert "must be an array" in detail(client.post("/notebooks/execute", json=nb))
    nb.update(cells=[], nbformat_minor="5")
    assert "must be an integer" in detail(client.post("/notebooks/execute", json=nb))
    nb.update(nbformat_minor=-1)
    assert "at least 0" in detail(client.post("/notebooks/execute", json=nb))


def test_a_notebook_minor_version_newer_than_nbformat_knows_is_a_422(client):
    # nbformat checks a newer minor version only loosely: cells of any shape passed and ran
    # (found by schemathesis); the schema says the range too
    from nbformat.v4 import nbformat_minor as newest

    cells = [{"cell_type": "weird", "source": {}, "metadata": {}}]
    nb = {"nbformat": 4, "nbformat_minor": newest + 1, "metadata": {}, "cells": cells}
    reply = client.post("/notebooks/execute?allow_errors=true", json=nb)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "nbformat_minor"]
    assert f"at most {newest}" in detail(reply)
    nb["nbformat_minor"] = newest
    assert client.post("/notebooks/execute?allow_errors=true", json=nb).status_code == 422
    nb["cells"] = [{"cell_type": "code", "source": "result = 1;", "metadata": {}}]
    assert client.post("/notebooks/execute", json=nb).status_code == 200
    body = client.get("/openapi.json").json()["paths"]["/notebooks/execute"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["nbformat_minor"]["maximum"] == newest


def test_the_schema_carries_the_configured_limits(start_server):
    # the OpenAPI document says what this server accepts: a timeout up to MLPY_MAX_TIMEOUT
    # (and the 5 s default cut to it), code up to MLPY_MAX_CODE_LENGTH characters
    server = start_server(env={"MLPY_MAX_TIMEOUT": "2", "MLPY_MAX_CODE_LENGTH": "50"})
    with server.client() as c:
        spec = c.get("/openapi.json").json()
        body = spec["components"]["schemas"]["ExecuteRequest"]["properties"]
        assert body["timeout"]["maximum"] == 2 and body["timeout"]["default"] == 2
        assert body["code"]["maxLength"] == 50
        examples = spec["paths"]["/execute"]["post"]["requestBody"]["content"][
            "application/json"]["examples"]
        assert all(e["value"].get("timeout", 0) <= 2 for e in examples.values())
        # the default timeout runs (cut to 2 s); asking for more is refused
        assert c.post("/execute", json={"code": "result = 1;"}).json()["success"] is True
        assert c.post("/notebooks/execute", json={"nbformat": 4, "nbformat_minor": 5,
                                                  "cells": []}).status_code == 200
        assert "at most 2 seconds" in detail(c.post("/execute", json={"code": "result = 1;",
                                                                     "timeout": 3}))


def test_a_session_cell_takes_context_like_execute(client):
    # issue 14: a session cell's `context` was once silently dropped
    sid = client.post("/sessions").json()["id"]
    try:
        reply = client.post(f"/sessions/{sid}/execute",
                            json={"code": "total = x + y;\ntotal", "context": {"x": 2, "y": 40}})
        assert reply.json()["display_value"] == 42, reply.text
        # the context's names stay bound in the session like any other variable
        assert client.post(f"/sessions/{sid}/execute",
                           json={"code": "total + x"}).json()["display_value"] == 44
        assert "reserved word" in detail(client.post(f"/sessions/{sid}/execute", json={
            "code": "1", "context": {"if": 1}}))
    finally:
        client.delete(f"/sessions/{sid}")
