"""`jupyter nbconvert --to script` for ML notebooks: a `.ml` file that `mlpy run` accepts.

nbconvert's script exporter hands a notebook whose `language_info.name` is `ml` to the
exporter registered under that name in the `nbconvert.exporters.script` entry points (see
pyproject.toml). Code cells are written as they are, except the kernel's own lines, which
are not ML: magic lines (`%time`) and help cells (`len?`) become `//` comments, as do
markdown cells, so line numbers inside each cell stay those of the cell.
"""

from __future__ import annotations

from typing import Any

from nbconvert.exporters import Exporter

from .magics import _HELP, _MAGIC_LINE


def cell_script(source: str) -> str:
    """A code cell's text with its leading magic lines (and a help cell) commented out."""
    if _HELP.match(source):
        return "// " + source.strip()
    lines = source.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if not _MAGIC_LINE.match(line):
            break
        lines[index] = "// " + stripped
    return "\n".join(lines)


class MLScriptExporter(Exporter):
    """An ML notebook as one `.ml` script."""

    file_extension = ".ml"
    output_mimetype = "text/x-ml"
    export_from_notebook = "ML script"

    def from_notebook_node(  # type: ignore[override]  # (a script is text, as nbconvert's own)
            self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        parts: list[str] = []
        for cell in nb_copy.cells:
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            if cell.cell_type == "code":
                if source.strip():
                    parts.append(cell_script(source.rstrip()))
            elif source.strip():
                parts.append("\n".join(("// " + line).rstrip() for line in
                                       source.rstrip().split("\n")))
        resources["output_extension"] = self.file_extension
        return "\n\n".join(parts) + "\n", resources
