# Helpers for the operations tests (tests/t_ops_*.sh): filters, pcap,
# rotation, privileges, errors. Source after lib.sh and record_lib.sh.
INSPECT=$TT_BUILD/tests/ops-inspect
REC_PID=

# need_ops_tools: skip without BPF, fail if a program we need is not built.
need_ops_tools() {
	need_record_tools
	[ -x "$INSPECT" ] || fail "ops-inspect not built: $INSPECT (make tests)"
}

# inspect_trail FILE: FILE.i holds ops-inspect's key=value lines.
inspect_trail() {
	"$INSPECT" trail "$1" >"$1.i" 2>"$1.i.err" || { cat "$1.i.err"; fail "cannot read $1"; }
}

# kv FILE.i KEY: the last value of KEY.
kv() {
	awk -v k="$2" 'index($0, k "=") == 1 { v = substr($0, length(k) + 2) } END { print v }' "$1"
}

# expect_kv FILE.i KEY VALUE
expect_kv() {
	local got
	got=$(kv "$1" "$2")
	[ "$got" = "$3" ] || { cat "$1"; fail "$2: expected '$3', got '$got'"; }
}

# rec_start TRAIL [recorder options]: recorder in the background, returns
# once it is attached; its stderr in TRAIL.err, pid in REC_PID.
rec_start() {
	local t=$1 i
	shift
	"$REC" -w "$t" "$@" 2>"$t.err" &
	REC_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'recording to' "$t.err" && return 0
		kill -0 "$REC_PID" 2>/dev/null || { cat "$t.err"; fail "recorder exited at start"; }
		sleep 0.05
	done
	cat "$t.err"
	fail "recorder not attached after 10 s"
}

# rec_stop TRAIL [SIGNAL]: stop it, expect a clean exit and summary line.
rec_stop() {
	local rc
	kill -"${2:-INT}" "$REC_PID"
	wait "$REC_PID"
	rc=$?
	REC_PID=
	[ $rc = 0 ] || { cat "$1.err"; fail "recorder exited with $rc"; }
	expect_grep '^tcptrail-record: [0-9]+ events, 0 lost' "$1.err" "recorder summary"
}

# Stop a recorder a failed test left running.
ops_cleanup() {
	[ -n "$REC_PID" ] && kill -INT "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
	REC_PID=
}

# held NAME CMD...: run CMD in the background, waiting before exec until
# release NAME; its pid (the same after exec) in HELD_PID.
held() {
	local name=$1
	shift
	rm -f "$TT_OUT/hold.$name"
	mkfifo "$TT_OUT/hold.$name"
	sh -c 'read x <"$0"; exec "$@"' "$TT_OUT/hold.$name" "$@" &
	HELD_PID=$!
}
release() {
	echo go >"$TT_OUT/hold.$1"
	rm -f "$TT_OUT/hold.$1"
}

# Both kernel-side code paths of the filters: plain loads (tp_btf) and
# probe reads (tracepoint). A filter must neither change the method a
# recording uses nor behave differently under the other.
METHODS="tp_btf tracepoint"
# expect_method FILE.i METHOD
expect_method() {
	local got
	got=$(kv "$1" meta.probe.state)
	[ "${got%% *}" = "$2" ] || { cat "$1"; fail "probe.state is '$got', wanted $2"; }
}
