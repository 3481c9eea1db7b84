"""Asynchronous executions: POST /executions answers 202 at once; GET polls; DELETE cancels."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import Response

from ..deps import (check_run_request, get_state, json_bytes, json_response, owner_of,
                    run_guarded, tenant_of)
from ..executions import Execution, ExecutionGone, ExecutionUnknown
from ..models import (EXECUTE_EXAMPLES, ErrorDetail, ExecuteRequest, ExecutionList,
                      ExecutionState)
from ..state import ServerState
from .execute import COMMON_ERRORS, JSON_BODY

router = APIRouter(prefix="/executions", tags=["executions"])

ENDPOINT = "async"     # the executions' label in the metrics

LOCATION = {"description": "the execution's URL: `/executions/{id}`",
            "schema": {"type": "string"}}
FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no such execution for this API key: never "
          "accepted, or accepted by another server process (executions are kept by the "
          "process that accepted them)"},
    410: {"model": ErrorDetail, "description": "the execution's record was dropped: its "
          "result was older than MLPY_EXECUTION_RETENTION_SECONDS, or more than "
          "MLPY_MAX_EXECUTIONS / MLPY_MAX_EXECUTION_BYTES were kept; `detail` says which"},
    429: COMMON_ERRORS[429],
}


def _reply(state: ServerState, record: Execution, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    return Response(record.body(state.executions.retention), status_code=status,
                    headers=headers, media_type="application/json")


async def _run(state: ServerState, record: Execution, body: ExecuteRequest,
               tenant: str) -> None:
    """The execution's task: run as /execute does, then keep the reply body."""
    store = state.executions

    def started():
        record.status = "running"
        record.started_at = time.time()
        return state.executor.execute(body.code, timeout=body.timeout, context=body.context)

    try:
        result = await run_guarded(state, ENDPOINT, started, tenant=tenant)
        record.ran = True
        out = await state.render(ENDPOINT, result)
        data = await asyncio.to_thread(json_bytes, out)
    except asyncio.CancelledError:
        state.metrics.executions.inc(ENDPOINT, "cancelled")
        store.finish(record, "cancelled", error=record.stop_reason or "cancelled")
        return
    except HTTPException as exc:          # a full queue, a queue time-out, a shutdown
        record.refusal = exc
        store.finish(record, "failed", error=f"{exc.detail} (HTTP {exc.status_code})")
        return
    store.finish(record, "done", result=data, success=bool(out["success"]))


@router.post("", status_code=202, response_model=ExecutionState,
             responses={202: {"description": "accepted: poll the `Location`",
                              "headers": {"Location": LOCATION}},
                        **COMMON_ERRORS, **JSON_BODY},
             summary="Start ML code in the background; poll GET /executions/{id}")
async def start_execution(request: Request,
                          body: ExecuteRequest = Body(openapi_examples=EXECUTE_EXAMPLES)):
    """Accepts the body of `POST /execute` and answers **202** at once with the execution's
    `id`, its `status` and a `Location` to poll.  The code runs as `/execute` runs it — the
    same admission control, and it counts against the caller's share of concurrent
    executions (`MLPY_MAX_CONCURRENT_PER_CLIENT`) while queued or running, so a refusal is
    the same 429/503 as `/execute` would give.  Records are kept by the server process that
    accepted them."""
    state = get_state(request)
    await check_run_request(state, body)
    tenant = tenant_of(request)
    record = state.executions.start(owner_of(request),
                                    lambda r: _run(state, r, body, tenant), tenant)
    # The task's first step has run once this request's task is resumed (the event loop
    # runs ready callbacks in order): a refusal by the per-client share, a full queue or a
    # shutdown is known by then, and answered as /execute would answer it.
    await asyncio.sleep(0)
    refusal = record.refusal
    if refusal is not None:
        state.executions.forget(record)
        raise refusal
    location = f"{request.scope.get('root_path', '')}/executions/{record.id}"
    return _reply(state, record, 202, {"Location": location})


@router.get("", response_model=ExecutionList, responses=COMMON_ERRORS,
            summary="List the caller's asynchronous executions")
async def list_executions(request: Request):
    """The executions of the caller's API key (without keys: of its client address) that
    this server process keeps — queued, running, and finished ones until they expire — oldest
    first, each without its result (`GET /executions/{id}` has it) but with the result's
    `success` once `done`."""
    state = get_state(request)
    retention = state.executions.retention
    return json_response({"executions": [
        record.summary(retention)
        for record in state.executions.listing(owner_of(request), tenant_of(request))]})


def _find(state: ServerState, request: Request, execution_id: str) -> Execution:
    try:
        return state.executions.find(execution_id, owner_of(request))
    except ExecutionGone as exc:
        raise HTTPException(410, f"execution '{execution_id}' is no longer kept: "
                                 f"{exc.reason}") from None
    except ExecutionUnknown:
        raise HTTPException(404, f"execution '{execution_id}' not found (executions are kept "
                                 "by the server process that accepted them)") from None


@router.get("/{execution_id}", response_model=ExecutionState, responses=FOUND,
            summary="An execution's status and, when done, its result")
async def get_execution(execution_id: str, request: Request):
    """`status` is `queued`, `running`, `done` (with `result`, the `/execute` body),
    `cancelled` or `failed` (with `error`).  A finished record is kept for
    `MLPY_EXECUTION_RETENTION_SECONDS`; once dropped its id answers 410 saying why."""
    state = get_state(request)
    return _reply(state, _find(state, request, execution_id))


@router.delete("/{execution_id}", response_model=ExecutionState, responses=FOUND,
               summary="Cancel an execution (stopping its program)")
async def cancel_execution(execution_id: str, request: Request):
    """Stops a queued or running execution — a running program is stopped by the executor
    and its worker freed — and answers with its final state (`cancelled`).  A finished
    execution is left as it is and answered the same way; its record stays until it
    expires."""
    state = get_state(request)
    record = _find(state, request, execution_id)
    await state.executions.cancel(record, "cancelled by its owner (DELETE)")
    return _reply(state, record)
