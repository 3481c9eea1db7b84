"""Typed ML syntax tree. Every node carries the 1-based line and column where it starts.

Plain classes with `__slots__` and written-out `__init__`s, not dataclasses: a slotted
dataclass is made by running generated code and then re-creating the class, ~0.4 ms a class,
which made importing this module ~14 ms of every process's start (each `mlpy run`)."""

from __future__ import annotations

from typing import Union


class Node:
    """Equality and repr over the fields, in order (what the dataclasses gave)."""

    __slots__ = ("line", "column")
    _fields: tuple = ("line", "column")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fields = Node.__slots__ + cls.__slots__

    def __init__(self, line: int, column: int):
        self.line = line
        self.column = column

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({fields})"


# ---------------------------------------------------------------- expressions
class Number(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: int | float):
        self.line = line
        self.column = column
        self.value = value


class String(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: str):
        self.line = line
        self.column = column
        self.value = value


class Literal(Node):
    """true, false or null."""
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: bool | None):
        self.line = line
        self.column = column
        self.value = value


class Name(Node):
    __slots__ = ("name",)

    def __init__(self, line: int, column: int, name: str):
        self.line = line
        self.column = column
        self.name = name


class Array(Node):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int, items: list):
        self.line = line
        self.column = column
        self.items = items


class Object(Node):
    # properties: [(key: str, value: Expr)]
    __slots__ = ("properties",)

    def __init__(self, line: int, column: int, properties: list):
        self.line = line
        self.column = column
        self.properties = properties


class Arrow(Node):
    # body: an expression, or a list of statements when `block`
    __slots__ = ("params", "body", "block")

    def __init__(self, line: int, column: int,
                 params: list, body: object, block: bool = False):
        self.line = line
        self.column = column
        self.params = params
        self.body = body
        self.block = block


class Unary(Node):
    # op: "!" or "-"
    __slots__ = ("op", "operand")

    def __init__(self, line: int, column: int, op: str, operand: object):
        self.line = line
        self.column = column
        self.op = op
        self.operand = operand


class Binary(Node):
    # op: + - * / // % == != < > <= >=
    __slots__ = ("op", "left", "right")

    def __init__(self, line: int, column: int, op: str, left: object, right: object):
        self.line = line
        self.column = column
        self.op = op
        self.left = left
        self.right = right


class Logical(Node):
    # op: && ||
    __slots__ = ("op", "left", "right")

    def __init__(self, line: int, column: int, op: str, left: object, right: object):
        self.line = line
        self.column = column
        self.op = op
        self.left = left
        self.right = right


class Conditional(Node):
    __slots__ = ("test", "then", "otherwise")

    def __init__(self, line: int, column: int, test: object, then: object, otherwise: object):
        self.line = line
        self.column = column
        self.test = test
        self.then = then
        self.otherwise = otherwise


class Call(Node):
    __slots__ = ("func", "args")

    def __init__(self, line: int, column: int, func: object, args: list):
        self.line = line
        self.column = column
        self.func = func
        self.args = args


class Index(Node):
    __slots__ = ("obj", "index")

    def __init__(self, line: int, column: int, obj: object, index: object):
        self.line = line
        self.column = column
        self.obj = obj
        self.index = index


class Slice(Node):
    __slots__ = ("obj", "start", "stop", "step")

    def __init__(self, line: int, column: int,
                 obj: object, start: object | None, stop: object | None, step: object | None):
        self.line = line
        self.column = column
        self.obj = obj
        self.start = start
        self.stop = stop
        self.step = step


class Member(Node):
    __slots__ = ("obj", "name")

    def __init__(self, line: int, column: int, obj: object, name: str):
        self.line = line
        self.column = column
        self.obj = obj
        self.name = name


# ---------------------------------------------------------------- statements
class ExprStmt(Node):
    __slots__ = ("expr",)

    def __init__(self, line: int, column: int, expr: object):
        self.line = line
        self.column = column
        self.expr = expr


class Assign(Node):
    # target: Name, Index or Member
    __slots__ = ("target", "value")

    def __init__(self, line: int, column: int, target: object, value: object):
        self.line = line
        self.column = column
        self.target = target
        self.value = value


class Destructure(Node):
    # kind: "array" or "object"
    __slots__ = ("kind", "names", "value")

    def __init__(self, line: int, column: int, kind: str, names: list, value: object):
        self.line = line
        self.column = column
        self.kind = kind
        self.names = names
        self.value = value


class FunctionDef(Node):
    __slots__ = ("name", "params", "body")

    def __init__(self, line: int, column: int, name: str, params: list, body: list):
        self.line = line
        self.column = column
        self.name = name
        self.params = params
        self.body = body


class If(Node):
    # branches: [(test, body)]
    __slots__ = ("branches", "otherwise")

    def __init__(self, line: int, column: int, branches: list, otherwise: list | None):
        self.line = line
        self.column = column
        self.branches = branches
        self.otherwise = otherwise


class While(Node):
    __slots__ = ("test", "body")

    def __init__(self, line: int, column: int, test: object, body: list):
        self.line = line
        self.column = column
        self.test = test
        self.body = body


class For(Node):
    __slots__ = ("var", "iterable", "body")

    def __init__(self, line: int, column: int, var: str, iterable: object, body: list):
        self.line = line
        self.column = column
        self.var = var
        self.iterable = iterable
        self.body = body


class Try(Node):
    # handler: the first except clause's body
    __slots__ = ("body", "handler", "handler_name", "finally_body")

    def __init__(self, line: int, column: int,
                 body: list, handler: list | None, handler_name: str | None, finally_body: list | None):
        self.line = line
        self.column = column
        self.body = body
        self.handler = handler
        self.handler_name = handler_name
        self.finally_body = finally_body


class Throw(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: object):
        self.line = line
        self.column = column
        self.value = value


class Return(Node):
    __slots__ = ("value",)

    def __init__(self, line: int, column: int, value: object | None):
        self.line = line
        self.column = column
        self.value = value


class Break(Node):
    __slots__ = ()

    def __init__(self, line: int, column: int):
        self.line = line
        self.column = column


class Continue(Node):
    __slots__ = ()

    def __init__(self, line: int, column: int):
        self.line = line
        self.column = column


class Nonlocal(Node):
    __slots__ = ("names",)

    def __init__(self, line: int, column: int, names: list):
        self.line = line
        self.column = column
        self.names = names


class Import(Node):
    # path: ["lib", "util"]
    __slots__ = ("path", "alias")

    def __init__(self, line: int, column: int, path: list, alias: str | None):
        self.line = line
        self.column = column
        self.path = path
        self.alias = alias


class Capability(Node):
    # items: [("resource"|"allow", kind, pattern)]
    __slots__ = ("name", "items")

    def __init__(self, line: int, column: int, name: str, items: list | None = None):
        self.line = line
        self.column = column
        self.name = name
        self.items = [] if items is None else items


class Param(Node):
    __slots__ = ("name", "annotation")

    def __init__(self, line: int, column: int, name: str, annotation: str | None = None):
        self.line = line
        self.column = column
        self.name = name
        self.annotation = annotation


class Program(Node):
    # interactive_tail: the last statement omitted its ';' (interactive)
    __slots__ = ("body", "interactive_tail")

    def __init__(self, line: int, column: int, body: list, interactive_tail: bool = False):
        self.line = line
        self.column = column
        self.body = body
        self.interactive_tail = interactive_tail



Expr = Union[Number, String, Literal, Name, Array, Object, Arrow, Unary, Binary, Logical,
             Conditional, Call, Index, Slice, Member]
