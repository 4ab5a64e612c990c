"""pyedge.asgi: one instance's lifespan and request, streamed both ways."""

import asyncio

import pytest

from pyedge import asgi


def test_scope_is_asgi_3_http():
    scope = asgi.scope(
        "GET",
        "/caf%C3%A9/x?q=%20&r=1",
        [(b"Host", b"a.example:8443"), (b"X-A", b"1"), (b"x-a", b"2")],
        scheme="https",
        authority="a.example:8443",
        state={"db": 1},
    )
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["path"] == "/café/x"
    assert scope["raw_path"] == b"/caf%C3%A9/x"
    assert scope["query_string"] == b"q=%20&r=1"
    assert scope["root_path"] == ""
    assert scope["scheme"] == "https"
    assert scope["server"] == ("a.example", 8443)
    # repeated headers stay separate, names lower-case
    assert scope["headers"] == [(b"host", b"a.example:8443"), (b"x-a", b"1"), (b"x-a", b"2")]
    assert scope["state"] == {"db": 1}


def echo_app(log):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["started"] = True
                    log.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                else:
                    log.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        message = await receive()
        body = message["body"]
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"),
                        (b"x-started", str(scope["state"].get("started")).encode())],
        })
        await send({"type": "http.response.body", "body": body})
        log.append("handled")

    return app


def test_one_response_with_lifespan_around_it():
    log = []
    status, headers, body = asgi.call(echo_app(log), "POST", "/", [], b"payload")
    assert status == 200
    assert headers == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-started", b"True")]
    assert body == b"payload"
    assert log == ["startup", "handled", "shutdown"]


def test_lifespan_off_skips_it():
    log = []
    _, headers, _ = asgi.call(echo_app(log), "GET", "/", [], b"", lifespan="off")
    assert (b"x-started", b"None") in headers
    assert log == ["handled"]


async def no_lifespan(scope, receive, send):
    if scope["type"] != "http":
        raise ValueError("only http")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body"})


def test_an_app_without_lifespan_is_served_in_auto():
    assert asgi.call(no_lifespan, "GET", "/", [], b"") == (204, [], b"")


def test_lifespan_on_requires_support():
    with pytest.raises(asgi.LifespanFailed):
        asgi.call(no_lifespan, "GET", "/", [], b"", lifespan="on")


def test_startup_failure_is_an_error():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(asgi.LifespanFailed, match="no database"):
        asgi.call(app, "GET", "/", [], b"")


def test_streamed_chunks_come_out_as_produced():
    produced = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await asyncio.sleep(0.001)
            produced.append(i)
            await send({"type": "http.response.body", "body": b"chunk%d" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    status, _, body = asgi.call(app, "GET", "/", [], b"")
    assert status == 200
    assert next(body) == b"chunk0"
    # backpressure: the app has not run ahead of the consumer by more than a message
    assert produced in ([0], [0, 1])
    assert list(body) == [b"chunk1", b"chunk2"]


def test_disconnect_arrives_after_the_response():
    seen = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError

        async def listen():
            seen.append((await receive())["type"])
            seen.append((await receive())["type"])

        listener = asyncio.ensure_future(listen())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b"y"})
        await listener

    _, _, body = asgi.call(app, "GET", "/", [], b"in")
    assert b"".join(body) == b"xy"
    assert seen == ["http.request", "http.disconnect"]


def test_exception_before_the_response_raises():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        raise KeyError("broken")

    with pytest.raises(KeyError, match="broken"):
        asgi.call(app, "GET", "/", [], b"")


def test_exception_after_the_response_is_printed(capsys):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"oops"})
        raise KeyError("after")

    assert asgi.call(app, "GET", "/", [], b"") == (500, [], b"oops")
    assert "KeyError: 'after'" in capsys.readouterr().err


def test_work_after_the_response_runs_before_the_instance_ends():
    done = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        await asyncio.sleep(0.001)
        done.append("background")

    assert asgi.call(app, "GET", "/", [], b"")[2] == b"ok"
    assert done == ["background"]


def test_app_without_a_response_is_an_error():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError

    with pytest.raises(RuntimeError, match="without starting a response"):
        asgi.call(app, "GET", "/", [], b"")


def test_closing_a_stream_early_finishes_the_app():
    finished = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        finished.append(True)

    _, _, body = asgi.call(app, "HEAD", "/", [], b"")
    body.close()
    assert finished == [True]


def test_receive_streams_the_upload_in_chunks():
    from test_wsgi import Upload

    chunks = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            raise ValueError
        while True:
            message = await receive()
            chunks.append((message["body"], message["more_body"]))
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d" % sum(len(c) for c, _ in chunks)})

    upload = Upload([b"a" * 70000, b"b" * 10])
    assert asgi.call(app, "POST", "/", [], upload)[2] == b"70010"
    assert [len(c) for c, _ in chunks] == [65536, 4464, 10, 0]
    assert [more for _, more in chunks] == [True, True, True, False]
