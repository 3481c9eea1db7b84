from __future__ import annotations

import asyncio
import copy
from typing import Any

from fastapi import APIRouter, Body, Query, Request
from nbformat.corpus.words import generate_corpus_id
from nbformat.v4 import nbformat_minor as NEWEST_MINOR

from mlpy.display import error_content, mime_bundle
from mlpy.program import program_id
from mlpy.language import LANGUAGE_INFO

from ..deps import (check_query, check_timeout, get_state, json_response, run_guarded,
                    tenant_of, validation_error)
from ..models import NOTEBOOK_EXAMPLE, ErrorDetail
from ..state import light
from .execute import COMMON_ERRORS, JSON_BODY

router = APIRouter(prefix="/notebooks", tags=["notebooks"])

SKIP_TAG = "skip-execution"          # as nbclient's default skip_cells_with_tag
RAISES_TAG = "raises-exception"      # as nbclient: an error in this cell does not stop the run


# What the body must be, as far as one JSON Schema can say it: the rest is nbformat's own
# schema for the notebook's nbformat_minor (each minor version has its own), which the server
# applies after filling in what a hand-written notebook may leave out (metadata, cell ids,
# outputs, execution counts).
NOTEBOOK_SCHEMA: dict[str, Any] = {
    "required": ["nbformat", "nbformat_minor", "cells"],
    "properties": {
        "nbformat": {"const": 4, "description": "only nbformat 4 notebooks are run"},
        "nbformat_minor": {"type": "integer", "minimum": 0, "maximum": NEWEST_MINOR,
                           "description": "the minor versions the server's nbformat reads"},
        "metadata": {"type": "object"},
        "cells": {"type": "array", "items": {
            "type": "object", "required": ["cell_type", "source"],
            "properties": {"cell_type": {"type": "string"},
                           "source": {"anyOf": [{"type": "string"},
                                                {"type": "array",
                                                 "items": {"type": "string"}}]},
                           "metadata": {"type": "object"}}}}},
}


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _check_kinds(nb: dict) -> None:
    """Cells that are not an array, a cell that is not an object, an nbformat_minor that is
    not an integer, or a cell_type or output_type that is not a string, is a 422 here:
    nbformat's validator fails on those (TypeError, AssertionError) while it words its own
    message."""
    minor = nb.get("nbformat_minor")
    if "nbformat_minor" in nb and (not isinstance(minor, int) or isinstance(minor, bool)
                                   or minor < 0):
        raise validation_error(("body", "nbformat_minor"), "must be an integer of at least 0",
                               minor)
    if isinstance(minor, int) and minor > NEWEST_MINOR:
        # nbformat validates a minor version newer than it knows only loosely (any cell
        # shape passes), so such a notebook would run unchecked
        raise validation_error(("body", "nbformat_minor"),
                               f"must be at most {NEWEST_MINOR}: this server reads nbformat "
                               f"4.0 to 4.{NEWEST_MINOR}", minor)
    cells = nb.get("cells")
    if "cells" in nb and not isinstance(cells, list):
        raise validation_error(("body", "cells"), "must be an array of cells")
    for i, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict):
            raise validation_error(("body", "cells", i), "a cell must be an object")
        if "cell_type" in cell and not isinstance(cell["cell_type"], str):
            raise validation_error(("body", "cells", i, "cell_type"), "must be a string")
        outputs = cell.get("outputs")
        for j, out in enumerate(outputs if isinstance(outputs, list) else []):
            if (isinstance(out, dict) and "output_type" in out
                    and not isinstance(out["output_type"], str)):
                raise validation_error(("body", "cells", i, "outputs", j, "output_type"),
                                       "must be a string")


def _validate(nb: dict) -> dict:
    import nbformat
    from nbformat.validator import NotebookValidationError

    if nb.get("nbformat") != 4:
        raise validation_error(("body", "nbformat"), "only nbformat 4 notebooks are supported",
                               nb.get("nbformat"))
    nb = copy.deepcopy(nb)
    wants_ids = isinstance(nb.get("nbformat_minor"), int) and nb["nbformat_minor"] >= 5
    if isinstance(nb.get("cells"), list):  # fill what a hand-written notebook may leave out
        for cell in nb["cells"]:
            if isinstance(cell, dict):
                cell.setdefault("metadata", {})
                if wants_ids:  # nbformat >= 4.5 cells carry ids, as nbformat.read would add
                    cell.setdefault("id", generate_corpus_id())
                if cell.get("cell_type") == "code":
                    cell.setdefault("outputs", [])
                    cell.setdefault("execution_count", None)
    nb.setdefault("metadata", {})
    _check_kinds(nb)
    try:
        nbformat.validate(nb)
    except NotebookValidationError as exc:
        raise validation_error(("body",), f"not a valid nbformat 4 notebook: "
                               f"{str(exc).splitlines()[0]}") from None
    except Exception:
        # nbformat's validator failing on a shape it did not expect (a 422, never a 500)
        raise validation_error(("body",), "not a valid nbformat 4 notebook") from None
    return nb


