#!/usr/bin/env bash
# The host matrix: components built by pyedge, run under hosts we did not write, answer
# the same requests on each. Every HTTP fixture is built once and served by a plain
# `wasmtime serve` of the current CLI (scripts/wasmtime-cli.txt), of the oldest CLI we
# support (scripts/wasmtime-cli-oldest.txt) and by `jco serve` (scripts/jco, on the
# machine's Node); every CLI fixture runs under `wasmtime run` of both CLIs and `jco
# run`. A failure names its host: `FAIL [host] check`. Where a host answers differently
# for a reason that is the host's, the check still runs on it and KNOWN_DIFFERENCES
# below says why; such a check fails if the difference goes away, so the list stays
# true. Also checks that two builds of one app in different directories are
# byte-identical. PYEDGE names the pyedge binary (default ./target/debug/pyedge).
#
# Fixtures of fixtures/apps not in the matrix, and why:
#   syntax-error, import-error  their builds fail by design (tests/it/build_cli.rs)
#   crypto-vectors              needs the NIST vectors copied out of the
#                               cryptography_vectors wheel first (tests/it/crypto.rs)
#   jwt-interop                 needs tokens signed on the host by the real PyJWT and
#                               cryptography, which the host Python lacks (tests/it/crypto.rs)
#   trap, trap-script           trap by design: what a host does then is its own (500 and
#                               a named backtrace under pyedge serve, the backtrace of
#                               wasmtime run: tests/it/traps.rs)
#   numpy-analytics, numpy-csv  checked number by number against host numpy in
#                               tests/it/numpy_apps.rs (pyedge serve, embedded Wasmtime); the
#                               numpy runtime variants are not in the matrix yet (issue 21)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

pyedge="${PYEDGE:-./target/debug/pyedge}"
[ -x "$pyedge" ] || cargo build
out=target/host-checks
rm -rf "$out" && mkdir -p "$out/src" "$out/wasm" "$out/logs" "$out/jco"
wheels="${PYEDGE_TEST_WHEELS:-$(ensure_test_wheels)}"
started_at=$SECONDS

# ---- the hosts ----
# A role names a host in KNOWN_DIFFERENCES; the host's name (with its version) is what
# the output shows.
roles=(wasmtime wasmtime-oldest jco)
declare -A host_name host_bin host_port
host_bin[wasmtime]="$(ensure_wasmtime_cli)"
host_bin[wasmtime-oldest]="$(ensure_wasmtime_cli_oldest)"
host_bin[jco]="$(ensure_jco)"
host_name[wasmtime]="wasmtime-$("${host_bin[wasmtime]}" --version | cut -d' ' -f2)"
host_name[wasmtime-oldest]="wasmtime-$("${host_bin[wasmtime-oldest]}" --version | cut -d' ' -f2)"
host_name[jco]="jco-$("${host_bin[jco]}" --version)"
host_port[wasmtime]=18941
host_port[wasmtime-oldest]=18942
host_port[jco]=18943
node="$(command -v node)"
jco_js="$(readlink -f "${host_bin[jco]}")"
for role in "${roles[@]}"; do echo "host ${host_name[$role]}: ${host_bin[$role]}"; done
echo "node $("$node" --version) (for jco)"

# ---- known differences between hosts ----
# "ROLE:check name" (a glob) -> why, found in the host's own code. The check runs on that
# host all the same and is reported as `diff`, not `FAIL`, while it differs; it fails
# if it stops differing, and a key no check matches fails the run.
declare -A KNOWN_DIFFERENCES=(
    ["jco:http-errors: module globals are fresh in each request"]="jco serve instantiates the component once and hands every request to that instance (jco's serve runs \`new HTTPServer(mod.incomingHandler)\`; \`--isolate-requests\` would make one per request), so module globals carry over; wasmtime serve makes an instance per request."
    ["jco:tmp-handler: /tmp starts empty *"]="the single instance of jco serve (as above) keeps the files earlier requests left in its in-memory /tmp."
    ["jco:web-*: two Set-Cookie headers"]="jco serve writes the response head with \`response.writeHead(status, Object.fromEntries(headers))\` (preview2-shim io/worker-http.js, setOutgoingResponse): of a header the component sets twice only the last value is sent."
    ["jco:outbound-clients: httpx timeout"]="preview2-shim's outgoing handler (io/worker-http.js, createHttpRequest) passes the connect timeout to node's http.request as its socket \`timeout\`, an idle timeout that also runs while the response is awaited, and answers it with error-code connection-timeout (its first-byte timeout is set only once a response has come). An origin that accepts but answers late is thus a connect timeout under jco (httpx.ConnectTimeout) and connection-read-timeout under wasmtime (httpx.ReadTimeout)."
    ["jco:env: the host's own environment stays out"]="jco run has no --env flag: preview2-shim's wasi:cli/environment is node's whole process.env (jco's sandbox options are in its JS API only, not CLI flags), so the component sees every variable of the shell. Run under \`env -i\`, it answers like wasmtime (the next check)."
    ["jco:files: a host directory preopened as /data"]="jco run has no --dir flag: preview2-shim starts with no preopens (jco's sandbox preopens are in its JS API only), so no host directory is visible."
)
declare -A seen_known
# Set reason to the difference listed for ROLE and check NAME, if any, noting its key.
known_difference() {
    local key
    reason=""
    for key in "${!KNOWN_DIFFERENCES[@]}"; do
        # shellcheck disable=SC2053 # the key is a glob
        if [[ "$1:$2" == $key ]]; then seen_known[$key]=1; reason="${KNOWN_DIFFERENCES[$key]}"; return; fi
    done
}

