"""ML module `regex`: Python regular-expression syntax, with compiled patterns and matches.

Matching uses the `regex` package (VERSION0, compatible with Python's `re`) so every match
operation carries a time bound: a pattern that backtracks for longer than `MATCH_TIMEOUT`
seconds (or the host's default time-out, if shorter) raises a catchable
`RuntimeError: Regex operation timed out ...` instead of hanging the process. Patterns are
limited to `MAX_PATTERN` characters. The `regex` package is imported on first use.
"""

from __future__ import annotations

import re as _stdre

from ..runtime.context import SIZE_CHECK_ABOVE, current
from ..runtime.ops import cap_string
from ..runtime.values import MLObject, display
from . import LibraryModule

module = LibraryModule("regex", "Regular expressions (Python syntax): search, match, split, substitute")

MATCH_TIMEOUT = 5.0          # seconds one match operation may take at most
MAX_PATTERN = 100_000        # characters of one pattern

# ML flag values: the numbers of Python's `re` flags (the `regex` package numbers ASCII
# differently; `_compile` translates).
IGNORECASE_FLAG, MULTILINE_FLAG, DOTALL_FLAG = 2, 8, 16
UNICODE_FLAG, VERBOSE_FLAG, ASCII_FLAG = 32, 64, 256
_ALL_FLAGS = IGNORECASE_FLAG | MULTILINE_FLAG | DOTALL_FLAG | UNICODE_FLAG | VERBOSE_FLAG | ASCII_FLAG
_FLAG_LETTERS = ((IGNORECASE_FLAG, "i"), (MULTILINE_FLAG, "m"), (DOTALL_FLAG, "s"),
                 (VERBOSE_FLAG, "x"), (ASCII_FLAG, "a"), (UNICODE_FLAG, "u"))

_engine = None


def _regex():
    """The `regex` package, imported on first use (keeps `import regex;` cheap)."""
    global _engine
    if _engine is None:
        import regex
        _engine = regex
    return _engine


def _timeout() -> float:
    from ..runtime.context import current
    limit = current().limits.default_timeout
    if limit is not None and 0 < limit < MATCH_TIMEOUT:
        return float(limit)
    return MATCH_TIMEOUT


def _check_text(text, what: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"regex {what} must be a string, not {_typeof(text)}")
    return text


def _typeof(value) -> str:
    from ..runtime.values import typeof
    return typeof(value)


def _check_flags(flags) -> int:
    if flags is None:
        return 0
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"regex flags must be a number, not {_typeof(flags)}")
    if flags & ~_ALL_FLAGS or flags < 0:
        raise ValueError(f"Invalid regex flags: {flags}")
    if flags & ASCII_FLAG and flags & UNICODE_FLAG:
        raise ValueError("Invalid regex flags: ASCII and UNICODE are mutually incompatible")
    return flags


def _check_count(n, what: str) -> int:
    if n is None:
        return 0
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an integer, not {_typeof(n)}")
    return max(n, 0)


def _compile(pattern, flags=0):
    """A compiled `regex` pattern; invalid -> ValueError("Invalid regex pattern 'p': ...")."""
    pattern = _check_text(pattern, "pattern")
    flags = _check_flags(flags)
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"Invalid regex pattern: longer than {MAX_PATTERN} characters")
    rx = _regex()
    engine_flags = (flags & ~ASCII_FLAG) | (rx.ASCII if flags & ASCII_FLAG else 0)
    try:
        return rx.compile(pattern, engine_flags | rx.VERSION0)
    except rx.error as exc:
        raise ValueError(f"Invalid regex pattern '{pattern}': {exc}") from None
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        raise ValueError(f"Invalid regex pattern '{pattern}': {exc}") from None


