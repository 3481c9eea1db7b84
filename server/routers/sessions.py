from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request

from ..deps import (check_code, check_request_context, check_timeout, get_state,
                    json_response, owner_of, run_guarded)
from ..models import (DeletedResponse, ErrorDetail, SessionCreated, SessionExecuteRequest,
                      SessionExecuteResponse, SessionInfo)
from ..session_store import SessionGone
from ..state import ServerState
from ..streaming import stream_execution, wants_stream
from .execute import COMMON_ERRORS

router = APIRouter(prefix="/sessions", tags=["sessions"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no such session (or it expired)"}}

SESSION_EXAMPLES: dict[str, Any] = {
    "assign": {"summary": "Define a variable", "value": {"code": "a = 40;", "timeout": 5.0}},
    "expression": {"summary": "Show a final expression", "value": {"code": "a + 2"}},
    "function": {"summary": "Define and call a function",
                 "value": {"code": "function twice(x) { return 2 * x; }\ntwice(a)"}},
}


def _entry(request: Request, session_id: str):
    state = get_state(request)
    owner = owner_of(request)
    entry = state.sessions.get(session_id, owner)
    if entry is None:
        reason = state.sessions.gone_reason(session_id, owner)
        if reason is not None:
            raise SessionGone(reason)
        raise HTTPException(404, f"session '{session_id}' not found")
    return state, entry


@router.post("", response_model=SessionCreated, status_code=201,
             responses=COMMON_ERRORS, summary="Create a session")
async def create_session(request: Request):
    """A session keeps its variables and functions across executions, like a notebook.
    It expires after `ttl_seconds` without use; the least recently used is evicted when
    the server holds its maximum number of sessions."""
    state = get_state(request)
    entry = state.sessions.create(owner_of(request))
    return json_response({"id": entry.id, "ttl_seconds": state.sessions.ttl}, 201)


GONE: dict[int | str, dict[str, Any]] = {
    410: {"description": "the session has ended without its owner deleting it: expired, "
                         "evicted, or lost (its worker process died: memory limit, kill, "
                         "crash, CPU limit); `error_type` is `SessionLost` and `reason` "
                         "says why"}}


@router.post("/{session_id}/execute", response_model=SessionExecuteResponse,
             responses={**NOT_FOUND, **GONE, **COMMON_ERRORS}, summary="Run a cell in a session")
async def execute_in_session(session_id: str, request: Request,
                             body: SessionExecuteRequest = Body(
                                 openapi_examples=SESSION_EXAMPLES)):
    """Runs `code` interactively: the last statement may omit its `;`, and the value of a
    final expression statement comes back as `display_value` (and as the MIME bundle
    `display`).  Executions in one session run one at a time, in order."""
    state, entry = _entry(request, session_id)
    check_code(state, body.code)
    check_timeout(state, body.timeout)
    check_request_context(state, body.context)
    if wants_stream(request):
        return stream_execution(lambda on_output: _run_cell(state, entry, body, on_output),
                                lambda out: out)
    return json_response(await _run_cell(state, entry, body, None))


async def _run_cell(state: ServerState, entry: Any, body: SessionExecuteRequest,
                    on_output: Callable[[str, str], object] | None) -> dict[str, Any]:
    """One cell under the session's lock: the reply body, or SessionGone once it is lost."""
    async with entry.lock:
        state.sessions.touch(entry)
        session = entry.session
        result = await run_guarded(state, "session", lambda: session.execute(
            body.code, timeout=body.timeout, interactive=True, context=body.context,
            on_output=on_output))
        if result.error_type == "SessionLost":
            state.record_execution("session", "lost", 0.0)
            reason = result.error or "session lost"
            state.sessions.lose(entry, reason)
            raise SessionGone(reason)
        entry.execution_count += 1
        state.sessions.touch(entry)
        out = state.render("session", result, display=True)
        out["execution_count"] = entry.execution_count
    return out


@router.get("/{session_id}", response_model=SessionInfo, responses={**NOT_FOUND, **GONE},
            summary="A session's variables")
async def get_session(session_id: str, request: Request):
    state, entry = _entry(request, session_id)
    return json_response({"id": entry.id, "created_at": entry.created_at,
                          "last_used_at": entry.last_used_at,
                          "execution_count": entry.execution_count,
                          "running": entry.running,
                          "variables": entry.session.variables()})


@router.delete("/{session_id}", response_model=DeletedResponse, responses={**NOT_FOUND, **GONE},
               summary="Delete a session (stopping what it runs)")
async def delete_session(session_id: str, request: Request):
    state = get_state(request)
    if not state.sessions.delete(session_id, owner_of(request)):
        raise HTTPException(404, f"session '{session_id}' not found")
    return json_response({"id": session_id, "deleted": True})
