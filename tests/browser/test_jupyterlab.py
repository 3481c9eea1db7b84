"""An ML notebook in JupyterLab, driven in Chromium (issue 16): open a new ML notebook from
the launcher, run cells and assert on the rendered DOM. Screenshots go to
tests/browser/artifacts/ (docs/img/ holds copies for docs/kernel.md)."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

from browser_env import ARTIFACTS, TOKEN

pytestmark = pytest.mark.timeout(300)

CELLS = ".jp-Notebook .jp-Cell"
LINE_COLORS = """([selector, index]) => {
  const cell = document.querySelectorAll(selector)[index];
  return Array.from(cell.querySelectorAll('.cm-content .cm-line')).map(line => {
    const parts = [];
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      parts.push([node.textContent, getComputedStyle(node.parentElement).color]);
    }
    return parts;
  });
}"""


@pytest.fixture(scope="module")
def page(jupyterlab, browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{jupyterlab}/lab?token={TOKEN}")
    card = page.locator('.jp-LauncherCard[data-category="Notebook"]').filter(
        has=page.locator(".jp-LauncherCard-label", has_text=re.compile(r"^\s*ML\s*$")))
    card.first.click()
    page.locator(".jp-Notebook .jp-Cell .cm-content").first.wait_for()
    # the notebook's kernel is ML
    page.locator(".jp-Toolbar-kernelName", has_text="ML").first.wait_for()
    # and connected and idle: keys pressed before that can be lost (a first cell never ran)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(
        timeout=120_000)
    try:
        yield page
    finally:
        shot(page, "last")            # the page as the module's tests left it
        page.close()


def run_cell(page, code: str, wait: bool = True, timeout: float = 20_000):
    """Type `code` into the active cell and run it (Shift+Enter); returns the cell's locator."""
    index = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-Notebook .jp-Cell')).findIndex(c => c.classList.contains('jp-mod-active'))""")
    cell = page.locator(CELLS).nth(index)
    cell.locator(".cm-content").click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    if wait:
        done = cell.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]"))
        done.wait_for(timeout=timeout)
    return cell, index


def shot(page, name: str, cell=None) -> None:
    (cell or page).screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_array_of_objects_is_an_html_table(page):
    cell, _ = run_cell(page, 'rows = [{name: "ada", born: 1815}, {name: "alan", born: 1912},'
                              ' {name: "grace", born: 1906}];\nrows', timeout=120_000)
    table = cell.locator(".jp-OutputArea-output table")
    table.wait_for()
    assert table.locator("th").all_inner_texts() == ["name", "born"]
    assert table.locator("tbody tr").count() == 3
    assert "grace" in table.inner_text()
    # no collapsed JSON tree
    assert cell.locator(".jp-OutputArea-output [class*=json]").count() == 0
    shot(page, "table", cell)


def test_big_integer_shows_exactly(page):
    cell, _ = run_cell(page, "12345678901234567890")
    output = cell.locator(".jp-OutputArea-output")
    output.wait_for()
    assert output.inner_text().strip() == "12345678901234567890"


def _colors(page, index: int, selector: str = CELLS) -> list[list[tuple[str, str]]]:
    """Per line, the color of each character of the editor in the index-th `selector`."""
    lines = page.evaluate(LINE_COLORS, [selector, index])
    return [[(ch, color) for text, color in line for ch in text] for line in lines]


def _color_at(line: list[tuple[str, str]], text: str, offset: int = 0, start: int = 0) -> str:
    joined = "".join(ch for ch, _ in line)
    at = joined.index(text, start)
    return line[at + offset][1]


def test_highlighting_reads_floor_division_and_ml_keywords(page):
    code = ("x = 7 // 2; // two\n"
            "if (false) { y = 0; } elif (true) { y = 1; }\n"
            "x")
    cell, index = run_cell(page, code)
    output = cell.locator(".jp-OutputArea-output")
    output.wait_for()
    assert output.inner_text().strip() == "3"
    deadline = time.monotonic() + 20          # the ML language loads asynchronously
    while True:
        lines = _colors(page, index)
        first = lines[0]
        comment = _color_at(first, "two")
        if comment != _color_at(first, "x") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert comment != _color_at(first, "x"), "the comment is not highlighted at all"
    assert _color_at(first, "// two") == comment                 # a comment after `;`
    assert _color_at(first, "7 // 2", 2) != comment              # `//` after 7 divides
    assert _color_at(first, "7 // 2", 5) != comment              # ... and 2 is a number
    second = lines[1]
    keyword = _color_at(second, "if")
    assert keyword != _color_at(second, "y")
    assert _color_at(second, "elif") == keyword                  # not a plain name
    shot(page, "highlighting", cell)