def _run(compiled, operation, *args, **kwargs):
    """Call one `regex` operation with the time bound; translate its failures to ML errors."""
    rx = _regex()
    try:
        # concurrent=True releases the GIL while matching, so a slow match does not stall
        # the other threads (executor workers, the server's event loop).
        return operation(*args, timeout=_timeout(), concurrent=True, **kwargs)
    except TimeoutError:
        raise RuntimeError(f"Regex operation timed out after {_timeout():g} seconds "
                           f"(pattern '{compiled.pattern}')") from None
    except rx.error as exc:
        raise ValueError(f"Invalid regex replacement: {exc}") from None


def _substitute(compiled, repl, text, count) -> tuple[str, int]:
    """sub and subn: the result and the number of replacements, held to the string cap.

    The engine builds every piece of a template's result before anything can be checked,
    and group references multiply the text (`\\g<0>` six hundred times over 100,000 matches
    is 60,000,000 characters): a worker process met its memory cap there ("invalid RE
    code"), a thread-isolated server would simply grow. So a template whose result may pass
    the cap is expanded one match at a time, like a function's results always are, and the
    growing size stops the work as soon as it passes the cap."""
    text = _check_text(text)
    count = _check_count(count, "count")
    replacement = _replacement(repl)
    limit = current().limits.max_string
    if isinstance(replacement, str):
        if not _may_pass(replacement, text, limit):
            result, n = _run(compiled, compiled.subn, replacement, text, count=count)
            return _capped(result), n
        # the template's own errors first, as the engine gives them (a match or not)
        _run(compiled, compiled.subn, replacement, " ", count=1)
        template = replacement
        replacement = lambda m: m.expand(template)  # noqa: E731
    grown = 0

    def held(m) -> str:
        nonlocal grown
        piece = replacement(m)
        grown += len(piece)
        if grown > limit:
            cap_string(grown)
        return piece

    result, n = _run(compiled, compiled.subn, held, text, count=count)
    return _capped(result), n


def _may_pass(template: str, text: str, limit: int) -> bool:
    """Whether a template's result could pass `limit`: each match (at most one per
    character, plus one) adds the template's text and, per reference (each starts with a
    backslash), at most the matched text, and the matches together are at most the text."""
    references = template.count("\\")
    size = len(text) * (1 + references) + (len(text) + 1) * len(template)
    return size > limit


def _capped(result: str) -> str:
    """Every result is held to the string cap like every other string."""
    if len(result) > SIZE_CHECK_ABOVE:
        cap_string(len(result))
    return result


def _span(pos, endpos, text: str) -> dict:
    spec = {}
    if pos is not None:
        spec["pos"] = _check_count(pos, "pos")
    if endpos is not None:
        spec["endpos"] = _check_count(endpos, "endpos")
    return spec


def _replacement(repl):
    """A template string, or an ML function called with each Match (its result as text)."""
    if isinstance(repl, str):
        return repl
    if callable(repl) and not isinstance(repl, MLObject):
        return lambda m: display(repl(Match(m)))
    raise TypeError(f"regex replacement must be a string or a function, not {_typeof(repl)}")


def _groups_value(found):
    """findall's result as ML values: tuples of groups become arrays."""
    return [list(item) if isinstance(item, tuple) else item for item in found]


