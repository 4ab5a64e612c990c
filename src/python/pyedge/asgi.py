"""Serve an ASGI 3 application (Starlette, FastAPI, Django's ASGIHandler, Falcon's
`falcon.asgi.App`...) from the wasi:http incoming handler, on :mod:`pyedge.loop`.

One call is one instance's life as uvicorn would give it: the lifespan startup, one
HTTP request, the lifespan shutdown (an instance serves one request: `wasmtime serve`
and Spin make a fresh one per request). The lifespan never runs at build time, where
it could read secrets or connect somewhere; an app without lifespan support is served
without it, as uvicorn's `--lifespan auto` does.

`call` returns ``(status, headers, body)`` like :func:`pyedge.wsgi.call`: bytes when the
app finished its response in the first body message, else an iterator that runs the
loop until the app's next `http.response.body` message and yields its bytes, so a
`StreamingResponse` reaches the client chunk by chunk as the app produces it.
"""

import asyncio
import sys
import traceback
from urllib.parse import unquote

from pyedge import loop as _loop

__all__ = ["call", "scope", "LifespanFailed"]

_ASGI = {"version": "3.0", "spec_version": "2.4"}

# The most one receive() message carries of the request body.
_RECEIVE_CHUNK = 65536


class LifespanFailed(RuntimeError):
    """The app answered `lifespan.startup.failed` (or, with lifespan = "on", did not
    support the lifespan protocol)."""


def _server(authority, scheme):
    default = 443 if scheme == "https" else 80
    if not authority:
        return None
    host, sep, port = authority.rpartition(":")
    if sep and port.isdigit() and (host.startswith("[") is host.endswith("]")):
        return host, int(port)
    return authority, default


def scope(method, uri, headers, scheme=None, authority=None, state=None):
    """The ASGI `http` scope for one request."""
    path, _, query = uri.partition("?")
    scheme = scheme or "http"
    return {
        "type": "http",
        "asgi": dict(_ASGI),
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": unquote(path, errors="surrogateescape"),
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        # wasi:http does not tell the client's address.
        "client": None,
        "server": _server(authority, scheme),
        # A shallow copy per request of what the lifespan startup put there.
        "state": dict(state or {}),
    }


class _Lifespan:
    """The lifespan protocol for one instance, driven from synchronous code."""

    def __init__(self, loop, app, mode):
        self.loop = loop
        self.app = app
        self.mode = mode  # "auto" | "on"
        self.state = {}
        self.inbox = asyncio.Queue()
        self.outbox = asyncio.Queue()
        self.task = None

    async def _receive(self):
        return await self.inbox.get()

    async def _send(self, message):
        await self.outbox.put(message)

    async def _reply(self):
        """The app's next lifespan message, or None if its coroutine ended first."""
        getter = asyncio.ensure_future(self.outbox.get())
        await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    def startup(self):
        """Run the startup; returns False if the app does not speak lifespan."""
        scope = {"type": "lifespan", "asgi": dict(_ASGI), "state": self.state}
        self.task = self.loop.create_task(self.app(scope, self._receive, self._send))
        self.inbox.put_nowait({"type": "lifespan.startup"})
        message = self.loop.run_until_complete(self._reply())
        if message is None:
            # The app returned or raised on the lifespan scope: no lifespan support.
            error = self.task.exception() if not self.task.cancelled() else None
            if self.mode == "on":
                raise LifespanFailed("the ASGI app does not support the lifespan protocol") from error
            self.task = None
            return False
        kind = message.get("type")
        if kind == "lifespan.startup.failed":
            raise LifespanFailed(f"lifespan startup failed: {message.get('message', '')}")
        if kind != "lifespan.startup.complete":
            raise LifespanFailed(f"unexpected lifespan message {kind!r}")
        return True

    def shutdown(self):
        """Run the shutdown and let the lifespan coroutine end; report a failure on
        stderr (the response has gone out)."""
        if self.task is None or self.task.done():
            return
        self.inbox.put_nowait({"type": "lifespan.shutdown"})
        message = self.loop.run_until_complete(self._reply())
        if message is not None and message.get("type") == "lifespan.shutdown.failed":
            print(f"pyedge: lifespan shutdown failed: {message.get('message', '')}", file=sys.stderr)
        if not self.task.done():
            self.loop.run_until_complete(self.task)


