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
