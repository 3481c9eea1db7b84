"""Cost of the standard library: importing every module in a fresh process.

    python bench/stdlib.py [--runs N]

Prints the median time `import mlpy` takes, then the extra time to load all standard-library
modules as `import name;` does (mlpy.stdlib.load), each measured in fresh processes in this
run. Target: the whole library adds <= 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlpy.stdlib import MODULE_NAMES  # noqa: E402  (registry only: loads no module)

BASE = "import time; t = time.perf_counter(); import mlpy; print(time.perf_counter() - t)"
ALL = ("import time; import mlpy; t = time.perf_counter(); import mlpy.stdlib as s; "
       "[s.load(n) for n in s.MODULE_NAMES]; print(time.perf_counter() - t)")


def median_seconds(code: str, runs: int) -> float:
    samples = [float(subprocess.check_output([sys.executable, "-c", code], text=True, cwd=ROOT))
               for _ in range(runs)]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", ALL], check=True, cwd=ROOT,   # warm bytecode caches
                   stdout=subprocess.DEVNULL)
    base = median_seconds(BASE, args.runs)
    extra = median_seconds(ALL, args.runs)
    print(f"import mlpy: {base * 1e3:.1f} ms")
    print(f"loading all {len(MODULE_NAMES)} standard-library modules adds: {extra * 1e3:.1f} ms "
          "(target <= 50; with PYTHONDONTWRITEBYTECODE set, modules compile from source)")


if __name__ == "__main__":
    main()
