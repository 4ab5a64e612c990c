#!/usr/bin/env bash
# Run components built by pyedge under the upstream Wasmtime CLI (a host we did not
# write) and check what they print and how they exit. Also checks that two builds of
# one app in different directories are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

wasmtime="$(ensure_wasmtime_cli)"
"$wasmtime" --version
pyedge=./target/debug/pyedge
[ -x "$pyedge" ] || cargo build
out=target/host-checks
rm -rf "$out" && mkdir -p "$out"
failures=0

check() { # name, expected, actual
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1"; echo "     expected: $2"; echo "     actual:   $3"
        failures=$((failures + 1))
    fi
}

for app in hello exit-code lazy-import random env script crash; do
    "$pyedge" build "fixtures/apps/$app" -o "$out/$app.wasm" > /dev/null
done

check "hello argv" "Hello, Ada!" "$("$wasmtime" run "$out/hello.wasm" Ada 2>/dev/null)"
set +e
"$wasmtime" run "$out/exit-code.wasm" 7 > /dev/null 2>&1; code=$?
"$wasmtime" run "$out/crash.wasm" > /dev/null 2> "$out/crash.stderr"; crash=$?
set -e
check "sys.exit(7) reaches the host as failure" 1 "$code"
check "uncaught exception exits 1" 1 "$crash"
check "traceback on stderr" "ZeroDivisionError: division by zero" "$(tail -1 "$out/crash.stderr")"
check "lazy stdlib import" '"decimal": "0.3"' "$("$wasmtime" run "$out/lazy-import.wasm" | grep -o '"decimal": "0.3"')"
check "env at run time" "GREETING=hola" "$("$wasmtime" run --env GREETING=hola "$out/env.wasm" | head -1)"
a="$("$wasmtime" run "$out/random.wasm")"; b="$("$wasmtime" run "$out/random.wasm")"
check "random differs across runs" "different" "$([ "$a" != "$b" ] && echo different || echo "same: $a")"
check "script body at run time" 'script body ran with ["x"]' "$("$wasmtime" run "$out/script.wasm" x | head -1)"

mkdir -p "$out/elsewhere" && cp -r fixtures/apps/hello "$out/elsewhere/app-copy"
"$pyedge" build "$out/elsewhere/app-copy" -o "$out/elsewhere/hello.wasm" > /dev/null
check "reproducible build" "$(sha256sum < "$out/hello.wasm")" "$(sha256sum < "$out/elsewhere/hello.wasm")"

# ---- HTTP handlers under a plain `wasmtime serve` (no -S flags) ----
serve_port=18931
start_serve() { # wasm
    "$wasmtime" serve --addr "127.0.0.1:$serve_port" "$1" 2> "$out/serve.log" &
    serve_pid=$!
    for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$serve_port/" && return; sleep 0.1; done
    echo "wasmtime serve did not start:"; cat "$out/serve.log"; exit 1
}
stop_serve() { kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; }

"$pyedge" build fixtures/apps/geo-router -o "$out/geo.wasm" > /dev/null
start_serve "$out/geo.wasm"
check "geo: default" "Welcome to our global site." "$(curl -s "http://127.0.0.1:$serve_port/")"
check "geo: GB" "Welcome to our UK portal." "$(curl -s -H 'x-user-location: GB' "http://127.0.0.1:$serve_port/")"
check "geo: FR" "Bienvenue sur notre portail francais." "$(curl -s -H 'x-user-location: FR' "http://127.0.0.1:$serve_port/")"
check "geo: content-type" "text/plain" "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$serve_port/")"
stop_serve

# The gateway forwards to a small origin on loopback that echoes what it received.
origin_port=18932
python3 - "$origin_port" > "$out/origin.log" 2>&1 <<'PY' &
import http.server, sys
class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"origin saw {self.path} for {self.headers.get('x-internal-user-id')}".encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Origin).serve_forever()
PY
origin_pid=$!
mkdir -p "$out/gateway" && cp fixtures/apps/gateway/app.py "$out/gateway/"
printf '[tool.pyedge.config]\norigin = "http://127.0.0.1:%s"\nsecret = "ci-secret"\n' "$origin_port" > "$out/gateway/pyproject.toml"
"$pyedge" build "$out/gateway" -o "$out/gateway.wasm" > /dev/null
token() { python3 -c 'import hmac,hashlib,sys,time; p=f"{sys.argv[2]}.{int(time.time())+int(sys.argv[3])}"; print(p+"."+hmac.new(sys.argv[1].encode(),p.encode(),hashlib.sha256).hexdigest())' "$@"; }
start_serve "$out/gateway.wasm"
url="http://127.0.0.1:$serve_port/orders?id=1"
check "gateway: no token" "401" "$(curl -s -o /dev/null -w '%{http_code}' "$url")"
check "gateway: no token body" "Missing Authorization Header" "$(curl -s "$url")"
check "gateway: bad token" "403" "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(token wrong ada 600)" "$url")"
check "gateway: expired" "403" "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(token ci-secret ada -60)" "$url")"
check "gateway: forwards" "origin saw /orders?id=1 for ada" "$(curl -s -H "authorization: Bearer $(token ci-secret ada 600)" "$url")"
stop_serve

# The issue's JWT gateway (fixtures/apps/jwt-gateway-*, verbatim): pyjwt[crypto] from the
# test wheels, cryptography substituted by pyedge's WASI build, tokens signed ahead of
# time by the real PyJWT (tests/it/crypto_support/gateway_tokens.json).
wheels="${PYEDGE_TEST_WHEELS:-$(ensure_test_wheels)}"
for alg in rs256 es256; do
    mkdir -p "$out/jwt-$alg"
    cp "fixtures/apps/jwt-gateway-$alg/app.py" "fixtures/apps/jwt-gateway-$alg/requirements.txt" "$out/jwt-$alg/"
    printf '[project]\nname = "jwt-%s"\nversion = "0.1.0"\n\n[tool.pyedge]\norigin = "http://127.0.0.1:%s"\n' \
        "$alg" "$origin_port" > "$out/jwt-$alg/pyproject.toml"
    "$pyedge" build "$out/jwt-$alg" -o "$out/jwt-$alg.wasm" --find-links "$wheels" --offline > /dev/null
    jwt_token() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
        tests/it/crypto_support/gateway_tokens.json "${alg^^}" "$1"; }
    start_serve "$out/jwt-$alg.wasm"
    check "jwt $alg: no token" "401" "$(curl -s -o /dev/null -w '%{http_code}' "$url")"
    check "jwt $alg: expired" "403" "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(jwt_token expired)" "$url")"
    check "jwt $alg: garbage" "403" "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer a.b.c" "$url")"
    check "jwt $alg: forwards" "origin saw /orders?id=1 for ada" "$(curl -s -H "authorization: Bearer $(jwt_token valid)" "$url")"
    stop_serve
done
kill "$origin_pid" 2>/dev/null || true

if [ "$failures" -ne 0 ]; then
    echo "$failures host check(s) failed"; exit 1
fi
echo "all host checks passed"
