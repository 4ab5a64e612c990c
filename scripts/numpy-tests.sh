#!/usr/bin/env bash
# pyedge's WASI numpy (issue 21), built and checked: runtime-assets/numpy/build.sh compiles
# numpy from its pinned sdist against the runtime's CPython build (cached in
# the runtime's work dir, keyed by its inputs), then fixtures/numpy-smoke/smoke.py runs
# under python-numpy.wasm in the pinned Wasmtime CLI and under the host's numpy of the
# same version (the PyPI wheel, hash-checked, on the runtime's native build Python 3.13),
# and fixtures/numpy-smoke/compare.py compares the two outputs number by number. Then
# numpy's own test suite (the suites below, from the same sdist, with pytest and
# hypothesis from PyPI, hash-pinned in fixtures/numpy-tests/requirements.txt) runs inside
# python-numpy.wasm, one `wasmtime run` per suite, two at a time, the way `numpy.test()`
# runs it (`-m "not slow"`). Prints `suite | passed failed errors skipped xfailed xpassed
# deselected seconds` (deselected: by `-m "not slow"` and by skips.txt) and exits 1 on any
# failure or error, a trap, a run without pytest's summary, or an entry
# of fixtures/numpy-tests/skips.txt that matched nothing (fixtures/numpy-tests/
# pyedge_skips.py, a pytest plugin on the guest's path, deselects and reports them).
#
#   bash scripts/numpy-tests.sh                      # build, smoke, every suite
#   bash scripts/numpy-tests.sh numpy/fft/tests      # build, smoke, these suites
#
# Needs the runtime's work dir, which `cargo build` (build.rs) leaves in
# $(pyedge_cache_dir)/runtime/work. Environment: PYEDGE_WASMTIME_CLI (else the pinned CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

cache="$(pyedge_cache_dir)"
work="$cache/runtime/work"
[ -f "$work/stamps/cpython-wasi" ] ||
    { echo "numpy-tests: no runtime build in $work: run cargo build first" >&2; exit 1; }
# The runtime build (runtime-assets/build.sh) built numpy into $work/numpy-out already; this
# finds it up to date, or builds it there.
out="$work/numpy-out"
bash runtime-assets/numpy/build.sh --runtime-work "$work" --out "$out" --jobs "$(nproc)"

# The host's numpy: the same release's wheel for CPython 3.13 on x86-64 (scripts/tools.sh);
# the runtime's native build Python imports it.
source runtime-assets/numpy/pins.env
host_numpy="$(ensure_host_numpy)"

wasmtime="${PYEDGE_WASMTIME_CLI:-$(ensure_wasmtime_cli)}"
logs=target/numpy-tests
mkdir -p "$logs"
echo "==> numpy smoke: WASI numpy in $("$wasmtime" --version) vs host numpy $NUMPY_VERSION"
"$wasmtime" run \
    --dir "$work/install/wasi/usr/local/lib/python3.13::/usr/local/lib/python3.13" \
    --dir "$out/site-packages::/site" --dir "$PWD/fixtures/numpy-smoke::/smoke" \
    --env PYTHONHOME=/usr/local --env PYTHONPATH=/site \
    "$out/python-numpy.wasm" /smoke/smoke.py >"$logs/smoke.wasi.json" 2>"$logs/smoke.wasi.stderr" ||
    { echo "numpy-tests: smoke.py failed under WASI numpy:" >&2; tail -20 "$logs/smoke.wasi.stderr" >&2; exit 1; }
PYTHONPATH="$host_numpy" "$work/build/native/python" fixtures/numpy-smoke/smoke.py >"$logs/smoke.host.json"
"$work/build/native/python" fixtures/numpy-smoke/compare.py "$logs/smoke.wasi.json" "$logs/smoke.host.json"

# ---- numpy's own test suite ----
# numpy/_core/tests is most of the time: its files run as two parts (SUITE:RANGE, test files
# whose name after `test_` starts in RANGE), so both cores share it.
SUITES=(numpy/_core/tests:a-m numpy/_core/tests:n-z numpy/lib/tests numpy/fft/tests
    numpy/random/tests numpy/linalg/tests)
