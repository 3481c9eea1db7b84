"""The ML `http` module (spec §10) against a local server on 127.0.0.1 (no other address)."""

import json
import socket
import threading
import time
from urllib.parse import urlsplit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import mlpy
import mlpy.stdlib
from mlpy.runtime.context import Capabilities, ExecutionContext, Limits, OutputSink, using
from mlpy.runtime.signals import CapabilityDenied, SecurityViolation
from mlpy.runtime.values import MLObject, typeof
from mlpy.stdlib import http as http_impl


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body, content_type="application/json", extra=()):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            return self._reply(code, json.dumps({"error": code}))
        if self.path == "/text":
            return self._reply(200, "héllo wörld", "text/plain; charset=utf-8",
                               extra=[("X-Multi", "a"), ("X-Multi", "b")])
        if self.path == "/latin":
            return self._reply(200, "café".encode("latin-1"), "text/plain; charset=latin-1")
        if self.path == "/notjson":
            return self._reply(200, "not json", "text/plain")
        if self.path == "/slow":
            time.sleep(3)
            return self._reply(200, "{}")
        if self.path == "/big":
            return self._reply(200, "x" * 5000, "text/plain")
        if self.path == "/redirect":
            return self._reply(302, "", "text/plain", extra=[("Location", "http://example.com/")])
        payload = {"method": self.command, "path": self.path, "body": body,
                   "content_type": self.headers.get("Content-Type"),
                   "x_token": self.headers.get("X-Token"),
                   "numbers": [1, 2.5, True, None]}
        self._reply(200, json.dumps(payload))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _echo


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def context(caps=("network.http",), hosts=("127.0.0.1",), **kw):
    return ExecutionContext(output=OutputSink(), capabilities=Capabilities(caps),
                            allowed_hosts=tuple(hosts), **kw)


@pytest.fixture
def http():
    with using(context()):
        yield mlpy.stdlib.load("http").members


def test_text_helpers_need_no_capability():
    with using(context(caps=(), hosts=())):
        h = mlpy.stdlib.load("http").members
        assert h["encodeURI"]("a b/c?d=é") == "a%20b/c%3Fd%3D%C3%A9"
        assert h["decodeURI"]("a%20b/c%3Fd%3D%C3%A9") == "a b/c?d=é"
        assert h["encodeQuery"]({"a": 1, "b": "x y", "c": True, "d": [1, 2], "e": "&="}) == \
            "a=1&b=x+y&c=true&d=1&d=2&e=%26%3D"
        assert h["encodeQuery"]({}) == ""
        assert h["parseQuery"]("?a=1&b=x+y&a=2&a=3&empty=&e=%26") == \
            {"a": ["1", "2", "3"], "b": "x y", "empty": "", "e": "&"}
        assert h["parseQuery"]("") == {}
        with pytest.raises(TypeError):
            h["encodeQuery"]([1])


def test_get_and_response_object(http, server):
    r = http["get"](server + "/hello?q=1")
    assert isinstance(r, MLObject) and typeof(r) == "HttpResponse"
    assert r.status() == 200 and r.statusText() == "OK" and r.ok() is True
    data = r.json()
    assert data["method"] == "GET" and data["path"] == "/hello?q=1"
    assert data["numbers"] == [1, 2.5, True, None] and type(data["numbers"][0]) is int
    assert r.headers()["content-type"] == "application/json"
    assert r.text() == r.body() and json.loads(r.text()) == data
    assert sorted(r.ml_member_names()) == sorted(
        ["status", "statusText", "ok", "headers", "body", "text", "json"])


def test_headers_text_and_charsets(http, server):
    r = http["get"](server + "/text", {"X-Token": "abc"})
    assert r.text() == "héllo wörld"
    assert r.headers()["x-multi"] == "a, b"
    assert http["get"](server + "/latin").text() == "café"
    assert http["get"](server + "/echo", {"X-Token": 7}).json()["x_token"] == "7"
    with pytest.raises(ValueError, match="JSON parsing failed"):
        http["get"](server + "/notjson").json()
    with pytest.raises(ValueError, match="line breaks"):
        http["get"](server + "/echo", {"X-Evil": "a\r\nInjected: 1"})


