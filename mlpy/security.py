"""The names and imports ML may never reach (spec §11.1), shared by compiler and runtime."""

from __future__ import annotations

# Python builtins that would open a path to the interpreter: reading one the program did not
# bind itself is a SecurityError (the namespace has no Python builtins at all; this list makes
# the refusal explicit instead of a confusing NameError).
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "execfile", "open", "__import__", "globals", "locals", "vars",
    "dir", "breakpoint", "setattr", "delattr", "exit", "quit",
})

FORBIDDEN_MODULES = frozenset({
    "os", "sys", "subprocess", "shutil", "socket", "pickle", "marshal", "importlib", "ctypes",
    "builtins", "inspect", "gc", "types", "io", "pathlib", "threading",
})


def forbidden_import(first_segment: str) -> bool:
    """True for Python system modules (and, through the first segment, their submodules)."""
    return first_segment in FORBIDDEN_MODULES
