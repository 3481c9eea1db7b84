"""The ML `log` module: levelled log lines on standard output (spec section 10).

Text lines read `[YYYY-MM-DD HH:MM:SS] LEVEL: message | k=v, k2=v2` (local time); JSON lines
are `{"message": ..., "level": ..., "logger": ..., "timestamp": ..., "data": ...}` with a UTC
ISO-8601 timestamp. The module-level logger's settings are per namespace
(`current().module_state("log", ...)`); each `create_logger(name)` Logger has its own.
"""

from __future__ import annotations

import time

from ..runtime.context import current
from ..runtime.values import MLObject, display, typeof
from . import LibraryModule

module = LibraryModule("log", "Levelled logging to standard output (text or JSON lines)")

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_LEVEL_ALIASES = {"WARN": "WARNING"}
_FORMATS = ("text", "json")


class _Settings:
    """One logger's name, threshold, format, timestamp switch and extra files."""

    __slots__ = ("name", "level", "format", "timestamp", "files")

    def __init__(self, name: str = "default"):
        self.name = name
        self.level = _LEVELS["INFO"]
        self.format = "text"
        self.timestamp = True
        self.files: list = []            # [(path as written, resolved Path)]


def _module_settings() -> _Settings:
    return current().module_state("log", _Settings)


# --- formatting --------------------------------------------------------------------------


def _jsonable(value, active: set):
    """value with everything JSON cannot hold replaced by its display form."""
    cls = type(value)
    if value is None or cls is bool or cls is int or cls is str:
        return value
    if cls is float:
        return value if value == value and value not in (float("inf"), float("-inf")) else display(value)
    if isinstance(value, (list, dict)):
        if id(value) in active:
            return "[...]" if isinstance(value, list) else "{...}"
        active.add(id(value))
        try:
            if isinstance(value, list):
                return [_jsonable(v, active) for v in value]
            return {(k if type(k) is str else display(k)): _jsonable(v, active)
                    for k, v in value.items()}
        finally:
            active.discard(id(value))
    return display(value)


