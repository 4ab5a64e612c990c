"""{{name}}: a wasi:http handler.

    pyedge build             # -> app.wasm, one component with its dependencies
    pyedge serve app.wasm    # or: wasmtime serve app.wasm

Each request runs on a fresh instance of the pre-initialized app: what the module does at
import time is done once, at build time.
"""

import json

from spin_sdk import http


def handle_request(request):
    if request.method == "POST":
        text = request.body.decode("utf-8", "replace")
        return http.Response(200, {"content-type": "text/plain"}, f"you sent {len(text)} characters")
    name = request.headers.get("x-name", "world")
    body = json.dumps({"hello": name, "path": request.uri})
    return http.Response(200, {"content-type": "application/json"}, body.encode())
