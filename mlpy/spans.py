"""The ML source text of each function a program defines.

The compiler stores it as the compiled function's docstring, so a function value carries its
own definition: a session checkpoint (mlpy/checkpoint.py) writes functions as ML source and
re-creates them from it.  Found from the tokens, which already know strings and comments: a
`function` declaration ends at the `}` matching its body's `{`; an arrow `fn (...) => ...`
at the end of its block, or of its expression (the first `;`, `,` or unmatched closer at its
own bracket depth, or a `:` that no `?` of its own opened).
"""

from __future__ import annotations

import bisect
from itertools import accumulate

from .lexer import normalise_newlines, tokenize

_OPENERS = {"_LPAR", "LSQB", "LBRACE", "_BLOCK_LBRACE"}
_CLOSERS = {"_RPAR", "_RSQB", "_RBRACE"}


class FunctionSources:
    """Looks up function definitions in one program's text. `tokens` are the parser's (the
    same text's); without them the text is tokenized on first use."""

    def __init__(self, source: str, tokens: list[tuple] | None = None):
        self.source = normalise_newlines(source)
        self._tokens = tokens
        self._before: list[int] | None = None

    def text(self, line: int, column: int, end: tuple[int, int] | None = None) -> str | None:
        """The definition starting with the `function` or `fn` at (line, column), or None
        when it cannot be found (the function is then not restorable from source). `end`,
        where the parser recorded it (a block's closing `}`, mlpy.parser.Body), is where the
        text stops: then no token is scanned."""
        if end is not None:
            return self.source[self._offset(line, column):self._offset(*end)]
        tokens = self._tokens
        if tokens is None:
            tokens = self._tokens = tokenize(self.source)
        start = bisect.bisect_left(tokens, (line, column), key=_position)
        if start >= len(tokens) or _position(tokens[start]) != (line, column):
            return None
        last_index = _end_of(tokens, start)
        if last_index is None:
            return None
        last = tokens[last_index]
        finish = self._offset(last[2], last[3]) + len(last[4])
        return self.source[self._offset(line, column):finish]

    def _offset(self, line: int, column: int) -> int:
        """The offset in the text of (1-based) `line` and `column`."""
        before = self._before
        if before is None:
            # the lengths of the lines before each line, summed in C loops (~40 us less for
            # 800 lines than a Python loop); the newlines before it are its index
            lengths = map(len, self.source.split("\n"))
            before = self._before = list(accumulate(lengths, initial=0))
        return before[line - 1] + line + column - 2


def _position(token: tuple) -> tuple[int, int]:
    return token[2], token[3]


def _end_of(tokens: list[tuple], start: int) -> int | None:
    """Index of the last token of the function starting at `start`."""
    kind = tokens[start][0]
    i = start + 1
    if kind == "FN":
        while i < len(tokens) and tokens[i][0] != "_ARROW":
            i += 1
        i += 1
        if i >= len(tokens):
            return None
        if tokens[i][0] != "_BLOCK_LBRACE":
            return _end_of_expression(tokens, i)
    else:
        depth = 0      # the parameter list's parentheses come before the body's `{`
        while i < len(tokens) and not (tokens[i][0] == "LBRACE" and depth == 0):
            depth += tokens[i][0] == "_LPAR"
            depth -= tokens[i][0] == "_RPAR"
            i += 1
    return _matching(tokens, i)


def _matching(tokens: list[tuple], i: int) -> int | None:
    depth = 0
    while i < len(tokens):
        kind = tokens[i][0]
        if kind in _OPENERS:
            depth += 1
        elif kind in _CLOSERS:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _end_of_expression(tokens: list[tuple], i: int) -> int | None:
    depth = questions = 0
    last = None
    while i < len(tokens):
        kind = tokens[i][0]
        if kind in _OPENERS:
            depth += 1
        elif kind in _CLOSERS:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0:
            if kind in ("_SEMI", "_COMMA"):
                break
            if kind == "_QMARK":
                questions += 1
            elif kind == "_COLON":
                if not questions:
                    break
                questions -= 1
        last = i
        i += 1
    return last
