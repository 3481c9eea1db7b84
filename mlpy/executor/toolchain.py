"""The compiler and runtime entry points the executor calls, imported on first use so that
`import mlpy.executor` stays cheap for hosts that only configure it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class Toolchain(NamedTuple):
    compile: Callable[..., Any]           # mlpy.compile
    new_namespace: Callable[..., dict]    # runtime.namespace.new_namespace
    user_variables: Callable[[dict], Any]  # runtime.namespace.user_variables
    execute: Callable[..., Any]           # runner.execute


_TOOLCHAIN: Toolchain | None = None


def toolchain() -> Toolchain:
    global _TOOLCHAIN
    if _TOOLCHAIN is None:
        import mlpy
        from mlpy import runner
        from mlpy.runtime import namespace

        _TOOLCHAIN = Toolchain(mlpy.compile, namespace.new_namespace, namespace.user_variables,
                               runner.execute)
    return _TOOLCHAIN
