#!/usr/bin/env bash
# Run components built by pyedge under the upstream Wasmtime CLI (a host we did not
# write) and check what they print and how they exit. Also checks that two builds of
# one app in different directories are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

wasmtime="$(ensure_wasmtime_cli)"
"$wasmtime" --version
pyedge=./target/debug/pyedge
[ -x "$pyedge" ] || cargo build
out=target/host-checks
rm -rf "$out" && mkdir -p "$out"
failures=0

check() { # name, expected, actual
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1"; echo "     expected: $2"; echo "     actual:   $3"
        failures=$((failures + 1))
    fi
}

for app in hello exit-code lazy-import random env script crash; do
    "$pyedge" build "fixtures/apps/$app" -o "$out/$app.wasm" > /dev/null
done

check "hello argv" "Hello, Ada!" "$("$wasmtime" run "$out/hello.wasm" Ada 2>/dev/null)"
set +e
"$wasmtime" run "$out/exit-code.wasm" 7 > /dev/null 2>&1; code=$?
"$wasmtime" run "$out/crash.wasm" > /dev/null 2> "$out/crash.stderr"; crash=$?
set -e
check "sys.exit(7) reaches the host as failure" 1 "$code"
check "uncaught exception exits 1" 1 "$crash"
check "traceback on stderr" "ZeroDivisionError: division by zero" "$(tail -1 "$out/crash.stderr")"
check "lazy stdlib import" '"decimal": "0.3"' "$("$wasmtime" run "$out/lazy-import.wasm" | grep -o '"decimal": "0.3"')"
check "env at run time" "GREETING=hola" "$("$wasmtime" run --env GREETING=hola "$out/env.wasm" | head -1)"
a="$("$wasmtime" run "$out/random.wasm")"; b="$("$wasmtime" run "$out/random.wasm")"
check "random differs across runs" "different" "$([ "$a" != "$b" ] && echo different || echo "same: $a")"
check "script body at run time" 'script body ran with ["x"]' "$("$wasmtime" run "$out/script.wasm" x | head -1)"

mkdir -p "$out/elsewhere" && cp -r fixtures/apps/hello "$out/elsewhere/app-copy"
"$pyedge" build "$out/elsewhere/app-copy" -o "$out/elsewhere/hello.wasm" > /dev/null
check "reproducible build" "$(sha256sum < "$out/hello.wasm")" "$(sha256sum < "$out/elsewhere/hello.wasm")"

if [ "$failures" -ne 0 ]; then
    echo "$failures host check(s) failed"; exit 1
fi
echo "all host checks passed"
