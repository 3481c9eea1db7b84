"""The server's live sessions: by id and owner, least recently used first, idle ones expire.

A session is evicted only when it is idle (nothing running, nothing waiting); a tenant (an API
key, else a client address) holds at most `per_key` of them; each session has its own line of
waiting cells, capped and timed like the one-shot queue. Ended sessions are remembered so that
their ids answer 410 with the reason rather than 404.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from .admission import QueueFull, retry_after

log = logging.getLogger("mlpy.server")

MAX_REMEMBERED = 10_000     # ended sessions whose ids still answer 410 with a reason
DELETED = "deleted by its owner while this request was waiting or running"


class SessionGone(Exception):
    """A request named a session that has ended (expired, evicted, lost): 410 with why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SessionLimit(Exception):
    """No session can be created: the tenant's quota (429) or the server's cap (503) is
    reached and every session that counts against it is busy."""

    def __init__(self, message: str, status: int, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


_numbers = itertools.count(1)


@dataclass
class SessionEntry:
    id: str
    session: Any
    owner: str | None                     # the API key that may use it (None: no keys)
    tenant: str                           # what the per-key quota counts: key, else address
    number: int = field(default_factory=lambda: next(_numbers))   # names it in /metrics
    created_at: float = field(default_factory=time.time)
    last_used_at: float = field(default_factory=time.time)
    last_used_mono: float = 0.0           # on the store's clock
    execution_count: int = 0
    waiting: int = 0                      # cells queued behind the running one
    ended: str | None = None              # why it ended while requests were in flight
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def running(self) -> bool:
        return self.lock.locked()

    @property
    def busy(self) -> bool:
        """Running a cell or holding waiting ones: never evicted, never expired."""
        return self.lock.locked() or self.waiting > 0

    @property
    def lost_reason(self) -> str | None:
        """Why the session's state is gone (its process died), or None."""
        return getattr(self.session, "lost", None)

    def status(self) -> tuple[str, str | None]:
        """(idle | running | lost, why it was lost), read once: a process may die between
        two reads."""
        lost = self.lost_reason
        if lost is not None:
            return "lost", lost
        return ("running" if self.running else "idle"), None

    def touch(self, now: float) -> None:
        self.last_used_at = time.time()
        self.last_used_mono = now


class SessionStore:
    """Live sessions by id, least recently used first; idle ones expire after `ttl`."""

    def __init__(self, make: Callable[[], Any], ttl: float, cap: int,
                 clock: Callable[[], float] = time.monotonic, *, per_key: int | None = None,
                 max_queue: int = 8, queue_timeout: float = 30.0):
        self._make = make
        self._clock = clock               # injectable: tests move time instead of sleeping
        self.ttl = ttl
        self.cap = cap
        self.per_key = per_key or cap
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        self._entries: collections.OrderedDict[str, SessionEntry] = collections.OrderedDict()
        # ids of sessions that ended without their owner asking (expired, evicted, lost) ->
        # (owner, reason): they answer 410 with the reason, not 404, while remembered
        self._gone: collections.OrderedDict[str, tuple[str | None, str]] = \
            collections.OrderedDict()
        self.counts: collections.Counter[str] = collections.Counter()  # created, expired, ...

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def queued(self) -> int:
        """Cells waiting for their session's running cell, over every session."""
        return sum(entry.waiting for entry in self._entries.values())

    @property
    def running(self) -> int:
        return sum(1 for entry in self._entries.values() if entry.running)

    def queues(self) -> list[tuple[int, int]]:
        """(session number, waiting cells) of every session with a line."""
        return [(e.number, e.waiting) for e in self._entries.values() if e.waiting]

    # -- creating ----------------------------------------------------------------------------
    def create(self, owner: str | None, tenant: str) -> SessionEntry:
        """A new session, evicting the least recently used idle one past a cap.
        Raises SessionLimit when every session in the way is busy."""
        self.expire()
        mine = [e for e in self._entries.values() if e.tenant == tenant]
        if len(mine) >= self.per_key:
            victim = self._idle(mine)
            if victim is None:
                raise SessionLimit(
                    f"session quota reached: this API key (or client address) holds "
                    f"{len(mine)} sessions, the most allowed (MLPY_MAX_SESSIONS_PER_KEY), and "
                    f"all of them are busy; delete one or wait for one to finish", 429)
            self._evict(victim, f"evicted: its API key (or client address) holds at most "
                                f"{self.per_key} sessions and this one was the least "
                                f"recently used")
        if len(self._entries) >= self.cap:
            victim = self._idle(self._entries.values())
            if victim is None:
                raise SessionLimit(
                    f"server busy: it holds its maximum of {self.cap} sessions "
                    f"(MLPY_MAX_SESSIONS) and all of them are busy", 503, retry_after(5))
            self._evict(victim, f"evicted: the server keeps at most {self.cap} sessions and "
                                f"this one was the least recently used")
        entry = SessionEntry(id=secrets.token_urlsafe(16), session=self._make(), owner=owner,
                             tenant=tenant, last_used_mono=self._clock())
        self._entries[entry.id] = entry
        self.counts["created"] += 1
        return entry

    @staticmethod
    def _idle(entries: Any) -> SessionEntry | None:
        """The least recently used session that may be evicted (a lost one first)."""
        idle = [e for e in entries if not e.busy]
        lost = [e for e in idle if e.lost_reason is not None]
        return (lost or idle or [None])[0]

    def _evict(self, entry: SessionEntry, reason: str) -> None:
        log.info("session %s %s", entry.id, reason)
        self.counts["evicted"] += 1
        self._end(entry, reason)

    # -- finding -----------------------------------------------------------------------------
    def get(self, session_id: str, owner: str | None) -> SessionEntry | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return None
        now = self._clock()
        if self._expired(entry, now):
            self.counts["expired"] += 1
            self._end(entry, self._expiry_reason())
            return None
        entry.touch(now)
        self._entries.move_to_end(session_id)
        return entry

    def touch(self, entry: SessionEntry) -> None:
        """Mark `entry` used now (on this store's clock)."""
        entry.touch(self._clock())

    def gone_reason(self, session_id: str, owner: str | None) -> str | None:
        """Why a session this server remembers has ended, or None (never existed, or deleted
        by its owner)."""
        gone = self._gone.get(session_id)
        return gone[1] if gone is not None and gone[0] == owner else None

    # -- a session's line of cells ---------------------------------------------------------
    @contextlib.asynccontextmanager
    async def turn(self, entry: SessionEntry) -> AsyncIterator[None]:
        """Wait for `entry`'s earlier cells (at most `max_queue` wait, each at most
        `queue_timeout` seconds), then hold the session. Raises QueueFull, or SessionGone
        once the session has ended."""
        if entry.ended is not None:
            raise SessionGone(entry.ended)
        if not entry.busy:
            await entry.lock.acquire()          # free: taken at once, nobody waits
        else:
            if entry.waiting >= self.max_queue:
                raise QueueFull(f"session busy: {entry.waiting} cells already wait for this "
                                f"session (MLPY_MAX_SESSION_QUEUE)", retry_after(1))
            entry.waiting += 1
            try:
                await asyncio.wait_for(entry.lock.acquire(), self.queue_timeout)
            except asyncio.TimeoutError:
                raise QueueFull(f"session busy: its earlier cells did not finish within "
                                f"{self.queue_timeout:g} seconds",
                                retry_after(self.queue_timeout / 10)) from None
            finally:
                entry.waiting -= 1
        try:
            if entry.ended is not None:
                raise SessionGone(entry.ended)
            yield
        finally:
            entry.lock.release()

    # -- ending ------------------------------------------------------------------------------
    def delete(self, session_id: str, owner: str | None) -> bool:
        """End a session at its owner's request: its running cell is stopped and the
        requests still in flight on it answer 410."""
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return False
        self.counts["deleted"] += 1
        entry.ended = DELETED
        self._drop(entry)
        return True

    def expire(self) -> int:
        now = self._clock()
        dead = [e for e in self._entries.values() if self._expired(e, now)]
        for entry in dead:
            log.info("session %s expired after %.0f idle seconds", entry.id, self.ttl)
            self.counts["expired"] += 1
            self._end(entry, self._expiry_reason())
        return len(dead)

    def lose(self, entry: SessionEntry, reason: str) -> None:
        """The session's state is gone (its worker process died): forget it, keep the reason."""
        if entry.id in self._entries:
            self.counts["lost"] += 1
            self._end(entry, reason)

    def close_all(self, reason: str = "the server shut down") -> None:
        for entry in list(self._entries.values()):
            entry.ended = reason
            self._drop(entry)

    def _end(self, entry: SessionEntry, reason: str) -> None:
        """End a session its owner did not delete: its id answers 410 with `reason`."""
        entry.ended = reason
        self._gone[entry.id] = (entry.owner, reason)
        while len(self._gone) > MAX_REMEMBERED:
            self._gone.popitem(last=False)
        self._drop(entry)

    def _expiry_reason(self) -> str:
        return f"expired: unused for more than {self.ttl:g} seconds"

    def _expired(self, entry: SessionEntry, now: float) -> bool:
        return not entry.busy and now - entry.last_used_mono > self.ttl

    def _drop(self, entry: SessionEntry) -> None:
        """Forget `entry` and close its session (which stops its running cell)."""
        self._entries.pop(entry.id, None)
        try:
            entry.session.close()
        except Exception:  # pragma: no cover
            log.exception("closing session %s failed", entry.id)
