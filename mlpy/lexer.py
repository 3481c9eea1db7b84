"""ML tokens (spec §1), fed to lark's LALR parser.

Several lexical decisions depend on the token before, which is why this is a small hand
lexer rather than lark's regex lexer: `//` is floor division after an *operand end* (number,
string, name, true, false, null, `)`, `]`) and a comment anywhere else; a `+`/`-` directly
before digits belongs to the number unless it follows an operand end; after `=>` a `{` opens a
block unless it begins an object literal; inside `capability NAME { ... }` a few words are
keywords.
"""

from __future__ import annotations

import re

from lark import Token
from lark.lexer import Lexer

from .errors import MLSyntaxError

KEYWORDS = {
    "function": "FUNCTION", "fn": "FN", "return": "RETURN", "if": "IF", "elif": "ELIF",
    "else": "ELSE", "while": "WHILE", "for": "FOR", "in": "IN", "break": "BREAK",
    "continue": "CONTINUE", "try": "TRY", "except": "EXCEPT", "finally": "FINALLY",
    "throw": "THROW", "import": "IMPORT", "as": "AS", "capability": "CAPABILITY",
    "nonlocal": "NONLOCAL", "true": "TRUE", "false": "FALSE", "null": "NULL",
}
CAPABILITY_WORDS = {"resource": "RESOURCE", "allow": "ALLOW", "read": "CAP_KIND",
                    "write": "CAP_KIND", "execute": "CAP_KIND", "network": "CAP_KIND",
                    "system": "CAP_KIND"}
OPERATORS = {
    ";": "_SEMI", ",": "_COMMA", "(": "_LPAR", ")": "_RPAR", "{": "LBRACE", "}": "_RBRACE",
    "[": "LSQB", "]": "_RSQB", ".": "_DOT", ":": "_COLON", "?": "_QMARK", "=": "_ASSIGN",
    "=>": "_ARROW", "==": "BINOP", "!=": "BINOP", "<": "BINOP", ">": "BINOP", "<=": "BINOP",
    ">=": "BINOP", "+": "BINOP", "-": "BINOP", "*": "BINOP", "/": "BINOP", "//": "BINOP",
    "%": "BINOP", "&&": "BINOP", "||": "BINOP", "!": "BANG",
}
OPERAND_END = frozenset({"NUMBER", "STRING", "NAME", "TRUE", "FALSE", "NULL", "_RPAR", "_RSQB"})

_NUMBER = r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?"
# Leading whitespace is consumed with each token (half the matches otherwise).
_TOKEN = re.compile(
    r"[ \t\f\v\n]*(?:"
    rf"(?P<number>{_NUMBER})"
    rf"|(?P<signed>[+-]{_NUMBER})"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"""|(?P<string>"(?:[^"\\\n]|\\[^\n])*"|'(?:[^'\\\n]|\\[^\n])*')"""
    r"|(?P<comment>//[^\n]*)"
    r"|(?P<op>=>|==|!=|<=|>=|&&|\|\||//|[;,(){}\[\].:?=<>+\-*/%!])"
    r"|(?P<end>\Z))"
)
_SPACE = re.compile(r"[ \t\f\v\n]*")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def normalise_newlines(source: str) -> str:
    return source.replace("\r\n", "\n").replace("\r", "\n")


