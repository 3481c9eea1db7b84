"""The ML `regex` module (spec §10), called through the library registry."""

import time

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.values import MLObject, display, typeof
from mlpy.stdlib import regex as regex_impl

TEXT = "Order 66 shipped 2024-03-15; order 7 pending; total 73 items"


@pytest.fixture
def rx():
    with using(ExecutionContext(output=OutputSink())):
        yield mlpy.stdlib.load("regex").members


def test_module_functions_and_flags(rx):
    assert rx["test"](r"\d+", TEXT) is True
    assert rx["test"](r"^\d", TEXT) is False
    assert rx["findall"](r"\d+", TEXT) == ["66", "2024", "03", "15", "7", "73"]
    assert rx["count"]("[Oo]rder", TEXT) == 2
    assert rx["count"]("x", "") == 0
    assert rx["escape"]("a.b*c") == r"a\.b\*c"
    assert rx["isValid"]("[unclosed") is False
    assert rx["isValid"]("ok+") is True
    assert rx["isValid"](42) is False
    assert [rx[f]() for f in ("IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII", "UNICODE")] \
        == [2, 8, 16, 64, 256, 32]
    assert rx["test"]("HELLO", "say hello", rx["IGNORECASE"]()) is True
    assert rx["test"]("HELLO", "say hello") is False
    assert rx["findall"]("^b", "a\nb", rx["MULTILINE"]()) == ["b"]
    assert rx["search"]("a.b", "a\nb", rx["DOTALL"]()).value() == "a\nb"
    assert rx["test"]("a b # comment", "ab", rx["VERBOSE"]()) is True
    assert rx["test"](r"^\w$", "é", rx["ASCII"]()) is False
    assert rx["test"](r"^\w$", "é", rx["UNICODE"]()) is True
    assert rx["test"]("X", "x", rx["IGNORECASE"]() + rx["MULTILINE"]()) is True


def test_match_search_fullmatch(rx):
    assert rx["match"]("Order", TEXT).value() == "Order"
    assert rx["match"]("order", TEXT) is None
    assert rx["fullmatch"]("[a-z]+", "letters").value() == "letters"
    assert rx["fullmatch"]("[a-z]+", "letters1") is None
    assert rx["search"]("zzz", TEXT) is None


def test_findall_groups_and_split_sub(rx):
    assert rx["findall"](r"(\w)=(\d)", "a=1 b=2") == [["a", "1"], ["b", "2"]]
    assert rx["findall"](r"(\w)=\d", "a=1 b=2") == ["a", "b"]
    assert all(type(x) is list for x in rx["findall"](r"(a)|(b)", "ab"))
    assert rx["split"](r";\s*", TEXT) == ["Order 66 shipped 2024-03-15", "order 7 pending",
                                          "total 73 items"]
    assert rx["split"](",", "a,b,c,d", 2) == ["a", "b", "c,d"]
    assert rx["split"](",", "A,b", 0, rx["IGNORECASE"]()) == ["A", "b"]
    assert rx["sub"](r"\d+", "#", "a1b22") == "a#b#"
    assert rx["sub"](r"\d+", "#", "a1b22", 1) == "a#b22"
    assert rx["sub"](r"(\w+)@(\w+)", r"\2 at \1", "user@example") == "example at user"
    assert rx["sub"]("A", "-", "aA", 0, rx["IGNORECASE"]()) == "--"
    assert rx["subn"]("o", "0", "foo boo") == {"result": "f00 b00", "count": 4}
    assert rx["subn"]("o", "0", "foo boo", 1) == {"result": "f0o boo", "count": 1}
    # an ML function as replacement gets each Match
    assert rx["sub"](r"\d", lambda m: int(m.value()) * 2, "a1b4") == "a2b8"
    with pytest.raises(ValueError, match="Invalid regex replacement"):
        rx["sub"]("a", r"\9", "a")


def test_finditer_returns_array_of_matches(rx):
    found = rx["finditer"](r"\d+", "a1 b22")
    assert type(found) is list
    assert [m.value() for m in found] == ["1", "22"]
    assert all(typeof(m) == "Match" for m in found)


