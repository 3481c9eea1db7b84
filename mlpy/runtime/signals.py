"""Exceptions raised *inside* running ML code.

Two families:

* `MLThrow` (an `Exception`): everything ML's `except` may catch that is not a plain Python
  exception — `throw` of an ML object, and the ML-only error types (SecurityError,
  CapabilityError, ImportError). Runtime helpers and the standard library may also raise plain
  Python exceptions (ValueError, TypeError, KeyError, ...): they become ML error values of the
  same type name.
* `HostStop` (a `BaseException` only): a host limit (time-out, interrupt, output, size, memory).
  ML `except` compiles to `except Exception`, so these cannot be caught by ML code.
"""

from __future__ import annotations


class MLThrow(Exception):
    """An ML error value in flight. `value` is the ML object (a dict with message and type)."""

    def __init__(self, value: dict):
        super().__init__(value.get("message", ""))
        self.value = value

    @property
    def ml_type(self) -> str:
        return str(self.value.get("type", "Error"))

    @property
    def ml_message(self) -> str:
        return str(self.value.get("message", ""))


def ml_error(type_name: str, message: str, **fields) -> MLThrow:
    """An `MLThrow` for an ML-only error type: `raise ml_error("SecurityError", "...")`."""
    cls = _TYPED.get(type_name, MLThrow)
    return cls({"message": message, "type": type_name, **fields})


class _TypedThrow(MLThrow):
    """An ML-only error type raised from Python: built from a message (or a full value)."""

    error_type = "Error"

    def __init__(self, message: str | dict):
        super().__init__(message if isinstance(message, dict) else
                         {"message": message, "type": self.error_type})


class SecurityViolation(_TypedThrow):
    error_type = "SecurityError"


class CapabilityDenied(_TypedThrow):
    error_type = "CapabilityError"


class ImportFailure(_TypedThrow):
    error_type = "ImportError"


_TYPED = {cls.error_type: cls for cls in (SecurityViolation, CapabilityDenied, ImportFailure)}


# The HostStop family parallels the host-facing errors of mlpy/errors.py (MLTimeoutError,
# MLLimitError) on purpose: these are raised *inside* running code and must not be catchable
# by ML (BaseException); runner.host_stop_error turns one into the other when the run ends.
class HostStop(BaseException):
    """A host-imposed stop. Derived from BaseException only, so ML code cannot catch it."""

    ml_type = "LimitError"

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class TimeoutStop(HostStop):
    ml_type = "TimeoutError"


class InterruptStop(HostStop):
    ml_type = "KeyboardInterrupt"


class LimitStop(HostStop):
    """A size cap of one operation (string/array size, range, integer size, recursion...)."""

    ml_type = "LimitError"


class OutputLimitStop(LimitStop):
    ml_type = "OutputLimitError"


class MemoryLimitStop(LimitStop):
    ml_type = "MemoryLimitError"     # spec §11.1
