"""The notebooks in notebooks/ run on the `ml` kernel with nbclient, and their fresh outputs
match the outputs committed with them; an executed notebook exports to HTML with ML
highlighted by the `ml` Pygments lexer."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ml_kernel_testenv import REPO, plain, setup_kernelspec

setup_kernelspec()

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.timeout(240)


def _outputs(cell) -> list:
    """A cell's outputs, comparable across runs: consecutive streams of the same name merged
    (batching may split them differently), execution counts and metadata dropped."""
    out: list = []
    for o in cell.get("outputs", []):
        kind = o["output_type"]
        if kind == "stream":
            if out and out[-1][0] == "stream" and out[-1][1] == o["name"]:
                out[-1] = ("stream", o["name"], out[-1][2] + o["text"])
            else:
                out.append(("stream", o["name"], o["text"]))
        elif kind in ("execute_result", "display_data"):
            data = o["data"]
            out.append((kind, data.get("text/plain"), sorted(data)))
        elif kind == "error":
            out.append((kind, o["ename"], o["evalue"],
                        plain("\n".join(o["traceback"]))))
    return out


def _execute(path: Path, tmp_path: Path):
    book = nbformat.read(path, as_version=4)
    fresh = copy.deepcopy(book)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(fresh, kernel_name="ml", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return book, fresh


def test_there_are_three_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"language-tour", "standard-library", "data-analysis"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_match(path, tmp_path):
    book, fresh = _execute(path, tmp_path)
    assert fresh.metadata["language_info"]["name"] == "ml"
    code_cells = [(old, new) for old, new in zip(book.cells, fresh.cells)
                  if new.cell_type == "code"]
    assert code_cells
    for old, new in code_cells:
        assert old.outputs, f"committed notebook has a cell without output:\n{old.source}"
        assert _outputs(new) == _outputs(old), new.source
        errors = [o for o in new.outputs if o["output_type"] == "error"]
        tagged = "raises-exception" in new.metadata.get("tags", [])
        assert bool(errors) == tagged, new.source


def test_data_analysis_shows_tables(tmp_path):
    _, fresh = _execute(REPO / "notebooks" / "data-analysis.ipynb", tmp_path)
    tables = [o for cell in fresh.cells if cell.cell_type == "code" for o in cell.outputs
              if o["output_type"] == "execute_result" and "text/html" in o["data"]]
    assert tables
    summary = next(o for o in tables if "Bergen" in o["data"]["text/html"]
                   and "total" in o["data"]["text/html"])
    assert "<table" in summary["data"]["text/html"]
    assert "application/json" not in summary["data"]


def test_html_export_highlights_ml(tmp_path):
    import nbconvert
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    try:
        lexer = get_lexer_by_name("ml")
    except ClassNotFound:
        pytest.fail("the 'ml' Pygments lexer is not registered: install the package "
                    "(pip install -e .) so its pygments.lexers entry point exists")
    assert type(lexer).__module__ == "ml_kernel.lexer"
    _, fresh = _execute(REPO / "notebooks" / "language-tour.ipynb", tmp_path)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(fresh)
    # `function` is a declaration keyword (kd), `fizzbuzz` a function name (nf), strings s2
    assert '<span class="kd">function</span>' in html
    assert '<span class="nf">fizzbuzz</span>' in html
    assert '<span class="s2">"Hello"</span>' in html
    assert "Hello, world! 42" in html
    assert "hl-ml" in html          # highlighted with the ml lexer, not as plain text
