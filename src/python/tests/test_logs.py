"""pyedge.logs: JSON lines with the request's ids, and the trace carried outbound."""

import io
import json
import logging

import pytest

from pyedge import logs


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logs.end_request()


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_carries_the_request_and_its_inbound_trace(captured):
    logger, stream = captured
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    logs.begin_request("GET", "/orders", [
        (b"X-Request-Id", b"req-42"),
        (b"traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode()),
    ])
    logger.info("found %d orders", 3)
    (doc,) = lines(stream)
    assert doc["msg"] == "found 3 orders"
    assert (doc["level"], doc["logger"]) == ("info", "test.logs")
    assert (doc["method"], doc["path"], doc["request_id"]) == ("GET", "/orders", "req-42")
    assert doc["trace_id"] == trace
    assert len(doc["span_id"]) == 16 and doc["span_id"] != "00f067aa0ba902b7"
    assert doc["ts"].endswith("Z") and "T" in doc["ts"]
    # the outbound traceparent continues the trace from this request's span
    assert logs.traceparent() == f"00-{trace}-{doc['span_id']}-01"


def test_without_inbound_ids_new_ones_are_made(captured):
    logger, stream = captured
    logs.begin_request("POST", "/x", [(b"traceparent", b"garbage")])
    logger.warning("hi")
    (doc,) = lines(stream)
    assert len(doc["request_id"]) == 32 and len(doc["trace_id"]) == 32
    assert int(doc["trace_id"], 16) != 0


def test_exceptions_are_one_line_with_the_traceback(captured):
    logger, stream = captured
    logs.begin_request("GET", "/boom", [])
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("failed")
    (doc,) = lines(stream)
    assert doc["level"] == "error"
    assert doc["exc"].startswith("Traceback") and "KeyError: 'missing'" in doc["exc"]


def test_outside_a_request_there_is_no_trace(captured):
    logger, stream = captured
    logs.end_request()
    assert logs.traceparent() is None
    logger.info("at build time")
    (doc,) = lines(stream)
    assert "trace_id" not in doc and "request_id" not in doc


def test_send_forwards_traceparent(monkeypatch):
    import sys
    import types

    from pyedge import http

    seen = []
    binding = types.ModuleType("_pyedge_http")
    binding.send = lambda *args: seen.append(args[4]) or (200, [], b"")
    monkeypatch.setitem(sys.modules, "_pyedge_http", binding)
    logs.begin_request("GET", "/", [])
    try:
        http.send(http.Request("GET", "https://api.example/"))
        http.send(http.Request("GET", "https://api.example/", {"traceparent": "00-custom"}))
    finally:
        logs.end_request()
    assert (b"traceparent", logs_parent := seen[0][-1][1]) == seen[0][-1]
    assert logs_parent.startswith(b"00-") and len(logs_parent.split(b"-")) == 4
    assert [v for k, v in seen[1] if k == b"traceparent"] == [b"00-custom"]
