#!/usr/bin/env bash
# The packaging check (.ci/run, through scripts/test.sh): install pyedge's wheel into a
# fresh venv and use it the way a new user would, with PATH holding only that venv (no
# cargo, rustc or clang): `pyedge --version`, `pyedge init` for each template, `pyedge
# build` with no edits (dependencies from the test wheels, offline), the component run
# under the Wasmtime CLI (`wasmtime serve` with real HTTP requests, `wasmtime run`), and
# the generated tests under pytest on the host.
#
#   bash scripts/wheel-check.sh WHEEL
#
# Needs PYEDGE_TEST_WHEELS and PYEDGE_WASMTIME_CLI (scripts/test.sh exports them).
set -euo pipefail
cd "$(dirname "$0")/.."
wheel="$(realpath "${1:?usage: wheel-check.sh WHEEL}")"
wheels="${PYEDGE_TEST_WHEELS:?run from scripts/test.sh}"
wasmtime="${PYEDGE_WASMTIME_CLI:?run from scripts/test.sh}"
curl="$(command -v curl)"
root="$PWD/target/wheel-check"
rm -rf "$root" && mkdir -p "$root"
fail() { echo "wheel-check: $*" >&2; exit 1; }

echo "==> fresh venv, pip install $(basename "$wheel")"
python3 -m venv "$root/venv"
venv="$root/venv"
"$venv/bin/python" -m pip install --quiet --no-index "$wheel"
# pytest for the generated tests (hash-pinned, as for src/python/tests), and what the
# web templates' tests import on the host, from the test wheels.
"$venv/bin/python" -m pip install --quiet --require-hashes -r src/python/tests/requirements.txt
"$venv/bin/python" -m pip install --quiet --no-index --find-links "$wheels" flask starlette httpx

# What the user runs, runs with the venv as the whole PATH (the script's own tools keep
# theirs).
user() { env PATH="$venv/bin" PYEDGE_CACHE_DIR="$root/cache" "$@"; }
for tool in cargo rustc clang clang-19 gcc cc; do
    if user /bin/sh -c "command -v $tool" >/dev/null 2>&1; then fail "$tool is on the user's PATH"; fi
done
version="$(user pyedge --version)"
echo "    $version"
[[ $version =~ ^pyedge\ [0-9]+\.[0-9]+\.[0-9]+\ \(CPython\ 3\.[0-9]+\.[0-9]+\ for\ wasm32-wasi,\ runtime\ [0-9a-f]{12}\)$ ]] ||
    fail "unexpected --version: $version"

free_port() { "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# serve_and_check APP_DIR METHOD PATH BODY EXPECTED: wasmtime serve, one request, compare.
serve_and_check() {
    local app=$1 method=$2 path=$3 body=$4 expected=$5 port pid got
    port="$(free_port)"
    "$wasmtime" serve --addr "127.0.0.1:$port" "$app/app.wasm" 2>"$app/serve.log" &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for _ in $(seq 200); do
        "$curl" -fs -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || fail "$app: wasmtime serve exited: $(cat "$app/serve.log")"
        sleep 0.05
    done
    if [[ $method == POST ]]; then
        got="$("$curl" -fsS -X POST -H 'content-type: application/json' --data "$body" "http://127.0.0.1:$port$path")"
    else
        got="$("$curl" -fsS "http://127.0.0.1:$port$path")"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
    trap - EXIT
    [[ $got == "$expected" ]] || fail "$app: $method $path answered $got, expected $expected"
    echo "    $method $path -> $got"
}

for template in http cli wsgi asgi; do
    app="$root/$template-app"
    echo "==> pyedge init $template-app --template $template; pyedge build; run; pytest"
    (cd "$root" && user pyedge init "$template-app" --template "$template" >/dev/null)
    (cd "$app" && user pyedge build --find-links "$wheels" --offline -q >"$root/$template-build.log")
    [[ -f $app/app.wasm ]] || fail "$template: no app.wasm"
    case $template in
        http) serve_and_check "$app" GET /hi '' '{"hello": "world", "path": "/hi"}' ;;
        wsgi) serve_and_check "$app" GET '/?name=Ada' '' '{"hello":"Ada"}' ;;
        asgi) serve_and_check "$app" POST /echo '{"n": 1}' '{"received":{"n":1}}' ;;
        cli)
            got="$("$wasmtime" run "$app/app.wasm" Ada)"
            [[ $got == "Hello, Ada!" ]] || fail "cli: wasmtime run printed $got"
            echo "    wasmtime run app.wasm Ada -> $got"
            ;;
    esac
    (cd "$app" && user python -m pytest -q -p no:cacheprovider) | tail -1
done
echo "==> the wheel works with nothing but itself on PATH"
