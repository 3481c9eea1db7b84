"""mlpy: the ML scripting language compiled to Python.

    import mlpy
    program = mlpy.compile("result = 2 + 2;")
    mlpy.run("print(1 + 1);").stdout          # "2\n"

Heavy parts (the parser, the executor) load on first use, so `import mlpy` stays cheap.
"""

from __future__ import annotations

from .errors import (MLCapabilityError, MLError, MLImportError, MLLimitError, MLRuntimeError,
                     MLSecurityError, MLSyntaxError, MLTimeoutError)

__version__ = "0.1.0"

__all__ = [
    "parse", "compile", "check", "run", "CompiledProgram", "AsyncMLExecutor", "AsyncMLResult",
    "Session", "ExecutorSettings", "MLError", "MLSyntaxError", "MLSecurityError", "MLRuntimeError",
    "MLCapabilityError", "MLTimeoutError", "MLLimitError", "MLImportError", "__version__",
]

_LAZY = {
    "parse": ("mlpy.parser", "parse"),
    "compile": ("mlpy.program", "compile"),
    "check": ("mlpy.program", "check"),
    "CompiledProgram": ("mlpy.program", "CompiledProgram"),
    "run": ("mlpy.runner", "run"),
    "RunResult": ("mlpy.runner", "RunResult"),
    "AsyncMLExecutor": ("mlpy.executor", "AsyncMLExecutor"),
    "AsyncMLResult": ("mlpy.executor", "AsyncMLResult"),
    "Session": ("mlpy.executor", "Session"),
    "ExecutorSettings": ("mlpy.executor", "ExecutorSettings"),
}


def __getattr__(name: str):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mlpy' has no attribute {name!r}") from None
    import importlib
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
