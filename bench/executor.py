"""Executor throughput and overhead for `result = 2 + 2;`, measured against running the same
compiled program directly on this thread, in the same run.

    python bench/executor.py [--n 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from a checkout

import mlpy  # noqa: E402
from mlpy.executor import AsyncMLExecutor  # noqa: E402
from mlpy.executor.pool import Job, WorkerPool  # noqa: E402
from mlpy.runner import execute  # noqa: E402
from mlpy.runtime.context import ExecutionContext, OutputSink  # noqa: E402
from mlpy.runtime.namespace import new_namespace  # noqa: E402

CODE = "result = 2 + 2;"


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

    async def sequential(timeout):
        await executor.execute(CODE, timeout=timeout)
        started = time.perf_counter()
        for _ in range(n):
            result = await executor.execute(CODE, timeout=timeout)
        assert result.value == 4
        return (time.perf_counter() - started) / n

    async def concurrent(batch=64):
        started = time.perf_counter()
        done = 0
        while done < n:
            results = await asyncio.gather(*[executor.execute(CODE, timeout=5.0)
                                             for _ in range(batch)])
            done += len(results)
        assert all(r.value == 4 for r in results)
        return (time.perf_counter() - started) / done

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


if __name__ == "__main__":
    main()
