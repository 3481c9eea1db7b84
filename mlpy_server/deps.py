"""Shared pieces of the routers: the state, request checks, JSON responses."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.types import Receive, Scope

from .admission import retry_after
from .jsonvalues import check_context
from .logs import REQUEST_ID, report_internal_error
from mlpy.executor import AsyncMLResult

from .state import QueueFull, ServerState, ShuttingDown

log = logging.getLogger("mlpy.server")
T = TypeVar("T")


def get_state(request: Request) -> ServerState:
    state = getattr(request.app.state, "ml", None)
    if state is None:  # only before the lifespan started or after it ended
        raise HTTPException(503, "server is not running", headers={"Retry-After": str(retry_after(1))})
    return state


def owner_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("api_key")


def tenant_of(request: Request) -> str:
    """Who a per-tenant quota counts: the API key, else the client's address."""
    return tenant_of_scope(request.scope)


def tenant_of_scope(scope: Scope) -> str:
    """tenant_of for an ASGI scope (the gateway and the short /execute path have no Request):
    the API key the gateway accepted, else the client's address."""
    key = scope.get("state", {}).get("api_key")
    if key is not None:
        return "key:" + key
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class ClientGone(Exception):
    """The client disconnected before its execution ended (the execution was stopped)."""


async def until_disconnected(receive: Receive) -> None:
    """Return once the client has closed the connection (the body has been read already)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


# A run that ends within this many seconds never starts a disconnect watcher: most runs are
# that short, and a watcher task per request (made, stepped, cancelled, stepped again) was
# ~3% of the event loop's time under load. A longer run is watched from then on, so a
# client that goes away still stops it, at most this much later.
WATCH_AFTER = 0.05


async def unless_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`, cancelling it (which stops the execution and frees its worker) as soon
    as the client disconnects; then raises ClientGone.  The work runs in the request's own
    task; a watcher task starts only once it has run `WATCH_AFTER` seconds."""
    current = asyncio.current_task()
    assert current is not None
    loop = asyncio.get_running_loop()
    gone = False
    watcher: asyncio.Task | None = None

    async def watch() -> None:
        nonlocal gone
        await until_disconnected(receive)
        gone = True
        current.cancel()

    def start() -> None:
        nonlocal watcher
        watcher = loop.create_task(watch())

    timer = loop.call_later(WATCH_AFTER, start)
    try:
        return await work
    except asyncio.CancelledError:
        if gone and current.cancelling() <= 1:
            current.uncancel()
            raise ClientGone() from None
        raise
    finally:
        timer.cancel()
        if watcher is not None:
            watcher.cancel()


def validation_error(loc: tuple, msg: str, value: Any = None, kind: str = "value_error"):
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg,
                                    "input": value}])


def check_query(request: Request, known: set[str]) -> None:
    """Unknown or repeated query parameters are a 422, as unknown body fields are (a
    misspelt `timout` must not run with the default, nor `a=1&a=2` with one of them)."""
    params = request.query_params
    for name in params:
        if name not in known:
            raise validation_error(("query", name), "unknown query parameter; expected one "
                                   f"of {', '.join(sorted(known))}", None, "extra_forbidden")
        if len(params.getlist(name)) > 1:
            raise validation_error(("query", name), "given more than once", None,
                                   "extra_forbidden")


def check_code(state: ServerState, code: str) -> None:
    limit = state.settings.max_code_length
    if len(code) > limit:
        raise validation_error(("body", "code"), f"code is {len(code)} characters, more than "
                               f"the limit of {limit}", None, "string_too_long")


def check_timeout(state: ServerState, timeout: float, loc=("body", "timeout"), *,
                  given: bool = True) -> float:
    """The timeout to run with: a request's own above MLPY_MAX_TIMEOUT is a 422; the default
    (5 s) is cut to the limit when the limit is lower, as the OpenAPI document says."""
    limit = state.settings.max_timeout
    if not given:
        return min(timeout, limit)
    if timeout > limit:
        raise validation_error(loc, f"timeout must be at most {limit:g} seconds", timeout,
                               "less_than_equal")
    return timeout


async def check_run_request(state: ServerState, body: Any) -> None:
    """check_run_limits, with a context walked off the event loop: its walk takes time in
    proportion to the context's size (a tenth of a second for 150,000 numbers), which would
    stall every other request on the loop."""
    if body.context:
        await asyncio.to_thread(check_run_limits, state, body)
    else:
        check_run_limits(state, body)


def check_run_limits(state: ServerState, body: Any) -> None:
    """The server's limits on a request body that runs code (`/execute`, `/executions`, a
    session cell): code length, timeout and context, each a 422 naming its field. A body
    without a timeout gets the default cut to MLPY_MAX_TIMEOUT."""
    check_code(state, body.code)
    body.timeout = check_timeout(state, body.timeout, given="timeout" in body.model_fields_set)
    check_request_context(state, body.context)


def check_request_context(state: ServerState, context: dict | None) -> None:
    s = state.settings
    problem = check_context(context, max_depth=s.max_context_depth,
                            max_bytes=s.max_context_bytes)
    if problem:
        raise validation_error(("body", "context"), problem)


def json_bytes(body: Any, *, finite: bool = False) -> bytes:
    """`body` as JSON that is always valid UTF-8: a string holding a lone surrogate (ML's
    chr(0xD800), a context value) is written as its JSON escape, \\ud800; a float that is
    not finite is an error.  With `finite` (an execution's reply, whose value `to_json`
    checked) orjson writes it: several times faster, the same JSON values (a float may be
    spelt `1e16` where `json` writes `1e+16`).  What orjson refuses — a lone surrogate, an
    integer past 64 bits, a key that is not a string — goes through `json` as before."""
    if finite:
        try:
            return orjson.dumps(body)
        except TypeError:         # orjson.JSONEncodeError is a TypeError
            pass
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def json_response(body: Any, status_code: int = 200, headers: dict | None = None, *,
                  finite: bool = False) -> Response:
    """A JSON reply that is always valid UTF-8 (json_bytes)."""
    return Response(json_bytes(body, finite=finite), status_code=status_code,
                    headers=headers, media_type="application/json")


async def run_guarded(state: ServerState, endpoint: str, make, *, tenant: str | None,
                      request: Request | None = None, admit: bool = True,
                      receive: Receive | None = None):
    """state.run with the 503s of a full queue or a shutdown (429 past the tenant's share).
    Should the executor itself raise (e.g. refusing a context name), the failure becomes a
    `success: false` result.  With `request` (or its ASGI `receive`), the client
    disconnecting stops the execution (ClientGone)."""
    if request is not None:
        receive = request.receive
    try:
        work = state.run(endpoint, make, admit, tenant)
        if receive is None:
            return await work
        try:
            return await unless_disconnected(receive, work)
        except ClientGone:
            state.metrics.executions.inc(endpoint, "disconnected")
            raise
    except (ValueError, TypeError, KeyError) as exc:
        return AsyncMLResult(False, error=str(exc), error_type=type(exc).__name__)
    except QueueFull as exc:
        raise HTTPException(exc.status, str(exc),
                            headers={"Retry-After": str(exc.retry_after)}) from None
    except ShuttingDown:
        raise HTTPException(503, "server is shutting down",
                            headers={"Retry-After": str(retry_after(5))}) from None
    except (HTTPException, ClientGone):
        raise
    except Exception as exc:
        report_internal_error("the executor failed", exc)
        return AsyncMLResult(False, error=f"internal error (reference {REQUEST_ID.get()})",
                             error_type="InternalError")
