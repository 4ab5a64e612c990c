"""{{name}}: a Starlette app, served as a wasi:http component (ASGI).

    pyedge build             # -> app.wasm, Starlette included
    pyedge serve app.wasm    # or: wasmtime serve app.wasm
"""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def index(request):
    return JSONResponse({"hello": request.query_params.get("name", "world")})


async def echo(request):
    return JSONResponse({"received": await request.json()})


app = Starlette(routes=[Route("/", index), Route("/echo", echo, methods=["POST"])])
