"""MLKernel: an ipykernel wrapper kernel whose cells run in one mlpy executor session.

The shell channel runs on the main thread's asyncio loop; ML code runs on the executor's
worker threads, so the loop stays free while a cell runs. That is what makes the rest work:

* `print` output arrives through the session's `on_output` callback, which the executor calls
  on this loop in batches while the cell still runs (and flushes before the result), so
  `stream` messages come before the cell's result.
* An interrupt (interrupt_request on the control thread, or SIGINT on the main thread) asks
  the loop to `session.cancel()` the running cell; the session stays.
* `input()` sends an input_request over stdin from the worker thread, tagged with the parent
  of the cell that asked (captured before the cell started).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time

from ipykernel._version import kernel_protocol_version
from ipykernel.kernelbase import Kernel

from mlpy.language import LANGUAGE_INFO

from . import __version__
from .history import History
from .introspect import (Introspector, Var, completion_owner, help_target_end, members_query,
                         normalise_variables)
from .links import help_links
from .magics import MagicError, lsmagic, parse_cell, parse_characters, parse_seconds

TIMEOUT_ENV = "ML_KERNEL_TIMEOUT"
CAPABILITIES_ENV = "ML_KERNEL_CAPABILITIES"
ISOLATION_ENV = "ML_KERNEL_ISOLATION"   # "process": run cells in a worker process
OUTPUT_LIMIT_ENV = "ML_KERNEL_OUTPUT_LIMIT"  # characters of a cell's output shown
DISPLAY_ENV = "ML_KERNEL_DISPLAY"       # "json": results also carry application/json
DISPLAY_TEXT_LIMIT = 100_000            # characters of a result's text/plain before the cut
DISPLAY_TABLE_ROWS = 50                 # rows of a result's HTML table before "... M more"
_EXIT = re.compile(r"\s*(exit|quit)\s*(?:\(\s*\))?\s*;?\s*")
COMPLETION_TIMEOUT = 1.0               # seconds completion may ask the session for members
MAX_COMPLETIONS = 5000                 # keys or members of one object offered
MAX_REMEMBERED_CELLS = 10_000          # cells a call stack can name (`Cell In[3]`)
SHUTDOWN_GRACE = 0.5       # seconds the process may take to exit after a shutdown request


class MLKernel(Kernel):
    implementation = "ml_kernel"
    implementation_version = __version__
    language = "ml"
    language_version = __version__
    language_info = dict(LANGUAGE_INFO)
    banner = (f"ML {language_version} — a small C/JavaScript-like scripting language compiled "
              "to Python.\nMagics: %lsmagic. Help: NAME? or %help NAME.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.default_timeout: float | None = self._env_timeout()
        self.display_json = os.environ.get(DISPLAY_ENV, "").strip().lower() == "json"
        self._cell_json = self.display_json
        self.history = History()
        self.introspector = Introspector(self._variables, self.history.sources)
        self._executor = None
        self._session = None
        self._pending_result: tuple[int, dict] | None = None   # sent after the cell's output
        self._task: asyncio.Future | None = None     # the running cell's session.execute
        self._interrupted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.output_limit: int | None = self._env_output_limit()
        self._cell_output_limit: int | None = self.output_limit
        self._cell_output_sent = 0
        self._cell_output_cut = False
        self._cell_programs: dict[str, int] = {}     # program id -> the cell that ran it last

    # -- setup -----------------------------------------------------------------------------
    @staticmethod
    def _env_timeout() -> float | None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        if not text or text.lower() in ("0", "none", "off"):
            return None
        try:
            return parse_seconds(text)
        except MagicError:
            return None

    @staticmethod
    def _env_output_limit() -> int | None:
        text = os.environ.get(OUTPUT_LIMIT_ENV, "").strip()
        if not text or text.lower() in ("off", "none", "0"):
            return None
        try:
            return parse_characters(text)
        except MagicError:
            return None

    @staticmethod
    def granted_capabilities() -> list[str]:
        text = os.environ.get(CAPABILITIES_ENV, "")
        return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]

    @property
    def session_ml(self):
        """The executor session (created on first use, so a broken mlpy shows as a cell error
        rather than a kernel that dies while starting)."""
        if self._session is None:
            from mlpy import AsyncMLExecutor
            isolation = os.environ.get(ISOLATION_ENV, "").strip().lower() or "thread"
            self._executor = AsyncMLExecutor(max_workers=1,
                                             capabilities=self.granted_capabilities(),
                                             file_root=os.getcwd(),
                                             isolation="process" if isolation == "process"
                                             else "thread")
            self._session = self._executor.session()
        return self._session

    def start(self):
        super().start()
        self._loop = self.io_loop.asyncio_loop
        threading.Thread(target=self._warm_up, name="ml-warm-up", daemon=True).start()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._on_sigint)

    # ipykernel swaps SIGINT to KeyboardInterrupt around each shell message; the ML kernel
    # keeps its own handler, which cancels the running cell instead.
    def pre_handler_hook(self):
        pass

    def post_handler_hook(self):
        pass

    @property
    def kernel_info(self):
        # Built here rather than by the base class, which imports debugpy to decide whether
        # to advertise a debugger: this kernel has none, and no subshells either.
        return {
            "protocol_version": kernel_protocol_version,
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "language_info": self.language_info,
            "banner": self.banner,
            "help_links": help_links(),
            "supported_features": [],
        }

    def _warm_up(self) -> None:
        """Import the compiler and build the parser off the main thread, so the first
        is_complete (jupyter console waits 1 s for it) and the first cell are quick."""
        try:
            import mlpy
            from mlpy.executor import AsyncMLExecutor  # noqa: F401
            mlpy.compile("x = 1", interactive=True)
        except Exception:
            pass

    # -- execution --------------------------------------------------------------------------
    async def do_execute(self, code, silent, store_history=True, user_expressions=None,
                         allow_stdin=False, *, cell_meta=None, cell_id=None):
        self._allow_stdin = allow_stdin
        count = self.execution_count
        if store_history and not silent:
            self.history.add(count, code)
        try:
            cell = parse_cell(code)
        except MagicError as exc:
            return self._error(count, "MagicError", str(exc), [f"MagicError: {exc}"], silent)

        if cell.help is not None:
            if not cell.code.strip():
                return self._page_help(count, cell.help)
            # `%help NAME` and then code: the help first, then the code runs
            self._print(self._help_text(cell.help) + "\n", silent)
        if (not cell.magics and _EXIT.fullmatch(cell.code)
                and _EXIT.fullmatch(cell.code).group(1) not in self.introspector.variables()):
            # `exit` / `quit` (not an ML variable of that name): leave the console, which
            # acts on the ask_exit payload; notebooks ignore it
            reply = self._ok(count)
            reply["payload"] = [{"source": "ask_exit", "keepkernel": False}]
            return reply

        # the cell's time limit: `%timeout N` line > cell metadata > the kernel default
        timeout = self.default_timeout
        meta_timeout = (cell_meta or {}).get("timeout") if isinstance(cell_meta, dict) else None
        if meta_timeout is not None:
            try:
                timeout = parse_seconds(str(meta_timeout))
            except MagicError as exc:
                return self._error(count, "MagicError", str(exc), [f"MagicError: {exc}"], silent)
        if cell.timeout is not None or cell.timeout_off:
            if cell.only_magics and len(cell.magics) == 1:
                self.default_timeout = cell.timeout
                self._print(f"Default timeout: {self._timeout_text(cell.timeout)}\n", silent)
                return self._ok(count)
            timeout = None if cell.timeout_off else cell.timeout

        # the cell's output cap: `%output_limit N` line > the kernel default
        self._cell_output_limit = self.output_limit
        if cell.output_limit is not None or cell.output_limit_off:
            value = None if cell.output_limit_off else cell.output_limit
            if cell.only_magics and len(cell.magics) == 1:
                self.output_limit = value
                self._print(f"Output limit: {self._limit_text(value)} (for the following "
                            "cells)\n", silent)
                return self._ok(count)
            self._cell_output_limit = value
        self._cell_output_sent = 0
        self._cell_output_cut = False

        await self._run_magics(cell, silent)
        if cell.has("python"):
            return self._show_python(count, cell.code, silent)

        if cell.only_magics:
            return self._ok(count)

        started = time.perf_counter()
        reply = await self._run(count, cell.code, timeout, silent, store_history, allow_stdin)
        if cell.has("time"):
            elapsed = time.perf_counter() - started
            self._print(f"Wall time: {elapsed * 1000:.1f} ms\n", silent, first=True)
        self._flush_result(silent)
        return reply

    async def _run_magics(self, cell, silent: bool) -> None:
        """The magics of a cell that act before (or instead of) its code."""
        self._cell_json = self.display_json
        for name, _arg in cell.magics:
            if name == "display":
                if not _arg:
                    self._print(f"Display: {'json' if self.display_json else 'text'}\n", silent)
                elif cell.only_magics:
                    self.display_json = _arg.lower() == "json"
                    self._print(f"Display: {_arg.lower()} (for the following cells)\n", silent)
                else:
                    self._cell_json = _arg.lower() == "json"
            elif name == "timeout" and not _arg:
                self._print(f"Default timeout: {self._timeout_text(self.default_timeout)}\n",
                            silent)
            elif name == "reset":
                await self._reset()
                self._print("Session reset: all variables, functions and imports removed.\n",
                            silent)
            elif name == "clear":
                if not silent:
                    self.send_response(self.iopub_socket, "clear_output", {"wait": False})
            elif name == "output_limit" and not _arg:
                self._print(f"Output limit: {self._limit_text(self.output_limit)}\n", silent)
            elif name == "lsmagic":
                self._print(lsmagic() + "\n", silent)
            elif name == "capabilities":
                self._print(self._capabilities_text(), silent)
            elif name == "who":
                self._show_variables(silent)

    async def _run(self, count, code, timeout, silent, store_history, allow_stdin):
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._pending_result = None
        session = self.session_ml
        self._interrupted = False
        self._remember_cell(count, code)
        task = asyncio.ensure_future(session.execute(
            code, timeout=timeout, on_output=None if silent else self._send_program_output,
            interactive=True, input=self._input_function(allow_stdin)))
        self._task = task
        result = None
        try:
            result = await task
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
        except Exception as exc:            # an executor failure, not an ML error
            return self._error(count, type(exc).__name__, str(exc),
                               [f"{type(exc).__name__}: {exc}"], silent)
        finally:
            self._task = None

        from mlpy.errors import MLError
        # an interrupt is the host's event (`stopped_by`), never read from `error_type`, which
        # a program chooses: `throw {type: "KeyboardInterrupt"}` keeps its own message
        if self._interrupted or result is None or result.stopped_by == "interrupt":
            error = MLError("Execution interrupted", type="KeyboardInterrupt",
                            line=result.line if result else None,
                            column=result.column if result else None)
            error.traceback = result.traceback if result else None
            return self._ml_error(count, error, code, silent)
        if not result.success:
            error = MLError(result.error or "", type=result.error_type or "Error",
                            line=result.line, column=result.column)
            error.traceback = result.traceback
            return self._ml_error(count, error, code, silent)

        value = result.display_value        # None: no final expression, or it was null
        if value is not None and not silent:
            from mlpy.display import mime_bundle
            data = mime_bundle(value, json=self._cell_json, text_limit=DISPLAY_TEXT_LIMIT,
                               table_rows=DISPLAY_TABLE_ROWS)
            if data:
                self._pending_result = (count, data)
                if store_history:
                    self.history.set_output(count, data.get("text/plain", ""))
        return self._ok(count)

    def _flush_result(self, silent: bool) -> None:
        pending = self._pending_result
        self._pending_result = None
        if pending and not silent:
            count, data = pending
            self.send_response(self.iopub_socket, "execute_result",
                               {"execution_count": count, "data": data, "metadata": {}})

    def _input_function(self, allow_stdin: bool):
        """What ML's input() calls (on a worker thread), or None when the front end cannot
        answer input requests."""
        if not allow_stdin:
            return None
        parent = self.get_parent("shell")
        ident = self._get_shell_context_var(self._shell_parent_ident)

        def ask(prompt: str = "") -> str | None:
            try:
                return self._input_request(str(prompt), ident, parent, password=False)
            except EOFError:
                return None

        return ask

    async def _reset(self) -> None:
        if self._session is None:
            return
        self._session.reset()

    # -- interrupts and shutdown --------------------------------------------------------------
    async def interrupt_request(self, stream, ident, parent):
        """Stop the running cell, if any (control thread); an idle kernel ignores it."""
        self._schedule_interrupt()
        self.session.send(stream, "interrupt_reply", {"status": "ok"}, parent, ident=ident)

    def _on_sigint(self, signum, frame):
        self._schedule_interrupt()

    def _schedule_interrupt(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._interrupt)
        except RuntimeError:
            pass

    def _interrupt(self) -> None:
        task = self._task
        if task is None or task.done():
            return                              # idle: nothing to stop
        self._interrupted = True
        asyncio.ensure_future(self._stop_running(task))

    async def _stop_running(self, task: asyncio.Future) -> None:
        try:
            await asyncio.wait_for(self._session.cancel(), 0.6)
        except Exception:
            pass
        if not task.done():                     # the session did not stop it: cancel the await
            await asyncio.wait([task], timeout=0.3)
            if not task.done():
                task.cancel()

    async def do_shutdown(self, restart):
        """Stop a running cell and make sure the process exits promptly (control thread)."""
        self._schedule_interrupt()
        executor = self._executor
        if executor is not None:
            try:
                executor.shutdown(wait=False)
            except TypeError:
                executor.shutdown()
            except Exception:
                pass
        # A runaway cell can hold a worker thread that interpreter exit would wait for.
        timer = threading.Timer(SHUTDOWN_GRACE, os._exit, (0,))
        timer.daemon = True
        timer.start()
        return {"status": "ok", "restart": restart}

    # -- introspection ------------------------------------------------------------------------
    def _variables(self) -> list[Var]:
        if self._session is None:
            return []
        return normalise_variables(self._session.variables())

    async def do_complete(self, code, cursor_pos):
        cursor_pos = len(code) if cursor_pos is None else cursor_pos
        owner = completion_owner(code, cursor_pos)
        runtime = await self._members_of(owner) if owner else None
        return self.introspector.complete(code, cursor_pos, runtime)

    async def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        cursor_pos = len(code) if cursor_pos is None else cursor_pos
        head = code[:help_target_end(code, cursor_pos)]
        member = re.search(r"[A-Za-z_]\w*$", head)
        owner = completion_owner(head[:member.start()], member.start()) if member else None
        runtime = await self._members_of(owner) if owner else None
        return self.introspector.inspect(code, cursor_pos, detail_level,
                                         runtime[0] if runtime else None)

    async def _members_of(self, owner: str) -> tuple[str, list[str]] | None:
        """(ML type, member names or keys) of an expression, asked of the session — only a
        side-effect-free one (names, `.name`, literal indexes; completion_owner), only
        when no cell runs, and never for longer than COMPLETION_TIMEOUT."""
        if self._session is None or self._task is not None:
            return None
        try:
            result = await asyncio.wait_for(self._session.execute(
                members_query(owner), timeout=COMPLETION_TIMEOUT, interactive=True),
                COMPLETION_TIMEOUT + 1)
        except Exception:                   # noqa: BLE001 - no completion is better than a crash
            return None
        value = result.display_value if result.success else None
        if (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
                and isinstance(value[1], list)):
            return value[0], [n for n in value[1][:MAX_COMPLETIONS] if isinstance(n, str)]
        return None

    async def do_is_complete(self, code):
        return self.introspector.is_complete(code)

    async def do_history(self, hist_access_type, output, raw, session=None, start=None,
                         stop=None, n=None, pattern=None, unique=False):
        if hist_access_type == "tail":
            rows = self.history.tail(n, output)
        elif hist_access_type == "range":
            rows = self.history.range(session, start, stop, output)
        elif hist_access_type == "search":
            rows = self.history.search(pattern, n, unique, output)
        else:
            rows = []
        return {"status": "ok", "history": rows}

    # -- replies and output -------------------------------------------------------------------
    def _ok(self, count: int) -> dict:
        return {"status": "ok", "execution_count": count, "payload": [],
                "user_expressions": {}}

    def _error(self, count: int, ename: str, evalue: str, traceback: list[str],
               silent: bool) -> dict:
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": count, **content}

    def _remember_cell(self, count: int, code: str) -> None:
        """Which cell ran which program text, so a call stack names `Cell In[3]`."""
        from mlpy.program import program_id
        cells = self._cell_programs
        key = program_id(code)
        cells.pop(key, None)
        cells[key] = count
        while len(cells) > MAX_REMEMBERED_CELLS:
            cells.pop(next(iter(cells)))

    def _frame_place(self, frame: dict) -> str | None:
        if frame.get("file"):
            return f'File "{frame["file"]}"'
        count = self._cell_programs.get(frame.get("program") or "")
        return f"Cell In[{count}]" if count is not None else "Cell In[?]"

    def _ml_error(self, count: int, error, source: str, silent: bool) -> dict:
        from mlpy.display import error_content
        content = error_content(error, source, where=self._frame_place)
        return self._error(count, content["ename"], content["evalue"], content["traceback"],
                           silent)

    def _send_stream(self, name: str, text: str) -> None:
        if name == "display":
            self._send_display(text)
            return
        self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    @staticmethod
    def _limit_text(limit: int | None) -> str:
        return "none" if limit is None else f"{limit} characters per cell"

    def _send_program_output(self, name: str, text: str) -> None:
        """A cell's print output, cut with a note once it passes the cell's output limit
        (the cell goes on running; the executor's own cap still stops a runaway)."""
        limit = self._cell_output_limit
        if name == "display" or limit is None:
            self._send_stream(name, text)
            return
        if self._cell_output_cut:
            return
        left = limit - self._cell_output_sent
        if len(text) <= left:
            self._cell_output_sent += len(text)
            self._send_stream(name, text)
            return
        self._cell_output_cut = True
        self._cell_output_sent = limit
        self._send_stream(name, text[:left] + f"\n... (output cut at {limit} characters; "
                                              "%output_limit changes the limit)\n")

    def _send_display(self, text: str) -> None:
        """A message of ML's `display` module: display_data, update_display_data or
        clear_output."""
        from mlpy.stdlib.display import message_of
        message = message_of(text)
        if message is None:
            return
        op = message["op"]
        if op == "clear":
            self.send_response(self.iopub_socket, "clear_output", {"wait": False})
            return
        content = {"data": message.get("data", {}), "metadata": {},
                   "transient": {"display_id": message.get("id")}}
        kind = "update_display_data" if op == "update" else "display_data"
        self.send_response(self.iopub_socket, kind, content)

    def _print(self, text: str, silent: bool, first: bool = False) -> None:
        if not silent:
            self._send_stream("stdout", text)

    @staticmethod
    def _timeout_text(seconds: float | None) -> str:
        return "none" if seconds is None else f"{seconds:g} seconds"

    def _help_text(self, name: str) -> str:
        text = self.introspector.describe(name, detail_level=1)
        return f"No help available for {name}" if text is None else text

    def _page_help(self, count: int, name: str) -> dict:
        text = self._help_text(name)
        reply = self._ok(count)
        reply["payload"] = [{"source": "page", "data": {"text/plain": text}, "start": 0}]
        return reply

    def _capabilities_text(self) -> str:
        from mlpy.runtime.context import CAPABILITY_NAMES
        granted = self.granted_capabilities()
        if "all" in granted:
            granted = list(CAPABILITY_NAMES)
        lines = ["Granted: " + (", ".join(sorted(granted)) if granted else "none")]
        others = [c for c in CAPABILITY_NAMES if c not in granted]
        if others:
            lines.append("Not granted: " + ", ".join(others))
        lines.append(f"Grant with the environment variable {CAPABILITIES_ENV} "
                     "(comma-separated, or all) before starting the kernel.")
        return "\n".join(lines) + "\n"

    def _show_variables(self, silent: bool) -> None:
        if silent:
            return
        import html
        rows = self._variables()
        if not rows:
            data = {"text/plain": "No variables.",
                    "text/html": "<p><em>No variables.</em></p>"}
        else:
            width = max(len(v.name) for v in rows)
            kind = max(len(v.type) for v in rows)
            text = "\n".join(f"{v.name:<{width}}  {v.type:<{kind}}  {v.repr}" for v in rows)
            body = "".join(f"<tr><td><code>{html.escape(v.name)}</code></td>"
                           f"<td>{html.escape(v.type)}</td>"
                           f"<td><code>{html.escape(v.repr)}</code></td></tr>" for v in rows)
            data = {"text/plain": text,
                    "text/html": ("<table><thead><tr><th>name</th><th>type</th><th>value</th>"
                                  f"</tr></thead><tbody>{body}</tbody></table>")}
        self.send_response(self.iopub_socket, "display_data", {"data": data, "metadata": {}})

    def _show_python(self, count: int, code: str, silent: bool) -> dict:
        from mlpy.errors import MLError
        from mlpy import compile as ml_compile
        try:
            program = ml_compile(code, interactive=True)
        except MLError as exc:
            return self._ml_error(count, exc, code, silent)
        self._print(program.python_source.rstrip("\n") + "\n", silent)
        return self._ok(count)
