#!/usr/bin/env bash
# CPython's own regression tests inside pyedge's runtime (issue 19): `Lib/test` of the very
# CPython source the runtime is built from (runtime-assets/pins.env) runs inside a component
# under the Wasmtime CLI, one test module per `wasmtime run`, the way CPython's WASI
# buildbot runs it (single process, `-u all,-cpu`). Three passes over the same app
# (fixtures/cpython-tests, `stdlib = "all"`): a `--no-snapshot` component (plain), a
# pre-initialized one (snapshot), and the pre-initialized one again with
# `gc.set_threshold(1, 1, 1)` and a full `gc.collect()` around every test (gc), since an
# indirect-call type mismatch once trapped in the garbage collector.
#
#   bash scripts/cpython-tests.sh                     # every module below, all three passes
#   bash scripts/cpython-tests.sh test_json test_re   # just these modules
#
# Prints `module | plain | snapshot | gc` with run/fail/err/skip/xfail counts and exits 1
# on any failure, error or unexpected success, a module that skipped itself without an
# entry in fixtures/cpython-tests/skips.txt saying why, a trap, a crash or a timeout (and,
# on a full run, a skips.txt entry that matched nothing). Logs:
# target/cpython-tests/logs/PASS/MODULE.log. The pinned source's Lib/test is extracted
# once into $(pyedge_cache_dir)/cpython-tests/VERSION-SHA256PREFIX (from the runtime
# build's download of the tarball, else downloaded from the pinned URL; SHA-256 checked).
# Environment: PYEDGE (the pyedge binary, default ./target/debug/pyedge),
# PYEDGE_CPYTHON_TESTS_PASSES (default "plain snapshot gc"), PYEDGE_CPYTHON_TESTS_JOBS
# (parallel runs, default 2), PYEDGE_CPYTHON_TESTS_TIMEOUT (seconds per module run,
# default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

# The modules of issue 19's list (test_unicode is test_str in 3.13), with the neighbours
# that test the same code (test_dictviews, test_unicodedata, test_urlparse for
# urllib.parse, test_xml_etree_c for the C accelerator, test_copy), a few of the
# language's own (test_exceptions, test_syntax, test_ast, test_descr, test_warnings,
# test_time), and the file-system modules, whose files live in pyedge's own in-memory
# /tmp (the tests' working directory). Not here: test_compile and test_class (they import
# _testinternalcapi unconditionally), the rest of Lib/test (time).
# test_asyncio runs module by module:
# the ones that need neither sockets, subprocesses nor threads as a whole. Left out of it:
# test_events, test_streams, test_server, test_sock_lowlevel, test_sendfile,
# test_selector_events, test_proactor_events, test_unix_events, test_windows_*, test_ssl,
# test_sslproto, test_subprocess (sockets, pipes, subprocesses, termios or Windows: WASI has
# none of them) and test_free_threading (a free-threaded build's test).
MODULES=(
    test_builtin test_types test_dict test_dictviews test_list test_set test_str
    test_unicodedata test_bytes test_int test_float test_long test_math test_json test_re
    test_datetime test_decimal test_fractions test_statistics test_hashlib test_hmac
    test_zlib test_base64 test_struct test_codecs test_email
    test_urllib test_urllib2 test_urllib_response test_urllibnet test_urllib2net
    test_urllib2_localnet test_urlparse test_http_cookies
    test_gc test_weakref test_generators test_coroutines test_copy
    test_asyncio.test_base_events test_asyncio.test_buffered_proto
    test_asyncio.test_context test_asyncio.test_eager_task_factory
    test_asyncio.test_futures test_asyncio.test_futures2 test_asyncio.test_locks
    test_asyncio.test_pep492 test_asyncio.test_protocols test_asyncio.test_queues
    test_asyncio.test_runners test_asyncio.test_staggered test_asyncio.test_taskgroups
    test_asyncio.test_tasks test_asyncio.test_threads test_asyncio.test_timeouts
    test_asyncio.test_transports test_asyncio.test_waitfor
    test_dataclasses test_enum test_typing test_zoneinfo test_uuid test_xml_etree
    test_xml_etree_c test_pickle test_csv test_collections test_functools test_itertools
    test_importlib
    test_exceptions test_syntax test_ast test_descr test_warnings test_time
    test_os test_io test_fileio test_tempfile test_pathlib test_shutil test_glob
    test_posixpath test_genericpath
)
pyedge="${PYEDGE:-./target/debug/pyedge}"
if [ ! -x "$pyedge" ]; then
    [ -n "${PYEDGE:-}" ] && { echo "PYEDGE=$pyedge is not an executable" >&2; exit 2; }
    cargo build
