"""A small Prometheus registry writing the text exposition format (version 0.0.4).

Counters, gauges (callables read at scrape time) and histograms; labels as tuples.  Per
process: under gunicorn each worker exposes its own numbers.
"""

from __future__ import annotations

import bisect
import math
import threading
from typing import Any, Callable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=False)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Counter:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()):
        self.name, self.help, self.labelnames = name, help, labels
        self.values: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1) -> None:
        with self._lock:
            self.values[labels] = self.values.get(labels, 0) + amount

    def get(self, *labels: str) -> float:
        return self.values.get(labels, 0)

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self.values.items()):
            out.append(f"{self.name}{_labels(self.labelnames, labels)} {_num(value)}")
        return out


class Gauge:
    def __init__(self, name: str, help: str, read: Callable[[], float]):
        self.name, self.help, self.read = name, help, read

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge",
                f"{self.name} {_num(self.read())}"]


class Histogram:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = (),
                 buckets: tuple[float, ...] = DURATION_BUCKETS):
        self.name, self.help, self.labelnames = name, help, labels
        self.buckets = tuple(sorted(buckets))
        self.series: dict[tuple, list] = {}  # labels -> [bucket counts..., sum, count]
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        i = bisect.bisect_left(self.buckets, value)
        with self._lock:
            s = self.series.get(labels)
            if s is None:
                s = self.series[labels] = [0] * (len(self.buckets) + 2)
            if i < len(self.buckets):
                s[i] += 1
            s[-2] += value
            s[-1] += 1

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, s in sorted(self.series.items()):
            running = 0
            for bound, count in zip(self.buckets, s, strict=False):
                running += count
                le = 'le="' + _num(bound) + '"'
                out.append(f"{self.name}_bucket{_labels(self.labelnames, labels, le)} {running}")
            inf = 'le="+Inf"'
            out.append(f"{self.name}_bucket{_labels(self.labelnames, labels, inf)} {s[-1]}")
            out.append(f"{self.name}_sum{_labels(self.labelnames, labels)} {_num(s[-2])}")
            out.append(f"{self.name}_count{_labels(self.labelnames, labels)} {s[-1]}")
        return out


class Series:
    """Labelled values read at scrape time (a gauge or a counter kept elsewhere, such as the
    executor's worker events)."""

    def __init__(self, name: str, help: str, kind: str, labels: tuple[str, ...],
                 read: Callable[[], list[tuple[tuple[str, ...], float]]]):
        self.name, self.help, self.kind, self.labelnames, self.read = name, help, kind, labels, read

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in sorted(self.read()):
            out.append(f"{self.name}{_labels(self.labelnames, labels)} {_num(value)}")
        return out


class Metrics:
    """Every metric of one server process; gauges and series read `state` when scraped."""

    def __init__(self, state: Any):
        self.requests = Counter("mlpy_http_requests_total", "HTTP requests by method, route "
                                "and status code", ("method", "route", "status"))
        self.request_seconds = Histogram("mlpy_http_request_duration_seconds",
                                         "HTTP request latency", ("route",))
        self.executions = Counter("mlpy_executions_total", "ML executions by endpoint and "
                                  "outcome (success, error, timeout, unserialisable, rejected, "
                                  "cancelled, lost)", ("endpoint", "outcome"))
        self.execution_seconds = Histogram("mlpy_execution_duration_seconds",
                                           "ML run time reported by the executor",
                                           ("endpoint",))
        self.queue_wait_seconds = Histogram("mlpy_queue_wait_seconds",
                                            "time executions waited for a worker")
        sessions = state.sessions
        self.gauges: list[Gauge | Series] = [
            Gauge("mlpy_busy_workers", "one-shot executions running now",
                  lambda: state.admission.running),
            Gauge("mlpy_queued_executions", "executions waiting for a worker or for their "
                  "session's running cell", lambda: state.queued),
            Gauge("mlpy_max_workers", "executor capacity", lambda: state.max_workers),
            Gauge("mlpy_sessions", "live sessions", lambda: len(sessions)),
            Gauge("mlpy_sessions_running", "sessions running a cell now",
                  lambda: sessions.running),
            Series("mlpy_session_queue_length", "cells waiting for a session's running cell, "
                   "per session with a line (`session` is a number, never the secret id)",
                   "gauge", ("session",),
                   lambda: [((str(n),), q) for n, q in sessions.queues()]),
            Series("mlpy_sessions_total", "sessions by what happened to them (created, "
                   "expired, evicted, deleted, lost)", "counter", ("event",),
                   lambda: [((event,), n) for event, n in sessions.counts.items()]),
            Series("mlpy_worker_events_total", "worker processes started, recycled, killed, "
                   "crashed, and sessions lost with their process, by reason", "counter",
                   ("event", "reason"), lambda: worker_events(state.executor)),
        ]

    def render(self) -> str:
        lines: list[str] = []
        metrics: list[Counter | Histogram | Gauge | Series] = [
            self.requests, self.request_seconds, self.executions, self.execution_seconds,
            self.queue_wait_seconds, *self.gauges]
        for metric in metrics:
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


def worker_events(executor: Any) -> list[tuple[tuple[str, ...], float]]:
    """((event, reason), count) from the executor's stats (none for an executor without)."""
    stats = getattr(executor, "stats", None)
    if stats is None:
        return []
    return [((row["event"], row["reason"]), row["count"])
            for row in stats().get("worker_events", ())]
