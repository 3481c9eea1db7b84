from __future__ import annotations

import time

from fastapi import APIRouter, Request

from .. import __version__
from ..admission import retry_after
from ..deps import get_state, json_response
from ..metrics import worker_events
from ..models import HealthResponse, ReadyResponse, RootResponse

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthResponse,
            responses={503: {"model": HealthResponse,
                             "description": "unhealthy: the test execution failed"}},
            summary="Health, executor load and a test execution")
async def health(request: Request):
    """Runs `result = 1 + 1;` on a free worker at most once per `MLPY_HEALTH_INTERVAL`
    seconds (requests meanwhile share its outcome; `test_execution.age_seconds` says how old
    it is).  When every worker is busy it does not wait: status is `degraded` and the test
    program runs beside the pool instead.  The load figures are always current."""
    state = get_state(request)
    adm = state.admission
    ok, error, via, elapsed_ms, age = await state.probe.check(state)
    saturated = adm.saturated or state.draining
    status = "unhealthy" if not ok else ("degraded" if saturated else "healthy")
    body = {
        "status": status,
        "executor": {"max_workers": state.max_workers,
                     "strict_security": state.strict_security,
                     "isolation": state.isolation,
                     "busy_workers": adm.running, "queued": state.queued,
                     **worker_counts(state.executor)},
        "test_execution": {"success": ok, "execution_time_ms": round(elapsed_ms, 3),
                           "via": via, "error": error, "age_seconds": round(age, 3)},
        "version": __version__,
        "pid": state.pid,
        "uptime_seconds": round(time.time() - state.started, 3),
        "sessions": len(state.sessions),
        "session_store": state.sessions.kind,
        "session_activity": {"running": state.sessions.running,
                             "queued": state.sessions.queued,
                             "queue_lengths": sorted((q for _, q in state.sessions.queues()),
                                                     reverse=True),
                             **dict(state.sessions.counts)},
    }
    return json_response(body, 200 if ok else 503)


def worker_counts(executor: object) -> dict:
    """Worker processes started, recycled, killed, crashed (and sessions lost with their
    process), by reason: {"worker_events": {"recycled": {"rss": 2}, ...}} (empty in thread
    isolation, or for an executor without stats)."""
    events: dict[str, dict[str, float]] = {}
    for (event, reason), count in worker_events(executor):
        events.setdefault(event, {})[reason] = count
    return {"worker_events": events}


@router.get("/ready", response_model=ReadyResponse,
            responses={503: {"model": ReadyResponse, "description": "no worker can take a job"}},
            summary="Readiness: 503 when no worker can take a job")
async def ready(request: Request):
    state = getattr(request.app.state, "ml", None)
    if state is None:
        return json_response({"ready": False, "reason": "starting"}, 503,
                             {"Retry-After": str(retry_after(1))})
    if state.draining:
        return json_response({"ready": False, "reason": "shutting down"}, 503,
                             {"Retry-After": str(retry_after(5))})
    if state.admission.saturated:
        return json_response({"ready": False, "reason": f"all {state.max_workers} workers "
                              f"are busy ({state.admission.waiting} queued)"}, 503,
                             {"Retry-After": str(retry_after(1))})
    return json_response({"ready": True, "reason": None})


@router.get("/", response_model=RootResponse, summary="Name, version and endpoints")
async def root():
    return json_response({
        "name": "mlpy server",
        "version": __version__,
        "endpoints": {
            "POST /execute": "run ML code: {code, timeout, context} -> {success, value, ...}",
            "GET /calculate": "operation=add|subtract|multiply|divide|power&a=&b=",
            "GET /health": "health, executor load, test execution",
            "GET /ready": "readiness (503 when no worker can take a job)",
            "GET /metrics": "Prometheus metrics",
            "POST /executions": "start ML code in the background: 202 with its id",
            "GET /executions/{id}": "an execution's status and, when done, its result",
            "DELETE /executions/{id}": "cancel an execution",
            "GET /executions": "the caller's executions",
            "POST /sessions": "create a session (persistent variables)",
            "GET /sessions": "the caller's sessions",
            "POST /sessions/{id}/execute": "run a cell in a session",
            "GET /sessions/{id}": "a session's variables",
            "DELETE /sessions/{id}": "delete a session",
            "POST /notebooks/execute": "run an nbformat v4 notebook of ML cells",
            "GET /docs": "interactive API documentation (Swagger UI)",
            "GET /redoc": "API documentation (ReDoc)",
        },
    })
