"""The ML json module (spec section 10)."""

import pytest

import mlpy.stdlib
from mlpy.runtime.values import MLObject, display

J = mlpy.stdlib.load("json").members


def test_parse_numbers_as_in_ml_source():
    assert J["parse"]("[1, 2.5, -3e2, 2.0]") == [1, 2.5, -300.0, 2.0]
    kinds = [type(v) for v in J["parse"]("[2, 2.0, 3e2, -0]")]
    assert kinds == [int, float, float, int]
    assert display(J["parse"]("[1, 2.5, -3e2]")) == "[1, 2.5, -300.0]"


def test_parse_values_and_order():
    data = J["parse"]('{"name": "Widget", "tags": ["a", "b"], "price": 9.5, "stock": null, "ok": true}')
    assert display(data) == '{"name": "Widget", "tags": ["a", "b"], "price": 9.5, "stock": null, "ok": true}'
    assert J["parse"]('"just a string"') == "just a string"
    assert J["parse"]("42") == 42 and J["parse"]("true") is True and J["parse"]("null") is None
    assert J["parse"]('"caf\\u00e9"') == "café"


@pytest.mark.parametrize("text", ["{not valid", "", "[1,]", "{'a': 1}", "NaN", "[Infinity]", "-Infinity", "1 2"])
def test_parse_errors(text):
    with pytest.raises(ValueError, match="^JSON parsing failed: "):
        J["parse"](text)


def test_parse_non_string_is_type_error():
    with pytest.raises(TypeError):
        J["parse"](42)


def test_parse_too_deep_is_a_parse_error_not_a_crash():
    with pytest.raises(ValueError, match="^JSON parsing failed"):
        J["parse"]("[" * 100_000 + "]" * 100_000)


