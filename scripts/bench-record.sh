#!/bin/bash
# Benchmark (not a test): what recording costs a connection storm.
#
# tcptrail-loadgen opens, uses and closes loopback connections as fast as it
# can for a bounded time. Each round runs it once per mode, in an order that
# rotates from round to round so drift and neighbours hit every mode alike:
#   off       nothing attached
#   record    tcptrail-record, all probes, binary writer
#   filtered  tcptrail-record -p on a port nobody uses: the cost of
#             traffic the in-kernel filter throws away
#   tcpstates Debian's reference /usr/sbin/tcpstates (libbpf-tools), output
#             to a file, as a same-run comparison
# and prints the median connection rate per mode, the ratios to "off" (the
# median of each round's ratio, which cancels slow drift such as other
# load on the machine, and the ratio of the medians), the
# events lost and bytes per event of the recordings, and PASS/FAIL for the
# targets: rate >= 0.97x unrecorded, 0 lost, <= 8 bytes per event.
# Also the CPU time per connection of the storm and of the tool recording
# it (user + system): on a busy machine the rate follows the neighbours,
# the CPU time much less.
# Last, with kernel.bpf_stats_enabled=1 for a moment (then restored), the
# kernel programs' mean cost per state change: recorded and filtered out.
#
#   scripts/bench-record.sh [-n ROUNDS] [-s SECONDS] [-P PARALLEL] [-k]
#     -n  rounds (default 7), -s seconds per run (default 3),
#     -P  loadgen client/server threads (default 1), -k keep the captures
set -u
cd "$(dirname "$0")/.."
B=$PWD/build
REC=$B/tcptrail-record LOADGEN=$B/tcptrail-loadgen TCPSTATES=/usr/sbin/tcpstates
ROUNDS=7 SECS=3 PAR=1 KEEP=0
UNUSED_PORT=9	# discard: nothing listens on it here

while getopts "n:s:P:kh" c; do
	case $c in
	n) ROUNDS=$OPTARG ;;
	s) SECS=$OPTARG ;;
	P) PAR=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 100 ]] || { echo "bench: -n wants 1..100" >&2; exit 2; }
