"""Executor settings: the limits of one execution plus how the executor itself behaves."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..runtime.context import Limits


@dataclass(frozen=True)
class ExecutorSettings:
    """Defaults for an `AsyncMLExecutor`; override any field per executor.

    `limits` bounds each execution (`mlpy.runtime.context.Limits`: default and maximum
    timeout, output cap, recursion depth, size caps of single operations). The other fields
    tune how executions are stopped and how output is streamed."""

    limits: Limits = field(default_factory=Limits)
    stop_grace: float = 1.0          # a stopped program that has not unwound by then is abandoned
    reinject_interval: float = 0.005 # how often a stop is raised again while the program unwinds
    output_interval: float = 0.02    # minimum time between two on_output batches
    cache: bool = True               # cache compiled programs
    thread_stack_size: int = 64 << 20   # worker threads get deep stacks for deep ML recursion
    # isolation="thread" only: a program longer than this many characters (and not in the
    # compile cache) is compiled in a helper process, where its compile holds neither the
    # host's GIL nor a stop off (executor/compile_helpers.py); None: always on the worker.
    # 1024: Python's compile() of the densest ML (an operator chain) passes ~20 ms there.
    compile_elsewhere_above: int | None = 1024
    # isolation="process" only: OS limits of each worker process and how workers are replaced
    memory_limit: int | None = 256 << 20   # RLIMIT_AS (bytes) of a worker process
    cpu_limit: int | None = 600        # RLIMIT_CPU (seconds) over a worker's life
    file_size_limit: int | None = 64 << 20  # RLIMIT_FSIZE: largest file a program can write
    open_files_limit: int | None = 64  # RLIMIT_NOFILE
    kill_grace: float = 0.5            # a worker still running timeout + this is SIGKILLed
    # a one-shot worker whose resident set (measured after each run) is above this is
    # replaced: what a run leaves behind, not how many runs there were, decides
    recycle_rss: int | None = 160 << 20
    spare_workers: int = 1             # processes kept started to replace one at once
    # durable sessions: the largest checkpoint written or read, and the key that signs them
    # (HMAC-SHA256; None: a plain SHA-256 digest, which catches damage but not forgery)
    checkpoint_max_bytes: int = 16 << 20
    checkpoint_key: bytes | None = None
    # a host that refuses results whose JSON form is over this many bytes (the server's reply
    # cap) says so here: a process worker then sends a result or displayed value whose
    # pickle is surely over it (more than 3x + 64 KiB: a float is at most 9 bytes pickled and
    # at least 2 in JSON) as an OversizedValue instead, so the host never unpickles (one
    # long call holding its GIL) what it would refuse. None: every value is sent.
    max_result_bytes: int | None = None

    def __post_init__(self):
        if self.stop_grace <= 0 or self.reinject_interval <= 0:
            raise ValueError("stop_grace and reinject_interval must be positive")
        if self.kill_grace <= 0 or self.spare_workers not in (0, 1):
            raise ValueError("kill_grace must be positive, spare_workers 0 or 1")
        if self.recycle_rss is not None and self.recycle_rss <= 0:
            raise ValueError("recycle_rss must be positive or None")
        if self.compile_elsewhere_above is not None and self.compile_elsewhere_above < 0:
            raise ValueError("compile_elsewhere_above must not be negative")
        if self.output_interval < 0:
            raise ValueError("output_interval must not be negative")

    def replace(self, **changes) -> "ExecutorSettings":
        """A copy with `changes`; limit names (`output_bytes=...`) update `limits`."""
        limit_changes = {k: changes.pop(k) for k in list(changes) if k in Limits._fields}
        limits = self.limits.replace(**limit_changes) if limit_changes else self.limits
        return dataclasses.replace(self, limits=limits, **changes)

    def effective_timeout(self, timeout: float | None) -> float | None:
        """The timeout a run gets: the requested one (or the default), capped by the maximum."""
        limits = self.limits
        if timeout is None:
            timeout = limits.default_timeout
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError("timeout must be a number of seconds or None")
            if not timeout > 0:
                raise ValueError("timeout must be positive")
        if limits.max_timeout is not None and (timeout is None or timeout > limits.max_timeout):
            timeout = limits.max_timeout
        return None if timeout is None else float(timeout)


__all__ = ["ExecutorSettings", "Limits"]