fi
wasmtime="$(ensure_wasmtime_cli)"
jobs="${PYEDGE_CPYTHON_TESTS_JOBS:-2}"
timeout_s="${PYEDGE_CPYTHON_TESTS_TIMEOUT:-300}"
app=fixtures/cpython-tests
out=target/cpython-tests
full_run=1
read -r -a passes <<< "${PYEDGE_CPYTHON_TESTS_PASSES:-plain snapshot gc}"
if (($# > 0)); then MODULES=("$@"); full_run=0; fi
started=$SECONDS

pin() { sed -n "s/^$1=//p" runtime-assets/pins.env; }

# Print the directory holding the pinned source's Lib/test (as Lib/test), extracting it on
# first use from the pinned tarball: the runtime build's download when it is there, else
# a fresh one from the pinned URL; its SHA-256 is checked either way.
cpython_tests_dir() {
    local version url sha dir tarball partial got
    version="$(pin CPYTHON_VERSION)" url="$(pin CPYTHON_URL)" sha="$(pin CPYTHON_SHA256)"
    dir="$(pyedge_cache_dir)/cpython-tests/$version-${sha:0:12}"
    if [ ! -d "$dir/Lib/test" ]; then
        partial="$dir.partial.$$"
        rm -rf "$partial" && mkdir -p "$partial"
        tarball="$(pyedge_cache_dir)/runtime/work/downloads/${url##*/}"
        if [ ! -f "$tarball" ]; then
            echo "==> downloading $url" >&2
            tarball="$partial/${url##*/}"
            curl -fsSL --retry 3 -o "$tarball" "$url"
        fi
        got="$(sha256sum "$tarball" | cut -d' ' -f1)"
        if [ "$got" != "$sha" ]; then
            echo "SHA-256 mismatch for $tarball: expected $sha, got $got" >&2
            rm -rf "$partial"
            return 1
        fi
        echo "==> extracting Python-$version/Lib/test into $dir" >&2
        tar -xJf "$tarball" -C "$partial" --strip-components=1 "Python-$version/Lib/test"
        rm -f "$partial/${url##*/}"
        rm -rf "$dir" && mv "$partial" "$dir"
    fi
    echo "$dir"
}

tests_dir="$(cpython_tests_dir)"
# The tree is preopened writable (wasmtime has no read-only preopen); keep it as extracted.
find "$tests_dir" -name __pycache__ -type d -prune -exec rm -rf {} +
"$wasmtime" --version
"$pyedge" --version
rm -rf "$out" && mkdir -p "$out/logs/plain" "$out/logs/snapshot" "$out/logs/gc"

echo "==> pyedge build $app (pre-initialized, and --no-snapshot)"
"$pyedge" build "$app" -o "$out/snapshot.wasm" > "$out/build-snapshot.log"
"$pyedge" build "$app" --no-snapshot -o "$out/plain.wasm" > "$out/build-plain.log"
# Compiled once here instead of on every `wasmtime run` (about 5 s a run on 2 cores).
"$wasmtime" compile "$out/snapshot.wasm" -o "$out/snapshot.cwasm"
"$wasmtime" compile "$out/plain.wasm" -o "$out/plain.cwasm"

# One module in one pass: PASS MODULE. Writes logs/PASS/MODULE.log and .rc.
run_one() {
    local pass=$1 module=$2 component args=() rc
    case $pass in
        plain) component=plain args=(--tag plain) ;;
        snapshot) component=snapshot args=(--tag snapshot) ;;
        gc) component=snapshot args=(--tag snapshot --gc-threshold 1,1,1) ;;
    esac
    local log="$out/logs/$pass/$module.log" t0=$SECONDS
    set +e
    timeout -k 10 "$timeout_s" "$wasmtime" run --allow-precompiled \
        --dir "$tests_dir/Lib::/cpython" "$out/$component.cwasm" \
        "${args[@]}" "$module" > "$log" 2>&1
    rc=$?
    set -e
    echo "$rc $((SECONDS - t0))" > "${log%.log}.rc"
}
export -f run_one
export out tests_dir wasmtime timeout_s

