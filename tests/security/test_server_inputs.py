"""No input gets an HTTP 500: request bodies, contexts and notebook metadata nested thousands
deep are 422; displayed values nested thousands deep or far over the cap come back bounded.
Against a started server (uvicorn in its own process, conftest.py's `plain_server`), one per
isolation mode; its log holds no traceback, internal error or forged line afterwards."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def client(plain_server):
    with plain_server.client() as c:
        yield c


def _post(client, path: str, body: str):
    return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("depth", [40, 500, 990, 5000])
def test_deep_contexts_are_422(client, depth):
    deep = "[" * depth + "]" * depth
    r = _post(client, "/execute", '{"code": "result = 1;", "context": {"x": ' + deep + "}}")
    assert r.status_code == 422, r.text
    assert "deep" in r.text


@pytest.mark.parametrize("depth", [500, 990, 5000])
def test_deep_notebook_metadata_is_422_or_run(client, depth):
    """Whatever parses and validates runs; what is too deep to read is 422, never 500."""
    deep = "[" * depth + "]" * depth
    nb = ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + deep + '}, "cells": '
          '[{"cell_type": "code", "source": "1 + 1", "metadata": {}}]}')
    r = _post(client, "/notebooks/execute", nb)
    if depth >= 5000:
        assert r.status_code == 422, r.text[:300]
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 422:
        assert "nested too deeply" in r.text


def test_deep_and_huge_displayed_values_come_back_bounded(client):
    sid = client.post("/sessions").json()["id"]
    deep = client.post(f"/sessions/{sid}/execute", json={
        "code": "a = []; b = a; for (i in range(3000)) { b.append([]); b = b[0]; }\na"})
    assert deep.status_code == 200, deep.text
    body = deep.json()
    assert body["success"] and body["display_value"] is None
    text = body["display"]["text/plain"]
    # thread mode shows the outer levels; a worker process sends a deep value as opaque
    assert (text.startswith("[[[[") and "[...]" in text) or text == "<deep array>", text
    huge = client.post(f"/sessions/{sid}/execute", json={"code": 's = "x" * 10000000;\ns'})
    assert huge.status_code == 200
    assert len(huge.content) < 2 * 1024 * 1024
    text = huge.json()["display"]["text/plain"]
    assert text.endswith("(display cut at 1048576 characters; the value is complete)")
    assert client.post(f"/sessions/{sid}/execute", json={"code": "s.length"}).json()[
        "display_value"] == 10_000_000


def test_results_and_displays_far_over_the_cap_are_refused_alike_in_both_modes(client):
    """A process worker does not send what the server would refuse (its pickle surely over
    the reply cap): the reply is the same as thread mode's, where the value is walked only
    until the cap passes. Values under the cap still arrive whole."""
    cap = 1024 * 1024
    big = client.post("/execute", json={"code": "result = [1.5] * 3000000;", "timeout": 10})
    assert big.status_code == 200
    assert big.json()["error"] == ("result is not serialisable: its JSON form is more than "
                                   f"the limit of {cap} bytes")
    assert big.json()["error_type"] == "SerialisationError"
    # floats: 9 bytes pickled, 4 as JSON ("1.5,"): under the cap as JSON, so sent
    near = client.post("/execute", json={"code": "result = [1.5] * 250000;", "timeout": 10})
    assert near.json()["success"] and len(near.json()["value"]) == 250000
    sid = client.post("/sessions").json()["id"]
    cell = client.post(f"/sessions/{sid}/execute",
                       json={"code": "a = [[0, 1]] * 2000000;\na", "timeout": 10}).json()
    assert cell["display_error"] == ("display value is not serialisable: its JSON form is more "
                                     f"than the limit of {cap} bytes")
    assert len(cell["display"]["text/plain"]) <= cap + 100
