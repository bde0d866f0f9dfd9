# Helpers for the recorder tests (tests/t_record_*.sh). Source after lib.sh.
LOADGEN=$TT_BUILD/tcptrail-loadgen

# need_record_tools: skip without BPF, fail if a program we need is not built.
need_record_tools() {
	need_bpf
	[ -x "$LOADGEN" ] || fail "loadgen not built: $LOADGEN"
	[ -x "$ANA" ] || fail "analyzer not built: $ANA"
}

# record_loadgen TRAIL [recorder options] -- [loadgen options]
# Records loadgen's whole run into TRAIL. Sets LG_PORT (the listener port)
# and leaves loadgen's and the recorder's output in TRAIL.out, TRAIL.err.
record_loadgen() {
	local trail=$1 rc
	shift
	local ropts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ropts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	"$REC" -w "$trail" "${ropts[@]}" -- "$LOADGEN" "$@" >"$trail.out" 2>"$trail.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		cat "$trail.out" "$trail.err"
		fail "recording loadgen $* exited with $rc"
	fi
	LG_PORT=$(sed -n 's/^loadgen: .* port \([0-9][0-9]*\),.*/\1/p' "$trail.out")
	[ -n "$LG_PORT" ] || { cat "$trail.out"; fail "no port in loadgen's result line"; }
	expect_grep '^tcptrail-record: [0-9]+ events, 0 lost, [0-9]+ bytes written to ' \
		"$trail.err" "recorder summary line"
}

# transitions TRAIL PORT: "OLD:NEW COUNT" for the state changes of sockets
# with PORT as local or remote port, from the analyzer's tcpstates output.
transitions() {
	"$ANA" tcpstates -w "$1" >"$1.states" 2>"$1.states.err" ||
		{ cat "$1.states.err"; fail "analyzer tcpstates failed on $1"; }
	# from the end of the line: COMM may hold spaces
	awk -v p="$2" 'NR > 1 && ($(NF-6) == p || $(NF-4) == p) { print $(NF-3) ":" $(NF-1) }' \
		"$1.states" | sort | uniq -c | awk '{ print $2, $1 }' >"$1.trans"
	cat "$1.trans"
}

# expect_trans TRANSFILE OLD:NEW COUNT
expect_trans() {
	local got
	got=$(awk -v t="$2" '$1 == t { print $2 }' "$1")
	[ "${got:-0}" = "$3" ] || { cat "$1"; fail "$2: expected $3 state changes, got ${got:-0}"; }
}

# expect_total TRANSFILE COUNT: nothing else was recorded on the port
expect_total() {
	local got
	got=$(awk '{ s += $2 } END { print s + 0 }' "$1")
	[ "$got" = "$2" ] || { cat "$1"; fail "expected $2 state changes in all, got $got"; }
}

# expect_close_order TRANSFILE N client|server: N connections and one
# listener, closed first by the given side (both ends seen).
expect_close_order() {
	local f=$1 n=$2
	expect_trans "$f" CLOSE:LISTEN 1
	expect_trans "$f" LISTEN:CLOSE 1
	expect_trans "$f" CLOSE:SYN_SENT "$n"
	expect_trans "$f" SYN_SENT:ESTABLISHED "$n"
	expect_trans "$f" LISTEN:SYN_RECV "$n"
	expect_trans "$f" SYN_RECV:ESTABLISHED "$n"
	expect_trans "$f" ESTABLISHED:FIN_WAIT1 "$n"
	expect_trans "$f" FIN_WAIT1:FIN_WAIT2 "$n"
	expect_trans "$f" FIN_WAIT2:CLOSE "$n"
	expect_trans "$f" ESTABLISHED:CLOSE_WAIT "$n"
	expect_trans "$f" CLOSE_WAIT:LAST_ACK "$n"
	expect_trans "$f" LAST_ACK:CLOSE "$n"
	expect_total "$f" $((10 * n + 2))
}
