"""The `ml` kernel behind Jupyter Kernel Gateway: the way notebooks outgrow one machine.

A real `jupyter kernelgateway` process is started on a free loopback port with a token and
this checkout's `ml` kernelspec; the test talks to it as a remote client would, over its REST
API (start, interrupt, delete a kernel) and its WebSocket channels (execute requests and
replies in Jupyter's JSON message format).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websocket import WebSocket, create_connection

from ml_kernel_testenv import REPO, setup_kernelspec

pytestmark = pytest.mark.timeout(120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    def __init__(self, base: str, token: str):
        self.base = base
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"token {token}"},
                                 timeout=30)
        self.token = token

    def start_kernel(self) -> str:
        reply = self.http.post("/api/kernels", json={"name": "ml"})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])

    def channels(self, kernel_id: str) -> WebSocket:
        url = self.base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        return create_connection(url, header=[f"Authorization: token {self.token}"], timeout=30)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    setup_kernelspec()      # JUPYTER_PATH and PYTHONPATH point at this checkout's kernel
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path_factory.mktemp("gateway") / "gateway.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed when the gateway stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
         f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={token}",
         "--KernelGatewayApp.port_retries=0"],
        cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    gw = Gateway(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")
            try:
                if gw.http.get("/api", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        yield gw
    finally:
        gw.http.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _execute(ws: WebSocket, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
    """Send one execute_request; return its reply content and its iopub messages."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": "gateway-test", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}}))
    reply: dict | None = None
    outputs: list[dict] = []
    idle = False
    deadline = time.monotonic() + timeout
    while reply is None or not idle:
        assert time.monotonic() < deadline, f"no reply to {code!r}"
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
            reply = msg["content"]
        elif msg["msg_type"] == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif msg["channel"] == "iopub" and msg["msg_type"] != "execute_input":
            outputs.append(msg)
    return reply, outputs


def test_a_cell_sent_over_rest_and_websocket_returns_its_result(gateway: Gateway) -> None:
    kernel_id = gateway.start_kernel()
    ws = gateway.channels(kernel_id)
    try:
        reply, outputs = _execute(ws, 'x = 6 * 7;\nprint("hello");\nx')
        assert reply["status"] == "ok", reply
        assert "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream") \
            == "hello\n"
        results = [m["content"]["data"]["text/plain"] for m in outputs
                   if m["msg_type"] == "execute_result"]
        assert results == ["42"]
        reply, _ = _execute(ws, "x + 1")      # state persists between cells of the kernel
        assert reply["status"] == "ok"
    finally:
        ws.close()
        assert gateway.http.delete(f"/api/kernels/{kernel_id}").status_code == 204


def test_interrupt_over_rest_stops_a_loop(gateway: Gateway) -> None:
    kernel_id = gateway.start_kernel()
    ws = gateway.channels(kernel_id)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": "gateway-test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": "n = 0; while (true) { n = n + 1; }", "silent": False,
                        "store_history": True, "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": False}}))
        while True:         # wait until the loop is running
            msg = json.loads(ws.recv())
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy" \
                    and msg.get("parent_header", {}).get("msg_id") == msg_id:
                break
        time.sleep(0.3)
        assert gateway.http.post(f"/api/kernels/{kernel_id}/interrupt").status_code == 204
        reply = None
        while reply is None:
            msg = json.loads(ws.recv())
            if msg["msg_type"] == "execute_reply" \
                    and msg.get("parent_header", {}).get("msg_id") == msg_id:
                reply = msg["content"]
        assert reply["status"] == "error"
        assert reply["ename"] == "KeyboardInterrupt" or "nterrupt" in reply["evalue"], reply
        after, _ = _execute(ws, "n > 0")      # the kernel lives on and kept its state
        assert after["status"] == "ok"
    finally:
        ws.close()
        gateway.http.delete(f"/api/kernels/{kernel_id}")
