#!/bin/bash
# Loopback connections closed by the client: every state change of both
# ends and the listener is in the capture, none twice, none extra.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

N=40
T=$TT_OUT/close_client.trail
record_loadgen "$T" -- --conns $N --parallel 2 --close client
transitions "$T" "$LG_PORT"
expect_close_order "$T.trans" $N
# the active closer is the client: its side goes FIN_WAIT1
awk -v p="$LG_PORT" '$(NF-3) == "ESTABLISHED" && $(NF-1) == "FIN_WAIT1" && $(NF-4) == p' \
	"$T.states" | wc -l | grep -qx $N || fail "FIN_WAIT1 not on the client side"
"$ANA" summary "$T" >"$T.summary" || fail "analyzer summary failed"
expect_grep 'probes +state: tp_btf inet_sock_set_state' "$T.summary" "probe in META"
expect_grep 'end +clean' "$T.summary" "END block"
ok "$N connections closed by the client"
