"""`urllib.request` over the host's wasi:http/outgoing-handler.

A component has no sockets: `http.client` cannot connect. The boot module calls
:func:`install` when `urllib.request` is imported (at build or run time), which makes
the stock `HTTPHandler` and `HTTPSHandler` send through :func:`pyedge.http.send`, so
`urlopen`, `Request`, `build_opener()` and any opener an app or library builds work
unchanged: redirects, cookies, `HTTPError` for 4xx/5xx and basic auth stay urllib's own
handlers. A failure of the host to reach the server is a `URLError` whose `reason` is
the `ConnectionError` or `TimeoutError` (as urllib gives for a refused or timed-out
connect). TLS is the host's: certificates are verified by it, and an `ssl.SSLContext`
given to urlopen has no effect.
"""

import http.client
import io
import socket
import urllib.response
from urllib.error import URLError

from pyedge import http as _http

__all__ = ["install"]


def _body_bytes(data):
    """urllib's request data: bytes, a file object, or an iterable of bytes."""
    if data is None:
        return b""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "read"):
        chunk = data.read()
        return chunk.encode("iso-8859-1") if isinstance(chunk, str) else bytes(chunk)
    return b"".join(bytes(part) for part in data)


def _open(handler, req):
    """`do_open` for the host: the response as urllib's handlers expect it."""
    if req.has_proxy():
        raise URLError("proxies are not supported: the host makes the connection (wasi:http)")
    headers = dict(req.unredirected_hdrs)
    headers.update({k: v for k, v in req.headers.items() if k not in headers})
    timeout = None if req.timeout is socket._GLOBAL_DEFAULT_TIMEOUT else req.timeout
    outgoing = _http.Request(
        req.get_method(), req.full_url, _http.outgoing_headers(headers.items()), _body_bytes(req.data)
    )
    try:
        response = _http.send(outgoing, timeout=timeout)
    except (_http.HttpConnectError, _http.HttpTimeout) as err:
        kind = TimeoutError if isinstance(err, TimeoutError) else ConnectionError
        raise URLError(kind(str(err))) from None
    except _http.HttpError as err:
        raise URLError(str(err)) from None
    message = http.client.HTTPMessage()
    for name, value in response.headers.items_all():
        message[name] = value
    result = urllib.response.addinfourl(
        io.BytesIO(response.body_bytes()), message, req.full_url, response.status
    )
    try:
        reason = http.HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    result.msg = result.reason = reason
    return result


def _http_open(self, req):
    return _open(self, req)


def _https_open(self, req):
    return _open(self, req)


def install(request_module):
    """Point `urllib.request`'s HTTP and HTTPS handlers at the host (idempotent).
    `request_module` is `urllib.request` itself: it is being imported, and `urllib`
    does not name it yet."""
    request_module.HTTPHandler.http_open = _http_open
    # pyedge's `ssl` makes http.client define HTTPSConnection, so urllib has the handler.
    request_module.HTTPSHandler.https_open = _https_open