def test_safe_parse_depth_rules():
    assert J["safeParse"]('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert J["safeParse"]("[[1]]", 2) == [[1]]
    with pytest.raises(ValueError, match=r"^JSON object depth exceeds maximum allowed \(1\)$"):
        J["safeParse"]("[[1]]", 1)
    assert J["safeParse"]("[[]]", 1) == [[]]          # an empty container adds no deeper value
    assert J["safeParse"]("5", 0) == 5
    nested = "[" * 101 + "]" * 101
    J["safeParse"](nested)                              # values at depth 100: allowed
    with pytest.raises(ValueError, match=r"allowed \(100\)"):
        J["safeParse"]("[" * 102 + "]" * 102)
    with pytest.raises(ValueError, match=r"allowed \(100\)"):
        J["safeParse"]("[" * 102 + "]" * 102, 500)     # the maximum is capped at 100
    with pytest.raises(ValueError, match=r"allowed \(100\)"):
        J["safeParse"]("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="^JSON parsing failed"):
        J["safeParse"]("{bad")
    with pytest.raises(TypeError):
        J["safeParse"]("[]", "3")


def test_stringify_separators_and_escapes():
    assert J["stringify"]({"a": [1, True, None]}) == '{"a": [1, true, null]}'
    assert J["stringify"]([1, "two", None, False, {"x": 1.5}]) == '[1, "two", null, false, {"x": 1.5}]'
    assert J["stringify"]('say "hi"') == '"say \\"hi\\""'
    assert J["stringify"]("café ☃\n") == '"caf\\u00e9 \\u2603\\n"'
    assert J["stringify"]("😀") == '"\\ud83d\\ude00"'
    assert J["stringify"]([]) == "[]" and J["stringify"]({}) == "{}"
    assert J["stringify"](2.0) == "2.0" and J["stringify"](10 ** 20) == "100000000000000000000"


def test_stringify_non_string_keys_become_their_display_form():
    assert J["stringify"]({1: "a", True: "b", None: "c", 2.5: "d"}) == '{"1": "b", "null": "c", "2.5": "d"}'


@pytest.mark.parametrize("value", [float("nan"), [float("inf")], {"f": len}, [print], MLObject()])
def test_stringify_non_json_values(value):
    with pytest.raises(ValueError, match="^JSON serialization failed: "):
        J["stringify"](value)


def test_stringify_cycle_and_function_messages():
    cyclic = [1]
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="circular reference"):
        J["stringify"](cyclic)
    with pytest.raises(ValueError, match="type function is not JSON serializable"):
        J["stringify"]({"f": lambda: 1})


def test_pretty_print():
    assert J["prettyPrint"]({"a": 1, "b": [True, None]}, 2) == (
        '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}')
    assert J["prettyPrint"]({"a": [], "b": {}}) == '{\n    "a": [],\n    "b": {}\n}'
    assert J["prettyPrint"]([]) == "[]" and J["prettyPrint"]("é") == '"\\u00e9"'
    assert J["prettyPrint"]([1, 2], 0) == "[\n1,\n2\n]"
    with pytest.raises(ValueError, match="^JSON serialization failed"):
        J["prettyPrint"]([float("nan")])
    with pytest.raises(TypeError):
        J["prettyPrint"]([1], "  ")


def test_validate():
    assert J["validate"]("[1, 2]") is True and J["validate"]('{"a": null}') is True
    assert J["validate"]("{bad json}") is False and J["validate"]("") is False
    assert J["validate"](12) is False and J["validate"]("NaN") is False


def test_type_predicates():
    assert J["isObject"]({}) and not J["isObject"]([])
    assert J["isArray"]([]) and not J["isArray"]("[]")
    assert J["isString"]("s") and not J["isString"](1)
    assert J["isNumber"](3.5) and J["isNumber"](2) and not J["isNumber"](True)
    assert J["isBoolean"](False) and not J["isBoolean"](0)
    assert J["isNull"](None) and not J["isNull"](0)


def test_keys_values_has_get_merge():
    data = {"name": "W", "price": 9.5}
    assert J["keys"](data) == ["name", "price"] and J["values"]({"x": [1], "y": "z"}) == [[1], "z"]
    assert J["keys"]([1]) == [] and J["values"]("s") == []
    assert J["hasKey"](data, "price") is True and J["hasKey"](data, "nope") is False
    assert J["hasKey"]([1], 0) is False and J["hasKey"](data, [1]) is False
    assert J["get"](data, "name", "?") == "W" and J["get"](data, "color", "none") == "none"
    assert J["get"](data, "color") is None and J["get"](None, "a", 3) == 3
    a, b = {"a": 1, "b": 2}, {"b": 3, "c": 4}
    merged = J["merge"](a, b)
    assert display(merged) == '{"a": 1, "b": 3, "c": 4}'
    assert a == {"a": 1, "b": 2} and merged is not a
    with pytest.raises(TypeError):
        J["merge"]({}, [1])


def test_round_trip():
    value = {"nested": {"list": [1, {"deep": "yes"}], "f": 0.1, "u": "\u00fc"}}
    assert J["parse"](J["stringify"](value)) == value
    assert J["parse"](J["prettyPrint"](value, 3)) == value


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_27_runs_end_to_end():
    with open("/work/shared/examples/27_json_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/27_json_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_json_snippets():
    result = mlpy.run('import json; d = json.parse(\'{"a": [1, 2.0]}\'); '
                      'print(d.a[1], typeof(d.a[0]), json.stringify({k: "\u00e9"}), json.isNumber(true));')
    assert result.success
    assert result.stdout == '2.0 number {"k": "\\u00e9"} false\n'


def test_ml_json_errors():
    result = mlpy.run('import json; try { json.stringify([fn(x) => x]); } except (e) { print(e.type, '
                      'e.message.startswith("JSON serialization failed")); } '
                      'try { json.safeParse("[[[1]]]", 2); } except (e) { print(e.message); }')
    assert result.stdout == "ValueError true\nJSON object depth exceeds maximum allowed (2)\n"


def test_pretty_print_large_indent_is_bounded():
    from mlpy.runtime.context import ExecutionContext, Limits, OutputSink, using
    from mlpy.runtime.signals import LimitStop
    assert J["prettyPrint"]([[1]], 20) == "[\n" + " " * 20 + "[\n" + " " * 40 + "1\n" + " " * 20 + "]\n]"
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_string=10_000))):
        assert J["prettyPrint"]([1, 2], 1000).count("\n") == 3
        with pytest.raises(LimitStop):
            J["prettyPrint"]([[[1, 2, 3]]], 10 ** 9)


def test_stringify_very_deep_ml_value_fails_cleanly():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="^JSON serialization failed"):
        J["stringify"](deep)
