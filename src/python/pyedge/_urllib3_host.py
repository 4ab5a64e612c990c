"""urllib3 (and so `requests`) over the host's wasi:http/outgoing-handler.

The boot module calls :func:`install` as soon as `urllib3.connectionpool` is imported.
Like urllib3's own Emscripten backend (`urllib3.contrib.emscripten`, which swaps the
pools' connection classes for ones that call the browser's fetch), it makes the pools
use :class:`HostHTTPConnection`, which sends each request with
:func:`pyedge.http.send`: pooling, retries, redirects, `raise_for_status`, sessions and
cookies stay urllib3's and requests' own.

Errors come out as each library's own: the host not reaching the server is urllib3's
`NewConnectionError` (requests: `ConnectionError`), no answer in time a read timeout
(requests: `ReadTimeout`). TLS is the host's: `verify=` and `cert=` have no effect (the
host verifies certificates), and proxies are refused by name.
"""

import io
import socket
import sys

from urllib3._collections import HTTPHeaderDict
from urllib3.exceptions import NewConnectionError, ProxyError
from urllib3.response import HTTPResponse

from pyedge import http as _http

__all__ = ["HostHTTPConnection", "HostHTTPSConnection", "install"]


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)


class HostHTTPConnection:
    """What urllib3's pool asks of a connection, with the host making the connection.

    `request()` records the request; `getresponse()` sends it and wraps the answer in
    urllib3's `HTTPResponse` (which decodes gzip/deflate as usual)."""

    default_port = 80
    scheme = "http"
    is_verified = False
    proxy_is_verified = None

    def __init__(self, host, port=None, *, timeout=None, proxy=None, proxy_config=None, **_ignored):
        if proxy is not None:
            raise ProxyError(
                "proxies are not supported: the host makes the connection (wasi:http)",
                OSError("no proxy support"),
            )
        self.host = host
        self.port = port
        self.timeout = timeout if isinstance(timeout, (int, float)) else None
        self.proxy = None
        self.proxy_config = None
        self.sock = None
        self.blocksize = 16384
        self.source_address = None
        self.socket_options = None
        self._pending = None
        self._closed = True

    def set_tunnel(self, host, port=None, headers=None, scheme="http"):
        raise ProxyError(
            "proxies are not supported: the host makes the connection (wasi:http)",
            OSError("no proxy support"),
        )

    def connect(self):
        pass  # the host connects when the request is sent

    def request(self, method, url, body=None, headers=None, *, chunked=False,
                preload_content=True, decode_content=True, enforce_content_length=True):
        if url.startswith("/"):
            default = self.port in (None, self.default_port)
            authority = self.host if default else f"{self.host}:{self.port}"
            url = f"{self.scheme}://{authority}{url}"
        self._pending = (method, url, _body_bytes(body), dict(headers or {}),
                         preload_content, decode_content, enforce_content_length)
        self._closed = False

    def getresponse(self):
        if self._pending is None:
            from http.client import ResponseNotReady

            raise ResponseNotReady()
        method, url, body, headers, preload, decode, enforce = self._pending
        self._pending = None
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        try:
            answer = _http.send(_http.Request(method, url, _http.outgoing_headers(headers.items()), body),
                                timeout=timeout)
        except _http.HttpTimeout as err:
            raise socket.timeout(str(err)) from None
        except _http.HttpConnectError as err:
            raise NewConnectionError(self, f"Failed to establish a new connection: {err}") from None
        return HTTPResponse(
            body=io.BytesIO(answer.body_bytes()),
            headers=HTTPHeaderDict(answer.headers.items_all()),
            status=answer.status,
            version=11,
            version_string="HTTP/1.1",
            reason=_reason(answer.status),
            preload_content=preload,
            decode_content=decode,
            enforce_content_length=enforce,
            request_method=method,
            request_url=url,
            connection=self,
        )

    def close(self):
        self._closed = True
        self._pending = None

    @property
    def is_closed(self):
        return self._closed

    @property
    def is_connected(self):
        return not self._closed

    @property
    def has_connected_to_proxy(self):
        return False


class HostHTTPSConnection(HostHTTPConnection):
    """HTTPS through the host, which does TLS and verifies certificates; the TLS
    arguments urllib3 passes (`cert_reqs`, `ca_certs`, `ssl_context`...) are kept only
    so that code reading them back works."""

    default_port = 443
    scheme = "https"
    is_verified = True

    def __init__(self, host, port=None, **kwargs):
        tls = {k: kwargs.pop(k, None) for k in (
            "cert_reqs", "assert_hostname", "assert_fingerprint", "server_hostname", "ssl_context",
            "ca_certs", "ca_cert_dir", "ca_cert_data", "ssl_minimum_version", "ssl_maximum_version",
            "ssl_version", "cert_file", "key_file", "key_password")}
        super().__init__(host, port, **kwargs)
        self.__dict__.update(tls)


def _reason(status):
    import http as stdlib_http

    try:
        return stdlib_http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def install(pools):
    """Make urllib3's pools connect through the host (idempotent). `pools` is
    `urllib3.connectionpool`, being imported (`urllib3` does not name it yet)."""
    pools.HTTPConnectionPool.ConnectionCls = HostHTTPConnection
    pools.HTTPSConnectionPool.ConnectionCls = HostHTTPSConnection
    connection = sys.modules["urllib3.connection"]
    connection.HTTPConnection = HostHTTPConnection
    connection.HTTPSConnection = HostHTTPSConnection
    connection.VerifiedHTTPSConnection = HostHTTPSConnection