def test_invalid_pattern_message(rx):
    with pytest.raises(ValueError) as info:
        rx["search"]("[unclosed", "x")
    assert str(info.value).startswith("Invalid regex pattern '[unclosed': ")
    with pytest.raises(ValueError, match="Invalid regex pattern"):
        rx["compile"]("(")
    with pytest.raises(ValueError, match="Invalid regex flags"):
        rx["test"]("a", "a", 1 << 20)
    with pytest.raises(TypeError):
        rx["test"]("a", None)


def test_pattern_object(rx):
    p = rx["compile"](r"(?P<key>\w+)=(?P<val>\w+)")
    assert typeof(p) == "Pattern" and display(p) == "<Pattern>"
    assert p.test("a=1") is True and p.test("nothing") is False
    assert p.getPattern() == r"(?P<key>\w+)=(?P<val>\w+)"
    assert p.getFlags() == 0
    assert p.toString() == r'Pattern("(?P<key>\\w+)=(?P<val>\\w+)", flags=0)'
    assert rx["compile"]("a", 2 + 8).toString() == 'Pattern("a", flags=10)'
    assert rx["compile"]("a", 2).getFlags() == 2
    kv = p.search("name=ml version=2")
    assert [kv.group("key"), kv.group("val")] == ["name", "ml"]
    assert kv.groupDict() == {"key": "name", "val": "ml"}
    assert [m.group("key") for m in p.finditer("x=1 y=2 z=3")] == ["x", "y", "z"]
    assert p.findall("k=v") == [["k", "v"]]
    assert p.sub(r"\g<val>=\g<key>", "a=b c=d") == "b=a d=c"
    assert p.sub("_", "a=b c=d", 1) == "_ c=d"
    assert p.subn("_", "a=b c=d") == {"result": "_ _", "count": 2}
    words = rx["compile"]("[A-Za-z]+")
    assert words.findall("it's 9 o'clock") == ["it", "s", "o", "clock"]
    assert words.count("one two three") == 3
    assert words.split("one1two22three") == ["", "1", "22", ""]
    assert words.split("one1two22three", 1) == ["", "1two22three"]
    assert words.match("123abc") is None
    # pos / endpos
    assert words.match("123abc", 3).value() == "abc"
    assert words.search("abc def", 1, 2).value() == "b"
    assert words.fullmatch("ab12", 0, 2).value() == "ab"
    assert words.findall("ab cd ef", 3) == ["cd", "ef"]
    assert [m.value() for m in words.finditer("ab cd ef", 0, 5)] == ["ab", "cd"]
    # a compiled pattern is accepted where pattern text is
    assert rx["findall"](words, "a1b") == ["a", "b"]
    assert rx["test"](rx["compile"]("A"), "a", rx["IGNORECASE"]()) is True
    assert rx["isValid"](words) is True
    assert sorted(p.ml_member_names()) == sorted(
        ["test", "match", "search", "fullmatch", "findall", "finditer", "split", "sub", "subn",
         "count", "getPattern", "getFlags", "toString"])


def test_match_object(rx):
    m = rx["search"](r"(\d{4})-(\d{2})-(\d{2})", TEXT)
    assert isinstance(m, MLObject) and typeof(m) == "Match"
    assert m.value() == "2024-03-15" and m.group() == m.group(0) == m.value()
    assert [m.group(1), m.group(3)] == ["2024", "15"]
    assert m.groups() == ["2024", "03", "15"] and type(m.groups()) is list
    assert [m.start(), m.end(), m.span()] == [17, 27, [17, 27]]
    assert [m.start(2), m.end(2), m.span(2)] == [22, 24, [22, 24]]
    assert m.groupCount() == 3
    assert m.group(4) is None and m.group("nope") is None and m.group(-1) is None
    assert m.start(9) == -1 and m.end("x") == -1 and m.span(9) == [-1, -1]
    assert m.expand(r"\3/\2/\1") == "15/03/2024"
    assert m.toString() == 'Match("2024-03-15", span=[17, 27])'
    assert m.lastGroup() is None
    named = rx["search"](r"(?P<a>x)(?P<b>y)?", "x")
    assert named.group("b") is None
    assert named.groups() == ["x", None]
    assert named.groupDict() == {"a": "x", "b": None}
    assert named.groupDict("-") == {"a": "x", "b": "-"}
    assert named.start("b") == -1 and named.span("b") == [-1, -1]
    assert named.lastGroup() == "a"
    assert "_match" not in m.ml_member_names()
    assert sorted(m.ml_member_names()) == sorted(
        ["value", "group", "groups", "groupDict", "groupCount", "start", "end", "span",
         "lastGroup", "expand", "toString"])


