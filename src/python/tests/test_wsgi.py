"""pyedge.wsgi: the PEP 3333 environ and the response protocol."""

import sys

import pytest

from pyedge import wsgi


def environ(uri="/", headers=(), body=b"", **kw):
    return wsgi.environ("GET", uri, list(headers), body, **kw)


def test_environ_follows_pep_3333():
    env = wsgi.environ(
        "POST",
        "/caf%C3%A9/a%2Fb?x=1&y=%20",
        [(b"Host", b"example.com:8080"), (b"Content-Type", b"text/plain"), (b"X-A", b"1"), (b"x-a", b"2")],
        b"hello",
        scheme="https",
        authority="example.com:8080",
    )
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == ""
    # unquoted, its UTF-8 bytes carried as latin-1 text
    assert env["PATH_INFO"] == "/caf\xc3\xa9/a/b"
    assert env["QUERY_STRING"] == "x=1&y=%20"
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("example.com", "8080")
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in env
    assert env["HTTP_X_A"] == "1,2"
    assert env["wsgi.url_scheme"] == "https"
    assert env["wsgi.input"].read() == b"hello"
    assert env["wsgi.errors"] is sys.stderr
    assert env["wsgi.version"] == (1, 0)


def test_server_name_defaults_and_ipv6():
    assert (environ()["SERVER_NAME"], environ()["SERVER_PORT"]) == ("localhost", "80")
    env = environ(scheme="https", authority="[::1]")
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("[::1]", "443")
    env = environ(authority="[::1]:9000")
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("[::1]", "9000")


def test_cookies_fold_with_semicolons_and_underscored_headers_are_dropped():
    env = environ(headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"x_user", b"root")])
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert "HTTP_X_USER" not in env


def test_no_body_means_no_content_length():
    assert "CONTENT_LENGTH" not in environ()


class Closing:
    def __init__(self, chunks):
        self.chunks = chunks
        self.closed = 0

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed += 1


def test_a_finished_body_is_bytes_and_close_is_called():
    result = Closing([b"a", b"", b"b"])

    def app(environ, start_response):
        start_response("201 Created", [("X-One", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return result

    status, headers, body = wsgi.call(app, "GET", "/", [], b"")
    assert status == 201
    assert headers == [(b"X-One", b"1"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")]
    # the first non-empty chunk starts the response; the rest streams
    assert list(body) == [b"a", b"b"]
    assert result.closed == 1


def test_all_empty_body_is_finished_bytes():
    result = Closing([b"", b""])

    def app(environ, start_response):
        start_response("204 No Content", [])
        return result

    assert wsgi.call(app, "GET", "/", [], b"") == (204, [], b"")
    assert result.closed == 1


def test_generator_app_calls_start_response_lazily():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one"
        yield b"two"

    status, headers, body = wsgi.call(app, "GET", "/", [], b"")
    assert status == 200
    assert b"".join(body) == b"onetwo"


def test_write_callable_output_comes_first():
    def app(environ, start_response):
        write = start_response("200 OK", [])
        write(b"head-")
        return [b"tail"]

    status, _, body = wsgi.call(app, "GET", "/", [], b"")
    assert b"".join(body) == b"head-tail"


def test_exc_info_replaces_headers_before_any_body():
    def app(environ, start_response):
        start_response("200 OK", [("X-A", "1")])
        try:
            raise KeyError("x")
        except KeyError:
            start_response("500 Internal Server Error", [("X-B", "2")], sys.exc_info())
        return [b"error"]

    status, headers, body = wsgi.call(app, "GET", "/", [], b"")
    assert (status, headers) == (500, [(b"X-B", b"2")])


def test_second_start_response_without_exc_info_is_an_error():
    def app(environ, start_response):
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    with pytest.raises(AssertionError):
        wsgi.call(app, "GET", "/", [], b"")


def test_app_that_never_starts_fails_and_is_closed():
    result = Closing([b"x"])
    with pytest.raises(RuntimeError, match="start_response"):
        wsgi.call(lambda e, s: result, "GET", "/", [], b"")
    assert result.closed == 1


def test_error_while_streaming_still_closes():
    result = Closing(None)

    def chunks():
        yield b"first"
        raise OSError("disk")

    result.chunks = chunks()

    def app(environ, start_response):
        start_response("200 OK", [])
        return result

    _, _, body = wsgi.call(app, "GET", "/", [], b"")
    assert next(body) == b"first"
    with pytest.raises(OSError):
        next(body)
    assert result.closed == 1


def test_status_and_header_types_are_checked():
    with pytest.raises(ValueError):
        wsgi.call(lambda e, s: s("OK", []) or [], "GET", "/", [], b"")
    with pytest.raises(TypeError):
        wsgi.call(lambda e, s: s("200 OK", [(b"x", b"y")]) or [], "GET", "/", [], b"")


def test_closing_an_unread_stream_closes_the_iterable():
    result = Closing([b"a", b"b"])

    def app(environ, start_response):
        start_response("200 OK", [])
        return result

    _, _, body = wsgi.call(app, "HEAD", "/", [], b"")
    body.close()
    body.close()
    assert result.closed == 1
    assert list(body) == []


class Upload:
    """A request body stream as the C entry gives it: read(n) returns at most n bytes,
    in the pieces the client sent."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.reads = 0

    def read(self, n=-1):
        self.reads += 1
        if not self.pieces:
            return b""
        if n < 0:
            data, self.pieces = b"".join(self.pieces), []
            return data
        data = self.pieces[0][:n]
        rest = self.pieces[0][n:]
        if rest:
            self.pieces[0] = rest
        else:
            self.pieces.pop(0)
        return data


def test_wsgi_input_reads_the_stream_as_the_app_asks():
    upload = Upload([b"line one\nli", b"ne two\n", b"tail"])
    env = wsgi.environ("POST", "/", [], upload)
    assert "CONTENT_LENGTH" not in env  # unknown until the stream ends
    stream = env["wsgi.input"]
    assert upload.reads == 0  # nothing read before the app asks
    assert stream.readline() == b"line one\n"
    assert list(stream) == [b"line two\n", b"tail"]
    assert stream.read() == b""
