"""ML module `path`: path text helpers, and folder access inside the host-granted root.

The text helpers (`join dirname basename extname split normalize isAbsolute separator
delimiter`) touch no file system and need no capability. The others need `path.read` /
`path.write` and are confined to `current().root()` like the `file` module (SecurityError for
paths that leave it, symlinks included); `cwd()` is that root.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..runtime.context import current
from ..runtime.signals import LimitStop, ml_error
from ..runtime.values import typeof
from . import LibraryModule
from ._paths import confine_for, refuse

module = LibraryModule("path", "Path text helpers and folder access in the host-granted folder")


def _text(value, what: str = "path") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {typeof(value)}")
    return value


def _failure(exc: OSError, path: str) -> RuntimeError:
    from .file import os_failure
    return os_failure(exc, path)


# --- text helpers -----------------------------------------------------------------------------


@module.function()
def join(*parts):
    """The parts joined with the separator (an absolute part restarts the path)."""
    if not parts:
        return ""
    return os.path.join(*[_text(p, "path part") for p in parts])


@module.function()
def dirname(p):
    """The folder part of a path."""
    return os.path.dirname(_text(p))


@module.function()
def basename(p):
    """The last component of a path."""
    return os.path.basename(_text(p))


@module.function()
def extname(p):
    """The extension of the last component, with its dot ("" if none)."""
    return os.path.splitext(_text(p))[1]


@module.function()
def split(p):
    """[folder part, last component]."""
    return list(os.path.split(_text(p)))


@module.function()
def normalize(p):
    """The path with redundant separators and . / .. components removed."""
    return os.path.normpath(_text(p))


@module.function("isAbsolute")
def isAbsolute(p):
    """True if the path is absolute."""
    return os.path.isabs(_text(p))


@module.function()
def separator():
    """The path separator of the host ("/" on POSIX)."""
    return os.sep


@module.function()
def delimiter():
    """The separator of path lists of the host (":" on POSIX)."""
    return os.pathsep


# --- path.read --------------------------------------------------------------------------------


@module.function(capabilities=("path.read",))
def absolute(p):
    """The absolute, normalized form of p taken from the root (text only)."""
    return os.path.normpath(os.path.join(current().root(), _text(p)))


@module.function(capabilities=("path.read",))
def relative(from_path, to_path):
    """The relative path from from_path to to_path (both taken from the root)."""
    root = current().root()
    start = os.path.join(root, _text(from_path, "from"))
    target = os.path.join(root, _text(to_path, "to"))
    return os.path.relpath(target, start)


@module.function(capabilities=("path.read",))
def cwd():
    """The working folder: the host-granted root."""
    return str(current().root())


@module.function(capabilities=("path.read",))
def home():
    """The home folder of the host user (outside the root: listing it is refused)."""
    return os.path.expanduser("~")


@module.function("tempDir", capabilities=("path.read",))
def tempDir():
    """A temporary folder inside the allowed root (spec §10): the host's own when it lies
    inside the root, else the folder `.tmp` of the root (made on first use)."""
    import tempfile
    root = current().root()
    system = Path(tempfile.gettempdir()).resolve()
    if system == root or root in system.parents:
        return str(system)
    folder = root / ".tmp"
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        pass
    return str(folder)


@module.function(capabilities=("path.read",))
def exists(p):
    """True if a file or folder exists at p."""
    return confine_for("path.read", p).exists()


@module.function("isFile", capabilities=("path.read",))
def isFile(p):
    """True if p is a file."""
    return confine_for("path.read", p).is_file()


@module.function("isDirectory", capabilities=("path.read",))
def isDirectory(p):
    """True if p is a folder."""
    return confine_for("path.read", p).is_dir()


@module.function("listDir", capabilities=("path.read",))
def listDir(dir="."):
    """The sorted names of the entries of a folder."""
    folder = confine_for("path.read", dir)
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise _failure(exc, dir) from None
    return sorted(names)


@module.function(capabilities=("path.read",))
def glob(pattern):
    """Sorted paths (from the root) matching a glob pattern; ** matches folders recursively."""
    _text(pattern, "pattern")
    if "\x00" in pattern or not pattern:
        raise ValueError("glob pattern must be a non-empty string")
    root = current().root()
    relative_pattern = pattern
    if os.path.isabs(pattern):
        normalized = os.path.normpath(pattern)
        if not (normalized == str(root) or normalized.startswith(str(root) + os.sep)):
            raise refuse(pattern)
        relative_pattern = os.path.relpath(normalized, root)
    parts = relative_pattern.replace(os.sep, "/").split("/")
    if ".." in parts:
        raise refuse(pattern, "uses '..'")
    if relative_pattern in (".", ""):
        return ["."]
    limit = current().limits.max_sequence
    found = set()
    try:
        for match in root.glob(relative_pattern):
            try:
                resolved = match.resolve()
            except (OSError, RuntimeError):
                continue
            if resolved != root and root not in resolved.parents:
                continue                     # a symlink leading out of the root
            found.add(match.relative_to(root).as_posix())
            if len(found) > limit:
                raise LimitStop(f"glob matched more than {limit} paths")
    except ValueError as exc:
        raise ValueError(f"Invalid glob pattern '{pattern}': {exc}") from None
    return sorted(found)


@module.function(capabilities=("path.read",))
def walk(dir, max_depth=-1):
    """Sorted paths (relative to dir) of every file below dir, down max_depth folder levels (-1: all)."""
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise TypeError(f"max_depth must be an integer, not {typeof(max_depth)}")
    top = confine_for("path.read", dir)
    if not top.is_dir():
        raise RuntimeError(f"Not a directory: {dir}" if top.exists() else f"File not found: {dir}")
    limit = current().limits.max_sequence
    files = []
    for folder, subfolders, names in os.walk(top, followlinks=False):
        rel = os.path.relpath(folder, top)
        depth = 0 if rel == "." else rel.count(os.sep) + 1
        if 0 <= max_depth <= depth:
            subfolders[:] = []
        for name in names:
            files.append(name if rel == "." else f"{rel}{os.sep}{name}".replace(os.sep, "/"))
        if len(files) > limit:
            raise LimitStop(f"walk found more than {limit} files")
    return sorted(files)


# --- path.write -------------------------------------------------------------------------------


@module.function("createDir", capabilities=("path.write",))
def createDir(dir, parents=True):
    """Create a folder (and its missing parents unless parents is false); existing is fine."""
    folder = confine_for("path.write", dir)
    try:
        folder.mkdir(parents=bool(parents), exist_ok=True)
    except OSError as exc:
        raise _failure(exc, dir) from None


def _removable(dir) -> object:
    folder = confine_for("path.write", dir, follow=False)
    if folder == current().root():
        raise ml_error("SecurityError", f"access to path '{dir}' is not allowed: it is the root folder")
    if folder.is_symlink() or not folder.exists():
        if not os.path.lexists(folder):
            raise RuntimeError(f"File not found: {dir}")
        raise ValueError(f"Not a folder: {dir}")
    if not folder.is_dir():
        raise ValueError(f"Not a folder: {dir}")
    return folder


@module.function("removeDir", capabilities=("path.write",))
def removeDir(dir):
    """Remove an empty folder."""
    folder = _removable(dir)
    try:
        folder.rmdir()
    except OSError as exc:
        if exc.errno in (39, 66):            # ENOTEMPTY (Linux, macOS)
            raise RuntimeError(f"Directory not empty: {dir}") from None
        raise _failure(exc, dir) from None


@module.function("removeDirRecursive", capabilities=("path.write",))
def removeDirRecursive(dir):
    """Remove a folder and everything in it (symlinks inside are removed, not followed)."""
    folder = _removable(dir)
    import shutil
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise _failure(exc, dir) from None
