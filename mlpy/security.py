"""ML's security policy (spec §11): which names, members and imports a program may not reach.

One module answers the questions; each answer is the refusal message (None when allowed), so
every message is written once. The compiler asks them statically (in strict mode and for
`check`, a refusal is a compile-time SecurityError); the runtime guards (`ops`, the namespace's
guarded global, `runtime.imports`) ask the same questions while the program runs. The table
"spec rule -> static check -> runtime guard -> test" is in docs/internals.md.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def refused_name(name: str) -> str:
    """The message for a reserved or deny-listed name (for guards that checked the rule)."""
    return f"'{name}' is not allowed"


def refused_member(name: str) -> str:
    """The message for an `_` member (for guards that check the rule inline, on hot paths)."""
    return f"access to member '{name}' is not allowed"


def identifier_problem(name: str) -> str | None:
    """Names starting with `__` are reserved for the runtime's helpers (spec §11.1): ML may
    neither bind nor read them."""
    if name.startswith("__"):
        return refused_name(name)
    return None


def denied_name_problem(name: str) -> str | None:
    """A deny-listed name (`eval`, `open`, ...) read where the program never bound it."""
    if name in DENIED_NAMES:
        return refused_name(name)
    return None


def member_problem(name: str) -> str | None:
    """Members starting with `_` are never reachable (spec §11.2): no dunder walk to the
    interpreter through any value."""
    if name.startswith("_"):
        return refused_member(name)
    return None


def import_problem(path: Sequence[str]) -> str | None:
    """Python system modules (and, through the first segment, their submodules) and reserved
    names are never importable (spec §11.3)."""
    for part in path:
        problem = identifier_problem(part)
        if problem:
            return problem
    if path[0] in FORBIDDEN_MODULES:
        return f"import of '{'.'.join(path)}' is not allowed"
    return None
