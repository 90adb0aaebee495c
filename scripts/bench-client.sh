#!/usr/bin/env bash
# The client benchmark for BENCHMARKS.md: GeminiKit (`onbrand-benchmarks client`) against Google's
# official google-genai Python SDK (scripts/bench-sdk.py), the same image calls against the same
# emulator (its own process, no latency), each client writing every image to disk.
#
#   scripts/bench-client.sh          COUNT calls (1000), CONCURRENCY in flight (64), SIZE (1K) 1:1,
#                                    both clients: images/s, MB/s, peak RSS and the ratio of images/s
#   scripts/bench-client.sh rss4k    GeminiKit only, 64 calls of 4K at 64 in flight: peak RSS
#
# Needs python3 with venv and network access to PyPI (google-genai goes into a throwaway venv).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-compare}
case "$mode" in
    compare) count=${COUNT:-1000}; concurrency=${CONCURRENCY:-64}; size=${SIZE:-1K} ;;
    rss4k) count=64; concurrency=64; size=4K ;;
    *) echo "usage: $0 [compare|rss4k]" >&2; exit 2 ;;
esac
work=$(mktemp -d)
emulator_pid=""
trap '[ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
[ -z "${SKIP_BUILD:-}" ] && swift build -c release --product onbrand >&2
[ -z "${SKIP_BUILD:-}" ] && swift build -c release --product onbrand-benchmarks >&2
bin=.build/release

"$bin/onbrand" emulator --port 0 --latency 0 --image-grain "${GRAIN:-6}" 2> "$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/emulator.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/emulator.log")

if [ "$mode" = compare ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check google-genai >&2
fi

# measure NAME COMMAND…: runs the command under /usr/bin/time; its JSON line goes to $work/NAME.json,
# its stderr and the "seconds peak-KB" line to $work/NAME.time. Stops the benchmark if it fails.
measure() {
    local name=$1; shift
    if ! /usr/bin/time -f "%e %M" "$@" > "$work/$name.json" 2> "$work/$name.time"; then
        echo "$name failed:" >&2
        cat "$work/$name.json" "$work/$name.time" >&2
        exit 1
    fi
}

# Each client runs ROUNDS times (3), alternating, from a flushed page cache (`sync` and the previous
# images deleted), so that one client's writeback does not slow the other; the median round counts.
rounds=${ROUNDS:-3}
[ "$mode" = rss4k ] && rounds=1
for round in $(seq "$rounds"); do
    sync
    measure "geminikit-$round" "$bin/onbrand-benchmarks" client --base-url "$url" --count "$count" \
        --concurrency "$concurrency" --size "$size" --out "$work/geminikit"
    rm -rf "$work/geminikit"
    if [ "$mode" = compare ]; then
        sync
        measure "sdk-$round" "$work/venv/bin/python" scripts/bench-sdk.py --base-url "$url" --count "$count" \
            --concurrency "$concurrency" --size "$size" --out "$work/sdk"
        rm -rf "$work/sdk"
    fi
done

python3 - "$work" "$mode" "$size" "$rounds" <<'PY'
import json, os, statistics, sys
work, mode, size, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def load(name):
    runs = []
    for r in range(1, rounds + 1):
        line = [l for l in open(os.path.join(work, f"{name}-{r}.json")) if l.strip()][-1]
        seconds, kb = open(os.path.join(work, f"{name}-{r}.time")).read().splitlines()[-1].split()
        print(line.strip())
        runs.append((json.loads(line), float(seconds), int(kb)))
    runs.sort(key=lambda run: run[0]["images_per_s"])
    return runs[len(runs) // 2]
kit, kit_wall, kit_kb = load("geminikit")
if mode == "rss4k":
    print(f"GeminiKit {kit['count']} x {size} at {kit['concurrency']} in flight: wall={kit_wall:.1f}s "
          f"peakRSS={kit_kb/1024:.0f}MB (/usr/bin/time)")
else:
    sdk, sdk_wall, sdk_kb = load("sdk")
    print(f"median of {rounds}: wall GeminiKit={kit_wall:.1f}s SDK={sdk_wall:.1f}s; "
          f"peakRSS (/usr/bin/time) GeminiKit={kit_kb/1024:.0f}MB SDK={sdk_kb/1024:.0f}MB")
    print(f"images/s GeminiKit/SDK = {kit['images_per_s']:.1f}/{sdk['images_per_s']:.1f} = "
          f"{kit['images_per_s']/sdk['images_per_s']:.2f}x; MB/s {kit['mb_per_s']:.0f}/{sdk['mb_per_s']:.0f}")
PY
