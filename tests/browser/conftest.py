"""JupyterLab in a real browser (issue 16): a JupyterLab server started for the tests and
Debian's Chromium driven by Playwright (the PyPI package).

The server runs in a temporary folder with temporary Jupyter config, data and runtime paths;
JUPYTER_PATH names a temporary prefix holding this checkout's `ml` kernelspec (installed with
`python -m ml_kernel install --prefix`) and the checkout's `share/jupyter`, which holds the
prebuilt ML extension. The kernel runs this checkout's code (PYTHONPATH). Chromium runs
headless with a fresh profile and flags that keep it off the internet.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from browser_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, REPO, TOKEN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """The base URL of a running JupyterLab (token in TOKEN) whose kernels include `ml`."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    pytest.importorskip("jupyterlab")
    base = tmp_path_factory.mktemp("jlab")
    root, prefix = base / "root", base / "prefix"
    root.mkdir()
    pythonpath = os.pathsep.join([str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "")
                                                .split(os.pathsep) if p])
    env = dict(os.environ, PYTHONPATH=pythonpath)
    subprocess.run([sys.executable, "-m", "ml_kernel", "install", "--prefix", str(prefix)],
                   check=True, cwd=REPO, env=env, capture_output=True)
    for name in ("config", "data", "runtime", "settings", "workspaces"):
        (base / name).mkdir()
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTER_PATH=os.pathsep.join([str(prefix / "share" / "jupyter"),
                                             str(REPO / "share" / "jupyter")]),
               JUPYTER_PLATFORM_DIRS="1")
    # no "notified about Jupyter news?" toast over the screenshots (and no fetch of it)
    notification = base / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env.pop("ML_KERNEL_TIMEOUT", None)
    env.pop("ML_KERNEL_DISPLAY", None)
    _warm_up_kernel(env)
    port = _free_port()
    log = open(base / "jupyterlab.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n"
                                + (base / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()
        if ARTIFACTS.is_dir():
            shutil.copy(base / "jupyterlab.log", ARTIFACTS / "jupyterlab.log")


def _warm_up_kernel(env: dict) -> None:
    """Start one `ml` kernel with JupyterLab's environment and wait until it answers, then shut
    it down. A cold machine's first kernel start (imports, bytecode caches) happens here, where a
    failure is a clear message, instead of inside a browser wait."""
    script = ("from jupyter_client.manager import start_new_kernel\n"
              "km, kc = start_new_kernel(kernel_name='ml', startup_timeout=180)\n"
              "kc.stop_channels()\n"
              "km.shutdown_kernel(now=True)\n")
    try:
        subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True,
                       text=True, timeout=240)
    except subprocess.CalledProcessError as failure:
        pytest.fail(f"the ml kernel did not start:\n{failure.stderr[-3000:]}")


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A Chromium profile for one test module. Module scope on purpose: the sync Playwright
    API keeps an asyncio loop running on the main thread while it is open, and a test of
    another package that calls asyncio.run() must not find it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()
