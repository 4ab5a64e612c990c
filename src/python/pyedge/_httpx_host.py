"""httpx over the host's wasi:http/outgoing-handler.

The boot module calls :func:`install` as soon as `httpx._transports.default` is
imported, before the rest of httpx takes its names: `httpx.HTTPTransport` and
`httpx.AsyncHTTPTransport`, which every `Client`, `AsyncClient` and module function
(`httpx.get`...) builds by default, become :class:`HostTransport` and
:class:`AsyncHostTransport`, which send through :func:`pyedge.http.send`. The stock
transports would build an `ssl.SSLContext` from certifi's bundle and open sockets
through httpcore, neither of which a component can do. Redirects, auth, cookies,
`raise_for_status` and event hooks stay httpx's own.

The host not reaching the server raises `httpx.ConnectError`, a connect timeout
`httpx.ConnectTimeout`, no response in time `httpx.ReadTimeout`. TLS is the host's:
`verify=` and `cert=` have no effect; proxies are refused by name. The async transport
waits for the host in the calling task (pyedge's loop has no other thread to wait in).
"""

from httpx._content import ByteStream
from httpx._exceptions import ConnectError, ConnectTimeout, NetworkError, ReadTimeout
from httpx._models import Response
from httpx._transports.base import AsyncBaseTransport, BaseTransport

from pyedge import http as _http

__all__ = ["HostTransport", "AsyncHostTransport", "install"]


def _refuse_proxy(proxy):
    if proxy is not None:
        raise ValueError("proxies are not supported: the host makes the connection (wasi:http)")


def _timeout(request):
    """One timeout for the host's connect and first byte: the larger of httpx's."""
    limits = request.extensions.get("timeout") or {}
    values = [v for k, v in limits.items() if k in ("connect", "read") and v is not None]
    return max(values) if values else None


def _send(request, body):
    outgoing = _http.Request(
        request.method,
        str(request.url),
        _http.outgoing_headers(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
        ),
        body,
    )
    try:
        answer = _http.send(outgoing, timeout=_timeout(request))
    except _http.HttpTimeout as err:
        kind = ConnectTimeout if "connection timeout" in str(err) else ReadTimeout
        raise kind(str(err), request=request) from None
    except _http.HttpConnectError as err:
        raise ConnectError(str(err), request=request) from None
    except _http.HttpError as err:
        raise NetworkError(str(err), request=request) from None
    return Response(
        answer.status,
        headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items_all()],
        stream=ByteStream(answer.body_bytes()),
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )


class HostTransport(BaseTransport):
    """`httpx.HTTPTransport` for a component: the host makes the connection. Takes the
    stock transport's arguments; TLS ones are the host's business and are ignored."""

    def __init__(self, verify=True, cert=None, trust_env=True, http1=True, http2=False,
                 limits=None, proxy=None, uds=None, local_address=None, retries=0,
                 socket_options=None):
        _refuse_proxy(proxy)

    def handle_request(self, request):
        return _send(request, request.read())


class AsyncHostTransport(AsyncBaseTransport):
    """`httpx.AsyncHTTPTransport` for a component (see :class:`HostTransport`)."""

    def __init__(self, verify=True, cert=None, trust_env=True, http1=True, http2=False,
                 limits=None, proxy=None, uds=None, local_address=None, retries=0,
                 socket_options=None):
        _refuse_proxy(proxy)

    async def handle_async_request(self, request):
        return _send(request, await request.aread())


def install(default):
    """Replace the stock transports in `httpx._transports.default`, being imported, so
    the rest of httpx imports these (idempotent)."""
    default.HTTPTransport = HostTransport
    default.AsyncHTTPTransport = AsyncHostTransport
