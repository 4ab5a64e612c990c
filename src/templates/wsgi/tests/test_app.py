"""The Flask app, run on the host by pytest with Flask's test client."""

from app import app


def test_index_greets_by_query():
    response = app.test_client().get("/?name=Ada")
    assert response.status_code == 200
    assert response.get_json() == {"hello": "Ada"}


def test_echo_returns_the_json_body():
    response = app.test_client().post("/echo", json={"n": 1})
    assert response.get_json() == {"received": {"n": 1}}
