"""User modules are live and shared (spec §3 import): `mod.level` reads the module's current
top-level binding, and a module imported by several modules is loaded once per program.
After a top-level `except (sorted) { }` the builtin `sorted` is found again (spec §7)."""

from __future__ import annotations

import subprocess
import sys

import mlpy


def _run_files(tmp_path, files: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return subprocess.run([sys.executable, "-m", "mlpy", "run", str(tmp_path / "main.ml")],
                          capture_output=True, text=True, timeout=60)


MOD = """level = 1;
items = [];
function bump() { nonlocal level; level = level + 1; }
function add(x) { items.append(x); }
print("loading mod");
"""


def test_module_variables_are_live_through_the_module(tmp_path):
    done = _run_files(tmp_path, {"mod.ml": MOD, "main.ml": """import mod;
print(mod.level);
mod.bump();
mod.bump();
print(mod.level);
"""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["loading", "mod", "1", "3"]


def test_a_module_imported_twice_is_loaded_once_and_shared(tmp_path):
    done = _run_files(tmp_path, {"mod.ml": MOD, "other.ml": """import mod;
function seen() { return mod.level; }
function push(x) { mod.add(x); }
""", "main.ml": """import mod;
import other;
mod.bump();
other.push("a");
mod.add("b");
print(other.seen());
print(len(mod.items));
"""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["loading mod", "2", "2"]


def test_module_members_listing_still_works(tmp_path):
    done = _run_files(tmp_path, {"mod.ml": MOD, "main.ml": """import mod;
print(mod.level);
print(typeof(mod.bump));
"""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["1", "function"]


def test_builtin_found_again_after_a_top_level_except_name():
    result = mlpy.run("""try { throw {message: "x"}; } except (sorted) { seen = sorted.message; }
result = [seen, sorted([3, 1, 2])];""")
    assert result.success, result.error
    assert result.value == ["x", [1, 2, 3]]


def test_except_name_that_is_not_a_builtin_is_unbound_after():
    result = mlpy.run("try { throw 1; } except (zz) { } result = zz;")
    assert not result.success
    assert result.error_type == "NameError"
