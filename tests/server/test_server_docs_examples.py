"""Every curl and httpx example of docs/server.md's *Client examples* runs as written against
a real server (its address put in place of localhost:8000)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.server.conftest import ROOT

DOC = ROOT / "docs" / "server.md"


def examples() -> list[tuple[str, str]]:
    text = DOC.read_text()
    section = text.split("\n## Client examples\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, re.DOTALL)


def test_the_section_has_curl_and_httpx_for_each_topic():
    section = DOC.read_text().split("\n## Client examples\n", 1)[1].split("\n## ", 1)[0]
    for topic in ("Streaming", "Interrupting", "Asynchronous executions", "Listing"):
        part = section.split(f"### {topic}", 1)[1].split("\n### ", 1)[0]
        assert "```bash\ncurl" in part or "curl -s" in part, topic
        assert "import httpx" in part, topic


@pytest.mark.parametrize("index", range(len(examples())))
def test_documented_example_runs(live_server, index):
    kind, code = examples()[index]
    code = code.replace("http://localhost:8000", live_server.url)
    if kind == "bash":
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], capture_output=True,
                              text=True, timeout=120)
    else:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, f"{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    if kind == "bash" and "interrupt" in code:
        assert "Execution interrupted" in done.stdout and '"display_value":1' in done.stdout
    if kind == "bash" and "/executions" in code:
        assert '"value":300000' in done.stdout and '"status":"cancelled"' in done.stdout
        assert '{"executions":[' in done.stdout
    if kind == "bash" and "event-stream" in code:
        assert "event: stdout" in done.stdout and "event: result" in done.stdout
