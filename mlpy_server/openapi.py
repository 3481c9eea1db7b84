"""The OpenAPI document as the whole contract: what FastAPI derives from the routes, plus what
the pure-ASGI gateway does for every route and so no route declares itself — the `X-API-Key`
security scheme (the Authorize button of /docs), 401 where a key is needed, 400 for a Host
header the server does not answer to (MLPY_ALLOWED_HOSTS), and the headers every reply
carries (`X-Request-ID`; `Retry-After` with 429 and 503).  Built once, at the first request
for it: no per-request dependency does this work.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from .settings import Settings

SCHEME = "APIKeyHeader"
_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}

REQUEST_ID = {"description": "the request's id (the caller's X-Request-ID, else a new one); "
                             "log lines of the request carry it",
              "schema": {"type": "string"}}
RETRY_AFTER = {"description": "seconds to wait before trying again",
               "schema": {"type": "string", "pattern": r"^\d+$"}}
UNAUTHORIZED = {"description": "API keys are configured and none, or a wrong one, was sent "
                               "in X-API-Key",
                "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/ErrorDetail"}}}}
BAD_HOST = "the Host header names a host this server does not answer to (MLPY_ALLOWED_HOSTS)"


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the completed document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    schema.setdefault("components", {})["securitySchemes"] = {SCHEME: {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "one of the server's MLPY_API_KEYS (only when keys are configured)"}}
    schema = copy.deepcopy(schema)     # the routes' examples are shared by every app
    _limits(schema, settings)
    public = set(settings.public_paths)
    keys = bool(settings.api_keys)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            _add_bad_host(responses)
            if path not in public:
                # with keys the operation needs one; without, sending one does no harm
                operation["security"] = [{SCHEME: []}] if keys else [{}, {SCHEME: []}]
                if keys:
                    responses.setdefault("401", UNAUTHORIZED)
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", REQUEST_ID)
                if status in ("429", "503"):
                    headers.setdefault("Retry-After", RETRY_AFTER)
    return schema


def _add_bad_host(responses: dict[str, Any]) -> None:
    """The gateway checks Host before any route runs, so every operation can answer 400."""
    existing = responses.get("400")
    if existing is None:
        responses["400"] = {"description": BAD_HOST, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorDetail"}}}}
    elif BAD_HOST not in existing.get("description", ""):
        existing["description"] = f"{existing.get('description', '')}; or {BAD_HOST}"


def _limits(schema: dict[str, Any], settings: Settings) -> None:
    """The configured limits where the routes' models carry the defaults: a timeout's
    maximum (MLPY_MAX_TIMEOUT) and default (5 s, cut to that maximum), code's maxLength
    (MLPY_MAX_CODE_LENGTH); examples asking for more than the maximum ask for it."""
    limit = settings.max_timeout

    def timeout(field: dict[str, Any]) -> None:
        field["maximum"] = limit
        field["default"] = min(field.get("default", limit), limit)
        field["description"] = (f"seconds the code may run, in (0, {limit:g}]; time spent "
                                "waiting for a free worker is not counted")

    def clamp(value: Any) -> None:
        if isinstance(value, dict) and isinstance(value.get("timeout"), (int, float)):
            value["timeout"] = min(value["timeout"], limit)

    for model in schema.get("components", {}).get("schemas", {}).values():
        props = model.get("properties", {})
        if "timeout" in props and "code" in props:          # the request bodies with code
            timeout(props["timeout"])
            props["code"]["maxLength"] = settings.max_code_length
            for example in model.get("examples", []):
                clamp(example)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", []):
                if param.get("name") == "timeout" and param.get("in") == "query":
                    timeout(param["schema"])
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for example in media.get("examples", {}).values():
                    clamp(example.get("value"))
                clamp(media.get("example"))
