"""HTTP requests and responses for edge handlers.

A handler is a module-level function ``handle_request(request: Request) -> Response``.
Outbound calls go through the host's ``wasi:http/outgoing-handler`` with :func:`send`.
"""

import sys
from _collections_abc import Mapping

__all__ = [
    "Request", "Response", "Headers", "HttpError", "HttpConnectError", "HttpTimeout", "send",
    "send_to_origin",
]


class HttpError(Exception):
    """An outbound request failed (bad URL, connection refused, timeout...)."""


class HttpConnectError(HttpError, ConnectionError):
    """The host could not reach the server (refused, no such host, connection lost)."""


class HttpTimeout(HttpError, TimeoutError):
    """No connection or no response within the timeout."""


class Headers(Mapping):
    """Case-insensitive, multi-valued HTTP headers; ``headers[name]`` joins values with ", "."""

    def __init__(self, items=()):
        self._items = []
        if isinstance(items, Mapping):
            items = items.items()
        for name, value in items:
            self.add(name, value)

    def add(self, name, value):
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        self._items.append((str(name).lower(), str(value)))

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self._items if k == name]

    def __getitem__(self, name):
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __iter__(self):
        seen = []
        for k, _ in self._items:
            if k not in seen:
                seen.append(k)
        return iter(seen)

    def __len__(self):
        return len(set(k for k, _ in self._items))

    def __setitem__(self, name, value):
        self.__delitem__(name) if name.lower() in self else None
        self.add(name, value)

    def __delitem__(self, name):
        name = name.lower()
        self._items = [(k, v) for k, v in self._items if k != name]

    def items_all(self):
        """Every (name, value) pair, in order, repeated names included."""
        return list(self._items)

    def __repr__(self):
        return f"Headers({self._items!r})"


# The most one chunk of a streamed body holds.
CHUNK = 65536


class BodyStream:
    """A body read as it arrives: iterate for chunks (at most :data:`CHUNK` bytes each),
    or ``read(n)``/``read()``; ``close()`` lets go of it. An incoming request's
    :meth:`Request.stream`, and an outbound response's ``body`` with
    ``send(..., stream=True)``; either can be the body of a :class:`Response` or of an
    outbound :class:`Request`, which then streams it on without holding it whole."""

    def __init__(self, source):
        self._source = source  # the C entry's IncomingBody (read(n), close())

    def read(self, n=-1):
        return self._source.read(n)

    def __iter__(self):
        while True:
            chunk = self._source.read(CHUNK)
            if not chunk:
                self.close()
                return
            yield chunk

    def close(self):
        self._source.close()


_UNREAD = object()


class Request:
    """An HTTP request: ``method``, ``uri`` (path and query for incoming requests, a full
    URL for outbound ones), ``headers`` and ``body``: bytes, or for an outbound request
    an iterable of bytes chunks (a :class:`BodyStream`, a generator) sent as they come.

    An incoming request's body is read from the host when ``body`` is first used, or
    chunk by chunk with :meth:`stream` (then never whole)."""

    def __init__(self, method="GET", uri="/", headers=None, body=None):
        self.method = method
        self.uri = uri
        self.headers = headers if isinstance(headers, Headers) else Headers(headers or ())
        self.body = b"" if body is None else body
        self._incoming = None
        # For an incoming request: the scheme and authority the host saw, when it says.
        self.scheme = None
        self.authority = None

    @classmethod
    def _from_host(cls, method, uri, headers, incoming):
        """The request being served, its body still at the host (`incoming.read(n)`)."""
        request = cls(method, uri, headers)
        request._body = _UNREAD
        request._incoming = incoming
        return request

    @property
    def body(self):
        if self._body is _UNREAD:
            self._body = self._incoming.read()
        elif self._body is None:
            raise RuntimeError("the request body was read with stream()")
        return self._body

    @body.setter
    def body(self, value):
        self._body = value

    def stream(self):
        """The incoming body as a :class:`BodyStream`, read as it is iterated (an upload
        of any size, never held whole); after it, ``body`` is no longer available."""
        if self._body is _UNREAD:
            self._body = None
            return BodyStream(self._incoming)
        body = self.body
        return iter([bytes(body)] if body else [])

    @property
    def path(self):
        return self.uri.split("?", 1)[0]

    @property
    def query(self):
        return self.uri.split("?", 1)[1] if "?" in self.uri else ""

    def text(self, encoding="utf-8"):
        return bytes(self.body).decode(encoding)

    def json(self):
        import json
        return json.loads(bytes(self.body))

    def __repr__(self):
        return f"Request({self.method!r}, {self.uri!r})"