class _Exchange:
    """receive() and send() for one HTTP request."""

    def __init__(self, loop, body):
        self.body = body  # bytes, or a stream with read(n)
        self.body_read = False
        # Capacity 1: send() waits until the host has taken the previous message, so a
        # fast producer does not pile the whole body up in memory.
        self.outbox = asyncio.Queue(maxsize=1)
        self.finished = loop.create_future()  # the response is complete (or abandoned)

    async def receive(self):
        if not self.body_read:
            if isinstance(self.body, (bytes, bytearray)):
                self.body_read = True
                return {"type": "http.request", "body": bytes(self.body), "more_body": False}
            # The upload as it arrives, a chunk per message; an empty one ends it.
            chunk = self.body.read(_RECEIVE_CHUNK)
            self.body_read = not chunk
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}
        # After the body, receive() answers when the response is over, as a server
        # does when the client goes away (StreamingResponse listens for this while
        # it streams).
        await asyncio.shield(self.finished)
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.finished.done():
            return  # the response is over: further messages go nowhere, as in uvicorn
        await self.outbox.put(message)


class _Call:
    def __init__(self, app, request_scope, body, lifespan):
        self.loop = _loop.EventLoop()
        asyncio.set_event_loop(self.loop)
        self.lifespan = _Lifespan(self.loop, app, lifespan) if lifespan != "off" else None
        if self.lifespan is not None:
            self.lifespan.startup()
            request_scope["state"] = dict(self.lifespan.state)
        self.exchange = _Exchange(self.loop, body)
        self.task = self.loop.create_task(app(request_scope, self.exchange.receive, self.exchange.send))
        self.closed = False

    async def _next(self):
        getter = asyncio.ensure_future(self.exchange.outbox.get())
        await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    def next_message(self):
        """Run the loop until the app sends its next message; None once it has ended."""
        if not self.exchange.outbox.empty():
            return self.exchange.outbox.get_nowait()
        if self.task.done():
            return None
        return self.loop.run_until_complete(self._next())

    def failure(self):
        """The app's exception, if its coroutine has ended with one."""
        if self.task.done() and not self.task.cancelled():
            return self.task.exception()
        return None

    def finish(self):
        """The response is over: let the app's coroutine end (background tasks run
        here), run the lifespan shutdown, and close the loop. An exception the app
        raises now is reported on stderr: the client has its response."""
        self.closed = True
        try:
            if not self.exchange.finished.done():
                self.exchange.finished.set_result(None)
            while not self.task.done():
                # Drain what the app still sends (it goes nowhere after the response).
                if self.next_message() is None:
                    break
            error = self.failure()
            if error is not None:
                print("pyedge: exception in the ASGI app after its response was sent:", file=sys.stderr)
                traceback.print_exception(error, file=sys.stderr)
            if self.lifespan is not None:
                self.lifespan.shutdown()
            _loop._cancel_all(self.loop)
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            self.loop.close()


def _start(call):
    """The app's http.response.start message, or raise what went wrong before it."""
    message = call.next_message()
    if message is None:
        error = call.failure()
        if error is not None:
            raise error
        raise RuntimeError("the ASGI app returned without starting a response")
    if message.get("type") != "http.response.start":
        raise RuntimeError(f"the ASGI app sent {message.get('type')!r} before http.response.start")
    status = message["status"]
    headers = [(bytes(name), bytes(value)) for name, value in message.get("headers", ())]
    return int(status), headers


def _body_message(call):
    """The next body chunk and whether more follows."""
    message = call.next_message()
    if message is None:
        error = call.failure()
        if error is not None:
            raise error
        return b"", False  # the app ended without a final body message: end the body
    if message.get("type") != "http.response.body":
        raise RuntimeError(f"the ASGI app sent {message.get('type')!r} inside the response body")
    return bytes(message.get("body", b"")), bool(message.get("more_body", False))


def call(app, method, uri, headers, body, scheme=None, authority=None, lifespan="auto"):
    """Serve one request with the ASGI `app`; returns (status, headers, body)."""
    exchange = _Call(app, scope(method, uri, headers, scheme, authority), body, lifespan)
    try:
        status, out_headers = _start(exchange)
        chunk, more = _body_message(exchange)
    except BaseException:
        exchange.finish()
        raise
    if not more:
        exchange.finish()
        return status, out_headers, chunk
    return status, out_headers, _Stream(exchange, chunk)


class _Stream:
    """The response body after its first chunk, as an iterator the C entry writes out.
    `close()` (also when nothing was read: HEAD) lets the app finish."""

    def __init__(self, exchange, chunk):
        self.exchange = exchange
        self.chunk = chunk
        self.more = True
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        try:
            while not self.done:
                chunk, self.chunk = self.chunk, b""
                if not self.more:
                    self.done = True
                elif not chunk:
                    chunk, self.more = _body_message(self.exchange)
                if chunk:
                    return chunk
        except BaseException:
            self.close()
            raise
        self.close()
        raise StopIteration

    def close(self):
        if not self.exchange.closed:
            self.done = True
            self.exchange.finish()