# ---- checks and their tally per host ----
declare -A passed failed differed
current_role="" # the role whose host answers the checks that follow ("" for build checks)
check() { # name, expected, actual
    local host="${current_role:+${host_name[$current_role]}}"
    host="${host:-build}"
    local reason=""
    if [ -n "$current_role" ]; then known_difference "$current_role" "$1"; fi
    if [ "$2" == "$3" ] && [ -z "$reason" ]; then
        echo "ok   [$host] $1"
        passed[$host]=$((${passed[$host]:-0} + 1))
    elif [ "$2" == "$3" ]; then
        echo "FAIL [$host] $1"
        echo "     listed in KNOWN_DIFFERENCES, but $host answered like the others now: update the list"
        failed[$host]=$((${failed[$host]:-0} + 1))
    elif [ -n "$reason" ]; then
        echo "diff [$host] $1 (a known difference: KNOWN_DIFFERENCES)"
        echo "     expected: $2"; echo "     actual:   $3"
        differed[$host]=$((${differed[$host]:-0} + 1))
    else
        echo "FAIL [$host] $1"; echo "     expected: $2"; echo "     actual:   $3"
        if [ "$phase" == run ]; then # what the last run said, so a failure on CI can be read
            echo "     last run: exit code $(cat "$out/run.code" 2>/dev/null), its stderr ends:"
            tail -n 8 "$out/run.stderr" 2>/dev/null | sed 's/^/       | /'
        fi
        failed[$host]=$((${failed[$host]:-0} + 1))
    fi
}

