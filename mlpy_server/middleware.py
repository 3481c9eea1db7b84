"""One pure-ASGI middleware for every request: request id, metrics, access log, API-key
authentication, rate limiting and the request body cap."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import itertools
import os
import secrets

from fastapi import HTTPException

from .admission import retry_after
from .deps import tenant_of_scope
from .logs import REQUEST_ID

log = logging.getLogger("mlpy.server.access")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# where /docs and /redoc load their JavaScript, CSS and icon from (the fastapi-offline
# package's files): public like the pages themselves
DOCS_ASSETS = "/docs/assets"
# ... and what those pages may load: only this server's files (ReDoc's own footer would fetch
# its logo from the vendor's site; the policy keeps the browser from trying)
DOCS_PAGES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
DOCS_POLICY = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
               b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               b"worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")


async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


def _json_only(path: str) -> bool:
    return path in ("/execute", "/executions", "/notebooks/execute") or (
        path.startswith("/sessions/") and path.endswith("/execute"))


def _is_json(content_type: bytes) -> bool:
    """application/json or application/<anything>+json (parameters such as charset aside)."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/")
                                            and media.endswith(b"+json"))


class _Request:
    """What the gateway reads from one request's headers, in one pass."""

    __slots__ = ("rid", "api_key", "content_length", "json_body", "host", "stream")

    def __init__(self, headers: list[tuple[bytes, bytes]]):
        self.rid: str | None = None
        self.api_key: str | None = None
        self.content_length: int | None = None
        self.json_body = False                    # Content-Type says JSON
        self.host: str | None = None
        self.stream = False                       # Accept names text/event-stream
        for name, value in headers:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if _VALID_ID.match(text):
                    self.rid = text
            elif name == b"x-api-key":
                self.api_key = value.decode("latin-1")
            elif name == b"content-type":
                self.json_body = _is_json(value)
            elif name == b"host":
                self.host = value.decode("latin-1")
            elif name == b"accept":
                self.stream = self.stream or b"text/event-stream" in value
            elif name == b"content-length":
                try:
                    self.content_length = int(value)
                except ValueError:
                    self.content_length = None


# A request id: this process's random prefix and a counter — unique across processes and
# restarts like a uuid4, without a getrandom() system call per request.
_ID_PREFIX = secrets.token_hex(8)
_id_numbers = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_numbers):016x}"


def _fresh_request_ids() -> None:
    """A forked server process (gunicorn --preload) gets a prefix of its own."""
    global _ID_PREFIX, _id_numbers
    _ID_PREFIX, _id_numbers = secrets.token_hex(8), itertools.count(1)


os.register_at_fork(after_in_child=_fresh_request_ids)


class HostAllowList:
    """Host names (or `*.domain`, or `*` for any) a request's Host header may name."""

    def __init__(self, patterns: list[str]):
        self.any = "*" in patterns
        self.names = {p.lower() for p in patterns if not p.startswith("*")}
        self.suffixes = tuple(p[1:].lower() for p in patterns if p.startswith("*."))

    def allows(self, host: str | None) -> bool:
        if self.any:
            return True
        if host is None:        # HTTP/1.0 without Host: not a browser, so not a rebinding
            return True
        name = host.lower()
        if name.startswith("["):                       # [::1]:8000
            name = name[:name.find("]") + 1]
        elif name.count(":") == 1:                     # name:port
            name = name.split(":", 1)[0]
        return name in self.names or name.endswith(self.suffixes)


