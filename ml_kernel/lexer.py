"""Pygments lexer for ML, registered as the `ml` lexer through the `pygments.lexers` entry point.

It claims no filename pattern: `*.ml` belongs to OCaml. nbconvert and JupyterLab find it by the
kernel's `language_info.pygments_lexer`.

The one subtle rule of ML's lexical grammar (spec §1) is `//`: directly after an operand end (a
number, string, name, `true`/`false`/`null`, `)` or `]`) it is floor division, anywhere else it
starts a comment. Every operand-ending token therefore pushes the short `after-operand` state,
where `//` is an operator; any other token pops back to `root`, where `//` starts a comment.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

from mlpy.language import CAPABILITY_WORDS, CONSTANTS, IDENTIFIER_PATTERN, KEYWORDS

__all__ = ["MLLexer", "KEYWORDS", "CONSTANTS", "CAPABILITY_WORDS", "BUILTINS"]

# mlpy/language.py lists the words once for the compiler, the kernel and completion
BUILTINS = (
    "int", "float", "str", "repr", "bool", "typeof", "isinstance", "callable", "len", "range",
    "enumerate", "zip", "sorted", "reversed", "keys", "values", "sum", "all", "any", "iter",
    "next", "abs", "min", "max", "round", "chr", "ord", "hex", "bin", "oct", "format", "print",
    "input", "call", "hasattr", "getattr", "help", "methods", "modules", "available_modules",
    "has_module", "module_info", "hasCapability", "getCapabilities", "getCapabilityInfo",
    "requiredCapabilities", "builtin",
)

_IDENT = IDENTIFIER_PATTERN


class MLLexer(RegexLexer):
    """The ML scripting language (C/JavaScript-like syntax, compiled to Python by mlpy)."""

    name = "ML"
    aliases = ["ml", "mlpy"]
    filenames: list[str] = []          # `*.ml` is OCaml's; never claim it
    mimetypes = ["text/x-ml"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*?$", Comment.Single),
            # definitions and imports
            (r"(function)(\s+)(" + _IDENT + ")",
             bygroups(Keyword.Declaration, Whitespace, Name.Function), "after-operand"),
            (r"(import)(\s+)(" + _IDENT + r"(?:\s*\.\s*" + _IDENT + r")*)",
             bygroups(Keyword.Namespace, Whitespace, Name.Namespace)),
            (r"(as)(\s+)(" + _IDENT + ")", bygroups(Keyword.Namespace, Whitespace, Name.Namespace)),
            (r"(capability)(\s+)(" + _IDENT + r")(\s*)(\{)",
             bygroups(Keyword.Declaration, Whitespace, Name.Class, Whitespace, Punctuation),
             "capability"),
            (words(("fn",), suffix=r"\b"), Keyword.Declaration),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant, "after-operand"),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            # literals
            (r'"(?:\\.|[^"\\\n])*"', String.Double, "after-operand"),
            (r"'(?:\\.|[^'\\\n])*'", String.Single, "after-operand"),
            (r'"(?:\\.|[^"\\\n])*$', String.Double),      # unterminated: stop at line end
            (r"'(?:\\.|[^'\\\n])*$", String.Single),
            (r"(?:\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+", Number.Float, "after-operand"),
            (r"\d+\.\d*|\.\d+", Number.Float, "after-operand"),
            (r"\d+", Number.Integer, "after-operand"),
            # names
            (r"(\.)(\s*)(" + _IDENT + ")", bygroups(Punctuation, Whitespace, Name.Attribute),
             "after-operand"),
            (words(BUILTINS, suffix=r"\b"), Name.Builtin, "after-operand"),
            (r"__" + r"[A-Za-z0-9_]*", Name.Exception, "after-operand"),   # reserved: an error
            (_IDENT, Name, "after-operand"),
            # operators and punctuation
            (r"[)\]]", Punctuation, "after-operand"),
            (r"=>|==|!=|<=|>=|&&|\|\||[-+*/%<>=!?:]", Operator),
            (r"[(\[{};,.]", Punctuation),
            (r".", Text),
        ],
        "after-operand": [
            (r"[ \t\r\n]+", Whitespace),
            (r"//", Operator, "#pop"),
            default("#pop"),
        ],
        "capability": [
            (r"\}", Punctuation, "#pop"),
            (words(CAPABILITY_WORDS, suffix=r"\b"), Keyword),
            include("root"),
        ],
    }