# ---- servers: the hosts under test and a loopback origin ----
phase="" server_pid="" origin_pid="" build_pids=()
cleanup() {
    local pid
    for pid in "${build_pids[@]}"; do # a build's subshell, then its pyedge
        pkill -P "$pid" 2> /dev/null || true; kill "$pid" 2> /dev/null || true
    done
    if [ -n "$server_pid" ]; then kill -- "-$server_pid" 2> /dev/null || true; fi
    if [ -n "$origin_pid" ]; then kill "$origin_pid" 2> /dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Whether something accepts connections on 127.0.0.1:PORT (no HTTP request is sent:
# under jco serve one instance answers every request, and a probe would be one).
listening() { (: > "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# start_host ROLE WASM FIXTURE: serve WASM on the role's port, in its own process group
# (jco serve runs the server in a child node process); sets base and log.
start_host() {
    local role=$1 wasm=$2 name=$3 port=${host_port[$1]}
    server_port=$port
    log="$out/logs/$name.$role.log"
    base="http://127.0.0.1:$port"
    if listening "$port"; then echo "port $port is taken: is another host-checks.sh running?"; exit 1; fi
    case $role in
        jco) setsid "${host_bin[jco]}" serve --host 127.0.0.1 --port "$port" \
                 --jco-dir "$out/jco/$name" "$wasm" > "$log" 2>&1 & ;;
        *) setsid "${host_bin[$role]}" serve --addr "127.0.0.1:$port" "$wasm" > "$log" 2>&1 & ;;
    esac
    server_pid=$!
    for _ in $(seq 3000); do
        listening "$port" && return
        if ! kill -0 "$server_pid" 2> /dev/null; then break; fi
        sleep 0.1
    done
    return 1
}
stop_host() { # and wait for the port to be free (jco's child node may take a moment)
    kill -- "-$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    for _ in $(seq 50); do listening "$server_port" || break; sleep 0.1; done
    if listening "$server_port"; then kill -KILL -- "-$server_pid" 2> /dev/null || true; sleep 0.5; fi
    server_pid=""
}

# The origin on loopback that apps send their outbound requests to. GET /json, /redirect
# (to /json), /missing (404), /slow (3 s), /big (the payload), /trace (the traceparent
# of the last request before it); POST/PUT /echo ("METHOD CONTENT-TYPE BODY"), /sink
# ("SIZE SHA256" of the body, chunked or not); anything else: "origin saw PATH for
# X-INTERNAL-USER-ID".
origin_port=18932
origin="http://127.0.0.1:$origin_port"
start_origin() {
    if listening "$origin_port"; then echo "port $origin_port is taken: is another host-checks.sh running?"; exit 1; fi
    python3 -c 'import sys; sys.stdout.buffer.write(bytes(i * 7 % 251 for i in range(5 << 20)))' > "$out/payload.bin"
    python3 - "$origin_port" "$out/payload.bin" > "$out/logs/origin.log" 2>&1 <<'PY' &
import hashlib, http.server, sys, time
PAYLOAD = open(sys.argv[2], "rb").read()
last = {"traceparent": ""}
class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def body(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    return data
        return self.rfile.read(int(self.headers.get("content-length") or 0))
    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path != "/trace":
            last["traceparent"] = self.headers.get("traceparent", "")
        if self.path == "/json":
            return self.answer(200, b'{"hello": "world"}', [("content-type", "application/json")])
        if self.path == "/redirect":
            return self.answer(302, b"", [("location", "/json")])
        if self.path == "/missing":
            return self.answer(404, b"no such thing")
        if self.path == "/slow":
            time.sleep(3)
            return self.answer(200, b"late")
        if self.path == "/big":
            return self.answer(200, PAYLOAD)
        if self.path == "/trace":
            return self.answer(200, last["traceparent"].encode())
        self.answer(200, f"origin saw {self.path} for {self.headers.get('x-internal-user-id')}".encode())
    def do_POST(self):
        data = self.body()
        if self.path == "/sink":
            return self.answer(200, f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode())
        self.answer(200, f"{self.command} {self.headers.get('content-type')} ".encode() + data)
    do_PUT = do_POST
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Origin).serve_forever()
PY
    origin_pid=$!
    for _ in $(seq 100); do listening "$origin_port" && break; sleep 0.1; done
}

# ---- HTTP helpers (against $base, the host under test) ----
# "STATUS BODY" of a request (curl arguments after the path).
answer() { local path=$1; shift; curl -sS -m 60 -w '\n%{http_code}' "$@" "$base$path" | python3 -c '
import sys; body, _, status = sys.stdin.buffer.read().rpartition(b"\n")
print(status.decode(), body.decode(errors="replace"))'; }
body() { local path=$1; shift; curl -sS -m 60 "$@" "$base$path"; }
status() { local path=$1; shift; curl -sS -m 60 -o /dev/null -w '%{http_code}' "$@" "$base$path"; }
sha_of() { sha256sum | cut -d' ' -f1; }
contains() { if grep -qF -- "$1"; then echo yes; else echo no; fi; } # whether stdin has TEXT
# Whether the host's log has TEXT (guest stderr may come a moment after the response).
log_has() {
    for _ in $(seq 30); do
        if grep -qF -- "$1" "$log"; then echo yes; return; fi
        sleep 0.1
    done
    echo "not in $log"
}
# GET PATH by hand and read the chunked body: "separate: BODY" when at least 3 chunks
# came over 300 ms or more, as a streamed response's do, else how they came.
chunks() {
    python3 - "$server_port" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(f"GET {sys.argv[2]} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n".encode())
f = s.makefile("rb")
head = []
while (line := f.readline()) not in (b"\r\n", b""):
    head.append(line.decode().lower())
if not any(h.startswith("transfer-encoding:") and "chunked" in h for h in head):
    print("not chunked:", head[:1]); sys.exit()
got = []
while True:
    size = int(f.readline().split(b";")[0], 16)
    at = time.monotonic()
    data = f.read(size + 2)[:size]
    if size == 0:
        break
    got.append((at, data.decode()))
text = "".join(t for _, t in got)
spread = got[-1][0] - got[0][0] if got else 0
how = "separate" if len(got) >= 3 and spread >= 0.3 else f"{len(got)} chunks over {spread:.2f} s"
print(f"{how}: {text!r}")
PY
}

# ---- building ----
# build NAME [pyedge build args...]: fixtures/apps/NAME (or $out/src/NAME when the script
# wrote one there) -> $out/wasm/NAME.wasm, with the test wheels, offline. A failure
# leaves NAME.build.failed beside its log.
build() {
    local name=$1; shift
    local src="$out/src/$name"
    [ -d "$src" ] || cp -r "fixtures/apps/$name" "$src"
    "$pyedge" build "$src" -o "$out/wasm/$name.wasm" --find-links "$wheels" --offline "$@" \
        > "$out/logs/$name.build.log" 2>&1 || touch "$out/logs/$name.build.failed"
}

# ---- the HTTP fixtures' checks (one function per fixture, run once per host) ----
http_geo_router() {
    check "geo: default" "200 Welcome to our global site." "$(answer /)"
    check "geo: GB" "Welcome to our UK portal." "$(body / -H 'x-user-location: GB')"
    check "geo: FR" "Bienvenue sur notre portail francais." "$(body / -H 'x-user-location: FR')"
    check "geo: DE" "Welcome to our global site." "$(body / -H 'x-user-location: DE')"
    check "geo: content-type" "text/plain" "$(curl -sS -o /dev/null -w '%{content_type}' "$base/")"
}

http_http_errors() {
    check "http-errors: method and URI" "200 GET /x?y=1" "$(answer '/x?y=1')"
    check "http-errors: an exception is a 500" "500 Internal Server Error" "$(answer /raise)"
    check "http-errors: traceback on the host's stderr" yes "$(log_has 'ValueError: handler exploded on purpose')"
    check "http-errors: returning None is a 500 naming it" "500 yes" \
        "$(status /none) $(body /none | contains 'handler returned NoneType, expected Response')"
    local big="$out/big-1m.bin"
    head -c $((1 << 20)) "$out/payload.bin" > "$big"
    check "http-errors: 1 MiB binary body echoed" "$(sha_of < "$big")" \
        "$(body /echo --data-binary "@$big" -H 'content-type: application/octet-stream' | sha_of)"
    check "http-errors: empty body echoed" "200 0" \
        "$(curl -sS -m 60 -o /dev/null -w '%{http_code} %{size_download}' -X POST "$base/echo")"
    check "http-errors: module globals are fresh in each request" "1 1 1" \
        "$(body /hits) $(body /hits) $(body /hits)"
}

http_async_handler() {
    check "async-handler: gather, wait_for, to_thread" "200 [1, 4, 9] timed out 14 EventLoop" "$(answer /)"
}

http_json_logs() {
    local trace=4bf92f3577b34da6a3ce929d0e0e4736
    check "json-logs: handler with an outbound call" "200 ok" \
        "$(answer /orders -H "traceparent: 00-$trace-00f067aa0ba902b7-01" -H 'x-request-id: req-1' \
            -H "x-upstream: $origin/stock")"
    check "json-logs: an exception is a 500" "500" \
        "$(status /boom -H "traceparent: 00-$trace-00f067aa0ba902b7-01")"
    log_has '"the shop is on fire' > /dev/null
    check "json-logs: one JSON line per record, with the request and its trace" \
        "info GET /orders req-1 $trace | warning | error /boom $trace RuntimeError" \
        "$(python3 - "$log" <<'PY'
import json, sys
docs = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n").split(" :: ", 1)[-1]  # wasmtime's "stderr [N] :: " prefix
    if line.startswith("{"):
        docs.append(json.loads(line))
def find(cond):
    return next((d for d in docs if cond(d)), {})
a = find(lambda d: d.get("msg") == "looking up /orders")
w = find(lambda d: d.get("msg") == "upstream answered 200")
e = find(lambda d: d.get("logger") == "pyedge")
print(a.get("level"), a.get("method"), a.get("path"), a.get("request_id"), a.get("trace_id"), "|",
      w.get("level"), "|", e.get("level"), e.get("path"), e.get("trace_id"),
      "RuntimeError" if "RuntimeError: the shop is on fire" in e.get("exc", "") else e.get("exc"))
PY
)"
    check "json-logs: the outbound call carries the trace on" "$trace" \
        "$(curl -sS -m 10 "$origin/trace" | cut -d- -f2)"
}

http_streaming() {
    local sum; sum="$(wc -c < "$out/payload.bin" | tr -d ' ') $(sha_of < "$out/payload.bin")"
    check "streaming: 5 MiB upload passed through to the origin" "200 $sum" \
        "$(answer /upload --data-binary "@$out/payload.bin" -H 'content-type: application/octet-stream' \
            -H "x-upstream: $origin/sink")"
    check "streaming: 5 MiB upload read chunk by chunk" "200 $sum" \
        "$(answer /count --data-binary "@$out/payload.bin" -H 'content-type: application/octet-stream')"
    check "streaming: 5 MiB download passed back" "$(sha_of < "$out/payload.bin")" \
        "$(body /download -H "x-upstream: $origin/big" | sha_of)"
    check "streaming: generated chunks arrive one by one" "separate: 'tick 0\ntick 1\ntick 2\n'" \
        "$(chunks /ticks)"
}

http_tmp_handler() {
    local fresh="tempdir=/tmp before=[] file=/tmp 5 echo=first anon=anonymous after=True workdir_gone=True"
    check "tmp-handler: a request writes and reads /tmp" "$fresh" "$(body / --data-binary first | tr '\n' ' ' | sed 's/ $//')"
    check "tmp-handler: /tmp starts empty in the next request" "before=[]" \
        "$(body / --data-binary second | grep '^before=')"
    check "tmp-handler: /tmp is bounded" \
        "507 ENOSPC No space left on device (pyedge: the in-memory /tmp holds at most 8 MiB of file data per instance)" \
        "$(answer /big)"
    check "tmp-handler: /tmp starts empty after /big" "before=[]" \
        "$(body / --data-binary third | grep '^before=')"
}

http_deep_json() {
    # Nested far past the runtime's C recursion limit: RecursionError (a 500), never a trap.
    # (200 kB: from a file, as one argument would pass the kernel's 128 kB limit.)
    python3 -c 'print("[" * 100000 + "]" * 100000, end="")' > "$out/deep-body.json"
    check "deep-json: a body nested 100000 deep is a RecursionError, not a trap" \
        "500 yes" "$(status / --data-binary "@$out/deep-body.json") $(log_has RecursionError)"
    check "deep-json: the instance that raised answers a body nested 400 deep" \
        "depth 400" "$(body / --data-binary "$(python3 -c 'print("[" * 400 + "]" * 400, end="")')")"
}

http_sealed_notes() {
    local note="meet at the usual place" token forged
    token="$(body /fernet --data-binary "$note")"
    check "sealed-notes: Fernet token" "gAAAAA" "${token:0:6}"
    check "sealed-notes: Fernet round trip" "200 $note" "$(answer /fernet/open --data-binary "$token")"
    forged="${token:0:40}$([ "${token:40:1}" == A ] && echo B || echo A)${token:41}"
    check "sealed-notes: a forged token is refused" "400 invalid token" "$(answer /fernet/open --data-binary "$forged")"
    local first second
    first="$(answer /aesgcm --data-binary "$note")"; second="$(answer /aesgcm --data-binary "$note")"
    check "sealed-notes: AES-GCM with fresh nonces" "200 ok, 200 ok, different" \
        "${first:0:6}, ${second:0:6}, $([ "$first" != "$second" ] && echo different || echo same)"
}

http_outbound() {
    check "outbound: send() to the origin" "200 origin saw /a/b?x=1&y=2 for None" \
        "$(answer / -H "x-target: $origin/a/b?x=1&y=2#part")"
    check "outbound: a URL send() refuses" "502 yes" \
        "$(status / -H 'x-target: ftp://127.0.0.1/file') $(body / -H 'x-target: ftp://127.0.0.1/file' |
            contains 'send() needs an absolute http:// or https:// URL')"
}

# The gateway and the JWT gateways forward to $origin (written into their pyproject.toml).
gateway_token() { python3 -c 'import hmac,hashlib,sys,time; p=f"{sys.argv[2]}.{int(time.time())+int(sys.argv[3])}"; print(p+"."+hmac.new(sys.argv[1].encode(),p.encode(),hashlib.sha256).hexdigest())' "$@"; }
http_gateway() {
    local url="/orders?id=1"
    check "gateway: no token" "401 Missing Authorization Header" "$(answer "$url")"
    check "gateway: bad token" "403" "$(status "$url" -H "authorization: Bearer $(gateway_token wrong ada 600)")"
    check "gateway: expired" "403" "$(status "$url" -H "authorization: Bearer $(gateway_token ci-secret ada -60)")"
    check "gateway: forwards" "200 origin saw /orders?id=1 for ada" \
        "$(answer "$url" -H "authorization: Bearer $(gateway_token ci-secret ada 600)")"
}

# Tokens signed ahead of time by the real PyJWT (tests/it/crypto_support/gateway_tokens.json).
jwt_token() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
    tests/it/crypto_support/gateway_tokens.json "$1" "$2"; }
