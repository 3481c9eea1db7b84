"""Running a compiled program in a namespace, and turning every failure into an MLError.

`execute` runs on the calling thread — the thread a host can interrupt — with the run's
context installed. `run` is the synchronous convenience of the public API.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Iterable

from .runtime import helper_names as H
from .errors import (MLCapabilityError, MLError, MLImportError, MLLimitError, MLRuntimeError,
                     MLSecurityError, MLTimeoutError)
from .program import CompiledProgram, compile as compile_program
from .record import Record
from .runtime.context import (Capabilities, ExecutionContext, Limits, OutputSink, current,
                              using)
from .runtime.errors import ml_message, ml_stack, ml_type_of
from .runtime.imports import SOURCES, check_import
from .runtime.namespace import new_namespace
from .runtime.ops import ReturnTop
from .runtime.signals import HostStop, InterruptStop, MemoryLimitStop, MLThrow, TimeoutStop
from .runtime.stops import (IN_PROGRAM, clear_pending, install_unraisable_filter, ml_location,
                            ml_position, raise_in_thread, stop_class, timeout_message)

_ERROR_CLASSES = {"SecurityError": MLSecurityError, "CapabilityError": MLCapabilityError,
                  "ImportError": MLImportError}


class Outcome(Record):
    """What one execution produced."""

    _fields = ("success", "value", "display_value", "has_display", "error", "host_event")

    def __init__(self, success: bool, value: Any = None, display_value: Any = None,
                 has_display: bool = False, error: MLError | None = None,
                 host_event: str | None = None):
        self.success = success
        self.value = value                    # the ML variable `result` (None if never set)
        self.display_value = display_value    # the value of a final expression statement
        self.has_display = has_display
        self.error = error
        # what the host must act on, set from the exception's class, never from the ML
        # error's type name (a program may throw {type: "MemoryError"}): "memory",
        # "timeout", "limit", "interrupt", or None
        self.host_event = host_event


def _ensure_recursion_limit(depth: int) -> None:
    # ML needs at least 1000 nested calls; helpers and library callbacks add frames.
    wanted = depth + 200
    if sys.getrecursionlimit() < wanted:
        sys.setrecursionlimit(wanted)


def execute(program: CompiledProgram, namespace: dict, context: ExecutionContext) -> Outcome:
    """Run `program` in `namespace` on this thread; never raises for ML-level failures."""
    _ensure_recursion_limit(context.limits.recursion_depth)
    namespace.pop(H.DISPLAY, None)
    with using(context):
        try:
            for path, line, column in program.imports:
                try:
                    if ".".join(path) not in namespace.get(H.MODULES, {}):
                        check_import(path, namespace.get(H.ORIGIN))
                except MLThrow as exc:
                    cls = _ERROR_CLASSES.get(exc.ml_type, MLImportError)
                    raise cls(exc.ml_message, line=line, column=column) from None
            try:
                exec(program.code, namespace)
            except ReturnTop:
                pass
        except MLError as exc:
            return Outcome(False, error=_located(exc, exc))
        except HostStop as exc:
            return Outcome(False, error=_located(host_stop_error(exc), exc),
                           host_event=_host_event(exc))
        except BaseException as exc:     # noqa: BLE001 - every failure becomes an ML error
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                return Outcome(False, error=_located(MLRuntimeError(
                    "Execution interrupted", type="KeyboardInterrupt",
                    **_position(exc)), exc), host_event="interrupt")
            if isinstance(exc, MemoryError):     # a host limit (spec §11.1), not ML's error
                return Outcome(False, error=_located(
                    MLLimitError(ml_message(exc), **_position(exc)), exc), host_event="memory")
            return Outcome(False, error=_located(runtime_error(exc), exc))
    has_display = program.has_display and H.DISPLAY in namespace
    display_value = namespace.pop(H.DISPLAY, None)
    return Outcome(True, value=namespace.get("result"), display_value=display_value,
                   has_display=has_display)


def _located(err: MLError, exc: BaseException) -> MLError:
    """`err` with where it happened: the user module it was raised in, and its call stack."""
    return _with_stack(_in_module(err, exc), exc)


def _in_module(err: MLError, exc: BaseException) -> MLError:
    """`err` naming the user module it was raised in (its file and source), if it was: its
    line is that file's (inside a run's context, where the loaded modules are recorded)."""
    filename = ml_location(exc)[0]
    if filename is not None and filename.startswith("<ml:"):
        # "<ml:FILE#id>" (the program id a code file name carries) -> "<ml:FILE>"
        base = filename.rpartition("#")[0] + ">" if "#" in filename else filename
        found = current().module_state(SOURCES, dict).get(base)
        if found is not None:
            err.file, err.file_source = found
    return err


def _with_stack(error: MLError, exc: BaseException) -> MLError:
    """`error` with the ML call stack of the exception that ended the run."""
    if error.traceback is None:
        try:
            error.traceback = ml_stack(exc) or None
        except Exception:             # noqa: BLE001 - a stack is a courtesy, the error is not
            error.traceback = None
    return error


def _host_event(exc: HostStop) -> str:
    if isinstance(exc, TimeoutStop):
        return "timeout"
    if isinstance(exc, InterruptStop):
        return "interrupt"
    return "memory" if isinstance(exc, MemoryLimitStop) else "limit"


def host_stop_error(exc: HostStop) -> MLError:
    cls = MLTimeoutError if isinstance(exc, TimeoutStop) else MLLimitError
    err = cls(exc.message or str(exc) or exc.ml_type, type=exc.ml_type, **_position(exc))
    return err


def runtime_error(exc: BaseException) -> MLError:
    """An uncaught Python/ML exception -> MLRuntimeError (or its ML-only subclasses)."""
    if isinstance(exc, MLError):
        return exc
    kind = ml_type_of(exc)
    message = ml_message(exc)
    value = exc.value if isinstance(exc, MLThrow) else {"message": message, "type": kind}
    cls = _ERROR_CLASSES.get(kind, MLRuntimeError)
    if cls is MLImportError:
        cls = MLRuntimeError
    return cls(message, type=kind, value=dict(value), **_position(exc))


def _position(exc: BaseException) -> dict:
    """Line and column of the innermost ML frame of the exception's traceback."""
    line, column = ml_position(exc)
    return {"line": line, "column": column}


