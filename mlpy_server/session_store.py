"""The server's live sessions: by id and owner, least recently used first, idle ones expire.

A session is evicted only when it is idle (nothing running, nothing waiting); a tenant (an API
key, else a client address) holds at most `per_key` of them; each session has its own line of
waiting cells, capped and timed like the one-shot queue. Ended sessions are remembered so that
their ids answer 410 with the reason rather than 404.

With a shared store (`shared_sessions`: SQLite or Redis) sessions are durable: the store is the
truth — owner, use times, quotas, the latest checkpoint — and this process's entries are a
cache of the sessions it has a worker for.  A cell takes the session's lease in the store (one
process at a time), reloads the checkpoint if another process ran a cell since, and writes the
new checkpoint after.  A worker that died, a restart or another process means a restore from
the checkpoint, announced in the reply (`restored`, `lost`), never a silent loss.
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
from .shared_sessions import LeaseBusy, SessionRecord, SharedSessions, digest

log = logging.getLogger("mlpy.server")

MAX_REMEMBERED = 10_000     # ended sessions whose ids still answer 410 with a reason
DELETED = "deleted by its owner while this request was waiting or running"


class SessionGone(Exception):
    """A request named a session that has ended (expired, evicted, lost): 410 with why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SessionUnknown(Exception):
    """No session with this id belongs to the caller (404)."""


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
    # durable sessions: the checkpoint this process's worker state matches, and its version
    checkpoint: bytes | None = None
    version: int = 0

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

    def __init__(self, make: Callable[..., Any], ttl: float, cap: int,
                 clock: Callable[[], float] = time.monotonic, *, per_key: int | None = None,
                 max_queue: int = 8, queue_timeout: float = 30.0,
                 shared: SharedSessions | None = None):
        self._make = make                 # make() / make(restore=checkpoint) -> a session
        self.shared = shared
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


    # -- durable sessions (a shared store) and the async entry points every router uses ------
    @property
    def kind(self) -> str:
        return self.shared.kind if self.shared is not None else "memory"

    async def open(self, owner: str | None, tenant: str) -> SessionEntry:
        """A new session (SessionLimit when the quota or cap is reached and all are busy)."""
        shared = self.shared
        if shared is None:
            return self.create(owner, tenant)
        owner_d, tenant_d = digest(owner), digest(tenant)
        await self._make_room(shared, await shared.sessions(tenant_d, self.ttl), 429)
        await self._make_room(shared, await shared.sessions(None, self.ttl), 503)
        entry = self._cache(SessionEntry(id=secrets.token_urlsafe(16), session=self._make(),
                                         owner=owner, tenant=tenant,
                                         last_used_mono=self._clock()))
        now = time.time()
        await shared.add(SessionRecord(entry.id, owner_d, tenant_d, now, now))
        self.counts["created"] += 1
        return entry

    async def _make_room(self, shared: SharedSessions, live: list[tuple[str, float]],
                         status: int) -> None:
        limit = self.per_key if status == 429 else self.cap
        if len(live) < limit:
            return
        for session_id, _ in live:                      # least recently used first
            local = self._entries.get(session_id)
            if (local is not None and local.busy) or await shared.leased(session_id):
                continue
            record = await shared.get(session_id)
            reason = (f"evicted: its API key (or client address) holds at most {limit} "
                      f"sessions and this one was the least recently used" if status == 429
                      else f"evicted: the server keeps at most {limit} sessions and this one "
                           f"was the least recently used")
            log.info("session %s %s", session_id, reason)
            self.counts["evicted"] += 1
            await shared.end(session_id, record.owner if record else "", reason)
            if local is not None:
                self._end(local, reason)
            return
        if status == 429:
            raise SessionLimit(
                f"session quota reached: this API key (or client address) holds {len(live)} "
                f"sessions, the most allowed (MLPY_MAX_SESSIONS_PER_KEY), and all of them are "
                f"busy; delete one or wait for one to finish", 429)
        raise SessionLimit(f"server busy: it holds its maximum of {limit} sessions "
                           f"(MLPY_MAX_SESSIONS) and all of them are busy", 503, retry_after(5))

    def _cache(self, entry: SessionEntry) -> SessionEntry:
        """Keep `entry`'s worker here; past the cap the least recently used idle worker is
        let go (its session stays in the shared store, restored when used again)."""
        while len(self._entries) >= self.cap:
            victim = self._idle(self._entries.values())
            if victim is None:
                break
            self._uncache(victim)
        self._entries[entry.id] = entry
        return entry

    def _uncache(self, entry: SessionEntry) -> None:
        self._entries.pop(entry.id, None)
        entry.session.close()

    async def find(self, session_id: str, owner: str | None) -> SessionEntry:
        """The caller's session: SessionUnknown (404) or SessionGone (410, with why)."""
        shared = self.shared
        if shared is None:
            entry = self.get(session_id, owner)
            if entry is None:
                reason = self.gone_reason(session_id, owner)
                if reason is not None:
                    raise SessionGone(reason)
                raise SessionUnknown(session_id)
            return entry
        entry = self._entries.get(session_id)
        if entry is not None and entry.owner == owner:
            entry.touch(self._clock())
            self._entries.move_to_end(session_id)
            if entry.lost_reason is not None and not entry.busy:
                self._respawn(entry, entry.checkpoint)
            return entry
        record = await self._record(shared, session_id, owner)
        raced = self._entries.get(session_id)       # another request of ours got here first
        if raced is not None and raced.owner == owner:
            return raced
        entry = self._cache(SessionEntry(
            id=session_id, session=self._make(restore=record.checkpoint or None), owner=owner,
            tenant="", last_used_mono=self._clock(), execution_count=record.execution_count,
            created_at=record.created_at, last_used_at=record.last_used_at,
            checkpoint=record.checkpoint, version=record.version))
        entry.tenant = record.tenant               # (a digest: quotas are counted in the store)
        self.counts["restored" if record.checkpoint else "attached"] += 1
        return entry

    async def _record(self, shared: SharedSessions, session_id: str,
                      owner: str | None) -> SessionRecord:
        """The session's record, unexpired and the caller's, else SessionGone/Unknown."""
        owner_d = digest(owner)
        record = await shared.get(session_id)
        if record is None or record.owner != owner_d:
            reason = await shared.gone_reason(session_id, owner_d)
            if reason is not None:
                raise SessionGone(reason)
            raise SessionUnknown(session_id)
        if record.last_used_at < time.time() - self.ttl and not await shared.leased(session_id):
            self.counts["expired"] += 1
            await shared.end(session_id, owner_d, self._expiry_reason())
            raise SessionGone(self._expiry_reason())
        return record

    def _respawn(self, entry: SessionEntry, checkpoint: bytes | None) -> None:
        """Give `entry` a new worker made from `checkpoint` (its old one died or is stale)."""
        old, entry.session = entry.session, self._make(restore=checkpoint)
        try:
            old.close()
        except Exception:  # pragma: no cover
            log.exception("closing session %s failed", entry.id)

    @contextlib.asynccontextmanager
    async def cell(self, entry: SessionEntry) -> AsyncIterator[None]:
        """Hold the session for one cell: its turn here and, when shared, its lease in the
        store, with this process's copy of its state brought up to date first."""
        async with self.turn(entry):
            shared = self.shared
            if shared is None:
                yield
                return
            try:
                async with shared.lease(entry.id, self.queue_timeout,
                                        on_interrupt=lambda: entry.session.cancel()):
                    record = await self._record(shared, entry.id, entry.owner)
                    if record.version != entry.version:          # another process ran cells
                        entry.checkpoint, entry.version = record.checkpoint, record.version
                        entry.execution_count = record.execution_count
                        self._respawn(entry, record.checkpoint or None)
                    elif entry.lost_reason is not None:          # its worker died meanwhile
                        self._respawn(entry, entry.checkpoint)
                    yield
            except LeaseBusy:
                raise QueueFull(f"session busy: another server process has run its cells for "
                                f"more than {self.queue_timeout:g} seconds",
                                retry_after(1)) from None
            except (SessionGone, SessionUnknown) as gone:
                raise self._gone_elsewhere(entry, gone) from None

    def _gone_elsewhere(self, entry: SessionEntry,
                        gone: SessionGone | SessionUnknown) -> SessionGone:
        """A cached session the store no longer has (ended or deleted through another
        process): let its worker go; what its requests answer."""
        reason = gone.reason if isinstance(gone, SessionGone) else DELETED
        self._entries.pop(entry.id, None)
        entry.ended = reason
        entry.session.close()
        return SessionGone(reason)

    async def finished(self, entry: SessionEntry, result: Any) -> str | None:
        """After a cell (still holding it): count it and, when shared, write the checkpoint
        if the state changed.  Returns why the new state could not be saved, or None.
        Without a shared store a lost worker ends the session (SessionGone)."""
        shared = self.shared
        if result.stopped_by == "lost":     # the host's event, never a thrown type name
            if shared is None:
                reason = result.error or "session lost"
                self.lose(entry, reason)
                raise SessionGone(reason)
            self.counts["worker_lost"] += 1
            self._respawn(entry, entry.checkpoint)     # restored on the next cell
            return None
        entry.execution_count += 1
        self.touch(entry)
        if shared is None:
            return None
        new = result.checkpoint
        if new is not None and new != entry.checkpoint:
            entry.checkpoint, entry.version = new, entry.version + 1
        else:
            new = None
        try:
            await shared.save(entry.id, new, entry.version, entry.execution_count, time.time())
        except Exception as err:
            log.warning("session %s: saving its checkpoint failed: %s", entry.id, err)
            return f"the session's state after this cell could not be saved: {err}"
        return result.checkpoint_error

    async def refresh(self, entry: SessionEntry) -> None:
        """Bring an idle cached session up to date with the store before it is shown
        (another process may have run cells, reset or deleted it)."""
        shared = self.shared
        if shared is None or entry.busy:
            return
        try:
            record = await self._record(shared, entry.id, entry.owner)
        except (SessionGone, SessionUnknown) as gone:
            raise self._gone_elsewhere(entry, gone) from None
        if record.version != entry.version:
            entry.checkpoint, entry.version = record.checkpoint, record.version
            entry.execution_count = record.execution_count
            self._respawn(entry, record.checkpoint or None)

    async def interrupt(self, entry: SessionEntry) -> bool:
        """Stop the session's running cell, wherever it runs; False: nothing was running."""
        if await entry.session.cancel():
            return True
        shared = self.shared
        if shared is not None and await shared.leased(entry.id):
            await shared.request_interrupt(entry.id)       # another process runs it
            return True
        return False

    async def reset(self, entry: SessionEntry) -> None:
        """Empty the session (in its turn, after the cells before it)."""
        async with self.cell(entry):
            entry.session.reset()
            if self.shared is not None:
                entry.checkpoint, entry.version = b"", entry.version + 1
                await self.shared.save(entry.id, b"", entry.version, entry.execution_count,
                                       time.time())

    async def listing(self, owner: str | None, tenant: str) -> list[dict[str, Any]]:
        """The caller's sessions (its API key's; without keys, its client address's)."""
        shared = self.shared
        if shared is None:
            return [_summary(e.id, e.created_at, e.last_used_at, e.execution_count,
                             e.status()[0]) for e in self._entries.values()
                    if e.owner == owner and e.tenant == tenant]
        out = []
        for session_id, _ in await shared.sessions(digest(tenant), self.ttl):
            record = await shared.get(session_id)
            if record is None or record.owner != digest(owner):
                continue
            local = self._entries.get(session_id)
            running = (local is not None and local.running) or await shared.leased(session_id)
            out.append(_summary(session_id, record.created_at, record.last_used_at,
                                record.execution_count, "running" if running else "idle"))
        return out

    async def remove(self, session_id: str, owner: str | None) -> None:
        """Delete at the owner's request (SessionUnknown / SessionGone otherwise)."""
        shared = self.shared
        if shared is None:
            if not self.delete(session_id, owner):
                reason = self.gone_reason(session_id, owner)
                if reason is not None:
                    raise SessionGone(reason)
                raise SessionUnknown(session_id)
            return
        record = await self._record(shared, session_id, owner)
        if not self.delete(session_id, owner):      # (delete() counts a cached one)
            self.counts["deleted"] += 1
        await shared.end(session_id, record.owner, None)

    async def sweep(self) -> None:
        """Periodic: end expired sessions (shared: let idle workers go; the store's records
        expire by their own last use, wherever they were used)."""
        if self.shared is None:
            self.expire()
            return
        now = self._clock()
        for entry in [e for e in self._entries.values() if self._expired(e, now)]:
            self._uncache(entry)
        await self.shared.expire(self.ttl, self._expiry_reason())

    async def close(self) -> None:
        self.close_all()
        if self.shared is not None:
            await self.shared.close()


def _summary(session_id: str, created_at: float, last_used_at: float, execution_count: int,
             status: str) -> dict[str, Any]:
    return {"id": session_id, "status": status, "created_at": created_at,
            "last_used_at": last_used_at, "execution_count": execution_count}
