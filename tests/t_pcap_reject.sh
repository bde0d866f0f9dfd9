#!/bin/bash
# pcap packets in the analyzer, on real traffic between two network
# namespaces the test creates (client 10.234.0.1, server 10.234.0.2, a
# veth). The recorder runs in the server's namespace, so its --pcap (on
# "any") sees that side of the wire; it records the sockets of both.
#  1. healthy: one connection, data both ways, both FINs. No findings, and
#     every packet of the pcap attached to it: SYN, SYN-ACK, ACKs, 2 FINs.
#  2. firewall reset: once the connection is established, an iptables rule
#     in the server namespace (-j REJECT --reject-with tcp-reset) answers the
#     client's next data segment: netfilter, not TCP, sends the RST. The
#     analyzer must report rst_external with the RST packet as evidence, no
#     sent-RST event, and draw the packets, the RST included.
#  3. retransmits: an iptables DROP rule for 0.7 s makes the client resend a
#     segment; each retransmit event is tied to the resent packet, drawn as a
#     retransmission, dropped by netfilter while the rule is there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
need_netns
command -v iptables >/dev/null || skip "no iptables(8)"
command -v nsenter >/dev/null || skip "no nsenter(1)"

D=$TT_OUT/pcap_reject
rm -rf "$D"
mkdir -p "$D"
NSA=ttp_a$$ NSB=ttp_b$$
A=10.234.0.1 B=10.234.0.2 P=8080
# the rules live in B: they go with the namespaces when the test exits
netns_pair $NSA $NSB $A $B
ip netns exec $NSB iptables -L INPUT >/dev/null 2>&1 || skip "iptables does not work in a namespace here"

# client: MODE healthy (send, half-close, read the echo) or reject
cat >"$D/client.py" <<EOF
import os, socket, subprocess, sys, time
ready, mode = sys.argv[1], sys.argv[2]
for _ in range(200):
    if os.path.exists(ready):
        break
    time.sleep(0.05)
c = socket.create_connection(("::1" if mode == "v6" else "$B", $P), timeout=5)
if mode == "v6":
    mode = "healthy"
port = c.getsockname()[1]
print("port", port, flush=True)
c.sendall(b"a" * 10)
got = c.recv(10)
time.sleep(0.2)
if mode == "healthy":
    c.shutdown(socket.SHUT_WR)
    while True:
        d = c.recv(4096)
        if not d:
            break
        got += d
    print("echo", len(got), flush=True)
    c.close()
    sys.exit(0)
if mode == "retrans":
    rule = ["-p", "tcp", "-s", "$A", "--sport", str(port), "--dport", "$P", "-j", "DROP"]
    subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", "-I", "INPUT"] + rule, check=True)
    c.sendall(b"b" * 10)
    time.sleep(0.7)
    subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", "-D", "INPUT"] + rule, check=True)
    c.settimeout(5)
    print("echo", len(c.recv(10)), flush=True)
    c.close()
    sys.exit(0)
# from now on netfilter in the server's namespace answers this flow with RST
subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", "-I", "INPUT", "-p", "tcp",
                "-s", "$A", "--sport", str(port), "--dport", "$P",
                "-j", "REJECT", "--reject-with", "tcp-reset"], check=True)
c.sendall(b"b" * 10)
c.settimeout(3)
try:
    c.recv(10)
    print("reset no", flush=True)
except ConnectionResetError:
    print("reset yes", flush=True)
EOF

# record MODE: the recorder in the server namespace, --pcap there (v6: both
# ends in the server namespace, on ::1)
record() {
	local t=$D/$1.trail ns=$NSA addr=$B
	[ "$1" = v6 ] && ns=$NSB addr=::1
	rm -f "$D/ready"
	nsenter --net=/run/netns/$NSB "$REC" -q --ring-size 64 -p $P -w "$t" --pcap "$t.pcap" -- \
		timeout 20 bash -c "ip netns exec $NSB $PY $TT_ROOT/tests/echo_server.py $addr $P $D/ready &
			ip netns exec $ns $PY $D/client.py $D/ready $1; wait" >"$t.out" 2>"$t.err" ||
		{ cat "$t.out" "$t.err"; fail "recording $1"; }
	[ -s "$t.pcap" ] || fail "$1: no pcap written"
}

