# The soak app (bench/soak.sh): a good route whose answer the driver checks byte for byte,
# an echo of the request body, a handler exception (500), a handler that outlives the
# server's --timeout (504) and one that traps (500). Each request runs on a fresh
# instance, so nothing here may leak from one request to the next; the server's memory
# must stay flat.
import hashlib
import json
import os
import time

from pyedge.http import Response


def handle_request(request):
    path = request.uri.split("?", 1)[0]
    if path == "/good":
        n = int(request.headers.get("x-n", "0"))
        # Some real work per request: objects, a digest, JSON.
        rows = [{"i": i, "sq": i * i, "s": str(i)} for i in range(200)]
        digest = hashlib.sha256(json.dumps(rows).encode() + str(n).encode()).hexdigest()
        body = json.dumps({"n": n, "digest": digest}).encode()
        return Response(200, {"content-type": "application/json"}, body)
    if path == "/echo":
        return Response(200, {"content-type": "application/octet-stream"}, request.body)
    if path == "/raise":
        raise RuntimeError("the soak's deliberate handler exception")
    if path == "/slow":
        time.sleep(60)
        return Response(200, {}, b"too late")
    if path == "/abort":
        os.abort()
    return Response(404, {}, b"no such route")
