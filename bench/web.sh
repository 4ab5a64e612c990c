#!/usr/bin/env bash
# Web frameworks (issue 17): p50 of one route (GET /hello/Ada) of each framework fixture
# (fixtures/apps/web-*) beside the same route as a bare handler (bench/apps/hello-handler),
# under a default `wasmtime serve` and, with a release pyedge, `pyedge serve`; and each
# component's size. One run, one table: the overhead column is the framework's p50
# minus the bare handler's, measured in the same run on the same host.
#
#   bash bench/web.sh        (PYEDGE_BIN=path/to/release/pyedge to add `pyedge serve`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
WASMTIME="$(ensure_wasmtime_cli)"
WHEELS="${PYEDGE_TEST_WHEELS:-$(ensure_test_wheels)}"
PYEDGE="${PYEDGE:-$PWD/target/debug/pyedge}"
[[ -x $PYEDGE ]] || cargo build -q
OUT=target/bench-web
rm -rf "$OUT" && mkdir -p "$OUT"
APPS=(bench/apps/hello-handler fixtures/apps/web-bottle fixtures/apps/web-falcon
      fixtures/apps/web-django fixtures/apps/web-starlette fixtures/apps/web-fastapi)
[[ -d fixtures/apps/web-flask ]] && APPS+=(fixtures/apps/web-flask)

p50() { # url
    python3 - "$1" <<'PY'
import http.client, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
times = []
for i in range(320):
    start = time.perf_counter()
    conn.request("GET", url.path)
    response = conn.getresponse(); body = response.read()
    assert response.status == 200 and body == b"Hello, Ada!", (response.status, body)
    if i >= 20:
        times.append(time.perf_counter() - start)
print(f"{sorted(times)[len(times) // 2] * 1000:.3f}")
PY
}
wait_up() { for _ in $(seq 600); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }
measure() { # label command...
    local port=18961
    "${@:2}" --addr "127.0.0.1:$port" 2> "$OUT/$1.log" &
    local pid=$!
    wait_up "http://127.0.0.1:$port/hello/Ada"
    p50 "http://127.0.0.1:$port/hello/Ada"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

declare -A wt ps size
for app in "${APPS[@]}"; do
    name=$(basename "$app")
    mkdir -p "$OUT/src"; cp -r "$app" "$OUT/src/$name"
    "$PYEDGE" build "$OUT/src/$name" -o "$OUT/$name.wasm" --find-links "$WHEELS" --offline > /dev/null
    size[$name]=$(stat -c %s "$OUT/$name.wasm")
    wt[$name]=$(measure "wasmtime-$name" "$WASMTIME" serve "$OUT/$name.wasm")
    if [[ -n ${PYEDGE_BIN:-} ]]; then
        ps[$name]=$(measure "pyedge-$name" "$PYEDGE_BIN" serve "$OUT/$name.wasm")
    fi
done

base=hello-handler
printf '%-16s %10s %12s %14s %12s %14s\n' app "size MB" "wasmtime p50" "overhead ms" "pyedge p50" "overhead ms"
for app in "${APPS[@]}"; do
    name=$(basename "$app")
    over_wt=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):+.3f}')" "${wt[$name]}" "${wt[$base]}")
    if [[ -n ${PYEDGE_BIN:-} ]]; then
        over_ps=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):+.3f}')" "${ps[$name]}" "${ps[$base]}")
        pyedge_col="${ps[$name]}"
    else
        over_ps="-"; pyedge_col="-"
    fi
    printf '%-16s %10.2f %12s %14s %12s %14s\n' "$name" "$(python3 -c "import sys; print(int(sys.argv[1]) / 1e6)" "${size[$name]}")" \
        "${wt[$name]}" "$over_wt" "$pyedge_col" "$over_ps"
done
