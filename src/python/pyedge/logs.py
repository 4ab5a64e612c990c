"""Structured logs: with `[tool.pyedge] log-format = "json"`, one JSON object per line on
stderr for every `logging` record (the app's, its libraries', pyedge's own), carrying
the request it belongs to, so that a failure on one of hundreds of edge nodes can be
found by its request or trace id.

Each line has `ts` (UTC, RFC 3339 with milliseconds), `level`, `logger`, `msg`, and,
while a request is served, `method`, `path`, `request_id` (the inbound `x-request-id`,
else a new one) and `trace_id`/`span_id` (W3C trace context: the inbound `traceparent`'s
trace, a new span for this request; a new trace when none came in); `exc` holds a
traceback. Outbound requests made with :func:`pyedge.http.send` (and so urllib,
requests and httpx) carry a `traceparent` continuing the trace (:func:`traceparent`).
"""

import json
import logging
import os
import sys
import time
import traceback

__all__ = ["JsonFormatter", "install", "begin_request", "end_request", "traceparent", "context"]

# The request being served (an instance serves one at a time): method, path,
# request_id, trace_id, span_id, and the inbound trace flags.
context = {}


def _hex(nbytes):
    return os.urandom(nbytes).hex()


def _parse_traceparent(value):
    """(trace_id, flags) of a W3C traceparent `00-<32 hex>-<16 hex>-<2 hex>`, or None."""
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or parts[0] == "ff":
        return None
    trace_id, parent_id, flags = parts[1], parts[2], parts[3]
    try:
        int(parts[0], 16), int(trace_id, 16), int(parent_id, 16), int(flags, 16)
    except ValueError:
        return None
    if len(trace_id) != 32 or len(parent_id) != 16 or len(flags) != 2:
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id.lower(), flags.lower()


def begin_request(method, path, headers):
    """Run time: the request now served; `headers` are (name, value) bytes pairs."""
    request_id = trace = None
    for name, value in headers:
        key = name.lower()
        if key == b"x-request-id" and request_id is None:
            request_id = value.decode("latin-1").strip()[:200] or None
        elif key == b"traceparent" and trace is None:
            trace = _parse_traceparent(value.decode("latin-1"))
    trace_id, flags = trace if trace else (_hex(16), "01")
    context.clear()
    context.update(
        method=method,
        path=path,
        request_id=request_id or _hex(16),
        trace_id=trace_id,
        span_id=_hex(8),
        _flags=flags,
    )


def end_request():
    context.clear()


def traceparent():
    """The `traceparent` for an outbound call made while serving a request (its span is
    this request's), or None outside a request."""
    if "trace_id" not in context:
        return None
    return f"00-{context['trace_id']}-{context['span_id']}-{context['_flags']}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's text)."""

    def format(self, record):
        seconds = int(record.created)
        millis = int((record.created - seconds) * 1000)
        doc = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update((k, v) for k, v in context.items() if not k.startswith("_"))
        if record.exc_info:
            doc["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.stack_info:
            doc["exc"] = record.stack_info
        return json.dumps(doc, ensure_ascii=False)


def install(level=logging.INFO):
    """Build time: the root logger writes JSON lines to stderr (and only there)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.lastResort = handler
