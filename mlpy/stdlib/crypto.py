"""The ML `crypto` module: hashes, HMACs, UUIDs and secure random values (spec section 10).

Only `hash_file` touches the outside world (capability file.read, confined to the host's
file root); everything else is pure computation.
"""

from __future__ import annotations

from ..runtime.context import current
from ..runtime.ops import count_text
from ..runtime.signals import LimitStop
from ..runtime.values import typeof
from . import LibraryModule

module = LibraryModule("crypto", "Hashing, HMAC, UUIDs and cryptographically secure random values")

_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512",
               "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s")
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _bytes(data, what: str, where: str) -> bytes:
    """UTF-8 bytes of a string, or the bytes of an array of integers 0-255."""
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    if isinstance(data, list):
        try:
            return bytes(data)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"crypto.{where}() {what} must be a string or an array of bytes, got {typeof(data)}")


def _algorithm(algorithm, where: str) -> str:
    """The hashlib name of a supported algorithm ("SHA-256" and "sha256" alike)."""
    if not isinstance(algorithm, str):
        raise TypeError(f"crypto.{where}() algorithm must be a string, got {typeof(algorithm)}")
    name = algorithm.lower().replace("-", "")
    name = {"sha3224": "sha3_224", "sha3256": "sha3_256", "sha3384": "sha3_384",
            "sha3512": "sha3_512"}.get(name, name)
    if name not in _ALGORITHMS:
        raise ValueError(f"Unsupported hash algorithm: {algorithm} "
                         f"(use one of {', '.join(_ALGORITHMS)})")
    return name


def _digest(name: str, data, salt, where: str) -> str:
    import hashlib
    payload = _bytes(salt, "salt", where) + _bytes(data, "data", where)
    return hashlib.new(name, payload).hexdigest()


@module.function()
def md5(data, salt=""):
    """Hex MD5 digest of salt + data."""
    return _digest("md5", data, salt, "md5")


@module.function()
def sha1(data, salt=""):
    """Hex SHA-1 digest of salt + data."""
    return _digest("sha1", data, salt, "sha1")


@module.function()
def sha256(data, salt=""):
    """Hex SHA-256 digest of salt + data."""
    return _digest("sha256", data, salt, "sha256")


@module.function()
def hmac(message, key, algorithm="sha256"):
    """Hex HMAC of message under key (algorithm default sha256)."""
    import hmac as _hmac
    name = _algorithm(algorithm, "hmac")
    return _hmac.new(_bytes(key, "key", "hmac"), _bytes(message, "message", "hmac"),
                     name).hexdigest()


@module.function()
def verify_hmac(message, signature, key, algorithm="sha256"):
    """true if signature is the hex HMAC of message under key (constant-time comparison)."""
    import hmac as _hmac
    if not isinstance(signature, str):
        raise TypeError(f"crypto.verify_hmac() signature must be a string, got {typeof(signature)}")
    expected = hmac(message, key, algorithm)
    return _hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "surrogatepass"))


@module.function()
def compare_hash(a, b):
    """true if the two strings are equal, compared in constant time."""
    import hmac as _hmac
    return _hmac.compare_digest(_bytes(a, "a", "compare_hash"), _bytes(b, "b", "compare_hash"))


@module.function()
def uuid():
    """A random (version 4) UUID string."""
    import uuid as _uuid
    return str(_uuid.uuid4())


_NAMESPACES = {"dns": "NAMESPACE_DNS", "url": "NAMESPACE_URL", "oid": "NAMESPACE_OID",
               "x500": "NAMESPACE_X500"}


@module.function()
def uuid_from_string(text, namespace="DNS"):
    """The version 5 UUID of text in a namespace: DNS (default), URL, OID, X500 or a UUID string."""
    import uuid as _uuid
    if not isinstance(text, str):
        raise TypeError(f"crypto.uuid_from_string() text must be a string, got {typeof(text)}")
    if not isinstance(namespace, str):
        raise TypeError(f"crypto.uuid_from_string() namespace must be a string, got {typeof(namespace)}")
    attr = _NAMESPACES.get(namespace.lower())
    if attr is not None:
        space = getattr(_uuid, attr)
    else:
        try:
            space = _uuid.UUID(namespace)
        except ValueError:
            raise ValueError(f"Invalid UUID namespace: {namespace}") from None
    return str(_uuid.uuid5(space, text))


def _integer(x, what: str, where: str) -> int:
    if not isinstance(x, int):
        raise TypeError(f"crypto.{where}() {what} must be an integer, got {typeof(x)}")
    return int(x)


def _size(n, where: str) -> int:
    n = _integer(n, "size", where)
    if n < 0:
        raise ValueError(f"crypto.{where}() size must not be negative")
    limits = current().limits
    if n > min(limits.max_sequence, limits.max_string):
        raise LimitStop(f"crypto.{where}(): size {count_text(n)} exceeds the limit")
    return n


@module.function()
def random_int(min, max):
    """A cryptographically secure random integer n with min <= n <= max."""
    import secrets
    lo, hi = _integer(min, "min", "random_int"), _integer(max, "max", "random_int")
    if lo > hi:
        raise ValueError(f"crypto.random_int(): min ({lo}) must not be greater than max ({hi})")
    return lo + secrets.randbelow(hi - lo + 1)


@module.function()
def random_float():
    """A cryptographically secure random float in [0, 1)."""
    import secrets
    return secrets.randbits(53) / (1 << 53)


@module.function()
def random_hex(nbytes):
    """Hex text of nbytes secure random bytes (2 * nbytes characters)."""
    import secrets
    return secrets.token_hex(_size(nbytes, "random_hex"))


@module.function()
def random_string(n):
    """n secure random letters and digits."""
    import secrets
    n = _size(n, "random_string")
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(n))


@module.function()
def random_bytes(n):
    """An array of n secure random bytes (integers 0-255)."""
    import secrets
    return list(secrets.token_bytes(_size(n, "random_bytes")))


@module.function(capabilities=("file.read",))
def hash_file(path, algorithm="sha256"):
    """Hex digest of a file's contents (algorithm default sha256)."""
    import hashlib
    from ._paths import confine_for
    name = _algorithm(algorithm, "hash_file")
    resolved = confine_for("file.read", path)
    if not resolved.exists():
        raise RuntimeError(f"File not found: {path}")
    if not resolved.is_file():
        raise RuntimeError(f"Not a file: {path}")
    digest = hashlib.new(name)
    try:
        with open(resolved, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except OSError as exc:
        raise RuntimeError(f"Cannot read file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()