class Response:
    """An HTTP response. ``body`` may be bytes, str (sent as UTF-8), None, or an iterable
    of bytes/str chunks (a generator, a :class:`BodyStream`), which a handler's response
    streams to the client as they are produced."""

    def __init__(self, status=200, headers=None, body=None):
        self.status = status
        self.headers = headers if isinstance(headers, Headers) else Headers(headers or ())
        self.body = body

    def body_bytes(self):
        body = self.body
        if body is None:
            return b""
        if isinstance(body, str):
            return body.encode("utf-8")
        if isinstance(body, (bytes, bytearray, memoryview)):
            return body
        raise TypeError(f"response body must be bytes, str or None, not {type(body).__name__}")

    def __repr__(self):
        return f"Response({self.status!r})"


def send(request, timeout=None, stream=False):
    """Send ``request`` (a :class:`Request` with an absolute ``http://`` or ``https://``
    URI) through the host and return its :class:`Response`. ``timeout`` is in seconds
    (connect and first byte). A request body that is an iterable of bytes is sent chunk
    by chunk as it is produced; with ``stream=True`` the response's ``body`` is a
    :class:`BodyStream` read as it is iterated. Raises :class:`HttpError` with the reason
    on failure."""
    try:
        import _pyedge_http
    except ImportError:
        raise HttpError("outbound HTTP needs the wasi:http world (an app with handle_request)") from None
    if not isinstance(request, Request):
        raise TypeError(f"send() takes a Request, not {type(request).__name__}")
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is None or isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body or b"")
    else:
        body = _byte_chunks(body)
    timeout_ns = 0 if timeout is None else max(1, int(timeout * 1e9))
    url = _split_url(request.uri)
    if url is None:
        raise HttpError(f"send() needs an absolute http:// or https:// URL, not {request.uri!r}")
    scheme, authority, path = url
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items_all()]
    logs = sys.modules.get("pyedge.logs")
    parent = logs.traceparent() if logs is not None else None
    if parent is not None and "traceparent" not in request.headers:
        headers.append((b"traceparent", parent.encode("ascii")))  # continue the trace
    try:
        status, headers, data = _pyedge_http.send(
            request.method, scheme, authority, path, headers, body, timeout_ns, stream
        )
    except OSError as exc:
        kind = HttpTimeout if isinstance(exc, TimeoutError) else (
            HttpConnectError if isinstance(exc, ConnectionError) else HttpError)
        raise kind(f"{request.method} {request.uri}: {exc}") from None
    return Response(status, Headers(headers), BodyStream(data) if stream else data)


def _byte_chunks(chunks):
    """An iterable body's chunks as bytes (str as UTF-8)."""
    for chunk in chunks:
        yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


# Headers a client library writes for a connection it makes itself; the host makes the
# connection, sets them, and refuses requests that carry them (wasi:http's forbidden
# headers).
_CONNECTION_HEADERS = frozenset((
    "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    "te", "http2-settings",
))


def outgoing_headers(items):
    """`(name, value)` pairs a client library would send, minus those the host sets."""
    return [(k, v) for k, v in items if k.lower() not in _CONNECTION_HEADERS]


