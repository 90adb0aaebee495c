#!/usr/bin/env bash
# Catalog ingestion benchmark for BENCHMARKS.md: Onbrand against `xmllint --stream` and the lxml
# baseline, on the same generated feed, in the same run. Best of N runs each.
#
#   scripts/bench-ingest.sh [ITEMS] [RUNS]      (defaults: 100000 items, 3 runs)
#
# Needs ../shared/tools, xmllint (apt-get install libxml2-utils) and lxml (pip install lxml).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-100000}
runs=${2:-3}
tools=../shared/tools
feed=${TMPDIR:-/tmp}/onbrand-bench-feed-$items.xml

command -v xmllint >/dev/null || { echo "needs xmllint: apt-get install libxml2-utils" >&2; exit 1; }
python3 -c "import lxml" 2>/dev/null || { echo "needs lxml: pip install lxml" >&2; exit 1; }
[ -f "$feed" ] || python3 "$tools/gen-merchant-feed.py" "$items" --locale-mix > "$feed"
swift build -c release --product onbrand-benchmarks >&2
bytes=$(stat -c %s "$feed")

# best wall seconds and peak RSS (MB) over $runs runs of a command
measure() {
    local best="" rss=0
    for _ in $(seq "$runs"); do
        out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null; } 2>&1 | tail -n 1)
        secs=${out% *}; kb=${out#* }
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    echo "$best $((rss / 1024))"
}

read -r onbrand_s onbrand_mb < <(measure .build/release/onbrand-benchmarks ingest "$feed")
read -r xmllint_s xmllint_mb < <(measure xmllint --stream --noout "$feed")
read -r lxml_s lxml_mb < <(measure python3 "$tools/lxml-feed-baseline.py" "$feed")

echo "| tool | best of $runs | throughput | peak RSS |"
echo "| --- | --- | --- | --- |"
printf '| onbrand-benchmarks ingest (CatalogReader: every field mapped to Product) | %s s | %s | %s MB |\n' "$onbrand_s" \
    "$(awk "BEGIN{printf \"%.0f products/s, %.0f MB/s\", $items/$onbrand_s, $bytes/1e6/$onbrand_s}")" "$onbrand_mb"
printf '| xmllint --stream --noout (parse only) | %s s | %s | %s MB |\n' "$xmllint_s" \
    "$(awk "BEGIN{printf \"%.0f MB/s\", $bytes/1e6/$xmllint_s}")" "$xmllint_mb"
printf '| lxml-feed-baseline.py (iterparse to dicts) | %s s | %s | %s MB |\n' "$lxml_s" \
    "$(awk "BEGIN{printf \"%.0f products/s\", $items/$lxml_s}")" "$lxml_mb"
awk "BEGIN{printf \"onbrand / xmllint = %.2fx (goal <= 1.3x); lxml / onbrand = %.2fx (goal >= 3x)\n\", $onbrand_s/$xmllint_s, $lxml_s/$onbrand_s}"
