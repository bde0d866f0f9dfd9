#!/bin/bash
# Benchmark (not a test): parse + correlate speed of tcptrail-analyze on a
# large generated capture, against `cat FILE > /dev/null` from the page
# cache in the same run, and peak memory against the capture's size.
# Usage: scripts/bench-analyze.sh [EVENTS] [RUNS]   (default 10000000 5)
# Prints events/s per core (single-threaded), the ratio to the target of
# 10M events/s, the ratio to cat's speed (target >= 0.3) for a raw and a
# zstd capture, and the analyzer's peak RSS.
set -eu
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
RUNS=${2:-5}
ANA=build/tcptrail-analyze
[ -x "$ANA" ] && [ -f build/libtrail.a ] || { echo "build first: make analyze" >&2; exit 1; }
W=$(mktemp -d /tmp/tt-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -Iformat -o "$W/gen" scripts/bench-gen.c build/libtrail.a -lzstd

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
now() { date +%s.%N; }

bench() {
	local kind=$1 f=$W/$1.trail t0 t1 i cat_s ana_s out size events rss
	echo "== $kind capture"
	if [ "$kind" = raw ]; then "$W/gen" --raw "$EVENTS" "$f"; else "$W/gen" "$EVENTS" "$f"; fi
	size=$(stat -c %s "$f")
	cat "$f" >/dev/null; cat "$f" >/dev/null	# into the page cache
	for i in $(seq "$RUNS"); do
		t0=$(now); cat "$f" >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l
	done | median >"$W/cat"
	for i in $(seq "$RUNS"); do
		t0=$(now); "$ANA" scan "$f" >"$W/out"; t1=$(now)
		echo "$t1 - $t0" | bc -l
	done | median >"$W/ana"
	cat_s=$(cat "$W/cat"); ana_s=$(cat "$W/ana")
	events=$(awk '$1 == "timed" {print $2}' "$W/out")
	recs=$(awk '$1 == "records" {print $2}' "$W/out")
	rss=$(awk '$1 == "peak_rss_kb" {print $2}' "$W/out")
	heap=$(awk '$1 == "heap_kb" {print $2}' "$W/out")
	awk -v size="$size" -v ev="$events" -v c="$cat_s" -v a="$ana_s" -v rss="$rss" -v heap="$heap" -v recs="$recs" 'BEGIN {
		printf "  file          %.1f MB, %d timed events (%.1f bytes/event)\n", size / 1e6, ev, size / ev
		printf "  cat           %.3f s (%.0f MB/s)\n", c, size / 1e6 / c
		printf "  analyze scan  %.3f s (%.0f MB/s), %.2f M events/s on one core\n", a, size / 1e6 / a, ev / a / 1e6
		printf "                (%.2f M records/s counting sockets, links, retires: %d records)\n", recs / a / 1e6, recs
		printf "  ratio to the 10M events/s target: %.2fx\n", ev / a / 1e7
		printf "  ratio to cat speed (target >= 0.3): %.3fx\n", c / a
		printf "  peak RSS      %.1f MB (capture %.1f MB, mapped by the reader: its pages count)\n", rss / 1024, size / 1e6
		printf "  heap          %.1f MB at the end of correlation (open connections only)\n", heap / 1024
	}'
}

echo "tcptrail-analyze benchmark: $EVENTS events, median of $RUNS runs, $(nproc) cores, $(uname -r)"
bench raw
bench zstd
