"""lark's LALR table for mlpy/grammar/ml.lark, shipped precomputed next to the grammar.

Computing the table (importing lark, analysing the grammar) costs over 100 ms, paid by every
process on its first parse: each `mlpy run`, kernel start and isolated worker. The table is a
function of the grammar alone, so lark computes it once and it is stored with the grammar's
hash; a missing or stale file falls back to asking lark. `python -m mlpy.parse_table`
rewrites it, and a test checks that the stored table is lark's for the current grammar.

A table is {"start": state, "end": state, "states": [row, ...]} where a row maps a terminal
or rule name to the next state (a shift, or a goto after a reduction) or to
[rule name, number of symbols, alias or null] (a reduction).
"""

from __future__ import annotations

import marshal
from pathlib import Path

GRAMMAR = Path(__file__).with_name("grammar") / "ml.lark"
TABLE = GRAMMAR.with_suffix(".table.json")
# the parser driver's rows derived from the table (mlpy/parser.py `stored_rows`), in
# Python's marshal format: loading them is ~0.5 ms, deriving them ~9 ms
DRIVER = GRAMMAR.with_suffix(".driver.marshal")


def _digest(grammar: str) -> str:
    # the built-in SHA-256 where there is one: hashlib loads OpenSSL, ~5 ms of every
    # `mlpy run`'s start for one 10 KB digest
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]    # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256(grammar.encode("utf-8")).hexdigest()


def compute(grammar: str) -> dict:
    """The table as lark builds it for `grammar`."""
    from lark import Lark
    from lark.lexer import Lexer
    from lark.parsers.lalr_analysis import Shift

    class NoLexer(Lexer):
        """lark only builds the table; tokens come from mlpy.lexer."""

        def __init__(self, lexer_conf=None):
            pass

        def lex(self, data):
            raise NotImplementedError

    table = Lark(grammar, parser="lalr", lexer=NoLexer).parser.parser.parser.parse_table
    rows = {state: {str(symbol): arg if action is Shift else
                    [str(arg.origin.name), len(arg.expansion), arg.alias]
                    for symbol, (action, arg) in row.items()}
            for state, row in table.states.items()}
    # lark numbers states in set-iteration order, which varies with the hash seed: renumber
    # them in the order a walk from the start state reaches them, so one grammar always
    # gives one table
    order = [table.start_states["start"]]
    number = {order[0]: 0}
    for state in order:
        for symbol in sorted(rows[state]):
            target = rows[state][symbol]
            if target.__class__ is int and target not in number:
                number[target] = len(order)
                order.append(target)
    states = [{symbol: number[act] if act.__class__ is int else act
               for symbol, act in sorted(rows[state].items())} for state in order]
    return {"grammar_sha256": _digest(grammar), "start": 0,
            "end": number[table.end_states["start"]], "states": states}


def load() -> dict:
    """The stored table when it was made from the current grammar, else lark's."""
    import json         # (here: the stored driver rows spare a process the table)
    grammar = GRAMMAR.read_text(encoding="utf-8")
    try:
        table = json.loads(TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return compute(grammar)
    if table.get("grammar_sha256") != _digest(grammar):
        return compute(grammar)
    return table


def load_driver() -> dict | None:
    """The stored driver rows when they were made from the current grammar, else None."""
    try:
        stored = marshal.loads(DRIVER.read_bytes())
        grammar = GRAMMAR.read_text(encoding="utf-8")
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(stored, dict) or stored.get("grammar_sha256") != _digest(grammar):
        return None
    return stored


def driver_bytes(table: dict) -> bytes:
    """The stored form of the driver rows for `table`."""
    from .parser import _Driver, stored_rows
    stored = stored_rows(_Driver(table))
    stored["grammar_sha256"] = table["grammar_sha256"]
    return marshal.dumps(stored)


def write() -> None:
    import json
    table = compute(GRAMMAR.read_text(encoding="utf-8"))
    TABLE.write_text(json.dumps(table, separators=(",", ":")) + "\n", encoding="utf-8")
    DRIVER.write_bytes(driver_bytes(table))


if __name__ == "__main__":
    write()
    print(f"wrote {TABLE} and {DRIVER}")
