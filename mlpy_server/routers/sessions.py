from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request

from ..deps import (check_run_request, get_state, json_response, owner_of, run_guarded,
                    tenant_of)
from ..models import (DeletedResponse, ErrorDetail, InterruptResponse, ResetResponse,
                      SessionCreated, SessionExecuteRequest, SessionExecuteResponse, SessionInfo,
                      SessionList)
from ..session_store import SessionEntry, SessionGone, SessionUnknown
from ..state import QueueFull, ServerState
from ..streaming import stream_execution, wants_stream
from .execute import COMMON_ERRORS, JSON_BODY

router = APIRouter(prefix="/sessions", tags=["sessions"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no such session (or it expired)"}}

SESSION_EXAMPLES: dict[str, Any] = {
    "assign": {"summary": "Define a variable", "value": {"code": "a = 40;", "timeout": 5.0}},
    "expression": {"summary": "Show a final expression", "value": {"code": "a + 2"}},
    "function": {"summary": "Define and call a function",
                 "value": {"code": "function twice(x) { return 2 * x; }\ntwice(a)"}},
}


async def _entry(request: Request, session_id: str) -> tuple[ServerState, SessionEntry]:
    state = get_state(request)
    try:
        return state, await state.sessions.find(session_id, owner_of(request))
    except SessionUnknown:
        raise HTTPException(404, f"session '{session_id}' not found") from None


@router.post("", response_model=SessionCreated, status_code=201,
             responses=COMMON_ERRORS, summary="Create a session")
async def create_session(request: Request):
    """A session keeps its variables and functions across executions, like a notebook; in
    process isolation it has a worker process of its own.  It expires after `ttl_seconds`
    without use.  Past the server's cap (or the per-key quota) the least recently used idle
    session is evicted; a busy one never is: 503 (429 for the quota) when all are busy."""
    state = get_state(request)
    entry = await state.sessions.open(owner_of(request), tenant_of(request))
    return json_response({"id": entry.id, "ttl_seconds": state.sessions.ttl}, 201)


@router.get("", response_model=SessionList, responses=COMMON_ERRORS,
            summary="List the caller's sessions")
async def list_sessions(request: Request):
    """The sessions of the caller's API key (without keys: of its client address), least
    recently used first, with every server process's sessions when the store is shared."""
    state = get_state(request)
    return json_response({"sessions": await state.sessions.listing(owner_of(request),
                                                                   tenant_of(request))})


GONE: dict[int | str, dict[str, Any]] = {
    410: {"description": "the session has ended without its owner deleting it: expired, "
                         "evicted, or lost (its worker process died: memory limit, kill, "
                         "crash, CPU limit), or deleted while this request was in flight; "
                         "`error_type` is `SessionLost` and `reason` says why"}}


@router.post("/{session_id}/execute", response_model=SessionExecuteResponse,
             responses={**NOT_FOUND, **GONE, **COMMON_ERRORS, **JSON_BODY},
             summary="Run a cell in a session")
async def execute_in_session(session_id: str, request: Request,
                             body: SessionExecuteRequest = Body(
                                 openapi_examples=SESSION_EXAMPLES)):
    """Runs `code` interactively: the last statement may omit its `;`, and the value of a
    final expression statement comes back as `display_value` (and as the MIME bundle
    `display`).  Cells of one session run one at a time, in order; at most
    `MLPY_MAX_SESSION_QUEUE` wait (503 beyond), each at most `MLPY_QUEUE_TIMEOUT` seconds.
    A client that disconnects stops its cell."""
    state, entry = await _entry(request, session_id)
    await check_run_request(state, body)
    if wants_stream(request):
        return stream_execution(lambda on_output: _run_cell(state, entry, body, on_output),
                                _as_is)
    return json_response(await _run_cell(state, entry, body, None, request))


async def _as_is(out: dict[str, Any]) -> dict[str, Any]:
    return out


async def _run_cell(state: ServerState, entry: SessionEntry, body: SessionExecuteRequest,
                    on_output: Callable[[str, str], object] | None,
                    request: Request | None = None) -> dict[str, Any]:
    """One cell in the session's turn: the reply body, or SessionGone once it has ended."""
    try:
        async with state.sessions.cell(entry):
            state.sessions.touch(entry)
            session = entry.session
            result = await run_guarded(state, "session", lambda: session.execute(
                body.code, timeout=body.timeout, interactive=True, context=body.context,
                on_output=on_output), tenant=entry.tenant, request=request,
                admit=state.sessions_share_workers)
            if entry.ended is not None:          # deleted or evicted while it ran
                raise SessionGone(entry.ended)
            if result.stopped_by == "lost":      # not `throw {type: "SessionLost"}`
                state.record_execution("session", "lost", 0.0)
                if state.sessions.shared is not None:
                    result.error = (f"{result.error}; the session's state as of its last "
                                    f"completed cell is restored on its next request")
            not_saved = await state.sessions.finished(entry, result)
            out = await state.render("session", result, display=True)
            out["execution_count"] = entry.execution_count
            lost = result.lost or []
            out.update(restored=bool(result.restored),
                       lost=[item["name"] for item in lost],
                       lost_reasons={item["name"]: item["reason"] for item in lost},
                       checkpoint_error=not_saved)
    except QueueFull as exc:
        state.metrics.executions.inc("session", "rejected")
        raise HTTPException(exc.status, str(exc),
                            headers={"Retry-After": str(exc.retry_after)}) from None
    return out


@router.post("/{session_id}/interrupt", response_model=InterruptResponse,
             responses={**NOT_FOUND, **GONE}, summary="Stop the running cell, keep the state")
async def interrupt_session(session_id: str, request: Request):
    """Stops the cell the session is running — in this server process or, with a shared
    store, in another one — like Jupyter's interrupt: that cell's reply says `Execution
    interrupted`, variables stay, waiting cells still run."""
    _, entry = await _entry(request, session_id)
    interrupted = await get_state(request).sessions.interrupt(entry)
    return json_response({"id": session_id, "interrupted": interrupted})


@router.post("/{session_id}/reset", response_model=ResetResponse,
             responses={**NOT_FOUND, **GONE, **COMMON_ERRORS},
             summary="Forget every variable of the session")
async def reset_session(session_id: str, request: Request):
    """Empties the session after the cells already waiting have run (its id, owner and
    execution count stay)."""
    state, entry = await _entry(request, session_id)
    try:
        await state.sessions.reset(entry)
    except QueueFull as exc:
        raise HTTPException(exc.status, str(exc),
                            headers={"Retry-After": str(exc.retry_after)}) from None
    return json_response({"id": session_id, "reset": True})


@router.get("/{session_id}", response_model=SessionInfo, responses={**NOT_FOUND, **GONE},
            summary="A session's status, limits and variables")
async def get_session(session_id: str, request: Request):
    """`status` is `idle`, `running` or `lost` (its process died; `lost_reason` says why,
    and its next execution answers 410).  Never waits for a running cell."""
    state, entry = await _entry(request, session_id)
    await state.sessions.refresh(entry)
    status, lost = entry.status()
    variables = [] if lost else await asyncio.to_thread(entry.session.variables)
    return json_response({"id": entry.id, "status": status, "lost_reason": lost,
                          "created_at": entry.created_at,
                          "last_used_at": entry.last_used_at,
                          "execution_count": entry.execution_count,
                          "running": entry.running, "queued": entry.waiting,
                          "limits": session_limits(state),
                          "variables": variables})


def session_limits(state: ServerState) -> dict[str, Any]:
    """What every session of this server may use."""
    settings = state.settings
    executor_settings: Any = getattr(state.executor, "settings", None)
    process = state.isolation == "process" and executor_settings is not None
    return {"isolation": state.isolation,
            "ttl_seconds": state.sessions.ttl,
            "max_timeout": settings.max_timeout,
            "max_queued": state.sessions.max_queue,
            "queue_timeout": state.sessions.queue_timeout,
            "max_result_bytes": settings.max_result_bytes,
            "memory_limit_bytes": executor_settings.memory_limit if process else None,
            "cpu_limit_seconds": executor_settings.cpu_limit if process else None}


@router.delete("/{session_id}", response_model=DeletedResponse, responses={**NOT_FOUND, **GONE},
               summary="Delete a session (stopping what it runs)")
async def delete_session(session_id: str, request: Request):
    """Stops the session's running cell (its request, and any waiting, answer 410) and ends
    the session; its id is then unknown (404)."""
    state = get_state(request)
    try:
        await state.sessions.remove(session_id, owner_of(request))
    except SessionUnknown:
        raise HTTPException(404, f"session '{session_id}' not found") from None
    return json_response({"id": session_id, "deleted": True})