echo "==> ${#MODULES[@]} modules in each pass (${passes[*]}), $jobs at a time, ${timeout_s}s each at most"
for pass in "${passes[@]}"; do
    for m in "${MODULES[@]}"; do echo "$pass $m"; done
done | xargs -P "$jobs" -L 1 bash -c 'run_one "$0" "$1"'

# ---- the report ----
problems=()
# cell PASS MODULE: sets CELL to "run/fail/err/skip/xfail", or to what went wrong (and
# adds that to problems).
cell() {
    local pass=$1 module=$2 log line rc secs status kv
    local -A f=()
    log="$out/logs/$pass/$module.log"
    CELL="-"
    [ -f "${log%.log}.rc" ] || return 0
    read -r rc secs < "${log%.log}.rc"
    line="$(grep -a "^pyedge-cpython-tests: $module " "$log" | tail -1 || true)"
    if [ -z "$line" ]; then
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="TIMEOUT after ${secs}s"
        elif grep -aq "wasm trap" "$log"; then
            status="TRAP ($(grep -a -m1 'wasm trap' "$log" | sed 's/^ *[0-9]*: *wasm trap: *//'))"
        else status="CRASH (exit $rc)"; fi
        problems+=("$pass $module: $status")
        CELL="$status"
        return 0
    fi
    for kv in $line; do [[ $kv == *=* ]] && f[${kv%%=*}]=${kv#*=}; done
    local counts="${f[run]}/${f[failures]}/${f[errors]}/${f[skipped]}/${f[xfail]}"
    case ${f[status]} in
        ok) CELL="$counts" ;;
        module-skipped) CELL="module skipped" ;;
        *) problems+=("$pass $module: ${f[status]} ($counts, ${f[xpass]} unexpected successes)")
           CELL="${f[status]^^} $counts" ;;
    esac
}

echo
row='%-38s | %-26s | %-26s | %-24s\n'
printf "$row" "module" "plain: run/fail/err/skip/xfail" "snapshot: run/fail/err/skip/xfail" "gc: run/fail/err/skip/xfail"
printf -- '-%.0s' {1..124}; echo
for m in "${MODULES[@]}"; do
    cell plain "$m"; p="$CELL"
    cell snapshot "$m"; s="$CELL"
    cell gc "$m"; g="$CELL"
    printf "$row" "$m" "$p" "$s" "$g"
done

# Module-skips reported by the runs, with their reasons.
echo
echo "modules that skipped themselves as a whole: their own reason -- why that holds here"
grep -ah "^module skipped: " "$out"/logs/*/*.log | sed 's/^module skipped: //' | sort -u | sed 's/^/  /' || echo "  none"

# skips.txt entries no run used (a full run must use every one).
mapfile -t used < <(cat "$out"/logs/*/*.log | sed -n 's/^pyedge-cpython-tests-used: //p' | sort -u)
mapfile -t listed < <(grep -v '^\s*#' "$app/skips.txt" | awk 'NF {print $1}' | sort -u)
unused=()
for p in "${listed[@]}"; do
    printf '%s\n' "${used[@]}" | grep -qxF -- "$p" || unused+=("$p")
done
if ((${#unused[@]} > 0 && full_run)); then
    echo
    echo "skips.txt entries no test matched (stale? a full run uses every one):"
    printf '  %s\n' "${unused[@]}"
    problems+=("skips.txt: ${#unused[@]} entries matched no test")
fi

echo
echo "==> $((SECONDS - started)) s in all (logs: $out/logs)"
if ((${#problems[@]} > 0)); then
    echo "FAILED:"
    printf '  %s\n' "${problems[@]}"
    for pr in "${problems[@]}"; do
        read -r pass m _ <<< "$pr"
        m="${m%:}"
        log="$out/logs/$pass/$m.log"
        [ -f "$log" ] || continue
        echo "---- $log (failures and errors)"
        grep -a "^FAIL:\|^ERROR:\|^UNEXPECTED SUCCESS\|wasm trap\|^module skipped" "$log" | head -20 || true
    done
    exit 1
fi
echo "ok: no unexpected failure, error, skip, trap or timeout"
