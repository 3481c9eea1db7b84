"""ML module `env`: the environment variables the host chose to show the program.

Reads and writes only `current().env` (the mapping the host put in the context), never the
real process environment: a variable the host did not list is simply not set, and `set` /
`delete` change that mapping for the rest of the run only.
"""

from __future__ import annotations

from ..runtime.context import current
from ..runtime.values import display, typeof
from . import LibraryModule

module = LibraryModule("env", "Environment variables the host makes visible")

_TRUE = frozenset({"true", "1", "yes", "on"})


def _name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"environment variable name must be a string, not {typeof(name)}")
    return name


def _lookup(name):
    return current().env.get(_name(name))


@module.function(capabilities=("env.read",))
def get(name, default=None):
    """The value of a variable, or default when it is not set."""
    value = _lookup(name)
    return default if value is None else value


@module.function(capabilities=("env.read",))
def get_int(name, default=0):
    """A variable as an integer (default when unset or not an integer)."""
    value = _lookup(name)
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        return default


@module.function(capabilities=("env.read",))
def get_float(name, default=0.0):
    """A variable as a float (default when unset or not a number)."""
    value = _lookup(name)
    if value is None:
        return default
    try:
        return float(value.strip())
    except ValueError:
        return default


@module.function(capabilities=("env.read",))
def get_bool(name, default=False):
    """A variable as a boolean: true for true/1/yes/on (any case), default when unset."""
    value = _lookup(name)
    if value is None:
        return default
    return value.strip().lower() in _TRUE


@module.function(capabilities=("env.read",))
def has(name):
    """True if the variable is set."""
    return _lookup(name) is not None


@module.function(capabilities=("env.read",))
def require(name):
    """The value of a variable; RuntimeError when it is not set."""
    value = _lookup(name)
    if value is None:
        raise RuntimeError(f"Required environment variable not set: {name}")
    return value


@module.function("all", capabilities=("env.read",))
def all_variables():
    """All visible variables as an object (a copy)."""
    return dict(current().env)


@module.function("set", capabilities=("env.write",))
def set_variable(name, value):
    """Set a variable for the rest of the run (value converted to text); not the process environment."""
    name = _name(name)
    if not name or "=" in name or "\x00" in name:
        raise ValueError(f"Invalid environment variable name: '{name}'")
    text = display(value)
    if "\x00" in text:
        raise ValueError("environment variable values must not contain NUL characters")
    current().env[name] = text


@module.function(capabilities=("env.write",))
def delete(name):
    """Remove a variable: true if it was set, false otherwise."""
    return current().env.pop(_name(name), None) is not None
