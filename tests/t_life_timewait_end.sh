#!/bin/bash
# The end of a TIME_WAIT by its timer: TCP_TIMEWAIT_LEN is a fixed 60 s on
# Linux (no sysctl shortens it; tcp_fin_timeout only bounds the FIN_WAIT2
# substate, see t_life_finwait2), so this test waits ~65 s and runs only
# with TT_SLOW=1. The timewait sock of a client that closed first ends with
# TIMEWAIT_END, substate TIME_WAIT, ended by the timer, 60 s after it began.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
[ "${TT_SLOW:-0}" = 1 ] ||
	skip "TIME_WAIT lasts a fixed 60 s (TCP_TIMEWAIT_LEN): set TT_SLOW=1 to wait for its end"
need_fault_tools
need_netns

D=$TT_OUT/life_timewait_end
rm -rf "$D"
mkdir -p "$D"
NS=ttl_te$$
netns_new $NS
NSI=$(netns_of $NS)
T=$D/tw.trail
fault_record "$T" ip netns exec $NS bash -c "$LOADGEN --conns 1 --close client && sleep 65"
d=$T.dump
P=$(sed -n 's/^loadgen: .* port \([0-9]*\),.*/\1/p' "$T.out")
[ -n "$P" ] || { cat "$T.out"; fail "no port from loadgen"; }
A='127\.0\.0\.1'
tw=$(kids "$d" 2 "$NSI" "$A:[0-9]+>$A:$P")
[ "$(wc -w <<<"$tw")" = 1 ] || fail "want one timewait sock, got '$tw'"
enter=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=($ST_TIME_WAIT|$ST_FIN_WAIT2)$" "TIME_WAIT entry") || exit 1
end=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_END value=$ST_TIME_WAIT$" "TIME_WAIT ended by its timer") || exit 1
dt=$(( $(ts_of "$end") - $(ts_of "$enter") ))
[ $dt -ge 59500000000 ] && [ $dt -le 63000000000 ] || fail "TIME_WAIT lasted $dt ns, not about 60 s"
ok "TIME_WAIT ended by its timer after $dt ns"
