"""Output forwarding (batching, order, threads) and executor settings."""

import asyncio
import threading

import pytest

from mlpy.executor import ExecutorSettings, Limits
from mlpy.executor.output import LoopOutput, ThreadOutput, coalesce

pytestmark = pytest.mark.timeout(30)


def test_coalesce_joins_runs_of_one_stream_in_order():
    items = [("stdout", "a"), ("stdout", "b"), ("stderr", "e"), ("stdout", "c")]
    assert coalesce(items) == [("stdout", "ab"), ("stderr", "e"), ("stdout", "c")]
    assert coalesce([]) == []


def test_loop_output_delivers_on_the_loop_in_batches():
    async def main():
        got, threads = [], set()

        def callback(stream, text):
            threads.add(threading.get_ident())
            got.append((stream, text))

        out = LoopOutput(asyncio.get_running_loop(), callback, interval=0.05)

        def writer():
            for i in range(500):
                out.write("stdout", f"{i}\n")
        thread = threading.Thread(target=writer)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        out.flush()
        return got, threads, threading.get_ident()
    got, threads, loop_thread = asyncio.run(main())
    assert "".join(t for _, t in got) == "".join(f"{i}\n" for i in range(500))
    assert threads == {loop_thread}
    assert len(got) < 500


def test_thread_output_ends_with_done():
    seen = []
    out = ThreadOutput(lambda s, t: seen.append((s, t)))
    out.write("stdout", "a")
    out.write("stdout", "b")
    out.write("stderr", "c")
    out.done()
    assert out.wait(1)
    assert seen == [("stdout", "ab"), ("stderr", "c")]
    assert not ThreadOutput(None).wait(0.01)


def test_settings_effective_timeout():
    settings = ExecutorSettings(limits=Limits(default_timeout=2.0, max_timeout=10.0))
    assert settings.effective_timeout(None) == 2.0
    assert settings.effective_timeout(5) == 5.0
    assert settings.effective_timeout(50.0) == 10.0
    assert ExecutorSettings().effective_timeout(None) is None
    with pytest.raises(ValueError):
        settings.effective_timeout(-1)
    with pytest.raises(TypeError):
        settings.effective_timeout("5")
    with pytest.raises(ValueError):
        ExecutorSettings(stop_grace=0)
