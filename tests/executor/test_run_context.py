"""A run cut short by a host stop must not reach into later runs.

The executor's stop can skip the exit of the run's context manager. Were that manager a
suspended generator, the garbage collector would later finalise it on whichever thread it
happened to run, and its `finally` would reset *that* thread's context in the middle of
another program (seen as output escaping to the host's stdout)."""

import gc
import threading

from mlpy.runtime.context import ExecutionContext, OutputSink, current, using


def test_an_abandoned_context_manager_cannot_reset_another_threads_context():
    def cut_short():
        manager = using(ExecutionContext(output=OutputSink()))
        manager.__enter__()            # entered; its exit never runs (as under a stop)
        cycle = [manager]
        cycle.append(cycle)            # only the cyclic collector can free it

    worker = threading.Thread(target=cut_short)
    worker.start()
    worker.join()

    mine = ExecutionContext(output=OutputSink())
    with using(mine):
        gc.collect()                   # finalisers run here, on this thread
        assert current() is mine
        print_target = current().output
    assert print_target is mine.output


def test_using_restores_the_previous_context():
    outer = ExecutionContext(output=OutputSink())
    inner = ExecutionContext(output=OutputSink())
    with using(outer):
        with using(inner):
            assert current() is inner
        assert current() is outer


def test_mlpy_run_with_a_timeout_never_raises_a_late_stop():
    """`mlpy.run(timeout=)` on a deep recursion: the timeout could land after the program
    had failed, while its long stack was being read, and escape `mlpy.run` as a raw
    TimeoutStop (found by bench/fuzz.py). Every run returns a result, and no stop is left
    pending for the caller's next lines."""
    import mlpy

    source = "function f(n) { return f(n + 1); }\nf(0);"
    kinds = set()
    for i in range(40):
        result = mlpy.run(source, timeout=0.002 + i * 0.003)
        assert not result.success
        kinds.add(result.error_type)
        for _ in range(2000):          # bytecodes where a leftover stop would surface
            pass
    assert kinds <= {"TimeoutError", "RecursionError"}, kinds


def test_mlpy_run_with_a_timeout_keeps_a_stop_in_a_finaliser_out_of_the_hosts_hook():
    """A stop (or the recursion limit) that lands in a finaliser the garbage collector runs on
    the program's thread is the program's doing: `mlpy.run(timeout=)` filters it from
    sys.unraisablehook ("Exception ignored in ... TimeoutStop") as the thread pool does;
    any other unraisable exception, and one raised outside a run, still reach the hook."""
    import sys

    import mlpy
    from mlpy.runtime.signals import TimeoutStop

    class Finalised:
        def __init__(self, error):
            self.error = error

        def __del__(self):
            raise self.error

    def drop(kind):
        Finalised(TimeoutStop("late stop") if kind == "stop" else ValueError("a host bug"))

    seen: list = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        result = mlpy.run('drop("stop"); drop("stop"); result = 1;', context={"drop": drop},
                          timeout=5)
        assert result.value == 1
        assert seen == []
        assert mlpy.run('drop("bug"); result = 2;', context={"drop": drop},
                        timeout=5).value == 2
        assert [type(u.exc_value) for u in seen] == [ValueError]
        drop("stop")                    # not in a run: passed on
        assert [type(u.exc_value) for u in seen] == [ValueError, TimeoutStop]
    finally:
        sys.unraisablehook = previous