# conn_id TRAIL: the id of the connection from $A:$X (a connection of an
# earlier part may still be resending its FIN into this recording)
conn_id() {
	"$ANA" --no-pcap connections "$1" 2>/dev/null | sed -n "s/^#\([0-9]*\)  $A:$X -> .*/\1/p"
}

# pcap_count PCAP [6]: TCP packets in it, or its IPv6 ones (read
# independently of the analyzer; Linux cooked framing)
pcap_count() {
	$PY - "$1" "${2:-}" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
o, n = 24, 0
while o + 16 <= len(d):
    cl = struct.unpack("<I", d[o + 8:o + 12])[0]
    if sys.argv[2] != "6" or d[o + 16 + 14:o + 16 + 16] == b"\x86\xdd":
        n += 1
    o += 16 + cl
print(n)
EOF
}

# ---- 1. healthy ----
T=$D/healthy.trail
record healthy
grep -q '^echo 10$' "$T.out" || { cat "$T.out"; fail "healthy: no echo"; }
X=$(sed -n 's/^port //p' "$T.out")
npk=$(pcap_count "$T.pcap")
[ "$npk" -ge 9 ] || fail "healthy: only $npk packets in the pcap"
"$ANA" connections "$T" >"$T.conns" 2>"$T.conns.err" || { cat "$T.conns.err"; fail "connections"; }
cat "$T.conns.err"
# the default pcap is the META pcap.file beside the capture, named on stderr
expect_grep "pcap .*healthy\.trail\.pcap \(from the capture's pcap\.file\): $npk TCP packets, $npk attached, 0 unmatched" \
	"$T.conns.err" "the pcap used and all its packets attached"
[ "$(grep -c '^#' "$T.conns")" = 1 ] || { cat "$T.conns"; fail "healthy: not one connection"; }
expect_grep "^#1  $A:$X -> $B:$P " "$T.conns" "the connection, client to server"
expect_grep "packets: $npk in the pcap \([0-9]+ from the client, [0-9]+ from the server\): SYN 1, SYN-ACK 1, ACK [1-9][0-9]*, data 2, FIN 2, RST 0" \
	"$T.conns" "packet counts of the healthy connection"
"$ANA" anomalies --json "$T" >"$T.json" 2>/dev/null || fail "anomalies on the healthy capture"
expect_grep '"anomalies": \[\]' "$T.json" "healthy: no findings"
"$ANA" --no-pcap connections "$T" >"$T.nopcap" 2>"$T.nopcap.err" || fail "--no-pcap"
grep -q 'packets:' "$T.nopcap" && fail "--no-pcap still shows packets"
grep -q 'pcap' "$T.nopcap.err" && fail "--no-pcap still names a pcap"
"$ANA" diagram --conn 1 "$T" >"$T.diagram" 2>/dev/null || fail "diagram (healthy)"
[ "$(grep -Ec -- '#[0-9]+ --->|<--- .* #[0-9]+$' "$T.diagram")" = "$npk" ] ||
	{ cat "$T.diagram"; fail "healthy diagram: fewer arrows than packets"; }
ok "healthy: $npk packets, all attached (SYN, SYN-ACK, ACKs, data, 2 FINs), no findings"

# ---- 2. a firewall answers with RST ----
T=$D/reject.trail
record reject
grep -q '^reset yes' "$T.out" || { cat "$T.out"; fail "reject: the client was not reset"; }
X=$(sed -n 's/^port //p' "$T.out")
"$ANA" dump "$T" >"$T.dump" 2>/dev/null || fail "dump"
NSBINO=$(netns_of $NSB)
expect_n "$T.dump" RESET "dir=sent .* netns=$NSBINO " 0 0 "the server's TCP stack sent no RST"
# later the server gives up and sends FIN; the client's stack, whose socket
# is gone, answers it with an RST of its own: a sent RST, not an external one
expect_n "$T.dump" RESET "dir=sent .* seg=$B:$P>$A:$X flags=F" 0 1 "the client's answer to the FIN"
expect_n "$T.dump" RESET "dir=received .* state=TCP_ESTABLISHED" 1 1 "the client took the RST in"

