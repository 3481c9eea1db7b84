"""The ML log module: text and JSON lines on stdout, levels, Loggers, add_file confinement."""

import json
import os
import re

import pytest

import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied, MLThrow
from mlpy.runtime.values import MLObject, typeof

LOG = mlpy.stdlib.load("log").members
STAMP = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "


def context(tmp_path=None, caps=()):
    return ExecutionContext(output=OutputSink(), capabilities=Capabilities(caps), file_root=tmp_path)


def lines(ctx):
    return ctx.output.text().splitlines()


def test_text_format_with_timestamp_and_data():
    with using(context()) as ctx:
        LOG["info"]("Application started")
        LOG["warn"]("Cache miss", {"key": "user_123", "n": 2, "ok": True, "xs": [1, "a"]})
    first, second = lines(ctx)
    assert re.fullmatch(STAMP + "INFO: Application started", first)
    assert re.fullmatch(STAMP + r'WARNING: Cache miss \| key=user_123, n=2, ok=true, xs=\[1, "a"\]', second)
    assert ctx.output.stderr_text() == ""


def test_levels_and_default_threshold():
    with using(context()) as ctx:
        LOG["set_timestamp"](False)
        for name in ("debug", "info", "warn", "error", "critical"):
            LOG[name]("m")
        assert LOG["is_debug"]() is False
        LOG["set_level"]("debug")
        assert LOG["is_debug"]() is True
        LOG["debug"]("now visible", 5)
        LOG["set_level"]("ERROR")
        LOG["warn"]("hidden")
        LOG["critical"]("shown", {})
        LOG["set_level"]("WARN")
        LOG["warn"]("warn alias")
    assert lines(ctx) == ["INFO: m", "WARNING: m", "ERROR: m", "CRITICAL: m",
                          "DEBUG: now visible | 5", "CRITICAL: shown", "WARNING: warn alias"]


def test_invalid_settings():
    with using(context()):
        with pytest.raises(ValueError, match="Invalid log level"):
            LOG["set_level"]("LOUD")
        with pytest.raises(TypeError):
            LOG["set_level"](10)
        with pytest.raises(ValueError, match="Invalid log format"):
            LOG["set_format"]("xml")


def test_json_format():
    with using(context()) as ctx:
        LOG["set_format"]("json")
        LOG["info"]("hello", {"user": "é", "n": [1, None], "bad": float("nan"), "f": len})
        LOG["error"](42)
        LOG["set_timestamp"](False)
        LOG["warn"]("no time")
    first, second, third = [json.loads(line) for line in lines(ctx)]
    assert list(first) == ["message", "level", "logger", "timestamp", "data"]
    assert first["message"] == "hello" and first["level"] == "INFO" and first["logger"] == "default"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["timestamp"])
    assert first["data"] == {"user": "é", "n": [1, None], "bad": "nan", "f": "<function len>"}
    assert second["message"] == "42" and "data" not in second
    assert third == {"message": "no time", "level": "WARNING", "logger": "default"}
    assert lines(ctx)[2] == '{"message": "no time", "level": "WARNING", "logger": "default"}'


def test_settings_are_per_namespace():
    with using(context()) as a:
        LOG["set_timestamp"](False)
        LOG["set_level"]("ERROR")
        LOG["error"]("a")
    with using(context()) as b:
        LOG["info"]("b")
    assert lines(a) == ["ERROR: a"]
    assert re.fullmatch(STAMP + "INFO: b", lines(b)[0])


def test_create_logger_is_an_independent_library_object():
    with using(context()) as ctx:
        LOG["set_level"]("CRITICAL")
        logger = LOG["create_logger"]("svc")
        assert isinstance(logger, MLObject) and typeof(logger) == "Logger"
        assert logger.ml_member_names() == sorted(
            ["debug", "info", "warn", "error", "critical", "set_level", "set_format",
             "set_timestamp", "is_debug", "add_file"])
        logger.set_timestamp(False)
        logger.info("from svc", {"k": "v"})
        assert logger.is_debug() is False
        logger.set_level("DEBUG")
        logger.debug("dbg")
        logger.set_format("json")
        logger.critical("boom")
        LOG["info"]("module logger still filtered")
    out = lines(ctx)
    assert out[:2] == ["INFO: from svc | k=v", "DEBUG: dbg"]
    assert json.loads(out[2]) == {"message": "boom", "level": "CRITICAL", "logger": "svc"}
    assert len(out) == 3
    with pytest.raises(TypeError):
        LOG["create_logger"](None)


def test_add_file_needs_file_write(tmp_path):
    with using(context(tmp_path)):
        with pytest.raises(CapabilityDenied, match="log.add_file requires capability 'file.write'"):
            LOG["add_file"]("app.log")
        logger = LOG["create_logger"]("x")
        with pytest.raises(CapabilityDenied, match="file.write"):
            logger.add_file("app.log")
    assert not (tmp_path / "app.log").exists()


def test_add_file_appends_the_same_lines(tmp_path):
    with using(context(tmp_path, ["file.write"])) as ctx:
        LOG["set_timestamp"](False)
        LOG["add_file"]("logs/app.log")
        LOG["info"]("one")
        LOG["debug"]("filtered")
        logger = LOG["create_logger"]("svc")
        logger.set_timestamp(False)
        logger.add_file("svc.log")
        logger.warn("two", {"a": 1})
    assert (tmp_path / "logs" / "app.log").read_text() == "INFO: one\n"
    assert (tmp_path / "svc.log").read_text() == "WARNING: two | a=1\n"
    assert lines(ctx) == ["INFO: one", "WARNING: two | a=1"]


def test_add_file_is_confined_to_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.log"
    os.symlink(outside, root / "link.log")
    with using(context(root, ["file.write"])):
        for path in ("../escape.log", str(outside), "link.log"):
            with pytest.raises(MLThrow) as info:
                LOG["add_file"](path)
            assert info.value.ml_type == "SecurityError"
        with pytest.raises(ValueError):
            LOG["add_file"](".")
    assert not outside.exists() and not (tmp_path / "escape.log").exists()


def test_functions_return_null_and_have_docs():
    with using(context()):
        assert LOG["info"]("x") is None and LOG["set_level"]("INFO") is None
    for name, fn in LOG.items():
        assert fn.ml_doc, name


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_ml_logging_and_logger_objects():
    result = mlpy.run('import log; log.set_timestamp(false); log.info("up", {port: 80}); '
                      'l = log.create_logger("svc"); l.set_timestamp(false); l.set_format("json"); '
                      'l.warn("w"); print(typeof(l), l, log.is_debug());')
    assert result.success
    assert result.stdout == ('INFO: up | port=80\n'
                             '{"message": "w", "level": "WARNING", "logger": "svc"}\n'
                             'Logger <Logger> false\n')


def test_ml_add_file_capability(tmp_path):
    src = 'import log; log.set_timestamp(false); log.add_file("app.log"); log.error("bad");'
    denied = mlpy.run(src, file_root=tmp_path)
    assert not denied.success and denied.error_type == "CapabilityError"
    granted = mlpy.run(src, capabilities=["file.write"], file_root=tmp_path)
    assert granted.success and granted.stdout == "ERROR: bad\n"
    assert (tmp_path / "app.log").read_text() == "ERROR: bad\n"
