"""The server's live sessions: by id and owner, least recently used first, idle ones expire."""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("mlpy.server")

MAX_REMEMBERED = 10_000     # ended sessions whose ids still answer 410 with a reason


class SessionGone(Exception):
    """A request named a session that has ended (expired, evicted, lost): 410 with why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class SessionEntry:
    id: str
    session: Any
    owner: str | None
    created_at: float = field(default_factory=time.time)
    last_used_at: float = field(default_factory=time.time)
    last_used_mono: float = 0.0           # on the store's clock
    execution_count: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def running(self) -> bool:
        return self.lock.locked()

    def touch(self, now: float) -> None:
        self.last_used_at = time.time()
        self.last_used_mono = now


class SessionStore:
    """Live sessions by id, least recently used first; idle ones expire after `ttl`."""

    def __init__(self, make: Callable[[], Any], ttl: float, cap: int,
                 clock: Callable[[], float] = time.monotonic):
        self._make = make
        self._clock = clock               # injectable: tests move time instead of sleeping
        self.ttl = ttl
        self.cap = cap
        self._entries: collections.OrderedDict[str, SessionEntry] = collections.OrderedDict()
        # ids of sessions that ended without their owner asking (expired, evicted, lost) ->
        # (owner, reason): they answer 410 with the reason, not 404, while remembered
        self._gone: collections.OrderedDict[str, tuple[str | None, str]] = \
            collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def create(self, owner: str | None) -> SessionEntry:
        self.expire()
        while len(self._entries) >= self.cap:
            _, old = self._entries.popitem(last=False)
            log.info("session %s evicted (cap %d)", old.id, self.cap)
            self._remember(old, f"evicted: the server keeps at most {self.cap} sessions and "
                                f"this one was the least recently used")
            self._close(old)
        entry = SessionEntry(id=secrets.token_urlsafe(16), session=self._make(), owner=owner,
                             last_used_mono=self._clock())
        self._entries[entry.id] = entry
        return entry

    def get(self, session_id: str, owner: str | None) -> SessionEntry | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return None
        now = self._clock()
        if self._expired(entry, now):
            self._remember(entry, self._expiry_reason())
            self._drop(entry)
            return None
        entry.touch(now)
        self._entries.move_to_end(session_id)
        return entry

    def touch(self, entry: SessionEntry) -> None:
        """Mark `entry` used now (on this store's clock)."""
        entry.touch(self._clock())

    def delete(self, session_id: str, owner: str | None) -> bool:
        entry = self._entries.get(session_id)
        if entry is None or entry.owner != owner:
            return False
        self._drop(entry)
        return True

    def expire(self) -> int:
        now = self._clock()
        dead = [e for e in self._entries.values() if self._expired(e, now)]
        for entry in dead:
            log.info("session %s expired after %.0f idle seconds", entry.id, self.ttl)
            self._remember(entry, self._expiry_reason())
            self._drop(entry)
        return len(dead)

    def lose(self, entry: SessionEntry, reason: str) -> None:
        """The session's state is gone (its worker process died): forget it, keep the reason."""
        self._remember(entry, reason)
        self._drop(entry)

    def gone_reason(self, session_id: str, owner: str | None) -> str | None:
        """Why a session this server remembers has ended, or None (never existed, or deleted
        by its owner)."""
        gone = self._gone.get(session_id)
        return gone[1] if gone is not None and gone[0] == owner else None

    def _remember(self, entry: SessionEntry, reason: str) -> None:
        self._gone[entry.id] = (entry.owner, reason)
        while len(self._gone) > MAX_REMEMBERED:
            self._gone.popitem(last=False)

    def _expiry_reason(self) -> str:
        return f"expired: unused for more than {self.ttl:g} seconds"

    def close_all(self) -> None:
        for entry in list(self._entries.values()):
            self._drop(entry)

    def _expired(self, entry: SessionEntry, now: float) -> bool:
        return not entry.running and now - entry.last_used_mono > self.ttl

    def _drop(self, entry: SessionEntry) -> None:
        self._entries.pop(entry.id, None)
        self._close(entry)

    @staticmethod
    def _close(entry: SessionEntry) -> None:
        session = entry.session
        if entry.running:
            try:
                asyncio.get_running_loop().create_task(session.cancel())
            except Exception:  # pragma: no cover - best effort
                log.exception("cancelling session %s failed", entry.id)
        try:
            session.close()
        except Exception:  # pragma: no cover
            log.exception("closing session %s failed", entry.id)
