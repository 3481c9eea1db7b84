"""The kernel's input history, kept in a small SQLite file so it outlives the kernel process.

The file is `<Jupyter data dir>/ml_kernel/history.sqlite` (`ML_KERNEL_HISTORY=PATH` names
another, `ML_KERNEL_HISTORY=off` keeps it in memory only). Each kernel process is one history
session, numbered after the sessions already in the file. Entries are (session, line, input)
or, with output, (session, line, (input, output)), as in the Jupyter history_reply; a
request for session 0 means the current session, a negative one counts back from it.
A file that cannot be opened or written is never an error: the history is then in memory.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

HISTORY_ENV = "ML_KERNEL_HISTORY"
MAX_ROWS = 10_000          # entries kept in the file (the oldest go first)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (session INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT);
CREATE TABLE IF NOT EXISTS history (session INTEGER NOT NULL, line INTEGER NOT NULL,
    source TEXT NOT NULL, output TEXT, PRIMARY KEY (session, line));
"""


def history_path() -> str:
    """Where the history file is (":memory:" when it is off)."""
    configured = os.environ.get(HISTORY_ENV, "").strip()
    if configured.lower() in ("off", "none", ":memory:"):
        return ":memory:"
    if configured:
        return configured
    from jupyter_core.paths import jupyter_data_dir
    return str(Path(jupyter_data_dir()) / "ml_kernel" / "history.sqlite")


class History:
    def __init__(self, path: str | None = None) -> None:
        self.entries: list[tuple[int, str, str | None]] = []   # this session's (line, input, output)
        self.path = path or history_path()
        try:
            self.db = self._open(self.path)
        except (sqlite3.Error, OSError):
            self.path = ":memory:"
            self.db = self._open(self.path)
        cur = self.db.execute("INSERT INTO sessions (started) VALUES (datetime('now'))")
        self.session = int(cur.lastrowid or 1)
        self._commit()

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=2.0, check_same_thread=False)
        db.executescript(_SCHEMA)
        db.execute("DELETE FROM history WHERE rowid NOT IN (SELECT rowid FROM history "
                   "ORDER BY session DESC, line DESC LIMIT ?)", (MAX_ROWS,))
        db.commit()
        return db

    def _write(self, sql: str, args: tuple) -> None:
        try:
            self.db.execute(sql, args)
            self._commit()
        except sqlite3.Error:
            pass                     # another kernel holds the file: this entry stays in memory

    def _commit(self) -> None:
        try:
            self.db.commit()
        except sqlite3.Error:
            pass

    def add(self, line: int, source: str) -> None:
        self.entries.append((line, source, None))
        self._write("INSERT OR REPLACE INTO history (session, line, source) VALUES (?, ?, ?)",
                    (self.session, line, source))

    def set_output(self, line: int, output: str) -> None:
        for i in range(len(self.entries) - 1, -1, -1):
            if self.entries[i][0] == line:
                self.entries[i] = (line, self.entries[i][1], output)
                break
        self._write("UPDATE history SET output = ? WHERE session = ? AND line = ?",
                    (output, self.session, line))

    def sources(self) -> list[str]:
        return [source for _, source, _ in self.entries]

    def _query(self, sql: str, args: tuple) -> list[tuple]:
        try:
            return list(self.db.execute(sql, args))
        except sqlite3.Error:
            return [(self.session, line, source, out) for line, source, out in self.entries]

    @staticmethod
    def _rows(rows: list[tuple], output: bool) -> list:
        if output:
            return [(session, line, (source, out)) for session, line, source, out in rows]
        return [(session, line, source) for session, line, source, _ in rows]

    def tail(self, n: int | None, output: bool = False) -> list:
        """The last n entries of all sessions, oldest first (all of them without n)."""
        rows = self._query("SELECT session, line, source, output FROM history "
                           "ORDER BY session DESC, line DESC LIMIT ?", (n or MAX_ROWS,))
        return self._rows(rows[::-1], output)

    def range(self, session: int | None, start: int | None, stop: int | None,
              output: bool = False) -> list:
        number = self.session if not session else (
            self.session + session if session < 0 else session)
        rows = self._query("SELECT session, line, source, output FROM history WHERE session = ? "
                           "AND line >= ? AND (? IS NULL OR line < ?) ORDER BY line",
                           (number, start or 0, stop, stop))
        return self._rows(rows, output)

    def search(self, pattern: str | None, n: int | None = None, unique: bool = False,
               output: bool = False) -> list:
        """Entries whose input matches the glob `pattern`, oldest first; the last n."""
        rows = self._query("SELECT session, line, source, output FROM history "
                           "WHERE source GLOB ? ORDER BY session, line", (pattern or "*",))
        if unique:
            seen: dict[str, tuple] = {}
            for row in rows:                       # keep the latest of each input
                seen.pop(row[2], None)
                seen[row[2]] = row
            rows = list(seen.values())
        if n:
            rows = rows[-n:]
        return self._rows(rows, output)

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass
