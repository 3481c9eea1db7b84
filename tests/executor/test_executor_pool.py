"""The stoppable worker pool under the executor, driven with plain Python jobs."""

import threading
import time

import pytest

from mlpy.executor.jobs import Job
from mlpy.executor.threads import WorkerPool
from mlpy.runtime.stops import Stop, clear_pending, raise_in_thread, stop_class, timeout_message
from mlpy.runtime.signals import HostStop, InterruptStop, TimeoutStop

pytestmark = pytest.mark.timeout(60)


def stopped(job):
    return ("stopped", job.stop.message if job.stop else None)


def submit(pool, fn, timeout=None):
    done = threading.Event()
    job = Job(fn, stopped, timeout=timeout)
    job.add_done_callback(lambda _job: done.set())
    pool.submit(job)
    return job, done


def wait_all(events, timeout=20):
    deadline = time.monotonic() + timeout
    for event in events:
        assert event.wait(max(deadline - time.monotonic(), 0)), "a job never finished"


@pytest.fixture
def pool():
    p = WorkerPool(4, stop_grace=0.5, reinject_interval=0.01)
    yield p
    p.shutdown(wait=False, cancel_pending=True, stop=Stop("shutdown", InterruptStop, "bye"))


def spin(_job):
    while True:
        pass


def test_raise_in_thread_cannot_be_caught_as_exception():
    seen = []

    def target():
        try:
            try:
                n = 0
                while True:
                    n += 1
            except Exception:          # what ML `except` compiles to
                seen.append("caught by except Exception")
        except HostStop as stop:
            seen.append(stop.message)

    thread = threading.Thread(target=target)
    thread.start()
    time.sleep(0.05)
    assert raise_in_thread(thread.ident, stop_class(TimeoutStop, timeout_message(5.0)))
    thread.join(5)
    assert seen == ["Execution timeout after 5.0 seconds"]
    clear_pending(thread.ident)  # harmless for a finished thread


def test_stop_class_keeps_the_family():
    cls = stop_class(TimeoutStop, "m")
    assert issubclass(cls, TimeoutStop) and not issubclass(cls, Exception)
    assert cls.__name__ == "TimeoutStop" and cls().message == "m"
    assert stop_class(TimeoutStop, "m") is cls


def test_results_and_fifo(pool):
    jobs = [submit(pool, lambda _job, i=i: i * i) for i in range(50)]
    wait_all([done for _, done in jobs])
    assert [job.result for job, _ in jobs] == [i * i for i in range(50)]


def test_twenty_spinning_jobs_time_out_and_capacity_returns(pool):
    first, done = submit(pool, lambda _job: "warm")
    wait_all([done])
    baseline = threading.active_count()
    started = time.monotonic()
    jobs = [submit(pool, spin, timeout=0.2) for _ in range(20)]
    wait_all([done for _, done in jobs])
    # 5 waves of 0.2 s on 4 workers; generous bound for a loaded machine
    assert time.monotonic() - started < 10
    assert all(job.result == ("stopped", "Execution timeout after 0.2 seconds") for job, _ in jobs)
    after, done = submit(pool, lambda _job: 1 + 1)
    assert done.wait(1.0) and after.result == 2
    assert threading.active_count() <= baseline
    assert sum(t.is_alive() for t in pool.threads()) == 4
    assert pool.stats()["abandoned_total"] == 0


def test_finally_that_loops_is_stopped_too(pool):
    def stubborn(_job):
        try:
            while True:
                pass
        finally:
            n = 0
            while True:
                n += 1

    job, done = submit(pool, stubborn, timeout=0.2)
    assert done.wait(0.2 + 1.0)
    assert job.result == ("stopped", "Execution timeout after 0.2 seconds")
    assert pool.stats()["abandoned_total"] == 0


def test_timeout_counts_from_start_not_from_queueing():
    pool = WorkerPool(1, stop_grace=0.5)
    try:
        def sleepy(_job):
            time.sleep(0.4)
            return "slept"
        first, d1 = submit(pool, sleepy, timeout=2.0)
        second, d2 = submit(pool, sleepy, timeout=2.0)   # waits 0.4 s in the queue
        third, d3 = submit(pool, lambda _job: time.sleep(0.3) or "ok", timeout=0.5)
        wait_all([d1, d2, d3])
        assert (first.result, second.result, third.result) == ("slept", "slept", "ok")
    finally:
        pool.shutdown()


def test_stuck_c_call_is_abandoned_and_replaced(pool):
    # time.sleep is one C call: an injected exception waits until it returns.
    jobs = [submit(pool, lambda _job: time.sleep(3) or "late", timeout=0.1) for _ in range(4)]
    started = time.monotonic()
    wait_all([done for _, done in jobs], timeout=3)
    assert time.monotonic() - started < 2.5
    assert all(job.result[0] == "stopped" for job, _ in jobs)
    stats = pool.stats()
    assert stats["workers"] == 4 and stats["abandoned_total"] == 4
    # full capacity: four quick jobs run at once while the old threads are still asleep
    barrier = threading.Barrier(4, timeout=2)
    quick = [submit(pool, lambda _job: barrier.wait() is not None) for _ in range(4)]
    wait_all([done for _, done in quick], timeout=3)
    assert all(job.result is True for job, _ in quick)