def test_error_statuses_are_responses(http, server):
    r = http["get"](server + "/status/404")
    assert r.status() == 404 and r.ok() is False and r.statusText() == "Not Found"
    assert r.json() == {"error": 404}
    assert http["get"](server + "/status/500").status() == 500
    r = http["get"](server + "/redirect")                       # never followed
    assert r.status() == 302 and r.headers()["location"] == "http://example.com/"


def test_head_delete_and_bodies(http, server):
    r = http["head"](server + "/x")
    assert r.status() == 200 and r.text() == ""
    assert http["delete"](server + "/item/3").json()["method"] == "DELETE"
    sent = http["post"](server + "/p", {"body": {"a": [1, "é"]}, "headers": {"X-Token": "t"}}).json()
    assert sent["method"] == "POST" and json.loads(sent["body"]) == {"a": [1, "é"]}
    assert sent["content_type"] == "application/json" and sent["x_token"] == "t"
    sent = http["put"](server + "/p", {"body": "plain text"}).json()
    assert sent["method"] == "PUT" and sent["body"] == "plain text" and sent["content_type"] is None
    sent = http["patch"](server + "/p", {"body": [1, 2], "headers": {"Content-Type": "x/y"}}).json()
    assert sent["method"] == "PATCH" and sent["body"] == "[1, 2]" and sent["content_type"] == "x/y"
    assert http["post"](server + "/p").json()["body"] == ""
    sent = http["request"]({"url": server + "/r"}).json()
    assert sent["method"] == "GET"
    sent = http["request"]({"method": "post", "url": server + "/r", "body": {"k": None}}).json()
    assert sent["method"] == "POST" and json.loads(sent["body"]) == {"k": None}
    assert http["request"]({"method": "OPTIONS", "url": server + "/r"}).status() == 200
    with pytest.raises(ValueError, match="Unsupported HTTP method"):
        http["request"]({"method": "BREW", "url": server})
    with pytest.raises(ValueError, match="JSON serialization failed"):
        http["post"](server, {"body": {"x": float("nan")}})


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http://", "127.0.0.1/x",
                                 "http://127.0.0.1:99999/", 42])
def test_invalid_urls_are_value_errors(http, url):
    with pytest.raises(ValueError, match="Invalid URL"):
        http["get"](url)


def test_disallowed_hosts_are_refused_before_connecting(http, server, monkeypatch):
    port = server.rsplit(":", 1)[1]

    def no_network(*args, **kwargs):
        raise AssertionError("a refused request must not reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    for url in (f"http://localhost:{port}/", "http://example.com/", "https://10.0.0.1/x",
                "http://127.0.0.1.nip.io/", f"http://127.0.0.2:{port}/"):
        with pytest.raises(SecurityViolation) as info:
            http["get"](url)
        assert f"'{urlsplit(url).hostname}'" in str(info.value)
        assert info.value.ml_type == "SecurityError"
    with pytest.raises(SecurityViolation):
        http["post"]("http://example.com/", {"body": "x"})
    with pytest.raises(SecurityViolation):
        http["request"]({"url": "http://example.com/"})


def test_no_allowed_hosts_means_no_requests(server):
    with using(context(hosts=())):
        with pytest.raises(SecurityViolation, match="access to host '127.0.0.1' is not allowed"):
            mlpy.stdlib.load("http").members["get"](server)


def test_host_entries_with_ports_and_patterns(server):
    port = int(server.rsplit(":", 1)[1])
    with using(context(hosts=(f"127.0.0.1:{port}",))):
        assert mlpy.stdlib.load("http").members["get"](server).status() == 200
    with using(context(hosts=(f"127.0.0.1:{port + 1}",))):
        with pytest.raises(SecurityViolation):
            mlpy.stdlib.load("http").members["get"](server)
    with using(context(hosts=("*.example.com",))):
        h = mlpy.stdlib.load("http").members
        with pytest.raises(SecurityViolation):
            h["get"](server)
        with pytest.raises(SecurityViolation):
            h["get"]("http://example.com.evil.org/")


