"""Completion, inspection (Shift-Tab) and is_complete for ML source.

Names come from four places: the session's variables (`Session.variables()`), the ML
keywords (spec §1), the builtins (`mlpy.runtime.builtins.BUILTINS`, each function carrying
`ml_signature`, `ml_doc`, `ml_capabilities`) and the standard library
(`mlpy.stdlib.MODULE_NAMES`, `mlpy.stdlib.declaration(name).members`). User functions are
described from the source that defined them (the kernel's history): ML has no docstrings, so
the `//` comment lines right above `function name(...)` serve as its documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pygments.token import Comment, Punctuation, String

from mlpy.language import IDENTIFIER_PATTERN, KEYWORD_HELP
from mlpy.runtime import ops
from mlpy.runtime.describe import method_help

from .lexer import BUILTINS as BUILTIN_NAMES, CONSTANTS, KEYWORDS, MLLexer
from .magics import MAGICS, MagicError, parse_cell

CODE_MAGICS = ("time", "python")        # magics that act on the code after them
KEYWORD_NAMES = tuple(sorted(set(KEYWORDS) | set(CONSTANTS)))
# the members of strings and arrays (spec §9): mlpy's own tables, plus the `length` property
STRING_METHODS = (*sorted(ops.STRING_METHODS), "length")
ARRAY_METHODS = (*sorted(ops.ARRAY_METHODS), "length")
_NAME = IDENTIFIER_PATTERN
_DOTTED_BEFORE = re.compile(rf"({_NAME}(?:\s*\.\s*{_NAME})*)\s*\.\s*({_NAME})?$")
_NAME_BEFORE = re.compile(rf"{_NAME}$")
_IMPORT_BEFORE = re.compile(rf"\bimport\s+({_NAME})?$")
_MAGIC_BEFORE = re.compile(r"(?:^|\n)\s*%([A-Za-z_]*)$")
_MODULE_REPR = re.compile(r"^<module ([A-Za-z_][\w.]*)>$")
_NAME_TAIL = re.compile(r"[A-Za-z0-9_]*")
# an expression completion may evaluate: names, `.name` and `[index]` with a literal or a
# name inside (no calls, no operators: nothing with a side effect)
_CHAIN = (rf"{_NAME}(?:\s*\.\s*{_NAME}|\s*\[\s*(?:\d+|\"[^\"\\\n]*\"|'[^'\\\n]*'|{_NAME})"
          rf"\s*\])*")
_CHAIN_DOT_BEFORE = re.compile(rf"(?<![\w.\]\)\"'])({_CHAIN})\s*\.\s*({_NAME})?$")
_KEY_BEFORE = re.compile(rf"(?<![\w.])({_CHAIN})\s*\[\s*([\"'])([^\"'\\\n]*)$")
_STRING_DOT_BEFORE = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*\.\s*"""
                                rf"({_NAME})?$")
_LITERAL_ARRAY_DOT_BEFORE = re.compile(rf"(?:^|[=(,\[:;{{]|return)\s*\[[^\[\]]*\]\s*\.\s*({_NAME})?$")


def in_string_or_comment(before: str) -> bool:
    """Whether the end of `before` (the text up to the cursor) is inside a string literal or
    a `//` comment, read by the same lexer that highlights ML."""
    tokens = [t for t in MLLexer().get_tokens(before) if t[1]]
    while tokens and tokens[-1][1] == "\n" and not before.endswith("\n"):
        tokens.pop()
    if not tokens:
        return False
    kind, text = tokens[-1]
    if kind in Comment:
        return "\n" not in text
    if kind in String:
        quote = text[0]
        if quote not in "\"'":
            return False
        body = text[1:]
        if not body.endswith(quote):
            return True
        trailing = len(body) - len(body[:-1].rstrip("\\")) - 1
        return trailing % 2 == 1          # an escaped quote: the string goes on
    return False


def completion_owner(code: str, cursor_pos: int) -> str | None:
    """The expression whose members (`o.`) or keys (`o["`) completion at the cursor needs
    from the running session, or None."""
    before = code[:cursor_pos]
    key = _KEY_BEFORE.search(before)
    if key:
        return key.group(1)
    if in_string_or_comment(before):
        return None
    dotted = _CHAIN_DOT_BEFORE.search(before)
    return dotted.group(1) if dotted else None


