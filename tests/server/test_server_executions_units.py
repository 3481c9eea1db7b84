"""Asynchronous executions over the scripted fake executor (TestClient): cancelling reaches
the executor's run, retention follows the app's clock, an ended run keeps its result."""

from __future__ import annotations

import asyncio
import time

from tests.server.conftest import FakeExecutor


class Recording(FakeExecutor):
    """Notes whether a run was cancelled (what stops a real executor's program)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.cancelled = 0

    async def execute(self, code, timeout=None, context=None, **kw):
        try:
            return await super().execute(code, timeout, context, **kw)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def wait(c, url, until):
    for _ in range(400):
        body = c.get(url).json()
        if body["status"] in until:
            return body
        time.sleep(0.025)
    raise AssertionError(body)


def test_delete_cancels_the_executors_run(make_client):
    fake = Recording()
    c = make_client(executor=fake)
    url = c.post("/executions", json={"code": "sleep 20", "timeout": 30}).headers["location"]
    wait(c, url, {"running"})
    assert c.delete(url).json()["status"] == "cancelled"
    assert fake.cancelled == 1


def test_retention_follows_the_clock(make_client):
    now = [1000.0]
    c = make_client(clock=lambda: now[0], execution_retention_seconds=60)
    url = c.post("/executions", json={"code": "result = 2 + 2;"}).headers["location"]
    assert wait(c, url, {"done"})["result"]["value"] == 4
    now[0] += 59
    assert c.get(url).status_code == 200
    now[0] += 2
    r = c.get(url)
    assert r.status_code == 410 and "expired" in r.json()["detail"]


def test_bytes_bound_drops_the_oldest(make_client):
    c = make_client(max_execution_bytes=1024)
    first = c.post("/executions", json={"code": "print " + "x" * 600}).headers["location"]
    wait(c, first, {"done"})
    second = c.post("/executions", json={"code": "print " + "y" * 600}).headers["location"]
    wait(c, second, {"done"})
    r = c.get(first)
    assert r.status_code == 410 and "MLPY_MAX_EXECUTION_BYTES" in r.json()["detail"]
    assert c.get(second).status_code == 200


def test_shutdown_ends_live_executions(make_client):
    fake = Recording()
    c = make_client(executor=fake)
    c.post("/executions", json={"code": "sleep 20", "timeout": 30})
    state = c.app.state.ml
    c.__exit__(None, None, None)        # the lifespan ends: the run is stopped
    assert state.executions.live == 0 and fake.cancelled == 1


def test_listing_without_keys_is_per_client_address():
    """Without API keys every record's owner is None: the listing goes by client address."""
    from mlpy_server.executions import Executions

    async def scenario():
        store = Executions(retention=60, max_kept=10, max_bytes=1 << 20)

        async def run(record):
            store.finish(record, "done", result=b"{}", success=True)

        mine = store.start(None, run, "ip:10.0.0.1")
        theirs = store.start(None, run, "ip:10.0.0.2")
        await asyncio.sleep(0)
        return store, mine, theirs

    store, mine, theirs = asyncio.run(scenario())
    assert store.listing(None, "ip:10.0.0.1") == [mine]
    assert store.listing(None, "ip:10.0.0.2") == [theirs]
    assert store.listing("some-key", "ip:10.0.0.1") == []
    assert mine.summary(60)["success"] is True and "result" not in mine.summary(60)
