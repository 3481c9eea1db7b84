"""Typed ML syntax tree. Every node carries the 1-based line and column where it starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(slots=True)
class Node:
    line: int
    column: int


# ---------------------------------------------------------------- expressions
@dataclass(slots=True)
class Number(Node):
    value: int | float


@dataclass(slots=True)
class String(Node):
    value: str


@dataclass(slots=True)
class Literal(Node):
    """true, false or null."""
    value: bool | None


@dataclass(slots=True)
class Name(Node):
    name: str


@dataclass(slots=True)
class Array(Node):
    items: list


@dataclass(slots=True)
class Object(Node):
    properties: list  # [(key: str, value: Expr)]


@dataclass(slots=True)
class Arrow(Node):
    params: list
    body: object       # an expression, or a list of statements when `block`
    block: bool = False


@dataclass(slots=True)
class Unary(Node):
    op: str            # "!" or "-"
    operand: object


@dataclass(slots=True)
class Binary(Node):
    op: str            # + - * / // % == != < > <= >=
    left: object
    right: object


@dataclass(slots=True)
class Logical(Node):
    op: str            # && ||
    left: object
    right: object


@dataclass(slots=True)
class Conditional(Node):
    test: object
    then: object
    otherwise: object


@dataclass(slots=True)
class Call(Node):
    func: object
    args: list


@dataclass(slots=True)
class Index(Node):
    obj: object
    index: object


@dataclass(slots=True)
class Slice(Node):
    obj: object
    start: object | None
    stop: object | None
    step: object | None


@dataclass(slots=True)
class Member(Node):
    obj: object
    name: str


# ---------------------------------------------------------------- statements
@dataclass(slots=True)
class ExprStmt(Node):
    expr: object


@dataclass(slots=True)
class Assign(Node):
    target: object     # Name, Index or Member
    value: object


@dataclass(slots=True)
class Destructure(Node):
    kind: str          # "array" or "object"
    names: list
    value: object


@dataclass(slots=True)
class FunctionDef(Node):
    name: str
    params: list
    body: list


@dataclass(slots=True)
class If(Node):
    branches: list     # [(test, body)]
    otherwise: list | None


@dataclass(slots=True)
class While(Node):
    test: object
    body: list


@dataclass(slots=True)
class For(Node):
    var: str
    iterable: object
    body: list


@dataclass(slots=True)
class Try(Node):
    body: list
    handler: list | None          # the first except clause's body
    handler_name: str | None
    finally_body: list | None


@dataclass(slots=True)
class Throw(Node):
    value: object


@dataclass(slots=True)
class Return(Node):
    value: object | None


@dataclass(slots=True)
class Break(Node):
    pass


@dataclass(slots=True)
class Continue(Node):
    pass


@dataclass(slots=True)
class Nonlocal(Node):
    names: list


@dataclass(slots=True)
class Import(Node):
    path: list         # ["lib", "util"]
    alias: str | None


@dataclass(slots=True)
class Capability(Node):
    name: str
    items: list = field(default_factory=list)   # [("resource"|"allow", kind, pattern)]


@dataclass(slots=True)
class Param(Node):
    name: str
    annotation: str | None = None


@dataclass(slots=True)
class Program(Node):
    body: list
    interactive_tail: bool = False   # the last statement omitted its ';' (interactive)


Expr = Union[Number, String, Literal, Name, Array, Object, Arrow, Unary, Binary, Logical,
             Conditional, Call, Index, Slice, Member]