@pytest.mark.parametrize("name,args", [
    ("get", ("URL",)), ("head", ("URL",)), ("delete", ("URL",)), ("post", ("URL", {})),
    ("put", ("URL", {})), ("patch", ("URL", {})), ("request", ({"url": "URL"},)),
])
def test_missing_capability_is_refused(server, name, args):
    args = tuple(server if a == "URL" else ({"url": server} if a == {"url": "URL"} else a)
                 for a in args)
    with using(context(caps=("file.read",))):
        with pytest.raises(CapabilityDenied, match=f"http.{name} requires capability 'network.http'"):
            mlpy.stdlib.load("http").members[name](*args)


def test_network_failures_are_runtime_errors(http):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                             # nothing listens there now
    with pytest.raises(RuntimeError, match="^Network error: "):
        http["get"](f"http://127.0.0.1:{port}/")


def test_timeouts_are_bounded(http, server, monkeypatch):
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="Network error: timed out"):
        http["get"](server + "/slow", None, 0.5)
    assert time.monotonic() - started < 2.5
    with pytest.raises(ValueError, match="timeout"):
        http["get"](server, None, 0)
    with pytest.raises(ValueError, match="timeout"):
        http["get"](server, None, "soon")
    monkeypatch.setattr(http_impl, "MAX_TIMEOUT", 0.5)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        http["get"](server + "/slow", None, 1000)              # capped
    assert time.monotonic() - started < 2.5


def test_response_size_is_capped(server):
    with using(context(limits=Limits(max_string=1000))):
        with pytest.raises(RuntimeError, match="larger than 1000 bytes"):
            mlpy.stdlib.load("http").members["get"](server + "/big")


def test_proxy_environment_is_ignored(http, server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://192.0.2.1:9")
    assert http["get"](server + "/via-direct", None, 5).status() == 200


def test_declaration():
    decl = mlpy.stdlib.declaration("http")
    assert decl.capabilities == {"network.http"}
    for name in ("encodeURI", "decodeURI", "encodeQuery", "parseQuery"):
        assert decl.members[name].ml_capabilities == ()
    for name, fn in decl.members.items():
        assert fn.ml_doc and "\n" not in fn.ml_doc, name


# --- end to end: ML programs through the compiler ------------------------------------------


def run_ml(source, ctx):
    from mlpy.runner import execute
    from mlpy.runtime.namespace import new_namespace
    outcome = execute(mlpy.compile(source), new_namespace(), ctx)
    return outcome, ctx.output.text()


def test_ml_program_talks_to_the_local_server(server):
    source = '''
import http;
r = http.get(URL + "/hello");
print(typeof(r), r.status(), r.ok(), r.json().method, r.headers()["content-type"]);
p = http.post(URL + "/p", {body: {n: [1, 2]}, timeout: 5});
print(p.json().body, http.get(URL + "/status/404").status());
print(http.encodeQuery({q: "a b", n: 1}), http.parseQuery("?x=1&x=2"));
try { http.get("http://example.com/"); } except (e) { print(e.type, e.message); }
try { r._raw; } except (e) { print(e.type); }
'''.replace("URL", '"' + server + '"')
    outcome, out = run_ml(source, context())
    assert outcome.success, outcome.error
    assert out.splitlines() == [
        "HttpResponse 200 true GET application/json",
        '{"n": [1, 2]} 404',
        'q=a+b&n=1 {"x": ["1", "2"]}',
        "SecurityError access to host 'example.com' is not allowed",
        "SecurityError",
    ]
    outcome, out = run_ml('import http; print(http.encodeURI("a b")); http.get("' + server + '");',
                          context(caps=()))
    assert out == "a%20b\n" and outcome.error.type == "CapabilityError"
