"""The ML `file` module (spec §10): capabilities, confinement to the root, behaviour."""

import os

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied, LimitStop, SecurityViolation
from mltest import library_call

ALL = ["file.read", "file.write", "file.append", "file.delete"]


def run(root, caps, name, *args, **ctx_kw):
    return library_call("file", name, *args, caps=caps, file_root=root, **ctx_kw)


@pytest.fixture
def root(tmp_path):
    base = tmp_path / "root"
    base.mkdir()
    (base / "notes.txt").write_text("one\ntwo\r\nthree\n", encoding="utf-8")
    (base / "sub").mkdir()
    (base / "sub" / "inner.txt").write_text("inner", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    return base


def test_read_functions(root):
    assert run(root, ["file.read"], "read", "notes.txt") == "one\ntwo\nthree\n"
    assert run(root, ["file.read"], "readLines", "notes.txt") == ["one", "two", "three"]
    assert run(root, ["file.read"], "readBytes", "sub/inner.txt") == list(b"inner")
    (root / "latin.txt").write_bytes("café".encode("latin-1"))
    assert run(root, ["file.read"], "read", "latin.txt", "latin-1") == "café"
    assert run(root, ["file.read"], "readLines", "latin.txt", "latin-1") == ["café"]
    with pytest.raises(ValueError, match="Cannot decode"):
        run(root, ["file.read"], "read", "latin.txt")
    with pytest.raises(ValueError, match="Unknown encoding"):
        run(root, ["file.read"], "read", "notes.txt", "no-such-codec")
    (root / "empty.txt").write_text("")
    assert run(root, ["file.read"], "readLines", "empty.txt") == []


def test_stat_functions(root):
    assert run(root, ["file.read"], "exists", "notes.txt") is True
    assert run(root, ["file.read"], "exists", "sub") is True
    assert run(root, ["file.read"], "exists", "missing.txt") is False
    assert run(root, ["file.read"], "isFile", "notes.txt") is True
    assert run(root, ["file.read"], "isFile", "sub") is False
    assert run(root, ["file.read"], "isDirectory", "sub") is True
    assert run(root, ["file.read"], "isDirectory", "notes.txt") is False
    assert run(root, ["file.read"], "size", "sub/inner.txt") == 5
    mtime = run(root, ["file.read"], "modifiedTime", "notes.txt")
    assert isinstance(mtime, float) and mtime == os.stat(root / "notes.txt").st_mtime


def test_missing_files_are_runtime_errors(root):
    for name in ("read", "readLines", "readBytes", "size", "modifiedTime"):
        with pytest.raises(RuntimeError, match="File not found: nope.txt"):
            run(root, ["file.read"], name, "nope.txt")
    with pytest.raises(RuntimeError, match="Is a directory: sub"):
        run(root, ["file.read"], "read", "sub")


def test_write_functions(root):
    assert run(root, ["file.write"], "write", "out/deep/a.txt", "héllo\n") is None
    assert (root / "out/deep/a.txt").read_text(encoding="utf-8") == "héllo\n"
    run(root, ["file.write"], "write", "l1.txt", "café", "latin-1")
    assert (root / "l1.txt").read_bytes() == "café".encode("latin-1")
    run(root, ["file.write"], "writeLines", "lines/x.txt", ["a", "b", 3, True])
    assert (root / "lines/x.txt").read_text() == "a\nb\n3\ntrue\n"
    run(root, ["file.write"], "writeBytes", "bin/data.bin", [0, 1, 255])
    assert (root / "bin/data.bin").read_bytes() == b"\x00\x01\xff"
    for bad in ([256], [-1], ["a"], [True], "abc"):
        with pytest.raises(ValueError, match="integers 0-255"):
            run(root, ["file.write"], "writeBytes", "bad.bin", bad)
    with pytest.raises(TypeError):
        run(root, ["file.write"], "write", "x.txt", 42)
    with pytest.raises(RuntimeError, match="Is a directory"):
        run(root, ["file.write"], "write", "sub", "x")


def test_append(root):
    run(root, ["file.append"], "append", "notes.txt", "four\n")
    assert (root / "notes.txt").read_text().endswith("three\nfour\n")
    run(root, ["file.append"], "append", "new/log.txt", "x")
    run(root, ["file.append"], "append", "new/log.txt", "y")
    assert (root / "new/log.txt").read_text() == "xy"


def test_delete(root):
    assert run(root, ["file.delete"], "delete", "notes.txt") is True
    assert not (root / "notes.txt").exists()
    assert run(root, ["file.delete"], "delete", "notes.txt") is False
    with pytest.raises(ValueError, match="Not a file"):
        run(root, ["file.delete"], "delete", "sub")
    assert (root / "sub").is_dir()
    # deleting a symlink (inside the root) removes the link, not its target
    os.symlink(root / "sub" / "inner.txt", root / "link.txt")
    assert run(root, ["file.delete"], "delete", "link.txt") is True
    assert not os.path.lexists(root / "link.txt") and (root / "sub/inner.txt").exists()


def test_copy_and_move(root):
    run(root, ["file.read", "file.write"], "copy", "notes.txt", "backup/notes.txt")
    assert (root / "backup/notes.txt").read_bytes() == (root / "notes.txt").read_bytes()
    run(root, ["file.read", "file.write", "file.delete"], "move", "backup/notes.txt", "moved.txt")
    assert (root / "moved.txt").exists() and not (root / "backup/notes.txt").exists()
    run(root, ["file.read", "file.write"], "copy", "moved.txt", "sub")
    assert (root / "sub/moved.txt").exists()
    with pytest.raises(RuntimeError, match="File not found"):
        run(root, ["file.read", "file.write"], "copy", "nope.txt", "x.txt")
    with pytest.raises(ValueError, match="Not a file"):
        run(root, ["file.read", "file.write", "file.delete"], "move", "sub", "sub2")


@pytest.mark.parametrize("name,args,needed", [
    ("read", ("notes.txt",), "file.read"),
    ("readLines", ("notes.txt",), "file.read"),
    ("readBytes", ("notes.txt",), "file.read"),
    ("exists", ("notes.txt",), "file.read"),
    ("isFile", ("notes.txt",), "file.read"),
    ("isDirectory", ("notes.txt",), "file.read"),
    ("size", ("notes.txt",), "file.read"),
    ("modifiedTime", ("notes.txt",), "file.read"),
    ("write", ("w.txt", "x"), "file.write"),
    ("writeLines", ("w.txt", ["x"]), "file.write"),
    ("writeBytes", ("w.txt", [1]), "file.write"),
    ("append", ("w.txt", "x"), "file.append"),
    ("delete", ("notes.txt",), "file.delete"),
    ("copy", ("notes.txt", "c.txt"), "file.write"),
    ("move", ("notes.txt", "m.txt"), "file.delete"),
])
def test_missing_capability_is_refused(root, name, args, needed):
    others = [cap for cap in ALL if cap != needed]
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(CapabilityDenied) as info:
        run(root, others, name, *args)
    assert f"'{needed}'" in str(info.value) and f"file.{name}" in str(info.value)
    assert info.value.ml_type == "CapabilityError"
    assert sorted(p.name for p in root.iterdir()) == before
    with pytest.raises(CapabilityDenied):
        run(root, [], name, *args)


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "..",
                                  "SECRET_ABS"])