jwt_gateway_checks() { # ALG
    local alg=$1 url="/orders?id=1"
    check "jwt-gateway-${alg,,}: no token" "401" "$(status "$url")"
    check "jwt-gateway-${alg,,}: expired" "403" "$(status "$url" -H "authorization: Bearer $(jwt_token "$alg" expired)")"
    check "jwt-gateway-${alg,,}: garbage" "403" "$(status "$url" -H "authorization: Bearer a.b.c")"
    check "jwt-gateway-${alg,,}: forwards" "200 origin saw /orders?id=1 for ada" \
        "$(answer "$url" -H "authorization: Bearer $(jwt_token "$alg" valid)")"
}
http_jwt_gateway_rs256() { jwt_gateway_checks RS256; }
http_jwt_gateway_es256() { jwt_gateway_checks ES256; }

# HS256 tokens for fixtures/apps/jwt-gate, made with the host's standard library.
hs256() { # SECRET SUB EXPIRES-IN-SECONDS
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": sys.argv[2], "exp": int(time.time()) + int(sys.argv[3])}).encode())
sig = b64(hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PY
}
http_jwt_gate() {
    local secret="change-me: an HS256 key of 32 bytes or more"
    check "jwt-gate: no token" "401 missing bearer token" "$(answer /)"
    check "jwt-gate: valid" "200 hello ada" "$(answer / -H "authorization: Bearer $(hs256 "$secret" ada 600)")"
    check "jwt-gate: expired" "403 token expired" "$(answer / -H "authorization: Bearer $(hs256 "$secret" ada -60)")"
    check "jwt-gate: wrong key" "403 invalid token: Signature verification failed" \
        "$(answer / -H "authorization: Bearer $(hs256 "another key, also 32 bytes or more" ada 600)")"
    check "jwt-gate: PyJWT from the test wheels" "2.15.1" \
        "$(curl -sS -m 60 -D - -o /dev/null "$base/" | tr -d '\r' | sed -n 's/^x-pyjwt-version: //Ip')"
}

# What outbound-clients saw: CLIENT METHOD URL TIMEOUT [curl args] -> the JSON's fields.
client_call() {
    local client=$1 method=$2 url=$3 timeout=$4; shift 4
    curl -sS -m 60 --url-query "client=$client" --url-query "method=$method" \
        --url-query "url=$url" --url-query "timeout=$timeout" "$@" "$base/" | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(" ".join(str(d[k]) for k in ("status", "url", "body", "error", "reason") if k in d))'
}
http_outbound_clients() {
    local client
    for client in urllib requests httpx httpx-async; do
        check "outbound-clients: $client GET" "200 $origin/json {\"hello\": \"world\"}" \
            "$(client_call "$client" GET "$origin/json" 10)"
        check "outbound-clients: $client follows a redirect" "200 $origin/json {\"hello\": \"world\"}" \
            "$(client_call "$client" GET "$origin/redirect" 10)"
    done
    check "outbound-clients: urllib POST" "200 $origin/echo POST application/json {\"n\": 1}" \
        "$(client_call urllib POST "$origin/echo" 10 -X POST -H 'content-type: application/json' --data-binary '{"n": 1}')"
    check "outbound-clients: httpx PUT" "200 $origin/echo PUT application/json {\"n\": 1}" \
        "$(client_call httpx PUT "$origin/echo" 10 -X POST -H 'content-type: application/json' --data-binary '{"n": 1}')"
    check "outbound-clients: requests 404" "requests.exceptions.HTTPError" \
        "$(client_call requests GET "$origin/missing" 10)"
    check "outbound-clients: urllib connection refused" "urllib.error.URLError ConnectionError" \
        "$(client_call urllib GET "http://127.0.0.1:1/json" 10)"
    check "outbound-clients: httpx connection refused" "httpx.ConnectError" \
        "$(client_call httpx GET "http://127.0.0.1:1/json" 10)"
    check "outbound-clients: urllib timeout" "urllib.error.URLError TimeoutError" \
        "$(client_call urllib GET "$origin/slow" 0.5)"
    check "outbound-clients: requests timeout" "requests.exceptions.ReadTimeout" \
        "$(client_call requests GET "$origin/slow" 0.5)"
    check "outbound-clients: httpx timeout" "httpx.ReadTimeout" \
        "$(client_call httpx GET "$origin/slow" 0.5)"
}

http_sqlalchemy_gc() {
    local n
    for n in 1 2; do
        check "sqlalchemy-gc: request $n collects the cycles" "200 >=4000 SELECT users.name" \
            "$(answer / | python3 -c '
import sys; status, freed, sql = sys.stdin.read().split(" ", 2)
print(status, ">=4000" if int(freed) >= 4000 else freed, " ".join(sql.split()[:2]))')"
    done
}

http_runtime_config() {
    check "runtime-config: build-time settings" "from the build baked None" \
        "$(body / | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["greeting"], d["api_token"], d["environ_api_token"])')"
    check "runtime-config: send_to_origin" "200 origin saw /origin/x?q=1 for None" "$(answer '/origin/x?q=1')"
    check "runtime-config: an undeclared name is a 500" "500" "$(status /missing)"
}

# The battery every web framework fixture answers (tests/it/web_apps.rs).
web_battery() { # NAME, the last line of its 500's traceback
    local name=$1 boom=$2 echo300k="$out/echo-300k.bin"
    head -c 300000 "$out/payload.bin" > "$echo300k"
    check "$name: path and query" "200 Hi, Ada!" "$(answer '/hello/Ada?greeting=Hi')"
    check "$name: default query" "200 Hello, Grace!" "$(answer /hello/Grace)"
    check "$name: a header sent twice" "a,b" "$(body /tags -H 'x-tag: a' -H 'x-tag: b' | sed 's/, /,/g')"
    check "$name: two Set-Cookie headers" "session=abc theme=dark" \
        "$(curl -sS -m 60 -D - -o /dev/null "$base/cookies" | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip' | paste -sd' ')"
    check "$name: 300 KB body echoed" "$(sha_of < "$echo300k")" \
        "$(body /echo --data-binary "@$echo300k" -H 'content-type: application/octet-stream' | sha_of)"
    check "$name: JSON body" "2 6.5" \
        "$(body /total -H 'content-type: application/json' \
            --data-binary '{"items": [{"name": "tea", "price": 2.5}, {"name": "cake", "price": 4.0}]}' |
            python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["items"], d["total"])')"
    check "$name: streamed response" "separate: 'chunk 0\nchunk 1\nchunk 2\n'" "$(chunks /stream)"
    check "$name: HEAD" "200" "$(curl -sS -m 60 -I -o /dev/null -w '%{http_code}' "$base/hello/Ada")"
    check "$name: 204 without a body" "204 0" "$(curl -sS -m 60 -o /dev/null -w '%{http_code} %{size_download}' "$base/empty")"
    check "$name: the app's 404 handler" "404 not found: /missing/page" "$(answer /missing/page)"
    check "$name: an exception is a 500" "500" "$(status /boom)"
    check "$name: traceback on the host's stderr" "yes yes" \
        "$(log_has 'Traceback (most recent call last)') $(log_has "$boom")"
}
http_web_starlette() { web_battery web-starlette "RuntimeError: boom from starlette"; }
http_web_fastapi() { web_battery web-fastapi "RuntimeError: boom from fastapi"; }
http_web_django() { web_battery web-django "RuntimeError: boom from django"; }
http_web_falcon() { web_battery web-falcon "RuntimeError: boom from falcon"; }
http_web_bottle() { web_battery web-bottle "RuntimeError: boom from bottle"; }
http_web_flask() {
    web_battery web-flask "RuntimeError: boom from flask"
    local page
    page="$(body /page/%3Cb%3EAda)"
    check "web-flask: Jinja2 template, autoescaped, url_for" "yes yes yes" \
        "$(for s in '<title>Hi &lt;b&gt;Ada - Edge</title>' '<li>tea</li><li>cake</li>' '<a href="/hello/%3Cb%3EAda">'; do
            case $page in *"$s"*) printf 'yes ' ;; *) printf 'no ' ;; esac; done | sed 's/ $//')"
    check "web-flask: form post answered with a redirect" "200 Hello, Grace!" \
        "$(curl -sS -m 60 -L -o /dev/null -w '%{http_code} ' --data name=Grace "$base/signup")$(
            body /signup -L --data name=Grace | grep -o 'Hello, Grace!')"
    check "web-flask: the app's 400 handler" '400 {"error":"name is required"}' \
        "$(answer /signup --data name= | tr -d '\n')"
}