class Pattern(MLObject):
    """A compiled regular expression."""

    ml_type = "Pattern"
    ml_members = frozenset({"test", "match", "search", "fullmatch", "findall", "finditer",
                            "split", "sub", "subn", "count", "getPattern", "getFlags",
                            "toString"})

    def __init__(self, pattern: str, flags: int = 0):
        self._compiled = _compile(pattern, flags)
        self._pattern = pattern
        self._flags = _check_flags(flags)

    def test(self, text) -> bool:
        """True if the pattern matches anywhere in text."""
        text = _check_text(text)
        return _run(self._compiled, self._compiled.search, text) is not None

    def match(self, text, pos=0, endpos=None):
        """Match at the start of text (or at pos): a Match or null."""
        text = _check_text(text)
        return _wrap(_run(self._compiled, self._compiled.match, text, **_span(pos, endpos, text)))

    def search(self, text, pos=0, endpos=None):
        """The first match anywhere in text: a Match or null."""
        text = _check_text(text)
        return _wrap(_run(self._compiled, self._compiled.search, text, **_span(pos, endpos, text)))

    def fullmatch(self, text, pos=0, endpos=None):
        """Match the whole of text: a Match or null."""
        text = _check_text(text)
        return _wrap(_run(self._compiled, self._compiled.fullmatch, text,
                          **_span(pos, endpos, text)))

    def findall(self, text, pos=0, endpos=None) -> list:
        """All matches as strings, or arrays of groups when there are several groups."""
        text = _check_text(text)
        return _groups_value(_run(self._compiled, self._compiled.findall, text,
                                  **_span(pos, endpos, text)))

    def finditer(self, text, pos=0, endpos=None) -> list:
        """All matches as an array of Match objects."""
        text = _check_text(text)

        def collect(t, timeout, concurrent, **span):
            return [Match(m) for m in self._compiled.finditer(t, timeout=timeout,
                                                              concurrent=concurrent, **span)]

        return _run(self._compiled, collect, text, **_span(pos, endpos, text))

    def split(self, text, maxsplit=0) -> list:
        """Split text at each match (at most maxsplit times when > 0)."""
        text = _check_text(text)
        return _run(self._compiled, self._compiled.split, text,
                    maxsplit=_check_count(maxsplit, "maxsplit"))

    def sub(self, repl, text, count=0) -> str:
        """Replace matches with repl (\\1, \\g<name> refer to groups)."""
        return _substitute(self._compiled, repl, text, count)[0]

    def subn(self, repl, text, count=0) -> dict:
        """Like sub, returning {result, count}."""
        result, n = _substitute(self._compiled, repl, text, count)
        return {"result": result, "count": n}

    def count(self, text) -> int:
        """The number of non-overlapping matches in text."""
        text = _check_text(text)

        def counting(t, timeout, concurrent):
            return sum(1 for _ in self._compiled.finditer(t, timeout=timeout,
                                                          concurrent=concurrent))

        return _run(self._compiled, counting, text)

    def getPattern(self) -> str:
        """The pattern text."""
        return self._pattern

    def getFlags(self) -> int:
        """The flags the pattern was compiled with."""
        return self._flags

    def toString(self) -> str:
        """`Pattern("<pattern>", flags=<n>)`, the pattern in container form (spec §10)."""
        from ..runtime.values import ml_repr
        return f"Pattern({ml_repr(self._pattern)}, flags={self._flags})"


class Match(MLObject):
    """The result of a successful match."""

    ml_type = "Match"
    ml_members = frozenset({"value", "group", "groups", "groupDict", "groupCount", "start",
                            "end", "span", "lastGroup", "expand", "toString"})

    def __init__(self, match):
        self._match = match

    def _index(self, group):
        """A valid group reference (number or name), or None when unknown."""
        if group is None:
            return 0
        if isinstance(group, bool):
            return None
        if isinstance(group, int):
            return group if 0 <= group <= self._match.re.groups else None
        if isinstance(group, str):
            return group if group in self._match.re.groupindex else None
        return None

    def value(self) -> str:
        """The matched text."""
        return self._match.group(0)

    def group(self, n_or_name=0):
        """A group's text by number or name (null if unknown or unmatched)."""
        index = self._index(n_or_name)
        return None if index is None else self._match.group(index)

    def groups(self) -> list:
        """All groups' texts (null for unmatched ones)."""
        return list(self._match.groups())

    def groupDict(self, default=None) -> dict:
        """Named groups as an object (default for unmatched ones)."""
        return dict(self._match.groupdict(default))

    def groupCount(self) -> int:
        """The number of groups in the pattern."""
        return self._match.re.groups

    def start(self, group=0) -> int:
        """Start index of the match or a group (-1 if unknown or unmatched)."""
        index = self._index(group)
        return -1 if index is None else self._match.start(index)

    def end(self, group=0) -> int:
        """End index of the match or a group (-1 if unknown or unmatched)."""
        index = self._index(group)
        return -1 if index is None else self._match.end(index)

    def span(self, group=0) -> list:
        """[start, end] of the match or a group ([-1, -1] if unknown or unmatched)."""
        index = self._index(group)
        return [-1, -1] if index is None else list(self._match.span(index))

    def lastGroup(self):
        """The name of the last matched named group, or null."""
        return self._match.lastgroup

    def expand(self, template) -> str:
        """The template with \\1, \\g<name> replaced by this match's groups."""
        template = _check_text(template, "template")
        try:
            return self._match.expand(template)
        except (_regex().error, IndexError) as exc:
            raise ValueError(f"Invalid regex replacement: {exc}") from None

    def toString(self) -> str:
        """Match("text", span=[start, end])."""
        from ..runtime.values import quote
        start, end = self._match.span()
        return f"Match({quote(self._match.group(0))}, span=[{start}, {end}])"


