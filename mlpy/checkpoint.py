"""Session checkpoints: a session's ML state as a versioned JSON record, and back.

A durable session (the server's SQLite or Redis session store) is written after each cell
and re-created from its checkpoint in a new worker: after the worker died, after a restart,
or in another server process.  The record is plain JSON behind a one-line header, never
pickle, so a record an attacker could touch can at worst name ML values, and ML source that
is parsed and refused unless it is exactly one function definition.

    mlpy-checkpoint/1 sha256=<hex digest of the body>      (or hmac-sha256=, with a key)
    {"imports": ["math"], "bindings": [["a", 1], ...], "lost": [{"name": .., "reason": ..}]}

A value is JSON where JSON says the same thing: null, true, false, strings, integers within
±2**53 and finite floats.  Everything else is an object with one tag:

    {"int": "-0x1f"}                  an integer beyond ±2**53 (hex: exact at any size)
    {"float": "inf" | "-inf" | "nan"}
    {"array": [...], "id": n}         an array; n names it for later references
    {"object": {...}, "id": n}        an object (string keys, in order)
    {"error": {...}, "id": n}         a caught error value
    {"ref": n}                        the array/object/function n again (shared or cyclic)
    {"function": "<ML source>", "id": n}   a function of the session, re-created from source
    {"builtin": "print"}              a builtin function
    {"member": ["math", "sqrt"]}      a function of an imported module
    {"module": "math"}                an imported module

What has no value form (a closure's captured variables, an iterator, a library object, a
host object) is not written: its variable is listed under "lost" with the reason, and a
restore reports it.  `docs/server.md` documents the format for other readers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import types
from collections.abc import Callable
from typing import Any

from .language import IDENTIFIER, RESERVED_WORDS, ml_name, py_name
from .runtime import helper_names as H
from .runtime.builtins import BUILTINS
from .runtime.values import ErrorValue, MLIterator, MLModule, MLObject

MAGIC = b"mlpy-checkpoint/1 "
VERSION = 1
MAX_BYTES = 16 << 20             # a record larger than this is refused, on write and on read
MAX_DEPTH = 400                  # nesting written; deeper values are reported lost
_SAFE_INT = 1 << 53


class CheckpointError(ValueError):
    """A record that is not a checkpoint this version wrote (tampered, truncated, too big)."""


class _Unrestorable(Exception):
    """A value with no checkpoint form; its variable is reported lost."""


# -- writing -----------------------------------------------------------------------------------
def dump(ns: dict, user_variables: Callable[[dict], dict[str, Any]], *,
         key: bytes | None = None, max_bytes: int = MAX_BYTES) -> bytes:
    """The checkpoint of session namespace `ns` (`user_variables` lists its ML bindings).
    Raises CheckpointError when the record would be larger than `max_bytes`."""
    variables = user_variables(ns)
    size = _measure(list(variables.values()), max_bytes)
    if size > max_bytes:
        raise CheckpointError(f"the session's state takes more than {max_bytes} bytes as a "
                              f"checkpoint (the limit)")
    writer = _Writer(ns)
    bindings, lost = [], []
    for name, value in variables.items():
        mark = writer.next_id
        try:
            bindings.append([name, writer.value(value, 0)])
        except _Unrestorable as why:
            writer.forget_from(mark)
            lost.append({"name": name, "reason": str(why)})
        except RecursionError:
            writer.forget_from(mark)
            lost.append({"name": name, "reason": "nested too deeply to be saved"})
    body = json.dumps({"imports": list(ns.get(H.MODULES, {})), "bindings": bindings,
                       "lost": lost}, separators=(",", ":"), allow_nan=False).encode("ascii")
    record = _header(body, key) + body
    if len(record) > max_bytes:
        raise CheckpointError(f"the session's state takes {len(record)} bytes as a checkpoint, "
                              f"more than the limit of {max_bytes}")
    return record


def _measure(values: list, budget: int) -> int:
    """A lower bound of the JSON size of `values`, counted only up to `budget`: a state too
    large to save is refused before any of it is encoded (a worker has little memory)."""
    size = 0
    seen: set[int] = set()
    todo = list(values)
    while todo and size <= budget:
        value = todo.pop()
        cls = type(value)
        if cls is str:
            size += len(value) + 3
        elif cls is int:
            size += 2 + value.bit_length() // 4
        elif cls is list or cls is dict or cls is ErrorValue:
            if id(value) in seen:
                size += 10
                continue
            seen.add(id(value))
            size += 12 + len(value)
            if cls is list:
                todo.extend(value)
            else:
                for k, v in value.items():
                    size += len(k) + 3 if type(k) is str else 0
                    todo.append(v)
        else:
            size += 4
    return size


def _header(body: bytes, key: bytes | None) -> bytes:
    if key:
        return MAGIC + b"hmac-sha256=" + hmac.new(key, body, "sha256").hexdigest().encode() + b"\n"
    return MAGIC + b"sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n"


class _Writer:
    def __init__(self, ns: dict):
        self.ns = ns
        self.ids: dict[int, tuple[int, Any]] = {}    # id(container) -> (number, container)
        self.next_id = 0
        self._members: dict[int, list[str]] | None = None

    def forget_from(self, mark: int) -> None:
        """Drop the ids given to a variable that turned out lost (nothing refers to them)."""
        self.ids = {k: v for k, v in self.ids.items() if v[0] < mark}
        self.next_id = mark

    def _new_id(self, value: Any) -> int:
        number = self.next_id
        self.next_id += 1
        self.ids[id(value)] = (number, value)
        return number

    def value(self, value: Any, depth: int) -> Any:
        cls = type(value)
        if value is None or cls is bool or cls is str:
            return value
        if cls is int:
            return value if -_SAFE_INT <= value <= _SAFE_INT else {"int": hex(value)}
        if cls is float:
            return value if math.isfinite(value) else {"float": repr(value)}
        seen = self.ids.get(id(value))
        if seen is not None:
            return {"ref": seen[0]}
        if depth > MAX_DEPTH:
            raise _Unrestorable(f"nested deeper than {MAX_DEPTH} levels")
        if cls is list:
            number = self._new_id(value)
            return {"array": [self.value(item, depth + 1) for item in value], "id": number}
        if cls is dict or cls is ErrorValue:
            number = self._new_id(value)
            items = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise _Unrestorable("an object with a key that is not a string")
                items[k] = self.value(v, depth + 1)
            return {"error" if cls is ErrorValue else "object": items, "id": number}
        if cls is types.FunctionType:
            return self.function(value)
        if cls is MLModule:
            if value.description == "package":
                raise _Unrestorable("a package of user modules (import it again)")
            return {"module": value.ml_name}
        return self.other(value)

    def function(self, fn: types.FunctionType) -> Any:
        if fn.__globals__ is not self.ns:
            return self.library_function(fn)
        if fn.__closure__:
            raise _Unrestorable("a function that keeps variables of the function that made "
                                "it (a closure)")
        source = fn.__doc__
        if not isinstance(source, str):
            raise _Unrestorable("a function whose ML source is not known")
        return {"function": source, "id": self._new_id(fn)}

    def library_function(self, fn: Any) -> Any:
        name = _builtin_names().get(id(fn))
        if name is not None:
            return {"builtin": name}
        if self._members is None:
            self._members = {}
            for dotted, module in self.ns.get(H.MODULES, {}).items():
                for member, item in list(module.members.items()):
                    self._members.setdefault(id(item), [dotted, member])
        found = self._members.get(id(fn))
        if found is not None:
            return {"member": found}
        raise _Unrestorable("a function of a user module or the host (not saved)")

    def other(self, value: Any) -> Any:
        if isinstance(value, MLIterator):
            raise _Unrestorable("an iterator (its position cannot be saved)")
        if isinstance(value, MLObject):
            raise _Unrestorable(f"a library object ({value.ml_type}) with no value form")
        if callable(value):
            return self.library_function(value)
        raise _Unrestorable(f"a host value of type {type(value).__name__}")


def _builtin_names() -> dict[int, str]:
    """id(builtin function) -> its ML name (the Python names differ: print is `print_`)."""
    global _BUILTIN_NAMES
    if _BUILTIN_NAMES is None:
        _BUILTIN_NAMES = {id(fn): name for name, fn in BUILTINS.items() if callable(fn)}
    return _BUILTIN_NAMES


_BUILTIN_NAMES: dict[int, str] | None = None


# -- reading -----------------------------------------------------------------------------------
class Checkpoint:
    """A verified, parsed record: what `restore` binds."""

    def __init__(self, imports: list[str], bindings: list[list], lost: list[dict]):
        self.imports = imports
        self.bindings = bindings
        self.lost = lost


def load(record: bytes, *, key: bytes | None = None, max_bytes: int = MAX_BYTES) -> Checkpoint:
    """Verify and parse a record; CheckpointError says what is wrong with it."""
    if not isinstance(record, (bytes, bytearray)):
        raise CheckpointError("checkpoint rejected: not bytes")
    if len(record) > max_bytes:
        raise CheckpointError(f"checkpoint rejected: {len(record)} bytes, more than the "
                              f"limit of {max_bytes}")
    head, newline, body = bytes(record).partition(b"\n")
    if not newline or not head.startswith(MAGIC):
        raise CheckpointError("checkpoint rejected: not an mlpy checkpoint of version 1")
    digest = head[len(MAGIC):]
    if not hmac.compare_digest(digest, _header(body, key)[len(MAGIC):-1]):
        raise CheckpointError("checkpoint rejected: its digest does not match its contents "
                              "(tampered, truncated or written with another key)")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise CheckpointError(f"checkpoint rejected: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise CheckpointError("checkpoint rejected: the body is not a JSON object")
    imports, bindings, lost = data.get("imports"), data.get("bindings"), data.get("lost")
    if not (isinstance(imports, list) and all(isinstance(i, str) for i in imports)):
        raise CheckpointError("checkpoint rejected: 'imports' is not a list of names")
    if not isinstance(bindings, list) or not isinstance(lost, list):
        raise CheckpointError("checkpoint rejected: 'bindings' and 'lost' must be lists")
    for pair in bindings:
        if not (isinstance(pair, list) and len(pair) == 2 and _is_ml_name(pair[0])):
            raise CheckpointError(f"checkpoint rejected: bad binding {str(pair)[:80]}")
    for item in lost:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                and isinstance(item.get("reason"), str)):
            raise CheckpointError("checkpoint rejected: bad 'lost' entry")
    return Checkpoint(imports, bindings, lost)


def _is_ml_name(name: Any) -> bool:
    return (isinstance(name, str) and bool(IDENTIFIER.match(name)) and not name.startswith("__")
            and name not in RESERVED_WORDS)


RunSource = Callable[[str, dict], Any]
"""`run(source, namespace)`: run ML source there; returns an error message, or None."""


def restore(checkpoint: Checkpoint, ns: dict, run: RunSource,
            make_function: Callable[[str], Any]) -> list[dict]:
    """Bind the checkpoint's state into the fresh session namespace `ns`; returns what could
    not be restored (the record's own `lost`, then what failed now): [{name, reason}].

    `run` re-runs the imports; `make_function(source)` returns the function an ML definition
    makes (or raises ValueError with why not)."""
    lost = list(checkpoint.lost)
    for dotted in checkpoint.imports:
        problem = run(f"import {dotted};", ns) if _is_dotted(dotted) else "not a module name"
        if problem:
            lost.append({"name": dotted, "reason": f"import failed: {problem}"})
    reader = _Reader(ns, make_function)
    for name, encoded in checkpoint.bindings:
        try:
            value = reader.value(encoded)
        except _Unrestorable as why:
            lost.append({"name": name, "reason": str(why)})
            continue
        ns[py_name(name)] = value
    return lost


def _is_dotted(name: str) -> bool:
    return all(_is_ml_name(part) for part in name.split("."))


class _Reader:
    def __init__(self, ns: dict, make_function: Callable[[str], Any]):
        self.ns = ns
        self.make_function = make_function
        self.ids: dict[int, Any] = {}

    def _register(self, encoded: dict, value: Any) -> Any:
        number = encoded.get("id")
        if type(number) is not int or number in self.ids:
            raise CheckpointError("checkpoint rejected: a container without a fresh 'id'")
        self.ids[number] = value
        return value

    def value(self, encoded: Any) -> Any:
        cls = type(encoded)
        if encoded is None or cls in (bool, str, float):
            return encoded
        if cls is int:
            if not -_SAFE_INT <= encoded <= _SAFE_INT:
                raise CheckpointError("checkpoint rejected: a large integer not in hex form")
            return encoded
        if cls is list or cls is not dict:
            raise CheckpointError(f"checkpoint rejected: a bare {cls.__name__} value")
        tag = next((k for k in encoded if k != "id"), None)
        body = encoded.get(tag) if tag else None
        if tag == "array" and type(body) is list:
            out: list = self._register(encoded, [])
            out.extend(self.value(item) for item in body)
            return out
        if tag in ("object", "error") and type(body) is dict:
            obj: dict = self._register(encoded, ErrorValue() if tag == "error" else {})
            for k, v in body.items():
                obj[k] = self.value(v)
            return obj
        if tag == "ref" and type(body) is int and body in self.ids:
            return self.ids[body]
        if tag == "int" and type(body) is str:
            try:
                return int(body, 16)
            except ValueError:
                pass
        if tag == "float" and body in ("inf", "-inf", "nan"):
            return float(body)
        if tag == "function" and type(body) is str:
            try:
                fn = self.make_function(body)
            except ValueError as why:
                raise _Unrestorable(f"its function could not be re-created: {why}") from None
            fn = types.FunctionType(fn.__code__, self.ns, fn.__name__)
            return self._register(encoded, fn)
        if tag == "builtin" and type(body) is str and body in BUILTINS:
            return BUILTINS[body]
        if tag == "member" and isinstance(body, list) and _is_pair(body):
            module = self.ns.get(H.MODULES, {}).get(body[0])
            if module is None or body[1] not in module.members:
                raise _Unrestorable(f"{body[0]}.{body[1]} is not available")
            return module.members[body[1]]
        if tag == "module" and type(body) is str:
            module = self.ns.get(H.MODULES, {}).get(body)
            if module is None:
                raise _Unrestorable(f"module {body} is not available")
            return module
        raise CheckpointError(f"checkpoint rejected: unknown value {str(encoded)[:80]}")


def _is_pair(body: Any) -> bool:
    return type(body) is list and len(body) == 2 and all(type(p) is str for p in body)


def ml_names(lost: list[dict]) -> list[str]:
    """The names in a `lost` list, as ML spells them."""
    return [ml_name(item["name"]) for item in lost]


def make_function(source: str, *, strict_security: bool = False) -> Any:
    """The function ML `source` defines, which must be exactly one `function` declaration or
    one arrow expression (a record is untrusted: anything else is refused, nothing runs)."""
    from . import nodes as N
    from .errors import MLError
    from .parser import parse
    from .program import compile as compile_ml
    from .runtime.namespace import new_namespace

    try:
        tree = parse(source, interactive=True)
        body = tree.body
        if len(body) != 1:
            raise ValueError("not one function definition")
        stmt = body[0]
        if isinstance(stmt, N.FunctionDef):
            name = py_name(stmt.name)
        elif isinstance(stmt, N.ExprStmt) and isinstance(stmt.expr, N.Arrow):
            name = H.DISPLAY
        else:
            raise ValueError("not one function definition")
        program = compile_ml(source, interactive=True, strict_security=strict_security)
    except MLError as err:
        raise ValueError(err.message) from None
    scratch = new_namespace()
    exec(program.code, scratch)       # only defines the function: nothing of it runs
    fn = scratch.get(name)
    if type(fn) is not types.FunctionType:
        raise ValueError("the definition made no function")
    return fn


def describe(record: bytes, *, key: bytes | None = None,
             max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The variables a record holds, as values to show (a session not yet restored): its
    functions re-made but bound to nothing, its modules as names."""
    from .runtime.namespace import new_namespace

    checkpoint = load(record, key=key, max_bytes=max_bytes)
    reader = _Reader(new_namespace(), make_function)
    out: dict[str, Any] = {}
    for name, encoded in checkpoint.bindings:
        try:
            out[name] = reader.value(encoded)
        except _Unrestorable:
            if isinstance(encoded, dict) and type(encoded.get("module")) is str:
                out[name] = MLModule(encoded["module"], {})
    return out
