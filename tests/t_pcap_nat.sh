#!/bin/bash
# pcap packets across an address translation, between two network
# namespaces the test creates. The server listens on port 80 in namespace
# B, where iptables REDIRECTs port 1112 to 80 (PREROUTING for the veth,
# OUTPUT for loopback). The recorder and its --pcap run in B.
#  1. a client in A connects to B:1112: on the veth the packets carry the
#     client's view (port 1112), the server's socket is on port 80;
#  2. a client in B connects to 127.0.0.1:1112: on loopback the packets
#     carry the translated tuple (port 80), the server socket's own;
#  3. the NAT reset of article 002: a NOTRACK rule makes the client's next
#     segment reach TCP untranslated; B's TCP answers it with an RST (no
#     socket). That RST is a local one: nat_mismatch with the RST packet as
#     evidence, and no rst_external.
# Every packet of the pcap must be attached to its connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
need_netns
command -v iptables >/dev/null || skip "no iptables(8)"
command -v nsenter >/dev/null || skip "no nsenter(1)"

D=$TT_OUT/pcap_nat
rm -rf "$D"
mkdir -p "$D"
NSA=ttn_a$$ NSB=ttn_b$$
A=10.235.0.1 B=10.235.0.2
# the rules live in B: they go with the namespaces when the test exits
netns_pair $NSA $NSB $A $B
ip netns exec $NSB iptables -t nat -A PREROUTING -p tcp --dport 1112 -j REDIRECT --to-ports 80 &&
	ip netns exec $NSB iptables -t nat -A OUTPUT -p tcp -d 127.0.0.1 --dport 1112 \
		-j REDIRECT --to-ports 80 || skip "iptables NAT does not work in a namespace here"

# client HOST MODE: echo (send, half-close, read to EOF) or notrack
cat >"$D/client.py" <<EOF
import socket, subprocess, sys, time
host, mode = sys.argv[1], sys.argv[2]
c = socket.create_connection((host, 1112), timeout=5)
print("port", mode, c.getsockname()[1], flush=True)
c.sendall(b"a" * 10)
c.recv(10)
if mode == "echo":
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    c.close()
    sys.exit(0)
time.sleep(0.2)
subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", "-t", "raw", "-I", "PREROUTING",
                "-p", "tcp", "--dport", "1112", "-j", "NOTRACK"], check=True)
c.sendall(b"b" * 10)
c.settimeout(2)
try:
    c.recv(10)
    print("reset no", flush=True)
except ConnectionResetError:
    print("reset yes", flush=True)
EOF
cat >"$D/run.sh" <<EOF
ip netns exec $NSB $PY $TT_ROOT/tests/echo_server.py 0.0.0.0 80 $D/ready 3 &
for i in \$(seq 100); do [ -e $D/ready ] && break; sleep 0.05; done
ip netns exec $NSA $PY $D/client.py $B echo
ip netns exec $NSB $PY $D/client.py 127.0.0.1 echo
ip netns exec $NSA $PY $D/client.py $B notrack
wait
EOF
T=$D/nat.trail
nsenter --net=/run/netns/$NSB "$REC" -q --ring-size 64 -p 80,1112 -w "$T" --pcap "$T.pcap" -- \
	timeout 30 bash "$D/run.sh" >"$T.out" 2>"$T.err" || { cat "$T.out" "$T.err"; fail "recording"; }
grep -q '^reset yes' "$T.out" || { cat "$T.out"; fail "the NOTRACK client was not reset"; }
X1=$(sed -n "s/^port echo //p" "$T.out" | head -n 1)
X2=$(sed -n "s/^port echo //p" "$T.out" | sed -n 2p)
X3=$(sed -n "s/^port notrack //p" "$T.out")

# the pcap, read independently: packets per TCP port pair
$PY - "$T.pcap" >"$T.ports" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
o, n = 24, {}
while o + 16 <= len(d):
    cl = struct.unpack("<I", d[o + 8:o + 12])[0]
    p = d[o + 16:o + 16 + cl]
    o += 16 + cl
    ip = p[16:]
    t = ip[(ip[0] & 15) * 4:]
    sp, dp = struct.unpack(">HH", t[:4])
    k = "%d-%d" % (min(sp, dp), max(sp, dp)) if min(sp, dp) in (80, 1112) else "other"
    n[k] = n.get(k, 0) + 1
