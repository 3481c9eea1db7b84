"""Bounded fuzzing: random and mutated ML through parse, compile, run and the process
executor. Only ML errors (or success) may come out. A longer run: python bench/fuzz.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzzing import SEEDS, check_parse_and_compile, check_run, mutated, programs

pytestmark = pytest.mark.timeout(240)

FAST = settings(max_examples=500, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(programs)
def test_parse_and_compile_raise_only_ml_errors(source):
    check_parse_and_compile(source)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_running_mutated_programs_gives_only_ml_errors(source):
    check_run(source)


@pytest.fixture(scope="module")
def process_executor():
    from mlpy.executor import AsyncMLExecutor
    ex = AsyncMLExecutor(max_workers=2, isolation="process")
    yield ex
    ex.shutdown(wait=True, cancel_pending=True)


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated())
def test_process_executor_survives_mutated_programs(process_executor, source):
    result = process_executor.run_sync(source, timeout=0.3)
    if not result.success:
        assert result.error_type and isinstance(result.error, str)
        assert result.error_type != "InternalError", result.error


def test_seeds_are_valid_programs():
    import mlpy
    for seed in SEEDS:
        mlpy.compile(seed)