"$ANA" anomalies --json --pcap "$T.pcap" "$T" >"$T.json" 2>"$T.json.err" ||
	{ cat "$T.json.err"; fail "anomalies --json --pcap"; }
cat "$T.json.err"
expect_grep "pcap .*reject\.trail\.pcap \(from --pcap\)" "$T.json.err" "the pcap named on stderr"
$PY - "$T.json" "$A" "$B" "$X" "$P" <<'EOF' || fail "rst_external with packet evidence"
import json, sys
j = json.load(open(sys.argv[1]))
a, b, x, p = sys.argv[2:]
kinds = [f["kind"] for f in j["anomalies"]]
ext = [f for f in j["anomalies"] if f["kind"] == "rst_external"]
assert len(ext) == 1, kinds
f = ext[0]
assert f["connection"]["client"] == "%s:%s" % (a, x), f["connection"]
pk = [e for e in f["evidence"] if e["event"] == "packet" and "RST" in e["packet"]["flags"]]
assert len(pk) == 1, f["evidence"]
r = pk[0]["packet"]
assert r["src"] == "%s:%s" % (b, p) and r["dst"] == "%s:%s" % (a, x), r
assert r["sent_by_local_tcp"] is False, r
assert r["number"] >= 1 and r["file"].endswith("reject.trail.pcap"), r
assert pk[0]["side"] == "server", pk[0]
# the data segment it answered, and the client taking the RST in
assert any(e["event"] == "packet" and e["packet"]["src"] == "%s:%s" % (a, x) and
           e["packet"]["len"] == 10 for e in f["evidence"]), f["evidence"]
assert any(e["event"] == "RST received" and e["side"] == "client" for e in f["evidence"])
# no sent RST in its evidence
assert not any(e["event"].startswith("RST sent") for e in f["evidence"]), f["evidence"]
assert "REJECT" in f["explanation"] and "no tcp_v4/v6_send_reset" in f["explanation"]
assert kinds.count("rst_received") == 0, kinds
print("rst_external: packet", r["number"], r["src"], "->", r["dst"], r["flags"])
EOF

C=$(conn_id "$T")
[ -n "$C" ] || fail "reject: no connection from $A:$X"
"$ANA" diagram --conn "$C" --format text "$T" >"$T.diagram" 2>/dev/null || fail "diagram"
cat "$T.diagram"
expect_grep "SYN seq=0 len=0 #[0-9]+ --->" "$T.diagram" "the client's SYN arrow"
expect_grep "<--- SYN,ACK seq=0 ack=1 len=0 #[0-9]+" "$T.diagram" "the server's SYN-ACK arrow"
# the segment netfilter answered, dropped with netfilter's reason
expect_grep "PSH,ACK seq=11 ack=11 len=10 DROPPED \[SKB_DROP_REASON_NETFILTER_DROP\] #[0-9]+ --->" \
	"$T.diagram" "the second data segment, dropped by netfilter"
expect_grep "<--- RST(,ACK)? seq=11 .*\[no local TCP stack sent it\] #[0-9]+" "$T.diagram" "the RST arrow"
# the client's RST answering the server's later FIN is tied to its sent-RST event
n=$(grep -c -- '--- RST.*no local TCP stack sent it' "$T.diagram")
[ "$n" = 1 ] || fail "$n RST packets marked as sent by no local TCP stack, wanted 1"
# the RST arrives before the client's TCP takes it in, and is shown so
awk '/<--- RST/ { r = NR } /RST received/ { v = NR } END { exit !(r && v && r < v) }' "$T.diagram" ||
	fail "the RST packet is not drawn before the client's RST received event"
"$ANA" diagram --conn "$C" --format mermaid "$T" 2>/dev/null | grep -q 'S-xC: .*RST' ||
	fail "mermaid: no RST arrow from the server lane"