for k in sorted(n):
    print(k, n[k])
print("total", sum(n.values()))
EOF
cat "$T.ports"
total=$(awk '$1 == "total" { print $2 }' "$T.ports")
# on the veth the client's view only; on loopback both forms (the
# translation is applied before or after the tap depending on direction)
v1=$(awk -v k="1112-$X1" '$1 == k { print $2 }' "$T.ports")
lo80=$(awk -v k="80-$X2" '$1 == k { print $2 }' "$T.ports")
lo=$(awk -v k="-$X2" 'index($1, k) && substr($1, length($1) - length(k) + 1) == k { s += $2 } END { print s + 0 }' "$T.ports")
[ "${v1:-0}" -ge 9 ] || fail "the veth connection has ${v1:-0} packets on port 1112 in the pcap"
[ "$(awk -v k="80-$X1" '$1 == k' "$T.ports")" = "" ] || fail "translated packets of the veth connection in the pcap"
[ "${lo80:-0}" -ge 1 ] || fail "the loopback connection has no packet with the server socket's port 80"
[ "$lo" -ge 9 ] || fail "the loopback connection has $lo packets in the pcap"

"$ANA" connections "$T" >"$T.conns" 2>"$T.err2" || { cat "$T.err2"; fail "connections"; }
cat "$T.err2"
expect_grep ": $total TCP packets, $total attached, 0 unmatched" "$T.err2" "every packet attached"
[ "$(grep -c '^#' "$T.conns")" = 3 ] || { cat "$T.conns"; fail "not three connections"; }
[ "$(grep -c 'address translation: the client connected to .*:1112, the server.s socket is .*:80' "$T.conns")" = 3 ] ||
	{ cat "$T.conns"; fail "not three connections joined across the translation"; }
# the veth one (client view on the wire) and the loopback one (translated tuple)
expect_grep "^#1  $A:$X1 -> $B:1112 " "$T.conns" "connection 1"
expect_grep "^#2  127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:1112 " "$T.conns" "connection 2 (loopback)"
n1=$(awk '/^#1 /{c=1} /^#2 /{c=0} c && /packets:/ { print $2 }' "$T.conns")
n2=$(awk '/^#2 /{c=1} /^#3 /{c=0} c && /packets:/ { print $2 }' "$T.conns")
[ "$n1" = "$v1" ] || { cat "$T.conns"; fail "connection 1: $n1 packets attached, $v1 in the pcap"; }
[ "$n2" = "$lo" ] || { cat "$T.conns"; fail "connection 2: $n2 packets attached, $lo in the pcap"; }
for c in 1 2; do
	awk -v c="^#$c " '$0 ~ c {f=1; next} /^#/ {f=0} f && /packets:/' "$T.conns" |
		grep -Eq 'SYN 1, SYN-ACK 1, ACK [0-9]+, data 2, FIN 2, RST 0' ||
		{ cat "$T.conns"; fail "connection $c: packet counts"; }
done
ok "NAT: $total packets all attached; veth connection $n1 packets (client's view), loopback $n2 ($lo80 with the server socket's tuple)"

"$ANA" anomalies --json "$T" >"$T.json" 2>/dev/null || fail "anomalies"
$PY - "$T.json" "$A" "$B" "$X3" <<'EOF' || fail "nat_mismatch with its RST packet, no rst_external"
import json, sys
j = json.load(open(sys.argv[1]))
a, b, x = sys.argv[2:]
kinds = [f["kind"] for f in j["anomalies"]]
assert "rst_external" not in kinds, kinds
nm = [f for f in j["anomalies"] if f["kind"] == "nat_mismatch"]
assert nm, kinds
pk = [e["packet"] for f in nm for e in f["evidence"] if e["event"] == "packet"]
rst = [p for p in pk if "RST" in p["flags"]]
assert rst, nm
r = rst[0]
assert r["src"] == "%s:1112" % b and r["dst"] == "%s:%s" % (a, x), r
assert r["sent_by_local_tcp"] is True and r["made_by"].startswith("RST sent"), r
print("nat_mismatch: RST packet", r["number"], r["src"], "->", r["dst"], "made by", r["made_by"])
EOF
ok "NAT reset: nat_mismatch names the RST packet its own TCP sent; no rst_external"
