"""The server's /docs (Swagger UI) and /redoc (ReDoc) in Chromium with every request off
this machine blocked (issue 14): their JavaScript and CSS come from the installed
fastapi-offline package, so the pages render, and "Try it out" on POST /execute runs
`result = 2 + 2;`, also on a server with API keys once the key is given to the Authorize
button.  Screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pytest

from browser_env import ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.timeout(300)

LOCAL = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    from tests.server.conftest import module_server

    started = module_server(tmp_path_factory, "docs", {"MLPY_ISOLATION": "thread"})
    yield started
    started.stop()


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    from tests.server.conftest import module_server

    started = module_server(tmp_path_factory, "docs-keyed",
                            {"MLPY_ISOLATION": "thread", "MLPY_API_KEYS": API_KEY})
    yield started
    started.stop()


API_KEY = "docs-page-key"


@pytest.fixture
def offline_page(browser_context):
    """A page whose requests to anywhere but this machine are aborted (and recorded)."""
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    page.blocked = []

    def only_local(route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL:
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    try:
        yield page
    finally:
        page.close()


def _execute_operation(page):
    """POST /execute's block on the Swagger UI page (not /sessions/{id}/execute)."""
    execute = page.locator(".opblock-post", has=page.locator(
        ".opblock-summary-path", has_text="/execute")).filter(
        has_not=page.locator(".opblock-summary-path", has_text="/sessions")).first
    execute.wait_for()
    return execute


def _try_it_out(execute) -> tuple[int, dict]:
    """Run POST /execute's first example (`result = 2 + 2;`): the status and the reply."""
    execute.locator(".opblock-summary").click()
    execute.locator("button.try-out__btn").click()
    body = execute.locator("textarea.body-param__text")
    assert "result = 2 + 2;" in body.input_value()
    execute.locator("button.execute").click()
    row = execute.locator(".responses-wrapper .live-responses-table tbody tr.response").first
    answer = row.locator(".response-col_description pre.microlight").first
    answer.wait_for()
    status = int(row.locator(".response-col_status").inner_text().strip())
    return status, json.loads(answer.inner_text())


def test_swagger_ui_renders_offline_and_runs_code(server, offline_page):
    page = offline_page
    page.goto(f"{server.url}/docs")
    execute = _execute_operation(page)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/execute", "/executions", "/health"} <= {p.strip() for p in paths}
    page.screenshot(path=str(ARTIFACTS / "server-docs.png"), full_page=False)

    # Try it out: the first example of POST /execute is `result = 2 + 2;`
    status, reply = _try_it_out(execute)
    assert status == 200 and reply["success"] is True and reply["value"] == 4
    page.screenshot(path=str(ARTIFACTS / "server-docs-try-it-out.png"), full_page=False)
    assert page.blocked == []


def test_the_authorize_button_takes_the_api_key(keyed_server, offline_page):
    """With MLPY_API_KEYS set, the page's Authorize button (the declared X-API-Key scheme)
    takes the key, and Try it out sends it: 4 instead of 401."""
    page = offline_page
    page.goto(f"{keyed_server.url}/docs")
    page.locator(".scheme-container button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input").first.fill(API_KEY)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    status, reply = _try_it_out(_execute_operation(page))
    assert status == 200 and reply["value"] == 4, reply
    page.screenshot(path=str(ARTIFACTS / "server-docs-authorized.png"), full_page=False)
    assert page.blocked == []


def test_redoc_renders_offline(server, offline_page):
    page = offline_page
    page.goto(f"{server.url}/redoc")
    page.locator(".api-info h1", has_text="mlpy server").wait_for()
    # the side menu's tags, and the operations described in the middle panel
    page.locator("li[data-item-id='tag/executions'] label").first.wait_for()
    page.locator("h2", has_text="Run ML code and return its").first.wait_for()
    page.locator("h2", has_text="Start ML code in the background").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "server-redoc.png"), full_page=False)
    assert page.blocked == []
