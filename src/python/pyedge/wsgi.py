"""Serve a WSGI application (PEP 3333: Flask, Django, Bottle, Falcon...) from the
wasi:http incoming handler.

`call` turns one request into the environ, calls the app, and returns the response as
``(status, [(name, value) bytes pairs], body)`` where `body` is bytes when the app's
iterable was finished by the time its headers were known, and otherwise an iterator
of bytes chunks that the C entry writes to the host as they come (a streamed response).
The iterable's `close()` is always called, once, when the response is done or fails.
"""

import io
import sys
from urllib.parse import unquote_to_bytes

__all__ = ["call", "environ"]


class _RawBody(io.RawIOBase):
    """The request body stream (`read(n)`) as a raw file, for io.BufferedReader: the app
    reads the upload as it arrives, and `readline`/iteration work as on any file."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _input(body):
    if isinstance(body, (bytes, bytearray)):
        return io.BytesIO(body)
    return io.BufferedReader(_RawBody(body), 65536)

# Request headers with their own environ keys (PEP 3333: no HTTP_ prefix).
_CONTENT_KEYS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def _server(authority, scheme):
    """SERVER_NAME and SERVER_PORT from the request's authority (the Host header)."""
    default = "443" if scheme == "https" else "80"
    if not authority:
        return "localhost", default
    host, sep, port = authority.rpartition(":")
    # "[::1]:8080" and "example.com:8080" have a port; "[::1]" and "example.com" do not.
    if not sep or not port.isdigit() or (host.startswith("[") is not host.endswith("]")):
        return authority, default
    return host, port


def environ(method, uri, headers, body, scheme=None, authority=None):
    """The PEP 3333 environ for one request.

    `uri` is the path with query as the host gave it (latin-1 text); `headers` are
    (name, value) bytes pairs; `body` the request body: bytes, or a stream with
    `read(n)` that `wsgi.input` reads as the app asks."""
    path, _, query = uri.partition("?")
    scheme = scheme or "http"
    name, port = _server(authority, scheme)
    env = {
        "REQUEST_METHOD": method,
        # The whole path is the app's: a component is mounted at the host's root (Spin
        # keeps the full path in the URI too, and says the route in spin-* headers).
        "SCRIPT_NAME": "",
        # PEP 3333: the path unquoted, its bytes carried in a latin-1 "native string".
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": name,
        "SERVER_PORT": port,
        # wasi:http does not tell the client's protocol version.
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": _input(body),
        # The body ends where the stream ends, with or without a Content-Length (a
        # chunked upload has none).
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        # Each request may run in a fresh instance of the component.
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in headers:
        key = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if key in _CONTENT_KEYS:
            env[_CONTENT_KEYS[key]] = value
            continue
        if "_" in key:
            # "x_user" and "x-user" would both become HTTP_X_USER, and a client could
            # pass one off as the other behind a proxy that only strips the dashed
            # form; gunicorn and nginx drop such headers for this reason.
            continue
        env_key = "HTTP_" + key.upper().replace("-", "_")
        if env_key in env:
            # Repeated headers fold into one value (RFC 9110 5.3); cookies with "; ",
            # as HTTP/2 clients split them (RFC 9113 8.2.3).
            sep = "; " if key == "cookie" else ","
            env[env_key] = env[env_key] + sep + value
        else:
            env[env_key] = value
    if "CONTENT_LENGTH" not in env and isinstance(body, (bytes, bytearray)) and body:
        env["CONTENT_LENGTH"] = str(len(body))
    return env


class _Response:
    """What `start_response` was told, and the data the app passed to `write()`."""

    def __init__(self):
        self.status = None
        self.headers = None
        self.sent = False  # the host has the status and headers
        self.written = []

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.sent:
                    # Too late to change the response: PEP 3333 says re-raise.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no cycle through the traceback
        elif self.status is not None:
            raise AssertionError("start_response() called again without exc_info")
        code = status.split(" ", 1)[0] if isinstance(status, str) else ""
        if not (len(code) == 3 and code.isdigit()):
            raise ValueError(f"WSGI status must be like '200 OK', not {status!r}")
        items = []
        for name, value in headers:
            if not (isinstance(name, str) and isinstance(value, str)):
                raise TypeError(f"WSGI header names and values must be str: {name!r}: {value!r}")
            items.append((name.encode("latin-1"), value.encode("latin-1")))
        self.status = int(code)
        self.headers = items
        return self.write

    def write(self, data):
        """The legacy `write()` callable: data goes out before the iterable's."""
        if self.status is None:
            raise AssertionError("write() called before start_response()")
        self.written.append(bytes(data))


def _close(result):
    close = getattr(result, "close", None)
    if close is not None:
        close()


def call(app, method, uri, headers, body, scheme=None, authority=None):
    """Call the WSGI `app` for one request; returns (status, headers, body)."""
    response = _Response()
    result = app(environ(method, uri, headers, body, scheme, authority), response.start_response)
    try:
        chunks = iter(result)
        first = []
        # Headers go out with the first non-empty chunk (PEP 3333): until then the app
        # may still call start_response again with exc_info.
        for chunk in chunks:
            if chunk:
                first.append(bytes(chunk))
                break
        else:
            chunks = None  # finished
        if response.status is None:
            raise RuntimeError("the WSGI app returned without calling start_response()")
    except BaseException:
        _close(result)
        raise
    response.sent = True
    head = response.written + first
    if chunks is None:
        _close(result)
        return response.status, response.headers, b"".join(head)
    return response.status, response.headers, _Stream(result, chunks, head)


class _Stream:
    """The rest of the body, chunk by chunk, as an iterator the C entry writes out. The
    app's iterable is closed once: at the end, on an error, or by `close()` (also when
    nothing was read: a HEAD response)."""

    def __init__(self, result, chunks, head):
        self.result = result
        self.chunks = chunks
        self.head = head
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.closed:
            raise StopIteration
        if self.head:
            return self.head.pop(0)
        try:
            for chunk in self.chunks:
                if chunk:
                    return bytes(chunk)
        except BaseException:
            self.close()
            raise
        self.close()
        raise StopIteration

    def close(self):
        if not self.closed:
            self.closed = True
            _close(self.result)