[[ $SECS =~ ^[0-9]+$ && $SECS -ge 1 && $SECS -le 60 ]] || { echo "bench: -s wants 1..60" >&2; exit 2; }
[[ $PAR =~ ^[0-9]+$ && $PAR -ge 1 && $PAR -le 64 ]] || { echo "bench: -P wants 1..64" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
for x in "$REC" "$LOADGEN"; do
	[ -x "$x" ] || { echo "bench: $x not built (make)" >&2; exit 1; }
done
HAVE_TCPSTATES=1
[ -x "$TCPSTATES" ] || { HAVE_TCPSTATES=0; echo "bench: $TCPSTATES missing (apt install libbpf-tools): no reference" >&2; }
ss -Htln "sport = :$UNUSED_PORT" | grep -q . && { echo "bench: port $UNUSED_PORT is in use" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tcptrail-bench.XXXXXX)
BG=
STATS_WAS=
cleanup() {
	[ -n "$BG" ] && kill -INT "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
	[ -n "$STATS_WAS" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	[ "$KEEP" = 1 ] && echo "captures kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE PATTERN: until a background tool says it is attached (10 s)
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$BG" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_prog N: until more than N programs named handle_set_state (tcpstates')
# are loaded, then a moment for the attach (10 s)
wait_prog() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(bpftool prog show name handle_set_state 2>/dev/null | grep -c '^[0-9]')" -gt "$1" ] &&
			{ sleep 0.3; return 0; }
		kill -0 "$BG" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# cpu_ticks PID: user + system clock ticks of a process so far
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# loadgen_rate: run the storm, print connections per second; its CPU time
# (user + system, s) and connection count go to lg.cpu
loadgen_rate() {
	local t
	t=$( { TIMEFORMAT='%3U %3S'; time "$LOADGEN" --conns 10000000 --duration "$SECS" \
		--parallel "$PAR" >"$WORK/lg.out" 2>&1; } 2>&1 ) ||
		{ cat "$WORK/lg.out" >&2; echo "bench: loadgen failed" >&2; exit 1; }
	sed -n 's/^loadgen: \([0-9]*\) connections in \([0-9.]*\) s.*/\1 \2/p' "$WORK/lg.out" |
		awk -v t="$t" '{ split(t, c, " "); print c[1] + c[2], $1 >"'"$WORK/lg.cpu"'"
			printf "%.0f\n", $1 / $2 }'
}

# tool_cpu MODE TICKS0: append "loadgen_us tool_us" per connection to
# MODE.cpu, the tool's CPU counted from TICKS0 (a moment for its last reads)
tool_cpu() {
	local t1=0
	[ -n "$BG" ] && { sleep 0.2; t1=$(cpu_ticks "$BG"); }
	awk -v t0="$2" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '{
		printf "%.2f %.2f\n", $1 * 1e6 / $2, (t1 > t0 ? t1 - t0 : 0) * 1e6 / hz / $2 }' \
		"$WORK/lg.cpu" >>"$WORK/$1.cpu"
}

# run_mode MODE ROUND: one run; appends "rate [events lost bytes]" to MODE.dat
run_mode() {
	local mode=$1 r=$2 rate line ev lost bytes t0
	case $mode in
	off)
		rate=$(loadgen_rate)
		tool_cpu off 0
		echo "$rate" >>"$WORK/off.dat" ;;
	record|filtered)
		local extra=()
		[ "$mode" = filtered ] && extra=(-p "$UNUSED_PORT")
		"$REC" -w "$WORK/$mode.$r.trail" "${extra[@]}" 2>"$WORK/$mode.err" &
		BG=$!
		wait_for "$WORK/$mode.err" "recording to" ||
			{ cat "$WORK/$mode.err" >&2; echo "bench: recorder did not start" >&2; exit 1; }
		t0=$(cpu_ticks "$BG")
		rate=$(loadgen_rate)
		tool_cpu "$mode" "$t0"
		kill -INT "$BG"; wait "$BG"; BG=
		line=$(grep -E '^tcptrail-record: [0-9]+ events' "$WORK/$mode.err")
		[ -n "$line" ] || { cat "$WORK/$mode.err" >&2; echo "bench: no recorder summary" >&2; exit 1; }
		ev=$(sed -n 's/^tcptrail-record: \([0-9]*\) events, \([0-9]*\) lost.*, \([0-9]*\) bytes written.*/\1/p' <<<"$line")
		lost=$(sed -n 's/^tcptrail-record: \([0-9]*\) events, \([0-9]*\) lost.*/\2/p' <<<"$line")
		bytes=$(sed -n 's/.*, \([0-9]*\) bytes written.*/\1/p' <<<"$line")
		echo "$rate $ev $lost $bytes" >>"$WORK/$mode.dat"
		[ "$KEEP" = 1 ] || rm -f "$WORK/$mode.$r.trail" ;;
	tcpstates)
		local before
		before=$(bpftool prog show name handle_set_state 2>/dev/null | grep -c '^[0-9]')
		"$TCPSTATES" >"$WORK/tcpstates.out" 2>"$WORK/tcpstates.err" &
		BG=$!
		# its header sits in a stdio buffer: wait for its program instead
		wait_prog "$before" ||
			{ cat "$WORK/tcpstates.err" >&2; echo "bench: tcpstates did not start" >&2; exit 1; }
		t0=$(cpu_ticks "$BG")
		rate=$(loadgen_rate)
		tool_cpu tcpstates "$t0"
		kill -INT "$BG"; wait "$BG"; BG=
		echo "$rate $(wc -l <"$WORK/tcpstates.out")" >>"$WORK/tcpstates.dat" ;;
	esac
	printf '  round %d %-9s %8s conn/s\n' "$r" "$mode" "$rate"
}

modes=(off record filtered)
[ "$HAVE_TCPSTATES" = 1 ] && modes+=(tcpstates)
n=${#modes[@]}
echo "tcptrail recorder benchmark: $ROUNDS rounds of ${SECS}s, loadgen --parallel $PAR, $(nproc) CPUs, $(uname -r)"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < n; i++)); do
		run_mode "${modes[$(((i + r) % n))]}" "$r"
	done
done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$2"; }
median_f() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

