"""Executor throughput and overhead for `result = 2 + 2;`, measured against running the same
compiled program directly on this thread, in the same run.

    python bench/executor.py [--n 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout

import mlpy  # noqa: E402
from mlpy.executor import AsyncMLExecutor  # noqa: E402
from mlpy.executor.jobs import Job  # noqa: E402
from mlpy.executor.threads import WorkerPool  # noqa: E402
from mlpy.runner import execute  # noqa: E402
from mlpy.runtime.context import ExecutionContext, OutputSink  # noqa: E402
from mlpy.runtime.namespace import new_namespace  # noqa: E402

CODE = "result = 2 + 2;"



async def _sequential(executor, n: int, timeout):
    """Seconds per `await execute()`, one at a time (after one warm-up run)."""
    await executor.execute(CODE, timeout=timeout)
    started = time.perf_counter()
    for _ in range(n):
        result = await executor.execute(CODE, timeout=timeout)
    assert result.value == 4
    return (time.perf_counter() - started) / n


async def _concurrent(executor, n: int, batch: int = 64):
    """Seconds per execution with `batch` executions awaited together."""
    started = time.perf_counter()
    done = 0
    while done < n:
        results = await asyncio.gather(*[executor.execute(CODE, timeout=5.0)
                                         for _ in range(batch)])
        done += len(results)
    assert all(r.value == 4 for r in results)
    return (time.perf_counter() - started) / done

def per_call(fn, n: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-process", action="store_true", help="skip isolation=\"process\"")
    args = parser.parse_args()
    n = args.n
    program = mlpy.compile(CODE)

    def raw():                     # the compiled code alone, in a fresh namespace
        ns = new_namespace()
        exec(program.code, ns)
        assert ns["result"] == 4

    def direct():                  # what one execution needs without the executor
        ns = new_namespace()
        outcome = execute(program, ns, ExecutionContext(output=OutputSink()))
        assert outcome.value == 4

    t_raw = per_call(raw, n)
    t_direct = per_call(direct, n)

    executor = AsyncMLExecutor(max_workers=args.workers)

    sequential = functools.partial(_sequential, executor, n)
    concurrent = functools.partial(_concurrent, executor, n)

    async def handoff():           # the floor: a no-op job through the same worker threads
        pool = WorkerPool(args.workers)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        for _ in range(n):
            fut = loop.create_future()
            job = Job(lambda _job: 4, lambda _job: None)
            job.add_done_callback(
                lambda _job, fut=fut: loop.call_soon_threadsafe(fut.set_result, _job.result))
            pool.submit(job)
            await fut
        pool.shutdown()
        return (time.perf_counter() - started) / n

    t_handoff = asyncio.run(handoff())
    t_seq = asyncio.run(sequential(None))
    t_seq_timeout = asyncio.run(sequential(5.0))
    t_conc = asyncio.run(concurrent())
    t_sync = per_call(lambda: executor.run_sync(CODE), n)
    executor.shutdown()

    us = 1e6
    print(f"program: {CODE!r}   n={n}   workers={args.workers}")
    print(f"  compiled code alone (exec, fresh namespace) : {t_raw * us:8.1f} us/exec")
    print(f"  runner.execute on this thread (baseline)    : {t_direct * us:8.1f} us/exec")
    print(f"  thread handoff alone (no-op job, awaited)   : {t_handoff * us:8.1f} us/exec")
    rows = [("await execute(), one at a time", t_seq),
            ("await execute(timeout=5.0), one at a time", t_seq_timeout),
            ("run_sync()", t_sync),
            ("execute() x64 concurrently", t_conc)]
    for label, t in rows:
        print(f"  {label:<44}: {t * us:8.1f} us/exec  {1 / t:9.0f} exec/s  "
              f"overhead {(t - t_direct) * us:7.1f} us  ratio {t / t_direct:5.2f}x")
    print(f"overhead of execute() over running the compiled code directly: "
          f"{(t_seq_timeout - t_direct) * us:.1f} us (target <= 100 us), of which the bare "
          f"event-loop/thread handoff is {t_handoff * us:.1f} us")
    if not args.no_process:
        process_section(args, n, t_direct)


def process_section(args, n: int, t_direct: float) -> None:
    """isolation="process": round trip of a trivial program and how fast a killed worker is
    replaced (with the spare process, and cold without one)."""
    import os
    import signal
    from mlpy.executor import ExecutorSettings

    n = max(n // 5, 200)
    executor = AsyncMLExecutor(max_workers=args.workers, isolation="process")
    executor.pool.wait_ready()

    sequential = functools.partial(_sequential, executor, n)
    concurrent = functools.partial(_concurrent, executor, n)

    t_seq = asyncio.run(sequential(5.0))
    t_sync = per_call(lambda: executor.run_sync(CODE, timeout=5.0), n)
    t_conc = asyncio.run(concurrent())

    def respawn(ex, kill) -> float:
        """Seconds from a worker's death to the next trivial program's result."""
        ex.pool.wait_ready()
        kill(ex)
        started = time.perf_counter()
        assert ex.run_sync(CODE, timeout=5.0).value == 4
        return time.perf_counter() - started

    def memory_bomb(ex):
        result = ex.run_sync('a = []; while (true) { a.append("x" * 1000000); }', timeout=10)
        assert result.error_type == "MemoryLimitError", result

    def sigkill(ex):
        os.kill(ex.stats()["pids"][0], signal.SIGKILL)
        time.sleep(0.05)          # let the parent notice before timing the next run

    def session_start() -> float:
        """Seconds from executor.session() to the first trivial cell's result (its own process,
        from the warm spare); the spare is refilled before the next sample."""
        executor.pool.wait_ready()
        started = time.perf_counter()
        session = executor.session()
        assert session.run_sync("result = 1;").value == 1
        elapsed = time.perf_counter() - started
        session.close()
        return elapsed

    starts = sorted(session_start() for _ in range(15))
    t_bomb = min(respawn(executor, memory_bomb) for _ in range(5))
    t_spare = min(respawn(executor, sigkill) for _ in range(5))
    executor.shutdown()
    cold = AsyncMLExecutor(max_workers=1, isolation="process",
                           settings=ExecutorSettings(spare_workers=0))
    t_cold = min(respawn(cold, sigkill) for _ in range(3))
    cold.shutdown()

    us = 1e6
    print(f"isolation=\"process\"   n={n}   workers={args.workers}")
    for label, t in [("await execute(timeout=5.0), one at a time", t_seq),
                     ("run_sync(timeout=5.0)", t_sync),
                     ("execute() x64 concurrently", t_conc)]:
        print(f"  {label:<44}: {t * us:8.1f} us/exec  {1 / t:9.0f} exec/s  "
              f"overhead {(t - t_direct) * us:7.1f} us  ratio {t / t_direct:5.2f}x")
    print(f"  {'replacement after MemoryLimitError (spare)':<44}: {t_bomb * 1e3:8.1f} ms")
    print(f"  {'replacement after SIGKILL (spare)':<44}: {t_spare * 1e3:8.1f} ms")
    print(f"  {'new session + first cell (p50 / max of 15)':<44}: "
          f"{starts[len(starts) // 2] * 1e3:8.1f} ms / {starts[-1] * 1e3:.1f} ms")
    print(f"  {'replacement after SIGKILL (cold spawn)':<44}: {t_cold * 1e3:8.1f} ms")
    print(f"process round trip of a trivial program: {t_seq * 1e3:.3f} ms (target <= 1 ms); "
          f"respawn: {max(t_bomb, t_spare) * 1e3:.1f} ms with the spare, {t_cold * 1e3:.1f} ms "
          f"cold (target <= 500 ms)")


if __name__ == "__main__":
    main()
