#!/usr/bin/env bash
# The run benchmark for BENCHMARKS.md: `onbrand run` against the emulator (its own process) on a
# generated catalog, one template, one locale.
#
#   scripts/bench-run.sh latency    3,000 units, 20 s per call, --concurrency 200 --rpm 600 (about 5.5 minutes)
#   scripts/bench-run.sh zero       3,000 units, no latency: units/s and peak RSS
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-zero}
units=${UNITS:-3000}
work=$(mktemp -d)
trap 'kill $emulator_pid 2>/dev/null || true; rm -rf "$work"' EXIT
python3 ../shared/tools/gen-merchant-feed.py "$units" > "$work/feed.xml"
swift build -c release --product onbrand >&2
bin=.build/release/onbrand

if [ "$mode" = latency ]; then latency=20000; concurrency=200; rpm=600; else latency=0; concurrency=64; rpm=""; fi
"$bin" emulator --port 0 --latency "$latency" 2> "$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/emulator.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/emulator.log")

args=(run brands/northwind --catalog "$work/feed.xml" --template templates/catalog-packshot.xml --locale en-US
      --out "$work/out" --backend gemini --base-url "$url" --concurrency "$concurrency" --json)
[ -n "$rpm" ] && args+=(--rpm "$rpm")
GEMINI_API_KEY=bench /usr/bin/time -f "%e %M" "$bin" "${args[@]}" > "$work/summary.json" 2> "$work/time.log" || true
read -r seconds kb < <(tail -n 1 "$work/time.log")
python3 - "$work/summary.json" "$seconds" "$kb" "$mode" "$rpm" "$work/out/northwind" <<'PY'
import datetime, glob, json, sys
summary = json.load(open(sys.argv[1]))
wall, kb, mode, rpm = float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ok = summary["succeeded"]
print(f"units={summary['units']} succeeded={ok} failed={summary['failed']} wall={wall:.1f}s peakRSS={kb/1024:.0f}MB")
print(f"run seconds={summary['seconds']:.1f} units/s={ok/summary['seconds']:.1f} images/min={ok/summary['seconds']*60:.1f}")
if rpm:
    ceiling = float(rpm)
    overall = ok / summary["seconds"] * 60
    print(f"throughput {overall:.1f}/min = {overall/ceiling*100:.1f}% of the {rpm}/min ceiling (includes the last call's latency tail)")
    # Steady state: completions per minute from the first answer to the last, from the sidecars' timestamps.
    ends = sorted(datetime.datetime.fromisoformat(json.load(open(f))["finishedAt"].replace("Z", "+00:00"))
                  for f in glob.glob(sys.argv[6] + "/*/*.json"))
    if len(ends) > 1:
        window = (ends[-1] - ends[0]).total_seconds()
        steady = (len(ends) - 1) / window * 60 if window > 0 else 0
        print(f"steady state {steady:.1f}/min = {steady/ceiling*100:.1f}% of the ceiling (first to last answer, {window:.0f} s)")
PY
