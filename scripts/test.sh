#!/usr/bin/env bash
# The test command (README, .ci/run): format check, the Rust test suite (which builds
# the runtime on a fresh machine), then the built components under the Wasmtime CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --check

echo "==> cargo test"
cargo test --no-fail-fast

echo "==> components under the Wasmtime CLI"
bash scripts/host-checks.sh
