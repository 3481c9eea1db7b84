"""The compile cache is bounded in bytes, not only in entries: a client sending many large
distinct programs cannot make the server hold hundreds of megabytes of compiled code."""

from __future__ import annotations

import gc
import tracemalloc

import mlpy
from mlpy import program

LINE = "function f{i}_{n}(a, b) {{ x = a + b * {n}; if (x > 3) {{ print(x); }} return [x, {{k: a}}]; }}\n"


def large_program(n: int, size: int = 20_000) -> str:
    lines, length, i = [], 0, 0
    while length < size:
        line = LINE.format(i=i, n=n)
        lines.append(line)
        length += len(line)
        i += 1
    return "".join(lines)


def test_many_large_programs_keep_a_bounded_cache():
    program.clear_cache()
    mlpy.compile(large_program(999))                 # the parser and its tables exist already
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(40):                         # 40 x 20 kB distinct programs
            assert mlpy.compile(large_program(n)).code is not None
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        program.clear_cache()
    # a compiled program holds ~16-40 bytes per source character: unbounded, the 40 would
    # stay (about 15 MB); with the large-program cache keeping four, about 5 MB is held
    assert grown < 10 * (1 << 20), f"the compile cache grew by {grown / (1 << 20):.1f} MiB"


def test_small_programs_are_still_cached():
    program.clear_cache()
    first = mlpy.compile("x = 1;")
    assert mlpy.compile("x = 1;") is first
    big = large_program(0, 10_000)
    assert mlpy.compile(big) is mlpy.compile(big)    # a large one too, among the last four
