"""A longer fuzzing run than the test suite's: random and mutated ML through parse, compile,
mlpy.run and the process executor, where only ML errors may come out.

    python bench/fuzz.py [--examples 5000] [--seed N] [--minutes M]

Prints the number of programs per stage; exits 1 on the first violation (Hypothesis shows
the minimal failing program). With --minutes, rounds of every stage run with seeds N, N+1, ...
until M minutes have passed (a round that has started is finished).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                          # run from a checkout
sys.path.insert(0, str(ROOT / "tests" / "security"))   # the shared strategies

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from fuzzing import (  # noqa: E402
    check_deep, check_parse_and_compile, check_run, deep_programs, mutated, programs)


def stage(name, strategy, check, examples, rng) -> int:
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
    return count


def _at_depth(depth: int, source: str) -> None:
    """check_deep with `depth` host frames already on the stack."""
    if depth == 0:
        return check_deep(source)
    return _at_depth(depth - 1, source)


def _in_thread(source: str) -> None:
    """check_deep on a thread with a small stack (as a host's worker thread may have)."""
    failure: list = []

    def work() -> None:
        try:
            check_deep(source)
        except BaseException as exc:       # re-raised on the fuzzing thread
            failure.append(exc)

    previous = threading.stack_size()
    threading.stack_size(512 * 1024)
    try:
        thread = threading.Thread(target=work)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if failure:
        raise failure[0]


def fuzz_round(examples: int, rng: int, executor) -> int:
    """Every stage once with seed `rng`; returns the number of programs checked."""
    total = stage("parse + compile (random, mutated)", programs, check_parse_and_compile,
                  examples, rng)
    total += stage("mlpy.run (mutated seeds)", mutated(), check_run, examples // 2, rng)
    total += stage("deep/long programs (§7.2)", deep_programs(), check_deep,
                   max(examples // 25, 10), rng)
    total += stage("deep/long programs, deep host stack", deep_programs(),
                   lambda source: _at_depth(random.Random(len(source)).randrange(0, 900), source),
                   max(examples // 50, 5), rng)
    total += stage("deep/long programs, small-stack thread", deep_programs(), _in_thread,
                   max(examples // 50, 5), rng)

    def in_process(source):
        result = executor.run_sync(source, timeout=0.3)
        if not result.success:
            assert result.error_type and result.error_type != "InternalError", result.error

    def deep_in_process(source):
        result = executor.run_sync(source, timeout=10)
        if not result.success:
            assert result.error_type and result.error_type != "InternalError", result.error
            assert "Traceback" not in result.error and "statically" not in result.error

    total += stage("process executor (mutated seeds)", mutated(), in_process, examples // 5, rng)
    total += stage("process executor (deep/long programs)", deep_programs(), deep_in_process,
                   max(examples // 50, 5), rng)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="repeat rounds (seed, seed+1, ...) until this much time has passed")
    args = parser.parse_args()
    from mlpy.executor import AsyncMLExecutor
    executor = AsyncMLExecutor(max_workers=2, isolation="process")
    started = time.monotonic()
    total, rounds = 0, 0
    try:
        while True:
            print(f"fuzzing with seed {args.seed + rounds}")
            total += fuzz_round(args.examples, args.seed + rounds, executor)
            rounds += 1
            if time.monotonic() - started >= args.minutes * 60:
                break
    finally:
        executor.shutdown(wait=True, cancel_pending=True)
    print(f"{total} programs in {rounds} round(s), {(time.monotonic() - started) / 60:.1f} min: "
          "no host traceback")


if __name__ == "__main__":
    main()
