"""The `display` library module outside the kernel: its messages never leak into a run's
stdout/stderr text, arrive whole at on_output (thread and process isolation), and the CLI
prints their text fallback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

import mlpy
from mlpy import AsyncMLExecutor


CODE = ('import display;\nprint("a");\nh = display.show("0%");\n'
        'display.update(h, "50%");\ndisplay.update(h, "100%");\nprint("b");')


def test_run_keeps_display_messages_out_of_stdout():
    result = mlpy.run(CODE)
    assert result.success, result.error
    assert result.stdout == "a\nb\n"


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_messages_reach_on_output_whole_and_in_order(isolation):
    chunks: list[tuple[str, str]] = []

    async def main():
        executor = AsyncMLExecutor(max_workers=1, isolation=isolation)
        try:
            return await executor.execute(CODE, timeout=30,
                                          on_output=lambda s, t: chunks.append((s, t)))
        finally:
            executor.shutdown()

    result = asyncio.run(main())
    assert result.success, result.error
    assert result.stdout == "a\nb\n" and not result.stderr
    displays = [json.loads(t) for s, t in chunks if s == "display"]
    assert [m["op"] for m in displays] == ["display", "update", "update"]
    assert len({m["id"] for m in displays}) == 1
    assert displays[-1]["data"] == {"text/plain": "100%"}
    assert [s for s, _ in chunks][0] == "stdout" and chunks[-1] == ("stdout", "b\n")


def test_cli_prints_the_text_fallback(tmp_path):
    program = tmp_path / "p.ml"
    program.write_text(CODE + '\ndisplay.table([{k: 1}]);')
    out = subprocess.run([sys.executable, "-m", "mlpy", "run", str(program)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'a\n0%\n50%\n100%\nb\n[{"k": 1}]\n'
