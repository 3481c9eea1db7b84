"""The ML `csv` module (spec §10): text helpers and confined file functions."""

import os

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.signals import CapabilityDenied, SecurityViolation
from mltest import library_call


def run(root, caps, name, *args):
    return library_call("csv", name, *args, caps=caps, file_root=root)


@pytest.fixture
def root(tmp_path):
    base = tmp_path / "root"
    base.mkdir()
    (base / "people.csv").write_bytes(b'name,age,city\r\nAnn,30,"Paris, FR"\r\n\r\nBo,25\r\n')
    (tmp_path / "secret.csv").write_text("k,v\nsecret,1\n")
    return base


def test_read_string(tmp_path):
    rs = lambda *a: run(tmp_path, [], "read_string", *a)  # noqa: E731
    assert rs("a,b\n1,2\n3,4") == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert rs("a,b\r\n1,\"x,\"\"y\"\"\"\r\n") == [{"a": "1", "b": 'x,"y"'}]
    assert rs('a,b\n1,"two\nlines"\n') == [{"a": "1", "b": "two\nlines"}]
    assert rs("a,b\n1\n\n1,2,3") == [{"a": "1", "b": ""}, {"a": "1", "b": "2"}]
    assert rs("a;b\n1;2", ";") == [{"a": "1", "b": "2"}]
    assert rs("a,b\n1,2", ",", False) == [["a", "b"], ["1", "2"]]
    assert rs("") == [] and rs("", ",", False) == [] and rs("only,header") == []
    with pytest.raises(ValueError, match="delimiter"):
        rs("a,b", ",,")
    with pytest.raises(ValueError, match="delimiter"):
        rs("a,b", "")
    with pytest.raises(TypeError):
        rs(None)


def test_write_string(tmp_path):
    ws = lambda *a: run(tmp_path, [], "write_string", *a)  # noqa: E731
    rows = [{"name": "Ann", "age": 30}, {"name": "Bo, Jr", "age": None, "x": 1}, {"age": 2.5}]
    assert ws(rows) == 'name,age\r\nAnn,30\r\n"Bo, Jr",null\r\n,2.5\r\n'
    assert ws(rows, ",", False) == 'Ann,30\r\n"Bo, Jr",null\r\n,2.5\r\n'
    assert ws([[1, True, [1, "a"]], ["q\"uote", "line\nbreak"]]) == \
        '1,true,"[1, ""a""]"\r\n"q""uote","line\nbreak"\r\n'
    assert ws([{"a": 1, "b": 2}], "\t") == "a\tb\r\n1\t2\r\n"
    assert ws([]) == ""
    with pytest.raises(TypeError):
        ws([1, 2])
    with pytest.raises(TypeError):
        ws("a,b")
    # round trip
    text = ws([{"k": "v,1", "n": "x"}])
    assert run(tmp_path, [], "read_string", text) == [{"k": "v,1", "n": "x"}]


def test_file_functions(root):
    assert run(root, ["file.read"], "read", "people.csv") == [
        {"name": "Ann", "age": "30", "city": "Paris, FR"}, {"name": "Bo", "age": "25", "city": ""}]
    assert run(root, ["file.read"], "read", "people.csv", ",", False)[0] == ["name", "age", "city"]
    assert run(root, ["file.read"], "count_rows", "people.csv") == 2
    assert run(root, ["file.read"], "get_headers", "people.csv") == ["name", "age", "city"]
    (root / "empty.csv").write_text("")
    assert run(root, ["file.read"], "count_rows", "empty.csv") == 0
    assert run(root, ["file.read"], "get_headers", "empty.csv") == []
    with pytest.raises(RuntimeError, match="File not found: none.csv"):
        run(root, ["file.read"], "read", "none.csv")

    assert run(root, ["file.write"], "write", "out/x.csv", [{"a": 1, "b": 2}]) is None
    assert (root / "out/x.csv").read_bytes() == b"a,b\r\n1,2\r\n"
    run(root, ["file.write"], "write", "semi.csv", [["a", "b"]], ";", False)
    assert (root / "semi.csv").read_bytes() == b"a;b\r\n"