def members_query(owner: str) -> str:
    """ML that evaluates to [type, member names] of `owner` (its keys for an object)."""
    return (f"[typeof({owner}), typeof({owner}) == \"object\" ? keys({owner}) : "
            f"methods({owner})]")


def name_tail(code: str, pos: int) -> str:
    """The rest of the name the cursor at `pos` is inside of ("" when it is not in one)."""
    match = _NAME_TAIL.match(code, pos)
    return match.group(0) if match else ""


@dataclass
class Var:
    name: str
    type: str
    repr: str


def normalise_variables(raw: Any) -> list[Var]:
    """Accept the shapes `Session.variables()` may have: a dict name -> info, or a list of
    dicts/tuples/objects with name, type and repr."""
    out: list[Var] = []
    if raw is None:
        return out
    items: Iterable
    if isinstance(raw, dict):
        items = []
        for name, info in raw.items():
            if isinstance(info, dict):
                items.append({"name": name, **info})
            elif isinstance(info, (tuple, list)):
                items.append((name, *info))
            else:
                items.append({"name": name, "type": getattr(info, "type", "unknown"),
                              "repr": getattr(info, "repr", str(info))})
    else:
        items = raw
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            kind = item.get("type", "unknown")
            text = item.get("repr", item.get("value", ""))
        elif isinstance(item, (tuple, list)):
            name, kind, text = (list(item) + ["unknown", ""])[:3]
        else:
            name = getattr(item, "name", None)
            kind = getattr(item, "type", "unknown")
            text = getattr(item, "repr", "")
        if isinstance(name, str) and name:
            out.append(Var(name, str(kind), str(text)))
    return out


# -- library access, tolerant of what mlpy does not provide ----------------------------------

def builtins_table() -> dict[str, Any]:
    """ML builtin name -> function (with ml_signature/ml_doc where mlpy provides them)."""
    try:
        from mlpy.runtime.builtins import BUILTINS
        return dict(BUILTINS)
    except Exception:  # not there yet: names only (spec §8)
        return {name: None for name in BUILTIN_NAMES}


def module_names() -> tuple[str, ...]:
    try:
        from mlpy.stdlib import MODULE_NAMES
        return tuple(MODULE_NAMES)
    except Exception:
        return ()


def module_declaration(name: str):
    try:
        from mlpy.stdlib import declaration
        return declaration(name)
    except Exception:
        return None


def module_members(name: str) -> dict[str, Any]:
    decl = module_declaration(name)
    return dict(getattr(decl, "members", {}) or {}) if decl is not None else {}


def describe_function(fn: Any, name: str) -> str:
    signature = getattr(fn, "ml_signature", None) or f"{name}(...)"
    doc = getattr(fn, "ml_doc", "") or ""
    caps = getattr(fn, "ml_capabilities", None)
    parts = [signature]
    if doc:
        parts.append(doc)
    if caps is not None:
        parts.append("Requires: " + ", ".join(caps) if caps else "Capabilities: None required")
    return "\n\n".join(parts)


# -- the introspector ------------------------------------------------------------------------

