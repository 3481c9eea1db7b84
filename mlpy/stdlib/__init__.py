"""The ML standard library: one Python module per ML module, loaded on `import name;`.

Each module file builds a `LibraryModule` named `module`:

    module = LibraryModule("math", "Mathematical functions and constants")

    @module.function()                       # ML name = Python name
    def sqrt(x): ...

    @module.function("indexOf", "index_of")  # ML name and aliases
    def index_of(l, x): ...

    @module.function(capabilities=("file.read",))
    def read(path, encoding="utf-8"): ...    # refused unless the host granted file.read

    module.constant("pi", math.pi)

Nothing is imported until a program imports the module, so an unused module costs nothing.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Callable

from ..runtime.context import current
from ..runtime.describe import describe
from ..runtime.ops import cap_result
from ..runtime.values import MLModule, MLObject

MODULE_NAMES = (
    "args", "collections", "console", "crypto", "csv", "datetime", "display", "env", "file",
    "functional",
    "http", "json", "log", "math", "path", "random", "regex",
)


class LibraryModule:
    """The declaration of one ML module: its functions, constants and their capabilities."""

    def __init__(self, name: str, description: str):
        self.name = name
        self.description = description
        self.members: dict[str, Any] = {}
        self.capabilities: set[str] = set()

    def function(self, *names: str, capabilities: tuple[str, ...] = ()):
        """Register the decorated Python function under `names` (default: its own name)."""

        def register(fn: Callable) -> Callable:
            ml_names = names or (fn.__name__,)
            qualified = f"{self.name}.{ml_names[0]}"
            if capabilities:
                @functools.wraps(fn)
                def target(*args):
                    ctx = current()
                    for cap in capabilities:
                        ctx.require(cap, qualified)
                    return cap_result(fn(*args), qualified)

                self.capabilities.update(capabilities)
            else:
                @functools.wraps(fn)
                def target(*args):
                    return cap_result(fn(*args), qualified)
            describe(target, f"{self.name}.{ml_names[0]}", fn, capabilities)
            for ml_name in ml_names:
                self.members[ml_name] = target
            return fn

        return register

    def constant(self, name: str, value: Any) -> None:
        self.members[name] = value

    def build(self) -> MLModule:
        return MLModule(self.name, dict(self.members), self.description,
                        tuple(sorted(self.capabilities)))


_declarations: dict[str, LibraryModule] = {}


def declaration(name: str) -> LibraryModule | None:
    """The LibraryModule of a standard module (imported on first use), or None."""
    if name not in MODULE_NAMES:
        return None
    decl = _declarations.get(name)
    if decl is None:
        decl = importlib.import_module(f"{__name__}.{name}").module
        _declarations[name] = decl
    return decl


def load(name: str) -> MLModule | None:
    """A fresh module object for one namespace, or None if `name` is not a library module."""
    decl = declaration(name)
    return decl.build() if decl is not None else None


def object_types() -> dict[str, type[MLObject]]:
    """ML type name -> class of every library object (Pattern, Match, DateTimeObject, ...),
    for help by run-time type; imports every library module."""
    for name in MODULE_NAMES:
        declaration(name)
    found: dict[str, type[MLObject]] = {}
    pending = list(MLObject.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(__name__ + ".") and cls.ml_members:
            found.setdefault(cls.ml_type, cls)
    return found
