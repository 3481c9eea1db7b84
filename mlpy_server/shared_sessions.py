"""Where durable sessions live between cells: one interface, an SQLite and a Redis backend.

Every server process keeps its sessions' workers itself (`session_store.SessionStore`); what
must outlive a process or be seen by the others is here: each session's owner, tenant, use
times, execution count and latest checkpoint (`mlpy.checkpoint`, a JSON record — never a
pickle), the reason an ended session is gone, and a lease per session so that one process at a
time runs its cells.  `MLPY_SESSION_STORE` picks the backend:

    sqlite:///path/sessions.db   the default (a file under MLPY_DATA_DIR): WAL mode, safe for
                                 several processes of one machine
    redis://host:port/db         several machines: hashes with TTLs, leases by SET NX PX
    memory                       nothing shared, nothing survives the process (as before)

API keys are stored as SHA-256 digests, never as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger("mlpy.server")

LEASE_SECONDS = 5.0            # a lease not renewed for this long is free (its process died)
RENEW_EVERY = LEASE_SECONDS / 3
INTERRUPT_POLL = 0.2           # how often a running cell looks for an interrupt from elsewhere
GONE_MEMORY = 86_400.0         # seconds an ended session's id answers 410 with its reason


def digest(secret: str | None) -> str:
    """What the store keeps of an API key or a client address."""
    return "" if secret is None else hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class SessionRecord:
    id: str
    owner: str                 # digest of the API key that may use it ("" without keys)
    tenant: str                # digest of what the per-key quota counts
    created_at: float
    last_used_at: float
    execution_count: int = 0
    version: int = 0           # bumped by every checkpoint written
    checkpoint: bytes | None = None


class LeaseBusy(Exception):
    """Another process has been running this session's cells for longer than we may wait."""


class SharedSessions:
    """The store interface (the backends below implement the abstract part)."""

    kind = "shared"

    def __init__(self) -> None:
        self.holder = f"{os.getpid()}-{secrets.token_hex(6)}"   # this process, in leases
        # the token of each lease this process holds: one per acquisition, so a lease is
        # never re-entered (two requests of this process cannot both hold it)
        self._tokens: dict[str, str] = {}
        self._counter = itertools.count(1)

    # -- records ---------------------------------------------------------------------------
    async def add(self, record: SessionRecord) -> None:
        raise NotImplementedError

    async def get(self, session_id: str) -> SessionRecord | None:
        raise NotImplementedError

    async def save(self, session_id: str, checkpoint: bytes | None, version: int,
                   execution_count: int, last_used_at: float) -> None:
        """Record a cell: its count and time, and (unless None) a new checkpoint."""
        raise NotImplementedError

    async def end(self, session_id: str, owner: str, reason: str | None) -> None:
        """Forget a session; its id answers 410 with `reason` for a day (None: 404)."""
        raise NotImplementedError

    async def gone_reason(self, session_id: str, owner: str) -> str | None:
        raise NotImplementedError

    async def sessions(self, tenant: str | None, ttl: float) -> list[tuple[str, float]]:
        """(id, last used) of the live sessions of `tenant` (None: all), oldest first."""
        raise NotImplementedError

    async def expire(self, ttl: float, reason: str) -> int:
        """End the sessions unused for `ttl` seconds and not leased; how many."""
        return 0

    async def close(self) -> None:
        raise NotImplementedError

    # -- leases ------------------------------------------------------------------------------
    async def acquire(self, session_id: str) -> bool:
        raise NotImplementedError

    async def renew(self, session_id: str) -> bool:
        raise NotImplementedError

    async def release(self, session_id: str) -> None:
        raise NotImplementedError

    async def leased(self, session_id: str) -> bool:
        raise NotImplementedError

    async def request_interrupt(self, session_id: str) -> None:
        """Ask whichever process runs the session's cell to stop it."""
        raise NotImplementedError

    async def take_interrupt(self, session_id: str) -> bool:
        """True (once) if an interrupt was asked for while this process holds the lease."""
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def lease(self, session_id: str, wait: float,
                    on_interrupt: Callable[[], Awaitable[Any]] | None = None
                    ) -> AsyncIterator[None]:
        """Hold the session's lease while the block runs (renewed meanwhile, and watched for
        interrupts asked for through another process: `on_interrupt`); LeaseBusy when
        another process holds it for longer than `wait` seconds."""
        deadline = time.monotonic() + wait
        pause = 0.005
        while not await self.acquire(session_id):
            if time.monotonic() >= deadline:
                raise LeaseBusy(session_id)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        renewer = asyncio.create_task(self._renew(session_id, on_interrupt))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            try:
                await asyncio.shield(self.release(session_id))
            except Exception:          # the lease expires on its own
                log.warning("releasing the lease of session %s failed", session_id,
                            exc_info=True)

    async def _renew(self, session_id: str,
                     on_interrupt: Callable[[], Awaitable[Any]] | None) -> None:
        renew_at = time.monotonic() + RENEW_EVERY
        while True:
            await asyncio.sleep(INTERRUPT_POLL if on_interrupt else RENEW_EVERY)
            try:
                if on_interrupt is not None and await self.take_interrupt(session_id):
                    await on_interrupt()
                if time.monotonic() >= renew_at:
                    renew_at = time.monotonic() + RENEW_EVERY
                    if not await self.renew(session_id):
                        log.warning("session %s: lease lost while running", session_id)
                        return
            except Exception:
                log.warning("session %s: renewing its lease failed", session_id, exc_info=True)


