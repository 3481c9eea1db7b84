"""ML module `http`: URL/query text helpers and an HTTP client limited to host-allowed hosts.

Requests need `network.http` and may reach only hosts listed in `current().allowed_hosts`
(exact names, case-insensitive; `*.example.com` patterns; `host:port` entries limit the port);
others raise `SecurityError: access to host 'x' is not allowed`. Every request has a time-out
of at most `MAX_TIMEOUT` seconds (also bounding the whole transfer), responses are capped at
the host's string limit, redirects are not followed (a 3xx is a response), and proxy settings
of the process environment are ignored. `httpx` is imported on first use.
"""

from __future__ import annotations

import time
from fnmatch import fnmatchcase

from ..runtime.context import current
from ..runtime.signals import ml_error
from ..runtime.values import MLObject, display, typeof
from . import LibraryModule

module = LibraryModule("http", "URL helpers and an HTTP client for host-allowed hosts")

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 30.0
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


# --- text helpers -----------------------------------------------------------------------------


def _string(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {typeof(value)}")
    return value


@module.function("encodeURI")
def encodeURI(text):
    """Percent-encode text for a URL (/ is kept)."""
    from urllib.parse import quote
    return quote(_string(text, "text"), safe="/")


@module.function("decodeURI")
def decodeURI(text):
    """Decode %XX escapes."""
    from urllib.parse import unquote
    return unquote(_string(text, "text"))


@module.function("encodeQuery")
def encodeQuery(obj):
    """A query string from an object: a=1&b=x+y (array values repeat the key)."""
    if not isinstance(obj, dict):
        raise TypeError(f"encodeQuery expects an object, not {typeof(obj)}")
    from urllib.parse import urlencode
    pairs = []
    for key, value in obj.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((display(key), display(v)) for v in values)
    return urlencode(pairs)


@module.function("parseQuery")
def parseQuery(text):
    """An object from a query string (leading ? ignored; a repeated key gives an array)."""
    from urllib.parse import parse_qsl
    text = _string(text, "text")
    if text.startswith("?"):
        text = text[1:]
    result: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in result:
            if isinstance(result[key], list):
                result[key].append(value)
            else:
                result[key] = [result[key], value]
        else:
            result[key] = value
    return result


# --- the client -------------------------------------------------------------------------------


def _host_allowed(host: str, port: int | None) -> bool:
    for entry in current().allowed_hosts:
        entry = entry.strip().lower()
        if not entry:
            continue
        entry_host, entry_port = entry, None
        if entry.count(":") == 1:                     # host:port (not an IPv6 address)
            entry_host, _, port_text = entry.partition(":")
            entry_port = int(port_text) if port_text.isdigit() else -1
        if entry_host.startswith("[") and entry_host.endswith("]"):
            entry_host = entry_host[1:-1]
        if entry_port is not None and entry_port != port:
            continue
        if entry_host == "*" or host == entry_host or (
                "*" in entry_host and fnmatchcase(host, entry_host)):
            return True
    return False


def _target(url) -> str:
    """The validated URL; refuses hosts the host did not allow."""
    if not isinstance(url, str):
        raise ValueError(f"Invalid URL: expected a string, not {typeof(url)}")
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"Invalid URL '{url}': {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Invalid URL '{url}': an http:// or https:// URL with a host is required")
    if any(ch.isspace() for ch in url) or any(ord(ch) < 32 for ch in url):
        raise ValueError(f"Invalid URL '{url}': contains whitespace or control characters")
    host = parts.hostname.lower()
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    if not _host_allowed(host, port):
        raise ml_error("SecurityError", f"access to host '{host}' is not allowed")
    patterns = current().capabilities.patterns.get("network.http")
    if patterns and not any(fnmatchcase(host, p.lower()) for p in patterns):
        raise ml_error("CapabilityError", f"capability 'network.http' does not cover host '{host}'")
    return url


