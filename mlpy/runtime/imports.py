"""`import name;` at run time: standard-library modules, user modules, refusals (spec §3)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from ..errors import MLError
from ..security import import_problem
from .context import current
from .signals import ImportFailure, SecurityViolation
from .values import MLModule


# module state key: code filename of each user module loaded -> (its file as shown, its source)
SOURCES = "__ml_user_sources"


def find_user_module(path: tuple, origin: Path | None) -> Path | None:
    """The file `a/b.ml` for `import a.b;`: the importing file's folder, then import paths."""
    folders = ([origin] if origin is not None else []) + list(current().import_paths)
    relative = Path(*path[:-1], path[-1] + ".ml")
    for folder in folders:
        candidate = Path(folder) / relative
        if candidate.is_file():
            return candidate
    return None


def check_import(path: tuple, origin: Path | None) -> None:
    """Raise the error `import path;` would raise (used before a program starts)."""
    from ..stdlib import MODULE_NAMES
    dotted = ".".join(path)
    problem = import_problem(path)
    if problem:
        raise SecurityViolation(problem)
    if len(path) == 1 and path[0] in MODULE_NAMES:
        return
    if find_user_module(path, origin) is None:
        raise ImportFailure(f"no ML module named '{dotted}'")


def make_importer(ns: dict, origin: Path | None):
    """The `__ml_import` helper of one namespace (modules run once per namespace)."""

    def ml_import(path: tuple, bind_root: bool) -> Any:
        from .. import stdlib
        dotted = ".".join(path)
        cache = ns["__ml_modules"]
        module = cache.get(dotted)
        if module is None:
            problem = import_problem(path)
            if problem:
                raise SecurityViolation(problem)
            module = stdlib.load(path[0]) if len(path) == 1 else None
            if module is None:
                module = _load_user_module(path, origin)
            cache[dotted] = module
            current().module_state("__ml_imported", set).add(dotted)   # for modules()
        if not bind_root or len(path) == 1:
            return module
        # `import lib.util;` binds `lib`, a package whose member `util` is the module
        root = ns.get(path[0])
        if type(root) is not MLModule or root.description != "package":
            root = MLModule(path[0], {}, "package")
        node = root
        for part in path[1:-1]:
            child = node.members.get(part)
            if type(child) is not MLModule:
                child = MLModule(part, {}, "package")
                cast(dict, node.members)[part] = child
            node = child
        cast(dict, node.members)[path[-1]] = module     # a package's members are a dict
        return root

    return ml_import


def _load_user_module(path: tuple, origin: Path | None) -> MLModule:
    from .. import program as _program
    from .namespace import LiveMembers, new_namespace
    file = find_user_module(path, origin)
    dotted = ".".join(path)
    if file is None:
        raise ImportFailure(f"no ML module named '{dotted}'")
    # Kept on the execution, not the namespace: if a host stop skips the `finally` below,
    # the stopped run's context goes with it and the next run does not see a false cycle.
    # A module is loaded once per program (or session) and shared by all its importers,
    # state included.
    loaded = current().module_state("__ml_user_modules", dict)
    key = str(file.resolve())
    shared = loaded.get(key)
    if shared is not None:
        return shared
    loading = current().importing
    if key in loading:
        raise ImportFailure(f"circular import of ML module '{dotted}'")
    loading.add(key)
    try:
        source = file.read_text(encoding="utf-8")
        # an error raised in the module is reported with its own file and source line, and
        # its call-stack frames name the file (`<ml:FILE>`, the CLI's own convention)
        display = os.path.relpath(key) if not os.path.relpath(key).startswith("..") else key
        filename = f"<ml:{display}>"
        current().module_state(SOURCES, dict)[filename] = (display, source)
        try:
            compiled = _program.compile(source, filename=filename)
        except MLError as exc:
            exc.file, exc.file_source = display, source
            raise
        ns = new_namespace(origin=file.parent)
        exec(compiled.code, ns)
    finally:
        loading.discard(key)
    module = MLModule(path[-1], LiveMembers(ns), f"user module {dotted}")
    loaded[key] = module
    return module
