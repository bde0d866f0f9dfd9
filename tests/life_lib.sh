# Helpers for the lifecycle tests (tests/t_life_*.sh). Source after lib.sh
# and fault_lib.sh, whose dump helpers (lines, expect_n, field, netns_of,
# fault_record) they use.

# LIFE events, LINK relations and TCP states as numbers (format/trail.h,
# the kernel's enum).
EV_SYN_ARRIVED=1 EV_REQ_DROPPED=2 EV_TW_ENTER=3 EV_TW_END=4 EV_CLOSE_CALL=5 EV_DESTROY=6
REL_REQ_OF_LISTENER=1 REL_CHILD_OF_REQ=2 REL_TIMEWAIT_OF=3
ST_ESTABLISHED=1 ST_FIN_WAIT2=5 ST_TIME_WAIT=6 ST_CLOSE=7 ST_CLOSE_WAIT=8

# kid DUMP KIND NETNS TUPLE: id of the socket of KIND (0 full, 1 request,
# 2 timewait) in NETNS whose tuple (local>remote, an ERE) is TUPLE; the last
# one defined if several.
kid() {
	grep -E "^(SOCK|TUPLE) id=[0-9]+ kind=$2 .* netns=$3 .* tuple=$4( |$)" "$1" | tail -n 1 |
		sed 's/^[A-Z]* id=\([0-9]*\).*/\1/'
}

# kids DUMP KIND NETNS TUPLE: all such ids, one per line
kids() {
	grep -E "^SOCK id=[0-9]+ kind=$2 .* netns=$3 .* tuple=$4( |$)" "$1" |
		sed 's/^SOCK id=\([0-9]*\).*/\1/'
}

# lineno DUMP ERE: line number of the first line matching ERE, 0 if none
lineno() { grep -nE -m1 -- "$2" "$1" | cut -d: -f1 | grep . || echo 0; }

# ts_of LINE: the ts= of a dump line
ts_of() { field "$1" ts; }

# one DUMP KIND ERE WHAT: the only record of KIND matching ERE; fails (on
# stderr, status 1) if there is not exactly one. In $(...), add || exit 1.
one() {
	expect_n "$1" "$2" "$3" 1 1 "$4" >&2
	lines "$1" "$2" "$3"
}

# synack_blackhole NSA NSB ADDRA ADDRB: netns_pair (lib.sh) whose client side
# NSA drops every SYN-ACK (nft), and whose server side NSB gives a request
# sock one SYN-ACK retry: its request socks end within seconds.
synack_blackhole() {
	netns_pair "$@"
	ip netns exec "$1" nft -f - <<'EOF' || fail "cannot install the client's firewall"
table inet ttl {
	chain in {
		type filter hook input priority 0;
		tcp flags & (syn | ack) == syn | ack drop
	}
}
EOF
	ip netns exec "$2" sysctl -qw net.ipv4.tcp_synack_retries=1 ||
		fail "cannot set tcp_synack_retries"
}