def _timeout(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {display(timeout)}")
    return float(min(timeout, MAX_TIMEOUT))


def _headers(headers) -> dict:
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise TypeError(f"headers must be an object, not {typeof(headers)}")
    out = {}
    for key, value in headers.items():
        name, text = display(key), display(value)
        if any(ch in name + text for ch in "\r\n\x00"):
            raise ValueError(f"Invalid header '{name}': line breaks are not allowed")
        out[name] = text
    return out


def _body(body, headers: dict) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    import json as _json
    try:
        text = _json.dumps(body, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"JSON serialization failed: {exc}") from None
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return text.encode("utf-8")


def _send(method: str, url, headers=None, body=None, timeout=None) -> "HttpResponse":
    method = _string(method, "method").upper()
    if method not in METHODS:
        raise ValueError(f"Unsupported HTTP method: '{method}'")
    url = _target(url)
    seconds = _timeout(timeout)
    header_map = _headers(headers)
    content = _body(body, header_map)
    limit = current().limits.max_string

    import httpx

    deadline = time.monotonic() + seconds
    try:
        with httpx.Client(timeout=httpx.Timeout(seconds), follow_redirects=False,
                          trust_env=False) as client:
            with client.stream(method, url, headers=header_map, content=content) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise RuntimeError(f"Network error: response larger than {limit} bytes")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Network error: timed out after {seconds:g} seconds")
                    chunks.append(chunk)
                raw = b"".join(chunks)
                return HttpResponse(response.status_code, response.reason_phrase,
                                    _response_headers(response.headers), raw,
                                    response.charset_encoding)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise ValueError(f"Invalid URL '{url}': {exc}") from None
    except httpx.TimeoutException:
        raise RuntimeError(f"Network error: timed out after {seconds:g} seconds") from None
    except httpx.HTTPError as exc:
        raise RuntimeError(f"Network error: {exc or exc.__class__.__name__}") from None
    except OSError as exc:
        raise RuntimeError(f"Network error: {exc.strerror or exc}") from None


def _response_headers(headers) -> dict:
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        name = name.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class HttpResponse(MLObject):
    """The response to an HTTP request (error statuses included)."""

    ml_type = "HttpResponse"
    ml_members = frozenset({"status", "statusText", "ok", "headers", "body", "text", "json"})

    def __init__(self, status: int, reason: str, headers: dict, raw: bytes, charset: str | None):
        self._status = status
        self._reason = reason
        self._headers = headers
        self._raw = raw
        self._charset = charset

    def status(self) -> int:
        """The status code, e.g. 200."""
        return self._status

    def statusText(self) -> str:
        """The reason phrase, e.g. OK."""
        return self._reason

    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self._status < 300

    def headers(self) -> dict:
        """The response headers (lower-case names; repeated ones joined by ", ")."""
        return dict(self._headers)

    def text(self) -> str:
        """The body decoded as text (its charset, else UTF-8)."""
        try:
            return self._raw.decode(self._charset or "utf-8", errors="replace")
        except LookupError:
            return self._raw.decode("utf-8", errors="replace")

    def body(self) -> str:
        """The body as text (same as text())."""
        return self.text()

    def json(self):
        """The body parsed as JSON."""
        import json as _json
        try:
            return _json.loads(self.text())
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"JSON parsing failed: {exc}") from None


def _options(options, what: str) -> dict:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"{what} options must be an object, not {typeof(options)}")
    return options


@module.function(capabilities=("network.http",))
def get(url, headers=None, timeout=30):
    """GET url: an HttpResponse."""
    return _send("GET", url, headers, None, timeout)


@module.function(capabilities=("network.http",))
def head(url, headers=None, timeout=30):
    """HEAD url: an HttpResponse."""
    return _send("HEAD", url, headers, None, timeout)


@module.function(capabilities=("network.http",))
def delete(url, headers=None, timeout=30):
    """DELETE url: an HttpResponse."""
    return _send("DELETE", url, headers, None, timeout)


@module.function(capabilities=("network.http",))
def post(url, options=None):
    """POST url with options {body, headers, timeout} (a non-string body is sent as JSON)."""
    o = _options(options, "post")
    return _send("POST", url, o.get("headers"), o.get("body"), o.get("timeout"))


@module.function(capabilities=("network.http",))
def put(url, options=None):
    """PUT url with options {body, headers, timeout} (a non-string body is sent as JSON)."""
    o = _options(options, "put")
    return _send("PUT", url, o.get("headers"), o.get("body"), o.get("timeout"))


@module.function(capabilities=("network.http",))
def patch(url, options=None):
    """PATCH url with options {body, headers, timeout} (a non-string body is sent as JSON)."""
    o = _options(options, "patch")
    return _send("PATCH", url, o.get("headers"), o.get("body"), o.get("timeout"))


@module.function(capabilities=("network.http",))
def request(options):
    """A request from {method="GET", url, headers, body, timeout}: an HttpResponse."""
    o = _options(options, "request")
    if "url" not in o:
        raise ValueError("Invalid URL: request options need a url")
    method = o.get("method") or "GET"
    return _send(method, o.get("url"), o.get("headers"), o.get("body"), o.get("timeout"))
