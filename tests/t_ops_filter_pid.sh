#!/bin/bash
# --pid keeps exactly the sockets of the process: those it connects and
# listens on, its listeners' children (made in softirq, under another
# task), and sockets it already had when the recording started.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools
trap ops_cleanup EXIT

N=10
P1=$(free_port) P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))

# two processes started after the recorder attached, one of them wanted
for m in $METHODS; do
	T=$TT_OUT/pid-$m.trail
	held a "$LOADGEN" -q --conns $N --parallel 2 --port "$P1"; A=$HELD_PID
	held b "$LOADGEN" -q --conns $N --port "$P2"; B=$HELD_PID
	rec_start "$T" --pid "$A" --force-method state=$m
	release a; release b
	wait "$A" "$B" || fail "loadgen failed"
	rec_stop "$T"
	transitions "$T" "$P1" >/dev/null
	expect_close_order "$T.trans" $N
	transitions "$T" "$P2" >/dev/null
	expect_total "$T.trans" 0
	inspect_trail "$T"
	expect_method "$T.i" "$m"
	expect_kv "$T.i" meta.filter.pid "$A"
	ok "--pid of a process started during the recording ($m)"
done

# a process already serving when the recording starts: its listener is
# followed, so the children it accepts are recorded; a neighbour is not
T=$TT_OUT/pid-old.trail
"$LOADGEN" --conns 10000000 --duration 3 --port "$P1" >"$T.a.out" & A=$!
"$LOADGEN" --conns 10000000 --duration 3 --port "$P2" >"$T.b.out" & B=$!
sleep 0.5
rec_start "$T" --pid "$A"
sleep 1
rec_stop "$T"
wait "$A" "$B"
expect_grep '^tcptrail-record: --pid [0-9]+: [1-9][0-9]* existing TCP sockets followed' "$T.err" \
	"existing sockets seeded"
transitions "$T" "$P1" >/dev/null
got=$(awk '$1 == "LISTEN:SYN_RECV" { print $2 }' "$T.trans")
[ "${got:-0}" -ge 10 ] || { cat "$T.trans"; fail "children of the old listener: ${got:-0}"; }
got=$(awk '$1 == "CLOSE:SYN_SENT" { print $2 }' "$T.trans")
[ "${got:-0}" -ge 10 ] || { cat "$T.trans"; fail "its new client sockets: ${got:-0}"; }
transitions "$T" "$P2" >/dev/null
expect_total "$T.trans" 0
ok "--pid of a process that was already running"

# a pid that does not exist: a usage error naming it
"$REC" -w "$TT_OUT/x.trail" --pid 2147483646 -- true 2>"$T.err"; rc=$?
[ $rc = 2 ] || fail "--pid of nothing: exit $rc"
expect_grep 'pid 2147483646: no such process' "$T.err" "no such process"
ok "--pid of no process"
