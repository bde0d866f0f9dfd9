#!/bin/bash
# Recording without a command ends cleanly on --duration, SIGINT and SIGTERM;
# kill -9 leaves a capture readable up to its last block (flushed each second).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

# wait_started ERRFILE: until the recorder says it records (at most 10 s)
wait_started() {
	local i
	for i in $(seq 100); do
		grep -q 'recording to' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1"; fail "recorder did not start"
}

check_clean() { # TRAIL N PORT
	"$ANA" summary "$1" >"$1.summary" 2>"$1.summary.err" || fail "analyzer failed on $1"
	expect_grep 'end +clean' "$1.summary" "$1 ends with END"
	transitions "$1" "$3" >/dev/null
	expect_close_order "$1.trans" "$2"
}

T=$TT_OUT/stop_duration.trail
"$REC" -w "$T" --duration 3 2>"$T.err" & P=$!
wait_started "$T.err"
"$LOADGEN" --conns 10 >"$T.out" || fail "loadgen"
wait $P || fail "--duration: exit $?"
expect_grep '^tcptrail-record: [0-9]+ events, 0 lost' "$T.err" "summary line"
check_clean "$T" 10 "$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T.out")"
ok "--duration"

for sig in INT TERM; do
	T=$TT_OUT/stop_$sig.trail
	"$REC" -w "$T" 2>"$T.err" & P=$!
	wait_started "$T.err"
	"$LOADGEN" --conns 10 >"$T.out" || fail "loadgen"
	kill -$sig $P
	wait $P || fail "SIG$sig: exit $?"
	check_clean "$T" 10 "$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T.out")"
	ok "SIG$sig"
done

T=$TT_OUT/stop_kill9.trail
"$REC" -w "$T" 2>"$T.err" & P=$!
wait_started "$T.err"
"$LOADGEN" --conns 10 >"$T.out" || fail "loadgen"
sleep 2.5	# two flushes
kill -9 $P
wait $P 2>/dev/null
"$ANA" summary "$T" >"$T.summary" 2>"$T.summary.err"; rc=$?
[ $rc = 0 ] || { cat "$T.summary.err"; fail "analyzer on a killed recording: exit $rc"; }
expect_grep 'no END block' "$T.summary.err" "warning about the missing END"
transitions "$T" "$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T.out")" >/dev/null
expect_close_order "$T.trans" 10
ok "kill -9: readable up to the last block"

# with a command: our SIGTERM goes on to it, and we wait for its exit status
T=$TT_OUT/stop_cmd.trail
"$REC" -q -w "$T" -- sh -c 'trap "exit 7" TERM; sleep 20 & wait' & P=$!
sleep 1
kill -TERM $P
wait $P; rc=$?
[ $rc = 7 ] || fail "SIGTERM forwarded to the command: exit $rc, wanted 7"
"$ANA" summary "$T" >"$T.summary" 2>/dev/null || fail "analyzer on $T"
expect_grep 'end +clean' "$T.summary" "$T ends with END"
ok "SIGTERM reaches the command"

# --duration with a command ends it with SIGTERM
start=$SECONDS
"$REC" -q -w "$T" --duration 1 -- sleep 20; rc=$?
[ $rc = 143 ] || fail "--duration with a command: exit $rc, wanted 143"
[ $((SECONDS - start)) -lt 10 ] || fail "--duration 1 took $((SECONDS - start)) s"
ok "--duration stops the command"
