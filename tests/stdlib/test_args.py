"""The ML `args` module (spec §10): process arguments and the ArgParser."""

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied
from mlpy.runtime.values import display, typeof


def context(caps=("args.read",), argv=("--verbose", "-o", "out.txt", "in.txt"), script="tool.ml"):
    return ExecutionContext(output=OutputSink(), capabilities=Capabilities(caps), argv=list(argv),
                            script=script)


@pytest.fixture
def args():
    with using(context()):
        yield mlpy.stdlib.load("args").members


def make_parser(a):
    p = a["create_parser"]("tool", "Does things")
    assert p.add_flag("verbose", "v", "Talk more") is None
    p.add_flag("dry-run", None, "Change nothing")
    p.add_option("output", "o", "Output file", "out.txt")
    p.add_option("level", "l", "Level", None)
    p.add_positional("input", "Input file", True)
    p.add_positional("extra", "Optional")
    return p


def test_process_arguments(args):
    assert args["all"]() == ["tool.ml", "--verbose", "-o", "out.txt", "in.txt"]
    assert args["script"]() == "tool.ml"
    assert args["rest"]() == ["--verbose", "-o", "out.txt", "in.txt"]
    assert args["rest"]() is not args["rest"]()
    with using(context(argv=[], script="")):
        m = mlpy.stdlib.load("args").members
        assert m["all"]() == [] and m["script"]() == "" and m["rest"]() == []


def test_parser_basics(args):
    p = make_parser(args)
    assert typeof(p) == "ArgParser" and display(p) == "<ArgParser>"
    r = p.parse(["--verbose", "-o", "x.txt", "in.csv"])
    assert typeof(r) == "ParsedArgs"
    assert r.get_bool("verbose") is True and r.get_bool("dry-run") is False
    assert r.get("output") == "x.txt" and r.get("input") == "in.csv"
    assert r.get("extra") is None and r.get("extra", "dflt") == "dflt"
    assert r.get("level") is None and r.get("unknown", 5) == 5
    assert r.has("verbose") and r.has("output") and r.has("input")
    assert not r.has("dry-run") and not r.has("extra") and not r.has("level")
    assert r.flags() == {"verbose": True, "dry-run": False}
    assert r.options() == {"output": "x.txt", "level": None}
    assert r.positionals() == ["in.csv"]


def test_option_forms_and_defaults(args):
    p = make_parser(args)
    r = p.parse(["in", "--output=a=b", "--level", "3", "--dry-run"])
    assert r.get("output") == "a=b" and r.get("level") == "3" and r.get_bool("dry-run")
    r = p.parse(["-vofile.txt", "in"])
    assert r.get_bool("verbose") and r.get("output") == "file.txt"
    r = p.parse(["-l=9", "in"])
    assert r.get("level") == "9"
    r = p.parse(["in", "more", "--", "--verbose", "-x"])
    assert r.positionals() == ["in", "more", "--verbose", "-x"]
    assert r.get("extra") == "more" and r.get_bool("verbose") is False
    r = p.parse(["in"])
    assert r.get("output") == "out.txt" and r.has("output")      # the default
    r = p.parse(["-5", "in"])
    assert r.positionals() == ["-5", "in"]                       # negative numbers are values
    r = p.parse(["in", "-"])
    assert r.get("extra") == "-"


@pytest.mark.parametrize("argv,message", [
    (["--nope", "in"], "Unknown option: --nope"),
    (["-z", "in"], "Unknown option: -z"),
    (["in", "--output"], "Option --output requires a value"),
    (["in", "-o"], "Option -o requires a value"),
    (["--verbose=1", "in"], "Flag --verbose does not take a value"),
    (["--verbose"], "Missing required argument: input"),
    ([], "Missing required argument: input"),
])
def test_bad_arguments_are_value_errors(args, argv, message):
    with pytest.raises(ValueError, match=message):
        make_parser(args).parse(argv)


