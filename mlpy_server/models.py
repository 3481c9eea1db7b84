"""The HTTP contract: request and response bodies (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from mlpy.language import RESERVED_WORDS
from mlpy.runtime.namespace import check_context_name

TIMEOUT_FIELD: dict[str, Any] = dict(gt=0, le=30, allow_inf_nan=False, strict=True,
                     description="seconds the code may run, in (0, 30]; time spent waiting for "
                                 "a free worker is not counted")

EXECUTE_EXAMPLES: dict[str, Any] = {
    "simple": {"summary": "Simple calculation",
               "value": {"code": "result = 2 + 2;", "timeout": 5.0}},
    "context": {"summary": "With context variables",
                "value": {"code": "result = x + y;", "timeout": 5.0,
                          "context": {"x": 10, "y": 20}}},
    "loop": {"summary": "With loops",
             "value": {"code": "sum = 0;\ni = 1;\nwhile (i <= 100) {\n    sum = sum + i;\n"
                               "    i = i + 1;\n}\nresult = sum;", "timeout": 5.0}},
    "for": {"summary": "Iterating over a context array",
            "value": {"code": "sum = 0;\nfor (n in numbers) {\n    sum = sum + n;\n}\n"
                              "result = sum;", "context": {"numbers": [1, 2, 3, 4, 5]},
                      "timeout": 5.0}},
    "print": {"summary": "Printed output",
              "value": {"code": "print(\"hello\", [1, true, null]);\nresult = 1;"}},
}


# An ML identifier that is not a reserved word and does not start with `_` (spec §12.2).
# Checked by the runtime's own rule (its messages say which rule a name breaks); the OpenAPI
# schema carries the same rule as one pattern under `propertyNames`, so schema validators
# enforce it too.
CONTEXT_NAME = (r"^(?!(?:" + "|".join(sorted(RESERVED_WORDS)) + r")$)[A-Za-z][A-Za-z0-9_]*$")


def _context_name(name: str) -> str:
    check_context_name(name)          # ValueError: 'if' is an ML reserved word, ...
    return name


def _not_blank(code: str) -> str:
    if not code.strip():
        raise ValueError("code is blank")
    return code


Context = Annotated[
    dict[Annotated[str, AfterValidator(_context_name)], Any] | None,
    WithJsonSchema({"anyOf": [{"type": "object", "propertyNames": {"pattern": CONTEXT_NAME}},
                              {"type": "null"}]})]
Code = Annotated[str, AfterValidator(_not_blank)]
CODE_FIELD: dict[str, Any] = dict(min_length=1, json_schema_extra={"pattern": r"\S"})

# Request bodies refuse fields they do not know: `"timout": 30` is a 422, never a silent 5 s.
REQUEST_CONFIG = ConfigDict(extra="forbid")


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(**REQUEST_CONFIG, json_schema_extra={"examples": [
        EXECUTE_EXAMPLES["context"]["value"], EXECUTE_EXAMPLES["simple"]["value"]]})

    code: Code = Field(..., **CODE_FIELD,
                      description="ML source; `result` is returned as `value`")
    timeout: float = Field(5.0, **TIMEOUT_FIELD)
    context: Context = Field(
        None, description="variables made available to the program (JSON values); names are "
                          "ML identifiers, not reserved words, not starting with `_`")


class TracebackFrame(BaseModel):
    """One frame of the ML call stack of an uncaught error (outermost first)."""

    file: str | None = Field(None, description="the user module's file the frame's code is "
                                               "in; null for the code of a request")
    program: str | None = Field(None, description="id of the program text the code came from "
                                                  "(the same for every frame of one request)")
    line: int | None = None
    column: int | None = None
    function: str | None = Field(None, description="the ML function; null at top level, "
                                                   "`<function>` for an arrow function")
    source: str | None = Field(None, description="the frame's ML source line")
    repeat: int = Field(0, description="the frame came this many more times in a row "
                                       "(recursion)")
    skipped: int = Field(0, description="calls left out after this frame (a deep stack)")


class ExecuteResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"success": True, "value": 30, "error": None, "execution_time": 0.0004,
         "transpile_time": 0.0011, "stdout": "", "stdout_truncated": False,
         "error_type": None, "line": None, "column": None},
        {"success": False, "value": None, "error": "name 'undefined_variable' is not defined",
         "execution_time": 0.0002, "transpile_time": 0.0009, "stdout": "",
         "stdout_truncated": False, "error_type": "NameError", "line": 1, "column": 10},
    ]})

    success: bool
    value: Any = Field(None, description="the ML variable `result` (null if never set)")
    error: str | None = None
    execution_time: float = Field(0.0, description="seconds spent running")
    transpile_time: float = Field(0.0, description="seconds spent compiling (≈0 when cached)")
    stdout: str = ""
    stdout_truncated: bool = False
    stderr: str = Field("", description="what the program wrote to standard error "
                                        "(console.error, console.warn)")
    error_type: str | None = None
    line: int | None = None
    column: int | None = None
    traceback: list[TracebackFrame] | None = Field(
        None, description="an uncaught runtime error's ML call stack, innermost last")


class CalculateResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"operation": "add", "a": 10, "b": 5, "result": 15, "execution_time_ms": 0.6}]})

    operation: str
    a: int | float
    b: int | float
    result: Any
    execution_time_ms: float


class ExecutorInfo(BaseModel):
    max_workers: int
    strict_security: bool
    isolation: str
    busy_workers: int = Field(description="one-shot executions running now")
    queued: int = Field(description="executions waiting for a worker or for their "
                        "session's running cell")
    worker_events: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="process isolation: worker processes `started`, "
        "`recycled`, `killed`, `crashed`, sessions `session_lost` with their process, and jobs "
        "`requeued` because their worker died before they reached it, each by reason")


class SessionActivity(BaseModel):
    running: int = Field(description="sessions running a cell now")
    queued: int = Field(description="cells waiting for their session's running cell")
    queue_lengths: list[int] = Field(description="waiting cells of each session with a line, "
                                     "longest first")
    created: int = 0
    expired: int = 0
    evicted: int = 0
    deleted: int = 0
    lost: int = 0


class TestExecution(BaseModel):
    success: bool
    execution_time_ms: float
    via: Literal["executor", "inline"] = Field(
        "executor", description="`inline` when every worker was busy: the test program ran "
                                "beside the pool so that /health never waits behind user code")
    error: str | None = None
    age_seconds: float = Field(0.0, description="how long ago the test ran (it runs at most "
                               "once per MLPY_HEALTH_INTERVAL seconds)")


class HealthResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "healthy",
         "executor": {"max_workers": 4, "strict_security": False, "isolation": "process",
                      "busy_workers": 0, "queued": 0},
         "test_execution": {"success": True, "execution_time_ms": 0.4, "via": "executor",
                            "error": None},
         "version": "0.1.0", "pid": 4242, "uptime_seconds": 12.5, "sessions": 0,
         "session_activity": {"running": 0, "queued": 0, "queue_lengths": [], "created": 0,
                              "expired": 0, "evicted": 0, "deleted": 0, "lost": 0}}]})

    status: Literal["healthy", "degraded", "unhealthy"]
    executor: ExecutorInfo
    test_execution: TestExecution
    version: str
    pid: int
    uptime_seconds: float
    sessions: int = Field(description="sessions with a worker in this server process")
    session_store: str = Field(description="where sessions live between cells: memory, "
                                           "sqlite or redis (MLPY_SESSION_STORE)")
    session_activity: SessionActivity


class ReadyResponse(BaseModel):
    ready: bool
    reason: str | None = None


class RootResponse(BaseModel):
    name: str
    version: str
    endpoints: dict[str, str]


class ErrorDetail(BaseModel):
    detail: Any


class SessionCreated(BaseModel):
    id: str
    ttl_seconds: float = Field(description="the session expires after this many idle seconds")


class SessionExecuteRequest(BaseModel):
    model_config = ConfigDict(**REQUEST_CONFIG, json_schema_extra={"examples": [
        {"code": "a = 40;", "timeout": 5.0}, {"code": "a + 2", "timeout": 5.0}]})

    code: Code = Field(..., **CODE_FIELD, description="one cell of ML; the last statement may "
                                                     "omit its `;`")
    timeout: float = Field(5.0, **TIMEOUT_FIELD)
    context: Context = Field(
        None, description="variables bound (as copies) into the session before this cell runs; "
                          "they stay bound for later cells")


class SessionExecuteResponse(ExecuteResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"success": True, "value": None, "error": None, "execution_time": 0.0003,
         "transpile_time": 0.0008, "stdout": "", "stdout_truncated": False,
         "error_type": None, "line": None, "column": None, "execution_count": 2,
         "display_value": 42, "display": {"text/plain": "42"}, "display_error": None}]})

    execution_count: int
    display_value: Any = Field(None, description="the value of a final expression statement "
                                                 "(null when there is none or it is null)")
    display: dict[str, Any] | None = Field(
        None, description="MIME bundle of the final expression's value, as a Jupyter kernel "
                          "shows it: text/plain (ML form) and, for arrays/objects, "
                          "application/json")
    display_error: str | None = Field(
        None, description="set when the final expression's value has no JSON form "
                          "(`display_value` is then null; `display` still has its text)")
    restored: bool = Field(
        False, description="the session's state was re-created from its checkpoint before "
        "this cell ran (its worker had died, the server restarted, or another server process "
        "ran its last cells); `lost` names what could not be")
    lost: list[str] = Field(
        default_factory=list, description="variables a restore could not bring back "
        "(closures, iterators, library objects), with why in `lost_reasons`")
    lost_reasons: dict[str, str] = Field(default_factory=dict)
    checkpoint_error: str | None = Field(
        None, description="set when the session's state after this cell could not be saved "
        "(too large for MLPY_MAX_CHECKPOINT_BYTES, or the store failed): a restore would bring "
        "back the state before it")


class VariableInfo(BaseModel):
    name: str
    type: str
    repr: str


class SessionLimits(BaseModel):
    isolation: Literal["thread", "process"]
    ttl_seconds: float = Field(description="idle seconds before the session expires")
    max_timeout: float = Field(description="largest timeout a cell may ask for")
    max_queued: int = Field(description="cells that may wait for the running one")
    queue_timeout: float = Field(description="seconds a waiting cell may wait")
    max_result_bytes: int
    memory_limit_bytes: int | None = Field(description="the session process's address-space "
                                           "limit (null in thread isolation)")
    cpu_limit_seconds: float | None = Field(description="the session process's lifetime CPU "
                                            "limit (null in thread isolation)")


class SessionInfo(BaseModel):
    id: str
    status: Literal["idle", "running", "lost"]
    lost_reason: str | None = Field(None, description="why the session's process died")
    created_at: float
    last_used_at: float
    execution_count: int
    running: bool
    queued: int = Field(description="cells waiting for the running one")
    limits: SessionLimits
    variables: list[VariableInfo]


class SessionSummary(BaseModel):
    id: str
    status: Literal["idle", "running", "lost"]
    created_at: float
    last_used_at: float
    execution_count: int


class SessionList(BaseModel):
    sessions: list[SessionSummary] = Field(description="the caller's sessions (its API key's; "
                                                       "without keys, its client address's)")


class InterruptResponse(BaseModel):
    id: str
    interrupted: bool = Field(description="a running cell was told to stop (its own reply "
                                          "says `Execution interrupted`); false: none ran")


class ResetResponse(BaseModel):
    id: str
    reset: bool


class DeletedResponse(BaseModel):
    id: str
    deleted: bool


class ExecutionState(BaseModel):
    """An asynchronous execution (POST /executions) and, once `done`, its result."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "Qm9vdHN0cmFwcGluZyBpZA", "status": "queued", "created_at": 1767225600.0,
         "started_at": None, "finished_at": None, "expires_at": None, "error": None,
         "result": None},
        {"id": "Qm9vdHN0cmFwcGluZyBpZA", "status": "done", "created_at": 1767225600.0,
         "started_at": 1767225600.01, "finished_at": 1767225600.5,
         "expires_at": 1767226200.5, "error": None,
         "result": {"success": True, "value": 4, "error": None, "execution_time": 0.0004,
                    "transpile_time": 0.001, "stdout": "", "stdout_truncated": False,
                    "stderr": "", "error_type": None, "line": None, "column": None,
                    "traceback": None}}]})

    id: str
    status: Literal["queued", "running", "done", "cancelled", "failed"] = Field(
        description="`queued` (waiting for a worker), `running`, `done` (`result` is the "
        "/execute body, whatever its `success`), `cancelled` (DELETE, or the server shut "
        "down before it ran), `failed` (it never produced a result: `error` says why)")
    created_at: float = Field(description="Unix time the execution was accepted")
    started_at: float | None = Field(description="Unix time it got a worker")
    finished_at: float | None
    expires_at: float | None = Field(
        description="Unix time after which the finished record is dropped (then 410); "
                    "it can go earlier when more than MLPY_MAX_EXECUTIONS records or "
                    "MLPY_MAX_EXECUTION_BYTES of results are kept")
    error: str | None = Field(description="why it failed or was cancelled")
    result: ExecuteResponse | None = Field(description="when `done`: what POST /execute "
                                                       "would have answered")


class ExecutionSummary(BaseModel):
    """One of the caller's asynchronous executions, without its result (GET /executions/{id}
    has it)."""

    id: str
    status: Literal["queued", "running", "done", "cancelled", "failed"]
    created_at: float
    started_at: float | None
    finished_at: float | None
    expires_at: float | None
    error: str | None
    success: bool | None = Field(description="when `done`: the result's `success`")


class ExecutionList(BaseModel):
    executions: list[ExecutionSummary] = Field(
        description="the caller's executions kept by this server process (its API key's; "
                    "without keys, its client address's), oldest first")


NOTEBOOK_EXAMPLE = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "ml", "display_name": "ML", "language": "ml"}},
    "cells": [
        {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Sums"},
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None,
         "outputs": [], "source": "xs = [1, 2, 3];\nprint(\"sum\", xs[0] + xs[1] + xs[2]);"},
        {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": None,
         "outputs": [], "source": "{\"n\": len(xs), \"xs\": xs}"},
    ],
}
