#!/bin/bash
# -p keeps exactly the connections with the port at either end, a list or a
# repeated -p several ports; the filter is in META and in the pcap filter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools

N=10
P1=$(free_port) P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))
both="$LOADGEN -q --conns $N --port $P1 & $LOADGEN -q --conns $N --port $P2; wait"

# one port: all of its connections, both ends, nothing of the other
for m in $METHODS; do
	T=$TT_OUT/port1-$m.trail
	"$REC" -w "$T" -p "$P1" --force-method state=$m --pcap "$T.pcap" -- sh -c "$both" 2>"$T.err" ||
		{ cat "$T.err"; fail "recording"; }
	transitions "$T" "$P1" >/dev/null
	expect_close_order "$T.trans" $N
	transitions "$T" "$P2" >/dev/null
	expect_total "$T.trans" 0
	# every state change recorded has P1 at one end
	others=$(awk -v p="$P1" 'NR > 1 && $(NF-6) != p && $(NF-4) != p' "$T.states" | wc -l)
	[ "$others" = 0 ] || { cat "$T.states"; fail "$others state changes without port $P1"; }
	inspect_trail "$T"
	expect_method "$T.i" "$m"
	expect_kv "$T.i" meta.filter.port "$P1"
	expect_kv "$T.i" meta.pcap.filter "tcp and (port $P1)"
	"$INSPECT" pcap "$T.pcap" "$P2" >"$T.pcap.i" || fail "pcap unreadable"
	expect_kv "$T.pcap.i" port_packets 0
	ok "-p $P1 ($m)"
done

# a list, and -p repeated: both ports
for opts in "-p $P1,$P2" "-p $P1 -p $P2"; do
	T=$TT_OUT/port2.trail
	# shellcheck disable=SC2086
	"$REC" -q -w "$T" $opts -- sh -c "$both" 2>"$T.err" || { cat "$T.err"; fail "recording $opts"; }
	for p in "$P1" "$P2"; do
		transitions "$T" "$p" >/dev/null
		expect_close_order "$T.trans" $N
	done
	inspect_trail "$T"
	expect_method "$T.i" tp_btf
	expect_kv "$T.i" meta.filter.port "$(printf '%s\n' "$P1" "$P2" | sort -n | paste -sd,)"
	ok "$opts"
done

# -6 with -p: the family filter and the port filter together
T=$TT_OUT/port6.trail
"$REC" -q -w "$T" -6 -p "$P1" -- sh -c "$LOADGEN -q -6 --conns $N --port $P1 & $LOADGEN -q -4 --conns $N --port $P1; wait" \
	2>"$T.err" || { cat "$T.err"; fail "recording -6 -p"; }
"$ANA" tcpstates -w "$T" >"$T.states" || fail "analyzer"
v4=$(grep -c '127\.0\.0\.1' "$T.states")
v6=$(grep -c '::1' "$T.states")
[ "$v4" = 0 ] && [ "$v6" = $((10 * N + 2)) ] || { cat "$T.states"; fail "-6 -p: $v6 IPv6 and $v4 IPv4 changes"; }
ok "-6 -p $P1"