def test_help_flag_and_text(args):
    p = make_parser(args)
    r = p.parse(["--help"])
    assert r.get_bool("help") is True and r.flags()["help"] is True
    assert p.parse(["-h"]).get_bool("help") is True
    text = p.help()
    assert text.splitlines()[:3] == ["tool", "Does things", ""]
    assert "Usage: tool [options] <input> [extra]" in text
    assert "-v, --verbose" in text and "Talk more" in text
    assert "--dry-run" in text
    assert "-o, --output VALUE" in text and "(default: out.txt)" in text
    assert "-h, --help" in text
    assert "input" in text and "(required)" in text


def test_declaration_errors(args):
    p = args["create_parser"]()
    p.add_flag("--force", "-f", "")
    assert p.parse(["-f"]).get_bool("force") is True
    with pytest.raises(ValueError, match="already declared"):
        p.add_option("force", None, "", None)
    with pytest.raises(ValueError, match="already declared"):
        p.add_flag("other", "f", "")
    with pytest.raises(ValueError, match="one character"):
        p.add_flag("x", "xy", "")
    with pytest.raises(ValueError):
        p.add_flag("", None, "")
    with pytest.raises(TypeError):
        p.parse("--force")
    with pytest.raises(TypeError):
        p.parse([1])


def test_parse_without_argv_reads_the_program_arguments(args):
    p = make_parser(args)
    r = p.parse()
    assert r.get_bool("verbose") and r.get("output") == "out.txt" and r.get("input") == "in.txt"


def test_parse_without_argv_needs_the_capability():
    with using(context(caps=())):
        m = mlpy.stdlib.load("args").members
        p = make_parser(m)                               # create_parser needs nothing
        assert p.parse(["in"]).get("input") == "in"      # explicit argv needs nothing
        with pytest.raises(CapabilityDenied, match="args.ArgParser.parse requires capability 'args.read'"):
            p.parse()


@pytest.mark.parametrize("name", ["all", "script", "rest"])
def test_missing_capability_is_refused(name):
    with using(context(caps=("env.read",))):
        with pytest.raises(CapabilityDenied, match=f"args.{name} requires capability 'args.read'"):
            mlpy.stdlib.load("args").members[name]()


def test_members_and_declaration():
    decl = mlpy.stdlib.declaration("args")
    assert decl.capabilities == {"args.read"}
    assert decl.members["create_parser"].ml_capabilities == ()
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name
    p = decl.members["create_parser"]()
    assert p.ml_member_names() == ["add_flag", "add_option", "add_positional", "help", "parse"]
    r = p.parse([])
    assert r.ml_member_names() == ["flags", "get", "get_bool", "has", "options", "positionals"]


# --- end to end: ML programs through the compiler ------------------------------------------


def run_ml(source, ctx):
    from mlpy.runner import execute
    from mlpy.runtime.namespace import new_namespace
    outcome = execute(mlpy.compile(source), new_namespace(), ctx)
    return outcome, ctx.output.text()


def test_ml_program_parses_its_arguments():
    outcome, out = run_ml('''
import args;
p = args.create_parser("tool", "demo");
p.add_flag("verbose", "v", "Talk");
p.add_option("output", "o", "Where", "out.txt");
p.add_positional("input", "What", true);
r = p.parse();
print(typeof(p), typeof(r), r.get_bool("verbose"), r.get("output"), r.get("input"));
print(args.script(), args.rest(), r.positionals());
try { p.parse(["--bogus"]); } except (e) { print(e.type, e.message); }
''', context())
    assert outcome.success, outcome.error
    assert out.splitlines() == [
        "ArgParser ParsedArgs true out.txt in.txt",
        'tool.ml ["--verbose", "-o", "out.txt", "in.txt"] ["in.txt"]',
        "ValueError Unknown option: --bogus",
    ]
    outcome, out = run_ml('import args; p = args.create_parser(); print(p.parse(["a"]).positionals()); '
                          'args.rest();', context(caps=()))
    assert out == '["a"]\n' and outcome.error.type == "CapabilityError"