def test_paths_outside_the_root_are_refused(root, path):
    if path == "SECRET_ABS":
        path = str(root.parent / "secret.txt")
    for name, args in (("read", (path,)), ("exists", (path,)), ("readBytes", (path,)),
                       ("write", (path, "x")), ("append", (path, "x")),
                       ("delete", (path,)), ("copy", ("notes.txt", path)),
                       ("copy", (path, "stolen.txt")), ("move", (path, "stolen.txt"))):
        with pytest.raises(SecurityViolation) as info:
            run(root, ALL, name, *args)
        assert info.value.ml_type == "SecurityError"
        assert str(root.parent) not in str(info.value) or path.startswith("/")
    assert (root.parent / "secret.txt").read_text() == "outside"
    assert not (root / "stolen.txt").exists()


def test_absolute_path_inside_the_root_is_allowed(root):
    assert run(root, ["file.read"], "read", str(root / "sub" / "inner.txt")) == "inner"


def test_symlink_escape_is_refused(root):
    os.symlink(root.parent / "secret.txt", root / "evil.txt")
    os.symlink(root.parent, root / "evil_dir")
    for path in ("evil.txt", "evil_dir/secret.txt"):
        with pytest.raises(SecurityViolation):
            run(root, ["file.read"], "read", path)
        with pytest.raises(SecurityViolation):
            run(root, ["file.write"], "write", path, "pwned")
    with pytest.raises(SecurityViolation):
        run(root, ["file.write"], "write", "evil_dir/new.txt", "pwned")
    assert (root.parent / "secret.txt").read_text() == "outside"
    assert not (root.parent / "new.txt").exists()
    # a dangling link that points outside is refused too
    os.symlink(root.parent / "not-yet.txt", root / "dangling.txt")
    with pytest.raises(SecurityViolation):
        run(root, ["file.write"], "write", "dangling.txt", "x")
    assert not (root.parent / "not-yet.txt").exists()


