from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import orjson
from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..deps import (check_run_limits, check_run_request, get_state, json_bytes, json_response,
                    run_guarded, tenant_of, tenant_of_scope)
from ..state import ServerState
from ..streaming import stream_execution, wants_stream
from ..models import EXECUTE_EXAMPLES, ErrorDetail, ExecuteRequest, ExecuteResponse

router = APIRouter(tags=["execute"])
# A body past this is parsed and checked on a thread: parsing and walking a large context
# takes time in proportion to its size, which the event loop must not spend.
_PARSE_INLINE_BYTES = 32 * 1024
log = logging.getLogger("mlpy.server")

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "the body could not be read (e.g. not UTF-8)"},
    401: {"model": ErrorDetail, "description": "API keys are configured and none was sent"},
    413: {"model": ErrorDetail, "description": "request body over the cap"},
    429: {"model": ErrorDetail, "description": "rate limit exceeded (see Retry-After)"},
    503: {"model": ErrorDetail, "description": "queue full or shutting down (see Retry-After)"},
}
# what the endpoints that run code from a JSON body may answer besides
JSON_BODY: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorDetail, "description": "the body was not sent as "
                                               "`Content-Type: application/json`"}}


@router.post("/execute", response_model=ExecuteResponse, responses={**COMMON_ERRORS, **JSON_BODY},
             summary="Run ML code and return its `result`")
async def execute(request: Request,
                  body: ExecuteRequest = Body(openapi_examples=EXECUTE_EXAMPLES)):
    """Runs `code` on a worker with `context` as variables.  Parse errors, runtime errors and
    time-outs are `success: false` with status 200; bad requests are 422.  With
    `Accept: text/event-stream` the reply is Server-Sent Events: `stdout`/`stderr` while the
    code runs, then `result` (the JSON body), or `error` for a full queue or a shutdown."""
    state = get_state(request)
    await check_run_request(state, body)
    executor = state.executor
    if wants_stream(request):
        return stream_execution(
            lambda on_output: run_guarded(state, "execute", lambda: executor.execute(
                body.code, timeout=body.timeout, context=body.context, on_output=on_output),
                tenant=tenant_of(request)),
            lambda result: state.render("execute", result))
    result = await run_guarded(state, "execute", lambda: executor.execute(
        body.code, timeout=body.timeout, context=body.context), tenant=tenant_of(request),
        request=request)
    return json_response(await state.render("execute", result), finite=True)


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def _replay(messages: list[Message], receive: Receive,
            error: BaseException | None = None) -> Receive:
    """`receive` that hands out `messages` again (then raises `error`, if reading them
    did), then the real `receive`'s."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        if error is not None:
            raise error
        return await receive()
    return replay


class LeanExecute:
    """`POST /execute` without FastAPI's per-request machinery (issue 15): the Gateway
    calls it for that path instead of the router, so a request costs no route matching,
    no dependency solving and no exception-middleware layers.  It serves only what it
    knows to be a plain request — a complete JSON object body that `ExecuteRequest` and the
    limits accept, no `Accept: text/event-stream` — and runs it exactly as `execute` does.
    Anything else (a body that is not valid JSON or not valid, a disconnect, a body error)
    goes to the app with the body replayed, so every error reply is FastAPI's own.  The
    route stays registered: the OpenAPI document is unchanged."""

    def __init__(self, app: FastAPI):
        self.handlers = app.exception_handlers
        self.route = next(r for r in router.routes if getattr(r, "path", None) == "/execute")

    async def __call__(self, scope: Scope, receive: Receive, send: Send, state: ServerState,
                       fallback: ASGIApp) -> None:
        messages: list[Message] = []
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body", False):
                    break
        except Exception as exc:        # 408, 413: the app answers as it always has
            return await fallback(scope, _replay(messages, receive, exc), send)
        try:
            if sum(len(m.get("body", b"")) for m in messages) > _PARSE_INLINE_BYTES:
                body = await asyncio.to_thread(self._body, messages, state)
            else:
                body = self._body(messages, state)
        except RequestValidationError as exc:   # over a limit: answered as the route would,
            return await self._answer(scope, receive, send, exc)    # without a second parse
        if body is None:
            return await fallback(scope, _replay(messages, receive), send)
        executor = state.executor
        try:
            result = await run_guarded(state, "execute", lambda: executor.execute(
                body.code, timeout=body.timeout, context=body.context),
                tenant=tenant_of_scope(scope), receive=receive)
            data = json_bytes(await state.render("execute", result), finite=True)
        except Exception as exc:        # 429, 503, a disconnect: the app's own handlers
            return await self._answer(scope, receive, send, exc)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(data)).encode()),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})

    async def _answer(self, scope: Scope, receive: Receive, send: Send,
                      exc: Exception) -> None:
        """Answer `exc` with the app's handler for it (as the route's failure would be)."""
        handler = self._handler(exc)
        if handler is None:
            raise exc                   # a bug: the server-error handler reports it
        response = await handler(Request(scope, receive), exc)
        await response(scope, receive, send)

    @staticmethod
    def _body(messages: list[Message], state: ServerState) -> ExecuteRequest | None:
        """The request body as `execute` would receive it, or None for anything the app
        should answer itself. Raises the RequestValidationError of a limit (code length,
        timeout, context size or depth) as `execute` would: a context is walked once."""
        if messages[-1]["type"] != "http.request":
            return None
        try:
            data = b"".join(m.get("body", b"") for m in messages)
            # orjson reads what json reads, to the same values, or refuses it (NaN,
            # Infinity, a lone surrogate, a byte-order mark: the app answers those) — but
            # for an integer past 64 bits, which it reads as a float
            value = json.loads(data) if _LONG_NUMBER.search(data) else orjson.loads(data)
            if type(value) is not dict:
                return None
            body = ExecuteRequest.model_validate(value)
        except (ValueError, RecursionError):
            return None                 # (pydantic's ValidationError is a ValueError)
        check_run_limits(state, body)
        return body

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for `exc`, as Starlette's exception middleware picks it; None
        for what only the server-error handler catches."""
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None
