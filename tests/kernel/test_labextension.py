"""The prebuilt JupyterLab extension (labextension/ -> share/jupyter/labextensions/
mlpy-jupyterlab): committed, not older than its sources, shipped in the wheel, and reading
ML's words as mlpy does. Its behaviour in a browser is tested in tests/browser/."""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib

from mlpy.language import CAPABILITY_WORDS, CONSTANTS, FILE_EXTENSION, KEYWORDS, LANGUAGE_INFO
from ml_kernel_testenv import REPO

SOURCE = REPO / "labextension"
BUNDLE = REPO / "share" / "jupyter" / "labextensions" / "mlpy-jupyterlab"


def _build_module():
    spec = importlib.util.spec_from_file_location("labextension_build", SOURCE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundle_is_committed_and_complete():
    meta = json.loads((BUNDLE / "package.json").read_text())
    assert meta["name"] == "mlpy-jupyterlab"
    assert (BUNDLE / meta["jupyterlab"]["_build"]["load"]).is_file()
    assert json.loads((BUNDLE / "install.json").read_text())["packageName"] == "mlpy-lang"


def test_bundle_is_not_older_than_its_sources():
    recorded = json.loads((BUNDLE / "build-sources.json").read_text())["sources_sha256"]
    assert recorded == _build_module().sources_hash(), (
        "labextension/ changed since the bundle was built: run python labextension/build.py "
        "and commit share/jupyter/labextensions/mlpy-jupyterlab")


def test_the_wheel_ships_the_bundle():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    shared = project["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    target = "share/jupyter/labextensions/mlpy-jupyterlab"
    assert shared[target] == target


def _js_words(source: str, name: str) -> tuple[str, ...]:
    match = re.search(r"export const " + name + r" = \[(.*?)\];", source, re.S)
    assert match, name
    return tuple(re.findall(r"'([A-Za-z_]+)'", match.group(1)))


def test_mode_words_are_mlpy_words():
    source = (SOURCE / "src" / "ml-mode.js").read_text()
    assert _js_words(source, "KEYWORDS") == KEYWORDS
    assert _js_words(source, "CONSTANTS") == CONSTANTS
    assert _js_words(source, "CAPABILITY_WORDS") == CAPABILITY_WORDS


def test_language_info_points_at_the_extension():
    index = (SOURCE / "src" / "index.js").read_text()
    assert LANGUAGE_INFO["codemirror_mode"] == "ml" and "name: 'ml'" in index
    assert LANGUAGE_INFO["mimetype"] == "text/x-ml" and "const MIME = 'text/x-ml'" in index
    assert FILE_EXTENSION == ".ml" and "extensions: ['.ml']" in index
