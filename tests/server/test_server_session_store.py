"""Units of the session store and admission: a session's line of waiting cells is capped and
timed, ended sessions answer their waiters, eviction and quotas spare busy sessions, and a
waiter that gave up leaves the queue."""

from __future__ import annotations

import asyncio

import pytest

from mlpy_server.admission import Admission, QueueFull
from mlpy_server.session_store import SessionGone, SessionLimit, SessionStore


class Closable:
    def __init__(self):
        self.closed = False
        self.lost = None

    def close(self):
        self.closed = True


def store(**kw) -> SessionStore:
    kw.setdefault("ttl", 60.0)
    kw.setdefault("cap", 10)
    return SessionStore(Closable, **kw)


def test_a_sessions_waiting_cells_are_capped():
    async def scenario():
        s = store(max_queue=1, queue_timeout=30)
        entry = s.create(None, "ip:a")
        release = asyncio.Event()

        async def hold():
            async with s.turn(entry):
                await release.wait()

        async def wait_turn():
            async with s.turn(entry):
                return "ran"

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(wait_turn())
        await asyncio.sleep(0)
        assert entry.waiting == 1 and s.queued == 1 and s.queues() == [(entry.number, 1)]
        with pytest.raises(QueueFull, match="1 cells already wait"):
            async with s.turn(entry):
                pass
        release.set()
        await holder
        assert await waiter == "ran"
        assert s.queued == 0

    asyncio.run(scenario())


def test_a_waiting_cell_gives_up_after_the_queue_timeout():
    async def scenario():
        s = store(max_queue=4, queue_timeout=0.05)
        entry = s.create(None, "ip:a")
        async with s.turn(entry):
            with pytest.raises(QueueFull, match="did not finish within 0.05 seconds"):
                async with s.turn(entry):
                    pass
            assert entry.waiting == 0
        async with s.turn(entry):       # the lock was not leaked by the timed-out waiter
            pass

    asyncio.run(scenario())


def test_waiters_of_a_deleted_session_are_told_it_ended():
    async def scenario():
        s = store()
        entry = s.create(None, "ip:a")

        async def wait_turn():
            async with s.turn(entry):
                return "ran"

        async with s.turn(entry):
            waiter = asyncio.create_task(wait_turn())
            await asyncio.sleep(0)
            assert s.delete(entry.id, None)
            assert entry.session.closed
        with pytest.raises(SessionGone, match="deleted"):
            await waiter
        assert s.get(entry.id, None) is None
        assert s.gone_reason(entry.id, None) is None      # deleted by its owner: 404

    asyncio.run(scenario())


def test_eviction_and_quotas_spare_busy_sessions():
    async def scenario():
        s = store(cap=3, per_key=2)
        a1 = s.create(None, "key:a")
        a2 = s.create(None, "key:a")
        async with s.turn(a1):
            a3 = s.create(None, "key:a")                    # a2 (idle) makes room
            assert "at most 2 sessions" in s.gone_reason(a2.id, None)
            async with s.turn(a3):
                with pytest.raises(SessionLimit) as quota:
                    s.create(None, "key:a")
                assert quota.value.status == 429
                b1 = s.create(None, "key:b")                 # bob's quota; the cap is reached
                async with s.turn(b1):
                    with pytest.raises(SessionLimit) as full:
                        s.create(None, "key:c")
                    assert full.value.status == 503 and full.value.retry_after >= 1
                c1 = s.create(None, "key:c")                 # b1 idle again: evicted
                assert "server keeps at most 3" in s.gone_reason(b1.id, None)
        assert {e.id for e in (a1, a3, c1)} == set(s._entries)
        assert s.counts == {"created": 5, "evicted": 2}

    asyncio.run(scenario())


def test_a_lost_session_is_evicted_before_an_idle_one():
    s = store(cap=2)
    first = s.create(None, "ip:a")
    lost = s.create(None, "ip:a")
    lost.session.lost = "the worker process running the program was killed (SIGKILL)"
    assert lost.status() == ("lost", lost.session.lost)
    s.create(None, "ip:a")
    assert s.get(first.id, None) is first
    assert s.gone_reason(lost.id, None) is not None


def test_a_waiter_that_timed_out_leaves_the_admission_queue():
    """No false "queue is full": a waiter that gave up no longer counts against the line."""
    async def scenario():
        admission = Admission(slots=1, max_queue=1, queue_timeout=0.02)
        await admission.acquire()                            # the only slot, held
        with pytest.raises(QueueFull, match="no worker became free"):
            await admission.acquire()
        assert admission.waiting == 0
        second = asyncio.create_task(admission.acquire())    # may queue again
        await asyncio.sleep(0)
        assert admission.waiting == 1
        admission.release()
        assert await second >= 0.0

    asyncio.run(scenario())


def test_an_unwritable_default_store_falls_back_to_memory_and_says_so(tmp_path, monkeypatch,
                                                                      caplog):
    from mlpy_server.shared_sessions import SQLiteSessions, open_store

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("MLPY_DATA_DIR", str(blocker))
    with caplog.at_level("WARNING", logger="mlpy.server"):
        assert open_store("", 60) is None
    assert "sessions are NOT durable" in caplog.text
    with pytest.raises(OSError):                  # configured explicitly: a start-up error
        open_store(f"sqlite://{blocker}/sessions.db", 60)
    monkeypatch.setenv("MLPY_DATA_DIR", str(tmp_path / "data"))
    store = open_store("", 60)
    assert isinstance(store, SQLiteSessions) and store.path == tmp_path / "data" / "sessions.db"
    asyncio.run(store.close())
