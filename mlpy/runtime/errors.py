"""Python exceptions -> ML error values (spec §7.1): a type name and an ML-worded message.

No Python class name, internal identifier or file path survives into the message.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from ..language import ml_name
from ..lexer import normalise_newlines
from .helper_names import GETM
from .signals import MLThrow
from .values import ErrorValue, display

if TYPE_CHECKING:
    import dis

ML_TYPES = ("ZeroDivisionError", "IndexError", "KeyError", "TypeError", "ValueError",
            "NameError", "AttributeError", "OverflowError", "RecursionError", "RuntimeError")
_ALIASES = {"UnboundLocalError": "NameError", "StopIteration": "RuntimeError",
            "UnicodeError": "ValueError", "MemoryError": "LimitError",
            "NotImplementedError": "RuntimeError", "ArithmeticError": "ValueError",
            "LookupError": "KeyError", "FloatingPointError": "OverflowError",
            "re.error": "ValueError", "error": "ValueError"}

_PY_TYPE_NAMES = {
    "NoneType": "null", "int": "number", "float": "number", "str": "string", "list": "array",
    "dict": "object", "bool": "boolean", "function": "function", "ErrorValue": "object",
    "MLModule": "module", "builtin_function_or_method": "function", "method": "function",
    "MLIterator": "iterator", "tuple": "array",
}
_INTERNAL = re.compile(r"__ml_kw_(\w+)|__ml_arrow_\d+|__ml_\w+")


def _ml_type_word(match: re.Match) -> str:
    return "'" + _PY_TYPE_NAMES.get(match.group(1), match.group(1)) + "'"


_LOCALS_PREFIX = re.compile(r"(?:\b[A-Za-z_]\w*\.<locals>\.)+")


def _clean_internal(text: str) -> str:
    def repl(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)
        if m.group(0).startswith("__ml_arrow_"):
            return "<function>"
        return "<internal>"
    return _INTERNAL.sub(repl, text)


def ml_type_of(exc: BaseException) -> str:
    if isinstance(exc, MLThrow):
        return exc.ml_type
    for cls in type(exc).__mro__:
        name = cls.__name__
        if name in ML_TYPES:
            return name
        if name in _ALIASES:
            return _ALIASES[name]
    return "RuntimeError"


def _huge_index_message(exc: BaseException) -> str:
    """Spec §4's IndexError for an index too large for Python (`a[10**30]`), which Python
    words as "cannot fit 'int' into an index-sized integer": found from the instruction that
    failed (an assignment) or the container it read, when a name or constant gave it."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "list index out of range"
    frame, code = tb.tb_frame, tb.tb_frame.f_code
    import dis          # (here: only this rare error needs it, and it costs every start)
    instructions = [i for i in dis.get_instructions(code) if i.offset <= tb.tb_lasti]
    if not instructions:
        return "list index out of range"
    if instructions[-1].opname == "STORE_SUBSCR":
        return "list assignment index out of range"
    # the container is the value under the index: walk back to the push that left exactly
    # one more value (the index) above it
    height = 0
    for at in range(len(instructions) - 2, -1, -1):
        instr = instructions[at]
        try:
            height += dis.stack_effect(instr.opcode, instr.arg)
        except ValueError:
            break
        if height >= 2:
            value = None
            if height == 2 and instr.opname == "PUSH_NULL":
                value = _member_read(instructions[at + 1:], frame)
            elif height == 2 and instr.argval == GETM:      # (NULL + __ml_getm in functions)
                value = _member_read(instructions[at:], frame)
            elif height == 2 and instr.opname.startswith("LOAD_"):
                value = _loaded(instr, frame)
            if type(value) is str:
                return "string index out of range"
            break
    return "list index out of range"


def _member_read(container: list, frame: Any) -> Any:
    """The value of `o.name` read again (`o.k[big]`), from the instructions that computed the
    container: the compiler reads a member as `o.get("k")` (a plain object) or, last in the
    code, `__ml_getm(o, "k")`; both only read, so reading again is harmless. None when the
    container came from anything else."""
    code = [i for i in container if i.opname not in ("PRECALL", "CACHE")]
    if (len(code) < 5 or code[0].argval != GETM or not code[1].opname.startswith("LOAD_")
            or code[2].opname != "LOAD_CONST" or type(code[2].argval) is not str
            or code[3].opname != "CALL"):
        return None
    obj, key = _loaded(code[1], frame), code[2].argval
    if type(obj) is dict:
        return obj.get(key)
    getm = _loaded(code[0], frame)
    try:
        return getm(obj, key) if callable(getm) else None
    except Exception:            # (only a better message was at stake)
        return None


def _loaded(instr: dis.Instruction, frame: Any) -> Any:
    name = instr.argval
    if instr.opname == "LOAD_CONST":
        return name
    for scope in (frame.f_locals, frame.f_globals):
        if isinstance(name, str) and name in scope:
            return scope[name]
    return None