def test_display_update_changes_the_output_in_place(page):
    code = ('import display;\nh = display.show("step 0");\n'
            'for (i in range(1, 4)) { display.update(h, "step " + str(i) + " of 3"); }')
    cell, _ = run_cell(page, code)
    outputs = cell.locator(".jp-OutputArea-output")
    outputs.first.wait_for()
    assert outputs.count() == 1
    assert outputs.first.inner_text().strip() == "step 3 of 3"


def test_interrupt_stops_an_endless_loop(page):
    cell, _ = run_cell(page, "while (true) {}", wait=False)
    cell.locator(".jp-InputPrompt", has_text="[*]").wait_for()
    time.sleep(1)
    page.locator('[data-command="notebook:interrupt-kernel"]').first.click()
    error = cell.locator(".jp-OutputArea-output", has_text="KeyboardInterrupt")
    error.wait_for(timeout=15_000)
    assert "Execution interrupted" in error.inner_text()
    after, _ = run_cell(page, "1 + 1")
    assert after.locator(".jp-OutputArea-output").inner_text().strip() == "2"
    shot(page, "notebook")


def test_ml_file_opens_as_ml(jupyterlab, browser_context):
    body = json.dumps({"type": "file", "format": "text",
                       "content": "half = 7 // 2; // floor division\nprint(half);\n"}).encode()
    request = urllib.request.Request(f"{jupyterlab}/api/contents/prog.ml", data=body,
                                     method="PUT",
                                     headers={"Authorization": f"token {TOKEN}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{jupyterlab}/lab/tree/prog.ml?token={TOKEN}")
        page.locator(".jp-FileEditor .cm-line", has_text="floor division").wait_for()
        deadline = time.monotonic() + 20          # the ML language loads asynchronously
        while True:
            first = _colors(page, 0, ".jp-FileEditor")[0]
            comment = _color_at(first, "floor")
            if comment != _color_at(first, "half") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert comment != _color_at(first, "half"), "no highlighting"
        assert _color_at(first, "7 // 2", 2) != comment           # ML's rule, not OCaml's
        assert _color_at(first, "// floor") == comment
        status = page.locator(".jp-StatusBar-Widget").first.inner_text().split("\n")
        assert "ml" in [t.strip() for t in status] and "OCaml" not in status   # the language
        shot(page, "ml-file")
    finally:
        page.close()


def test_error_in_a_function_from_an_earlier_cell_shows_the_ml_call_stack(page):
    run_cell(page, "function half_of_nothing(a) {\n  b = a + 1;\n  return b / 0;\n}")
    cell, _ = run_cell(page, "n = 1;\nhalf_of_nothing(n)")
    error = cell.locator(".jp-OutputArea-output", has_text="ZeroDivisionError")
    error.wait_for()
    text = error.inner_text()
    assert text.startswith("ZeroDivisionError: division by zero")
    assert re.search(r"Cell In\[\d+\], line 2\n", text), text
    assert re.search(r"Cell In\[\d+\], line 3, in half_of_nothing\n", text), text
    assert "return b / 0;" in text and "^" in text
    assert ".py" not in text and "Traceback" not in text
    shot(page, "error", cell)


def test_tab_after_object_dot_offers_its_keys(page):
    run_cell(page, 'person = {name: "Ada", nationality: "British", born: 1815};')
    index = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-Notebook .jp-Cell')).findIndex(c => c.classList.contains('jp-mod-active'))""")
    cell = page.locator(CELLS).nth(index)
    cell.locator(".cm-content").click()
    page.keyboard.insert_text("person.na")
    page.keyboard.press("Tab")
    items = page.locator(".jp-Completer .jp-Completer-item .jp-Completer-match")
    items.first.wait_for()
    offered = sorted(t.strip() for t in items.all_inner_texts())
    assert offered == ["name", "nationality"], offered
    shot(page, "completion")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