def _format(settings: _Settings, level: str, message, data) -> str:
    if settings.format == "json":
        import json as _json
        entry = {"message": display(message), "level": level, "logger": settings.name}
        if settings.timestamp:
            entry["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if data is not None:
            entry["data"] = _jsonable(data, set())
        return _json.dumps(entry, separators=(", ", ": "))
    line = f"{level}: {display(message)}"
    if settings.timestamp:
        line = time.strftime("[%Y-%m-%d %H:%M:%S] ", time.localtime()) + line
    if isinstance(data, dict):
        if data:
            line += " | " + ", ".join(f"{display(k)}={display(v)}" for k, v in data.items())
    elif data is not None:
        line += " | " + display(data)
    return line


def _emit(settings: _Settings, level: str, message, data) -> None:
    if _LEVELS[level] < settings.level:
        return
    line = _format(settings, level, message, data) + "\n"
    ctx = current()
    ctx.output.write(line)
    if settings.files and ctx.capabilities.has("file.write"):
        from ._paths import confine
        for written, resolved in settings.files:
            target = confine(str(resolved))          # still inside this run's root
            try:
                with open(target, "a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:
                raise RuntimeError(f"Cannot write log file {written}: {exc.strerror or exc}") from None


# --- settings ----------------------------------------------------------------------------


def _set_level(settings: _Settings, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"log level must be a string, got {typeof(name)}")
    key = name.strip().upper()
    key = _LEVEL_ALIASES.get(key, key)
    if key not in _LEVELS:
        raise ValueError(f"Invalid log level: {name} (use DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    settings.level = _LEVELS[key]


def _set_format(settings: _Settings, fmt) -> None:
    if not isinstance(fmt, str) or fmt.strip().lower() not in _FORMATS:
        raise ValueError(f"Invalid log format: {display(fmt)} (use \"text\" or \"json\")")
    settings.format = fmt.strip().lower()


def _add_file(settings: _Settings, path) -> None:
    from ._paths import confine_for
    resolved = confine_for("file.write", path)
    if resolved.is_dir():
        raise ValueError(f"Cannot log to {path}: it is a folder")
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        with open(resolved, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise RuntimeError(f"Cannot open log file {path}: {exc.strerror or exc}") from None
    if all(existing != resolved for _, existing in settings.files):
        settings.files.append((path, resolved))


# --- the module-level logger -------------------------------------------------------------


@module.function()
def debug(message, data=None):
    """Log message (and optional data object) at level DEBUG."""
    _emit(_module_settings(), "DEBUG", message, data)


@module.function()
def info(message, data=None):
    """Log message (and optional data object) at level INFO."""
    _emit(_module_settings(), "INFO", message, data)


@module.function()
def warn(message, data=None):
    """Log message (and optional data object) at level WARNING."""
    _emit(_module_settings(), "WARNING", message, data)


@module.function()
def error(message, data=None):
    """Log message (and optional data object) at level ERROR."""
    _emit(_module_settings(), "ERROR", message, data)


@module.function()
def critical(message, data=None):
    """Log message (and optional data object) at level CRITICAL."""
    _emit(_module_settings(), "CRITICAL", message, data)


@module.function()
def set_level(name):
    """Log only messages at or above this level: DEBUG, INFO (default), WARNING, ERROR, CRITICAL."""
    _set_level(_module_settings(), name)


@module.function()
def set_format(fmt):
    """Write "text" (default) or "json" lines."""
    _set_format(_module_settings(), fmt)


@module.function()
def set_timestamp(enabled):
    """Include (true, default) or drop (false) the timestamp."""
    _module_settings().timestamp = bool(enabled)


@module.function()
def is_debug():
    """true if DEBUG messages are logged."""
    return _module_settings().level <= _LEVELS["DEBUG"]


@module.function(capabilities=("file.write",))
def add_file(path):
    """Also append every logged line to the file at path."""
    _add_file(_module_settings(), path)


class Logger(MLObject):
    """A named logger with its own level, format, timestamp setting and files."""

    ml_type = "Logger"
    ml_members = frozenset({"debug", "info", "warn", "error", "critical", "set_level",
                            "set_format", "set_timestamp", "is_debug", "add_file"})

    def __init__(self, name: str):
        self._settings = _Settings(name)

    def debug(self, message, data=None):
        """Log message (and optional data object) at level DEBUG."""
        _emit(self._settings, "DEBUG", message, data)

    def info(self, message, data=None):
        """Log message (and optional data object) at level INFO."""
        _emit(self._settings, "INFO", message, data)

    def warn(self, message, data=None):
        """Log message (and optional data object) at level WARNING."""
        _emit(self._settings, "WARNING", message, data)

    def error(self, message, data=None):
        """Log message (and optional data object) at level ERROR."""
        _emit(self._settings, "ERROR", message, data)

    def critical(self, message, data=None):
        """Log message (and optional data object) at level CRITICAL."""
        _emit(self._settings, "CRITICAL", message, data)

    def set_level(self, name):
        """Log only messages at or above this level."""
        _set_level(self._settings, name)

    def set_format(self, fmt):
        """Write "text" or "json" lines."""
        _set_format(self._settings, fmt)

    def set_timestamp(self, enabled):
        """Include or drop the timestamp."""
        self._settings.timestamp = bool(enabled)

    def is_debug(self):
        """true if DEBUG messages are logged."""
        return self._settings.level <= _LEVELS["DEBUG"]

    def add_file(self, path):
        """Also append every logged line to the file at path (needs file.write)."""
        current().require("file.write", "Logger.add_file")
        _add_file(self._settings, path)


@module.function()
def create_logger(name):
    """A new Logger called name (level INFO, text format, timestamps on)."""
    if not isinstance(name, str):
        raise TypeError(f"log.create_logger() name must be a string, got {typeof(name)}")
    return Logger(name)
