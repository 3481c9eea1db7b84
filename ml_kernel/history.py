"""The kernel's input history, kept in memory for the life of the kernel process.

Entries are (session, line, input) or, with output, (session, line, (input, output)), as in
the Jupyter history_reply. The kernel process is one history session, numbered 1; a request
for session 0 or a negative session means the current one.
"""

from __future__ import annotations

import fnmatch

SESSION = 1


class History:
    def __init__(self) -> None:
        self.entries: list[tuple[int, str, str | None]] = []   # (line, input, output)

    def add(self, line: int, source: str) -> None:
        self.entries.append((line, source, None))

    def set_output(self, line: int, output: str) -> None:
        for i in range(len(self.entries) - 1, -1, -1):
            if self.entries[i][0] == line:
                self.entries[i] = (line, self.entries[i][1], output)
                return

    def sources(self) -> list[str]:
        return [source for _, source, _ in self.entries]

    def _rows(self, entries, output: bool) -> list:
        if output:
            return [(SESSION, line, (source, out)) for line, source, out in entries]
        return [(SESSION, line, source) for line, source, _ in entries]

    def tail(self, n: int | None, output: bool = False) -> list:
        entries = self.entries if not n else self.entries[-n:]
        return self._rows(entries, output)

    def range(self, session: int | None, start: int | None, stop: int | None,
              output: bool = False) -> list:
        if session not in (None, 0, SESSION) and not (session or 0) < 0:
            return []
        start = start or 0
        entries = [e for e in self.entries
                   if e[0] >= start and (stop is None or e[0] < stop)]
        return self._rows(entries, output)

    def search(self, pattern: str | None, n: int | None = None, unique: bool = False,
               output: bool = False) -> list:
        pattern = pattern or "*"
        matched = [e for e in self.entries if fnmatch.fnmatchcase(e[1], pattern)]
        if unique:
            seen: dict[str, tuple] = {}
            for entry in matched:                  # keep the latest of each input
                seen.pop(entry[1], None)
                seen[entry[1]] = entry
            matched = list(seen.values())
        if n:
            matched = matched[-n:]
        return self._rows(matched, output)
