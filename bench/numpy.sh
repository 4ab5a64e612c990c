#!/usr/bin/env bash
# numpy at the edge (issue 21): the analytics handler (fixtures/apps/numpy-analytics) built
# by a release pyedge, its component size (raw and gzip) beside a numpy-free handler's
# (the geo router, and a hello handler), and the p50 of one analysis of 1,024 samples
# (`GET /analyze?n=1024`: a synthetic window, FFT, z-scores, moving average, polyfit, an
# MLP forward pass, linalg.solve) under `pyedge serve` and a default `wasmtime serve`,
# beside the same analysis in the host's CPython 3.13 with the host's numpy (PyPI wheel,
# SIMD and all): the native cost of the work.
#
# There is no peer row: componentize-py has no numpy for WASI (the third-party WASI
# wheels it pointed to are no longer maintained), and Pyodide's numpy is built for
# Emscripten, not for a WASI component.
#
#   bash bench/numpy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export RUST_BACKTRACE=0
WASMTIME="$(ensure_wasmtime_cli)"
HOST_NUMPY="$(ensure_host_numpy)"
PYTHON313="$(pyedge_cache_dir)/runtime/work/build/native/python"
if [[ -z ${PYEDGE_BIN:-} ]]; then
    echo "==> building pyedge (release)" >&2
    cargo build --release -q
fi
PYEDGE="${PYEDGE_BIN:-$PWD/target/release/pyedge}"
OUT=target/bench-numpy
rm -rf "$OUT" && mkdir -p "$OUT"
for command in curl gzip; do command -v "$command" >/dev/null || { echo "needs $command" >&2; exit 1; }; done

build() { "$PYEDGE" build "$1" -o "$2" --precompile --offline >"$OUT/build-$(basename "$2").log" 2>&1; }
build fixtures/apps/numpy-analytics "$OUT/analytics.wasm"
build fixtures/apps/geo-router "$OUT/geo.wasm"
build bench/apps/hello-handler "$OUT/hello.wasm"

size_row() { # label file
    local raw gz
    raw=$(stat -c %s "$2")
    gz=$(gzip -9 -c "$2" | wc -c)
    printf '| %-34s | %10s | %10s |\n' "$1" "$(numfmt --to=si --suffix=B "$raw") ($raw)" "$(numfmt --to=si --suffix=B "$gz")"
}

p50() { # url
    python3 - "$1" <<'PY'
import http.client, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
times = []
for i in range(220):
    start = time.perf_counter()
    conn.request("GET", url.path + "?" + url.query)
    response = conn.getresponse(); response.read()
    assert response.status == 200, (response.status, response.read())
    if i >= 20:
        times.append(time.perf_counter() - start)
times.sort()
print(f"{times[len(times) // 2] * 1000:.3f}")
PY
}
wait_up() { for _ in $(seq 600); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }
serve_p50() { # label command...
    local label=$1; shift
    "$@" 2>"$OUT/serve.log" &
    local pid=$!
    wait_up http://127.0.0.1:18961/analyze?n=16
    local ms
    ms=$(p50 "http://127.0.0.1:18961/analyze?n=1024&rate=100&seed=7")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$ms"
}
pyedge_ms=$(serve_p50 pyedge "$PYEDGE" serve "$OUT/analytics.wasm" --addr 127.0.0.1:18961)
wasmtime_ms=$(serve_p50 wasmtime "$WASMTIME" serve --addr 127.0.0.1:18961 "$OUT/analytics.wasm")
host_ms=$(PYTHONPATH="$HOST_NUMPY:fixtures/apps/numpy-analytics" "$PYTHON313" - <<'PY'
import json, time
from analytics import analyze, synthetic
times = []
for i in range(220):
    start = time.perf_counter()
    json.dumps(analyze(synthetic(1024, 100.0, 7), 100.0))
    if i >= 20:
        times.append(time.perf_counter() - start)
times.sort()
print(f"{times[len(times) // 2] * 1000:.3f}")
PY
)

echo
echo "numpy analytics (fixtures/apps/numpy-analytics), $(date -u +%F), $(nproc) cores"
echo
printf '| %-34s | %10s | %10s |\n' "component" "raw" "gzip -9"
printf '| %-34s | %10s | %10s |\n' "---" "---" "---"
size_row "numpy analytics" "$OUT/analytics.wasm"
size_row "geo router (no numpy)" "$OUT/geo.wasm"
size_row "hello handler (no numpy)" "$OUT/hello.wasm"
echo
printf '| %-44s | %9s | %9s |\n' "GET /analyze?n=1024 (one analysis), p50" "ms" "vs host"
printf '| %-44s | %9s | %9s |\n' "---" "---" "---"
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$host_ms"; }
printf '| %-44s | %9s | %9s |\n' "pyedge serve (request, in a fresh instance)" "$pyedge_ms" "$(ratio "$pyedge_ms")"
printf '| %-44s | %9s | %9s |\n' "wasmtime serve (default settings)" "$wasmtime_ms" "$(ratio "$wasmtime_ms")"
printf '| %-44s | %9s | %9s |\n' "host CPython 3.13 + numpy wheel (the call)" "$host_ms" "1.0x"