class Introspector:
    def __init__(self, variables: Callable[[], list[Var]], sources: Callable[[], list[str]]):
        self._variables = variables
        self._sources = sources          # earlier cells, oldest first

    def variables(self) -> dict[str, Var]:
        try:
            return {v.name: v for v in self._variables()}
        except Exception:
            return {}

    # completion -----------------------------------------------------------------------------
    def complete(self, code: str, cursor_pos: int,
                 runtime: tuple[str, list[str]] | None = None) -> dict:
        """Matches at the cursor; `runtime` is (type, member names) of the expression
        before the `.` or `["` (completion_owner), when the kernel could ask the session."""
        before = code[:cursor_pos]
        # extend over the rest of a name the cursor is inside of
        after = name_tail(code, cursor_pos)
        cursor_end = cursor_pos + len(after)
        typed: dict[str, str] = {}
        magic = _MAGIC_BEFORE.search(before)
        dotted = _DOTTED_BEFORE.search(before)
        key = _KEY_BEFORE.search(before)
        string_dot = _STRING_DOT_BEFORE.search(before)
        array_dot = _LITERAL_ARRAY_DOT_BEFORE.search(before)
        if key:
            prefix = key.group(3)
            start = cursor_pos - len(prefix)
            cursor_end = cursor_pos
            if runtime is not None and runtime[0] == "object":
                typed = {name: "key" for name in runtime[1] if isinstance(name, str)}
        elif in_string_or_comment(before):
            prefix, start = "", cursor_pos
        elif string_dot:
            prefix = string_dot.group(2) or ""
            start = cursor_pos - len(prefix)
            typed = {name: "method" for name in STRING_METHODS}
        elif array_dot and not (dotted and _CHAIN_DOT_BEFORE.search(before)):
            prefix = array_dot.group(1) or ""
            start = cursor_pos - len(prefix)
            typed = {name: "method" for name in ARRAY_METHODS}
        elif runtime is not None and _CHAIN_DOT_BEFORE.search(before):
            chain = _CHAIN_DOT_BEFORE.search(before)
            assert chain is not None
            prefix = chain.group(2) or ""
            start = cursor_pos - len(prefix)
            kind, names = runtime
            typed = {name: ("key" if kind == "object" else "method") for name in names
                     if isinstance(name, str) and re.fullmatch(_NAME, name)}
            if kind in ("object", "string", "array"):
                typed["length"] = "property"
        elif magic:
            prefix = magic.group(1)
            start = cursor_pos - len(prefix) - 1
            for name in MAGICS:
                typed["%" + name] = "magic"
            prefix = "%" + prefix
        elif dotted:
            owner = re.sub(r"\s+", "", dotted.group(1))
            prefix = dotted.group(2) or ""
            start = cursor_pos - len(prefix)
            typed = self.members(owner)
        else:
            match = _NAME_BEFORE.search(before)
            prefix = match.group(0) if match else ""
            start = cursor_pos - len(prefix)
            if _IMPORT_BEFORE.search(before):
                typed = {name: "module" for name in module_names()}
            else:
                typed.update({name: "keyword" for name in KEYWORD_NAMES})
                typed.update({name: "function" for name in builtins_table()})
                typed.update({name: "module" for name in module_names()})
                for var in self.variables().values():
                    typed[var.name] = var.type
        matches = sorted(name for name in typed if name.startswith(prefix))
        return {
            "status": "ok",
            "matches": matches,
            "cursor_start": start,
            "cursor_end": cursor_end,
            "metadata": {"_jupyter_types_experimental": [
                {"start": start, "end": cursor_end, "text": name, "type": typed[name]}
                for name in matches]},
        }

    def resolve_module(self, owner: str) -> str | None:
        """The stdlib module a name refers to: a bound module variable, or a module name."""
        var = self.variables().get(owner)
        if var is not None:
            if var.type == "module":
                match = _MODULE_REPR.match(var.repr)
                return match.group(1) if match else owner
            return None
        return owner if owner in module_names() else None

    def members(self, owner: str) -> dict[str, str]:
        if owner == "builtin":
            return {name: "function" for name in builtins_table()}
        module = self.resolve_module(owner)
        if module is not None:
            return {name: ("function" if callable(value) else "constant")
                    for name, value in module_members(module).items()}
        var = self.variables().get(owner)
        if var is not None and var.type == "string":
            return {name: "method" for name in STRING_METHODS}
        if var is not None and var.type == "array":
            return {name: "method" for name in ARRAY_METHODS}
        return {}

    # inspection -----------------------------------------------------------------------------
    def inspect(self, code: str, cursor_pos: int, detail_level: int = 0,
                owner_type: str | None = None) -> dict:
        """Help for the name at the cursor; `owner_type` is the run-time type of the
        expression before its `.` when the kernel could ask the session."""
        name = name_at(code, cursor_pos)
        text = self.describe_method(code, cursor_pos, owner_type) if name else None
        if text is None and name:
            text = self.describe(name, detail_level)
        if text is None:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}

    def describe_method(self, code: str, cursor_pos: int, owner_type: str | None) -> str | None:
        """Help of a string or array method (or `length`) after `.` on a string literal, an
        array literal, or an expression of that type; of a library object's method (`p.match`
        on a regex Pattern) by the object's run-time type."""
        before = code[:help_target_end(code, cursor_pos)]
        member = _NAME_BEFORE.search(before)
        if member is None:
            return None
        head = before[:member.start()]
        kind = owner_type
        if _STRING_DOT_BEFORE.search(head):
            kind = "string"
        elif _LITERAL_ARRAY_DOT_BEFORE.search(head) and not _CHAIN_DOT_BEFORE.search(head):
            kind = "array"
        elif kind is None:
            chain = _CHAIN_DOT_BEFORE.search(head)
            var = self.variables().get(chain.group(1)) if chain else None
            kind = var.type if var is not None else None
        return method_help(kind, member.group(0)) if kind else None

    def describe(self, name: str, detail_level: int = 0) -> str | None:
        name = re.sub(r"\s+", "", name)
        if name in KEYWORD_HELP and name not in self.variables():
            return KEYWORD_HELP[name]
        if "." in name:
            owner, member = name.rsplit(".", 1)
            if owner == "builtin":
                return self.describe(member, detail_level)
            module = self.resolve_module(owner)
            if module is None:              # `s.upper?`, `%help p.match`: by the variable's type
                var = self.variables().get(owner)
                return method_help(var.type, member) if var is not None else None
            members = module_members(module)
            if member not in members:
                return None
            value = members[member]
            if callable(value):
                return describe_function(value, f"{module}.{member}")
            from mlpy.runtime.values import ml_repr
            return f"{module}.{member} = {ml_repr(value)}"
        var = self.variables().get(name)
        if var is not None:                     # user definitions shadow builtins (D6)
            return self.describe_variable(var, detail_level)
        table = builtins_table()
        if name in table:
            fn = table[name]
            if fn is None:
                return f"{name}(...)\n\nML builtin function (spec §8)."
            return describe_function(fn, name)
        if name in module_names():
            return self.describe_module(name)
        return None

    def describe_module(self, name: str) -> str:
        decl = module_declaration(name)
        description = getattr(decl, "description", "") if decl is not None else ""
        members = module_members(name)
        functions = sorted(k for k, v in members.items() if callable(v))
        constants = sorted(k for k, v in members.items() if not callable(v))
        lines = [f"module {name}" + (f" — {description}" if description else "")]
        if functions:
            lines.append("functions: " + ", ".join(functions))
        if constants:
            lines.append("constants: " + ", ".join(constants))
        caps = sorted(getattr(decl, "capabilities", ()) or ())
        lines.append("Requires: " + ", ".join(caps) if caps else "Capabilities: None required")
        return "\n".join(lines)

    def describe_variable(self, var: Var, detail_level: int) -> str:
        if var.type == "function":
            found = self.find_definition(var.name)
            if found is not None:
                signature, doc, source = found
                parts = [signature]
                if doc:
                    parts.append(doc)
                if detail_level > 0 and source:
                    parts.append(source)
                return "\n\n".join(parts)
        if var.type == "module":
            module = self.resolve_module(var.name)
            if module:
                return self.describe_module(module)
        return f"{var.name}: {var.type} = {var.repr}"

    def find_definition(self, name: str) -> tuple[str, str, str] | None:
        """`function name(a, b)` / `name = fn(a, b) =>` in the latest cell defining it:
        (signature, comment lines above it, the definition's source)."""
        pattern = re.compile(
            rf"^[ \t]*(?:function[ \t]+{re.escape(name)}[ \t]*\(([^)]*)\)|"
            rf"{re.escape(name)}[ \t]*=[ \t]*fn[ \t]*\(([^)]*)\))", re.M)
        for source in reversed(self._sources()):
            matches = list(pattern.finditer(source))
            if not matches:
                continue
            match = matches[-1]
            params = ", ".join(p.strip() for p in (match.group(1) or match.group(2) or "").split(",")
                               if p.strip())
            signature = f"{name}({params})"
            lines = source[:match.start()].split("\n")[:-1]
            doc: list[str] = []
            while lines and lines[-1].strip().startswith("//"):
                doc.insert(0, lines.pop().strip()[2:].strip())
            return signature, "\n".join(doc), definition_text(source, match.start())
        return None

    # is_complete ----------------------------------------------------------------------------
    def is_complete(self, code: str) -> dict:
        try:
            cell = parse_cell(code)
        except MagicError:
            return {"status": "invalid"}
        no_code = all(not line.strip() or line.strip().startswith("//")
                      for line in cell.code.split("\n"))
        if no_code and not cell.help and any(name in CODE_MAGICS for name, _ in cell.magics):
            # `%time` / `%python` alone on a line: the code they act on comes next
            return {"status": "incomplete", "indent": ""}
        if cell.help or not cell.code.strip():
            return {"status": "complete"}
        from mlpy.errors import MLError
        try:
            from mlpy import parse
        except ImportError:                     # before mlpy/__init__ exports it
            from mlpy.parser import parse
        try:
            parse(cell.code, interactive=True)
        except MLError as exc:
            depth, balanced = open_brackets(cell.code)
            if balanced and (depth > 0 or "unexpected end of input" in exc.message) \
                    and error_at_end(cell.code, exc.line, exc.column):
                return {"status": "incomplete", "indent": "    " * depth}
            return {"status": "invalid"}
        except Exception:
            return {"status": "invalid"}
        return {"status": "complete"}


