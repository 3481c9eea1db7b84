"""The server's /docs (Swagger UI) and /redoc (ReDoc) in Chromium with every request off
this machine blocked (issue 14): their JavaScript and CSS come from the installed
fastapi-offline package, so the pages render, and "Try it out" on POST /execute runs
`result = 2 + 2;`.  Screenshots go to tests/browser/artifacts/."""

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


@pytest.fixture
def offline_page(server, browser_context):
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


def test_swagger_ui_renders_offline_and_runs_code(server, offline_page):
    page = offline_page
    page.goto(f"{server.url}/docs")
    execute = page.locator(".opblock-post", has=page.locator(
        ".opblock-summary-path", has_text="/execute")).filter(
        has_not=page.locator(".opblock-summary-path", has_text="/sessions")).first
    execute.wait_for()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/execute", "/executions", "/health"} <= {p.strip() for p in paths}
    page.screenshot(path=str(ARTIFACTS / "server-docs.png"), full_page=False)

    # Try it out: the first example of POST /execute is `result = 2 + 2;`
    execute.locator(".opblock-summary").click()
    execute.locator("button.try-out__btn").click()
    body = execute.locator("textarea.body-param__text")
    assert "result = 2 + 2;" in body.input_value()
    execute.locator("button.execute").click()
    answer = execute.locator(".responses-wrapper .live-responses-table .response-col_description "
                             "pre.microlight").first
    answer.wait_for()
    reply = json.loads(answer.inner_text())
    assert reply["success"] is True and reply["value"] == 4
    answer.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "server-docs-try-it-out.png"), full_page=False)
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
