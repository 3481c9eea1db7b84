"""Facts about the ML language that several parts of mlpy (and its front doors) need.

Written once here: the identifier rule, the reserved words (the lexer maps them to token
types, the namespace refuses them as context names, the kernel highlights and completes them),
how an ML name becomes a Python name, and the Jupyter `language_info`.
"""

from __future__ import annotations

import keyword
import re

from . import __version__

IDENTIFIER_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"     # ASCII only (spec §1)
IDENTIFIER = re.compile(IDENTIFIER_PATTERN + r"\Z")

# Statement keywords, then the three constant words (all reserved: never a name).
KEYWORDS = ("function", "fn", "return", "if", "elif", "else", "while", "for", "in", "break",
            "continue", "try", "except", "finally", "throw", "import", "as", "capability",
            "nonlocal")
CONSTANTS = ("true", "false", "null")
RESERVED_WORDS = frozenset(KEYWORDS + CONSTANTS)
# Help text of each reserved word (the kernel's Shift-Tab and `NAME?` on a keyword).
KEYWORD_HELP: dict[str, str] = {
    "function": "function name(a, b) { ... }\n\nDefines a named function.",
    "fn": "fn (a, b) => expression  /  fn (a) => { statements }\n\nAn anonymous (arrow) "
          "function.",
    "return": "return value;\n\nLeaves the function with value (null without one).",
    "if": "if (test) { ... } elif (test) { ... } else { ... }\n\nRuns the first block whose "
          "test is truthy.",
    "elif": "elif (test) { ... }\n\nAnother test of an if statement.",
    "else": "else { ... }\n\nRuns when no test of the if statement was truthy.",
    "while": "while (test) { ... }\n\nRuns the block while test is truthy.",
    "for": "for (x in iterable) { ... }\n\nRuns the block for each element (array), "
           "character (string) or key (object).",
    "in": "for (x in iterable)\n\nThe iterable of a for loop; `a in b` tests membership.",
    "break": "break;\n\nLeaves the innermost loop.",
    "continue": "continue;\n\nGoes on with the next round of the innermost loop.",
    "try": "try { ... } except (e) { ... } finally { ... }\n\nCatches errors raised in the "
           "block.",
    "except": "except (e) { ... }\n\nRuns when the try block raised; e is the error object "
              "{type, message}.",
    "finally": "finally { ... }\n\nRuns after the try block whatever happened.",
    "throw": "throw value;\n\nRaises an error: an object {type, message} or a string.",
    "import": "import name;  /  import name as alias;\n\nMakes a library or user module "
              "available.",
    "as": "import name as alias;\n\nThe name an import is bound to.",
    "capability": "capability name { ... }\n\nDeclares the capabilities a block needs "
                  "(it grants none).",
    "nonlocal": "nonlocal name;\n\nAssigning name in this function rebinds the enclosing "
                "function's (or the program's) variable.",
    "true": "true\n\nThe boolean constant.",
    "false": "false\n\nThe boolean constant.",
    "null": "null\n\nThe absence of a value.",
}

# Words that are keywords only inside a `capability` block.
CAPABILITY_WORDS = ("resource", "allow", "read", "write", "execute", "network", "system")

# An ML name that is a Python keyword (`class`, `def`, ...) is stored under this prefix.
KW_PREFIX = "__ml_kw_"


def py_name(name: str) -> str:
    """The Python identifier for an ML name (Python keywords are renamed out of the way)."""
    if keyword.iskeyword(name):
        return KW_PREFIX + name
    return name


def ml_name(py: str) -> str:
    """The ML name a Python identifier made by `py_name` stands for."""
    return py[len(KW_PREFIX):] if py.startswith(KW_PREFIX) else py


FILE_EXTENSION = ".ml"
MIMETYPE = "text/x-ml"

# Jupyter's `language_info` for ML (kernel_info replies, notebooks written by the server).
LANGUAGE_INFO: dict[str, str] = {
    "name": "ml",
    "version": __version__,
    "mimetype": MIMETYPE,
    "file_extension": FILE_EXTENSION,
    "pygments_lexer": "ml",
    "codemirror_mode": "ml",     # registered by the bundled JupyterLab extension (labextension/)
}
