"""`jupyter nbconvert` of an ML notebook: a `.ml` script that `mlpy run` accepts (magic lines
and help cells as comments, markdown as comments) and HTML highlighted by the ML lexer."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib

import nbformat

from ml_kernel.magics import parse_cell
from ml_kernel_testenv import REPO, setup_kernelspec

from mlpy.language import LANGUAGE_INFO

setup_kernelspec()


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "ml", "display_name": "ML", "language": "ml"}
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.cells = [nbformat.v4.new_markdown_cell("# Halves\nA *short* notebook."),
                nbformat.v4.new_code_cell("x = 7 // 2; // floor division\nprint(x);"),
                nbformat.v4.new_code_cell("// time it\n%time\n%timeout 5\nprint(x + 1);"),
                nbformat.v4.new_code_cell("len?"),
                nbformat.v4.new_code_cell("")]
    nbformat.write(nb, path)


def _nbconvert(*args, cwd):
    return subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_script_export_is_a_valid_ml_program(tmp_path):
    _notebook(tmp_path / "halves.ipynb")
    r = _nbconvert("--to", "ml_kernel.nbconvert.MLScriptExporter", "halves.ipynb",
                   cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    script = (tmp_path / "halves.ml").read_text()
    assert script == ("// # Halves\n// A *short* notebook.\n\n"
                      "x = 7 // 2; // floor division\nprint(x);\n\n"
                      "// time it\n// %time\n// %timeout 5\nprint(x + 1);\n\n// len?\n")
    run = subprocess.run([sys.executable, "-m", "mlpy", "run", "halves.ml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "3\n4\n", "")


def test_to_script_uses_the_ml_exporter_when_installed(tmp_path):
    """The package registers the exporter for `--to script` (an entry point); where this
    checkout is the installed package, `--to script` itself writes the .ml file."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    scripts = project["project"]["entry-points"]["nbconvert.exporters.script"]
    assert scripts == {"ml": "ml_kernel.nbconvert:MLScriptExporter"}
    installed = [e for e in importlib.metadata.entry_points(group="nbconvert.exporters.script")
                 if e.name == "ml"]
    _notebook(tmp_path / "halves.ipynb")
    r = _nbconvert("--to", "script", "halves.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "halves.ml").read_text()
    assert "print(x);" in text
    if installed:
        assert "// %time" in text


def test_html_export_highlights_ml(tmp_path):
    _notebook(tmp_path / "halves.ipynb")
    r = _nbconvert("--to", "html", "halves.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "halves.html").read_text()
    assert '<span class="o">//</span>' in html                 # 7 // 2 divides
    assert '<span class="c1">// floor division</span>' in html  # a comment after `;`


def test_comment_line_before_a_magic():
    cell = parse_cell("// time it\n%time\nprint(1);")
    assert cell.magics == [("time", "")]
    assert cell.code.split("\n")[2] == "print(1);"
