"""One log format under every launcher (issue 14): `mlpy-server`, `uvicorn mlpy_server.app:app`
and gunicorn with uvicorn workers write the same lines to stderr — the request id on every
line, the app's access line instead of uvicorn's — and the access log is written by a
QueueListener thread, off the request's path."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time

import pytest

from tests.server.conftest import ROOT

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
LAUNCHERS = {
    "mlpy-server": [sys.executable, "-m", "mlpy_server", "--port", "{port}"],
    "uvicorn": [sys.executable, "-m", "uvicorn", "mlpy_server.app:app", "--host", "127.0.0.1",
                "--port", "{port}"],
    "gunicorn": [sys.executable, "-m", "gunicorn", "mlpy_server.app:app", "--workers", "1",
                 "--worker-class", "uvicorn.workers.UvicornWorker",
                 "--bind", "127.0.0.1:{port}"],
}


def wait_for_line(server, pattern: str, tries: int = 400) -> None:
    """Until the server's stderr has a line matching `pattern` (bounded: tries x 50 ms)."""
    for _ in range(tries):
        if re.search(pattern, server.log(), re.MULTILINE):
            return
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in:\n{server.log()}")


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_same_log_lines_under_every_launcher(start_server, launcher):
    server = start_server(LAUNCHERS[launcher], env={"MLPY_LOG_LEVEL": "info",
                                                    "MLPY_ISOLATION": "thread"})
    rid = f"log-check-{launcher}"
    with server.client() as c:
        assert c.get("/health", headers={"X-Request-ID": rid}).status_code == 200
        assert c.post("/execute", json={"code": "result = 2 + 2;"},
                      headers={"X-Request-ID": rid + "-run"}).json()["value"] == 4
    wait_for_line(server, rf"^{STAMP} INFO \[{rid}\] mlpy\.server\.access: 127\.0\.0\.1 "
                          rf'"GET /health" 200 \d+\.\dms$')
    wait_for_line(server, rf"^{STAMP} INFO \[{rid}-run\] mlpy\.server\.access: 127\.0\.0\.1 "
                          rf'"POST /execute" 200 \d+\.\dms$')
    log = server.log()
    assert re.search(rf"^{STAMP} INFO \[-\] mlpy\.server: mlpy server \S+ started: ", log,
                     re.MULTILINE), log
    # uvicorn's own lines in the same format once the app is up; no second access line
    assert re.search(rf"^{STAMP} INFO \[-\] uvicorn\.error: Application startup complete\.$",
                     log, re.MULTILINE), log
    assert "HTTP/1.1\" 200" not in log, log
    assert server.stop() in (0, -15)
    assert re.search(rf"^{STAMP} INFO \[-\] mlpy\.server: mlpy server stopped$", server.log(),
                     re.MULTILINE), server.log()


def test_access_lines_go_through_a_queue_listener():
    """In a process where nothing configured logging: configure_logging installs the format
    and puts a QueueHandler on the access logger; the line is written by the listener's
    thread; the undo stops the listener after writing what was queued."""
    script = textwrap.dedent("""
        import logging, logging.handlers, threading
        from mlpy_server.logs import configure_logging, install_record_factory
        install_record_factory()
        undo = configure_logging("info")
        access = logging.getLogger("mlpy.server.access")
        [handler] = access.handlers
        assert isinstance(handler, logging.handlers.QueueHandler) and not access.propagate
        writers = []
        [target] = logging.getLogger("mlpy.server").handlers
        emit = target.emit
        target.emit = lambda record: (writers.append(threading.current_thread()), emit(record))
        access.info('%s "%s %s" %d %.1fms', "127.0.0.1", "GET", "/x", 200, 1.5)
        undo()
        assert writers and writers[0] is not threading.current_thread(), writers
        assert not access.handlers and access.propagate
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(rf'{STAMP} INFO \[-\] mlpy\.server\.access: 127\.0\.0\.1 "GET /x" 200 '
                        r"1\.5ms\n", done.stderr), done.stderr
