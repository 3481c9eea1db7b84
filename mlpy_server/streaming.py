"""Server-Sent Events for an execution (Accept: text/event-stream): `stdout`/`stderr` events
while the code runs (and `display_data` events for ML's display module: op, data, id), then
one `result` event with the same body the JSON reply would have.  Admission runs inside the
stream, so a full queue or a shutdown arrives as an `error` event carrying the status and
detail the JSON reply would have had (410 for a lost session)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from .session_store import SessionGone

R = TypeVar("R")


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def _data(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def stream_execution(start: Callable[[Callable[[str, str], object]], Awaitable[R]],
                     finish: Callable[[R], Awaitable[dict[str, Any]]]) -> EventSourceResponse:
    """Run `start(on_output)` in a task and stream its output as it arrives; `finish` turns
    the result into the final event's body (and records it)."""
    events: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()

    def on_output(stream: str, text: str) -> None:
        events.put_nowait((stream, text))

    def event(item: tuple[str, str]) -> ServerSentEvent:
        stream, text = item
        if stream == "display":      # ML's display module: {"op", "data", "id"} as it was sent
            from mlpy.stdlib.display import message_of
            return ServerSentEvent(_data(message_of(text) or {}), event="display_data")
        return ServerSentEvent(_data({"text": text}), event=stream)

    async def produce() -> AsyncIterator[ServerSentEvent]:
        task = asyncio.ensure_future(start(on_output))
        task.add_done_callback(lambda _t: events.put_nowait(None))
        try:
            while (item := await events.get()) is not None:
                yield event(item)
            while not events.empty():  # output queued after the task ended
                item = events.get_nowait()
                if item is not None:
                    yield event(item)
            try:
                result = task.result()
            except HTTPException as exc:
                yield ServerSentEvent(_data({"status": exc.status_code, "detail": exc.detail}),
                                      event="error")
                return
            except SessionGone as exc:
                yield ServerSentEvent(_data({"status": 410, "detail": f"session ended: "
                                             f"{exc.reason}", "error_type": "SessionLost",
                                             "reason": exc.reason}), event="error")
                return
            body = await finish(result)
            if body.get("display") is not None:
                yield ServerSentEvent(_data(body["display"]), event="display")
            yield ServerSentEvent(_data(body), event="result")
        finally:
            if not task.done():  # the client went away: stop the run
                task.cancel()

    return EventSourceResponse(produce(), ping=15)