# ---- the CLI fixtures' checks ----
# cli ROLE WASM [ARGS...]: run the component, stdout on stdout; its stderr and exit code
# land in $out/run.stderr and $out/run.code. Under jco the environment is node's.
cli() {
    local role=$1 wasm=$2 code=0; shift 2
    case $role in
        jco) "${host_bin[jco]}" run --jco-dir "$out/jco/run-$(basename "$wasm" .wasm)" "$wasm" "$@" \
                 2> "$out/run.stderr" || code=$? ;;
        *) "${host_bin[$role]}" run "$wasm" "$@" 2> "$out/run.stderr" || code=$? ;;
    esac
    echo "$code" > "$out/run.code"
}
# cli_env ROLE WASM NAME=VALUE [ARGS...]: with that one variable set by the host
# (wasmtime: --env; jco, which has no such flag: in node's environment, on top of the rest).
cli_env() {
    local role=$1 wasm=$2 var=$3 code=0; shift 3
    case $role in
        jco) env "$var" "${host_bin[jco]}" run --jco-dir "$out/jco/run-$(basename "$wasm" .wasm)" "$wasm" "$@" \
                 2> "$out/run.stderr" || code=$? ;;
        *) "${host_bin[$role]}" run --env "$var" "$wasm" "$@" 2> "$out/run.stderr" || code=$? ;;
    esac
    echo "$code" > "$out/run.code"
}
# cli_only_env ROLE WASM [NAME=VALUE...]: with those variables and no other (jco: node
# under env -i).
cli_only_env() {
    local role=$1 wasm=$2 code=0 var flags=(); shift 2
    case $role in
        jco) env -i "$@" "$node" "$jco_js" run --jco-dir "$out/jco/run-$(basename "$wasm" .wasm)" "$wasm" \
                 2> "$out/run.stderr" || code=$? ;;
        *) for var in "$@"; do flags+=(--env "$var"); done
           "${host_bin[$role]}" run "${flags[@]}" "$wasm" 2> "$out/run.stderr" || code=$? ;;
    esac
    echo "$code" > "$out/run.code"
}
# cli_dir ROLE WASM HOST-DIR GUEST-DIR [ARGS...]: with a host directory preopened (wasmtime
# --dir; jco run has no such flag, so it runs with none).
cli_dir() {
    local role=$1 wasm=$2 dir=$3 guest=$4 code=0; shift 4
    case $role in
        jco) "${host_bin[jco]}" run --jco-dir "$out/jco/run-$(basename "$wasm" .wasm)" "$wasm" "$@" \
                 2> "$out/run.stderr" || code=$? ;;
        *) "${host_bin[$role]}" run --dir "$dir::$guest" "$wasm" "$@" 2> "$out/run.stderr" || code=$? ;;
    esac
    echo "$code" > "$out/run.code"
}
code() { cat "$out/run.code"; }
errors() { cat "$out/run.stderr"; }
line() { sed -n "s/^$1 //p"; } # the rest of the line of stdout that starts with KEY