def test_request_stop_of_running_and_queued_jobs():
    pool = WorkerPool(1, stop_grace=0.5)
    try:
        running, d1 = submit(pool, spin)
        queued, d2 = submit(pool, lambda _job: "never")
        time.sleep(0.05)
        interrupt = Stop("interrupt", InterruptStop, "Execution interrupted")
        assert pool.request_stop(queued, interrupt)
        assert d2.wait(1) and queued.result == ("stopped", "Execution interrupted")
        assert pool.request_stop(running, interrupt)
        assert d1.wait(1) and running.result == ("stopped", "Execution interrupted")
        assert not pool.request_stop(running, interrupt)    # already finished
        after, d3 = submit(pool, lambda _job: "next")
        assert d3.wait(1) and after.result == "next"
    finally:
        pool.shutdown()


def test_a_stop_never_reaches_the_next_job(pool):
    # Jobs finishing right around their deadline: a late stop must not hit what follows.
    def around(_job, n=[0]):
        end = time.monotonic() + 0.01
        while time.monotonic() < end:
            pass
        return "ran"

    jobs = [submit(pool, around, timeout=0.01) for _ in range(200)]
    followers = [submit(pool, lambda _job, i=i: i) for i in range(200)]
    wait_all([done for _, done in jobs + followers], timeout=30)
    assert [job.result for job, _ in followers] == list(range(200))
    assert {job.result for job, _ in jobs} <= {"ran", ("stopped", "Execution timeout after 0.01 seconds")}


def test_job_raising_keeps_the_worker():
    pool = WorkerPool(1)
    try:
        bad, d1 = submit(pool, lambda _job: 1 / 0)
        good, d2 = submit(pool, lambda _job: "fine")
        wait_all([d1, d2])
        assert good.result == "fine" and pool.stats()["workers"] == 1
    finally:
        pool.shutdown()


def test_shutdown_waits_and_refuses_new_work():
    pool = WorkerPool(2)
    job, done = submit(pool, lambda _job: time.sleep(0.1) or "done")
    pool.shutdown(wait=True)
    assert done.is_set() and job.result == "done"
    assert not any(t.is_alive() for t in pool.threads())
    with pytest.raises(RuntimeError):
        pool.submit(Job(lambda _job: None, stopped))


def test_threads_are_daemons(pool):
    job, done = submit(pool, lambda _job: threading.current_thread().daemon)
    wait_all([done])
    assert job.result is True


def test_stops_landing_while_a_worker_starts_its_compile_thread_stay_with_the_worker():
    """Timeouts of a millisecond or so land while a worker starts the thread that compiles
    its program. CPython gives a thread being started its parent's id until it runs, so a
    stop sent to the worker then landed in the new compile thread ("Exception ignored in
    thread started by ... mlpy-compile ... TimeoutStop"), the worker hung in Thread.start
    holding the compile lock, and every later job of the pool hung and was abandoned.
    Every job must end (stopped or done) with no thread abandoned and nothing unraisable."""
    import asyncio
    import random
    import sys

    from mlpy.executor import AsyncMLExecutor

    unraisable: list = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    rnd = random.Random(7)

    async def main(ex):
        async def one(i):
            # distinct sources (no compile cache), a few hundred terms: compiling takes
            # about as long as the timeout
            terms = " + ".join(str(rnd.randint(1, 9)) for _ in range(rnd.randint(50, 400)))
            timeout = rnd.choice([0.0005, 0.001, 0.002, 0.005])
            # a hang guard, not a timing assertion: a hung job fails the test, not the run
            return await asyncio.wait_for(ex.execute(f"x{i} = {terms};", timeout=timeout), 60)

        results = []
        for batch in range(100):
            results += await asyncio.gather(*(one(batch * 8 + k) for k in range(8)))
        return results

    try:
        with AsyncMLExecutor(max_workers=4, isolation="thread") as ex:
            results = asyncio.run(main(ex))
            assert ex.stats()["abandoned_total"] == 0
    finally:
        sys.unraisablehook = previous
    assert len(results) == 800
    assert all(r.success or r.stopped_by == "timeout" for r in results)
    assert any(r.stopped_by == "timeout" for r in results)
    assert unraisable == []


def test_the_watchdog_is_not_woken_once_per_run_and_still_stops_a_late_run():
    """Back-to-back short runs that hold the GIL (as a program does) wake the watchdog
    about once a BUSY_WAKE, not once each: it used to get the GIL only after each run had
    ended, find nothing running and sleep until the next start woke it (a GIL handoff per
    run). A run that then overstays its timeout is still stopped."""
    from mlpy.executor import threads

    pool = WorkerPool(1, stop_grace=0.5, reinject_interval=0.01)
    try:
        wait_all([submit(pool, lambda job: "warm", timeout=5.0)[1]])
        wakes = []
        notify = pool._wake.notify
        pool._wake.notify = lambda n=1: (wakes.append(n), notify(n))

        def spin(job):                # half a millisecond of Python, never releasing the GIL
            end = time.perf_counter() + 0.0005
            while time.perf_counter() < end:
                pass
            return "ran"

        started = time.monotonic()
        for _ in range(200):
            job, done = submit(pool, spin, timeout=5.0)
            wait_all([done])
            assert job.result == "ran"
        busy = time.monotonic() - started
        assert len(wakes) <= 3 + busy / threads.BUSY_WAKE, (len(wakes), busy)

        def forever(job):
            while True:
                pass

        job, done = submit(pool, forever, timeout=0.3)
        wait_all([done], timeout=10)
        assert job.result == ("stopped", timeout_message(0.3)), job.result
    finally:
        pool.shutdown(wait=False, cancel_pending=True, stop=Stop("shutdown", InterruptStop, "bye"))
