"""`create_app(settings)`: the FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import math
import signal
import sys
import threading
import time
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError

from . import __version__
from .deps import json_response
from .logs import REQUEST_ID, configure_logging, install_record_factory, report_internal_error
from . import openapi
from .middleware import DOCS_ASSETS, Gateway
from .routers import calculate, execute, executions, health, metrics, notebooks, sessions
from .deps import ClientGone
from .admission import retry_after
from .session_store import SessionGone, SessionLimit
from .shared_sessions import store_errors
from .settings import Settings
from .state import Executor, ServerState

log = logging.getLogger("mlpy.server")

DESCRIPTION = """
Runs programs in **ML**, a small C/JavaScript-like scripting language compiled to Python,
on a pool of workers (`AsyncMLExecutor`): one-shot executions, a calculator, sessions that
keep variables across executions like a notebook, and whole Jupyter notebooks of ML cells.

**Isolation.** By default (`MLPY_ISOLATION=process`) ML runs in worker processes with OS
limits, and each session has a process of its own. `MLPY_ISOLATION=thread` is one trust
domain: code runs in the server process with no memory cap — for a single trusted user.

Parse, runtime and timeout failures of ML code are HTTP 200 with `success: false`; 4xx
answers are about the request itself. Send `X-API-Key` when the server is configured with
API keys. Every response carries an `X-Request-ID`.
"""


def default_executor(settings: Settings) -> Executor:
    from mlpy.executor import AsyncMLExecutor, ExecutorSettings

    try:   # (called in the lifespan: the workers' replies are read on the server's loop)
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    return AsyncMLExecutor(max_workers=settings.max_workers,
                           loop=loop,
                           strict_security=settings.strict_security,
                           isolation=settings.isolation,
                           settings=ExecutorSettings(
                               recycle_rss=settings.worker_recycle_rss_mb << 20,
                               checkpoint_max_bytes=settings.max_checkpoint_bytes,
                               checkpoint_key=settings.checkpoint_key.encode() or None,
                               max_result_bytes=settings.max_result_bytes))


def _shutdown(executor: Executor) -> None:
    executor.shutdown(wait=True, cancel_pending=True)   # also stop what is queued or running


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods the request's path supports, from the OpenAPI document (every route of
    the API is in it) and the app's own top-level routes (/docs, /openapi.json)."""
    from starlette.routing import compile_path

    path = request.url.path
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            methods |= {m.upper() for m in operations if m.isalpha() and m != "parameters"}
    for route in app.router.routes:
        if getattr(route, "path", None) == path:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _sweep(state: ServerState, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        state.executions.prune()
        try:
            await state.sessions.sweep()
        except Exception:            # the store is down: the next sweep tries again
            log.warning("sweeping expired sessions failed", exc_info=True)


async def _close_sessions(state: ServerState) -> None:
    """Stop every session's worker; a shared store keeps them for the next start."""
    try:
        await state.sessions.close()
    except Exception:
        log.exception("closing the session store failed")


class _Holder:
    state: ServerState | None = None


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _hook_signals(state: ServerState) -> Callable[[], None]:
    """On SIGTERM refuse new work at once and give running executions
    `graceful_shutdown_timeout` seconds to finish before they are stopped; on SIGINT (Ctrl-C)
    stop them at once. Then the server's own handler shuts down (uvicorn waits for the open
    requests, which by then have ended). Returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    grace = state.settings.graceful_shutdown_timeout
    installed: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # default or ignored: not ours to change (e.g. under gunicorn)
        wait = grace if sig == signal.SIGTERM else 0.0

        def handler(signum, frame, previous=previous, wait=wait):
            loop.call_soon_threadsafe(_drain_after, state, wait)
            previous(signum, frame)

        signal.signal(sig, handler)
        installed[sig] = (handler, previous)

    def undo():
        for sig, (handler, previous) in installed.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)

    return undo


def _drain_after(state: ServerState, grace: float) -> None:
    """Refuse new executions now; stop the running ones after `grace` seconds."""
    state.draining = True
    running = len(state.running_tasks)
    if grace > 0 and running:
        log.info("shutting down: %d running execution(s) get %g s to finish", running, grace)
        asyncio.get_running_loop().call_later(grace, _drain, state)
    else:
        _drain(state)


def _drain(state: ServerState) -> None:
    stopped = state.stop_running()
    if stopped:
        log.info("shutting down: stopped %d running execution(s)", stopped)


def _pace_the_interpreter(settings: Settings) -> Callable[[], None]:
    """Set how often the event loop gets the GIL back while the server runs; returns the undo."""
    previous_interval = sys.getswitchinterval()
    previous_gc = gc.get_threshold()
    if settings.switch_interval:
        # CPU-bound ML code on the workers holds the GIL for a whole switch interval at a
        # time; a shorter interval keeps the event loop (/health, /ready) responsive.
        sys.setswitchinterval(settings.switch_interval)
    if settings.gc_young_threshold:
        # A young-generation pass over a program's fresh 10M-item list held the GIL 20-50 ms,
        # every 700 allocations (issue 18); fewer passes catch fewer of them.
        gc.set_threshold(settings.gc_young_threshold, *previous_gc[1:])

    def undo() -> None:
        sys.setswitchinterval(previous_interval)
        gc.set_threshold(*previous_gc)
    return undo


def create_app(settings: Settings | None = None, *,
               executor_factory: Callable[[Settings], Executor] | None = None,
               clock: Callable[[], float] = time.monotonic, lean: bool = True) -> FastAPI:
    """The app. `clock` (seconds, monotonic) drives session expiry and rate limits; `lean`
    serves `POST /execute` on its short path (execute.LeanExecute; off only for the tests
    that compare the two paths)."""
    settings = settings or Settings()
    make_executor = executor_factory or default_executor
    holder = _Holder()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        install_record_factory()
        stop_logging = configure_logging(settings.log_level)
        undo_pace = _pace_the_interpreter(settings)
        executor = make_executor(settings)
        state = ServerState(settings, executor, clock)
        app.state.ml = holder.state = state
        undo_signals = _hook_signals(state)
        # What start-up made (the parser tables, the app, the compiled library) lives as long
        # as the process: out of the collector's sight, a full collection no longer scans
        # it — those scans were the 50-100 ms tail of every latency percentile (issue 15).
        gc.collect()
        gc.freeze()

        sweeper = asyncio.create_task(_sweep(state, max(0.05, min(60.0,
                                                                  settings.session_ttl / 4))))
        log.info("mlpy server %s started: %d workers, strict_security=%s, isolation=%s, "
                 "session store=%s", __version__, state.max_workers, state.strict_security,
                 state.isolation, state.sessions.kind)
        if state.isolation == "thread":
            log.warning("thread isolation is one trust domain: ML code runs in this process "
                        "with no memory cap, and one user's runaway code affects the others; "
                        "serve untrusted users with MLPY_ISOLATION=process")
        try:
            yield
        finally:
            undo_signals()
            sweeper.cancel()
            _drain(state)
            await state.executions.close()
            await _close_sessions(state)
            try:
                await asyncio.wait_for(asyncio.to_thread(_shutdown, executor), 5.0)
            except asyncio.TimeoutError:
                log.warning("executor shutdown took more than 5 s; leaving it")
            except Exception:
                log.exception("executor shutdown failed")
            app.state.ml = holder.state = None
            undo_pace()
            log.info("mlpy server stopped")
            stop_logging()

    extra: dict[str, Any] = {}
    if "strict_content_type" in inspect.signature(FastAPI.__init__).parameters:
        extra["strict_content_type"] = False  # a JSON body is JSON whatever its Content-Type
    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package (served
    # under DOCS_ASSETS), never from a CDN: the pages work on a machine without internet
    app = FastAPIOffline(title="mlpy server", version=__version__, description=DESCRIPTION,
                         lifespan=lifespan, static_url=DOCS_ASSETS, **extra)
    app.state.ml = None
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def validation_failed(request: Request, exc: RequestValidationError):
        errors = jsonable_encoder(exc.errors(), custom_encoder={BaseException: str})
        return json_response({"detail": _finite(errors)}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            # FastAPI's 400 for a body the JSON parser could not descend: say why, as a 422
            return json_response({"detail": [{"type": "json_invalid", "loc": ["body"],
                                              "msg": "the JSON body is nested too deeply",
                                              "input": None}]}, 422)
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path; every route's
            # count (GET and POST /sessions are two routes)
            allowed = _allowed_methods(app, request)
            return json_response({"detail": "Method Not Allowed"}, 405,
                                 {"Allow": ", ".join(allowed)})
        return await http_exception_handler(request, exc)

    @app.exception_handler(SessionGone)
    async def session_gone(request: Request, exc: SessionGone):
        return json_response({"detail": f"session ended: {exc.reason}",
                              "error_type": "SessionLost", "reason": exc.reason}, 410)

    @app.exception_handler(SessionLimit)
    async def session_limit(request: Request, exc: SessionLimit):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return json_response({"detail": str(exc)}, exc.status, headers)

    for store_error in store_errors():
        @app.exception_handler(store_error)
        async def store_unavailable(request: Request, exc: Exception):
            log.warning("session store unavailable: %s", exc)
            return json_response({"detail": f"session store unavailable: {exc}"}, 503,
                                 {"Retry-After": str(retry_after(2))})

    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, exc: ClientGone):
        # nobody reads this: the client has gone (499, as nginx logs it)
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):  # pragma: no cover - a bug
        report_internal_error("unhandled error", exc)
        return json_response({"detail": "internal server error",
                              "request_id": REQUEST_ID.get()}, 500)

    for module in (health, execute, executions, calculate, sessions, notebooks, metrics):
        app.include_router(module.router)
    openapi.install(app, settings)

    app.add_middleware(Gateway, holder=holder, settings=settings,
                       lean=execute.LeanExecute(app) if lean else None)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    return app
