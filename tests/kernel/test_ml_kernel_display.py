"""What a cell's result looks like to a front end (issue 16, Display): text/plain in ML's
container form, a bounded HTML table for arrays of objects, no application/json unless asked
for (`%display json` or ML_KERNEL_DISPLAY=json), big integers exact, huge results cut."""

from __future__ import annotations

import json
import os

import pytest
from jupyter_client.manager import start_new_kernel

from ml_kernel_testenv import errors, plain, results, run_cell, setup_kernelspec, stream_text

setup_kernelspec()

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def kc():
    km, client = start_new_kernel(kernel_name="ml")
    try:
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def result_of(kc, code: str) -> dict:
    reply, outputs, _ = run_cell(kc, code)
    assert reply["status"] == "ok", (code, errors(outputs))
    found = results(outputs)
    assert len(found) == 1, outputs
    return found[0]


def test_scalars_and_containers_are_text_only(kc):
    assert result_of(kc, '"ab"') == {"text/plain": '"ab"'}
    data = result_of(kc, '{b: [1, "x"], a: null}')
    assert data == {"text/plain": '{"b": [1, "x"], "a": null}'}      # key order kept


def test_big_integers_are_exact(kc):
    assert result_of(kc, "12345678901234567890") == {"text/plain": "12345678901234567890"}
    data = result_of(kc, "[{n: 12345678901234567890}]")
    assert "application/json" not in data
    assert "12345678901234567890" in data["text/plain"] and "12345678901234567890" in \
        data["text/html"]


def test_array_of_objects_gets_a_bounded_table(kc):
    data = result_of(kc, 'rows = []; for (i in range(300)) { rows.append({i: i, s: "<" + i}); }'
                         "\nrows")
    assert set(data) == {"text/plain", "text/html"}
    table = data["text/html"]
    assert "<th>i</th><th>s</th>" in table and "&lt;7" in table
    assert table.count("<tr>") == 1 + 50
    assert "... 250 more rows" in table
    assert data["text/plain"].startswith('[{"i": 0, "s": "<0"}, ')


def test_display_json_for_one_cell_and_as_default(kc):
    data = result_of(kc, "%display json\n{a: [1, 2.5]}")
    assert data["application/json"] == {"a": [1, 2.5]}
    assert "application/json" not in result_of(kc, "{a: 1}")        # one cell only
    reply, outputs, _ = run_cell(kc, "%display json")
    assert reply["status"] == "ok" and "json" in stream_text(outputs)
    try:
        assert result_of(kc, "[1, 2]")["application/json"] == [1, 2]
        # an integer a JavaScript number cannot hold keeps the value out of JSON
        assert "application/json" not in result_of(kc, "[9007199254740993]")
        reply, outputs, _ = run_cell(kc, "%display")
        assert "Display: json" in stream_text(outputs)
    finally:
        run_cell(kc, "%display text")
    assert "application/json" not in result_of(kc, "[1, 2]")


def test_bad_display_argument(kc):
    reply, outputs, _ = run_cell(kc, "%display html\n1")
    assert reply["status"] == "error" and reply["ename"] == "MagicError"
    assert "%display expects one of text, json" in plain(reply["evalue"])


def test_huge_result_is_cut_in_display_only(kc):
    data = result_of(kc, 'big = "x" * 300000; [big]')
    text = data["text/plain"]
    assert len(text) < 101_000
    assert text.endswith("(display cut at 100000 characters; the value is complete)")
    assert result_of(kc, "len(big)") == {"text/plain": "300000"}
    json.dumps(data)


# -- the display module ---------------------------------------------------------------------

def test_display_module_show_and_update_in_place(kc):
    code = ('import display;\nprint("before");\nh = display.show("step 0");\n'
            'for (i in range(1, 4)) { display.update(h, "step " + str(i)); }\nprint("after");')
    reply, outputs, _ = run_cell(kc, code)
    assert reply["status"] == "ok", errors(outputs)
    kinds = [m["msg_type"] for m in outputs]
    assert kinds == ["stream", "display_data"] + ["update_display_data"] * 3 + ["stream"], kinds
    shown = outputs[1]["content"]
    display_id = shown["transient"]["display_id"]
    assert shown["data"] == {"text/plain": "step 0"}
    last = outputs[4]["content"]
    assert last["transient"]["display_id"] == display_id
    assert last["data"] == {"text/plain": "step 3"}
    assert stream_text(outputs) == "before\nafter\n"


def test_display_module_rich_kinds_and_clear(kc):
    code = ('import display;\ndisplay.html("<b>bold</b>");\ndisplay.markdown("# Title");\n'
            'display.table([{a: 1}, {a: 2, b: "x"}]);\ndisplay.json({n: [1, 2]});\n'
            'display.clear();\ndisplay.show([1, 2]);')
    reply, outputs, _ = run_cell(kc, code)
    assert reply["status"] == "ok", errors(outputs)
    data = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
    assert data[0] == {"text/html": "<b>bold</b>", "text/plain": "<b>bold</b>"}
    assert data[1] == {"text/markdown": "# Title", "text/plain": "# Title"}
    assert "<th>a</th><th>b</th>" in data[2]["text/html"]
    assert data[2]["text/plain"] == '[{"a": 1}, {"a": 2, "b": "x"}]'
    assert data[3]["application/json"] == {"n": [1, 2]}
    assert data[4] == {"text/plain": "[1, 2]"}
    kinds = [m["msg_type"] for m in outputs]
    assert kinds.index("clear_output") == 4


def test_display_module_images(kc):
    code = ('import display;\ndisplay.image([137, 80, 78, 71], "png");\n'
            'display.image("<svg xmlns=\'http://www.w3.org/2000/svg\'/>", "svg");')
    reply, outputs, _ = run_cell(kc, code)
    assert reply["status"] == "ok", errors(outputs)
    data = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
    assert data[0] == {"image/png": "iVBORw==", "text/plain": "<png image, 4 bytes>"}
    assert data[1]["image/svg+xml"].startswith("<svg")
    reply, _, _ = run_cell(kc, 'import display;\ndisplay.image([300], "png");')
    assert reply["status"] == "error" and "integers 0-255" in reply["evalue"]
    reply, _, _ = run_cell(kc, 'import display;\ndisplay.image([1], "gif");')
    assert reply["status"] == "error" and "png, jpeg or svg" in reply["evalue"]


def test_display_module_errors(kc):
    reply, outputs, _ = run_cell(kc, "import display;\ndisplay.table([1, 2]);")
    assert reply["status"] == "error" and "array of objects" in reply["evalue"]
    reply, outputs, _ = run_cell(kc, 'import display;\ndisplay.update("", "x");')
    assert reply["status"] == "error" and "handle" in reply["evalue"]


def test_display_json_from_the_environment():
    km, client = start_new_kernel(kernel_name="ml",
                                  env=dict(os.environ, ML_KERNEL_DISPLAY="json"))
    try:
        data = result_of(client, "{a: [1, 2.5]}")
        assert data["application/json"] == {"a": [1, 2.5]}
        reply, outputs, _ = run_cell(client, "%display text")
        assert "application/json" not in result_of(client, "{a: 1}")
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
