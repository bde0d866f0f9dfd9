#!/bin/bash
# --pcap: a nanosecond pcap of the same connections, headers only unless
# --snaplen says otherwise, mode 0600, described in META, its clock tied to
# the capture's: the first SYN follows the first connect() by microseconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools

N=5
P=$(free_port)
T=$TT_OUT/pcap.trail
rm -f "$T.pcap"
"$REC" -w "$T" -p "$P" --pcap "$T.pcap" -- "$LOADGEN" -q --conns $N --bytes 300 --port "$P" \
	2>"$T.err" || { cat "$T.err"; fail "recording"; }
expect_grep 'pcap: [0-9]+ packets in the last file, 0 dropped' "$T.err" "pcap summary"
[ "$(stat -c %a "$T.pcap")" = 600 ] || fail "pcap mode $(stat -c %a "$T.pcap"), wanted 600"

"$INSPECT" pcap "$T.pcap" "$P" >"$T.pcap.i" || fail "pcap unreadable by libpcap"
cat "$T.pcap.i"
expect_kv "$T.pcap.i" magic a1b23c4d	# nanosecond pcap
expect_kv "$T.pcap.i" linktype 113	# "any": Linux cooked
expect_kv "$T.pcap.i" end clean
# handshake, data both ways, both FINs, ACKs: at least 7 per connection
got=$(kv "$T.pcap.i" port_packets)
[ "$got" -ge $((7 * N)) ] || fail "$got packets on port $P for $N connections"
# nothing but TCP on that port, and no payload byte kept
[ "$(kv "$T.pcap.i" packets)" = "$got" ] || fail "packets of other traffic in the pcap"
expect_kv "$T.pcap.i" payload_bytes 0
[ "$(kv "$T.pcap.i" cut_packets)" -ge $((2 * N)) ] || fail "data segments were not cut"

inspect_trail "$T"
expect_kv "$T.i" meta.pcap.file "$T.pcap"
expect_kv "$T.i" meta.pcap.interface any
expect_kv "$T.i" meta.pcap.linktype "113 LINUX_SLL"
expect_kv "$T.i" meta.pcap.snaplen headers
expect_kv "$T.i" meta.pcap.filter "tcp and (port $P)"
expect_kv "$T.i" meta.pcap.tstamp_precision nano
expect_kv "$T.i" meta.pcap.clock CLOCK_REALTIME
expect_kv "$T.i" meta.pcap.packets "$got"
expect_kv "$T.i" loss.pcap.dropped 0
expect_kv "$T.i" status OK
# the same clock: the SYN leaves right after connect() changed the state
con=$(kv "$T.i" first_connect_real_ns) syn=$(kv "$T.pcap.i" first_syn_ns)
d=$((syn - con))
[ "$con" -gt 0 ] && [ "$d" -ge -1000000 ] && [ "$d" -le 20000000 ] ||
	fail "first SYN $syn is $d ns from the first connect() $con"
ok "nanosecond headers-only pcap, SYN $d ns after connect()"

# tcpdump, where installed, reads it too
if command -v tcpdump >/dev/null; then
	n=$(tcpdump -nn -r "$T.pcap" 2>/dev/null | wc -l)
	[ "$n" = "$(kv "$T.pcap.i" packets)" ] || fail "tcpdump reads $n packets"
	ok "tcpdump reads it"
fi

# --snaplen: N bytes kept, payload included; -i lo: Ethernet framing
T=$TT_OUT/pcap-snap.trail
"$REC" -q -w "$T" -p "$P" --pcap "$T.pcap" -i lo --snaplen 200 -- \
	"$LOADGEN" -q --conns $N --bytes 300 --port "$P" 2>"$T.err" || { cat "$T.err"; fail "recording --snaplen"; }
"$INSPECT" pcap "$T.pcap" "$P" >"$T.pcap.i" || fail "pcap unreadable"
expect_kv "$T.pcap.i" linktype 1
expect_kv "$T.pcap.i" max_caplen 200
[ "$(kv "$T.pcap.i" payload_bytes)" -gt 0 ] || fail "--snaplen 200 kept no payload"
inspect_trail "$T"
expect_kv "$T.i" meta.pcap.snaplen 200
expect_kv "$T.i" meta.pcap.interface lo
ok "--snaplen 200 -i lo"

# errors: an interface that does not exist, options without --pcap
"$REC" -w "$TT_OUT/x.trail" --pcap "$TT_OUT/x.pcap" -i tt-no-such-if -- true 2>"$T.err"; rc=$?
[ $rc = 1 ] || fail "-i tt-no-such-if: exit $rc"
expect_grep 'cannot capture on tt-no-such-if' "$T.err" "bad interface message"
[ -e "$TT_OUT/x.trail" ] && fail "a capture was left behind after a failed start"
"$REC" -w "$TT_OUT/x.trail" --snaplen 100 -- true 2>"$T.err"; rc=$?
[ $rc = 2 ] || fail "--snaplen without --pcap: exit $rc"
expect_grep 'needs --pcap' "$T.err" "--snaplen without --pcap"
ok "pcap errors"
