"""Shared fixtures of the adversarial suite: the canary, a listener that must stay silent,
a file root and a folder outside it that must stay empty, every log record of the run."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attacks import CANARY_VAR  # noqa: E402

# Set before any executor exists: thread-mode programs run in this very process.
CANARY = "canary-" + uuid.uuid4().hex
os.environ[CANARY_VAR] = CANARY


class Listener:
    """A TCP port on 127.0.0.1 that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(1.0)
        self.sock.close()


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.lines.append(str(record.msg))


@pytest.fixture(scope="session")
def canary():
    return CANARY


@pytest.fixture(scope="session")
def listener():
    lst = Listener()
    yield lst
    lst.close()
    assert lst.connections == 0, "an attack opened a connection"


@pytest.fixture(scope="session")
def log_records():
    handler = Records()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
    text = "\n".join(handler.lines)
    assert CANARY not in text
    assert "root:x:0:0" not in text


@pytest.fixture(scope="session")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("security")
    root = base / "root"
    outside = base / "outside"
    root.mkdir()
    outside.mkdir()
    yield root, outside
    assert list(outside.iterdir()) == [], "an attack wrote outside the file root"
    assert not (base / "escape.txt").exists()


@pytest.fixture(scope="session", params=["thread", "process"])
def plain_server(request, tmp_path_factory):
    """A started server per isolation mode with the default settings and one worker, shared
    by the modules that need nothing else (test_server_inputs.py, test_long_integers.py): a
    start costs seconds on the 2-core CI machine. Its log is checked when the run ends."""
    from started import security_server, stop_and_check_log

    server = security_server(tmp_path_factory, "plain", request.param)
    with server.client() as client:
        assert client.get("/health").json()["executor"]["isolation"] == request.param
    yield server
    stop_and_check_log(server)
