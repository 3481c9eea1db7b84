"""Confinement of file-system access to the host-granted root (shared by file, path, csv, log).

Every path an ML program hands to a library function goes through `confine()`: relative paths
are taken from `current().root()`, the result is resolved (symlinks followed) and must lie
inside the root, else `SecurityError: path '...' is outside the allowed folder`. Messages show
the path as the program wrote it, never the host's absolute root.

If the host limited a capability to resource patterns (`Capabilities.patterns`, e.g.
`{"file.read": ["data/*.csv"]}`), `check_pattern()` also requires the path relative to the
root (POSIX form) to match one of them.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path

from ..runtime.context import current
from ..runtime.signals import ml_error


def _text(path) -> str:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must be a string, not {_kind(path)}")
    if "\x00" in path:
        raise ValueError("path must not contain NUL characters")
    return path


def _kind(value) -> str:
    from ..runtime.values import typeof
    return typeof(value)


def _inside(candidate: Path, root: Path) -> bool:
    return candidate == root or root in candidate.parents


def refuse(path: str, why: str = "is outside the allowed folder"):
    """The SecurityError raised for a path the program may not reach."""
    return ml_error("SecurityError", f"access to path '{path}' is not allowed: it {why}")


def confine(path, *, follow: bool = True, root: Path | None = None) -> Path:
    """The absolute, resolved Path for an ML path, or SecurityError if it leaves the root.

    With `follow=False` the last component is not resolved (so a symlink itself can be
    deleted), but its folder is, and the name may not be `..`."""
    text = _text(path)
    root = root if root is not None else current().root()
    raw = Path(text)
    candidate = raw if raw.is_absolute() else root / raw
    if follow or candidate.name in ("", ".", ".."):
        resolved = _resolve(candidate, text)
    else:
        parent = _resolve(candidate.parent, text)
        if not _inside(parent, root):
            raise refuse(text)
        resolved = parent / candidate.name
    if not _inside(resolved, root):
        raise refuse(text)
    return resolved


def _resolve(candidate: Path, text: str) -> Path:
    try:
        return candidate.resolve()
    except (OSError, RuntimeError):          # a symlink loop, an unreadable folder
        raise refuse(text, "cannot be resolved") from None


def relative_to_root(resolved: Path, root: Path | None = None) -> str:
    """The POSIX text of a confined path relative to the root ("." for the root itself)."""
    root = root if root is not None else current().root()
    rel = resolved.relative_to(root).as_posix()
    return rel or "."


def check_pattern(capability: str, resolved: Path, original: str) -> None:
    """Enforce resource patterns the host attached to `capability`, if any."""
    patterns = current().capabilities.patterns.get(capability)
    if not patterns:
        return
    rel = relative_to_root(resolved)
    if any(fnmatchcase(rel, pattern) for pattern in patterns):
        return
    raise ml_error("CapabilityError",
                   f"capability '{capability}' does not cover path '{original}'")


def confine_for(capability: str | tuple[str, ...], path, *, follow: bool = True) -> Path:
    """`confine()` plus the resource-pattern check of one or more capabilities."""
    resolved = confine(path, follow=follow)
    caps = (capability,) if isinstance(capability, str) else capability
    for cap in caps:
        check_pattern(cap, resolved, path)
    return resolved
