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

    def __len__(self) -> int:
        return len(self._entries)

    def create(self, owner: str | None) -> SessionEntry:
        self.expire()
        while len(self._entries) >= self.cap:
            _, old = self._entries.popitem(last=False)
            log.info("session %s evicted (cap %d)", old.id, self.cap)
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
            self._drop(entry)
        return len(dead)

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
