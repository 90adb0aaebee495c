#!/usr/bin/env bash
# Instructions (and simulated cache misses) spent planning and encoding units, counted by
# valgrind's callgrind: the same count on every run, whatever the machine's speed is doing,
# so two builds can be compared without interleaving dozens of timed runs.
#
#   scripts/count-plan-instructions.sh [BINARY]   (default: the release onbrand-benchmarks)
#
# Runs `onbrand-benchmarks plan-stages` (20,000 units warmed up, 20,000 counted) twice: once
# counting inside `Planner.plan`, once inside `PlanWriter.encode`. Needs valgrind
# (apt-get install valgrind); valgrind 3.19 cannot read Swift's DWARF 5, so the binary is
# counted from a copy without debug information. About four minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 1; }
binary=${1:-}
if [ -z "$binary" ]; then
  swift build -c release --product onbrand-benchmarks >&2
  binary=.build/release/onbrand-benchmarks
fi
feed=${TMPDIR:-/tmp}/onbrand-bench-feed-100000.xml
[ -f "$feed" ] || python3 ../shared/tools/gen-merchant-feed.py 100000 --locale-mix > "$feed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
strip --strip-debug -o "$work/bench" "$binary"
# Planner.plan runs for 40,000 units (the warm-up too), PlanWriter.encode for the 20,000 timed.
for stage in 'Planner.plan:40000:*PlannerC4plan_7product*' 'PlanWriter.encode:20000:*PlanWriterC6encode*'; do
  name=${stage%%:*}; rest=${stage#*:}; units=${rest%%:*}; pattern=${rest#*:}
  valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no --toggle-collect="$pattern" \
    --callgrind-out-file="$work/out" "$work/bench" plan-stages "$feed" brands/northwind templates/catalog-packshot.xml \
    > "$work/log" 2>&1
  instructions=$(sed -n 's/.*I *refs: *//p' "$work/log" | tr -d ,)
  d1=$(sed -n 's/.*D1  misses: *\([0-9,]*\).*/\1/p' "$work/log" | tr -d ,)
  echo "{\"stage\":\"$name\",\"units\":$units,\"instructions\":$instructions,\"instructionsPerUnit\":$((instructions / units)),\"d1Misses\":$d1}"
done
