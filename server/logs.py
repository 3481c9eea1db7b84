"""Request ids in log lines.

`request_id` is a context variable set by the gateway middleware for each request; every log
record gets it as `record.request_id` ("-" outside a request), so a format with
`%(request_id)s` shows it on every line, uvicorn's own lines included.
"""

from __future__ import annotations

import contextvars
import logging

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("mlpy_request_id", default="-")

_installed = False


def install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


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
        "filters": {"request_id": {"()": "server.logs.RequestIdFilter"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False},
            "mlpy.server": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
