"""One pure-ASGI middleware for every request: request id, metrics, access log, API-key
authentication, rate limiting and the request body cap."""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid

from fastapi import HTTPException

from .logs import REQUEST_ID

log = logging.getLogger("mlpy.server.access")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


def _json_only(path: str) -> bool:
    return path in ("/execute", "/notebooks/execute") or (
        path.startswith("/sessions/") and path.endswith("/execute"))


class Gateway:
    def __init__(self, app, *, holder, settings):
        self.app = app
        self.holder = holder  # .state is the ServerState once the lifespan has started
        self.settings = settings
        self.public = frozenset(settings.public_paths)
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        rid = None
        api_key = None
        content_length = None
        content_type_at = -1
        for i, (name, value) in enumerate(scope["headers"]):
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if _VALID_ID.match(text):
                    rid = text
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
            elif name == b"content-type":
                if b"json" not in value:
                    content_type_at = i
            elif name == b"content-length":
                try:
                    content_length = int(value)
                except ValueError:
                    content_length = None
        if rid is None:
            rid = uuid.uuid4().hex
        if content_type_at >= 0 and scope["method"] == "POST" and _json_only(scope["path"]):
            # these endpoints take JSON only: read the body as JSON whatever it was labelled
            # (e.g. `curl -d '{...}'` without -H, which says form-urlencoded)
            headers = list(scope["headers"])
            headers[content_type_at] = (b"content-type", b"application/json")
            scope = dict(scope, headers=headers)
        token = REQUEST_ID.set(rid)
        rid_header = (b"x-request-id", rid.encode())
        status_box = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        state = self.holder.state
        path = scope["path"]
        try:
            if path not in self.public and state is not None:
                if state.auth_required:
                    if not state.key_ok(api_key):
                        return await _send_json(
                            send_wrapper, 401,
                            {"detail": "missing or invalid API key (send it in X-API-Key)"},
                            [(b"www-authenticate", b"ApiKey")])
                    scope.setdefault("state", {})["api_key"] = api_key
                if state.limiter is not None:
                    if api_key is not None and state.auth_required:
                        who = "key:" + api_key
                    else:
                        client = scope.get("client")
                        who = "ip:" + (client[0] if client else "unknown")
                    wait = state.limiter.check(who)
                    if wait > 0:
                        retry = max(1, math.ceil(wait))
                        return await _send_json(
                            send_wrapper, 429,
                            {"detail": f"rate limit exceeded; retry after {retry} seconds"},
                            [(b"retry-after", str(retry).encode())])
            if content_length is not None and content_length > self.max_body:
                return await _send_json(send_wrapper, 413, {
                    "detail": f"request body is {content_length} bytes, more than the limit "
                              f"of {self.max_body} bytes"})
            received = 0
            limit = self.max_body

            async def receive_wrapper():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise HTTPException(413, f"request body is more than the limit of "
                                                 f"{limit} bytes")
                return message

            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            if state is not None:
                state.metrics.requests.inc(scope["method"], template, str(status_box[0]))
                state.metrics.request_seconds.observe(elapsed, template)
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info('%s "%s %s" %d %.1fms', client[0] if client else "-", scope["method"],
                         path, status_box[0], elapsed * 1000)
            REQUEST_ID.reset(token)
