"""Instructions per cold compile of bench/language.py's 19.9 KB program, phase by phase.

    python bench/instructions.py [full|lex|parse|lower|compile ...] [--runs N]

Wall-clock on a shared 2-core machine moves by +-5% between runs, as much as most changes
to the front end; valgrind's instruction count (callgrind) is the same every run, so a
change is counted here first and confirmed in wall-clock with bench/language.py after.
Needs valgrind (Debian: `apt-get install valgrind`). The count is not time (the lowering,
which allocates most, runs fewer instructions per millisecond than the other phases), and
the same code counts up to ~3% differently when checked out at another path (the layout of
CPython's type-attribute cache): compare two versions in one checkout.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("full", "lex", "parse", "lower", "compile")

# Run in a fresh interpreter under callgrind: the phase `runs` times, after the setup (the
# parser built, the tree made once); the setup alone is counted too and taken away.
SCRIPT = """
import gc, sys
sys.path[:0] = [{root!r}, {bench!r}]
from language import big_program
import mlpy
from mlpy.compiler import Compiler
from mlpy.lexer import tokenize
from mlpy.parser import _get_parser, parse_tokens
source = big_program()
mlpy.compile("x = 1;", cache=False)
gc.set_threshold(50_000, *gc.get_threshold()[1:])     # as mlpy.compile sets it
tokens = tokenize(source)
program, _ = parse_tokens(source)
tree = Compiler(source, tokens=tokens).compile_module(program)
phase = {{"full": lambda: mlpy.compile(source, cache=False),
          "lex": lambda: tokenize(source),
          "parse": lambda: _get_parser().parse(tokens),
          "lower": lambda: Compiler(source, tokens=tokens).compile_module(program),
          "compile": lambda: compile(tree, "<ml>", "exec")}}[sys.argv[1]]
for _ in range(int(sys.argv[2])):
    phase()
"""


def count(script: Path, phase: str, runs: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, str(script), phase, str(runs)],
            capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        sys.exit(done.stderr[-2000:])
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phases", nargs="*", choices=PHASES, default=["full"])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "phase.py"
        script.write_text(SCRIPT.format(root=str(ROOT), bench=str(ROOT / "bench")))
        for phase in args.phases:
            per_run = (count(script, phase, args.runs) - count(script, phase, 0)) / args.runs
            print(f"{phase:8} {per_run / 1e6:8.2f} M instructions per run")


if __name__ == "__main__":
    main()
