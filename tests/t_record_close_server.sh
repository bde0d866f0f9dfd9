#!/bin/bash
# Loopback connections closed by the server, over IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

N=40
for fam in 4 6; do
	T=$TT_OUT/close_server$fam.trail
	record_loadgen "$T" -- -$fam --conns $N --parallel 3 --close server
	transitions "$T" "$LG_PORT"
	expect_close_order "$T.trans" $N
	# the active closer is the server: the listener's port goes FIN_WAIT1
	awk -v p="$LG_PORT" '$(NF-3) == "ESTABLISHED" && $(NF-1) == "FIN_WAIT1" && $(NF-6) == p' \
		"$T.states" | wc -l | grep -qx $N || fail "IPv$fam: FIN_WAIT1 not on the server side"
	awk -v p="$LG_PORT" -v f=$fam '$(NF-6) == p && $4 != f' "$T.states" | grep -q . &&
		fail "IPv$fam: wrong IP column"
	ok "IPv$fam: $N connections closed by the server"
done
