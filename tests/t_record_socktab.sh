#!/bin/bash
# A full socket table retires the least recently used socket, counts it in
# LOSS as note.socktab_evictions (not a loss), and still records every state change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

N=20
T=$TT_OUT/socktab.trail
"$REC" -w "$T" --max-sockets 2 -- "$LOADGEN" --conns $N >"$T.out" 2>"$T.err" ||
	{ cat "$T.err"; fail "recording exited $?"; }
# listener, client and server are three live sockets: the listener goes
expect_grep ', [1-9][0-9]* sockets evicted \(table full\)' "$T.err" "evictions in the summary"
"$ANA" summary "$T" >"$T.summary" 2>/dev/null || fail "analyzer summary failed"
expect_grep 'note\.socktab_evictions: [1-9][0-9]* \(no event lost\)' "$T.summary" "evictions noted in the LOSS block"
grep -q 'events LOST' "$T.summary" && fail "evictions reported as lost events"
transitions "$T" "$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$T.out")" >/dev/null
expect_close_order "$T.trans" $N
ok "socket table eviction"
