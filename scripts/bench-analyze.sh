#!/bin/bash
# Benchmark (not a test): parse + correlate speed of tcptrail-analyze on a
# large generated capture, against `cat FILE > /dev/null` from the page
# cache in the same run, and peak memory against the capture's size.
# Usage: scripts/bench-analyze.sh [EVENTS] [RUNS]   (default 10000000 5)
# For a raw and a zstd capture it prints, all measured in this run (median
# of RUNS): `scan` events/s on one core (wall clock, and per CPU-second as
# scan reports it: on a shared machine the wall clock counts waiting) and
# its ratio to the 10M events/s target; cat's speed, what 0.3x cat means in events/s for this capture and
# the measured ratio to cat; the reader alone and (zstd) the decompression
# alone, which bound what any analysis of the file can reach. Then the
# peak RSS of each command on a capture of EVENTS/10 and of EVENTS events
# (RSS=0 skips this part). ANA=path/to/tcptrail-analyze measures another build, e.g. an
# older one for a before/after in the same conditions.
set -eu
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
RUNS=${2:-5}
ANA=${ANA:-build/tcptrail-analyze}
[ -x "$ANA" ] && [ -f build/libtrail.a ] || { echo "build first: make analyze" >&2; exit 1; }
W=$(mktemp -d /tmp/tt-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -Iformat -o "$W/gen" scripts/bench-gen.c build/libtrail.a -lzstd

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
now() { date +%s.%N; }

# seconds of one `cat FILE > /dev/null`: K in a row, so that a small file's
# time is not the cost of starting cat
cat_time() {
	local f=$1 k=1 t0 t1 s
	while :; do
		t0=$(now)
		for ((j = 0; j < k; j++)); do cat "$f" >/dev/null; done
		t1=$(now)
		s=$(echo "$t1 - $t0" | bc -l)
		if [ "$(echo "$s >= 0.2 || $k >= 4096" | bc)" = 1 ]; then
			echo "$s / $k" | bc -l
			return
		fi
		k=$((k * 4))
	done
}

# median of RUNS values of the "seconds" line a command prints
med_seconds() {
	for i in $(seq "$RUNS"); do "$@" | awk '$1 == "seconds" {print $2}'; done | median
}

bench() {
	local kind=$1 f=$W/$1.trail i cat_s ana_s cpu_s read_s inf_s size events recs
	echo "== $kind capture"
	if [ "$kind" = raw ]; then "$W/gen" --raw "$EVENTS" "$f"; else "$W/gen" "$EVENTS" "$f"; fi
	size=$(stat -c %s "$f")
	cat "$f" >/dev/null; cat "$f" >/dev/null	# into the page cache
	for i in $(seq "$RUNS"); do cat_time "$f"; done | median >"$W/cat"
	for i in $(seq "$RUNS"); do
		t0=$(now); "$ANA" scan "$f" >"$W/out"; t1=$(now)
		echo "$t1 - $t0" | bc -l
		awk '$1 == "cpu_seconds" {print $2}' "$W/out" >>"$W/cpu.$kind"
	done | median >"$W/ana"
	cpu_s=$(median <"$W/cpu.$kind")
	read_s=$(med_seconds "$W/gen" --read "$f")
	inf_s=0
	[ "$kind" = zstd ] && inf_s=$(med_seconds "$W/gen" --inflate "$f")
	cat_s=$(cat "$W/cat"); ana_s=$(cat "$W/ana")
	events=$(awk '$1 == "timed" {print $2}' "$W/out")
	recs=$(awk '$1 == "records" {print $2}' "$W/out")
	awk -v size="$size" -v ev="$events" -v c="$cat_s" -v a="$ana_s" -v recs="$recs" \
	    -v rd="$read_s" -v inf="$inf_s" -v cpu="${cpu_s:-0}" 'BEGIN {
		need = 0.3 * size / c / (size / ev)	# events/s at 0.3x cat
		printf "  file          %.1f MB, %d timed events (%.2f bytes/event), %d records\n", size / 1e6, ev, size / ev, recs
		printf "  cat           %.4f s (%.0f MB/s from the page cache)\n", c, size / 1e6 / c
		printf "  analyze scan  %.3f s, %.2f M events/s on one core (%.0f ns/event)\n", a, ev / a / 1e6, a / ev * 1e9
		if (cpu > 0)
			printf "                %.3f s of CPU, %.2f M events per CPU-second (the wall time also counts waiting for a core)\n", cpu, ev / cpu / 1e6
		printf "  ratio to the 10M events/s target: %.2fx (wall)", ev / a / 1e7
		if (cpu > 0)
			printf ", %.2fx (CPU time)", ev / cpu / 1e7
		printf "\n"
		printf "  0.3x cat means %.1f M events/s here (%.1f ns/event, %.0f MB/s of capture)\n", need / 1e6, 1e9 / need, 0.3 * size / 1e6 / c
		printf "  ratio to cat speed (target >= 0.3): %.3fx\n", c / a
		printf "  reader alone  %.3f s, %.2f M events/s (CRC, %sdecode; no correlation): %.3fx cat\n", rd, ev / rd / 1e6, (inf > 0 ? "zstd, " : ""), c / rd
		if (inf > 0)
			printf "  zstd alone    %.3f s, %.1f M events/s: no reader of this file can pass %.3fx cat\n", inf, ev / inf / 1e6, c / inf
	}'
}

rss_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

# Peak RSS per command, a capture 10x smaller against this one.
rss() {
	local small=$((EVENTS / 10)) a b
	echo "== peak RSS, $small vs $EVENTS events (raw capture; output to /dev/null)"
	"$W/gen" --raw "$small" "$W/small.trail"
	[ -f "$W/raw.trail" ] || "$W/gen" --raw "$EVENTS" "$W/raw.trail"
	for cmd in scan summary connections anomalies "diagram --conn 1" \
		   "report -o /dev/null"; do
		# shellcheck disable=SC2086
		a=$(rss_kb "$ANA" $cmd "$W/small.trail")
		# shellcheck disable=SC2086
		b=$(rss_kb "$ANA" $cmd "$W/raw.trail")
		awk -v c="$cmd" -v a="$a" -v b="$b" 'BEGIN {
			printf "  %-18s %8.1f MB  %8.1f MB   ratio %.2f\n", c, a / 1024, b / 1024, b / a }'
	done
}

command -v bc >/dev/null || { echo "needs bc" >&2; exit 1; }
echo "tcptrail-analyze benchmark: $EVENTS events, median of $RUNS runs, $(nproc) cores, $(uname -r)"
bench raw
bench zstd
[ "${RSS:-1}" = 0 ] || rss
