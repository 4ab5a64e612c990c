#!/usr/bin/env bash
# Build the cargo-fuzz targets of fuzz/ and run each for a bounded time, starting from the
# committed seeds (fuzz/corpus/<target>/) plus the corpus earlier runs grew, and print per
# target the inputs tried, the corpus size and the crashes (panics, sanitizer reports,
# inputs over 10 s or 2 GB count as crashes). Exits non-zero on any crash;
# the input that crashed is kept under target/fuzz/artifacts/<target>/ (reproduce with
# `target/fuzz/<triple>/release/<target> <file>`, then make it a regression test).
#
#   PYEDGE_FUZZ_SECONDS   seconds per target (default 30)
#   PYEDGE_FUZZ_TARGETS   space-separated targets (default: all of `cargo fuzz list`)
#   PYEDGE_FUZZ_SANITIZER address (default) or none (faster; switching rebuilds)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

seconds="${PYEDGE_FUZZ_SECONDS:-30}"
sanitizer="${PYEDGE_FUZZ_SANITIZER:-address}"
out="$PWD/target/fuzz"
cargo_fuzz="$(ensure_cargo_fuzz)"
# cargo-fuzz passes -Z flags to rustc (sanitizers, coverage passes); the machine has the
# stable toolchain only, which accepts them with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1

targets="${PYEDGE_FUZZ_TARGETS:-$("$cargo_fuzz" list --fuzz-dir fuzz)}"
start=$(date +%s)
build() {
    "$cargo_fuzz" build --fuzz-dir fuzz --target-dir "$out" --sanitizer "$sanitizer" \
        --debug-assertions "$@"
}
if [ -n "${PYEDGE_FUZZ_TARGETS:-}" ]; then
    for target in $targets; do build "$target"; done
else
    build # all targets, in one cargo run
fi
echo "fuzz build: $(( $(date +%s) - start ))s (sanitizer: $sanitizer, debug assertions on)"
bin_dir="$out/$(rustc -vV | sed -n 's/^host: //p')/release"

failed=0
printf '%-18s %12s %9s %8s %8s\n' target "inputs tried" "per sec" corpus crashes
for target in $targets; do
    corpus="$out/corpus/$target"
    artifacts="$out/artifacts/$target"
    log="$out/logs/$target.log"
    marker="$out/logs/$target.start"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    touch "$marker"
    # New inputs go to the working corpus (first directory), never into the committed seeds.
    set +e
    "$bin_dir/$target" "$corpus" "fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" > "$log" 2>&1
    status=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    size=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    found=$(find "$artifacts" -type f -newer "$marker")
    crashes=$(printf '%s' "$found" | grep -c . || true)
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
    printf '%-18s %12s %9s %8s %8s\n' "$target" "${execs:-?}" "${rate:-?}" "${size:-?}" "$crashes"
    if [ "$crashes" -ne 0 ]; then
        failed=1
        echo "--- $target: exit $status; crashing inputs: ${found:-none written}"
        grep -m1 -A1 -E "panicked at|ERROR: (AddressSanitizer|libFuzzer)" "$log" || true
        echo "--- the end of $log:"
        tail -40 "$log"
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: crashes found (inputs under $out/artifacts/)" >&2
    exit 1
fi
echo "fuzz: $(echo $targets | wc -w) targets, ${seconds}s each, no crashes"
