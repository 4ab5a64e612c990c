#!/usr/bin/env bash
# Build pyedge (and, on a fresh machine, the WASI CPython runtime), build the hello
# example app into a component and run it under the Wasmtime CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

cargo build
wasmtime="$(ensure_wasmtime_cli)"
mkdir -p target/example
./target/debug/pyedge build fixtures/apps/hello -o target/example/hello.wasm
echo "==> wasmtime run target/example/hello.wasm Ada Grace"
"$wasmtime" run target/example/hello.wasm Ada Grace