run_hello() { # ROLE WASM
    check "hello: argv" "Hello, Ada! Hello, Grace!" "$(cli "$@" Ada Grace | paste -sd' ')"
    check "hello: stderr and exit 0" "argv=['Ada', 'Grace'] 0" "$(errors) $(code)"
}
run_exit_code() {
    check "exit-code: sys.exit(7) reaches the host as failure" "exiting with the code given as the first argument 1" \
        "$(cli "$@" 7) $(code)"
    check "exit-code: sys.exit(0) is success" "0" "$(cli "$@" 0 > /dev/null; code)"
}
run_crash() {
    check "crash: uncaught exception exits 1" "about to fail 1" "$(cli "$@") $(code)"
    check "crash: traceback on stderr" 'File "/app/app.py", line 2, in divide | ZeroDivisionError: division by zero' \
        "$(errors | grep -o 'File "/app/app.py", line 2, in divide') | $(errors | tail -1)"
}
run_lazy_import() {
    check "lazy-import: stdlib modules imported at run time" \
        "0.3 1655081d5ffb19ef 1000 LATIN SMALL LETTER E WITH ACUTE 2024-02-29 42 zoneinfo" \
        "$(cli "$@" | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(*(d[k] for k in ("decimal", "sha256", "zlib", "unicodedata", "date", "asyncio", "zoneinfo")))')"
}
run_env() {
    check "env: a variable the host sets" "GREETING=hola" "$(cli_env "$@" GREETING=hola | head -1)"
    check "env: the host's own environment stays out" "keys=GREETING" "$(cli_env "$@" GREETING=hola | sed -n 2p)"
    check "env: given only GREETING" "GREETING=hola keys=GREETING" "$(cli_only_env "$@" GREETING=hola | head -2 | paste -sd' ')"
    check "env: none set" "GREETING=<unset> keys=" "$(cli_only_env "$@" | head -2 | paste -sd' ')"
}
run_random() {
    local a b
    a="$(cli "$@")"; b="$(cli "$@")"
    check "random: three values, all differ across runs" "3 different" \
        "$(python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split()
print(len(a), "different" if len(a) == len(b) and all(x != y for x, y in zip(a, b)) else f"{a} {b}")' "$a" "$b")"
}
run_script() {
    check "script: body at run time" 'script body ran with ["x", "y"] __name__ = __main__' "$(cli "$@" x y | paste -sd' ')"
}
run_async_script() {
    check "async-script: asyncio.run" "finished in order: z y x" "$(cli "$@" x y z)"
}
run_deep_recursion() {
    # Every bounded C recursion, shallow then 100000 deep (fixtures/apps/deep-recursion):
    # the host's own wasm stack must hold up to the runtime's limits.
    local text
    text="$(cli "$@")"
    check "deep-recursion: recursion raises on this host's stack, shallow depths work" \
        "0 ok=18 RecursionError=11 MemoryError=4 ValueError=1 other=0" \
        "$(code) $(python3 -c '
import collections, sys
seen = collections.Counter()
for line in sys.stdin:
    result = line.rstrip("\n").split(": ", 1)[-1]
    word = result.split(":")[0]
    seen[word if word in ("ok", "RecursionError", "MemoryError", "ValueError") else "other"] += 1
print(" ".join(f"{k}={seen[k]}" for k in ("ok", "RecursionError", "MemoryError", "ValueError", "other")))' <<< "$text")"
}
run_codecs() {
    check "codecs: kept, named by a literal, named at run time" \
        "Grüße b'caf\\xe9'|äö|utf-32 yes|mac_roman names the fix: yes|LookupError: unknown encoding: no-such-codec" \
        "$(cli "$@" utf-32 mac-roman no-such-codec | python3 -c '
import sys; lines = sys.stdin.read().splitlines() + [""] * 5
print(lines[0], lines[1], "utf-32 " + ("yes" if lines[2].startswith("utf-32 b\x27\\xff\\xfe\\x00\\x00G") else lines[2]),
      "mac_roman names the fix: " + ("yes" if lines[3].startswith("LookupError: unknown encoding: mac_roman (pyedge:")
          and "\"encodings.mac_roman\" to [tool.pyedge] stdlib-include" in lines[3] else lines[3]), lines[4], sep="|")')"
}
run_dynamic_import() {
    check "dynamic-import: a module imports by name" "imported json" "$(cli "$@" json)"
    check "dynamic-import: a module left out names the fix" "1 yes" \
        "$(cli "$@" doctest; code) $(errors | grep -q "pyedge: 'doctest' is in the standard library but not in this build" && echo yes)"
}
run_preimport() {
    check "preimport: lazy modules run on the host's clock and environment" \
        "noisy imported | [] ['decimal', 'helpers', 'statistics'] 2 42 hi 32 broken on purpose cProfile clock-ok" \
        "$(cli_env "$@" GREETING=hi | python3 -c '
import json, sys, time; first, doc = sys.stdin.read().split("\n", 1); d = json.loads(doc)
print(first, "|", d["at_import"], d["loaded"], d["mean"], d["helper"], d["env"], d["random"], d["broken"],
      d["devtool"], "clock-ok" if abs(time.time() - d["clock"]) < 600 else d["clock"])')"
}
run_files() {
    local text
    text="$(cli "$@")"
    check "files: bundled files with no host file system" \
        "/app/app.py|Hello from a data file.|[2, 3, 5, 7, 11]|['greeting.txt', 'nested']|OSError EROFS|['app', 'lib', 'tmp']|vendored /app/vendor/vendored_mod.py" \
        "$(for k in file run primes listdir write root sys.path; do line "$k" <<< "$text"; done | paste -sd'|')"
    local dir="$out/host-dir"
    mkdir -p "$dir" && echo "from the host" > "$dir/note.txt" && rm -f "$dir/out.txt"
    check "files: a host directory preopened as /data" "from the host | written by the component" \
        "$(cli_dir "$@" "$dir" /data /data/note.txt /data/out.txt | line argv-read) | $(cat "$dir/out.txt" 2> /dev/null)"
}
run_pss_fresh() {
    local a b
    a="$(cli "$@")"; b="$(cli "$@")"
    check "pss-fresh: same key from the snapshot, fresh salts per run" "same key, different signatures" \
        "$([ "${a%% *}" == "${b%% *}" ] && echo same || echo other) key, $([ -n "${a#* }" ] && [ "${a#* }" != "${b#* }" ] && echo different || echo same) signatures"
}
run_sqlalchemy_exit() {
    check "sqlalchemy-exit: exits cleanly through interpreter shutdown" "imported sqlalchemy.util 0 no trap" \
        "$(cli "$@") $(code) $(errors | grep -q 'wasm trap' && echo trap || echo no trap)"
}
run_package_data() {
    local text
    text="$(cli "$@")"
    check "package-data: packages read their own files" \
        "/lib/python3.13/site-packages/certifi/cacert.pem True True|invalid: 'name' is a required property|Python is 👍 :snake:|55 Ada ['py', 'c'] 1709208000" \
        "$(for k in certifi jsonschema emoji protobuf; do line "$k" <<< "$text"; done | paste -sd'|')"
}

# ---- build ----
http_fixtures=(geo-router http-errors async-handler json-logs streaming tmp-handler sealed-notes
    outbound gateway jwt-gateway-rs256 jwt-gateway-es256 jwt-gate outbound-clients sqlalchemy-gc
    runtime-config web-flask web-starlette web-fastapi web-django web-falcon web-bottle deep-json)
cli_fixtures=(hello exit-code crash lazy-import env random script async-script codecs
    dynamic-import preimport files pss-fresh sqlalchemy-exit package-data deep-recursion)

# Apps whose settings name the origin get a pyproject.toml of their own.
mkdir -p "$out/src/gateway" "$out/src/runtime-config"
cp fixtures/apps/gateway/app.py "$out/src/gateway/"
printf '[tool.pyedge.config]\norigin = "%s"\nsecret = "ci-secret"\n' "$origin" > "$out/src/gateway/pyproject.toml"
for alg in rs256 es256; do
    mkdir -p "$out/src/jwt-gateway-$alg"
    cp "fixtures/apps/jwt-gateway-$alg/app.py" "fixtures/apps/jwt-gateway-$alg/requirements.txt" "$out/src/jwt-gateway-$alg/"
    printf '[project]\nname = "jwt-%s"\nversion = "0.1.0"\n\n[tool.pyedge]\norigin = "%s"\n' \
        "$alg" "$origin" > "$out/src/jwt-gateway-$alg/pyproject.toml"
done
cp fixtures/apps/runtime-config/app.py "$out/src/runtime-config/"
printf '[tool.pyedge]\norigin = "%s"\n[tool.pyedge.config]\ngreeting = "from the build"\napi_token = "baked"\n' \
    "$origin" > "$out/src/runtime-config/pyproject.toml"

# One build per core at a time (a build keeps about one core busy), largest first.
build_jobs="$(nproc)"
echo "==> building ${#http_fixtures[@]} HTTP and ${#cli_fixtures[@]} CLI fixtures, $build_jobs at a time"
build_started=$SECONDS
for name in web-django package-data sqlalchemy-gc sqlalchemy-exit "${http_fixtures[@]}" "${cli_fixtures[@]}"; do
    if [ -e "$out/logs/$name.build.log" ]; then continue; fi
    : > "$out/logs/$name.build.log"
    while [ "$(jobs -rp | wc -l)" -ge "$build_jobs" ]; do sleep 0.2; done
    build "$name" &
    build_pids+=($!)
done
wait "${build_pids[@]}"
for name in "${http_fixtures[@]}" "${cli_fixtures[@]}"; do
    if [ -e "$out/logs/$name.build.failed" ]; then
        echo "FAIL [build] $name:"; cat "$out/logs/$name.build.log"; exit 1
    fi
done
echo "built in $((SECONDS - build_started)) s"
start_origin

mkdir -p "$out/elsewhere" && cp -r fixtures/apps/hello "$out/elsewhere/app-copy"
"$pyedge" build "$out/elsewhere/app-copy" -o "$out/elsewhere/hello.wasm" > "$out/logs/elsewhere.build.log" 2>&1
check "reproducible build" "$(sha256sum < "$out/wasm/hello.wasm")" "$(sha256sum < "$out/elsewhere/hello.wasm")"

# ---- the matrix ----
declare -A seconds
for role in "${roles[@]}"; do
    current_role=$role
    role_started=$SECONDS
    echo "==> ${host_name[$role]}: serve"
    for name in "${http_fixtures[@]}"; do
        if start_host "$role" "$out/wasm/$name.wasm" "$name"; then
            "http_${name//-/_}"
        else
            check "$name: the host serves it" "listening" "exited: $(tail -3 "$log" | paste -sd' ')"
        fi
        stop_host
    done
    echo "==> ${host_name[$role]}: run"
    phase=run
    for name in "${cli_fixtures[@]}"; do
        "run_${name//-/_}" "$role" "$out/wasm/$name.wasm"
    done
    phase=""
    seconds[$role]=$((SECONDS - role_started))
done
current_role=""

# ---- summary ----
echo
for key in "${!KNOWN_DIFFERENCES[@]}"; do
    if [ -z "${seen_known[$key]:-}" ]; then
        host="${host_name[${key%%:*}]:-build}"
        echo "FAIL [$host] KNOWN_DIFFERENCES lists a check that did not run here: ${key#*:}"
        failed[$host]=$((${failed[$host]:-0} + 1))
    fi
done
echo "known differences (KNOWN_DIFFERENCES):"
for key in "${!KNOWN_DIFFERENCES[@]}"; do
    echo "  [${host_name[${key%%:*}]:-${key%%:*}}] ${key#*:}: ${KNOWN_DIFFERENCES[$key]}"
done | sort
echo
printf '%-22s %8s %8s %8s %8s\n' host passed failed known seconds
total_failed=0
for host in build "${roles[@]}"; do
    name="${host_name[$host]:-$host}"
    printf '%-22s %8s %8s %8s %8s\n' "$name" "${passed[$name]:-0}" "${failed[$name]:-0}" \
        "${differed[$name]:-0}" "${seconds[$host]:-}"
    total_failed=$((total_failed + ${failed[$name]:-0}))
done
echo "host checks took $((SECONDS - started_at)) s"
if [ "$total_failed" -ne 0 ]; then
    echo "$total_failed host check(s) failed"; exit 1
fi
echo "all host checks passed"