off=$(col 1 "$WORK/off.dat" | median)
rec=$(col 1 "$WORK/record.dat" | median)
filt=$(col 1 "$WORK/filtered.dat" | median)
lost=$(awk '{ s += $3 } END { print s + 0 }' "$WORK/record.dat")
events=$(col 2 "$WORK/record.dat" | median)
bpe=$(awk '$2 > 0 { print $4 / $2 }' "$WORK/record.dat" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
fev=$(awk '{ s += $2 } END { print s + 0 }' "$WORK/filtered.dat")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# paired MODE: median over rounds of MODE's rate / that round's "off" rate
paired() {
	paste "$WORK/$1.dat" "$WORK/off.dat" | awk '{ printf "%.4f\n", $1 / $NF }' |
		sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) r = a[(NR + 1) / 2]; else r = (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", r }'
}
verdict() { [ "$1" = 1 ] && echo PASS || echo FAIL; }

echo
echo "median connection rate (conn/s) over $ROUNDS rounds; ratio to unrecorded: per round (median), of the medians:"
printf '  %-28s %8d\n' "unrecorded" "$off"
printf '  %-28s %8d  ratio %s  %s\n' "tcptrail-record" "$rec" "$(paired record)" "$(ratio "$rec" "$off")"
printf '  %-28s %8d  ratio %s  %s  (%d events recorded in all)\n' "tcptrail-record -p $UNUSED_PORT" \
	"$filt" "$(paired filtered)" "$(ratio "$filt" "$off")" "$fev"
if [ "$HAVE_TCPSTATES" = 1 ]; then
	ts=$(col 1 "$WORK/tcpstates.dat" | median)
	printf '  %-28s %8d  ratio %s  %s\n' "tcpstates (libbpf-tools)" "$ts" "$(paired tcpstates)" \
		"$(ratio "$ts" "$off")"
fi
echo "recordings: median $events events per run, $lost lost in all, median $(printf '%.2f' "$bpe") bytes per event"
echo
echo "CPU time per connection (user + system, us), median over rounds; ratio: unrecorded"
echo "storm's / storm's + tool's, per round (median):"
for mode in "${modes[@]}"; do
	paste "$WORK/$mode.cpu" "$WORK/off.cpu" | awk '{ print $1, $2, $3 / ($1 + $2) }' >"$WORK/$mode.cpur"
	printf '  %-28s storm %6.2f  tool %6.2f' "$mode" "$(col 1 "$WORK/$mode.cpur" | median_f)" \
		"$(col 2 "$WORK/$mode.cpur" | median_f)"
	[ "$mode" = off ] && echo || printf '  ratio %.3f\n' "$(col 3 "$WORK/$mode.cpur" | median_f)"
done
echo
pr=$(paired record)
ok_rate=$(awk -v r="$pr" 'BEGIN { print (r >= 0.97) ? 1 : 0 }')
ok_lost=$([ "$lost" = 0 ] && echo 1 || echo 0)
ok_bpe=$(awk -v x="$bpe" 'BEGIN { print (x <= 8) ? 1 : 0 }')
printf '%s  rate >= 0.97x unrecorded  (%s per round)\n' "$(verdict "$ok_rate")" "$pr"
printf '%s  0 events lost             (%s)\n' "$(verdict "$ok_lost")" "$lost"
printf '%s  <= 8 bytes per event      (%.2f)\n' "$(verdict "$ok_bpe")" "$bpe"

# the kernel side's own cost, from the kernel's BPF run-time statistics
if STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) &&
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null; then
	echo
	echo "kernel programs, mean cost per run (kernel.bpf_stats_enabled, $((SECS)) s storm):"
	for mode in record filtered; do
		extra=()
		[ "$mode" = filtered ] && extra=(-p "$UNUSED_PORT")
		"$REC" -w "$WORK/stats.trail" "${extra[@]}" -- "$LOADGEN" -q --conns 10000000 \
			--duration "$SECS" --parallel "$PAR" 2>"$WORK/stats.err" ||
			{ cat "$WORK/stats.err" >&2; echo "bench: stats run failed" >&2; exit 1; }
		line=$(sed -n 's/^tcptrail-record: kernel programs ran \([0-9]*\) times, \([0-9]*\) ns each.*/\1 runs, \2 ns/p' \
			"$WORK/stats.err")
		printf '  %-28s %s\n' "$([ "$mode" = record ] && echo "recorded" || echo "filtered out (-p $UNUSED_PORT)")" \
			"${line:-no statistics}"
	done
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	STATS_WAS=
	echo "  (the statistics themselves add two clock reads per run)"
	rm -f "$WORK/stats.trail"
fi
