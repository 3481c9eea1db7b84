"""Server settings: every field can be set from an environment variable named MLPY_<FIELD>.

Lists (`MLPY_API_KEYS`, `MLPY_CORS_ORIGINS`) accept either a JSON array or a comma-separated string.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLPY_", extra="ignore")

    # where `python -m mlpy_server` / `mlpy-server` listen
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)

    # the executor
    max_workers: int = Field(4, ge=1, le=256, description="worker threads of the AsyncMLExecutor")
    strict_security: bool = False
    isolation: Literal["thread", "process"] = Field(
        "process", description="where ML code runs: pre-started worker processes with OS "
        "resource limits (untrusted users), or threads of the server (MLPY_ISOLATION=thread)")
    worker_recycle_rss_mb: int = Field(
        160, ge=1, description="process isolation: a one-shot worker whose measured resident "
        "memory is above this many MiB after a run is replaced (sessions' processes never are)")

    # limits on what a request may ask for (422 when exceeded)
    max_timeout: float = Field(30.0, gt=0, le=30.0, description="largest accepted timeout (seconds)")
    max_code_length: int = Field(100_000, ge=1, description="characters of ML code per request")
    max_context_bytes: int = Field(256 * 1024, ge=2, description="JSON size of `context`")
    max_context_depth: int = Field(32, ge=1, description="nesting depth of `context`")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="request body cap (413)")
    # limits on what a response may carry (success false when exceeded)
    max_result_bytes: int = Field(1024 * 1024, ge=16)
    max_result_depth: int = Field(64, ge=1)

    # admission: at most max_workers run, at most max_queue wait (503 + Retry-After beyond)
    max_queue: int = Field(64, ge=0)
    queue_timeout: float = Field(30.0, gt=0, description="seconds a request may wait for a worker")
    max_concurrent_per_client: int | None = Field(
        None, ge=1, description="executions one API key (one client address without keys) "
        "may have running or waiting at once, 429 beyond; default half of max_workers (at "
        "least 1), so a few runaway requests cannot lock everyone else out")

    # security and traffic
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="accepted X-API-Key values; empty = no authentication")
    public_paths: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["/", "/health", "/ready", "/docs", "/docs/oauth2-redirect",
                                 "/redoc", "/openapi.json"],
        description="paths that need no API key and are not rate limited")
    rate_limit_per_minute: int = Field(
        1200, ge=0, description="requests per minute per API key or client address (public "
        "paths such as /health are not counted): far above what a person at a notebook "
        "sends, low enough that one script cannot hog the server; 0 = unlimited")
    rate_limit_burst: int | None = Field(
        None, ge=1, description="bucket size: requests that may arrive at once; default = "
        "the per-minute rate")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    header_timeout: float = Field(
        10.0, ge=0, description="`mlpy-server`: seconds a client has to send its request "
        "headers before the connection is closed (slow or half-open clients); 0 = none")
    body_timeout: float = Field(
        30.0, ge=0, description="seconds the server waits for each part of a request body "
        "(408 beyond); 0 = none")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]", "::1"],
        description="names the Host header may carry (`*.example.com` for subdomains, `*` for "
                    "any; against DNS rebinding); MLPY_HOST is added when it is a name or "
                    "address other than 0.0.0.0/::")

    # sessions
    session_ttl: float = Field(900.0, gt=0, description="idle seconds before a session expires")
    max_sessions: int = Field(100, ge=1, description="live sessions; the least recently used "
                              "idle one is evicted past it (503 when every one is busy)")
    max_sessions_per_key: int = Field(
        20, ge=1, description="live sessions per API key (per client address without keys); "
        "the key's least recently used idle one is evicted past it (429 when all are busy)")
    session_store: str = Field(
        "", description="where sessions are kept between cells: `sqlite:///path/sessions.db` "
        "(default: sessions.db under MLPY_DATA_DIR, else ~/.local/share/mlpy; survives "
        "restarts and is shared by the server processes of one machine), "
        "`redis://host:port/db` (several machines), or `memory` (this process only)")
    checkpoint_key: str = Field(
        "", description="a secret that signs session checkpoints (HMAC-SHA256), so a record "
        "written by anyone without it is refused; set the same value on every server")
    max_checkpoint_bytes: int = Field(
        16 << 20, ge=1024, description="largest session checkpoint written or read; a "
        "session whose state is larger is kept in its worker and the reply says it was not "
        "saved")
    max_session_queue: int = Field(
        8, ge=0, description="cells that may wait for a session's running cell (503 beyond); "
        "each waits at most `queue_timeout` seconds")

    # asynchronous executions (POST /executions), kept by the process that accepted them
    execution_retention_seconds: float = Field(
        600.0, gt=0, description="seconds a finished asynchronous execution's record and "
        "result are kept (then its id answers 410)")
    max_executions: int = Field(
        1000, ge=1, description="finished asynchronous executions kept; the oldest is "
        "dropped past it (410)")
    max_execution_bytes: int = Field(
        64 << 20, ge=1024, description="bytes of result JSON the kept asynchronous "
        "executions may hold in all; the oldest are dropped past it (410)")

    # notebooks
    max_notebook_cells: int = Field(500, ge=1)
    max_notebook_seconds: float = Field(
        120.0, gt=0, description="wall-clock seconds one notebook run may take in all (its "
        "cells' timeouts are cut to what is left; the rest are not run)")

    # operations
    switch_interval: float = Field(
        0.001, ge=0, description="sys.setswitchinterval for the server process (seconds; 0 = "
                                 "leave Python's 0.005): how long a worker running ML code may "
                                 "hold the GIL before the event loop gets a turn")
    gc_young_threshold: int = Field(
        50_000, ge=0, description="container allocations between the cyclic collector's "
        "young-generation passes in the server process (0 = leave Python's 700): a pass walks "
        "every list a program has just built while holding the GIL, so with thread isolation "
        "a frequent pass over a fresh ten-million-item list stalls the event loop")
    health_interval: float = Field(
        1.0, ge=0, description="seconds a /health test execution is reused for (0: every "
        "request runs one)")
    log_level: str = "info"
    graceful_shutdown_timeout: float = Field(
        5.0, ge=0, description="seconds in-flight requests get after SIGTERM before being stopped")

    @field_validator("api_keys", "public_paths", "cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _lists(cls, value):
        return _split_list(value)

    @model_validator(mode="after")
    def _own_host_allowed(self):
        if self.host not in ("0.0.0.0", "::", "") and self.host not in self.allowed_hosts:
            self.allowed_hosts = [*self.allowed_hosts, self.host]
        return self
