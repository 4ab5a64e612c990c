"""The Starlette app, run on the host by pytest with Starlette's test client (httpx)."""

from starlette.testclient import TestClient

from app import app


def test_index_greets_by_query():
    response = TestClient(app).get("/?name=Ada")
    assert response.status_code == 200
    assert response.json() == {"hello": "Ada"}


def test_echo_returns_the_json_body():
    response = TestClient(app).post("/echo", json={"n": 1})
    assert response.json() == {"received": {"n": 1}}
