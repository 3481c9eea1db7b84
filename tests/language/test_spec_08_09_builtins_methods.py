"""Builtin functions and methods (spec §8, §9).

Run through `mlpy.run` / `mlpy.compile` with the shared helpers of tests/mltest.py."""

from __future__ import annotations

import pytest

import mlpy
from mltest import ml_caught as caught
from mltest import ml_fails as fails
from mltest import ml_out as out
from mltest import ml_show as show


# ------------------------------------------------------------------ §8 builtins
class TestConversions:
    @pytest.mark.parametrize("expression, text", [
        ("int(true)", "1"), ("int(false)", "0"), ("int(3.9)", "3"), ("int(-3.9)", "-3"),
        ('int("42")', "42"), ('int("3.9")', "3"), ('int("1e3")', "1000"), ('int(" 7 ")', "7"),
        ('int("-12")', "-12"), ("int(10)", "10"),
        ("float(2)", "2.0"), ("float(true)", "1.0"), ('float("2.5")', "2.5"),
        ('float("1e3")', "1000.0"), ('float("inf")', "inf"), ('float(" 1.5 ")', "1.5"),
        ("str(1.0)", "1.0"), ('str("s")', "s"), ('str([1, "a"])', '[1, "a"]'),
        ('repr("s")', '"s"'), ("repr(true)", "true"), ("bool(0)", "false"), ('bool("0")', "true"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_int_types(self):
        assert show('typeof(int("3.9")) + " " + typeof(float(2))') == "number number"
        assert out('x = int("1e3"); print(x + 1);') == "1001\n"

    def test_int_errors(self):
        fails('x = int("abc");', "ValueError", "invalid literal for int() with base 10: 'abc'")
        fails('x = int("");', "ValueError")
        r = mlpy.run("x = int(null);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")
        r = mlpy.run("x = int([1]);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")

    def test_float_errors(self):
        fails('x = float("x");', "ValueError", "could not convert string to float: 'x'")
        r = mlpy.run("x = float(null);")
        assert not r.success and r.error_type in ("TypeError", "ValueError")


class TestTypeof:
    @pytest.mark.parametrize("expression, text", [
        ("1", "number"), ("1.5", "number"), ('""', "string"), ("true", "boolean"),
        ("null", "null"), ("[]", "array"), ("{}", "object"), ("print", "function"),
        ("fn() => 1", "function"), ('"a".upper', "function"), ("[].append", "function"),
        ("iter([])", "unknown"), ("undefined", "null"),
    ])
    def test_kinds(self, expression, text):
        assert show(f"typeof({expression})") == text

    def test_more_kinds(self):
        assert out("function f() {} import math; import regex;\n"
                   'print(typeof(f), typeof(math), typeof(regex.compile("a")), typeof(math.sqrt));') \
            == "function module Pattern function\n"
        assert out("try { x = 1 / 0; } except (e) { print(typeof(e)); }") == "object\n"

    def test_isinstance_and_callable(self):
        assert show('[isinstance(1, "number"), isinstance("a", "number"), isinstance(null, "null")]') \
            == "[true, false, true]"
        assert show("[callable(print), callable(fn() => 1), callable(1), callable(\"print\")]") == \
            "[true, true, false, false]"


class TestCollectionsBuiltins:
    @pytest.mark.parametrize("expression, text", [
        ('len("héllo")', "5"), ("len([1, 2])", "2"), ("len({a: 1})", "1"), ("len(5)", "0"),
        ("len(null)", "0"),
        ("range(3)", "[0, 1, 2]"), ("range(1, 4)", "[1, 2, 3]"), ("range(0, 10, 3)", "[0, 3, 6, 9]"),
        ("range(5, 0, -2)", "[5, 3, 1]"), ("range(0)", "[]"), ("range(-2)", "[]"),
        ('enumerate(["a", "b"])', '[[0, "a"], [1, "b"]]'), ('enumerate(["a"], 1)', '[[1, "a"]]'),
        ('zip([1, 2, 3], ["a", "b"])', '[[1, "a"], [2, "b"]]'),
        ("zip([1, 2], [3, 4], [5, 6])", "[[1, 3, 5], [2, 4, 6]]"),
        ("sorted([3, 1, 2])", "[1, 2, 3]"), ("sorted([3, 1, 2], true)", "[3, 2, 1]"),
        ('sorted(["b", "a", "C"])', '["C", "a", "b"]'), ("sorted([[2], [1, 5], [1]])", "[[1], [1, 5], [2]]"),
        ("sorted([1.0, 1, true])", "[1.0, 1, true]"), ("sorted([true, 1, 1.0], true)", "[true, 1, 1.0]"),
        ('reversed("abc")', '["c", "b", "a"]'), ("reversed([1, 2])", "[2, 1]"),
        ("keys({b: 1, a: 2})", '["b", "a"]'), ("values({b: 1, a: 2})", "[1, 2]"),
        ("sum([1, 2, 3])", "6"), ("sum([1, 2], 10)", "13"), ("sum([0.5, 0.5])", "1.0"), ("sum([])", "0"),
        ("all([])", "true"), ("any([])", "false"), ("all([1, 0])", "false"), ("any([0, null, 2])", "true"),
        ("abs(-3)", "3"), ("abs(-2.5)", "2.5"), ("abs(4)", "4"),
        ("min(3, 1, 2)", "1"), ("max([1, 5, 2])", "5"), ("min([])", "null"), ("max()", "null"),
        ("min(1, 1.0)", "1"), ("max(1.0, 1)", "1.0"), ('max("a", "b")', "b"), ("min([[2], [1]])", "[1]"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_sorted_returns_new_array(self):
        assert out("a = [2, 1]; b = sorted(a); print(a, b);") == "[2, 1] [1, 2]\n"

    def test_errors(self):
        fails("x = range(1, 2, 0);", "ValueError")
        fails('x = sorted([1, "a"]);', "TypeError")
        fails('x = min(1, "a");', "TypeError")

    def test_iterators(self):
        assert out('it = iter("ab"); print(next(it), next(it), next(it, "done"));') == "a b done\n"
        assert out("it = iter({x: 1, y: 2}); print(next(it), next(it), next(it, null));") == \
            "x y null\n"
        fails("it = iter([1]);\nnext(it);\nnext(it);", "RuntimeError",
              "Iterator exhausted - use default parameter to avoid error", line=3)


class TestNumberBuiltins:
    @pytest.mark.parametrize("expression, text", [
        ("round(2.5)", "2.0"), ("round(3.5)", "4.0"), ("round(-2.5)", "-2.0"), ("round(0.5)", "0.0"),
        ("round(2.675, 2)", "2.67"), ("round(7)", "7"), ("round(1.23456, 3)", "1.235"),
        ("typeof(round(7))", "number"),
        ("chr(65)", "A"), ('ord("A")', "65"), ("chr(233)", "é"), ("hex(255)", "0xff"), ("bin(5)", "0b101"),
        ("oct(8)", "0o10"), ("hex(-1)", "-0x1"),
        ('format(3.14159, ".2f")', "3.14"), ('format(42, "05d")', "00042"),
        ('format(1234567, ",")', "1,234,567"), ('format(0.25, ".0%")', "25%"),
        ('format(null, "*>6")', "**null"), ('format(true, ">5")', " true"),
        ('format("ab", "^6")', "  ab  "), ('format([1], ">4")', " [1]"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_round_int_out_is_int(self):
        assert out("x = round(7); print(x, x * 2, round(7.0));") == "7 14 7.0\n"


class TestMiscBuiltins:
    def test_builtin_arity_errors_use_ml_names(self):
        fails("x = len();", "TypeError", "len() missing 1 required positional argument: 'x'")
        fails("x = range(1, 2, 3, 4);", "TypeError",
              "range() takes from 1 to 3 positional arguments but 4 were given")
        fails("x = typeof();", "TypeError")
        for name in ["len", "range", "typeof", "getattr", "format", "callable", "hasCapability",
                     "module_info", "enumerate", "str", "int"]:
            r = mlpy.run(f"x = {name}(1, 2, 3, 4, 5, 6);")
            assert not r.success and r.error_type == "TypeError", name
            assert "_(" not in r.error and "_()" not in r.error, r.error

    def test_call(self):
        assert show("call(fn(a, b) => a - b, 5, 3)") == "2"
        assert show("call(max, 1, 9)") == "9"

    def test_input_not_available_in_run(self):
        fails("x = input();", "RuntimeError", "input is not available")
        assert caught('x = input("? ");') == "RuntimeError|input is not available"

    def test_hasattr_getattr(self):
        src = ('print(hasattr("abc", "upper"), hasattr("abc", "nope"), hasattr({a: 1}, "a"), '
               'hasattr({a: 1}, "b"), hasattr([1], "length"), hasattr(5, "x"));\n'
               'print(getattr({a: 1}, "b", 5), getattr({a: 1}, "a"), getattr("abc", "length"), '
               'getattr(5, "x", "d"), getattr({a: 1}, "zz"));\n'
               'print(hasattr({_x: 1}, "_x"), getattr({_x: 1}, "_x", "no"), '
               'getattr("s", "__class__"), hasattr(print, "__call__"));')
        assert out(src) == ("true false true false true false\n"
                            "5 1 3 d null\n"
                            "false no null false\n")

    def test_getattr_method_is_bound(self):
        assert out('u = getattr("ab", "upper"); print(u());') == "AB\n"

    def test_builtin_namespace(self):
        assert out('print(builtin.len("ab"), typeof(builtin.print));') == "2 function\n"
        assert out('len = fn(x) => 0; print(len("ab"), builtin.len("ab"));') == "0 2\n"

    def test_help(self):
        text = show("help(len)")
        assert text.rstrip().endswith("Capabilities: None required"), text
        assert show("help(42)").startswith("No help available for")
        assert out("import file; print(help(file.read));").rstrip().endswith("Requires: file.read")
        assert "Capabilities: None required" in out("import math; print(help(math));")

    def test_help_of_a_library_objects_method(self):
        text = out('import regex; p = regex.compile("a+"); print(help(p.match));')
        assert text.startswith("Pattern.match(text, pos=0, endpos=null)\n\nMatch at the start")
        text = out('import datetime; d = datetime.now(); print(help(d.to_string));')
        assert text.startswith("DateTimeObject.toString()\n\nISO 8601 text")

    def test_every_library_object_method_has_help(self):
        from mlpy.runtime.describe import member_help
        from mlpy.stdlib import object_types
        types = object_types()
        assert {"Pattern", "Match", "DateTimeObject", "Date", "TimeDelta", "Logger",
                "HttpResponse", "ArgParser", "ParsedArgs"} <= set(types)
        for name, cls in types.items():
            assert cls.ml_type == name
            for member in cls.ml_members:
                text = member_help(cls, member)
                assert text is not None and "\n\n" in text, (name, member)   # with a docstring
        assert member_help(types["Pattern"], "nope") is None

    def test_string_and_array_methods_have_help_and_only_they(self):
        from mlpy.runtime import ops
        from mlpy.runtime.describe import method_help
        from mlpy.runtime.method_docs import METHOD_DOCS
        assert set(METHOD_DOCS["string"]) == set(ops.STRING_METHODS) | {"length"}
        assert set(METHOD_DOCS["array"]) == set(ops.ARRAY_METHODS) | {"length"}
        assert method_help("string", "split").startswith("string method split(sep?, maxsplit?)")
        assert method_help("array", "length").startswith("length\n\nThe number of elements")
        assert method_help("Match", "span").startswith("Match.span(group=0)")
        assert method_help("string", "nope") is None and method_help("number", "x") is None

    def test_every_reserved_word_has_help(self):
        from mlpy.language import KEYWORD_HELP, RESERVED_WORDS
        assert set(KEYWORD_HELP) == RESERVED_WORDS
        for word, text in KEYWORD_HELP.items():
            assert word in text.split("\n\n")[0], word      # its syntax line names it

    def test_methods(self):
        string_methods = {"upper", "lower", "capitalize", "title", "swapcase", "strip", "lstrip",
                          "rstrip", "replace", "split", "rsplit", "join", "startswith",
                          "endswith", "find", "rfind", "index", "rindex", "count", "isdigit",
                          "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle",
                          "center", "ljust", "rjust"}
        array_methods = {"append", "extend", "insert", "remove", "clear", "sort", "reverse",
                         "pop", "index", "count", "copy"}
        r = mlpy.run('result = [methods("s"), methods([]), methods(5), methods(null)];')
        assert r.success, r.error
        strs, arrs, num, nul = r.value
        assert strs == sorted(strs) and arrs == sorted(arrs)
        assert string_methods <= set(strs) <= string_methods | {"length"}
        assert array_methods <= set(arrs) <= array_methods | {"length"}
        assert num == [] and nul == []
        r = mlpy.run('import math; result = methods(math);')
        assert "sqrt" in r.value and r.value == sorted(r.value)
        assert not any(name.startswith("_") for name in r.value)

    def test_modules(self):
        r = mlpy.run("result = [modules(), has_module(\"math\"), has_module(\"nope\"), "
                     "has_module(\"os\"), module_info(\"nope\")];")
        assert r.success, r.error
        mods, yes, no, os_, info = r.value
        assert mods == sorted(mods)
        assert mods == ["builtin"]          # spec §8: imported so far, plus "builtin"
        r = mlpy.run('import math; import regex; result = [modules(), available_modules()];')
        assert r.value[0] == ["builtin", "math", "regex"]
        assert {"console", "math", "json", "collections", "functional", "regex", "datetime",
                "random", "file", "path", "http", "env", "args", "csv", "crypto", "log"} \
            <= set(r.value[1])
        assert (yes, no, os_, info) == (True, False, False, None)
        r = mlpy.run('result = module_info("math");')
        assert set(r.value) == {"name", "description", "functions", "capabilities"}
        assert r.value["name"] == "math" and "sqrt" in r.value["functions"]
        r = mlpy.run('result = available_modules();')
        assert "math" in r.value

    def test_capability_builtins(self):
        r = mlpy.run('import file; import math; result = [hasCapability("file.read"), '
                     'getCapabilities(), getCapabilityInfo("file.read"), '
                     'requiredCapabilities(file.read), requiredCapabilities(print), '
                     'requiredCapabilities(math.sqrt)];')
        assert r.success, r.error
        assert r.value == [False, [], None, ["file.read"], [], []]
        r = mlpy.run('result = [hasCapability("file.read"), getCapabilities(), '
                     'getCapabilityInfo("file.read")];', capabilities=("path.read", "file.read"))
        has, caps, info = r.value
        assert has is True and caps == ["file.read", "path.read"]
        assert set(info) == {"type", "available", "usage_count", "patterns", "operations",
                             "max_usage", "expires_at"}

    def test_capability_block_grants_nothing(self):
        src = ('capability C { allow read "x"; }\nimport file;\n'
               'try { file.read("x"); } except (e) { print(e.type); }\nprint(getCapabilities());')
        assert out(src) == "CapabilityError\n[]\n"


# ------------------------------------------------------------------ §9 methods
class TestStringMethods:
    @pytest.mark.parametrize("expression, text", [
        ('"aBc".upper()', "ABC"), ('"aBc".lower()', "abc"), ('"hello world".capitalize()', "Hello world"),
        ('"hello world".title()', "Hello World"), ('"aBc".swapcase()', "AbC"),
        ('"  x  ".strip() + "|"', "x|"), ('"xxaxx".strip("x")', "a"), ('"  x".lstrip()', "x"),
        ('"x  ".rstrip() + "|"', "x|"), ('"a-b-c".replace("-", "+")', "a+b+c"),
        ('"a-b-c".replace("-", "+", 1)', "a+b-c"), ('" a  b ".split()', '["a", "b"]'),
        ('"a,b,,c".split(",")', '["a", "b", "", "c"]'), ('"a,b,c".split(",", 1)', '["a", "b,c"]'),
        ('"a,b,c".rsplit(",", 1)', '["a,b", "c"]'), ('"-".join(["a", "b"])', "a-b"),
        ('"abc".startswith("ab")', "true"), ('"abc".endswith("bc")', "true"),
        ('"abcabc".find("c")', "2"), ('"abc".find("z")', "-1"), ('"abcabc".rfind("c")', "5"),
        ('"abcabc".index("b")', "1"), ('"abcabc".rindex("b")', "4"), ('"aaa".count("a")', "3"),
        ('"123".isdigit()', "true"), ('"ab1".isalpha()', "false"), ('"ab1".isalnum()', "true"),
        ('" ".isspace()', "true"), ('"AB".isupper()', "true"), ('"ab".islower()', "true"),
        ('"Ab Cd".istitle()', "true"), ('"ab".center(6, "*")', "**ab**"), ('"ab".ljust(4, ".")', "ab.."),
        ('"ab".rjust(4)', "  ab"), ('"7".rjust(3, "0")', "007"),
    ])
    def test_values(self, expression, text):
        assert show(expression) == text

    def test_strings_are_immutable(self):
        assert out('s = "ab"; t = s.upper(); print(s, t);') == "ab AB\n"

    def test_errors(self):
        fails('x = "abc".index("z");', "ValueError", "substring not found")
        fails('x = "abc".rindex("z");', "ValueError", "substring not found")
        fails('x = "-".join([1, 2]);', "TypeError")

    @pytest.mark.parametrize("name", ["encode", "format", "zfill", "partition", "splitlines",
                                      "casefold", "expandtabs", "maketrans", "translate",
                                      "removeprefix", "keys", "length_of"])
    def test_other_members_are_attribute_errors(self, name):
        fails(f'x = "abc".{name};', "AttributeError")
        fails(f'x = "abc".{name}();', "AttributeError")


class TestArrayMethods:
    def test_mutators_return_null(self):
        src = ("a = [3, 1];\nprint(a.append(2), a.extend([5]), a.insert(0, 9), a.remove(1), "
               "a.sort(), a.reverse(), a);\nb = [1]; print(b.clear(), b);")
        assert out(src) == "null null null null null null [9, 5, 3, 2]\nnull []\n"

    def test_pop_index_count_copy(self):
        src = ("a = [1, 2, 3, 2];\nprint(a.pop(), a.pop(0), a, a.index(2), a.count(2));\n"
               "c = a.copy(); c.append(7); print(a, c);\n"
               "n = [[1]]; m = n.copy(); m[0].append(2); print(n);")
        assert out(src) == "2 1 [2, 3] 0 1\n[2, 3] [2, 3, 7]\n[[1, 2]]\n"

    def test_errors(self):
        fails("a = [];\na.pop();", "IndexError", "pop from empty list", line=2)
        fails("x = [1].index(5);", "ValueError", "5 is not in list")
        fails("a = [1]; a.remove(5);", "ValueError")
        fails('a = [1, "a"]; a.sort();', "TypeError")
        fails("a = [1]; a.pop(5);", "IndexError")

    @pytest.mark.parametrize("name", ["map", "filter", "push", "len", "length_of", "keys",
                                      "sorted", "join"])
    def test_other_members_are_attribute_errors(self, name):
        fails(f"x = [1].{name};", "AttributeError")