class Gateway:
    """One pure-ASGI middleware (one pass over the headers per request, which a stack of five
    middlewares would repeat), with one method per concern: request id, Host allow-list,
    JSON-only execution bodies, API key, rate limit, body cap, metrics and the access log."""

    def __init__(self, app, *, holder, settings, lean=None):
        self.app = app
        self.lean = lean      # LeanExecute: POST /execute without the router
        self.holder = holder  # .state is the ServerState once the lifespan has started
        self.settings = settings
        self.public = frozenset(settings.public_paths)
        self.max_body = settings.max_body_bytes
        self.hosts = HostAllowList(settings.allowed_hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        request = _Request(scope["headers"])
        rid = request.rid or _new_request_id()
        token = REQUEST_ID.set(rid)
        added = [(b"x-request-id", rid.encode())]
        if scope["path"] in DOCS_PAGES:
            added.append((b"content-security-policy", DOCS_POLICY))
        status_box = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        state = self.holder.state
        try:
            refusal = (self._check_host(request) or self._check_json(scope, request)
                       or self._check_access(state, scope, request)
                       or self._check_declared_size(request))
            if refusal is not None:
                return await _send_json(send_wrapper, *refusal)
            if (self.lean is not None and state is not None and not request.stream
                    and scope["path"] == "/execute" and scope["method"] == "POST"):
                scope["route"] = self.lean.route        # the metrics' and the log's label
                await self.lean(scope, self._capped(receive), send_wrapper, state, self.app)
            else:
                await self.app(scope, self._capped(receive), send_wrapper)
        finally:
            self._record(state, scope, status_box[0], time.perf_counter() - start)
            REQUEST_ID.reset(token)

    def _check_host(self, request: _Request):
        """The Host header must name this server (MLPY_ALLOWED_HOSTS): a page on another
        site that re-points its own name at 127.0.0.1 (DNS rebinding) is refused."""
        if self.hosts.allows(request.host):
            return None
        return (400, {"detail": f"Host header {request.host!r} is not allowed by this server "
                                "(MLPY_ALLOWED_HOSTS)"}, None)

    @staticmethod
    def _check_json(scope, request: _Request):
        """Code runs only from `application/json` bodies: a browser sends those cross-site
        only after a CORS preflight, so a page on another site cannot post a form or a
        text/plain body that runs code here."""
        if request.json_body or scope["method"] != "POST" or not _json_only(scope["path"]):
            return None
        return (415, {"detail": "the body must be JSON sent with "
                                "`Content-Type: application/json`"}, None)

    def _check_access(self, state, scope, request: _Request):
        """API key, then rate limit: a refusal as (status, body, headers), or None."""
        path = scope["path"]
        if path in self.public or path.startswith(DOCS_ASSETS + "/") or state is None:
            return None
        api_key = request.api_key
        if state.auth_required:
            if not state.key_ok(api_key):
                return (401, {"detail": "missing or invalid API key (send it in X-API-Key)"},
                        [(b"www-authenticate", b"ApiKey")])
            scope.setdefault("state", {})["api_key"] = api_key
        if state.limiter is None:
            return None
        wait = state.limiter.check(tenant_of_scope(scope))   # the key accepted above, else the address
        if wait <= 0:
            return None
        retry = retry_after(wait)
        return (429, {"detail": f"rate limit exceeded; retry after {retry} seconds"},
                [(b"retry-after", str(retry).encode())])

    def _check_declared_size(self, request: _Request):
        if request.content_length is not None and request.content_length > self.max_body:
            return (413, {"detail": f"request body is {request.content_length} bytes, more "
                                    f"than the limit of {self.max_body} bytes"}, None)
        return None

    def _capped(self, receive):
        """`receive` that refuses a body growing past the cap (chunked or lying uploads) or
        arriving too slowly (each part within `body_timeout` seconds: 408)."""
        received = 0
        limit = self.max_body
        timeout = self.settings.body_timeout or None
        complete = False

        async def receive_wrapper():
            nonlocal received, complete
            if complete:               # after the body: only the disconnect is left to wait for
                return await receive()
            try:
                async with asyncio.timeout(timeout):    # (no task per part, as wait_for)
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {timeout:g} "
                                         f"seconds") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body is more than the limit of "
                                             f"{limit} bytes")
                complete = not message.get("more_body", False)
            return message
        return receive_wrapper

    @staticmethod
    def _record(state, scope, status: int, elapsed: float) -> None:
        """Metrics and the access log line of a finished request."""
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        if state is not None:
            state.metrics.requests.inc(scope["method"], template, str(status))
            state.metrics.request_seconds.observe(elapsed, template)
        if log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            log.info('%s "%s %s" %d %.1fms', client[0] if client else "-", scope["method"],
                     scope["path"], status, elapsed * 1000)
