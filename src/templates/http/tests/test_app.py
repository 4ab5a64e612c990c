"""The handler, run on the host by pytest (conftest.py finds pyedge's SDK)."""

import json

from spin_sdk import http

import app


def test_get_greets_by_header():
    response = app.handle_request(http.Request("GET", "/hi?x=1", {"x-name": "Ada"}, None))
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"hello": "Ada", "path": "/hi?x=1"}


def test_post_counts_characters():
    response = app.handle_request(http.Request("POST", "/", {}, "héllo".encode()))
    assert response.status == 200
    assert response.body == "you sent 5 characters"
