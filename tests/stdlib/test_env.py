"""The ML `env` module (spec §10): only the host-listed variables, never os.environ."""

import os

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied

HOST_ENV = {"APP_MODE": "prod", "PORT": " 8080 ", "RATIO": "0.25", "DEBUG": "Yes",
            "QUIET": "off", "BAD_INT": "12abc", "EMPTY": ""}


@pytest.fixture
def env():
    ctx = ExecutionContext(output=OutputSink(), capabilities=Capabilities(["env.read", "env.write"]),
                           env=dict(HOST_ENV))
    with using(ctx):
        yield mlpy.stdlib.load("env").members, ctx


def test_get_and_typed_getters(env):
    e, _ = env
    assert e["get"]("APP_MODE") == "prod"
    assert e["get"]("MISSING") is None
    assert e["get"]("MISSING", "dflt") == "dflt"
    assert e["get"]("EMPTY", "dflt") == ""
    assert e["get_int"]("PORT") == 8080
    assert e["get_int"]("MISSING") == 0 and e["get_int"]("MISSING", 7) == 7
    assert e["get_int"]("BAD_INT", -1) == -1
    assert e["get_float"]("RATIO") == 0.25
    assert e["get_float"]("MISSING") == 0.0 and e["get_float"]("APP_MODE", 1.5) == 1.5
    assert e["get_bool"]("DEBUG") is True and e["get_bool"]("QUIET") is False
    assert e["get_bool"]("MISSING") is False and e["get_bool"]("MISSING", True) is True
    for text in ("true", "TRUE", "1", "yes", "on", " On "):
        e["set"]("FLAG", text)
        assert e["get_bool"]("FLAG") is True, text
    for text in ("false", "0", "no", "off", "", "2"):
        e["set"]("FLAG", text)
        assert e["get_bool"]("FLAG") is False, text
    assert e["has"]("APP_MODE") is True and e["has"]("MISSING") is False
    assert e["require"]("APP_MODE") == "prod"
    with pytest.raises(RuntimeError, match="^Required environment variable not set: NOPE$"):
        e["require"]("NOPE")
    with pytest.raises(TypeError):
        e["get"](42)


def test_all_is_a_copy_of_the_host_mapping(env):
    e, ctx = env
    everything = e["all"]()
    assert everything == HOST_ENV
    everything["X"] = "1"
    assert "X" not in ctx.env


def test_unlisted_process_variables_are_invisible(env, monkeypatch):
    e, _ = env
    monkeypatch.setenv("MLPY_TEST_SECRET", "hunter2")
    assert "PATH" in os.environ
    for name in ("MLPY_TEST_SECRET", "PATH", "HOME"):
        assert e["get"](name) is None
        assert e["has"](name) is False
        with pytest.raises(RuntimeError):
            e["require"](name)
    assert "MLPY_TEST_SECRET" not in e["all"]()


def test_set_and_delete_change_only_the_context(env, monkeypatch):
    e, ctx = env
    monkeypatch.delenv("MLPY_TEST_NEW", raising=False)
    assert e["set"]("MLPY_TEST_NEW", "v") is None
    assert e["get"]("MLPY_TEST_NEW") == "v" and ctx.env["MLPY_TEST_NEW"] == "v"
    assert "MLPY_TEST_NEW" not in os.environ
    e["set"]("NUM", 42)
    e["set"]("BOOL", True)
    e["set"]("NOTHING", None)
    assert [e["get"]("NUM"), e["get"]("BOOL"), e["get"]("NOTHING")] == ["42", "true", "null"]
    assert e["delete"]("APP_MODE") is True
    assert e["delete"]("APP_MODE") is False
    assert e["has"]("APP_MODE") is False
    monkeypatch.setenv("MLPY_TEST_KEEP", "1")
    assert e["delete"]("MLPY_TEST_KEEP") is False
    assert os.environ["MLPY_TEST_KEEP"] == "1"
    for bad in ("", "A=B", "A\x00"):
        with pytest.raises(ValueError):
            e["set"](bad, "x")


@pytest.mark.parametrize("name,args,cap", [
    ("get", ("APP_MODE",), "env.read"), ("get_int", ("PORT",), "env.read"),
    ("get_float", ("RATIO",), "env.read"), ("get_bool", ("DEBUG",), "env.read"),
    ("has", ("APP_MODE",), "env.read"), ("require", ("APP_MODE",), "env.read"),
    ("all", (), "env.read"), ("set", ("X", "1"), "env.write"), ("delete", ("APP_MODE",), "env.write"),
])
def test_missing_capability_is_refused(name, args, cap):
    other = "env.write" if cap == "env.read" else "env.read"
    ctx = ExecutionContext(output=OutputSink(), capabilities=Capabilities([other]), env=dict(HOST_ENV))
    with using(ctx):
        with pytest.raises(CapabilityDenied, match=f"env.{name} requires capability '{cap}'"):
            mlpy.stdlib.load("env").members[name](*args)
    assert ctx.env == HOST_ENV


def test_declaration():
    decl = mlpy.stdlib.declaration("env")
    assert decl.capabilities == {"env.read", "env.write"}
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name


# --- end to end: ML programs through the compiler ------------------------------------------


def run_ml(source, ctx):
    from mlpy.runner import execute
    from mlpy.runtime.namespace import new_namespace
    outcome = execute(mlpy.compile(source), new_namespace(), ctx)
    return outcome, ctx.output.text()


def test_ml_program_reads_only_listed_variables(monkeypatch):
    monkeypatch.setenv("MLPY_TEST_HIDDEN", "x")
    ctx = ExecutionContext(output=OutputSink(), capabilities=Capabilities(["env.read", "env.write"]),
                           env={"MODE": "dev", "N": "3"})
    outcome, out = run_ml('''
import env;
print(env.get("MODE"), env.get_int("N") + 1, env.get("MLPY_TEST_HIDDEN", "hidden"), env.has("PATH"));
env.set("NEW", 5);
print(env.all());
try { env.require("MLPY_TEST_HIDDEN"); } except (e) { print(e.type, e.message); }
''', ctx)
    assert outcome.success, outcome.error
    assert out.splitlines() == [
        "dev 4 hidden false",
        '{"MODE": "dev", "N": "3", "NEW": "5"}',
        "RuntimeError Required environment variable not set: MLPY_TEST_HIDDEN",
    ]
    assert "NEW" not in os.environ
    denied = ExecutionContext(output=OutputSink(), env={"MODE": "dev"})
    outcome, _ = run_ml('import env; env.get("MODE");', denied)
    assert outcome.error.type == "CapabilityError"
