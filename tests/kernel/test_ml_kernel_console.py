"""`jupyter console --kernel ml` driven through a pseudo-terminal with pexpect: a multi-line
function typed line by line (the kernel's is_complete keeps the prompt open while the brace
is), then a call to it."""

from __future__ import annotations

import os
import re
import sys
import time

import pexpect
import pytest

from ml_kernel_testenv import plain, setup_kernelspec

setup_kernelspec()


def _type_line(child, text: str) -> None:
    child.send(text)
    time.sleep(0.2)            # let prompt_toolkit render before Enter asks is_complete
    child.send("\r")


@pytest.mark.timeout(120)
def test_console_multiline_function_then_call(tmp_path):
    env = dict(os.environ, TERM="xterm", JUPYTER_RUNTIME_DIR=str(tmp_path))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "jupyter_console", "--kernel", "ml",
         "--ZMQTerminalInteractiveShell.kernel_is_complete_timeout=10"],
        env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
    transcript: list[str] = []

    class Log:
        def write(self, data):
            transcript.append(data)

        def flush(self):
            pass

    child.logfile_read = Log()
    try:
        child.expect(r"In \[")
        time.sleep(0.5)
        _type_line(child, "function cube(x) {")
        child.expect(r"\.\.\.:")                 # continuation prompt: is_complete said incomplete
        _type_line(child, "return x * x * x;")
        child.expect(r"\.\.\.:")
        _type_line(child, "}")
        child.expect(r"In \[")
        time.sleep(0.3)
        _type_line(child, "cube(3) + 1")
        child.expect(r"Out\[")
        child.expect(r"28")
        child.expect(r"In \[")
        time.sleep(0.5)
        child.sendcontrol("d")
        if child.expect([pexpect.EOF, r"exit \(\[y\]/n\)\?"], timeout=30) == 1:
            child.send("y\r")
            child.expect(pexpect.EOF, timeout=30)
    finally:
        if child.isalive():
            child.terminate(force=True)
    text = plain("".join(transcript))
    assert "Parse error" not in text, text
    assert re.search(r"Out\[\d+\]:\s*28", text), text


@pytest.mark.timeout(120)
@pytest.mark.parametrize("word", ["exit", "quit"])
def test_console_exit_and_quit_leave(tmp_path, word):
    env = dict(os.environ, TERM="xterm", JUPYTER_RUNTIME_DIR=str(tmp_path))
    child = pexpect.spawn(sys.executable, ["-m", "jupyter_console", "--kernel", "ml"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
    try:
        child.expect(r"In \[")
        time.sleep(0.5)
        _type_line(child, "x = 1;")
        child.expect(r"In \[")
        time.sleep(0.3)
        _type_line(child, word)
        child.expect(pexpect.EOF, timeout=30)       # no confirmation asked, no error shown
    finally:
        if child.isalive():
            child.terminate(force=True)
