#!/usr/bin/env bash
# Soak (issue 19, part 5): `pyedge serve` under bounded loopback load for SOAK_SECONDS
# (default 600) from SOAK_CONNECTIONS connections (default 6), a mix of good requests,
# 100 kB echoes, handler exceptions, traps, oversized bodies and requests past the
# deadline (bench/apps/soak, driven by bench/soak_driver.py). Fails when a request does
# not get its expected answer (a good one not byte-exact) or when the server's memory is
# not flat: RSS of the last minute more than 10% (and 16 MB) above the peak of the first
# two minutes (slots of the instance pool fill during the first minute).
#
#   bash bench/soak.sh            (PYEDGE=path/to/pyedge; a release build is closer to prod)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${SOAK_SECONDS:-600}"
CONNECTIONS="${SOAK_CONNECTIONS:-6}"
PYEDGE="${PYEDGE:-$PWD/target/debug/pyedge}"
[[ -x $PYEDGE ]] || cargo build -q
OUT=target/bench-soak
rm -rf "$OUT" && mkdir -p "$OUT"
"$PYEDGE" build bench/apps/soak -o "$OUT/soak.wasm" > /dev/null

port=18961
"$PYEDGE" serve "$OUT/soak.wasm" --addr "127.0.0.1:$port" --timeout 2s \
    --max-body-size 256KB --max-concurrency 16 2> "$OUT/serve.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    curl -s -o /dev/null "http://127.0.0.1:$port/good" && break
    sleep 0.1
done
echo "==> soak: $SECONDS_TOTAL s, $CONNECTIONS connections, $("$PYEDGE" --version)"
python3 bench/soak_driver.py "$port" "$server" "$SECONDS_TOTAL" "$CONNECTIONS" "$OUT/report.json"
kill -INT "$server"
wait "$server" || true
trap - EXIT

python3 - "$OUT/report.json" "$OUT/serve.log" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
counts, lost, rss = report["counts"], report["lost"], report["rss_kb"]
total = sum(done for done, _ in counts.values())
print(f"{'kind':<10} {'requests':>9} {'wrong':>6}")
for kind in ["good", "echo", "raise", "abort", "oversized", "slow"]:
    done, failed = counts.get(kind, (0, 0))
    print(f"{kind:<10} {done:>9} {failed:>6}")
print(f"{'all':<10} {total:>9} {sum(f for _, f in counts.values()):>6}   "
      f"in {report['seconds']} s ({total / max(report['seconds'], 1):.0f}/s)")
early = [kb for t, kb in rss if 0 < t <= 120] or [rss[0][1]]
late = [kb for t, kb in rss if t >= report["seconds"] - 60] or [rss[-1][1]]
peak_early, mean_late = max(early), sum(late) / len(late)
print(f"RSS: start {rss[0][1] / 1024:.1f} MB, peak of the first 2 min {peak_early / 1024:.1f} MB, "
      f"max {max(kb for _, kb in rss) / 1024:.1f} MB, mean of the last minute "
      f"{mean_late / 1024:.1f} MB ({len(rss)} samples)")
print(f"traps logged: {log.count('the handler trapped')}, handler exceptions logged: "
      f"{log.count('RuntimeError: the soak')}")
problems = []
if lost:
    problems.append(f"{sum(f for _, f in counts.values())} requests without their expected answer, e.g. {lost[:5]}")
if mean_late > peak_early * 1.10 and mean_late - peak_early > 16 * 1024:
    problems.append(f"memory grew: {peak_early / 1024:.1f} MB -> {mean_late / 1024:.1f} MB")
if problems:
    print("SOAK FAILED: " + "; ".join(problems))
    sys.exit(1)
print("soak passed: every request got its expected answer, memory flat")
PY
