"""The ML `display` module: rich output (HTML, Markdown, tables, JSON) and output that updates
in place, for front ends that show it (the Jupyter kernel); elsewhere a text fallback.

A call writes one message on the program's output under the stream name `display` (so it
keeps its order with `print` and counts towards the output cap): JSON with `op` (`display`,
`update` or `clear`), the MIME bundle `data` and the handle's `id`. `message_of` reads it
back. The Jupyter kernel turns these into display_data / update_display_data / clear_output;
the CLI prints the `text/plain` fallback; other hosts see the JSON text.
"""

from __future__ import annotations

import json as _json
import uuid
from typing import Any

from ..runtime.context import current
from ..runtime.values import ml_repr
from . import LibraryModule

STREAM = "display"
KINDS = ("text", "html", "markdown", "json", "table")

module = LibraryModule("display", "Rich output in notebooks: html, markdown, tables, JSON, "
                                  "images, and show/update for output that changes in place")


def bundle(value: Any, kind: str = "text") -> dict:
    """The MIME bundle for `value` shown as `kind`."""
    from ..display import html_table, mime_bundle
    if kind not in KINDS:
        raise ValueError(f"display kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind in ("html", "markdown"):
        if not isinstance(value, str):
            raise TypeError(f"display.{kind} expects a string, got {ml_repr(value)[:60]}")
        return {"text/html" if kind == "html" else "text/markdown": value, "text/plain": value}
    if kind == "table":
        table = html_table(value, 1000)
        if table is None:
            raise TypeError("display.table expects a non-empty array of objects")
        return {"text/html": table, "text/plain": mime_bundle(value)["text/plain"]}
    if kind == "json":
        data = mime_bundle(value, json=True)
        data.pop("text/html", None)
        return data or {"text/plain": "null"}
    if isinstance(value, str):
        return {"text/plain": value}                 # a progress line shows as written
    return mime_bundle(value, json=False) or {"text/plain": "null"}


def _send(op: str, data: dict | None = None, display_id: str | None = None) -> None:
    message: dict[str, Any] = {"op": op}
    if data is not None:
        message["data"] = data
    if display_id is not None:
        message["id"] = display_id
    current().output.write(_json.dumps(message, ensure_ascii=False), STREAM)


def message_of(text: str) -> dict | None:
    """A display message written by this module, or None when `text` is not one."""
    try:
        message = _json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("op") not in ("display", "update", "clear"):
        return None
    return message


def _handle_id(handle: Any) -> str:
    if isinstance(handle, dict):
        handle = handle.get("display_id")
    if not isinstance(handle, str) or not handle:
        raise TypeError("display.update expects the handle that display.show returned")
    return handle


@module.function()
def show(value, kind="text"):
    """Show `value` (kind: text, html, markdown, json or table); returns a handle for
    display.update. A string shows as written, other values in container form."""
    display_id = uuid.uuid4().hex
    _send("display", bundle(value, kind), display_id)
    return {"display_id": display_id}


@module.function()
def update(handle, value, kind="text"):
    """Replace what display.show(...) showed under `handle` with `value` (in place)."""
    _send("update", bundle(value, kind), _handle_id(handle))


@module.function()
def html(text):
    """Show a string of HTML; returns a handle."""
    return show(text, "html")


@module.function()
def markdown(text):
    """Show a string of Markdown; returns a handle."""
    return show(text, "markdown")


@module.function()
def table(rows):
    """Show an array of objects as a table (one column per key); returns a handle."""
    return show(rows, "table")


@module.function("json")
def json_(value):
    """Show a value as JSON (a collapsible tree in JupyterLab); returns a handle."""
    return show(value, "json")


IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg",
               "svg": "image/svg+xml"}


def image_bundle(data: Any, format: str) -> dict:
    """The MIME bundle of an image: `data` is bytes (an array of integers 0-255), or for svg
    also a string."""
    import base64
    mime = IMAGE_TYPES.get(format.lower()) if isinstance(format, str) else None
    if mime is None:
        raise ValueError(f"display.image format must be png, jpeg or svg, got "
                         f"{ml_repr(format)[:40]}")
    if isinstance(data, str) and mime == "image/svg+xml":
        raw = data.encode("utf-8")
    elif isinstance(data, list) and all(type(b) is int and 0 <= b <= 255 for b in data):
        raw = bytes(data)
    else:
        raise TypeError("display.image expects bytes (an array of integers 0-255)"
                        + (" or an SVG string" if mime == "image/svg+xml" else ""))
    if mime == "image/svg+xml":
        text = raw.decode("utf-8", "replace")
        return {mime: text, "text/plain": f"<svg image, {len(raw)} bytes>"}
    return {mime: base64.b64encode(raw).decode("ascii"),
            "text/plain": f"<{format.lower()} image, {len(raw)} bytes>"}


@module.function()
def image(data, format="png"):
    """Show an image: bytes (an array of integers 0-255; file.readBytes gives them) in png,
    jpeg or svg format (svg also as a string); returns a handle."""
    display_id = uuid.uuid4().hex
    _send("display", image_bundle(data, format), display_id)
    return {"display_id": display_id}


@module.function()
def clear():
    """Clear the cell's output so far."""
    _send("clear")