class RunResult(Record):
    """The outcome of `mlpy.run`."""

    _fields = ("success", "value", "error", "error_type", "line", "column", "stdout",
               "stdout_truncated", "exception")
    _hidden = frozenset({"exception"})

    def __init__(self, success: bool, value: Any = None, error: str | None = None,
                 error_type: str | None = None, line: int | None = None,
                 column: int | None = None, stdout: str = "", stdout_truncated: bool = False,
                 exception: MLError | None = None):
        self.success = success
        self.value = value
        self.error = error
        self.error_type = error_type
        self.line = line
        self.column = column
        self.stdout = stdout
        self.stdout_truncated = stdout_truncated
        self.exception = exception


def run(source: str, *, context: dict | None = None, capabilities: Iterable[str] = (),
        timeout: float | None = None, strict_security: bool = False,
        file_root: str | Path | None = None, allowed_hosts: Iterable[str] = (),
        env: dict[str, str] | None = None, argv: Iterable[str] = (),
        script: str = "") -> RunResult:
    """Compile and run ML source in a fresh namespace; output is captured, never printed."""
    sink = OutputSink()
    ctx = ExecutionContext(output=sink, capabilities=Capabilities(capabilities),
                           limits=Limits(), file_root=Path(file_root) if file_root else None,
                           allowed_hosts=tuple(allowed_hosts), env=dict(env or {}),
                           argv=list(argv), script=script)
    try:
        program = compile_program(source, strict_security=strict_security)
        namespace = new_namespace(context)
    except MLError as exc:
        return _result(None, sink, exc)
    except ValueError as exc:       # a bad context variable name
        return _result(None, sink, MLRuntimeError(str(exc), type="ValueError"))
    if timeout is None:
        outcome = execute(program, namespace, ctx)
    else:
        outcome = _execute_with_deadline(program, namespace, ctx, timeout)
    return _result(outcome, sink, outcome.error)


def _execute_with_deadline(program, namespace, ctx, timeout: float) -> Outcome:
    """Run on this thread while a watchdog raises TimeoutStop in it once time is up.

    The stop can also land after the program has ended, while its failure is being reported
    (a deep recursion's stack takes a while to read): that is reported as the timeout. No
    stop is left pending when this returns: it would surface in the caller's code."""
    done = threading.Event()
    target = threading.get_ident()
    stop = stop_class(TimeoutStop, timeout_message(timeout))

    def watchdog():
        if done.wait(timeout):
            return
        while not done.is_set():
            raise_in_thread(target, stop)
            done.wait(0.05)

    thread = threading.Thread(target=watchdog, name="mlpy-run-deadline", daemon=True)
    install_unraisable_filter()
    outcome = late = None
    IN_PROGRAM.add(target)
    try:
        # started inside the `try`: on a busy machine a tiny timeout can run out before
        # this thread gets back from starting the watchdog
        thread.start()
        outcome = execute(program, namespace, ctx)
    except HostStop as exc:             # landed while a failure was being reported
        late = exc
    while True:                         # a stop raised just before the watchdog saw `done`
        try:
            done.set()
            thread.join()
            clear_pending(target)
            break
        except HostStop as exc:
            late = late or exc
    IN_PROGRAM.discard(target)
    if outcome is None:
        assert late is not None
        outcome = Outcome(False, error=host_stop_error(late), host_event=_host_event(late))
    return outcome


def _result(outcome: Outcome | None, sink: OutputSink, error: MLError | None) -> RunResult:
    if error is None and outcome is not None:
        return RunResult(True, value=outcome.value, stdout=sink.text(),
                         stdout_truncated=sink.truncated)
    assert error is not None, "a failed run has an error"
    return RunResult(False, error=error.message, error_type=error.type, line=error.line,
                     column=error.column, stdout=sink.text(), stdout_truncated=sink.truncated,
                     exception=error)
