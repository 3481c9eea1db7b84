"""The `ml` kernel against jupyter_kernel_test's protocol checks (every test it offers)."""

from __future__ import annotations

import pytest
import jupyter_kernel_test

from ml_kernel_testenv import plain, setup_kernelspec

setup_kernelspec()

pytestmark = pytest.mark.timeout(180)


class TestMLKernelProtocol(jupyter_kernel_test.KernelTests):
    kernel_name = "ml"
    language_name = "ml"
    file_extension = ".ml"

    @classmethod
    def setUpClass(cls):
        # a history file of its own: the history checks count the cells matching "1 +*",
        # which other test modules' kernels also run
        import os
        import tempfile
        cls._history = tempfile.mkdtemp(prefix="ml-kernel-protocol-")
        cls._saved_history = os.environ.get("ML_KERNEL_HISTORY")
        os.environ["ML_KERNEL_HISTORY"] = os.path.join(cls._history, "history.sqlite")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        import os
        import shutil
        super().tearDownClass()
        if cls._saved_history is None:
            os.environ.pop("ML_KERNEL_HISTORY", None)
        else:
            os.environ["ML_KERNEL_HISTORY"] = cls._saved_history
        shutil.rmtree(cls._history, ignore_errors=True)

    code_hello_world = 'print("hello, world")'
    code_stderr = 'import console;\nconsole.error("something went wrong");'

    completion_samples = [
        {"text": "pri", "matches": ["print"]},
        {"text": "import mat", "matches": ["math"]},
        {"text": "math.sq", "matches": ["sqrt"]},
        {"text": "%tim", "matches": ["%time", "%timeout"]},
    ]

    complete_code_samples = ["x = 1", 'print("hi");', "function f(a) { return a; }", "%who",
                             "len?"]
    incomplete_code_samples = ["function f(a) {", "x = [1, 2,", "if (x) {\n  y = (1 +"]
    invalid_code_samples = ["x = ;", 'x = "abc', ")", "%nosuchmagic"]

    code_page_something = "len?"
    code_generate_error = "1 / 0"

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '["ab", true, null]', "result": '["ab", true, null]'},
        {"code": "{a: [1, 2.5]}", "result": '{"a": [1, 2.5]}'},
        {"code": '[{name: "ada", age: 36}, {name: "alan", age: 41}]', "mime": "text/html"},
    ]
    code_display_data = [{"code": "%who", "mime": "text/html"},
                         {"code": "%who", "mime": "text/plain"}]

    code_history_pattern = "1 +*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "math.sqrt"
    code_clear_output = '%clear\nprint("fresh")'

    # -- beyond jupyter_kernel_test ----------------------------------------------------------
    def test_ml_kernel_info_advertises_only_what_exists(self):
        self.flush_channels()
        self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=15)["content"]
        info = reply["language_info"]
        assert info["name"] == "ml"
        assert info["mimetype"] == "text/x-ml"
        assert info["pygments_lexer"] == "ml"
        assert info["codemirror_mode"] == "ml"
        assert info["version"]
        assert "debugger" not in reply.get("supported_features", [])
        assert "kernel subshells" not in reply.get("supported_features", [])
        assert reply.get("debugger", False) is False

    def test_ml_execute_result_text_and_json(self):
        self.flush_channels()
        reply, outputs = self.execute_helper('{a: [1, "x"], b: null}')
        assert reply["content"]["status"] == "ok"
        data = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
        assert data == {"text/plain": '{"a": [1, "x"], "b": null}'}     # JSON only if asked
        reply, outputs = self.execute_helper('%display json\n{a: [1, "x"], b: null}')
        data = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
        assert data["application/json"] == {"a": [1, "x"], "b": None}

    def test_ml_null_shows_nothing(self):
        self.flush_channels()
        reply, outputs = self.execute_helper("null")
        assert reply["content"]["status"] == "ok"
        assert not [m for m in outputs if m["msg_type"] == "execute_result"]

    def test_ml_error_traceback_is_ml(self):
        self.flush_channels()
        reply, outputs = self.execute_helper("a = 1;\nb = a / 0;")
        content = reply["content"]
        assert content["status"] == "error"
        assert content["ename"] == "ZeroDivisionError"
        assert content["evalue"] == "division by zero"
        text = plain("\n".join(outputs[0]["content"]["traceback"]))
        assert "b = a / 0;" in text
        assert "^" in text
        assert "line 2" in text
        assert ".py" not in text and "Traceback (most recent call last)" not in text

    def test_ml_error_in_earlier_cell_function_shows_call_stack(self):
        self.flush_channels()
        reply, _ = self.execute_helper(
            "x = 1;\nfunction g(a) {\n  b = a + 1;\n  return b / 0;\n}")
        defined = reply["content"]["execution_count"]
        reply, outputs = self.execute_helper("y = 2;\nz = 3;\nh = fn (v) => g(v);\nh(y);")
        content = reply["content"]
        assert content["status"] == "error"
        assert content["evalue"] == "division by zero"
        tb = [plain(line) for line in content["traceback"]]
        assert tb == [
            "ZeroDivisionError: division by zero",
            f"Cell In[{content['execution_count']}], line 4",
            "   4 | h(y);",
            "       ^",
            f"Cell In[{content['execution_count']}], line 3, in <function>",
            "   3 | h = fn (v) => g(v);",
            "                     ^",
            f"Cell In[{defined}], line 4, in g",
            "   4 |   return b / 0;",
            "                  ^",
        ]
        assert [m["content"]["traceback"] for m in outputs
                if m["msg_type"] == "error"] == [content["traceback"]]

    def test_ml_inspect_user_function(self):
        self.flush_channels()
        self.execute_helper("// Square a number.\nfunction sq(x) {\n    return x * x;\n}")
        self.kc.inspect("sq", 2)
        reply = self.get_non_kernel_info_reply(timeout=15)["content"]
        assert reply["found"]
        text = reply["data"]["text/plain"]
        assert "sq(x)" in text and "Square a number." in text

    def test_ml_inspect_builtin_inside_call(self):
        self.flush_channels()
        self.kc.inspect("x = len(", 8)
        reply = self.get_non_kernel_info_reply(timeout=15)["content"]
        assert reply["found"]
        assert "len" in reply["data"]["text/plain"]

    def test_ml_complete_variables_and_members(self):
        self.flush_channels()
        self.execute_helper("import math as m;\nscore_total = 10;\ngreeting = \"hi\";")
        self.kc.complete("score_")
        assert self.get_non_kernel_info_reply(timeout=15)["content"]["matches"] == \
            ["score_total"]
        self.kc.complete("m.fl")
        assert self.get_non_kernel_info_reply(timeout=15)["content"]["matches"] == ["floor"]
        self.kc.complete("greeting.up")
        assert self.get_non_kernel_info_reply(timeout=15)["content"]["matches"] == ["upper"]
        self.kc.complete("whi")
        assert "while" in self.get_non_kernel_info_reply(timeout=15)["content"]["matches"]

    def test_ml_is_complete_indent(self):
        self.flush_channels()
        self.kc.is_complete("function f(a) {\n    if (a) {")
        reply = self.get_non_kernel_info_reply(timeout=15)["content"]
        assert reply["status"] == "incomplete"
        assert reply["indent"] == "        "
