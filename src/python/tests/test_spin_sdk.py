"""The spin_sdk shim keeps Spin's shapes over pyedge.http."""

import sys
import types

import pytest

from pyedge import http as pyedge_http
from spin_sdk import http


def test_spin_request_and_response_take_dicts_and_optional_bodies():
    request = http.Request("GET", "/hello?name=Ada", {"Accept": "text/plain"}, None)
    assert isinstance(request, pyedge_http.Request)
    assert request.body == b"" and request.query == "name=Ada"
    response = http.Response(200, {"content-type": "text/plain"}, b"hi")
    assert response.headers["Content-Type"] == "text/plain"
    assert http.Response(404).body_bytes() == b""


def test_incoming_handler_must_be_overridden():
    with pytest.raises(NotImplementedError):
        http.IncomingHandler().handle_request(http.Request("GET", "/", {}, None))

    class Handler(http.IncomingHandler):
        def handle_request(self, request):
            return http.Response(200, {}, request.path.encode())

    assert Handler().handle_request(http.Request("GET", "/p?q", {}, None)).body == b"/p"


def test_spin_send_returns_a_spin_response(monkeypatch):
    binding = types.ModuleType("_pyedge_http")
    binding.send = lambda *args: (200, [(b"x-origin", b"yes")], b"pong")
    monkeypatch.setitem(sys.modules, "_pyedge_http", binding)
    response = http.send(http.Request("GET", "https://origin.example/ping", {}, None))
    assert isinstance(response, http.Response)
    assert (response.status, response.headers["x-origin"], response.body) == (200, "yes", b"pong")


def test_pyedge_config_holds_the_build_time_settings():
    import pyedge

    assert pyedge.config == {"origin": "https://origin.example"}
