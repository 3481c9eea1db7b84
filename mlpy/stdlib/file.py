"""ML module `file`: reading and writing files inside the host-granted folder.

Paths are relative to `current().root()`; a path that leaves it (`..`, an absolute path
elsewhere, a symlink pointing outside) raises `SecurityError` (see `_paths.py`). Missing files
and other OS failures raise `RuntimeError` with the path as the program wrote it. Bytes are
arrays of integers 0-255. Reading more than the host's string / sequence limit stops the
program (`LimitStop`).
"""

from __future__ import annotations

import codecs
import os

from ..runtime.context import current
from ..runtime.signals import LimitStop
from ..runtime.values import display, typeof
from . import LibraryModule
from ._paths import confine_for

module = LibraryModule("file", "Read and write files in the host-granted folder")


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {typeof(value)}")
    return value


def _encoding(encoding) -> str:
    if encoding is None:
        return "utf-8"
    _text(encoding, "encoding")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"Unknown encoding: '{encoding}'") from None
    return encoding


def os_failure(exc: OSError, path: str) -> RuntimeError:
    """An ML RuntimeError for an OS error, naming the ML path (never the host's root)."""
    if isinstance(exc, FileNotFoundError):
        return RuntimeError(f"File not found: {path}")
    if isinstance(exc, IsADirectoryError):
        return RuntimeError(f"Is a directory: {path}")
    if isinstance(exc, NotADirectoryError):
        return RuntimeError(f"Not a directory: {path}")
    if isinstance(exc, PermissionError):
        return RuntimeError(f"Permission denied: {path}")
    if isinstance(exc, FileExistsError):
        return RuntimeError(f"File exists: {path}")
    return RuntimeError(f"Cannot access '{path}': {exc.strerror or exc.__class__.__name__}")


def _check_size(resolved, path: str, limit: int, what: str) -> None:
    try:
        size = resolved.stat().st_size
    except OSError as exc:
        raise os_failure(exc, path) from None
    if size > limit:
        raise LimitStop(f"file '{path}' is larger than the {what} limit ({limit})")


def read_text(resolved, path: str, encoding="utf-8", newline=None) -> str:
    """The text of a confined file (shared with csv: newline="" keeps line ends as they are)."""
    encoding = _encoding(encoding)
    _check_size(resolved, path, current().limits.max_string, "string")
    try:
        with open(resolved, "r", encoding=encoding, newline=newline) as handle:
            return handle.read()
    except OSError as exc:
        raise os_failure(exc, path) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"Cannot decode '{path}' as {encoding}: {exc.reason}") from None


def write_text(resolved, path: str, text: str, encoding="utf-8", mode: str = "w") -> None:
    """Write (mode "w") or append ("a") text to a confined file, creating parent folders."""
    encoding = _encoding(encoding)
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        with open(resolved, mode, encoding=encoding, newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise os_failure(exc, path) from None
    except UnicodeEncodeError as exc:
        raise ValueError(f"Cannot encode text for '{path}' as {encoding}: {exc.reason}") from None


def _stat(resolved, path: str):
    try:
        return resolved.stat()
    except OSError as exc:
        raise os_failure(exc, path) from None


@module.function(capabilities=("file.read",))
def read(path, encoding="utf-8"):
    """The text of a file."""
    return read_text(confine_for("file.read", path), path, encoding)


@module.function("readLines", capabilities=("file.read",))
def readLines(path, encoding="utf-8"):
    """The lines of a text file, without line endings."""
    text = read_text(confine_for("file.read", path), path, encoding)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@module.function("readBytes", capabilities=("file.read",))
def readBytes(path):
    """The bytes of a file as an array of integers 0-255."""
    resolved = confine_for("file.read", path)
    _check_size(resolved, path, current().limits.max_sequence, "sequence")
    try:
        return list(resolved.read_bytes())
    except OSError as exc:
        raise os_failure(exc, path) from None


@module.function(capabilities=("file.read",))
def exists(path):
    """True if a file or folder exists at path."""
    return confine_for("file.read", path).exists()


@module.function("isFile", capabilities=("file.read",))
def isFile(path):
    """True if path is a file."""
    return confine_for("file.read", path).is_file()


@module.function("isDirectory", capabilities=("file.read",))
def isDirectory(path):
    """True if path is a folder."""
    return confine_for("file.read", path).is_dir()


@module.function(capabilities=("file.read",))
def size(path):
    """The size of a file in bytes."""
    return _stat(confine_for("file.read", path), path).st_size


@module.function("modifiedTime", capabilities=("file.read",))
def modifiedTime(path):
    """The last modification time of a file, in epoch seconds."""
    return float(_stat(confine_for("file.read", path), path).st_mtime)


@module.function(capabilities=("file.write",))
def write(path, text, encoding="utf-8"):
    """Write text to a file (replacing it), creating parent folders."""
    write_text(confine_for("file.write", path), path, _text(text, "text"), encoding)


@module.function("writeLines", capabilities=("file.write",))
def writeLines(path, arr):
    """Write each element of an array as one line (each ends with a newline)."""
    if not isinstance(arr, list):
        raise TypeError(f"writeLines expects an array, not {typeof(arr)}")
    text = "".join(display(line) + "\n" for line in arr)
    write_text(confine_for("file.write", path), path, text)


@module.function("writeBytes", capabilities=("file.write",))
def writeBytes(path, data):
    """Write an array of integers 0-255 as the bytes of a file."""
    if not isinstance(data, list) or not all(
            type(b) is int and 0 <= b <= 255 for b in data):
        raise ValueError("writeBytes expects an array of integers 0-255")
    resolved = confine_for("file.write", path)
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        resolved.write_bytes(bytes(data))
    except OSError as exc:
        raise os_failure(exc, path) from None


@module.function(capabilities=("file.append",))
def append(path, text):
    """Append text to a file (created if missing)."""
    write_text(confine_for("file.append", path), path, _text(text, "text"), mode="a")


def _require_file(resolved, path: str) -> None:
    if resolved.is_dir() and not resolved.is_symlink():
        raise ValueError(f"Not a file: {path} (a folder)")
    if not os.path.lexists(resolved):
        raise RuntimeError(f"File not found: {path}")


@module.function(capabilities=("file.delete",))
def delete(path):
    """Delete a file: true, or false if it did not exist (a folder -> ValueError)."""
    resolved = confine_for("file.delete", path, follow=False)
    if not os.path.lexists(resolved):
        return False
    if resolved.is_dir() and not resolved.is_symlink():
        raise ValueError(f"Not a file: {path} (use path.removeDir for folders)")
    try:
        resolved.unlink()
    except OSError as exc:
        raise os_failure(exc, path) from None
    return True


@module.function(capabilities=("file.read", "file.write"))
def copy(src, dst):
    """Copy a file to dst (a file path, or a folder to copy into)."""
    source = confine_for("file.read", src)
    target = confine_for("file.write", dst)
    _require_file(source, src)
    import shutil
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    except OSError as exc:
        raise os_failure(exc, f"{src} -> {dst}") from None


@module.function(capabilities=("file.read", "file.write", "file.delete"))
def move(src, dst):
    """Move or rename a file to dst (a file path, or a folder to move into)."""
    source = confine_for(("file.read", "file.delete"), src, follow=False)
    target = confine_for("file.write", dst)
    _require_file(source, src)
    import shutil
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
    except OSError as exc:
        raise os_failure(exc, f"{src} -> {dst}") from None
