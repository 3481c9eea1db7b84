"""The ML crypto module; hash_file needs file.read and stays inside the host's root."""

import hashlib
import hmac as pyhmac
import os
import uuid as pyuuid

import pytest

import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied, LimitStop, MLThrow

K = mlpy.stdlib.load("crypto").members


def test_digests_of_salt_plus_data():
    assert K["md5"]("abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert K["sha1"]("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert K["sha256"]("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert K["sha256"]("data", "salt") == hashlib.sha256(b"saltdata").hexdigest()
    assert K["md5"]("é") == hashlib.md5("é".encode()).hexdigest()
    assert K["sha1"]([0, 255]) == hashlib.sha1(bytes([0, 255])).hexdigest()
    with pytest.raises(TypeError):
        K["sha256"](12)
    with pytest.raises(TypeError):
        K["sha256"]([256])


def test_hmac_and_verify():
    sig = K["hmac"]("message", "key")
    assert sig == pyhmac.new(b"key", b"message", "sha256").hexdigest()
    assert K["hmac"]("m", "k", "sha512") == pyhmac.new(b"k", b"m", "sha512").hexdigest()
    assert K["hmac"]("m", "k", "SHA-1") == pyhmac.new(b"k", b"m", "sha1").hexdigest()
    assert K["verify_hmac"]("message", sig, "key") is True
    assert K["verify_hmac"]("message", sig.upper(), "key") is True
    assert K["verify_hmac"]("messagE", sig, "key") is False
    assert K["verify_hmac"]("message", sig, "other") is False
    assert K["verify_hmac"]("message", "é", "key") is False
    with pytest.raises(ValueError, match="Unsupported hash algorithm"):
        K["hmac"]("m", "k", "rot13")


def test_compare_hash():
    assert K["compare_hash"]("abc", "abc") is True and K["compare_hash"]("abc", "abd") is False
    assert K["compare_hash"]("é", "é") is True
    with pytest.raises(TypeError):
        K["compare_hash"](None, "a")


def test_uuids():
    u = K["uuid"]()
    assert pyuuid.UUID(u).version == 4 and u != K["uuid"]() and len(u) == 36
    assert K["uuid_from_string"]("example.com") == str(pyuuid.uuid5(pyuuid.NAMESPACE_DNS, "example.com"))
    assert K["uuid_from_string"]("http://x", "URL") == str(pyuuid.uuid5(pyuuid.NAMESPACE_URL, "http://x"))
    ns = "6ba7b812-9dad-11d1-80b4-00c04fd430c8"
    assert K["uuid_from_string"]("a", ns) == str(pyuuid.uuid5(pyuuid.UUID(ns), "a"))
    with pytest.raises(ValueError, match="namespace"):
        K["uuid_from_string"]("a", "nonsense")


def test_secure_random_values():
    for _ in range(200):
        assert 1 <= K["random_int"](1, 3) <= 3
        assert 0 <= K["random_float"]() < 1
    assert {K["random_int"](0, 1) for _ in range(200)} == {0, 1}
    assert K["random_int"](5, 5) == 5
    with pytest.raises(ValueError):
        K["random_int"](2, 1)
    h = K["random_hex"](8)
    assert len(h) == 16 and int(h, 16) >= 0
    s = K["random_string"](20)
    assert len(s) == 20 and s.isalnum() and s.isascii()
    b = K["random_bytes"](16)
    assert type(b) is list and len(b) == 16 and all(type(x) is int and 0 <= x <= 255 for x in b)
    assert K["random_bytes"](0) == [] and K["random_string"](0) == ""
    with pytest.raises(ValueError):
        K["random_hex"](-1)
    with pytest.raises(TypeError):
        K["random_bytes"](1.5)


def test_secure_random_sizes_are_limited():
    with using(ExecutionContext(output=OutputSink(), limits=Limits(max_sequence=100))):
        with pytest.raises(LimitStop):
            K["random_bytes"](101)


def test_hash_file_needs_file_read(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"hello")
    with using(ExecutionContext(output=OutputSink(), file_root=tmp_path)):
        with pytest.raises(CapabilityDenied, match="crypto.hash_file requires capability 'file.read'"):
            K["hash_file"]("f.txt")
    with using(ExecutionContext(output=OutputSink(), capabilities=Capabilities(["file.write"]),
                                file_root=tmp_path)):
        with pytest.raises(CapabilityDenied):
            K["hash_file"]("f.txt")


def test_hash_file_with_capability(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.txt").write_bytes(b"hello")
    with using(ExecutionContext(output=OutputSink(), capabilities=Capabilities(["file.read"]),
                                file_root=tmp_path)):
        assert K["hash_file"]("sub/f.txt") == hashlib.sha256(b"hello").hexdigest()
        assert K["hash_file"]("sub/f.txt", "md5") == hashlib.md5(b"hello").hexdigest()
        with pytest.raises(RuntimeError, match="File not found"):
            K["hash_file"]("missing.txt")
        with pytest.raises(RuntimeError):
            K["hash_file"]("sub")
        with pytest.raises(ValueError):
            K["hash_file"]("sub/f.txt", "nope")


def test_hash_file_stays_inside_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, root / "link.txt")
    with using(ExecutionContext(output=OutputSink(), capabilities=Capabilities(["file.read"]),
                                file_root=root)):
        for path in ("../secret.txt", str(secret), "link.txt"):
            with pytest.raises(MLThrow) as info:
                K["hash_file"](path)
            assert info.value.ml_type == "SecurityError"


def test_hash_file_respects_resource_patterns(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    caps = Capabilities(["file.read"], patterns={"file.read": ["*.txt"]})
    with using(ExecutionContext(output=OutputSink(), capabilities=caps, file_root=tmp_path)):
        assert K["hash_file"]("a.txt") == hashlib.sha256(b"a").hexdigest()
        with pytest.raises(CapabilityDenied):
            K["hash_file"]("b.csv")


def test_capabilities_declared_on_the_module():
    module = mlpy.stdlib.load("crypto")
    assert module.capabilities == ("file.read",)
    assert K["hash_file"].ml_capabilities == ("file.read",)
    assert K["sha256"].ml_capabilities == ()


# --- end to end: ML programs through mlpy.run ------------------------------------------------

import mlpy  # noqa: E402


def test_ml_crypto_without_capabilities():
    result = mlpy.run('import crypto; print(crypto.sha256("abc", ""), len(crypto.uuid()), '
                      'crypto.compare_hash("a", "a"), len(crypto.random_bytes(3)));')
    expected = hashlib.sha256(b"abc").hexdigest()
    assert result.success and result.stdout == f"{expected} 36 true 3\n"


def test_ml_hash_file_capability(tmp_path):
    (tmp_path / "f.txt").write_text("hello")
    src = 'import crypto; print(crypto.hash_file("f.txt"));'
    denied = mlpy.run(src, file_root=tmp_path)
    assert not denied.success and denied.error_type == "CapabilityError"
    granted = mlpy.run(src, capabilities=["file.read"], file_root=tmp_path)
    assert granted.success and granted.stdout == hashlib.sha256(b"hello").hexdigest() + "\n"
    escape = mlpy.run('import crypto; crypto.hash_file("../f.txt");', capabilities=["file.read"],
                      file_root=tmp_path / "..")
    assert not escape.success and escape.error_type == "SecurityError"


def test_loading_the_modules_defers_heavy_imports():
    import subprocess
    import sys
    code = ("import sys\nimport mlpy.stdlib as s\n"
            "for n in ['console', 'math', 'json', 'collections', 'functional', 'random', 'crypto', 'log']:\n"
            "    s.load(n)\n"
            "print(sorted(m for m in ('json', 'hashlib', 'hmac', 'uuid', 'secrets', 'datetime') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.strip() == "[]"
