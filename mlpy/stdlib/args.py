"""ML module `args`: the program's command-line arguments and a small argument parser.

`all()`, `script()`, `rest()` and `parser.parse()` without an argv read `current().argv` (the
arguments after the program) and `current().script` (its name), which need `args.read`.
Parsing: `--name`, `--name=value`, `--name value`, `-n`, `-n value`, `-nvalue`, grouped short
flags `-abc`, `--` ends the options; `--help` / `-h` set the flag `help` unless the program
declared those names itself. Bad options -> ValueError.
"""

from __future__ import annotations

import re

from ..runtime.context import current
from ..runtime.values import MLObject, display, typeof
from . import LibraryModule

module = LibraryModule("args", "Command-line arguments and an argument parser")

_NUMBER = re.compile(r"-\d+(\.\d*)?([eE][-+]?\d+)?$|-\.\d+([eE][-+]?\d+)?$")


def _string(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {typeof(value)}")
    return value


def _long_name(name) -> str:
    name = _string(name, "argument name").lstrip("-")
    if not name or any(ch.isspace() or ch == "=" for ch in name):
        raise ValueError(f"Invalid argument name: '{name}'")
    return name


def _short_name(short):
    if short is None or short == "":
        return None
    short = _string(short, "short name").lstrip("-")
    if len(short) != 1 or short.isspace() or short == "=":
        raise ValueError(f"Invalid short name: '{short}' (one character expected)")
    return short


def _help_text(text) -> str:
    return "" if text is None else display(text)


class ArgParser(MLObject):
    """A command-line parser: declare flags, options and positionals, then parse(argv)."""

    ml_type = "ArgParser"
    ml_members = frozenset({"add_flag", "add_option", "add_positional", "help", "parse"})

    def __init__(self, name: str = "", description: str = ""):
        self._name = name
        self._description = description
        self._flags: dict[str, dict] = {}
        self._options: dict[str, dict] = {}
        self._positionals: list[dict] = []
        self._shorts: dict[str, str] = {}

    def _declare(self, name: str, short) -> None:
        if name in self._flags or name in self._options or any(
                p["name"] == name for p in self._positionals):
            raise ValueError(f"Argument already declared: '{name}'")
        if short is not None:
            if short in self._shorts:
                raise ValueError(f"Short name already declared: '-{short}'")
            self._shorts[short] = name

    def add_flag(self, name, short=None, help=""):
        """Declare a boolean flag --name (and -short)."""
        name, short = _long_name(name), _short_name(short)
        self._declare(name, short)
        self._flags[name] = {"short": short, "help": _help_text(help)}

    def add_option(self, name, short=None, help="", default=None):
        """Declare an option --name VALUE (and -short VALUE) with a default."""
        name, short = _long_name(name), _short_name(short)
        self._declare(name, short)
        self._options[name] = {"short": short, "help": _help_text(help), "default": default}

    def add_positional(self, name, help="", required=False):
        """Declare the next positional argument."""
        name = _long_name(name)
        self._declare(name, None)
        self._positionals.append({"name": name, "help": _help_text(help),
                                  "required": bool(required)})

    def help(self) -> str:
        """The usage text."""
        lines = []
        if self._name:
            lines.append(self._name)
        if self._description:
            lines.append(self._description)
        if lines:
            lines.append("")
        usage = f"Usage: {self._name or 'program'} [options]"
        for pos in self._positionals:
            usage += f" <{pos['name']}>" if pos["required"] else f" [{pos['name']}]"
        lines.append(usage)
        if self._positionals:
            lines += ["", "Positional arguments:"]
            for pos in self._positionals:
                suffix = " (required)" if pos["required"] else ""
                lines.append(f"  {pos['name']:<20} {pos['help']}{suffix}".rstrip())
        lines += ["", "Options:"]
        entries = []
        for name, spec in self._flags.items():
            entries.append((spec["short"], f"--{name}", spec["help"]))
        for name, spec in self._options.items():
            text = spec["help"]
            if spec["default"] is not None:
                text = f"{text} (default: {display(spec['default'])})".strip()
            entries.append((spec["short"], f"--{name} VALUE", text))
        if "help" not in self._flags and "help" not in self._options:
            entries.append(("h" if "h" not in self._shorts else None, "--help",
                            "Show this help message"))
        for short, long, text in entries:
            head = f"-{short}, {long}" if short else f"    {long}"
            lines.append(f"  {head:<20} {text}".rstrip())
        return "\n".join(lines)

    def parse(self, argv=None) -> "ParsedArgs":
        """Parse an array of argument strings (none: the program's arguments, needs args.read)."""
        if argv is None:
            ctx = current()
            ctx.require("args.read", "args.ArgParser.parse")
            argv = list(ctx.argv)
        if not isinstance(argv, list):
            raise TypeError(f"parse expects an array of strings, not {typeof(argv)}")
        argv = [_string(a, "argument") for a in argv]
        return self._parse(argv)

    def _builtin_help(self, long: bool) -> bool:
        if long:
            return "help" not in self._flags and "help" not in self._options
        return "h" not in self._shorts

    def _parse(self, argv: list[str]) -> "ParsedArgs":
        flags = {name: False for name in self._flags}
        given: dict[str, object] = {}
        positionals: list[str] = []
        i = 0
        while i < len(argv):
            arg = argv[i]
            i += 1
            if arg == "--":
                positionals.extend(argv[i:])
                break
            if arg.startswith("--"):
                i = self._long_option(arg, argv, i, flags, given)
            elif arg.startswith("-") and len(arg) > 1 and not (
                    _NUMBER.match(arg) and arg[1] not in self._shorts):
                i = self._short_options(arg, argv, i, flags, given)
            else:
                positionals.append(arg)
        named = self._named(positionals, flags)
        options = {name: given.get(name, spec["default"]) for name, spec in self._options.items()}
        return ParsedArgs(flags, options, set(given), named, positionals)

    def _long_option(self, arg: str, argv: list[str], i: int, flags: dict,
                     given: dict[str, object]) -> int:
        """`--name`, `--name=value` or `--name value`; returns the index of the next argument."""
        name, eq, value = arg[2:].partition("=")
        if name in self._flags:
            if eq:
                raise ValueError(f"Flag --{name} does not take a value")
            flags[name] = True
        elif name in self._options:
            if not eq:
                if i >= len(argv):
                    raise ValueError(f"Option --{name} requires a value")
                value = argv[i]
                i += 1
            given[name] = value
        elif name == "help" and not eq and self._builtin_help(True):
            flags["help"] = True
        else:
            raise ValueError(f"Unknown option: --{name}")
        return i

    def _short_options(self, arg: str, argv: list[str], i: int, flags: dict,
                       given: dict[str, object]) -> int:
        """A cluster `-abc` of short flags, the last of which may be an option taking the rest
        of the cluster or the next argument; returns the index of the next argument."""
        j = 1
        while j < len(arg):
            ch = arg[j]
            j += 1
            target = self._shorts.get(ch)
            if target in self._flags:
                flags[target] = True
            elif target in self._options:
                if j < len(arg):
                    given[target] = arg[j:].removeprefix("=")
                elif i < len(argv):
                    given[target] = argv[i]
                    i += 1
                else:
                    raise ValueError(f"Option -{ch} requires a value")
                break
            elif ch == "h" and self._builtin_help(False):
                flags["help"] = True
            else:
                raise ValueError(f"Unknown option: -{ch}")
        return i

    def _named(self, positionals: list[str], flags: dict) -> dict:
        """The declared positional arguments by name (a missing required one is an error)."""
        named = {}
        for index, pos in enumerate(self._positionals):
            if index < len(positionals):
                named[pos["name"]] = positionals[index]
            elif pos["required"] and not flags.get("help"):
                raise ValueError(f"Missing required argument: {pos['name']}")
        return named


class ParsedArgs(MLObject):
    """The result of ArgParser.parse."""

    ml_type = "ParsedArgs"
    ml_members = frozenset({"has", "get", "get_bool", "flags", "options", "positionals"})

    def __init__(self, flags: dict, options: dict, given: set, named: dict, positionals: list):
        self._flags = flags
        self._options = options
        self._given = given
        self._named = named
        self._positionals = positionals

    def has(self, name) -> bool:
        """True if a flag was set, an option was given or has a default, or a positional was given."""
        return bool(self._flags.get(name)) or name in self._named or (
            name in self._options and (name in self._given or self._options[name] is not None))

    def get(self, name, default=None):
        """An option's or positional's value (a flag's boolean), or default."""
        if name in self._options and self._options[name] is not None:
            return self._options[name]
        if name in self._named:
            return self._named[name]
        if name in self._flags:
            return self._flags[name]
        return default

    def get_bool(self, name) -> bool:
        """True if the flag was set."""
        return bool(self._flags.get(name, False))

    def flags(self) -> dict:
        """Every declared flag (and help, when given) -> true/false."""
        return dict(self._flags)

    def options(self) -> dict:
        """Every declared option -> its value or default."""
        return dict(self._options)

    def positionals(self) -> list:
        """All positional arguments in order (declared and extra ones)."""
        return list(self._positionals)


@module.function("all", capabilities=("args.read",))
def all_arguments():
    """The program name followed by its arguments."""
    ctx = current()
    return ([ctx.script] if ctx.script else []) + list(ctx.argv)


@module.function(capabilities=("args.read",))
def script():
    """The program's name ("" if the host gave none)."""
    return current().script


@module.function(capabilities=("args.read",))
def rest():
    """The arguments after the program name."""
    return list(current().argv)


@module.function()
def create_parser(name="", description=""):
    """A new ArgParser."""
    return ArgParser(_help_text(name), _help_text(description))
