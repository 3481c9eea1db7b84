"""The kernel's `help_links` (JupyterLab's Help menu): the distribution's project URLs.

They are written once, in pyproject.toml's `[project.urls]`, and read here from the installed
metadata of the `mlpy-lang` distribution (its `Project-URL: label, url` lines). A checkout
run without installing it (PYTHONPATH), or with an install older than the URLs, has no such
metadata: then the checkout's own pyproject.toml next to this package is read instead.
"""

from __future__ import annotations

import functools
import importlib.metadata
import tomllib
from pathlib import Path

DISTRIBUTION = "mlpy-lang"
NOT_HELP = frozenset({"source"})      # the code, not documentation: left out of the Help menu
CHECKOUT = Path(__file__).resolve().parents[1]     # the tree this package was imported from


def metadata_urls(distribution: str = DISTRIBUTION) -> list[tuple[str, str]]:
    """(label, url) of the installed distribution's Project-URL entries, in their order."""
    try:
        entries = importlib.metadata.metadata(distribution).get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    urls = []
    for entry in entries:
        label, sep, url = str(entry).partition(",")
        if sep and label.strip() and url.strip():
            urls.append((label.strip(), url.strip()))
    return urls


def checkout_urls(root: Path = CHECKOUT) -> list[tuple[str, str]]:
    """(label, url) from the `[project.urls]` of the checkout this package was imported from."""
    try:
        with open(root / "pyproject.toml", "rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return []
    if project.get("name") != DISTRIBUTION:
        return []
    return [(str(label), str(url)) for label, url in (project.get("urls") or {}).items()]


@functools.cache
def help_links() -> list[dict[str, str]]:
    """kernel_info's help_links: every project URL but the source's."""
    urls = metadata_urls() or checkout_urls()
    return [{"text": label, "url": url} for label, url in urls if label.lower() not in NOT_HELP]
