"""Every Python node the compiler makes carries the ML position it came from (so tracebacks
point at ML lines and compile() never needs the slow fix-up pass)."""

import ast

import pytest

import mlpy
from mlpy import MLSyntaxError
from mlpy import nodes as N
from mlpy.compiler import Compiler
from mlpy.parser import parse

EVERY_CONSTRUCT = """
import math;
import json as j;
capability C { resource "x"; allow read "y"; }
x = 1; y = -x + 2 * 3 - 4 / 5 // 6 % 7;
s = "a" + 1; t = !true || false && null == 1 != 2 < 3 > 4 <= 5 >= 6;
a = [1, 2, 3]; o = {k: 1, "s": 2};
[p, q] = [1, 2]; {k} = o;
a[0] = 5; o.k = 6; o["z"] = 7;
b = a[1:2:1]; c = a[:]; d = o.k; e = a.length;
function f(u, v: number) { nonlocal x; x = u; return v; }
g = fn(w) => w + 1; h = fn() => { return {}; }; i = fn() => {};
if (x) { y = 1; } elif (y) { y = 2; } else if (t) { y = 3; } else { y = 4; }
while (false) { break; }
for (n in a) { continue; }
try { throw {message: "m"}; } except (err) { r = err.message; } finally { z = 1; }
try { z = 2; } except { z = 3; }
try { z = 4; } finally { z = 5; }
r = c ? 1 : 2; f(1, 2)(3); a.append(4); print(math.pi); n = "s".split(",").length;
function g(k) { i = 0; while (i < k) { i = i + 1 * 2 % 3; } return i; }
function h() { if (x) {} elif (y) {} else {} while (false) {} for (q in []) {} return; }
try {} except (err2) {} finally {}
__nope = 1; m = o.__class__; eval;
return;
"""


def test_every_generated_node_has_a_position():
    # the compiler's own tree, before compile() could fill in anything missing
    tree = Compiler(EVERY_CONSTRUCT).compile_module(parse(EVERY_CONSTRUCT))
    missing = [ast.dump(node)[:60] for node in ast.walk(tree)
               if isinstance(node, (ast.stmt, ast.expr)) and getattr(node, "lineno", None) is None]
    assert missing == []


def test_positions_are_ml_lines():
    program = mlpy.compile("x = 1;\n\ny = x + 2;\n", cache=False)
    lines = sorted({node.lineno for node in ast.walk(program.tree) if isinstance(node, ast.stmt)})
    assert lines == [1, 3]


def test_a_node_without_a_translation_is_refused_not_guessed():
    """Default deny: a syntax node no stmt_/expr_ method is registered for is a clear ML error
    at its position (a statement-only node used as an expression, an expression as a statement)."""
    param = N.Param(3, 7, "p")
    for body in ([param], [N.ExprStmt(3, 7, param)]):
        with pytest.raises(MLSyntaxError, match="Param is not allowed here") as info:
            Compiler("").compile_module(N.Program(1, 1, body))
        assert (info.value.line, info.value.column) == (3, 7)