def describe_char(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


def decode_string(body: str, line: int, column: int) -> str:
    """Interpret the escapes of spec §1; unknown backslash pairs stay as written."""
    if "\\" not in body:
        return body
    out: list[str] = []
    pos = 0
    pending_high: tuple[int, int] | None = None   # (code, offset) of a high surrogate
    for m in _ESCAPE.finditer(body):
        out.append(body[pos:m.start()])
        pos = m.end()
        esc = m.group(1)
        if esc[0] == "u" and len(esc) == 5:
            code = int(esc[1:], 16)
            if 0xD800 <= code <= 0xDBFF:
                if pending_high is not None:
                    _lone_surrogate(line, column + pending_high[1] + 1)
                pending_high = (code, m.start())
                continue
            if 0xDC00 <= code <= 0xDFFF:
                if pending_high is None or m.start() != _after(pending_high):
                    _lone_surrogate(line, column + m.start() + 1)
                high = pending_high[0]
                pending_high = None
                out.append(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
                continue
            if pending_high is not None:
                _lone_surrogate(line, column + pending_high[1] + 1)
            out.append(chr(code))
            continue
        if pending_high is not None:
            _lone_surrogate(line, column + pending_high[1] + 1)
        out.append(_SIMPLE_ESCAPES.get(esc, "\\" + esc))
    if pending_high is not None:
        _lone_surrogate(line, column + pending_high[1] + 1)
    out.append(body[pos:])
    return "".join(out)


def _after(pending: tuple[int, int]) -> int:
    return pending[1] + 6


def _lone_surrogate(line: int, column: int):
    raise MLSyntaxError(f"Parse error: lone surrogate escape at line {line}, column {column}",
                        line=line, column=column)


def _unexpected_char(source: str, pos: int, line: int, column: int):
    ch = source[pos]
    if ch in "\"'":
        raise MLSyntaxError(f"Parse error: unterminated string at line {line}, column {column}",
                            line=line, column=column)
    if ch == "\\":
        what = "unexpected '\\'"
    elif ord(ch) > 127 and (ch.isalpha() or ch.isdigit()):
        what = (f"unexpected character {describe_char(ch)} (identifiers are ASCII letters, "
                "digits and '_')")
    else:
        what = f"unexpected character {describe_char(ch)}"
    raise MLSyntaxError(f"Parse error: {what} at line {line}, column {column}",
                        line=line, column=column)


def tokenize(source: str) -> list[Token]:
    """The token list of `source` (newlines already normalised)."""
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    pos = 0
    line = 1
    line_start = 0
    prev = None            # type of the previous significant token
    cap_state = 0          # 0 outside; 1 after `capability`; 2 after its name; 3 inside block
    n = len(source)
    while pos < n:
        m = match(source, pos)
        if m is None:
            bad = _SPACE.match(source, pos).end()
            line += source.count("\n", pos, bad)
            if "\n" in source[pos:bad]:
                line_start = source.rfind("\n", pos, bad) + 1
            _unexpected_char(source, bad, line, bad - line_start + 1)
        kind = m.lastgroup
        start, end = m.span(kind)
        if start != pos and "\n" in source[pos:start]:
            line += source.count("\n", pos, start)
            line_start = source.rfind("\n", pos, start) + 1
        if kind == "end":
            break
        pos = start
        text = source[start:end]
        column = pos - line_start + 1
        if kind == "signed" and prev in OPERAND_END:
            # After an operand end the sign is the binary operator: lex it on its own.
            kind, text, end = "op", text[0], pos + 1
        elif kind == "comment":
            if prev in OPERAND_END:
                kind, text, end = "op", "//", pos + 2
            else:
                pos = end
                continue
        if kind == "number" or kind == "signed":
            typ = "NUMBER"
            value = _number(text)
        elif kind == "name":
            if prev == "_DOT":
                typ = "NAME"
            elif cap_state == 3 and text in CAPABILITY_WORDS:
                typ = CAPABILITY_WORDS[text]
            else:
                typ = KEYWORDS.get(text, "NAME")
            value = text
        elif kind == "string":
            typ = "STRING"
            value = decode_string(text[1:-1], line, column + 1)
        else:
            typ = OPERATORS[text]
            value = text
            if text == "-" and prev not in OPERAND_END:
                typ = "MINUS"             # prefix minus (a sign before digits is a number)
            elif text == "+" and prev not in OPERAND_END:
                typ = "PLUS"              # there is no unary plus: a parse error

        # capability blocks: `capability NAME {` ... `}`
        if cap_state or typ == "CAPABILITY":
            if typ == "CAPABILITY":
                cap_state = 1
            elif cap_state == 1:
                cap_state = 2 if typ == "NAME" else 0
            elif cap_state == 2:
                cap_state = 3 if typ == "LBRACE" else 0
            elif cap_state == 3 and typ == "_RBRACE":
                cap_state = 0
        append(make_token(typ, value, pos, line, column, end, text))
        prev = typ
        pos = end
    _mark_arrow_blocks(tokens)
    return tokens


_new_str = str.__new__      # Token(...) parses *args/**kwargs; a token per call adds up


def make_token(typ: str, value, start: int, line: int, column: int, end: int,
               text: str | None = None) -> Token:
    """A lark Token with the fields the parser and error messages use (`text` as written,
    default the value's text)."""
    tok = _new_str(Token, text if text is not None else value if isinstance(value, str)
                   else str(value))
    tok.type = typ
    tok.value = value
    tok.start_pos = start
    tok.line = line
    tok.column = column
    tok.end_pos = end
    return tok


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def _mark_arrow_blocks(tokens: list[Token]) -> None:
    """After `=>`, `{` starts a block unless `}` or a name/string and `:` follow (spec §2)."""
    for i, tok in enumerate(tokens):
        if tok.type != "LBRACE" or i == 0 or tokens[i - 1].type != "_ARROW":
            continue
        nxt = tokens[i + 1].type if i + 1 < len(tokens) else None
        nxt2 = tokens[i + 2].type if i + 2 < len(tokens) else None
        is_object = nxt == "_RBRACE" or (nxt in ("NAME", "STRING") and nxt2 == "_COLON")
        if not is_object:
            tokens[i] = make_token("_BLOCK_LBRACE", "{", tok.start_pos, tok.line, tok.column,
                                   tok.end_pos)


class MLLexer(Lexer):
    """Adapter so lark's LALR parser reads the tokens of `tokenize`."""

    def __init__(self, lexer_conf=None):
        pass

    def lex(self, data):
        if isinstance(data, list):
            return iter(data)
        return iter(tokenize(data))
