"""Shared pieces of the routers: the state, request checks, JSON responses."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from .admission import retry_after
from .jsonvalues import check_context
from mlpy.executor import AsyncMLResult

from .state import QueueFull, ServerState, ShuttingDown

log = logging.getLogger("mlpy.server")


def get_state(request: Request) -> ServerState:
    state = getattr(request.app.state, "ml", None)
    if state is None:  # only before the lifespan started or after it ended
        raise HTTPException(503, "server is not running", headers={"Retry-After": str(retry_after(1))})
    return state


def owner_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("api_key")


def validation_error(loc: tuple, msg: str, value: Any = None, kind: str = "value_error"):
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg,
                                    "input": value}])


def check_code(state: ServerState, code: str) -> None:
    limit = state.settings.max_code_length
    if len(code) > limit:
        raise validation_error(("body", "code"), f"code is {len(code)} characters, more than "
                               f"the limit of {limit}", None, "string_too_long")
    if not code.strip():
        raise validation_error(("body", "code"), "code is blank", code, "string_too_short")


def check_timeout(state: ServerState, timeout: float, loc=("body", "timeout")) -> None:
    if timeout > state.settings.max_timeout:
        raise validation_error(loc, f"timeout must be at most {state.settings.max_timeout:g} "
                               "seconds", timeout, "less_than_equal")


def check_request_context(state: ServerState, context: dict | None) -> None:
    s = state.settings
    problem = check_context(context, max_depth=s.max_context_depth,
                            max_bytes=s.max_context_bytes)
    if problem:
        raise validation_error(("body", "context"), problem)


def json_response(body: Any, status_code: int = 200, headers: dict | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8", "surrogatepass")
    return Response(data, status_code=status_code, headers=headers,
                    media_type="application/json")


async def run_guarded(state: ServerState, endpoint: str, make):
    """state.run with the 503s of a full queue or a shutdown.  Should the executor itself
    raise (e.g. refusing a context name), the failure becomes a `success: false` result."""
    try:
        return await state.run(endpoint, make)
    except (ValueError, TypeError, KeyError) as exc:
        return AsyncMLResult(False, error=str(exc), error_type=type(exc).__name__)
    except QueueFull as exc:
        raise HTTPException(503, str(exc),
                            headers={"Retry-After": str(exc.retry_after)}) from None
    except ShuttingDown:
        raise HTTPException(503, "server is shutting down",
                            headers={"Retry-After": str(retry_after(5))}) from None
    except HTTPException:
        raise
    except Exception as exc:
        log.exception("the executor failed")
        return AsyncMLResult(False, error=f"internal error: {exc}", error_type="InternalError")
