"""Shared set-up for the kernel tests: make Jupyter find *this* checkout's `ml` kernel.

The kernelspec is installed (with `python -m ml_kernel install --prefix`) into a temporary
prefix that JUPYTER_PATH points at, and the repository root is put on PYTHONPATH, so the
tests run the working tree's kernel whether or not the package is pip-installed.
Kernel processes started by jupyter_client inherit this environment.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_prefix: str | None = None


def setup_kernelspec() -> str:
    """Install the kernelspec once per test process; returns the JUPYTER_PATH entry."""
    global _prefix
    if _prefix is None:
        _prefix = tempfile.mkdtemp(prefix="ml-kernelspec-")
        atexit.register(shutil.rmtree, _prefix, True)
        env = dict(os.environ, PYTHONPATH=_pythonpath())
        subprocess.run([sys.executable, "-m", "ml_kernel", "install", "--prefix", _prefix],
                       check=True, cwd=REPO, env=env, capture_output=True)
        data = os.path.join(_prefix, "share", "jupyter")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [data] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
        os.environ["PYTHONPATH"] = _pythonpath()
        os.environ.pop("ML_KERNEL_TIMEOUT", None)
        # the kernels' history file: in the test's prefix, not the user's Jupyter data dir
        os.environ["ML_KERNEL_HISTORY"] = os.path.join(_prefix, "history.sqlite")
    return os.path.join(_prefix, "share", "jupyter")


def _pythonpath() -> str:
    parts = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))


def plain(text: str) -> str:
    return ANSI.sub("", text)


def run_cell(kc, code: str, timeout: float = 30, allow_stdin: bool = False,
             metadata: dict | None = None, on_stdin=None, stop_on_error: bool = False):
    """Execute `code`; return (reply content, [iopub messages of this request] with an
    arrival time in msg["_t"], the reply's arrival time).

    `stop_on_error` is off by default: these tests send the next cell right after an error,
    and ipykernel aborts requests that arrive while it is still aborting the queue."""
    if metadata is None:
        msg_id = kc.execute(code, allow_stdin=allow_stdin, stop_on_error=stop_on_error)
    else:
        content = dict(code=code, silent=False, store_history=True, user_expressions={},
                       allow_stdin=allow_stdin, stop_on_error=stop_on_error)
        msg = kc.session.msg("execute_request", content, metadata=metadata)
        kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
    deadline = time.monotonic() + timeout
    outputs: list[dict] = []
    reply = None
    reply_time = None
    idle = False
    while reply is None or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply to {code!r} within {timeout} s")
        if on_stdin is not None:
            try:
                request = kc.get_stdin_msg(timeout=0.01)
            except Exception:
                request = None
            if request is not None and request["msg_type"] == "input_request":
                on_stdin(kc, request)
        if reply is None:
            try:
                shell = kc.get_shell_msg(timeout=0.01)
            except Exception:
                shell = None
            if shell is not None and shell["parent_header"].get("msg_id") == msg_id:
                reply = shell["content"]
                reply_time = time.monotonic()
        try:
            msg = kc.get_iopub_msg(timeout=0.02)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msg["_t"] = time.monotonic()
        if msg["msg_type"] == "status":
            idle = msg["content"]["execution_state"] == "idle"
            continue
        if msg["msg_type"] != "execute_input":
            outputs.append(msg)
    return reply, outputs, reply_time


def stream_text(outputs, name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in outputs
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def results(outputs) -> list[dict]:
    return [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]


def errors(outputs) -> list[dict]:
    return [m["content"] for m in outputs if m["msg_type"] == "error"]
