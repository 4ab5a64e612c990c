"""Spin-style HTTP types on top of :mod:`pyedge.http`.

Spin's ``Request``/``Response`` take plain dicts of headers and optional bytes bodies;
this module keeps that shape while using pyedge's transport.
"""

from pyedge import http as _http

__all__ = ["Request", "Response", "IncomingHandler", "send", "send_to_origin"]


class Request(_http.Request):
    """``Request(method, uri, headers: dict[str, str], body: bytes | None)``."""

    def __init__(self, method, uri, headers, body):
        super().__init__(method, uri, headers, body)


class Response(_http.Response):
    """``Response(status, headers: dict[str, str], body: bytes | None)``."""

    def __init__(self, status, headers=None, body=None):
        super().__init__(status, headers, body)


class IncomingHandler:
    """Subclass it and override ``handle_request(self, request) -> Response``."""

    def handle_request(self, request):
        raise NotImplementedError("IncomingHandler.handle_request must be overridden")


def send(request):
    """Send an outbound request; returns a :class:`Response`."""
    response = _http.send(request)
    return Response(response.status, response.headers, response.body)


def send_to_origin(request):
    """Forward the request to the app's origin (``[tool.pyedge] origin``); see
    :func:`pyedge.http.send_to_origin`. Returns a :class:`Response` (502 if unreachable)."""
    response = _http.send_to_origin(request)
    return Response(response.status, response.headers, response.body)
