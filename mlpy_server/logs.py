"""Request ids in log lines, and log lines that cannot be forged.

`request_id` is a context variable set by the gateway middleware for each request; every log
record gets it as `record.request_id` ("-" outside a request), so a format with
`%(request_id)s` shows it on every line, uvicorn's own lines included.

The same record factory keeps each message on one bounded line: control characters in its
text and string arguments (a request path's `%0a`, user text) are escaped, so nobody can
forge a log line, and each is cut at MAX_MESSAGE characters. Tracebacks (`exc_info`) are
left to the formatter.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import logging.handlers
import queue
import re
from collections.abc import Callable

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("mlpy_request_id", default="-")

_installed = False
MAX_MESSAGE = 4000
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` with control characters escaped (`\\n`, `\\x1b`) and cut to `limit`."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        # escape the text, keep the shape: formatters such as uvicorn's access log unpack
        # `args` themselves
        if isinstance(record.msg, str):
            record.msg = one_line(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(one_line(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: one_line(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def report_internal_error(what: str, exc: BaseException) -> None:
    """One error line naming the request id (the reference a client is given), the
    traceback only at debug level: a flood of bad requests cannot flood the log."""
    log = logging.getLogger("mlpy.server")
    log.error("internal error [ref %s]: %s: %s: %s", REQUEST_ID.get(), what,
              type(exc).__name__, one_line(str(exc), 500))
    if log.isEnabledFor(logging.DEBUG):
        log.debug("traceback of internal error [ref %s]", REQUEST_ID.get(), exc_info=exc)


class RequestIdFilter(logging.Filter):
    """Gives every record passing a handler its `request_id` (for records made before the
    record factory was installed, or by threads outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def uvicorn_log_config(level: str = "info") -> dict:
    """A uvicorn `log_config` whose every line carries the request id."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": FORMAT}},
        "filters": {"request_id": {"()": "mlpy_server.logs.RequestIdFilter"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            # propagate: gunicorn's uvicorn worker turns it off before the app configures
            "uvicorn.error": {"level": level, "propagate": True},
            "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False},
            "mlpy.server": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }


ACCESS = "mlpy.server.access"
ACCESS_QUEUE = 10_000      # access lines waiting for the writer thread; more are dropped


def _ours(handler: logging.Handler) -> bool:
    return any(isinstance(f, RequestIdFilter) for f in handler.filters)


class _AccessQueueHandler(logging.handlers.QueueHandler):
    """Hands an access record to the writer thread as it is: formatting and writing happen
    there, off the request's path (the record's arguments are strings and numbers)."""

    def __init__(self, q: queue.Queue):
        super().__init__(q)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:          # the writer is behind (a stalled stderr): drop, count
            self.dropped += 1


def configure_logging(level: str) -> Callable[[], None]:
    """The app's logging under any launcher (called at the start of its lifespan).

    When nobody has configured logging (`uvicorn mlpy_server.app:app`, gunicorn with uvicorn
    workers: neither the root logger nor `mlpy.server` has a handler), install the same
    configuration `mlpy-server` gives uvicorn (uvicorn_log_config): one format with the
    request id on every line, uvicorn's own lines included, and the app's access line
    instead of uvicorn's.  Then, when that configuration is in force, the access log is
    written by a QueueListener thread: a request only puts its record on a queue.

    A configuration of the embedder's own (a --log-config, pytest's capture) is left alone.
    Returns the undo: stop the writer thread once it has written what is queued."""
    app_log = logging.getLogger("mlpy.server")
    if not logging.getLogger().handlers and not app_log.handlers:
        config = uvicorn_log_config(level)
        logging.config.dictConfig(config)
    targets = [h for h in app_log.handlers if _ours(h)]
    access = logging.getLogger(ACCESS)
    if not targets or access.handlers:
        return lambda: None
    handler = _AccessQueueHandler(queue.Queue(ACCESS_QUEUE))
    listener = logging.handlers.QueueListener(handler.queue, *targets,
                                              respect_handler_level=True)
    listener.start()
    access.addHandler(handler)
    access.propagate = False

    def undo() -> None:
        access.removeHandler(handler)
        access.propagate = True
        listener.stop()
        if handler.dropped:
            app_log.warning("%d access log lines were dropped (the log writer fell behind)",
                            handler.dropped)

    return undo
