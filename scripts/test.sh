#!/usr/bin/env bash
# The test command (README, .ci/run): format check, the host-side Python unit tests of
# src/python, the Rust test suite (which builds the runtime on a fresh machine), bounded
# fuzz runs of the input parsers, then the host matrix: the fixture apps under the current
# and the oldest Wasmtime CLI and under jco (scripts/host-checks.sh), CPython's own
# regression tests inside the runtime (scripts/cpython-tests.sh), and pyedge's WASI numpy
# with numpy's own tests (scripts/numpy-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

# A clean clone gains nothing from incremental artifacts, and they cost half a GB of
# disk next to the test binary. Developers iterating with plain `cargo test` keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The whole run writes about 4 GB (target/ and the cache); say what there is up front.
echo "==> disk: $(df -Ph . | awk 'NR==2 {print $4}') free here"

echo "==> cargo fmt --check"
cargo fmt --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "==> cargo deny check licenses bans sources (deny.toml)"
"$(ensure_cargo_deny)" --log-level error check licenses bans sources

echo "==> test wheels (scripts/test-wheels.txt)"
PYEDGE_TEST_WHEELS="$(ensure_test_wheels)"
export PYEDGE_TEST_WHEELS
ls "$PYEDGE_TEST_WHEELS"

echo "==> the Wasmtime CLI (scripts/wasmtime-cli.txt), for tests under a plain wasmtime serve"
PYEDGE_WASMTIME_CLI="$(ensure_wasmtime_cli)"
export PYEDGE_WASMTIME_CLI
"$PYEDGE_WASMTIME_CLI" --version

echo "==> Debian packages for the tests: ${TEST_APT_PACKAGES[*]}"
ensure_test_apt_packages

echo "==> Python unit tests of src/python (pytest on the host CPython)"
# The same CPython runs the tests `pyedge init` generates (tests/it/init.rs).
PYEDGE_TEST_PYTHON="$(ensure_pytest)"
export PYEDGE_TEST_PYTHON
"$PYEDGE_TEST_PYTHON" -m pytest -q -p no:cacheprovider src/python/tests

# The numpy fixtures' tests (tests/it/numpy_apps.rs) compute every answer again with the
# host's numpy of the same release, on the runtime's native build Python 3.13 (built with
# the runtime by `cargo clippy` above).
echo "==> host numpy for the numpy fixtures' tests"
PYEDGE_TEST_HOST_NUMPY="$(ensure_host_numpy)"
PYEDGE_TEST_PYTHON313="$(pyedge_cache_dir)/runtime/work/build/native/python"
export PYEDGE_TEST_HOST_NUMPY PYEDGE_TEST_PYTHON313
"$PYEDGE_TEST_PYTHON313" -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'

echo "==> cargo test"
cargo test --no-fail-fast

echo "==> load test report (tests/it/serve_load.rs)"
cat target/load-report.txt

echo "==> fuzz (scripts/fuzz.sh)"
bash scripts/fuzz.sh

echo "==> the host matrix: wasmtime serve/run (current, oldest), jco serve/run (scripts/host-checks.sh)"
bash scripts/host-checks.sh

# CPython's own Lib/test inside the runtime: plain, pre-initialized and with the garbage
# collector at threshold 1 and a full collection around every test (issue 19).
echo "==> CPython's own tests in the runtime (scripts/cpython-tests.sh)"
bash scripts/cpython-tests.sh

# pyedge's WASI numpy (issue 21): built from the pinned sdist (cached), checked against
# host numpy, and numpy's own test suites inside python-numpy.wasm.
echo "==> numpy for WASI: build, smoke against host numpy, numpy's own tests (scripts/numpy-tests.sh)"
bash scripts/numpy-tests.sh

# The wheel with the test build's profile (its dependencies are already compiled; a
# release wheel is `bash scripts/wheel.sh`), used as a new user would (scripts/wheel-check.sh).
echo "==> the Python wheel (scripts/wheel.sh --profile dev, scripts/wheel-check.sh)"
bash scripts/wheel-check.sh "$(bash scripts/wheel.sh --profile dev)"