if [ $# -gt 0 ]; then SUITES=("$@"); fi
full_run=$([ $# -eq 0 ] && echo 1 || echo 0)

# pytest and hypothesis for the guest: pure wheels, hash-pinned, unpacked (pip only
# downloads and checks them; nothing is installed into a Python).
reqs=fixtures/numpy-tests/requirements.txt
guest_site="$cache/tools/numpy-tests-site-$(sha256sum "$reqs" | cut -c1-12)"
if [ ! -d "$guest_site" ]; then
    echo "==> pytest and hypothesis for the guest (fixtures/numpy-tests/requirements.txt) into $guest_site" >&2
    rm -rf "$guest_site.partial" && mkdir -p "$guest_site.partial/wheels"
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary :all: \
        --dest "$guest_site.partial/wheels" -r "$reqs" >&2
    for whl in "$guest_site.partial/wheels"/*.whl; do
        python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
            "$whl" "$guest_site.partial"
    done
    rm -rf "$guest_site.partial/wheels"
    mv "$guest_site.partial" "$guest_site"
fi

# skips.txt: `NODE-ID  # reason`; a node id that names a file (no ::) ignores the file.
skips=fixtures/numpy-tests/skips.txt
file_skips() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$skips" | grep -v '^$' | grep -v '::' || true; }
run_suite() { # SUITE[:RANGE]: one wasmtime run; the log is $logs/suites/NAME.log
    local part=$1 suite=${1%%:*} name=${1//\//.} paths=() f
    local log="$logs/suites/$name.log" tmp="$logs/tmp/$name" root="$logs/root"
    rm -rf "$tmp" && mkdir -p "$tmp" "$root"
    if [[ $part == *:* ]]; then
        for f in "$out/site-packages/$suite"/test_[${part##*:}]*.py; do
            f=${f#"$out/site-packages/"}
            file_skips | grep -qxF "$f" || paths+=("/site/$f")
        done
    else
        paths=("/site/$suite")
        while read -r f; do
            [[ $f == "$suite"/* ]] && paths+=(--ignore "/site/$f")
        done < <(file_skips)
    fi
    # Tests named with :: in skips.txt are deselected by fixtures/numpy-tests/pyedge_skips.py.
    local t0=$SECONDS code=0
    # / is an empty directory (pytest changes into it), /tmp a fresh one per suite.
    # numpy.test()'s own warning filters; --basetemp, since pytest's default temp dir
    # asks os.getuid(), which WASI has not.
    "$wasmtime" run -W timeout=2400s \
        --dir "$root::/" --dir "$tmp::/tmp" \
        --dir "$work/install/wasi/usr/local/lib/python3.13::/usr/local/lib/python3.13" \
        --dir "$out/site-packages::/site" --dir "$guest_site::/pysite" \
        --dir "$PWD/fixtures/numpy-tests::/fixture" \
        --env PYTHONHOME=/usr/local --env PYTHONPATH=/site:/pysite:/fixture \
        --env HYPOTHESIS_NO_PLUGINS=1 \
        --env PYEDGE_NUMPY_SKIPS=/fixture/skips.txt \
        "$out/python-numpy.wasm" -m pytest --rootdir=/site -p pyedge_skips -p no:cacheprovider \
        -p no:faulthandler -p no:logging --capture=sys -q -rfEX -m "not slow" \
        --basetemp=/tmp/pytest \
        -W "ignore:Not importing directory" -W "ignore:numpy.dtype size changed" \
        -W "ignore:numpy.ufunc size changed" -W "ignore:the matrix subclass is not" \
        -W "ignore:Importing from numpy.matlib is" \
        "${paths[@]}" >"$log" 2>&1 || code=$?
    echo "$code $((SECONDS - t0))" >"$log.status"
}

mkdir -p "$logs/suites"
echo "==> numpy's own tests in python-numpy.wasm: ${SUITES[*]}"
pids=()
for suite in "${SUITES[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 1; done
    run_suite "$suite" &
    pids+=($!)
done
wait "${pids[@]}"

count() { grep -oE "[0-9]+ $1" <<<"$summary" | cut -d' ' -f1 || true; } # N from "N WORD" in $summary
status=0
printf '%-26s %7s %6s %6s %7s %7s %7s %10s %7s\n' suite passed failed errors skipped xfailed xpassed deselected seconds
for suite in "${SUITES[@]}"; do
    name=${suite//\//.}
    log="$logs/suites/$name.log"
    read -r code secs <"$log.status"
    summary=$(grep -E '^[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -1 || true)
    passed=$(count passed) failed=$(count failed) errors=$(count 'errors?') skipped=$(count skipped)
    xfailed=$(count xfailed) xpassed=$(count xpassed) deselected=$(count deselected)
    printf '%-26s %7s %6s %6s %7s %7s %7s %10s %7s\n' "$suite" "${passed:-0}" "${failed:-0}" \
        "${errors:-0}" "${skipped:-0}" "${xfailed:-0}" "${xpassed:-0}" "${deselected:-0}" "$secs"
    if [ -z "$summary" ]; then
        echo "FAIL $suite: no pytest summary (exit $code; a trap or a crash?): $log" >&2
        tail -15 "$log" | sed 's/^/    /' >&2
        status=1
        continue
    fi
    if [ "${failed:-0}" != 0 ] || [ "${errors:-0}" != 0 ]; then
        echo "FAIL $suite: failures or errors ($log):" >&2
        grep -E '^(FAILED|ERROR|XPASS) ' "$log" | sed 's/^/    /' >&2
        status=1
    fi
    unmatched=$(sed -n 's/^pyedge-skips: deselected [0-9]*; unmatched: *//p' "$log")
    if ! grep -q '^pyedge-skips: ' "$log" || [ -n "$unmatched" ]; then
        echo "FAIL $suite: skips.txt entries that matched no test: ${unmatched:-(the plugin did not report)}" >&2
        status=1
    fi
done
if [ "$full_run" = 1 ]; then
    while read -r id; do
        case " ${SUITES[*]} " in *" ${id%%/tests/*}/tests"[\ :]*) ;; *)
            echo "FAIL skips.txt: $id is in no suite run here" >&2; status=1 ;; esac
        if [[ ! -f $out/site-packages/${id%%::*} ]]; then
            echo "FAIL skips.txt: $id names no test file" >&2; status=1
        fi
    done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$skips" | grep -v '^$')
fi
exit $status