def _split_url(uri):
    """``(scheme, authority, path and query)`` of an absolute http(s) URL, or None.

    RFC 3986: ``scheme "://" authority path-abempty ["?" query] ["#" fragment]``; the
    fragment is dropped and an empty path becomes "/". The host checks the authority.
    Whitespace and control characters are refused rather than stripped as
    ``urllib.parse.urlsplit`` does. Written out instead of calling urlsplit because that
    import brings re, enum and ipaddress into the snapshot of every app (about 1 MB),
    which only ``send`` would use.
    """
    if not isinstance(uri, str) or any(c <= " " or c == "\x7f" for c in uri):
        return None
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return None
    end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if 0 <= at < end:
            end = at
    authority, tail = rest[:end], rest[end:].partition("#")[0]
    if not authority:
        return None
    return scheme, authority, tail if tail.startswith("/") else "/" + tail


# RFC 9110 7.6.1: connection-specific fields, never forwarded by a proxy (plus the
# obsolete `proxy-connection`, and `host`/`content-length`, which the host sets).
_HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
))


class NoOriginError(HttpError):
    """`send_to_origin` without `[tool.pyedge] origin` in pyproject.toml."""


def _origin():
    """`[tool.pyedge] origin`, unless the host provides `origin` at run time (its
    environment or config store, with runtime-config "env" or "wasi-config")."""
    import _pyedge_boot

    origin = _pyedge_boot.host_config("origin") if _pyedge_boot.RUN_TIME else None
    if origin is not None:
        if not origin.startswith(("http://", "https://")) or "?" in origin or "#" in origin:
            raise NoOriginError(
                f"the host's `origin` setting {origin!r} is not a plain http:// or https:// URL"
            )
    else:
        origin = _pyedge_boot.CONFIG.get("origin", "")
    if not origin:
        raise NoOriginError(
            "send_to_origin() needs the origin's URL: set `origin = \"https://...\"` under "
            "[tool.pyedge] in pyproject.toml and build again, or provide `origin` on the host "
            "with [tool.pyedge] runtime-config = \"env\" or \"wasi-config\""
        )
    return origin.rstrip("/")


def send_to_origin(request, timeout=None):
    """Forward ``request`` (usually the incoming one, possibly modified) to the app's
    origin, ``[tool.pyedge] origin``: same method, path and query, headers and body.
    Hop-by-hop headers are dropped; ``x-forwarded-host`` and ``x-forwarded-proto`` are
    set from the incoming request and an incoming ``x-forwarded-for`` is passed on
    (wasi:http tells a handler no client address, so none is added). Returns the
    origin's response (minus hop-by-hop headers); when the origin cannot be reached,
    a 502 response, with a log line on stderr naming the origin."""
    origin = _origin()
    listed = {t.strip().lower() for v in request.headers.get_all("connection") for t in v.split(",")}
    headers = Headers(
        (k, v) for k, v in request.headers.items_all() if k not in _HOP_BY_HOP and k not in listed
    )
    host = request.authority or request.headers.get("host")
    if host:
        headers["x-forwarded-host"] = host
    headers["x-forwarded-proto"] = request.scheme or "http"
    body = request.body.encode("utf-8") if isinstance(request.body, str) else bytes(request.body or b"")
    if body:  # the length of the body sent, which the handler may have changed
        headers["content-length"] = str(len(body))
    uri = request.uri if request.uri.startswith("/") else "/" + request.uri
    try:
        response = send(Request(request.method, origin + uri, headers, body), timeout=timeout)
    except HttpError as err:
        import sys

        print(f"pyedge: send_to_origin: origin {origin} unreachable: {err}", file=sys.stderr)
        return Response(502, {"content-type": "text/plain; charset=utf-8"}, "Bad Gateway: origin unreachable\n")
    listed = {t.strip().lower() for v in response.headers.get_all("connection") for t in v.split(",")}
    out = Headers((k, v) for k, v in response.headers.items_all() if k not in _HOP_BY_HOP and k not in listed)
    return Response(response.status, out, response.body)
