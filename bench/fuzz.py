"""A longer fuzzing run than the test suite's: random and mutated ML through parse, compile,
mlpy.run and the process executor, where only ML errors may come out.

    python bench/fuzz.py [--examples 5000] [--seed N]

Prints the number of programs per stage and how many failed; exits 1 on the first
violation (Hypothesis shows the minimal failing program).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                          # run from a checkout
sys.path.insert(0, str(ROOT / "tests" / "security"))   # the shared strategies

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from fuzzing import check_parse_and_compile, check_run, mutated, programs  # noqa: E402


def stage(name, strategy, check, examples, rng):
    count = 0

    @seed(rng)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(source):
        nonlocal count
        count += 1
        check(source)

    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    print(f"  {name:<34}: {count:6d} programs in {elapsed:6.1f} s  ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    print(f"fuzzing with seed {args.seed}")
    stage("parse + compile (random, mutated)", programs, check_parse_and_compile,
          args.examples, args.seed)
    stage("mlpy.run (mutated seeds)", mutated(), check_run, args.examples // 2, args.seed)

    from mlpy.executor import AsyncMLExecutor
    executor = AsyncMLExecutor(max_workers=2, isolation="process")

    def in_process(source):
        result = executor.run_sync(source, timeout=0.3)
        if not result.success:
            assert result.error_type and result.error_type != "InternalError", result.error

    try:
        stage("process executor (mutated seeds)", mutated(), in_process, args.examples // 5,
              args.seed)
    finally:
        executor.shutdown(wait=True, cancel_pending=True)


if __name__ == "__main__":
    main()
