# Helpers for the fault tests (tests/t_fault_*.sh). Source after lib.sh.
# They read captures through `tcptrail-analyze dump`: one line per record,
# KIND key=value ... (analyze/dump.c).
LOADGEN=$TT_BUILD/tcptrail-loadgen
PY=/usr/bin/python3

need_fault_tools() {
	need_bpf
	[ -x "$LOADGEN" ] || fail "loadgen not built: $LOADGEN"
	[ -x "$ANA" ] || fail "analyzer not built: $ANA"
}

# need_netns: skip without ip(8), python3 or network namespaces.
need_netns() {
	command -v ip >/dev/null || skip "no ip(8)"
	[ -x $PY ] || skip "no $PY"
	ip netns add ttf_probe$$ 2>/dev/null || skip "cannot create network namespaces"
	ip netns del ttf_probe$$
}

# fault_record TRAIL CMD...: record CMD's whole life into TRAIL and dump the
# capture into TRAIL.dump. CMD's output goes to TRAIL.out. The recorder sees
# the whole host: a big ring so that nothing is lost, and no stack budget so
# that other traffic cannot use up the stacks of ours.
fault_record() {
	local t=$1
	shift
	"$REC" -q --ring-size 64 --stacks-per-sec 1000000000 -w "$t" -- "$@" >"$t.out" 2>"$t.err" ||
		{ cat "$t.out" "$t.err"; fail "recording '$*' failed"; }
	"$ANA" dump "$t" >"$t.dump" 2>"$t.dump.err" || { cat "$t.dump.err"; fail "dump of $t failed"; }
	grep -q '^END ' "$t.dump" || fail "$t: capture has no END record"
	grep -Eq '^LOSS .* ringbuf=0 ' <(grep '^LOSS' "$t.dump" | tail -n 1) ||
		{ grep '^LOSS' "$t.dump"; fail "$t: events were lost"; }
}

# lines DUMP KIND ERE: records of KIND whose line matches ERE
lines() { grep -E "^$2 " "$1" | grep -E -- "$3"; }

# expect_n DUMP KIND ERE MIN [MAX] WHAT: MIN (to MAX) matching records
expect_n() {
	local d=$1 kind=$2 re=$3 min=$4 max n what
	if [ $# -ge 6 ]; then max=$5 what=$6; else max= what=$5; fi
	n=$(lines "$d" "$kind" "$re" | wc -l)
	if [ "$n" -lt "$min" ] || { [ -n "$max" ] && [ "$n" -gt "$max" ]; }; then
		echo "--- $kind records:"
		grep -E "^$kind " "$d" | head -n 40
		fail "$what: want ${min}${max:+..$max} $kind records matching /$re/, got $n"
	fi
}

# field LINE KEY: value of KEY=value in a dump line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# frames DUMP ID: the frames of STACK ID, one per line, innermost first
frames() {
	awk -v id="id=$2" '$1 == "STACK" && $2 == id { f = $0 } END { print f }' "$1" |
		sed 's/.* frames=//' | tr ';' '\n'
}

# expect_stack DUMP LINE WHAT FUNC...: LINE names a stack whose innermost
# frame is in the first FUNC and that passes through the others in order
# (FUNC: an ERE for a function name).
expect_stack() {
	local d=$1 line=$2 what=$3 id f
	shift 3
	id=$(field "$line" stack)
	[ -n "$id" ] && [ "$id" != 0 ] || { echo "$line"; fail "$what: the record has no stack"; }
	f=$(frames "$d" "$id")
	[ -n "$f" ] || fail "$what: stack $id is not defined in the capture"
	awk -v want="$*" 'BEGIN { n = split(want, re, " "); i = 1 }
		NR == 1 && $0 !~ ("^(" re[1] ")\\+0x") { exit 1 }
		i <= n && $0 ~ ("^(" re[i] ")\\+0x") { i++ }
		END { if (i <= n) exit 1 }' <<<"$f" ||
		{ echo "$f"; fail "$what: stack $id is not $* (innermost first, in order)"; }
}

# sock_id DUMP TUPLE: the id of the socket whose tuple (local>remote) is TUPLE
sock_id() {
	grep -E "^(SOCK|TUPLE) .* tuple=$2( |$)" "$1" | tail -n 1 | sed 's/^[A-Z]* id=\([0-9]*\).*/\1/'
}

# netns_of NAME: inode of network namespace NAME (as the kernel numbers it)
netns_of() { stat -L -c %i "/run/netns/$1"; }
