"""{{name}}: a Flask app, served as a wasi:http component (WSGI).

    pyedge build             # -> app.wasm, Flask included
    pyedge serve app.wasm    # or: wasmtime serve app.wasm
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(hello=request.args.get("name", "world"))


@app.post("/echo")
def echo():
    return jsonify(received=request.get_json(silent=True))
