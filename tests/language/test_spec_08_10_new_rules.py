"""Spec §8/§10 rules: getCapabilityInfo of an unrestricted grant, random.getSeed,
Pattern.getFlags/toString, Match.toString, modules()."""

from __future__ import annotations

import mlpy


def test_capability_info_of_an_unrestricted_grant_has_null_patterns_and_operations():
    r = mlpy.run('result = [getCapabilityInfo("file.read"), getCapabilityInfo("net.http")];',
                 capabilities=["file.read"])
    info, missing = r.value
    assert missing is None
    assert info["patterns"] is None and info["operations"] is None
    assert info["type"] == "file.read" and info["available"] is True


def test_random_get_seed():
    r = mlpy.run("import random; a = random.getSeed(); random.setSeed(42); "
                 "result = [a, random.getSeed(), random.get_seed()];")
    assert r.value == [None, 42, 42]


def test_pattern_and_match_text_forms():
    r = mlpy.run('import regex; p = regex.compile("a+", 2); m = p.search("xaay"); '
                 'result = [p.getFlags(), p.toString(), regex.compile("b").getFlags(), '
                 'm.toString()];')
    assert r.value == [2, 'Pattern("a+", flags=2)', 0, 'Match("aa", span=[1, 3])']


def test_modules_lists_imports_so_far_plus_builtin():
    r = mlpy.run("a = modules(); import json; result = [a, modules()];")
    assert r.value == [["builtin"], ["builtin", "json"]]
