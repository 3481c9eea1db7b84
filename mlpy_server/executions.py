"""Asynchronous executions (`POST /executions`): a run that outlives its request.

Each execution is a task of this server process that runs the code as `/execute` would —
under the same admission control and per-client share — and keeps the `/execute` body when it
ends.  Its record moves `queued` -> `running` -> `done` (the result is there, whatever its
`success`), `failed` (it never produced a result: a queue time-out, a shutdown) or
`cancelled` (`DELETE`).

Finished records are kept `retention` seconds, at most `max_kept` of them and at most
`max_bytes` of result JSON in all, the oldest dropped first; the ids of dropped records are
remembered (the last REMEMBERED) so that they answer 410 with the reason rather than 404.

Records live in the process that accepted them (the tasks run there): with several server
processes another process does not know the id (404).
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["queued", "running", "done", "cancelled", "failed"]
FINISHED = ("done", "cancelled", "failed")
REMEMBERED = 10_000


@dataclass
class Execution:
    id: str
    owner: str | None                       # the API key that may see it (None: no keys)
    tenant: str = ""                        # whose listing shows it (key, else address)
    status: Status = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None                # why it failed or was cancelled
    result: bytes | None = None             # the /execute body as JSON
    success: bool | None = None             # the result's success, once done
    expires: float = 0.0                    # the store's clock, once finished
    task: asyncio.Task | None = field(default=None, repr=False)
    stop_reason: str | None = field(default=None, repr=False)   # set by cancel() and close()
    refusal: Exception | None = field(default=None, repr=False)  # admission's 429/503
    ran: bool = field(default=False, repr=False)   # the program has ended: only the reply is left

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def head(self, retention: float) -> dict:
        """The record's state without its result."""
        return {"id": self.id, "status": self.status, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "expires_at": (self.finished_at + retention
                               if self.finished_at is not None else None),
                "error": self.error}

    def summary(self, retention: float) -> dict:
        """The listing's entry: the state and, when done, the result's success."""
        return {**self.head(retention), "success": self.success}

    def body(self, retention: float) -> bytes:
        """The reply: the record's state, with the result's JSON spliced in unchanged."""
        head = self.head(retention)
        text = json.dumps(head, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")
        return text[:-1] + b',"result":' + (self.result or b"null") + b"}"


class ExecutionUnknown(Exception):
    pass


class ExecutionGone(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Executions:
    """This process's asynchronous executions, by id."""

    def __init__(self, retention: float, max_kept: int, max_bytes: int,
                 clock: Callable[[], float] = time.monotonic):
        self.retention = retention
        self.max_kept = max_kept
        self.max_bytes = max_bytes
        self._clock = clock
        self._live: dict[str, Execution] = {}
        self._finished: collections.OrderedDict[str, Execution] = collections.OrderedDict()
        self._bytes = 0
        self._gone: collections.OrderedDict[str, tuple[str | None, str]] = \
            collections.OrderedDict()

    @property
    def live(self) -> int:
        return len(self._live)

    @property
    def kept(self) -> int:
        return len(self._finished)

    def start(self, owner: str | None, run: Callable[[Execution], Awaitable[None]],
              tenant: str = "") -> Execution:
        """A new record whose task is `run(record)`; the task must finish the record (finish)."""
        record = Execution(id=secrets.token_urlsafe(16), owner=owner, tenant=tenant)
        self._live[record.id] = record
        record.task = asyncio.ensure_future(run(record))
        return record

    def finish(self, record: Execution, status: Status, *, result: bytes | None = None,
               error: str | None = None, success: bool | None = None) -> None:
        record.status, record.result, record.error = status, result, error
        record.success = success
        record.finished_at = time.time()
        record.expires = self._clock() + self.retention
        record.task = None
        self._live.pop(record.id, None)
        self._finished[record.id] = record
        self._bytes += len(result or b"")
        self.prune()

    def prune(self) -> None:
        """Drop finished records past their time, then the oldest past the count or bytes."""
        now = self._clock()
        while self._finished:
            record = next(iter(self._finished.values()))
            if record.expires <= now:
                self._drop(record, f"expired: finished results are kept {self.retention:g} "
                                   "seconds (MLPY_EXECUTION_RETENTION_SECONDS)")
            elif len(self._finished) > self.max_kept:
                self._drop(record, f"evicted: at most {self.max_kept} finished executions are "
                                   "kept (MLPY_MAX_EXECUTIONS)")
            elif self._bytes > self.max_bytes:
                self._drop(record, f"evicted: finished results are kept up to "
                                   f"{self.max_bytes} bytes in all (MLPY_MAX_EXECUTION_BYTES)")
            else:
                break

    def _drop(self, record: Execution, reason: str) -> None:
        del self._finished[record.id]
        self._bytes -= len(record.result or b"")
        self._gone[record.id] = (record.owner, reason)
        while len(self._gone) > REMEMBERED:
            self._gone.popitem(last=False)

    def find(self, execution_id: str, owner: str | None) -> Execution:
        """The caller's record; ExecutionGone (with why) or ExecutionUnknown."""
        self.prune()
        record = self._live.get(execution_id) or self._finished.get(execution_id)
        if record is not None and record.owner == owner:
            return record
        gone = self._gone.get(execution_id)
        if gone is not None and gone[0] == owner:
            raise ExecutionGone(gone[1])
        raise ExecutionUnknown(execution_id)

    def listing(self, owner: str | None, tenant: str) -> list[Execution]:
        """The caller's records, live and kept, oldest first."""
        self.prune()
        records = [r for r in (*self._live.values(), *self._finished.values())
                   if r.owner == owner and r.tenant == tenant]
        return sorted(records, key=lambda r: r.created_at)

    def forget(self, record: Execution) -> None:
        """Drop a record that was refused at once (its request answers the refusal)."""
        if self._finished.pop(record.id, None) is not None:
            self._bytes -= len(record.result or b"")
        self._live.pop(record.id, None)

    async def cancel(self, record: Execution, reason: str) -> None:
        """Stop a queued or running execution and wait until its task has ended."""
        task = record.task
        if task is None or task.done():
            return
        if not record.ran:          # a program that has ended keeps its result
            record.stop_reason = reason
            task.cancel()
        await asyncio.wait({task})

    async def close(self) -> None:
        """Stop every live execution (server shutdown)."""
        tasks = []
        for record in list(self._live.values()):
            if record.task is not None and not record.task.done():
                record.stop_reason = "the server shut down"
                record.task.cancel()
                tasks.append(record.task)
        if tasks:
            await asyncio.wait(tasks)

