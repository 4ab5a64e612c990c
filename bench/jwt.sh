#!/usr/bin/env bash
# The JWT gateway of issue 16 (fixtures/apps/jwt-gateway-{rs256,es256}): p50 of
# `jwt.decode` inside the component (bench/apps/jwt-decode under `wasmtime run`), and of
# a whole gateway request (token check + forward to a loopback origin) under a default
# `wasmtime serve` and, with a release pyedge, under `pyedge serve`.
#
#   bash bench/jwt.sh        (PYEDGE_BIN=path/to/release/pyedge to add `pyedge serve`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
WASMTIME="$(ensure_wasmtime_cli)"
WHEELS="${PYEDGE_TEST_WHEELS:-$(ensure_test_wheels)}"
PYEDGE="${PYEDGE:-$PWD/target/debug/pyedge}"
[[ -x $PYEDGE ]] || cargo build -q
OUT=target/bench-jwt
rm -rf "$OUT" && mkdir -p "$OUT"
TOKENS=tests/it/crypto_support/gateway_tokens.json
build() { "$PYEDGE" build "$1" -o "$2" --find-links "$WHEELS" --offline > /dev/null 2>&1; }

# jwt.decode alone, inside the component.
bench_env=$(python3 - "$TOKENS" <<'PY'
import json, re, sys
tokens = json.load(open(sys.argv[1]))
out = {}
for alg in tokens:
    app = open(f"fixtures/apps/jwt-gateway-{alg.lower()}/app.py").read()
    pem = re.search(r'"""(-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----)"""', app, re.S).group(1)
    out[alg] = {"token": tokens[alg]["valid"], "public_key": pem}
print(json.dumps(out))
PY
)
build bench/apps/jwt-decode "$OUT/jwt-decode.wasm"
"$WASMTIME" run --env JWT_BENCH="$bench_env" "$OUT/jwt-decode.wasm"

# A whole request through the gateway, to a loopback origin.
python3 - 18951 > "$OUT/origin.log" 2>&1 <<'PY' &
import http.server, sys
class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Origin).serve_forever()
PY
origin_pid=$!
trap 'kill $origin_pid 2>/dev/null || true' EXIT
p50_requests() { # url token
    python3 - "$1" "$2" <<'PY'
import http.client, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
times = []
for i in range(220):
    start = time.perf_counter()
    conn.request("GET", url.path, headers={"authorization": f"Bearer {sys.argv[2]}"})
    response = conn.getresponse(); response.read()
    assert response.status == 200, response.status
    if i >= 20:
        times.append(time.perf_counter() - start)
print(f"{sorted(times)[len(times) // 2] * 1000:6.3f} ms")
PY
}
wait_up() { for _ in $(seq 600); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }
for alg in rs256 es256; do
    mkdir -p "$OUT/$alg"
    cp "fixtures/apps/jwt-gateway-$alg/app.py" "fixtures/apps/jwt-gateway-$alg/requirements.txt" "$OUT/$alg/"
    printf '[project]\nname = "g"\nversion = "0.1.0"\n\n[tool.pyedge]\norigin = "http://127.0.0.1:18951"\n' > "$OUT/$alg/pyproject.toml"
    build "$OUT/$alg" "$OUT/$alg.wasm"
    token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["valid"])' "$TOKENS" "${alg^^}")
    "$WASMTIME" serve --addr 127.0.0.1:18952 "$OUT/$alg.wasm" 2> "$OUT/serve-$alg.log" &
    serve_pid=$!
    wait_up http://127.0.0.1:18952/
    echo "${alg^^} gateway request p50 (wasmtime serve)  $(p50_requests http://127.0.0.1:18952/orders "$token")"
    kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
    if [[ -n ${PYEDGE_BIN:-} ]]; then
        "$PYEDGE_BIN" serve "$OUT/$alg.wasm" --addr 127.0.0.1:18953 2> "$OUT/pyedge-serve-$alg.log" &
        serve_pid=$!
        wait_up http://127.0.0.1:18953/
        echo "${alg^^} gateway request p50 (pyedge serve)    $(p50_requests http://127.0.0.1:18953/orders "$token")"
        kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
    fi
done