def ml_message(exc: BaseException) -> str:
    """The ML wording of a Python exception's message."""
    if isinstance(exc, MLThrow):
        return exc.ml_message
    kind = ml_type_of(exc)
    if kind == "ZeroDivisionError":
        return "division by zero"
    if kind == "RecursionError":
        return "maximum recursion depth exceeded"
    if isinstance(exc, MemoryError):
        # the host ran out of memory building a value (spec §11.1 LimitError; a worker
        # process reports MemoryLimitError instead)
        return "out of memory: a value is too large for the host's memory"
    if isinstance(exc, KeyError) and exc.args:
        key = exc.args[0]
        return f"'{key}'" if type(key) is str else display(key)
    text = str(exc) if exc.args else type(exc).__name__
    if kind == "IndexError" and "index-sized integer" in text:
        try:
            return _huge_index_message(exc)
        except Exception:    # (reading the failed code is best effort; never a host error)
            return "list index out of range"
    if kind == "TypeError":
        # ML type names where Python would say 'NoneType', 'dict', ... (but the comparison
        # message keeps Python's names, as the spec shows)
        if "not supported between instances" not in text:
            text = re.sub(r"'(\w+)'", _ml_type_word, text)
        text = text.replace("'NoneType'", "'null'")
        # unquoted Python type names (`list indices must be integers or slices, not NoneType`)
        text = re.sub(r"(\bnot |must be )(NoneType|dict|list|str|int|float|tuple|bool)\b",
                      lambda m: m.group(1) + _PY_TYPE_NAMES[m.group(2)], text)
        text = text.replace(" or None,", " or null,")
    # a nested function's Python qualname (`outer.<locals>.inner() missing ...`): ML names
    # a function by its own name
    text = _LOCALS_PREFIX.sub("", text)
    # Python's advice on its integer-to-string limit names a module ML cannot reach
    text = text.replace("; use sys.set_int_max_str_digits() to increase the limit", "")
    if kind == "AttributeError" and " object has no attribute " in text:
        text = text.replace(" object has no attribute ", " object has no property ")
    return _clean_internal(text)


def error_value(exc: BaseException) -> ErrorValue:
    if isinstance(exc, MLThrow):
        value = exc.value
        return value if type(value) is ErrorValue else ErrorValue(value)
    return ErrorValue({"message": ml_message(exc), "type": ml_type_of(exc)})


# -- the ML call stack of an uncaught error -------------------------------------------------

MAX_FRAMES = 20           # frames kept of a deeper stack: the outermost and innermost ones
_REPEATS_SHOWN = 3        # a frame repeated more often (recursion) is shown this often


def ml_stack(exc: BaseException) -> list[dict]:
    """The ML frames of `exc`'s traceback, outermost first: `{"file", "program", "line",
    "column", "function", "source", "repeat", "skipped"}`. `file` is the script or module
    file (None for code given as text: a cell, a request), `program` the id of the program
    text the frame's code came from (`mlpy.program.program_id`), `function` the ML
    function's name (None at top level, `<function>` for an arrow function), `source` the
    frame's ML line; `repeat` says the frame came that many more times in a row (recursion),
    `skipped` that many calls after it are left out (a stack deeper than MAX_FRAMES).
    Python frames (the runtime, the library) are never included."""
    frames: list[dict] = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith("<ml"):
            line, column = _position(code, tb.tb_lasti, tb.tb_lineno)
            name = code.co_name
            if name.startswith("<") and name != "<module>" and frames:
                # a comprehension's own code: its position belongs to the frame around it
                frames[-1].update(line=line, column=column)
            else:
                frames.append({"code": code, "line": line, "column": column, "repeat": 0,
                               "skipped": 0})
        tb = tb.tb_next
    collapsed: list[dict] = []
    run = 0
    for f in frames:
        last = collapsed[-1] if collapsed else None
        if last is not None and (last["code"], last["line"], last["column"]) == (
                f["code"], f["line"], f["column"]):
            run += 1
            if run >= _REPEATS_SHOWN:
                last["repeat"] += 1
                continue
        else:
            run = 0
        collapsed.append(f)
    if len(collapsed) > MAX_FRAMES:
        head = MAX_FRAMES // 3
        tail = collapsed[-(MAX_FRAMES - head):]
        dropped = collapsed[head:-len(tail)]
        collapsed[head - 1]["skipped"] = sum(1 + f["repeat"] for f in dropped)
        collapsed = collapsed[:head] + tail
    return [_frame(f) for f in collapsed]


def _position(code: Any, lasti: int, lineno: int) -> tuple[int, int | None]:
    line, column = lineno, None
    for start, _end, col, _end_col in itertools.islice(code.co_positions(), lasti // 2,
                                                       lasti // 2 + 1):
        if start is not None:
            line = start
        if col is not None:
            column = col + 1
    return line, column


def _frame(f: dict) -> dict:
    code = f["code"]
    inner = code.co_filename[3:-1]           # "<ml:name#id>" -> ":name#id"
    name_part, _, program = inner.rpartition("#")
    file = name_part[1:] if name_part.startswith(":") else None
    if code.co_name == "<module>":
        function = None
    elif code.co_name.startswith("__ml_arrow"):
        function = "<function>"
    else:
        function = ml_name(code.co_name)
    return {"file": file, "program": program or None, "line": f["line"],
            "column": f["column"], "function": function,
            "source": _source_line(code, f["line"]), "repeat": f["repeat"],
            "skipped": f["skipped"]}


def _source_line(code: Any, line: int) -> str | None:
    from ..program import program_source
    text = program_source(code.co_filename)
    if text is not None:
        lines = normalise_newlines(text).split("\n")
        return lines[line - 1] if 1 <= line <= len(lines) else None
    # the program is gone from the caches: the function's own ML text (its docstring)
    # still holds the line, unless it is the first one (cut at the function's keyword)
    doc = code.co_consts[0] if code.co_consts and isinstance(code.co_consts[0], str) else None
    if doc is None or line <= code.co_firstlineno:
        return None
    lines = normalise_newlines(doc).split("\n")
    at = line - code.co_firstlineno
    return lines[at] if at < len(lines) else None