def _wrap(match):
    return None if match is None else Match(match)


def _pattern(p, flags=0) -> Pattern:
    """A Pattern from pattern text (or an already compiled Pattern, whose flags are added)."""
    if isinstance(p, Pattern):
        extra = _check_flags(flags)
        if not extra or extra == p._flags:
            return p
        return Pattern(p._pattern, p._flags | extra)
    return Pattern(p, flags)


@module.function()
def test(p, text, flags=0):
    """True if pattern p matches anywhere in text."""
    return _pattern(p, flags).test(text)


@module.function()
def match(p, text, flags=0):
    """Match p at the start of text: a Match or null."""
    return _pattern(p, flags).match(text)


@module.function()
def search(p, text, flags=0):
    """The first match of p anywhere in text: a Match or null."""
    return _pattern(p, flags).search(text)


@module.function()
def fullmatch(p, text, flags=0):
    """Match p against the whole of text: a Match or null."""
    return _pattern(p, flags).fullmatch(text)


@module.function()
def findall(p, text, flags=0):
    """All matches of p: strings, or arrays of groups when there are several groups."""
    return _pattern(p, flags).findall(text)


@module.function()
def finditer(p, text, flags=0):
    """All matches of p as an array of Match objects."""
    return _pattern(p, flags).finditer(text)


@module.function()
def split(p, text, maxsplit=0, flags=0):
    """Split text at each match of p (at most maxsplit times when > 0)."""
    return _pattern(p, flags).split(text, maxsplit)


@module.function()
def sub(p, repl, text, count=0, flags=0):
    """Replace matches of p in text with repl (\\1, \\g<name> refer to groups)."""
    return _pattern(p, flags).sub(repl, text, count)


@module.function()
def subn(p, repl, text, count=0, flags=0):
    """Like sub, returning {result, count}."""
    return _pattern(p, flags).subn(repl, text, count)


@module.function()
def count(p, text, flags=0):
    """The number of non-overlapping matches of p in text."""
    return _pattern(p, flags).count(text)


@module.function()
def escape(text):
    """text with every regex metacharacter escaped."""
    return _stdre.escape(_check_text(text))


@module.function()
def isValid(p):
    """True if p is a valid regular expression."""
    if isinstance(p, Pattern):
        return True
    if not isinstance(p, str):
        return False
    try:
        _compile(p)
    except ValueError:
        return False
    return True


@module.function()
def compile(p, flags=0):
    """Compile p (with flags) into a Pattern."""
    return _pattern(p, flags)


@module.function()
def IGNORECASE():
    """Flag: case-insensitive matching."""
    return IGNORECASE_FLAG


@module.function()
def MULTILINE():
    """Flag: ^ and $ match at line boundaries."""
    return MULTILINE_FLAG


@module.function()
def DOTALL():
    """Flag: . matches newlines too."""
    return DOTALL_FLAG


@module.function()
def VERBOSE():
    """Flag: whitespace and # comments in the pattern are ignored."""
    return VERBOSE_FLAG


@module.function()
def ASCII():
    """Flag: \\w, \\d, \\s and \\b match ASCII only."""
    return ASCII_FLAG


@module.function()
def UNICODE():
    """Flag: Unicode matching (the default for text)."""
    return UNICODE_FLAG
