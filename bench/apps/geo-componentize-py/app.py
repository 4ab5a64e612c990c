"""The geo router written for componentize-py's generated wasi:http bindings."""

from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports.types import Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        values = request.headers().get("x-user-location")
        location = values[0].decode() if values else "US"
        if location == "GB":
            message = "Welcome to our UK portal."
        elif location == "FR":
            message = "Bienvenue sur notre portail francais."
        else:
            message = "Welcome to our global site."
        response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain")]))
        body = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with body.write() as stream:
            stream.blocking_write_and_flush(message.encode("utf-8"))
        OutgoingBody.finish(body, None)
