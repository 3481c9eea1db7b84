"""The ML-facing description of a Python function: name, signature text, doc, capabilities.

help(), the kernel's completion/inspection and module_info() read these attributes. The
signature comes straight from the code object (inspect.signature costs too much at import
time for a whole library)."""

from __future__ import annotations

from typing import Callable

from .values import MLObject, ml_repr


def signature_text(fn: Callable, skip: int = 0) -> str:
    """`(x, digits=0, *values)` with defaults in ML spelling; `skip` leaves out the first
    parameters (a method's `self`)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return "(...)"
    names = code.co_varnames[:code.co_argcount]
    defaults = fn.__defaults__ or ()
    first_default = len(names) - len(defaults)
    parts = []
    for i, name in enumerate(names):
        if i < skip:
            continue
        if i >= first_default:
            default = defaults[i - first_default]
            shown = ml_repr(default) if default is None or isinstance(
                default, (bool, int, float, str, list, dict)) else "…"
            parts.append(f"{name}={shown}")
        else:
            parts.append(name)
    if code.co_flags & 0x04:                 # *args
        parts.append("*" + code.co_varnames[code.co_argcount + code.co_kwonlyargcount])
    return "(" + ", ".join(parts) + ")"


def describe(target: Callable, qualified: str, source: Callable | None = None,
             capabilities: tuple[str, ...] = ()) -> Callable:
    """Attach ml_name, ml_qualname, ml_signature, ml_doc and ml_capabilities to `target`."""
    source = source or target
    doc = (source.__doc__ or "").strip()
    facts = {"ml_name": qualified.rsplit(".", 1)[-1], "ml_qualname": qualified,
             "ml_capabilities": tuple(capabilities),
             "ml_signature": qualified + signature_text(source),
             "ml_doc": doc.splitlines()[0] if doc else ""}
    for name, value in facts.items():
        setattr(target, name, value)
    return target


def member_help(cls: type[MLObject], name: str) -> str | None:
    """Help of the method `name` of a library object type (ML's spelling, aliases included):
    `Pattern.match(text, pos=0, endpos=null)` and its docstring — the one text that help() and
    the kernel's Shift-Tab show; None when the type has no such method."""
    members = cls.ml_members
    attr = members.get(name) if isinstance(members, dict) else (name if name in members else None)
    fn = getattr(cls, attr, None) if attr else None
    if not callable(fn):
        return None
    doc = " ".join((fn.__doc__ or "").split())
    heading = f"{cls.ml_type}.{name}{signature_text(fn, skip=1)}"
    return f"{heading}\n\n{doc}" if doc else heading


def method_help(type_name: str, member: str) -> str | None:
    """Help of `value.member` for a value of ML type `type_name`: a string or array method
    (or `length`), or a library object's method; None when that type has no such member."""
    from .method_docs import METHOD_DOCS
    doc = METHOD_DOCS.get(type_name, {}).get(member)
    if doc is not None:
        return doc if member == "length" else f"{type_name} method {doc}"
    from ..stdlib import object_types
    cls = object_types().get(type_name)
    return member_help(cls, member) if cls is not None else None
