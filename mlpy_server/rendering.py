"""Executor results as JSON reply bodies: values converted and capped, display bundles."""

from __future__ import annotations

from typing import Any

from mlpy.executor import AsyncMLResult

from .jsonvalues import NotSerialisable, to_json
from .settings import Settings


def render_result(result: AsyncMLResult, s: Settings, *,
                  display: bool = False) -> tuple[dict[str, Any], str]:
    """An executor result as the JSON body of /execute (and sessions), and its outcome for
    the metrics: success, error, timeout or unserialisable."""
    body: dict[str, Any] = {
        "success": bool(result.success),
        "value": None,
        "error": result.error,
        "execution_time": float(result.execution_time or 0.0),
        "transpile_time": float(result.transpile_time or 0.0),
        "stdout": result.stdout or "",
        "stdout_truncated": bool(result.stdout_truncated),
        "stderr": result.stderr or "",
        "error_type": result.error_type,
        "line": result.line,
        "column": result.column,
        "traceback": result.traceback,
    }
    outcome = "success"
    if result.success:
        try:
            body["value"] = to_json(result.value, name="result",
                                    max_depth=s.max_result_depth,
                                    max_bytes=s.max_result_bytes)[0]
        except NotSerialisable as exc:
            body.update(success=False, error=f"result is not serialisable: {exc}",
                        error_type="SerialisationError")
            outcome = "unserialisable"
    else:
        if body["error"] is None:
            body["error"] = "execution failed"
        # the host's own event, never the error's type or text (a program chooses those)
        outcome = "timeout" if result.stopped_by == "timeout" else "error"
    if display:
        from mlpy.display import mime_bundle

        value = result.display_value
        body["display_value"] = None
        body["display"] = None
        body["display_error"] = None
        if value is not None:
            body["display"] = mime_bundle(value, max_json_bytes=s.max_result_bytes)
            try:
                body["display_value"] = to_json(value, name="display value",
                                                max_depth=s.max_result_depth,
                                                max_bytes=s.max_result_bytes)[0]
            except NotSerialisable as exc:
                body["display_error"] = f"display value is not serialisable: {exc}"
    return body, outcome