def test_append(root):
    both = ["file.read", "file.write"]
    run(root, both, "append", "people.csv", {"city": "Rome", "name": "Cy", "zzz": 1})
    run(root, both, "append", "people.csv", ["Di", "40", "Oslo"])
    assert run(root, ["file.read"], "read", "people.csv")[-2:] == [
        {"name": "Cy", "age": "", "city": "Rome"}, {"name": "Di", "age": "40", "city": "Oslo"}]
    run(root, both, "append", "new/fresh.csv", {"a": 1, "b": "x"})
    run(root, both, "append", "new/fresh.csv", {"b": "y", "a": 2})
    assert (root / "new/fresh.csv").read_bytes() == b"a,b\r\n1,x\r\n2,y\r\n"
    (root / "noeol.csv").write_bytes(b"a,b\n1,2")
    run(root, both, "append", "noeol.csv", [3, 4])
    assert run(root, ["file.read"], "read", "noeol.csv") == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    with pytest.raises(TypeError):
        run(root, both, "append", "people.csv", "text")


@pytest.mark.parametrize("name,args,cap", [
    ("read", ("people.csv",), "file.read"), ("count_rows", ("people.csv",), "file.read"),
    ("get_headers", ("people.csv",), "file.read"), ("write", ("w.csv", [[1]]), "file.write"),
    ("append", ("people.csv", [1]), "file.read"), ("append", ("people.csv", [1]), "file.write"),
])
def test_missing_capability_is_refused(root, name, args, cap):
    others = [c for c in ("file.read", "file.write") if c != cap]
    before = (root / "people.csv").read_bytes()
    with pytest.raises(CapabilityDenied, match=f"csv.{name} requires capability '{cap}'"):
        run(root, others, name, *args)
    assert (root / "people.csv").read_bytes() == before and not (root / "w.csv").exists()


def test_text_functions_need_no_capability(tmp_path):
    assert run(tmp_path, [], "read_string", "a\n1") == [{"a": "1"}]
    assert run(tmp_path, [], "write_string", [[1]]) == "1\r\n"


@pytest.mark.parametrize("path", ["../secret.csv", "/etc/passwd", "LINK"])
def test_escaping_the_root_is_refused(root, path):
    if path == "LINK":
        os.symlink(root.parent / "secret.csv", root / "link.csv")
        path = "link.csv"
    caps = ["file.read", "file.write"]
    for name, args in (("read", (path,)), ("count_rows", (path,)), ("get_headers", (path,)),
                       ("write", (path, [[1]])), ("append", (path, [1]))):
        with pytest.raises(SecurityViolation):
            run(root, caps, name, *args)
    assert (root.parent / "secret.csv").read_text() == "k,v\nsecret,1\n"


def test_declaration():
    decl = mlpy.stdlib.declaration("csv")
    assert decl.capabilities == {"file.read", "file.write"}
    assert decl.members["append"].ml_capabilities == ("file.read", "file.write")
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name


# --- end to end: ML programs through the compiler ------------------------------------------


def test_ml_program_uses_csv(root):
    source = '''
import csv;
rows = csv.read("people.csv");
print(rows[0].name, rows[0].city, len(rows), csv.get_headers("people.csv"));
text = csv.write_string([{a: 1, b: null}, {a: "x,y", b: true}]);
print(len(text), csv.read_string(text));
csv.write("copy.csv", rows);
csv.append("copy.csv", {name: "Zed", age: 9, city: "Z"});
result = csv.count_rows("copy.csv");
'''
    result = mlpy.run(source, capabilities=["file.read", "file.write"], file_root=root)
    assert result.success, result.error
    assert result.stdout.splitlines() == [
        'Ann Paris, FR 2 ["name", "age", "city"]',
        '25 [{"a": "1", "b": "null"}, {"a": "x,y", "b": "true"}]',
    ]
    assert result.value == 3
    denied = mlpy.run('import csv; print(csv.read_string("a\\n1")); csv.read("people.csv");',
                      file_root=root)
    assert denied.stdout == '[{"a": "1"}]\n' and denied.error_type == "CapabilityError"
