"""The ML console module: print-like output through the run's OutputSink."""

import mlpy.stdlib
from mlpy.runtime.context import ExecutionContext, OutputSink, using

C = mlpy.stdlib.load("console").members


def run(fn):
    with using(ExecutionContext(output=OutputSink())) as ctx:
        result = fn()
    return result, ctx.output.text(), ctx.output.stderr_text()


def test_example_25_console_module():
    def program():
        C["log"]("plain log", 1, True, None, [False, "s"])
        C["info"]("service started")
        C["debug"]("value is", {"a": 1})
        C["warn"]("this goes to stderr")
        C["error"]("so does this")
        C["log"]()
        C["log"]("done")
    _, out, err = run(program)
    assert out == ('plain log 1 true null [false, "s"]\nINFO: service started\n'
                   'DEBUG: value is {"a": 1}\n\ndone\n')
    assert err == "WARNING: this goes to stderr\nso does this\n"


def test_log_uses_display_forms():
    _, out, _ = run(lambda: C["log"]("s", 2.0, 1e20, [1, "a\nb"], {"k": None}))
    assert out == 's 2.0 1e+20 [1, "a\\nb"] {"k": null}\n'


def test_info_and_debug_label_even_without_arguments():
    _, out, err = run(lambda: (C["info"](), C["debug"](), C["info"]("up", 1)))
    assert out == "INFO:\nDEBUG:\nINFO: up 1\n" and err == ""


def test_warn_and_error_go_to_stderr_only():
    result, out, err = run(lambda: (C["warn"]("w", 1), C["error"]("e", False)))
    assert out == "" and err == "WARNING: w 1\ne false\n"


def test_functions_return_null():
    result, _, _ = run(lambda: [C[name]("x") for name in ("log", "info", "debug", "warn", "error")])
    assert result == [None] * 5


def test_output_goes_to_the_installed_context_not_sys_stdout(capsys):
    run(lambda: C["log"]("captured"))
    assert capsys.readouterr().out == ""


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_example_25_runs_end_to_end():
    with open("/work/shared/examples/25_console_module.ml") as f:
        result = mlpy.run(f.read())
    with open("/work/shared/examples/25_console_module.out") as f:
        assert result.success and result.stdout == f.read()


def test_ml_console_calls():
    result = mlpy.run('import console as c; c.log("n=" + 1, [1, "a"], {k: null}); c.warn("hidden"); '
                      'c.error("hidden too"); c.debug(); r = c.log("x"); print(typeof(r));')
    assert result.success
    assert result.stdout == 'n=1 [1, "a"] {"k": null}\nDEBUG:\nx\nnull\n'
