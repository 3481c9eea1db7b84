"""Started servers for the adversarial suite: uvicorn in its own process, one per module and
isolation mode, and what its log must never hold."""

from __future__ import annotations

import os
import re

from attacks import CANARY_VAR, PASSWD_MARK

from tests.server.conftest import RunningServer, module_server

ISOLATIONS = ["thread", "process"]
# one log line: time stamp, level, [request id], logger name; anything else is a forged line,
# a traceback or a raw write
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[[^\]\n]*\] [\w.]+: ")


def security_server(tmp_path_factory, name: str, isolation: str,
                    **settings: str | None) -> RunningServer:
    """A started uvicorn server (its own process) in `isolation` for one module's attacks:
    the canary (set by conftest.py) in its environment, its log at info level (an access
    line per request), one worker unless `settings` say otherwise (MLPY_* names)."""
    return module_server(tmp_path_factory, f"{name}-{isolation}", {
        "MLPY_ISOLATION": isolation, "MLPY_MAX_WORKERS": "1", "MLPY_LOG_LEVEL": "info",
        CANARY_VAR: os.environ[CANARY_VAR], **settings})


def log_problems(log: str) -> list[str]:
    """What a started server's log must never hold: a line that is not one record (a forged
    line, a traceback, a raw write), an internal error, the canary or /etc/passwd."""
    problems = [f"not a log record: {line[:200]!r}" for line in log.splitlines()
                if line and not LOG_LINE.match(line)]
    problems += [f"internal error: {line[:300]}" for line in log.splitlines()
                 if "internal error" in line]
    if os.environ[CANARY_VAR] in log:
        problems.append("the canary is in the log")
    if PASSWD_MARK in log:
        problems.append("/etc/passwd is in the log")
    return problems


def stop_and_check_log(server: RunningServer) -> None:
    """Stop a module's server and fail its last test if the log shows a problem."""
    server.stop()
    problems = log_problems(server.log())
    assert not problems, problems[:10]