"$ANA" diagram --conn "$C" --format svg "$T" 2>/dev/null | grep -q 'no local TCP stack sent it' ||
	fail "svg: no RST arrow"
"$ANA" report -o "$T.html" "$T" 2>/dev/null || fail "report"
grep -q 'packet #[0-9]* .* \[RST' "$T.html" || fail "report: no RST packet evidence"
ok "firewall RST: rst_external names RST packet $B:$P -> $A:$X, no sent-RST event; diagrams draw it"

# ---- 3. retransmits into a DROP rule ----
T=$D/retrans.trail
record retrans
grep -q '^echo 10$' "$T.out" || { cat "$T.out"; fail "retrans: no echo after the rule went"; }
X=$(sed -n 's/^port //p' "$T.out")
"$ANA" dump "$T" >"$T.dump" 2>/dev/null || fail "dump"
# (the connection of part 2 may still resend its FIN: count this one's only)
nr=$(lines "$T.dump" RETRANS "kind=data .* sktuple=$A:$X>$B:$P " | wc -l)
[ "$nr" -ge 1 ] || { grep -E '^RETRANS' "$T.dump"; fail "retrans: no retransmit recorded"; }
C=$(conn_id "$T")
[ -n "$C" ] || fail "retrans: no connection from $A:$X"
"$ANA" diagram --conn "$C" "$T" >"$T.diagram" 2>/dev/null || fail "diagram (retrans)"
nd=$(grep -c -- 'seq=11 ack=11 len=10 (retransmission).* #[0-9]* --->' "$T.diagram")
[ "$nd" = "$nr" ] || { cat "$T.diagram"; fail "retrans: $nr retransmit events, $nd packets drawn as their retransmissions"; }
grep -q -- '(retransmission) DROPPED \[SKB_DROP_REASON_NETFILTER_DROP\] #' "$T.diagram" ||
	{ cat "$T.diagram"; fail "retrans: no resent segment dropped by netfilter"; }
# each retransmit event comes before its packet
awk '/data retransmitted/ { e++ } /\(retransmission\)/ { if (e <= p) bad = 1; p++ }
	END { exit bad }' "$T.diagram" || { cat "$T.diagram"; fail "a resent packet drawn before its event"; }
ok "retransmits: $nr events, each tied to its resent packet"

# ---- 4. IPv6 on loopback ----
T=$D/v6.trail
record v6
grep -q '^echo 10$' "$T.out" || { cat "$T.out"; fail "v6: no echo"; }
# (sockets of the earlier parts may still resend their FINs over IPv4: those
# packets go to those sockets, when the recorder saw them, or are unmatched)
all=$(pcap_count "$T.pcap") npk=$(pcap_count "$T.pcap" 6)
"$ANA" connections "$T" >"$T.conns" 2>"$T.conns.err" || { cat "$T.conns.err"; fail "connections (v6)"; }
expect_grep ": $all TCP packets, " "$T.conns.err" "v6: the pcap read"
expect_grep '^#[0-9]+  \[::1\]:[0-9]+ -> \[::1\]:'$P' +tcp6' "$T.conns" "the IPv6 connection"
awk '/^#[0-9]+  \[::1\]/ { f = 1; next } /^#/ { f = 0 } f && /packets:/' "$T.conns" |
	grep -Eq "packets: $npk in the pcap .*SYN 1, SYN-ACK 1, ACK [1-9][0-9]*, data 2, FIN 2, RST 0" ||
	{ cat "$T.conns"; fail "v6: not all $npk IPv6 packets attached to the IPv6 connection"; }
"$ANA" anomalies --json "$T" >"$T.json" 2>/dev/null || fail "anomalies (v6)"
$PY - "$T.json" <<'EOF' || fail "v6: a finding about the IPv6 connection"
import json, sys
j = json.load(open(sys.argv[1]))
bad = [f for f in j["anomalies"] if (f["connection"] or {}).get("client", "").startswith("[::1]")]
assert not bad, bad
EOF
ok "IPv6 loopback: $npk packets, all attached, no findings"
