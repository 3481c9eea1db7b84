"""The `mlpy` command: run, transpile and check ML files.

    mlpy run FILE [--allow CAP]... [--allow all] [--timeout S] [--root DIR] [-- ARGS...]
    mlpy transpile FILE
    mlpy check FILE [--no-strict]

Exit status: 0 success, 1 an error while running (or problems found by check), 2 an error
before running (syntax, security, imports, unreadable file, bad usage).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

from . import __version__
from .errors import MLError, MLSyntaxError

EXIT_RUNTIME = 1
EXIT_COMPILE = 2
# A program from the terminal is stopped after this long unless --timeout says otherwise: a
# runaway loop should not need a kill from another window (--timeout 0 lifts the limit).
DEFAULT_RUN_TIMEOUT = 60.0


_NOT_GRANTED = re.compile(r"requires capability '([\w.]+)', which has not been granted")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"mlpy: cannot read {path}: {reason}", file=sys.stderr)
        raise SystemExit(EXIT_COMPILE) from None


def _stdin_reader(prompt: str):
    if prompt:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    try:
        line = sys.stdin.readline()
    except (OSError, ValueError):
        return None
    if not line:
        return None
    return line[:-1] if line.endswith("\n") else line


def cmd_run(args) -> int:
    from .program import compile as compile_program
    from .runner import execute
    from .runtime.context import Capabilities, ConsoleSink, ExecutionContext, Limits
    from .runtime.namespace import new_namespace

    source = _read(args.file)
    file = Path(args.file).resolve()
    try:
        program = compile_program(source, strict_security=not args.no_strict,
                                  filename=f"<ml:{args.file}>")
    except MLError as exc:
        print(exc.render(source), file=sys.stderr)
        return EXIT_COMPILE
    stdin_ok = sys.stdin is not None and not sys.stdin.closed
    context = ExecutionContext(
        output=ConsoleSink(), capabilities=Capabilities(args.allow or ()), limits=Limits(),
        file_root=Path(args.root).resolve() if args.root else Path.cwd(),
        allowed_hosts=tuple(args.allow_host or ()),
        env={name: os.environ[name] for name in (args.env or ()) if name in os.environ},
        argv=list(args.args or []), script=args.file, import_paths=[file.parent],
        input=_stdin_reader if stdin_ok else None, grant_hint="grant it with --allow {cap}")
    namespace = new_namespace(origin=file.parent)
    with _deadline(args.timeout):
        outcome = execute(program, namespace, context)
    sys.stdout.flush()
    if outcome.error is not None:
        err = outcome.error
        needed = _NOT_GRANTED.search(err.message) if err.type == "CapabilityError" else None
        if needed:
            # the command line's hint, in what it prints only: a caught error's message
            # has none (spec §11.3)
            err.message += f" (grant it with --allow {needed.group(1)})"
        print(err.render(source), file=sys.stderr)
        return EXIT_COMPILE if isinstance(err, MLSyntaxError) else EXIT_RUNTIME
    return 0


class _deadline:
    """Stop the program after `seconds`: SIGALRM raises TimeoutStop in the main thread (again
    and again, so a `finally` cannot keep it running)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds

    def __enter__(self):
        if not self.seconds or threading.current_thread() is not threading.main_thread():
            self.seconds = None
            return self
        from .runtime.signals import TimeoutStop
        from .runtime.stops import stop_class, timeout_message
        stop = stop_class(TimeoutStop, timeout_message(self.seconds))

        def on_alarm(signum, frame):
            raise stop()

        self.previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds, 0.05)
        return self

    def __exit__(self, *exc):
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _seconds(text: str) -> float:
    """--timeout's type: a finite number of seconds, 0 or more."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"the timeout must be 0 (no limit) or more: {text!r}")
    return value


def cmd_transpile(args) -> int:
    from .program import compile as compile_program
    source = _read(args.file)
    try:
        program = compile_program(source, strict_security=False, cache=False)
    except MLError as exc:
        print(exc.render(source), file=sys.stderr)
        return EXIT_COMPILE
    print(program.python_source)
    return 0


def cmd_check(args) -> int:
    from .program import check
    source = _read(args.file)
    problems = check(source, strict=not args.no_strict)
    for problem in problems:
        message = problem.message
        if not message.startswith("Parse error:"):
            message = f"{problem.type}: {message}"
        print(f"{args.file}:{problem.line or 0}:{problem.column or 0}: {message}")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    import argparse
    parser = argparse.ArgumentParser(prog="mlpy", description="Run, transpile and check ML "
                                     "programs.")
    parser.add_argument("--version", action="version", version=f"mlpy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an ML program")
    run.add_argument("file")
    run.add_argument("--allow", action="append", metavar="CAP",
                     help="grant a capability (file.read, network.http, ... or all)")
    run.add_argument("--allow-host", action="append", metavar="HOST",
                     help="let http reach this host")
    run.add_argument("--env", action="append", metavar="NAME",
                     help="let env read this environment variable")
    run.add_argument("--root", metavar="DIR", help="folder file access is confined to "
                     "(default: the current folder)")
    run.add_argument("--timeout", type=_seconds, metavar="S", default=DEFAULT_RUN_TIMEOUT,
                     help="stop after S seconds (default %(default)g; 0 = no limit)")
    run.add_argument("--no-strict", action="store_true",
                     help="report security problems at run time instead of before running")
    run.add_argument("args", nargs="*", help="arguments for the program, after --")
    run.set_defaults(handler=cmd_run)
    tr = sub.add_parser("transpile", help="print the Python an ML program compiles to")
    tr.add_argument("file")
    tr.set_defaults(handler=cmd_transpile)
    ck = sub.add_parser("check", help="report syntax and security problems")
    ck.add_argument("file")
    ck.add_argument("--no-strict", action="store_true", help="only the always-on rules")
    ck.set_defaults(handler=cmd_check)
    return parser


def _plain_run(argv: list[str]) -> SimpleNamespace | None:
    """`mlpy run FILE` (the common case) read without argparse: importing it (with gettext
    and locale) and building the parser is ~7 ms of a start that is ~60 ms over Python's own.
    The same attributes as `build_parser().parse_args(argv)` gives (a test checks); None for
    anything else."""
    if len(argv) != 2 or argv[0] != "run" or argv[1].startswith("-"):
        return None
    return SimpleNamespace(command="run", file=argv[1], allow=None, allow_host=None, env=None,
                           root=None, timeout=DEFAULT_RUN_TIMEOUT, no_strict=False, args=[],
                           handler=cmd_run)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    program_args: list[str] = []
    if "--" in argv:                  # everything after `--` belongs to the program
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    args = _plain_run(argv) or build_parser().parse_args(argv)
    if hasattr(args, "args"):
        args.args = list(args.args or []) + program_args
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("mlpy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
