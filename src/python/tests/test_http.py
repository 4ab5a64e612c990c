"""pyedge.http: headers, requests, responses, URL splitting and `send`'s contract with
the host binding."""

import sys
import types

import pytest

from pyedge import http


def test_headers_are_case_insensitive_and_multi_valued():
    headers = http.Headers({"Content-Type": "text/plain"})
    headers.add("Set-Cookie", "a=1")
    headers.add(b"set-cookie", b"b=2")
    assert headers["content-type"] == "text/plain"
    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert list(headers) == ["content-type", "set-cookie"]
    assert len(headers) == 2
    assert "Content-TYPE" in headers
    with pytest.raises(KeyError):
        headers["missing"]


def test_setting_a_header_replaces_every_value_and_deleting_removes_them():
    headers = http.Headers([("x-a", "1"), ("X-A", "2"), ("x-b", "3")])
    headers["X-A"] = "9"
    assert headers.items_all() == [("x-b", "3"), ("x-a", "9")]
    del headers["x-b"]
    assert headers.items_all() == [("x-a", "9")]
    headers["x-new"] = "n"
    assert headers["x-new"] == "n"


def test_request_splits_path_and_query_and_reads_its_body():
    request = http.Request("POST", "/api/items?id=7&x=1", {"Accept": "*/*"}, b'{"n": 3}')
    assert request.path == "/api/items"
    assert request.query == "id=7&x=1"
    assert request.json() == {"n": 3}
    assert request.text() == '{"n": 3}'
    assert request.headers["accept"] == "*/*"
    assert http.Request().body == b"" and http.Request().query == ""


def test_response_bodies_are_bytes_str_or_none():
    assert http.Response(204).body_bytes() == b""
    assert http.Response(200, {}, "héllo").body_bytes() == "héllo".encode()
    assert http.Response(200, {}, bytearray(b"ab")).body_bytes() == bytearray(b"ab")
    with pytest.raises(TypeError, match="not int"):
        http.Response(200, {}, 42).body_bytes()


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("https://api.example.com/v1?q=1", ("https", "api.example.com", "/v1?q=1")),
        ("HTTP://h:8080", ("http", "h:8080", "/")),
        ("http://h?x=1#frag", ("http", "h", "/?x=1")),
        ("http://h#frag", ("http", "h", "/")),
        ("https://u:p@h/p", ("https", "u:p@h", "/p")),
    ],
)
def test_absolute_urls_split_as_rfc_3986_says(uri, expected):
    assert http._split_url(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["/relative", "ftp://h/", "http://", "http:///path", "http://h/a b", "http://h/\x7f", None],
)
def test_anything_else_is_refused(uri):
    assert http._split_url(uri) is None


def test_send_outside_the_http_world_says_why(monkeypatch):
    monkeypatch.delitem(sys.modules, "_pyedge_http", raising=False)
    with pytest.raises(http.HttpError, match="needs the wasi:http world"):
        http.send(http.Request("GET", "https://example.com/"))


@pytest.fixture
def host(monkeypatch):
    """A stand-in for the runtime's `_pyedge_http` binding that records its calls."""
    calls = []
    binding = types.ModuleType("_pyedge_http")

    def send(method, scheme, authority, path, headers, body, timeout_ns, stream=False):
        calls.append((method, scheme, authority, path, headers, body, timeout_ns))
        if authority == "down.example":
            raise ConnectionRefusedError("request failed: connection refused")
        if authority == "slow.example":
            raise TimeoutError("request failed: HTTP response timeout")
        if authority == "odd.example":
            raise OSError("request failed: HTTP protocol error")
        return 201, [(b"Content-Type", b"application/json")], b'{"ok": true}'

    binding.send = send
    monkeypatch.setitem(sys.modules, "_pyedge_http", binding)
    return calls


def test_send_passes_the_request_to_the_host_and_wraps_its_answer(host):
    request = http.Request("PUT", "https://api.example.com/items/1?v=2", {"X-Id": "7"}, "body")
    response = http.send(request, timeout=1.5)
    assert host == [
        ("PUT", "https", "api.example.com", "/items/1?v=2", [(b"x-id", b"7")], b"body", 1_500_000_000)
    ]
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert response.body == b'{"ok": true}'


def test_send_turns_host_failures_and_bad_urls_into_http_errors(host):
    with pytest.raises(http.HttpConnectError, match="GET https://down.example/: .*connection refused"):
        http.send(http.Request("GET", "https://down.example/"))
    with pytest.raises(http.HttpTimeout, match="response timeout") as timeout:
        http.send(http.Request("GET", "https://slow.example/"))
    assert isinstance(timeout.value, (http.HttpError, TimeoutError))
    with pytest.raises(http.HttpError) as other:
        http.send(http.Request("GET", "https://odd.example/"))
    assert not isinstance(other.value, (ConnectionError, TimeoutError))
    with pytest.raises(http.HttpError, match="absolute http:// or https:// URL"):
        http.send(http.Request("GET", "/relative"))
    with pytest.raises(TypeError, match="takes a Request"):
        http.send("https://example.com/")
    assert len(host) == 3
    # Without a timeout the host's default applies (0), a tiny one is at least 1 ns.
    http.send(http.Request("GET", "https://a.example/"), timeout=1e-12)
    http.send(http.Request("GET", "https://a.example/"))
    assert [call[-1] for call in host[3:]] == [1, 0]


def test_outgoing_headers_leave_connection_headers_to_the_host():
    items = [("Host", "a.example"), ("Connection", "keep-alive"), ("Content-Length", "3"),
             ("Transfer-Encoding", "chunked"), ("Accept", "*/*"), ("TE", "trailers")]
    assert http.outgoing_headers(items) == [("Content-Length", "3"), ("Accept", "*/*")]


class FakeIncoming:
    def __init__(self, data):
        self.data, self.closed = data, False

    def read(self, n=-1):
        if n < 0:
            out, self.data = self.data, b""
        else:
            out, self.data = self.data[:n], self.data[n:]
        return out

    def close(self):
        self.closed = True


def test_an_incoming_body_is_read_when_first_used_or_streamed():
    lazy = http.Request._from_host("POST", "/", http.Headers(), FakeIncoming(b"abc"))
    assert lazy.body == b"abc" and lazy.body == b"abc"
    streamed = http.Request._from_host("POST", "/", http.Headers(), FakeIncoming(b"x" * 70000))
    chunks = list(streamed.stream())
    assert [len(c) for c in chunks] == [http.CHUNK, 70000 - http.CHUNK]
    with pytest.raises(RuntimeError, match="stream"):
        streamed.body
    # the body can still be replaced (a gateway rewriting it before forwarding)
    streamed.body = b"new"
    assert streamed.body == b"new"


def test_send_streams_iterable_bodies_and_responses(host, monkeypatch):
    sent = {}
    binding = sys.modules["_pyedge_http"]

    def send(method, scheme, authority, path, headers, body, timeout_ns, stream=False):
        sent["body"] = b"".join(body)
        return 200, [], FakeIncoming(b"streamed back") if stream else b"whole"

    monkeypatch.setattr(binding, "send", send)
    request = http.Request("POST", "https://up.example/", {}, (c for c in [b"a", "b", bytearray(b"c")]))
    response = http.send(request, stream=True)
    assert sent["body"] == b"abc"
    assert isinstance(response.body, http.BodyStream)
    assert b"".join(response.body) == b"streamed back"
    assert http.send(http.Request("GET", "https://up.example/")).body == b"whole"
