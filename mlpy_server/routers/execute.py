from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Body, Request

from ..deps import (check_code, check_request_context, check_timeout, get_state,
                    json_response, run_guarded, tenant_of)
from ..streaming import stream_execution, wants_stream
from ..models import EXECUTE_EXAMPLES, ErrorDetail, ExecuteRequest, ExecuteResponse

router = APIRouter(tags=["execute"])
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
    check_code(state, body.code)
    body.timeout = check_timeout(state, body.timeout,
                                 given="timeout" in body.model_fields_set)
    check_request_context(state, body.context)
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
    return json_response(await state.render("execute", result))