# -- SQLite --------------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, tenant TEXT NOT NULL, created_at REAL NOT NULL,
    last_used_at REAL NOT NULL, execution_count INTEGER NOT NULL, version INTEGER NOT NULL,
    checkpoint BLOB);
CREATE INDEX IF NOT EXISTS sessions_by_tenant ON sessions (tenant, last_used_at);
CREATE TABLE IF NOT EXISTS gone (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS interrupts (id TEXT PRIMARY KEY, holder TEXT NOT NULL);
"""


class SQLiteSessions(SharedSessions):
    """One file shared by the server processes of one machine (WAL: readers never block the
    writer).  Calls run on one thread of their own, never on the event loop."""

    kind = "sqlite"

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mlpy-sqlite")
        self._db: sqlite3.Connection | None = None
        self._call(self._open)

    def _open(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")     # WAL: durable across process crashes
        db.executescript(_SCHEMA)
        self._db = db

    def _call(self, fn, *args) -> Any:
        return self._thread.submit(fn, *args).result()

    async def _run(self, fn, *args) -> Any:
        return await asyncio.wrap_future(self._thread.submit(fn, *args))

    def _conn(self) -> sqlite3.Connection:
        assert self._db is not None
        return self._db

    async def add(self, record: SessionRecord) -> None:
        def add() -> None:
            self._conn().execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, record.owner, record.tenant, record.created_at,
                 record.last_used_at, record.execution_count, record.version,
                 record.checkpoint))
        await self._run(add)

    async def get(self, session_id: str) -> SessionRecord | None:
        def get() -> SessionRecord | None:
            row = self._conn().execute(
                "SELECT id, owner, tenant, created_at, last_used_at, execution_count, version, "
                "checkpoint FROM sessions WHERE id = ?", (session_id,)).fetchone()
            return SessionRecord(*row) if row else None
        return await self._run(get)

    async def save(self, session_id: str, checkpoint: bytes | None, version: int,
                   execution_count: int, last_used_at: float) -> None:
        def save() -> None:
            if checkpoint is None:
                self._conn().execute(
                    "UPDATE sessions SET execution_count = ?, last_used_at = ? WHERE id = ?",
                    (execution_count, last_used_at, session_id))
            else:
                self._conn().execute(
                    "UPDATE sessions SET checkpoint = ?, version = ?, execution_count = ?, "
                    "last_used_at = ? WHERE id = ?",
                    (checkpoint, version, execution_count, last_used_at, session_id))
        await self._run(save)

    async def end(self, session_id: str, owner: str, reason: str | None) -> None:
        def end() -> None:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                db.execute("DELETE FROM leases WHERE id = ?", (session_id,))
                now = time.time()
                if reason is not None:
                    db.execute("INSERT OR REPLACE INTO gone VALUES (?, ?, ?, ?)",
                               (session_id, owner, reason, now))
                db.execute("DELETE FROM gone WHERE at < ?", (now - GONE_MEMORY,))
            finally:
                db.execute("COMMIT")
        await self._run(end)

    async def gone_reason(self, session_id: str, owner: str) -> str | None:
        def gone() -> str | None:
            row = self._conn().execute("SELECT reason FROM gone WHERE id = ? AND owner = ?",
                                       (session_id, owner)).fetchone()
            return row[0] if row else None
        return await self._run(gone)

    async def sessions(self, tenant: str | None, ttl: float) -> list[tuple[str, float]]:
        def sessions() -> list[tuple[str, float]]:
            since = time.time() - ttl
            if tenant is None:
                rows = self._conn().execute(
                    "SELECT id, last_used_at FROM sessions WHERE last_used_at >= ? "
                    "ORDER BY last_used_at", (since,))
            else:
                rows = self._conn().execute(
                    "SELECT id, last_used_at FROM sessions WHERE tenant = ? AND "
                    "last_used_at >= ? ORDER BY last_used_at", (tenant, since))
            return [(row[0], row[1]) for row in rows]
        return await self._run(sessions)

    async def expire(self, ttl: float, reason: str) -> int:
        def expire() -> int:
            db = self._conn()
            now = time.time()
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute(
                    "SELECT id, owner FROM sessions WHERE last_used_at < ? AND id NOT IN "
                    "(SELECT id FROM leases WHERE expires_at > ?)", (now - ttl, now)).fetchall()
                for session_id, owner in rows:
                    db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                    db.execute("INSERT OR REPLACE INTO gone VALUES (?, ?, ?, ?)",
                               (session_id, owner, reason, now))
                db.execute("DELETE FROM gone WHERE at < ?", (now - GONE_MEMORY,))
                db.execute("DELETE FROM leases WHERE expires_at < ?", (now - LEASE_SECONDS,))
            finally:
                db.execute("COMMIT")
            return len(rows)
        return await self._run(expire)

    def _token(self, session_id: str) -> str:
        return self._tokens.get(session_id, "")

    async def acquire(self, session_id: str) -> bool:
        token = f"{self.holder}-{next(self._counter)}"

        def acquire() -> bool:
            db = self._conn()
            now = time.time()
            db.execute("BEGIN IMMEDIATE")          # one writer: the check and the take are one
            try:
                row = db.execute("SELECT expires_at FROM leases WHERE id = ?",
                                 (session_id,)).fetchone()
                if row is not None and row[0] > now:
                    return False
                db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)",
                           (session_id, token, now + LEASE_SECONDS))
                return True
            finally:
                db.execute("COMMIT")
        if not await self._run(acquire):
            return False
        self._tokens[session_id] = token
        return True

    async def renew(self, session_id: str) -> bool:
        token = self._token(session_id)

        def renew() -> bool:
            cursor = self._conn().execute(
                "UPDATE leases SET expires_at = ? WHERE id = ? AND holder = ?",
                (time.time() + LEASE_SECONDS, session_id, token))
            return cursor.rowcount == 1
        return await self._run(renew)

    async def release(self, session_id: str) -> None:
        token = self._tokens.pop(session_id, "")

        def release() -> None:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM leases WHERE id = ? AND holder = ?",
                           (session_id, token))
                db.execute("DELETE FROM interrupts WHERE id = ?", (session_id,))
            finally:
                db.execute("COMMIT")
        await self._run(release)

    async def request_interrupt(self, session_id: str) -> None:
        def request() -> None:
            self._conn().execute(
                "INSERT OR REPLACE INTO interrupts SELECT id, holder FROM leases WHERE id = ?",
                (session_id,))
        await self._run(request)

    async def take_interrupt(self, session_id: str) -> bool:
        token = self._token(session_id)

        def take() -> bool:
            cursor = self._conn().execute(
                "DELETE FROM interrupts WHERE id = ? AND holder = ?", (session_id, token))
            return cursor.rowcount == 1
        return await self._run(take)

    async def leased(self, session_id: str) -> bool:
        def leased() -> bool:
            row = self._conn().execute("SELECT expires_at FROM leases WHERE id = ?",
                                       (session_id,)).fetchone()
            return row is not None and row[0] > time.time()
        return await self._run(leased)

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None
        await self._run(close)
        self._thread.shutdown(wait=False)


# -- Redis ---------------------------------------------------------------------------------------
class RedisSessions(SharedSessions):
    """Sessions as Redis hashes that expire when idle; leases are redis-py `Lock`s (SET NX PX
    with a token, extended while a cell runs, released only by their holder)."""

    kind = "redis"

    def __init__(self, url: str, ttl: float, prefix: str = "mlpy:"):
        super().__init__()
        import redis.asyncio as redis

        self.client: Any = redis.Redis.from_url(url)   # (its typing is bytes | str everywhere)
        self.ttl = ttl
        self.prefix = prefix
        self._locks: dict[str, Any] = {}

    def _key(self, kind: str, session_id: str) -> str:
        return f"{self.prefix}{kind}:{session_id}"

    def _keep_ms(self) -> int:
        return int((self.ttl + 60) * 1000)     # a little past the TTL: expiry is ours to say

    async def add(self, record: SessionRecord) -> None:
        key = self._key("s", record.id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"owner": record.owner, "tenant": record.tenant,
                                    "created_at": record.created_at,
                                    "last_used_at": record.last_used_at,
                                    "execution_count": record.execution_count,
                                    "version": record.version,
                                    "checkpoint": record.checkpoint or b""})
            pipe.pexpire(key, self._keep_ms())
            pipe.set(self._key("k", record.id), record.owner,
                     px=int((self.ttl + GONE_MEMORY) * 1000))
            pipe.zadd(self._key("t", record.tenant), {record.id: record.last_used_at})
            pipe.zadd(self._key("all", "sessions"), {record.id: record.last_used_at})
            await pipe.execute()

    async def get(self, session_id: str) -> SessionRecord | None:
        data = await self.client.hgetall(self._key("s", session_id))
        if not data:
            return None
        text = {k.decode(): v for k, v in data.items()}
        return SessionRecord(session_id, text["owner"].decode(), text["tenant"].decode(),
                             float(text["created_at"]), float(text["last_used_at"]),
                             int(text["execution_count"]), int(text["version"]),
                             text["checkpoint"] or None)

    async def save(self, session_id: str, checkpoint: bytes | None, version: int,
                   execution_count: int, last_used_at: float) -> None:
        key = self._key("s", session_id)
        fields: dict[str, Any] = {"execution_count": execution_count,
                                  "last_used_at": last_used_at}
        if checkpoint is not None:
            fields.update(checkpoint=checkpoint, version=version)
        tenant = await self.client.hget(key, "tenant")
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, self._keep_ms())
            if tenant is not None:
                pipe.zadd(self._key("t", tenant.decode()), {session_id: last_used_at})
            pipe.zadd(self._key("all", "sessions"), {session_id: last_used_at})
            await pipe.execute()

    async def end(self, session_id: str, owner: str, reason: str | None) -> None:
        key = self._key("s", session_id)
        tenant = await self.client.hget(key, "tenant")
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key, self._key("lease", session_id))
            if tenant is not None:
                pipe.zrem(self._key("t", tenant.decode()), session_id)
            pipe.zrem(self._key("all", "sessions"), session_id)
            if reason is None:
                pipe.delete(self._key("k", session_id))
            else:
                pipe.set(self._key("g", session_id), f"{owner}\n{reason}",
                         px=int(GONE_MEMORY * 1000))
            await pipe.execute()

    async def gone_reason(self, session_id: str, owner: str) -> str | None:
        gone, known = await self.client.mget(self._key("g", session_id),
                                             self._key("k", session_id))
        if gone is not None:
            who, _, reason = gone.decode().partition("\n")
            return reason if who == owner else None
        if known is not None and known.decode() == owner:
            return f"expired: unused for more than {self.ttl:g} seconds"
        return None

    async def sessions(self, tenant: str | None, ttl: float) -> list[tuple[str, float]]:
        key = self._key("all", "sessions") if tenant is None else self._key("t", tenant)
        since = time.time() - ttl
        await self.client.zremrangebyscore(key, "-inf", f"({since}")
        rows = await self.client.zrange(key, 0, -1, withscores=True)
        return [(member.decode(), score) for member, score in rows]

    def _lock(self, session_id: str) -> Any:
        from redis.asyncio.lock import Lock
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = Lock(
                self.client, self._key("lease", session_id), timeout=LEASE_SECONDS,
                blocking=False, thread_local=False)
        return lock

    async def acquire(self, session_id: str) -> bool:
        return bool(await self._lock(session_id).acquire())

    async def renew(self, session_id: str) -> bool:
        from redis.exceptions import LockError
        try:
            return bool(await self._lock(session_id).reacquire())
        except LockError:
            return False

    async def release(self, session_id: str) -> None:
        from redis.exceptions import LockError
        lock = self._locks.pop(session_id, None)
        if lock is not None:
            with contextlib.suppress(LockError):
                await lock.release()
        await self.client.delete(self._key("i", session_id))

    async def leased(self, session_id: str) -> bool:
        return bool(await self.client.exists(self._key("lease", session_id)))

    async def request_interrupt(self, session_id: str) -> None:
        await self.client.set(self._key("i", session_id), b"1", px=int(LEASE_SECONDS * 1000))

    async def take_interrupt(self, session_id: str) -> bool:
        return await self.client.getdel(self._key("i", session_id)) is not None

    async def close(self) -> None:
        await self.client.aclose()


def store_errors() -> tuple[type[Exception], ...]:
    """What a backend raises when it cannot answer (the server says 503, not 500)."""
    from redis.exceptions import RedisError
    return (sqlite3.Error, RedisError)


# -- choosing ------------------------------------------------------------------------------------
def data_dir() -> Path:
    """MLPY_DATA_DIR, else the XDG data folder: ~/.local/share/mlpy."""
    explicit = os.environ.get("MLPY_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mlpy"


def open_store(spec: str, ttl: float) -> SharedSessions | None:
    """The backend `MLPY_SESSION_STORE` names (None: memory, nothing shared)."""
    spec = spec.strip()
    if spec == "memory":
        return None
    if not spec:
        path = data_dir() / "sessions.db"
        try:
            return SQLiteSessions(path)
        except (OSError, sqlite3.Error) as err:    # the default only: said, not fatal
            log.warning("sessions are NOT durable: the default session store %s cannot be "
                        "opened (%s); they live in this process's memory. Set MLPY_DATA_DIR "
                        "to a writable folder or MLPY_SESSION_STORE", path, err)
            return None
    url = urlparse(spec)
    if url.scheme == "sqlite":
        location = spec[len("sqlite://"):]
        if not location or location == "/":
            raise ValueError("MLPY_SESSION_STORE=sqlite:///path/to/sessions.db needs a path")
        return SQLiteSessions(Path(location).expanduser())
    if url.scheme in ("redis", "rediss", "unix"):
        return RedisSessions(spec, ttl)
    raise ValueError(f"MLPY_SESSION_STORE={spec!r}: use memory, sqlite:///path or "
                     f"redis://host:port/db")