def open_brackets(code: str) -> tuple[int, bool]:
    """(brackets still open at the end, whether every closer matched its opener); strings and
    comments are skipped."""
    pairs = {"}": "{", "]": "[", ")": "("}
    stack: list[str] = []
    for token, text in MLLexer().get_tokens(code):
        if token in Punctuation:
            if text in "{[(":
                stack.append(text)
            elif text in pairs:
                if not stack or stack[-1] != pairs[text]:
                    return len(stack), False
                stack.pop()
    return len(stack), True


def error_at_end(code: str, line: int | None, column: int | None) -> bool:
    """Whether a parse error lies after the last non-blank character (more input could fix
    it) rather than inside what was typed."""
    if not line or not column:
        return True
    lines = code.rstrip().split("\n")
    last = (len(lines), len(lines[-1]))
    return (line, column) > last


def definition_text(source: str, start: int) -> str:
    """The source of the definition starting at `start`, up to its balanced closing brace."""
    depth = 0
    seen = False
    for index in range(start, len(source)):
        ch = source[index]
        if ch == "{":
            depth += 1
            seen = True
        elif ch == "}":
            depth -= 1
            if seen and depth == 0:
                return source[start:index + 1]
    return source[start:].rstrip()


def help_target_end(code: str, cursor_pos: int) -> int:
    """Where the name Shift-Tab asks about ends: the name at the cursor, or else the callee
    of the innermost open parenthesis (`s.upper(|`)."""
    cursor_pos = max(0, min(cursor_pos, len(code)))
    end = cursor_pos + len(name_tail(code, cursor_pos))
    if _NAME_BEFORE.search(code[:end]):
        return end
    index = _open_paren(code, cursor_pos)
    return len(code[:index].rstrip()) if index is not None else end


def _open_paren(code: str, cursor_pos: int) -> int | None:
    """Index of the innermost `(` still open before the cursor (None: there is none)."""
    depth = 0
    for index in range(cursor_pos - 1, -1, -1):
        ch = code[index]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                return index
            depth -= 1
    return None


def name_at(code: str, cursor_pos: int) -> str | None:
    """The (dotted) name under or just before the cursor; inside a call's parentheses with no
    name at the cursor, the called name."""
    cursor_pos = max(0, min(cursor_pos, len(code)))
    left = re.search(rf"{_NAME}(?:\s*\.\s*{_NAME})*\.?$", code[:cursor_pos])
    right = name_tail(code, cursor_pos)
    if left or right:
        text = (left.group(0) if left else "") + right
        text = text.rstrip(".")
        if re.match(_NAME, text):
            return text
    # the callee of the innermost open parenthesis
    index = _open_paren(code, cursor_pos)
    if index is None:
        return None
    callee = re.search(rf"{_NAME}(?:\s*\.\s*{_NAME})*\s*$", code[:index])
    return callee.group(0).strip() if callee else None