def test_pathological_pattern_times_out_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(regex_impl, "MATCH_TIMEOUT", 0.3)
    with using(ExecutionContext(output=OutputSink())):
        rx = mlpy.stdlib.load("regex").members
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="timed out"):
            rx["test"](r"(a|aa)+$", "a" * 60 + "!")
        with pytest.raises(RuntimeError, match="timed out"):
            rx["compile"](r"(a|aa)+$").sub("x", "a" * 60 + "!")
        assert time.monotonic() - started < 5


def test_host_default_timeout_shortens_the_bound():
    limits = Limits(default_timeout=0.2)
    with using(ExecutionContext(output=OutputSink(), limits=limits)):
        rx = mlpy.stdlib.load("regex").members
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
            rx["findall"](r"(a|aa)+$", "a" * 60 + "!")
        assert time.monotonic() - started < 3


def test_pattern_size_is_bounded(rx):
    with pytest.raises(ValueError, match="longer than"):
        rx["compile"]("a" * (regex_impl.MAX_PATTERN + 1))


def test_help_docs_are_one_line():
    decl = mlpy.stdlib.declaration("regex")
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name
    assert decl.capabilities == set()


# --- end to end: ML programs through the compiler ------------------------------------------

EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples"


def test_example_30_regex_module_output_is_exact():
    source = (EXAMPLES / "30_regex_module.ml").read_text(encoding="utf-8")
    result = mlpy.run(source)
    assert result.success, result.error
    assert result.stdout == (EXAMPLES / "30_regex_module.out").read_text(encoding="utf-8")


def test_ml_program_uses_regex_objects_safely(monkeypatch):
    monkeypatch.setattr(regex_impl, "MATCH_TIMEOUT", 0.3)
    result = mlpy.run(r'''
import regex;
m = regex.search("(?P<y>\d{4})-(\d+)", "on 2024-03 ok");
print(m, typeof(m), m.span(), m.groups(), m.groupDict(), m.toString());
p = regex.compile("a+", regex.IGNORECASE() + regex.MULTILINE());
print(p, typeof(p), p.toString(), p.getFlags(), p.findall("aA b AAA"));
print(regex.subn("(\w)(\d)", "\2\1", "a1 b2"), regex.finditer("\d", "1x2").length);
try { m._match; } except (e) { print(e.type); }
try { regex.test("[bad", "x"); } except (e) { print(e.type, e.message); }
try { regex.compile("(a|aa)+$").test("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"); } except (e) { print(e.type); }
result = regex.findall("(\d)(\w)", "1a 2b");
''', timeout=30)
    assert result.success, result.error
    assert result.stdout.splitlines()[:4] == [
        '<Match> Match [3, 10] ["2024", "03"] {"y": "2024"} Match("2024-03", span=[3, 10])',
        '<Pattern> Pattern Pattern("a+", flags=10) 10 ["aA", "AAA"]',
        '{"result": "1a 2b", "count": 2} 2',
        "SecurityError",
    ]
    assert result.stdout.splitlines()[4].startswith("ValueError Invalid regex pattern '[bad': ")
    assert result.stdout.splitlines()[5] == "RuntimeError"
    assert result.value == [["1", "a"], ["2", "b"]]


def test_a_slow_match_does_not_block_other_threads(monkeypatch):
    import threading
    monkeypatch.setattr(regex_impl, "MATCH_TIMEOUT", 1.0)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    with using(ExecutionContext(output=OutputSink())):
        rx = mlpy.stdlib.load("regex").members
        thread = threading.Thread(target=ticker)
        thread.start()
        try:
            with pytest.raises(RuntimeError, match="timed out"):
                rx["test"](r"(a|aa)+$", "a" * 60 + "!")
        finally:
            stop.set()
            thread.join()
    assert len(ticks) > 20          # the other thread kept running during the 1 s match