def test_resource_patterns_limit_a_capability(root):
    caps = Capabilities(["file.read"], patterns={"file.read": ["sub/*"]})
    with using(ExecutionContext(output=OutputSink(), capabilities=caps, file_root=root)):
        members = mlpy.stdlib.load("file").members
        assert members["read"]("sub/inner.txt") == "inner"
        with pytest.raises(CapabilityDenied, match="does not cover path 'notes.txt'"):
            members["read"]("notes.txt")


def test_size_limits_stop_the_program(root):
    with pytest.raises(LimitStop):
        run(root, ["file.read"], "read", "notes.txt", limits=Limits(max_string=4))
    with pytest.raises(LimitStop):
        run(root, ["file.read"], "readBytes", "notes.txt", limits=Limits(max_sequence=4))


def test_declaration():
    decl = mlpy.stdlib.declaration("file")
    assert decl.capabilities == set(ALL)
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name
    assert decl.members["copy"].ml_capabilities == ("file.read", "file.write")
    assert decl.members["move"].ml_capabilities == ("file.read", "file.write", "file.delete")


# --- end to end: ML programs through the compiler ------------------------------------------

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples"


def test_example_34_imports_capabilities_output_is_exact():
    source = (EXAMPLES / "34_imports_capabilities.ml").read_text(encoding="utf-8")
    result = mlpy.run(source, file_root=EXAMPLES)
    assert result.success, result.error
    assert result.stdout == (EXAMPLES / "34_imports_capabilities.out").read_text(encoding="utf-8")


def test_ml_program_reads_and_writes_inside_the_root(root):
    source = '''
import file;
file.write("out/log.txt", "a\\n");
file.append("out/log.txt", "b\\n");
print(file.readLines("out/log.txt"), file.size("out/log.txt"), file.exists("nope"));
file.writeBytes("b.bin", [104, 105]);
print(file.read("b.bin"), file.readBytes("b.bin"));
try { file.read("../secret.txt"); } except (e) { print(e.type, e.message); }
try { file.read("missing.txt"); } except (e) { print(e.type, e.message); }
print(file.delete("b.bin"), file.delete("b.bin"));
'''
    result = mlpy.run(source, capabilities=ALL, file_root=root)
    assert result.success, result.error
    assert result.stdout.splitlines() == [
        '["a", "b"] 4 false',
        "hi [104, 105]",
        "SecurityError access to path '../secret.txt' is not allowed: it is outside the allowed folder",
        "RuntimeError File not found: missing.txt",
        "true false",
    ]


def test_ml_program_without_grant_gets_capability_error(root):
    result = mlpy.run('import file; file.write("x.txt", "y");', capabilities=["file.read"],
                      file_root=root)
    assert not result.success and result.error_type == "CapabilityError"
    assert "file.write requires capability 'file.write'" in result.error
    assert not (root / "x.txt").exists()
