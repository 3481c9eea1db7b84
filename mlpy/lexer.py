"""ML tokens (spec §1), fed to the LALR driver in mlpy/parser.py.

Several lexical decisions depend on the token before, which is why this is a small hand
lexer rather than lark's regex lexer: `//` is floor division after an *operand end* (number,
string, name, true, false, null, `)`, `]`) and a comment anywhere else; a `+`/`-` directly
before digits belongs to the number unless it follows an operand end; after `=>` a `{` opens a
block unless it begins an object literal; inside `capability NAME { ... }` a few words are
keywords.

A token is a plain tuple `(type, value, line, column, text)`: `value` is what the parser builds
nodes from (the number, the decoded string, the word), `text` is the token as written. Tuples
cost a fraction of lark Token objects, and the parser reads nothing else.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import NoReturn

from . import language
from .errors import MLSyntaxError
from .language import IDENTIFIER_PATTERN, RESERVED_WORDS

# token type of each reserved word (mlpy/language.py lists them once), interned as the
# other types (literals in this module) are: the parser's table finds them by identity
KEYWORDS = {word: sys.intern(word.upper()) for word in RESERVED_WORDS}
CAPABILITY_WORDS = {word: sys.intern(word.upper()) if word in ("resource", "allow") else "CAP_KIND"
                    for word in language.CAPABILITY_WORDS}
OPERATORS = {
    ";": "_SEMI", ",": "_COMMA", "(": "_LPAR", ")": "_RPAR", "{": "LBRACE", "}": "_RBRACE",
    "[": "LSQB", "]": "_RSQB", ".": "_DOT", ":": "_COLON", "?": "_QMARK", "=": "_ASSIGN",
    "=>": "_ARROW", "==": "BINOP", "!=": "BINOP", "<": "BINOP", ">": "BINOP", "<=": "BINOP",
    ">=": "BINOP", "+": "BINOP", "-": "BINOP", "*": "BINOP", "/": "BINOP", "//": "BINOP",
    "%": "BINOP", "&&": "BINOP", "||": "BINOP", "!": "BANG",
}
OPERAND_END = frozenset({"NUMBER", "STRING", "NAME", "TRUE", "FALSE", "NULL", "_RPAR", "_RSQB"})

# Possessive (`*+`, `?+`) where what is matched is never given back, and alternatives that
# start with a character set or a literal, which the regex engine tests before entering one
# (operators before numbers): ~0.1 of the ~0.55 ms the 19.9 KB program's scan took.
_NUMBER = r"(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][+-]?\d+)?+"
_STRING = r"""(?:"[^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+"|'[^'\\\n]*+(?:\\[^\n][^'\\\n]*+)*+')"""
# One line at a time (no token spans lines): each piece is a token with the whitespace before
# it. Every character that starts no token is a one-character token of its own, so the pieces
# cover the line up to its trailing whitespace, and columns follow from the lengths. (No
# capture group: findall then returns the pieces themselves, not a tuple per token.) The
# alternatives are tried in this order, so `.5` is a number and `-5` a signed number. A quote
# that starts no string takes the rest of the line (the error is reported there anyway), so no
# quote is scanned from twice. `slashes` is how `//` is taken: as a comment to the end of the
# line, which after an operand end the tokenizer splits into the operator and the tokens of
# the rest (found with `//` as an operator, so that no line is scanned again for each `//` in
# it).
_SPACE = " \t\f\v"


def _token_pattern(slashes: str) -> re.Pattern:
    return re.compile(
        r"[ \t\f\v]*+(?:"
        r"[;,(){}\[\]:?*%]"
        rf"|{IDENTIFIER_PATTERN}"
        rf"|{slashes}|=[>=]?|[!<>]=?|&&|\|\|"
        rf"|{_NUMBER}|[+-]{_NUMBER}|[.+\-/]"
        rf"|{_STRING}|[\"'].*"
        r"|[^ \t\f\v])"
    )


_TOKEN = _token_pattern("//.*")


@functools.cache
def _tokens_after_floor_division() -> re.Pattern:
    """The pattern for the rest of a line after a `//` operator (made on first use: most
    programs never divide so, and compiling it is ~0.5 ms of every process's start)."""
    return _token_pattern("//")


_STRING_TOKEN = re.compile(_STRING).fullmatch
# Tokens whose type depends on nothing before them, as (type, value).
_FIXED_PAIRS: dict[str, tuple[str, object]] = {
    text: (typ, text) for text, typ in OPERATORS.items() if text not in ("-", "+", "//")}
# What the token loop knows of a piece from the start: (type, value, text, length of the
# whitespace before, length of the piece) of each fixed token written with no space or one
# space before it. `=>` is left out: the loop notes where each one is (a `{` right after it may
# open a block, `_mark_arrow_blocks`).
_FIXED_PIECES = {space + text: (typ, value, text, len(space), len(space + text))
                 for text, (typ, value) in _FIXED_PAIRS.items() if text != "=>"
                 for space in ("", " ")}
# A sign not after an operand end (there is no unary plus: PLUS is a parse error).
_PREFIX_SIGNS = {"-": "MINUS", "+": "PLUS"}
# How the rest are told apart: by their first character.
_FIRST = {**{c: "name" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"},
          **{c: "number" for c in "0123456789."}, "-": "sign", "+": "sign", "/": "slash",
          '"': "string", "'": "string"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def normalise_newlines(source: str) -> str:
    if "\r" not in source:      # (one scan where the two `replace` passes would change nothing)
        return source
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


def _lone_surrogate(line: int, column: int) -> NoReturn:
    raise MLSyntaxError(f"Parse error: lone surrogate escape at line {line}, column {column}",
                        line=line, column=column)


def _unexpected_char(ch: str, line: int, column: int):
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


# The token loop's states inside `capability NAME { ... }`, where the capability words are keywords.
CAP_OUTSIDE, CAP_AFTER_KEYWORD, CAP_AFTER_NAME, CAP_IN_BLOCK = range(4)
_NO_PIECES: dict[str, tuple] = {}
_AFTER_DOT = frozenset({"_DOT"})


def _contextual(after: frozenset, typ_after: str, typ: str, word: str, lead: int) -> tuple:
    """What the token loop knows of a piece whose type depends only on the type before it:
    (the types before it that make it `typ_after`, its piece then, its piece otherwise)."""
    width = lead + len(word)
    return after, (typ_after, word, word, lead, width), (typ, word, word, lead, width)


def tokenize(source: str) -> list[tuple]:  # noqa: C901 - the token loop; its states are named
    """The token list of `source` (newlines already normalised)."""
    # (`tokens.append(t)` is a specialised call in CPython 3.11, a bound append a generic one)
    tokens: list[tuple] = []
    findall = _TOKEN.findall
    # What is known of each piece (whitespace and token) whose token depends on nothing before
    # it, as in _FIXED_PIECES: the fixed operators, then each plain name (not a reserved
    # word), unsigned number and string once seen, so their next occurrences with the same
    # whitespace before them take one look-up; and of each reserved word (a name after `.`)
    # and lone sign (binary after an operand end) once seen, as `_contextual` gives.
    # Inside a capability declaration no piece is looked up, so that every token passes its
    # state machine below.
    known: dict[str, tuple] = dict(_FIXED_PIECES)
    known_piece = known.get
    contextual: dict[str, tuple] = {}
    contextual_piece = contextual.get
    first = _FIRST.get
    cap_state = CAP_OUTSIDE
    arrows = []            # indices of the `=>` tokens
    line = 0
    for text in source.split("\n"):
        line += 1
        column = 1
        text = text.rstrip(_SPACE)     # (trailing whitespace: a search from each position)
        if not text:
            continue
        pieces = findall(text)
        for piece in pieces:
            hit = known_piece(piece)
            if hit is None:
                entry = contextual_piece(piece)
                if entry is not None:
                    hit = entry[1] if tokens and tokens[-1][0] in entry[0] else entry[2]
                else:
                    word = piece.lstrip(_SPACE)
                    lead = len(piece) - len(word)
                    at = column + lead
                    cached = False     # (whether its token depends on nothing before it)
                    kind = first(word[0])
                    value = word
                    if kind == "name":
                        if cap_state == CAP_IN_BLOCK and word in CAPABILITY_WORDS \
                                and tokens[-1][0] != "_DOT":
                            typ = CAPABILITY_WORDS[word]
                        elif word in KEYWORDS:
                            typ = KEYWORDS[word]
                            if tokens and tokens[-1][0] == "_DOT":
                                typ = "NAME"
                            elif typ == "CAPABILITY":
                                cap_state = CAP_AFTER_KEYWORD    # (set again below)
                            if word != "capability":
                                contextual[piece] = _contextual(
                                    _AFTER_DOT, "NAME", KEYWORDS[word], word, lead)
                        else:
                            typ = "NAME"
                            cached = True
                    elif (fixed := _FIXED_PAIRS.get(word)) is not None:
                        typ, value = fixed
                        if typ == "_ARROW":
                            arrows.append(len(tokens))
                        else:
                            cached = True
                    elif kind == "number":
                        typ = "NUMBER"
                        value = _number(word, line, at)
                        cached = True
                    elif kind == "sign":               # `-`, `+` or a signed number
                        after_operand = tokens and tokens[-1][0] in OPERAND_END
                        if len(word) == 1:
                            typ = "BINOP" if after_operand else _PREFIX_SIGNS[word]
                            contextual[piece] = _contextual(
                                OPERAND_END, "BINOP", _PREFIX_SIGNS[word], word, lead)
                        else:
                            if after_operand:
                                # the sign is the binary operator (the capability state
                                # below ends up as if it had seen both tokens)
                                tokens.append(("BINOP", word[0], line, at, word[0]))
                                lead += 1
                                at += 1
                                word = word[1:]
                            typ = "NUMBER"
                            value = _number(word, line, at)
                    elif kind == "slash":              # `//` and the rest of the line
                        if not (tokens and tokens[-1][0] in OPERAND_END):
                            break                      # a comment
                        if len(word) > 2:
                            # floor division: the rest of the line is tokens, which join
                            # the pieces still to come (none: a comment is the line's last)
                            pieces += _tokens_after_floor_division().findall(word[2:])
                        typ = "BINOP"
                        value = word = "//"
                    elif kind == "string" and _STRING_TOKEN(word):
                        typ = "STRING"
                        value = decode_string(word[1:-1], line, at + 1)
                        cached = True
                    else:
                        _unexpected_char(word[0], line, at)

                    # capability blocks: `capability NAME {` ... `}` (entered above, at the
                    # keyword)
                    if cap_state:
                        if typ == "CAPABILITY":
                            cap_state = CAP_AFTER_KEYWORD
                        elif cap_state == CAP_AFTER_KEYWORD:
                            cap_state = CAP_AFTER_NAME if typ == "NAME" else CAP_OUTSIDE
                        elif cap_state == CAP_AFTER_NAME:
                            cap_state = CAP_IN_BLOCK if typ == "LBRACE" else CAP_OUTSIDE
                        elif typ == "_RBRACE":
                            cap_state = CAP_OUTSIDE
                        known_piece = _NO_PIECES.get if cap_state else known.get
                        contextual_piece = _NO_PIECES.get if cap_state else contextual.get
                    hit = (typ, value, word, lead, lead + len(word))
                    if cached:
                        known[piece] = hit
            typ, value, word, lead, width = hit
            tokens.append((typ, value, line, column + lead, word))
            column += width
    if arrows:
        _mark_arrow_blocks(tokens, arrows)
    return tokens


def _number(text: str, line: int, column: int) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:        # spec §4: more than 4300 digits cannot be read from decimal text
        raise MLSyntaxError(f"Parse error: integer literal of {len(text.lstrip('+-'))} digits "
                            f"at line {line}, column {column} (the most is 4300)",
                            line=line, column=column) from None


def _mark_arrow_blocks(tokens: list[tuple], arrows: list[int]) -> None:
    """After `=>`, `{` starts a block unless `}` or a name/string and `:` follow (spec §2)."""
    for arrow in arrows:
        i = arrow + 1
        if i >= len(tokens) or tokens[i][0] != "LBRACE":
            continue
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
        nxt2 = tokens[i + 2][0] if i + 2 < len(tokens) else None
        is_object = nxt == "_RBRACE" or (nxt in ("NAME", "STRING") and nxt2 == "_COLON")
        if not is_object:
            tokens[i] = ("_BLOCK_LBRACE",) + tokens[i][1:]
