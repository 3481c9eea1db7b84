"""mlpy/display.py directly: JSON conversion with its caps, MIME bundles, HTML tables and the
Jupyter error content that both front doors (server, kernel) render from."""

from __future__ import annotations

import pytest

from mlpy.display import (MAX_TABLE_ROWS, NotSerialisable, error_content, error_traceback,
                          html_table, mime_bundle, to_json)
from mlpy.errors import MLError
from mlpy.executor import AsyncMLResult


class TestToJson:
    def test_scalars_and_containers_copy(self) -> None:
        value = {"a": [1, 2.5, "x", None, True], "b": {}}
        plain, size = to_json(value)
        assert plain == value and plain is not value
        assert size == len('{"a":[1,2.5,"x",null,true],"b":{}}')

    def test_big_integers_stay_exact(self) -> None:
        big = 12345678901234567890123
        assert to_json(big)[0] == big and to_json([big])[0] == [big]

    def test_caps_say_why(self) -> None:
        with pytest.raises(NotSerialisable, match="more than the limit of 10 bytes"):
            to_json(["x" * 20], max_bytes=10)
        with pytest.raises(NotSerialisable, match="nesting deeper than 3 levels"):
            to_json([[[[1]]]], max_depth=3)
        with pytest.raises(NotSerialisable, match="has a key that is not a string"):
            to_json({1: "a"})
        loop: list = []
        loop.append(loop)
        with pytest.raises(NotSerialisable, match="contains itself"):
            to_json(loop)

    def test_a_shared_value_is_not_a_cycle(self) -> None:
        shared = [1]
        assert to_json([shared, shared])[0] == [[1], [1]]


class TestMimeBundle:
    def test_null_shows_nothing(self) -> None:
        assert mime_bundle(None) == {}

    def test_scalars_are_text_in_container_form(self) -> None:
        assert mime_bundle("ab") == {"text/plain": '"ab"'}
        assert mime_bundle(True) == {"text/plain": "true"}

    def test_arrays_of_objects_get_a_table(self) -> None:
        data = mime_bundle([{"name": "a", "n": 1}, {"name": "b"}])
        assert data["text/plain"] == '[{"name": "a", "n": 1}, {"name": "b"}]'
        assert "<th>name</th><th>n</th>" in data["text/html"]
        assert "<td>b</td><td></td>" in data["text/html"]

    def test_json_left_out_when_over_the_cap(self) -> None:
        data = mime_bundle(["x" * 100], max_json_bytes=10)
        assert "application/json" not in data and data["text/plain"].startswith('["x')


class TestHtmlTable:
    def test_only_for_non_empty_arrays_of_objects(self) -> None:
        assert html_table([]) is None and html_table([1, {"a": 1}]) is None
        assert html_table({"a": 1}) is None

    def test_escapes_and_bounds_rows(self) -> None:
        table = html_table([{"k": "<b>"}] * (MAX_TABLE_ROWS + 3))
        assert table is not None
        assert "&lt;b&gt;" in table and "<b>" not in table.replace("<tbody>", "")
        assert table.count("<tr>") == MAX_TABLE_ROWS + 1          # header + the shown rows
        assert table.endswith("... 3 more rows</p>")


class TestErrors:
    def test_error_content_from_an_ml_error_with_source(self) -> None:
        source = "x = 1;\ny = x / 0;"
        content = error_content(MLError("division by zero", type="ZeroDivisionError",
                                        line=2, column=5), source, color=False)
        assert content["ename"] == "ZeroDivisionError"
        assert content["evalue"] == "division by zero"
        assert content["traceback"][0] == "ZeroDivisionError: division by zero (line 2)"
        assert "y = x / 0;" in content["traceback"][1]

    def test_from_an_executor_result_and_colour(self) -> None:
        result = AsyncMLResult(False, error="name 'q' is not defined", error_type="NameError",
                               line=1, column=1)
        content = error_content(result, "q")
        assert content["traceback"][0].startswith("\x1b[0;31mNameError\x1b[0m: ")
        assert error_traceback(result)[0] == "NameError: name 'q' is not defined (line 1)"


def test_integers_past_the_decimal_digit_limit():
    """Python writes at most 4300 decimal digits (spec §4): a longer integer's display is a
    placeholder and its JSON form a NotSerialisable naming where it is; 4300 digits still
    write in full."""
    from mlpy.display import bounded_repr, display_text
    longest = 10 ** 4300 - 1
    assert display_text([longest], 10_000) == "[" + "9" * 4300 + "]"
    assert to_json({"k": longest})[0] == {"k": longest}
    long = 2 ** 20_000
    placeholder = "<integer of 20001 bits, too large to write as text>"
    assert display_text(long, 1000) == placeholder
    assert bounded_repr({"a": [long]}, 1000) == '{"a": [' + placeholder + "]}"
    with pytest.raises(NotSerialisable, match=r'^the integer at result\["a"\]\[0\] is too '
                                              r"large to write as text$"):
        to_json({"a": [long]})
    with pytest.raises(NotSerialisable, match="^the integer at result is too large"):
        to_json(long)
