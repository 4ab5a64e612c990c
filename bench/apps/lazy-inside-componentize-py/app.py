"""bench/apps/lazy-inside written for componentize-py's generated wasi:http bindings."""

from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports.types import Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        import decimal, fractions, json, statistics  # noqa: E401
        mean = statistics.mean([decimal.Decimal("1.5"), decimal.Decimal("2.5")])
        body_text = json.dumps({"mean": str(mean), "half": str(fractions.Fraction(1, 2))})
        response = OutgoingResponse(Fields.from_list([("content-type", b"application/json")]))
        body = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with body.write() as stream:
            stream.blocking_write_and_flush(body_text.encode("utf-8"))
        OutgoingBody.finish(body, None)
