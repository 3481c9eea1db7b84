"""The ML `path` module (spec §10): text helpers, confined folder access, capabilities."""

import os
from pathlib import Path

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.signals import CapabilityDenied, SecurityViolation
from mltest import library_call


def run(root, caps, name, *args):
    return library_call("path", name, *args, caps=caps, file_root=root)


@pytest.fixture
def root(tmp_path):
    base = tmp_path / "root"
    (base / "src" / "pkg").mkdir(parents=True)
    (base / "docs").mkdir()
    (base / "a.txt").write_text("a")
    (base / "b.md").write_text("b")
    (base / "src" / "main.ml").write_text("m")
    (base / "src" / "pkg" / "util.ml").write_text("u")
    (base / "src" / "pkg" / "notes.txt").write_text("n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("s")
    return base


def test_text_helpers_need_no_capability(tmp_path):
    p = lambda name, *args: run(tmp_path, [], name, *args)  # noqa: E731
    assert p("join", "a", "b", "c.txt") == "a/b/c.txt"
    assert p("join", "a", "/abs", "x") == "/abs/x"
    assert p("join", "only") == "only"
    assert p("join") == ""
    assert p("dirname", "a/b/c.txt") == "a/b" and p("dirname", "c.txt") == ""
    assert p("basename", "a/b/c.txt") == "c.txt" and p("basename", "a/b/") == ""
    assert p("extname", "a/b/c.tar.gz") == ".gz" and p("extname", "Makefile") == ""
    assert p("extname", ".bashrc") == ""
    assert p("split", "a/b/c.txt") == ["a/b", "c.txt"]
    assert type(p("split", "x")) is list
    assert p("normalize", "a//b/./c/../d") == "a/b/d" and p("normalize", "") == "."
    assert p("isAbsolute", "/x") is True and p("isAbsolute", "x/y") is False
    assert p("separator") == os.sep and p("delimiter") == os.pathsep
    with pytest.raises(TypeError):
        p("join", "a", 1)
    with pytest.raises(TypeError):
        p("basename", None)


def test_read_functions(root):
    r = lambda name, *args: run(root, ["path.read"], name, *args)  # noqa: E731
    assert r("cwd") == str(root.resolve())
    assert r("absolute", "src/../a.txt") == str(root.resolve() / "a.txt")
    assert r("relative", "src/pkg", "docs") == "../../docs"
    assert r("relative", "src", "src/pkg/util.ml") == "pkg/util.ml"
    assert r("home") == os.path.expanduser("~")
    assert r("exists", "a.txt") and r("exists", "src") and not r("exists", "zzz")
    assert r("isFile", "a.txt") and not r("isFile", "src")
    assert r("isDirectory", "src") and not r("isDirectory", "a.txt")
    assert r("listDir") == ["a.txt", "b.md", "docs", "src"]
    # spec §10: with file access confined to a root, tempDir() is a folder inside it
    temp = r("tempDir")
    assert root.resolve() in Path(temp).parents and Path(temp).is_dir()
    assert r("listDir", "src") == ["main.ml", "pkg"]
    with pytest.raises(RuntimeError, match="File not found: nope"):
        r("listDir", "nope")
    with pytest.raises(RuntimeError, match="Not a directory: a.txt"):
        r("listDir", "a.txt")


def test_glob(root):
    g = lambda pattern: run(root, ["path.read"], "glob", pattern)  # noqa: E731
    assert g("*.txt") == ["a.txt"]
    assert g("*") == ["a.txt", "b.md", "docs", "src"]
    assert g("**/*.ml") == ["src/main.ml", "src/pkg/util.ml"]
    assert g("src/**/*.txt") == ["src/pkg/notes.txt"]
    assert g("src/*/u*.ml") == ["src/pkg/util.ml"]
    assert g("nothing*") == []
    assert g(str(root.resolve() / "*.md")) == ["b.md"]


def test_walk(root):
    w = lambda *args: run(root, ["path.read"], "walk", *args)  # noqa: E731
    assert w(".") == ["a.txt", "b.md", "src/main.ml", "src/pkg/notes.txt", "src/pkg/util.ml"]
    assert w("src") == ["main.ml", "pkg/notes.txt", "pkg/util.ml"]
    assert w(".", 0) == ["a.txt", "b.md"]
    assert w(".", 1) == ["a.txt", "b.md", "src/main.ml"]
    assert w("src", -1) == w("src")
    with pytest.raises(RuntimeError):
        w("missing")


def test_write_functions(root):
    wr = lambda name, *args: run(root, ["path.write"], name, *args)  # noqa: E731
    assert wr("createDir", "new/deep/er") is None
    assert (root / "new/deep/er").is_dir()
    wr("createDir", "new/deep/er")                      # existing folder: fine
    with pytest.raises(RuntimeError, match="File not found"):
        wr("createDir", "missing/child", False)
    wr("createDir", "single", False)
    assert (root / "single").is_dir()
    wr("removeDir", "single")
    assert not (root / "single").exists()
    with pytest.raises(RuntimeError, match="Directory not empty: src"):
        wr("removeDir", "src")
    with pytest.raises(ValueError, match="Not a folder"):
        wr("removeDir", "a.txt")
    with pytest.raises(RuntimeError, match="File not found"):
        wr("removeDir", "ghost")
    wr("removeDirRecursive", "src")
    assert not (root / "src").exists() and (root / "a.txt").exists()


def test_removing_the_root_is_refused(root):
    for name in ("removeDir", "removeDirRecursive"):
        for path in (".", "", str(root), "docs/.."):
            with pytest.raises(SecurityViolation):
                run(root, ["path.write"], name, path)
    assert root.is_dir() and (root / "a.txt").exists()


def test_recursive_remove_does_not_follow_symlinks(root):
    os.symlink(root.parent / "outside", root / "docs" / "link")
    run(root, ["path.write"], "removeDirRecursive", "docs")
    assert not (root / "docs").exists()
    assert (root.parent / "outside" / "secret.txt").exists()
    os.symlink(root.parent / "outside", root / "link2")
    for path in ("link2", "link2/", "link2/."):          # the link itself is not a folder
        with pytest.raises(ValueError, match="Not a folder"):
            run(root, ["path.write"], "removeDirRecursive", path)
    assert (root.parent / "outside" / "secret.txt").exists() and os.path.islink(root / "link2")


@pytest.mark.parametrize("name,args,cap", [
    ("absolute", ("a",), "path.read"), ("relative", ("a", "b"), "path.read"),
    ("cwd", (), "path.read"), ("home", (), "path.read"), ("tempDir", (), "path.read"),
    ("exists", ("a.txt",), "path.read"), ("isFile", ("a.txt",), "path.read"),
    ("isDirectory", ("src",), "path.read"), ("listDir", (".",), "path.read"),
    ("glob", ("*",), "path.read"), ("walk", (".",), "path.read"),
    ("createDir", ("x",), "path.write"), ("removeDir", ("docs",), "path.write"),
    ("removeDirRecursive", ("src",), "path.write"),
])
def test_missing_capability_is_refused(root, name, args, cap):
    other = "path.write" if cap == "path.read" else "path.read"
    with pytest.raises(CapabilityDenied) as info:
        run(root, [other, "file.read", "file.write"], name, *args)
    assert f"path.{name} requires capability '{cap}'" in str(info.value)
    assert (root / "src").is_dir() and (root / "docs").is_dir() and not (root / "x").exists()


@pytest.mark.parametrize("path", ["..", "../outside", "src/../../outside", "/etc", "OUTSIDE_ABS"])
def test_escaping_the_root_is_refused(root, path):
    if path == "OUTSIDE_ABS":
        path = str(root.parent / "outside")
    caps = ["path.read", "path.write"]
    for name, args in (("exists", (path,)), ("isDirectory", (path,)), ("listDir", (path,)),
                       ("walk", (path,)), ("createDir", (path + "/new",)),
                       ("removeDir", (path,)), ("removeDirRecursive", (path,))):
        with pytest.raises(SecurityViolation):
            run(root, caps, name, *args)
    assert (root.parent / "outside" / "secret.txt").exists()


def test_glob_cannot_escape(root):
    with pytest.raises(SecurityViolation):
        run(root, ["path.read"], "glob", "../*")
    with pytest.raises(SecurityViolation):
        run(root, ["path.read"], "glob", "src/../../outside/*")
    with pytest.raises(SecurityViolation):
        run(root, ["path.read"], "glob", str(root.parent / "outside" / "*"))
    os.symlink(root.parent / "outside", root / "escape")
    assert run(root, ["path.read"], "glob", "escape/*") == []
    assert "escape/secret.txt" not in run(root, ["path.read"], "glob", "**/*.txt")


def test_symlink_escape_is_refused(root):
    os.symlink(root.parent / "outside", root / "escape")
    with pytest.raises(SecurityViolation):
        run(root, ["path.read"], "listDir", "escape")
    with pytest.raises(SecurityViolation):
        run(root, ["path.read"], "walk", "escape")
    with pytest.raises(SecurityViolation):
        run(root, ["path.write"], "createDir", "escape/new")
    assert not (root.parent / "outside" / "new").exists()
    # walk lists the link's name but never descends into it
    assert not any(p.startswith("escape/") for p in run(root, ["path.read"], "walk", "."))


def test_declaration():
    decl = mlpy.stdlib.declaration("path")
    assert decl.capabilities == {"path.read", "path.write"}
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name


# --- end to end: ML programs through the compiler ------------------------------------------


def test_ml_program_uses_path(root):
    source = '''
import path;
print(path.join("a", "b.txt"), path.extname("x.tar.gz"), path.split("a/b"));
print(path.listDir("src"), path.glob("**/*.ml"), path.walk("src", 0));
path.createDir("made/here");
print(path.isDirectory("made/here"));
try { path.listDir(".."); } except (e) { print(e.type); }
try { path.removeDir("."); } except (e) { print(e.type); }
'''
    result = mlpy.run(source, capabilities=["path.read", "path.write"], file_root=root)
    assert result.success, result.error
    assert result.stdout.splitlines() == [
        'a/b.txt .gz ["a", "b"]',
        '["main.ml", "pkg"] ["src/main.ml", "src/pkg/util.ml"] ["main.ml"]',
        "true",
        "SecurityError",
        "SecurityError",
    ]
    denied = mlpy.run('import path; print(path.basename("a/b")); path.cwd();', file_root=root)
    assert denied.stdout == "b\n" and denied.error_type == "CapabilityError"