@router.post("/execute", responses={
    200: {"description": "the notebook with outputs filled in; headers X-Notebook-Status "
                         "(`ok`, or `error` when any cell failed — also with allow_errors), "
                         "X-Notebook-Failed-Cell (the first failed cell's index) and "
                         "X-Notebook-Failed-Cells (all of them, comma-separated), and "
                         "X-Notebook-Stopped when the notebook's time limit ended the run",
          "content": {"application/json": {"example": NOTEBOOK_EXAMPLE}},
          "headers": {
              "X-Notebook-Status": {"description": "`ok`, or `error` when a cell failed or "
                                                   "the time limit stopped the run",
                                    "schema": {"type": "string", "enum": ["ok", "error"]}},
              "X-Notebook-Failed-Cell": {"description": "index of the first failed cell",
                                         "schema": {"type": "string"}},
              "X-Notebook-Failed-Cells": {"description": "indexes of the failed cells, "
                                                         "comma-separated",
                                          "schema": {"type": "string"}},
              "X-Notebook-Stopped": {"description": "why the run stopped early (the "
                                                    "notebook's time limit)",
                                     "schema": {"type": "string"}}}},
    422: {"model": ErrorDetail, "description": "not an nbformat v4 notebook"},
    **COMMON_ERRORS, **JSON_BODY}, summary="Run a notebook of ML cells")
async def execute_notebook(
    request: Request,
    notebook: dict[str, Any] = Body(..., description="an nbformat v4 notebook",
                                    examples=[NOTEBOOK_EXAMPLE],
                                    json_schema_extra=NOTEBOOK_SCHEMA),
    allow_errors: bool = Query(False, description="continue after a failing cell "
                                                  "(otherwise stop there, like nbclient)"),
    timeout: float = Query(5.0, gt=0, le=30, allow_inf_nan=False,
                           description="per-cell timeout in seconds"),
):
    """Runs the code cells in order in a fresh session and returns the notebook with
    `outputs` and `execution_count` filled in as the ML Jupyter kernel produces them:
    `stream` (stdout), `execute_result` (text/plain in ML form; an HTML table for an array
    of objects) and `error` (ename, evalue, traceback).  Empty cells and cells tagged
    `skip-execution` are not run; an error in a cell tagged `raises-exception` does not stop
    the run.  The result is valid under `nbformat.validate`."""
    state = get_state(request)
    check_query(request, {"allow_errors", "timeout"})
    timeout = check_timeout(state, timeout, ("query", "timeout"),
                            given="timeout" in request.query_params)
    try:        # off the event loop: validating a large notebook takes a while
        nb = await asyncio.to_thread(_validate, notebook)
    except RecursionError:
        raise validation_error(("body",), "the notebook is nested too deeply") from None
    cells = nb.get("cells", [])
    if len(cells) > state.settings.max_notebook_cells:
        raise validation_error(("body", "cells"), f"{len(cells)} cells, more than the limit "
                               f"of {state.settings.max_notebook_cells}")
    session = state.executor.session()
    count = 0
    failed: list[int] = []
    stopped: str | None = None
    loop = asyncio.get_running_loop()
    limit = state.settings.max_notebook_seconds
    deadline = loop.time() + limit
    cells_run: dict[str, int] = {}          # program id -> the cell that ran it (call stacks)

    def place(frame: dict) -> str | None:
        if frame.get("file"):
            return None
        number = cells_run.get(frame.get("program") or "")
        return f"Cell In[{number}]" if number is not None else None

    try:
        for index, cell in enumerate(cells):
            if cell.get("cell_type") != "code":
                continue
            source = _source(cell)
            tags = cell.get("metadata", {}).get("tags", [])
            if not source.strip() or SKIP_TAG in tags:
                continue
            if len(source) > state.settings.max_code_length:
                raise validation_error(("body", "cells", index, "source"),
                                       f"cell source is more than "
                                       f"{state.settings.max_code_length} characters")
            remaining = deadline - loop.time()
            if remaining <= 0:
                stopped = (f"the notebook's time limit of {limit:g} seconds "
                           f"(MLPY_MAX_NOTEBOOK_SECONDS) ended the run before cell {index}")
                break
            count += 1
            cells_run[program_id(source)] = count
            cell_timeout = min(timeout, remaining)        # a cell never runs past the limit
            result = await run_guarded(
                state, "notebook", lambda source=source, cell_timeout=cell_timeout:
                session.execute(source, timeout=cell_timeout, interactive=True),
                tenant=tenant_of(request), request=request)
            await state.render("notebook", result)   # counted; the cell outputs are built below
            outputs: list[dict] = []
            stdout = result.stdout or ""
            if stdout:
                outputs.append({"output_type": "stream", "name": "stdout", "text": stdout})
            stderr = result.stderr or ""
            if stderr:
                outputs.append({"output_type": "stream", "name": "stderr", "text": stderr})
            if result.success:
                value = result.display_value
                cap = state.settings.max_result_bytes
                # as the kernel shows it: no application/json (a front end would parse it
                # with JavaScript numbers and show a tree instead of the table and text)
                data = (mime_bundle(value, max_json_bytes=cap, json=False) if light(value) else
                        await asyncio.to_thread(mime_bundle, value, max_json_bytes=cap,
                                                json=False))
                if data:
                    outputs.append({"output_type": "execute_result", "execution_count": count,
                                    "data": data, "metadata": {}})
            else:
                outputs.append({"output_type": "error", **error_content(result, source, where=place)})
            cell["outputs"] = outputs
            cell["execution_count"] = count
            if not result.success and RAISES_TAG not in tags:
                failed.append(index)
                if not allow_errors:
                    break
    finally:
        session.close()
    nb.setdefault("metadata", {}).setdefault("language_info", dict(LANGUAGE_INFO))
    headers = {"X-Notebook-Status": "error" if failed or stopped else "ok"}
    if failed:
        headers["X-Notebook-Failed-Cell"] = str(failed[0])
        headers["X-Notebook-Failed-Cells"] = ",".join(map(str, failed))
    if stopped:
        headers["X-Notebook-Stopped"] = stopped
    return json_response(nb, 200, headers)
