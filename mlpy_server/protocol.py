"""uvicorn's HTTP protocol with a header timeout, for `mlpy-server` / `python -m mlpy_server`.

uvicorn times out idle keep-alive connections but not a client that opens a connection and
sends its request headers slowly, or never (a slowloris, a half-open connection): each one
would be held forever. This protocol closes a connection whose request headers are not
complete `MLPY_HEADER_TIMEOUT` seconds after the connection (or the request) began. The body
has its own timeout in the gateway middleware, under every launcher.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@lru_cache(maxsize=1)
def header_timeout() -> float:
    from .settings import Settings
    return Settings().header_timeout


class HeaderTimeoutProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None and header_timeout() > 0:
            self._header_timer = self.loop.call_later(header_timeout(), self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
