#!/usr/bin/env bash
# Build pyedge's wheel: target/wheels/pyedge-<version>-py3-none-<platform>.whl, holding the
# `pyedge` binary with the WASI CPython runtime embedded (pyproject.toml, maturin's
# `bindings = "bin"`). `pip install` / `uv tool install` / `pipx install` of it needs no
# Rust, clang or runtime build.
#
#   bash scripts/wheel.sh                 # release build (what ships)
#   bash scripts/wheel.sh --profile dev   # the test build's profile (CI's packaging check)
#
# maturin comes from PyPI, hash-pinned (scripts/maturin.txt), into pyedge's cache dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

profile=release
if [[ ${1:-} == --profile ]]; then profile="${2:?--profile needs a name}"; fi

pins=scripts/maturin.txt
venv="$(pyedge_cache_dir)/tools/maturin-$(sha256sum "$pins" | cut -c1-12)"
if [[ ! -x $venv/bin/maturin ]]; then
    echo "==> installing maturin from PyPI into $venv" >&2
    rm -rf "$venv.partial"
    python3 -m venv "$venv.partial" >&2
    "$venv.partial/bin/python" -m pip install --quiet --require-hashes -r "$pins" >&2
    rm -rf "$venv" && mv "$venv.partial" "$venv"
fi

version="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')"
rm -f target/wheels/pyedge-"$version"-*.whl
echo "==> maturin build --profile $profile (pyedge $version)" >&2
"$venv/bin/maturin" build --quiet --profile "$profile" --out target/wheels >&2
wheel="$(ls target/wheels/pyedge-"$version"-*.whl)"
echo "==> $wheel ($(du -h "$wheel" | cut -f1))" >&2
echo "$wheel"
