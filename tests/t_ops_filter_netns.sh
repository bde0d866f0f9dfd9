#!/bin/bash
# --netns keeps exactly one network namespace (by file, by inode, or our
# own); by default all are recorded. --pcap captures in that namespace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools
command -v ip >/dev/null || skip "no ip command"

NS=tt-ops-$$
ip netns add "$NS" || skip "cannot create a network namespace"
trap 'ip netns del "$NS" 2>/dev/null' EXIT
ip -n "$NS" link set lo up || fail "lo up in $NS"
INO=$(stat -L -c %i "/run/netns/$NS")

N=10
P1=$(free_port) P2=$(free_port)
[ "$P1" = "$P2" ] && P2=$((P1 + 1))
cmd="ip netns exec $NS $LOADGEN -q --conns $N --port $P1 & $LOADGEN -q --conns $N --port $P2; wait"

# record_ns NAME OPTS...: the namespace's loadgen on P1, ours on P2
record_ns() {
	T=$TT_OUT/netns-$1.trail
	shift
	"$REC" -q -w "$T" "$@" -- sh -c "$cmd" 2>"$T.err" || { cat "$T.err"; fail "recording $*"; }
}
only() { # WANTED UNWANTED
	transitions "$T" "$1" >/dev/null
	expect_close_order "$T.trans" $N
	transitions "$T" "$2" >/dev/null
	expect_total "$T.trans" 0
}

record_ns path --netns "/run/netns/$NS" --pcap "$TT_OUT/netns.pcap"
only "$P1" "$P2"
inspect_trail "$T"
expect_method "$T.i" tp_btf
expect_kv "$T.i" meta.filter.netns "$INO"
expect_kv "$T.i" meta.pcap.netns "$INO"
"$INSPECT" pcap "$TT_OUT/netns.pcap" "$P1" >"$T.pcap.i" || fail "pcap unreadable"
got=$(kv "$T.pcap.i" port_packets)
[ "$got" -ge $((7 * N)) ] || { cat "$T.pcap.i"; fail "pcap in the namespace: $got packets"; }
"$INSPECT" pcap "$TT_OUT/netns.pcap" "$P2" >"$T.pcap.i" || fail "pcap unreadable"
expect_kv "$T.pcap.i" port_packets 0
ok "--netns /run/netns/$NS (and --pcap in it)"

record_ns inode --netns "$INO" --force-method state=tracepoint
only "$P1" "$P2"
inspect_trail "$T"
expect_method "$T.i" tracepoint
ok "--netns $INO (tracepoint)"

record_ns self --netns self
only "$P2" "$P1"
ok "--netns self"

# the default: every namespace
record_ns all
for p in "$P1" "$P2"; do
	transitions "$T" "$p" >/dev/null
	expect_close_order "$T.trans" $N
done
ok "all namespaces by default"

"$REC" -w "$TT_OUT/x.trail" --netns nonsense -- true 2>"$T.err"; rc=$?
[ $rc = 2 ] || fail "--netns nonsense: exit $rc"
expect_grep 'netns .*wants a whole number' "$T.err" "bad --netns message"
ok "--netns nonsense refused"
