#!/bin/bash
# The NAT reset of article 002, between two network namespaces the test
# creates. The server namespace redirects port 1112 to 80 (iptables
# REDIRECT); a client connects to 1112 and the server's socket is
# server:80 <-> client. Mid-connection the translation stops applying (a
# raw-table NOTRACK rule for port 1112): the client's next segment reaches
# TCP untranslated, to server:1112, matches no socket and is answered with
# an RST. The capture must show that RST with no socket and the
# untranslated tuple, the reason NO_SOCKET and a stack through
# tcp_v4_send_reset, while the real socket on port 80 is still ESTABLISHED;
# and the client receiving the RST.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/scen_lib.sh"
need_fault_tools
need_netns
command -v iptables >/dev/null || skip "no iptables(8)"

D=$TT_OUT/fault_nat
rm -rf "$D"
mkdir -p "$D"
NSA=ttf_na$$ NSB=ttf_nb$$
netns_pair $NSA $NSB 10.233.0.1 10.233.0.2
ip netns exec $NSB iptables -t nat -A PREROUTING -p tcp --dport 1112 -j REDIRECT --to-ports 80 ||
	skip "iptables NAT does not work in a namespace here"
NSAINO=$(netns_of $NSA) NSBINO=$(netns_of $NSB)

cat >"$D/server.py" <<EOF
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.233.0.2", 80)); s.listen(4); s.settimeout(10)
open("$D/ready", "w").close()
c, _ = s.accept(); c.settimeout(3)
try:
    while c.recv(4096):
        pass
except OSError:
    pass
EOF
cat >"$D/client.py" <<EOF
import os, socket, subprocess, time
for _ in range(100):
    if os.path.exists("$D/ready"):
        break
    time.sleep(0.05)
c = socket.create_connection(("10.233.0.2", 1112), timeout=5)
c.sendall(b"a" * 10)
time.sleep(0.2)
# the translation stops applying to this flow from now on
subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", "-t", "raw", "-I", "PREROUTING",
                "-p", "tcp", "--dport", "1112", "-j", "NOTRACK"], check=True)
c.sendall(b"b" * 10)
c.settimeout(2)
try:
    c.recv(10)
    print("reset no", flush=True)
except ConnectionResetError:
    print("reset yes", flush=True)
print("port", c.getsockname()[1], flush=True)
EOF
T=$D/nat.trail
fault_record "$T" timeout 20 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait"
d=$T.dump
X=$(sed -n 's/^port //p' "$T.out")
[ -n "$X" ] || { cat "$T.out"; fail "no port from the client"; }
grep -q '^reset yes' "$T.out" || { cat "$T.out"; fail "the client was not reset: scenario did not happen"; }
A='10\.233\.0\.1' B='10\.233\.0\.2'

# the two ends as the kernel knows them: different ports on the server side
srv=$(sock_id "$d" "$B:80>$A:$X")
cli=$(sock_id "$d" "$A:$X>$B:1112")
[ -n "$srv" ] && [ -n "$cli" ] || { grep -E '^(SOCK|TUPLE)' "$d" | grep 10.233; fail "no server socket $B:80 or client socket port $X"; }
grep -Eq "^SOCK id=$srv .* netns=$NSBINO " "$d" || fail "server socket not in the server namespace"

# the RST: no socket, the untranslated segment, NO_SOCKET, via tcp_v4_send_reset
expect_n "$d" RESET "dir=sent source=reply sock=0 .* netns=$NSBINO state=none reason=SK_RST_REASON_NO_SOCKET\(.* seg=$A:$X>$B:1112 flags=[A-Z]*A[A-Z]* .* len=10$" 1 1 \
	"RST answering the untranslated segment"
rst=$(lines "$d" RESET "dir=sent source=reply sock=0 .* seg=$A:$X>$B:1112 ")
expect_stack "$d" "$rst" "NAT RST" tcp_v4_send_reset tcp_v4_rcv ip_local_deliver_finish
seq=$(field "$rst" seq) ack=$(field "$rst" ack) fl=$(field "$rst" flags)
expect_n "$d" DROP "sock=0 .* netns=$NSBINO reason=SKB_DROP_REASON_NO_SOCKET\(.* seg=$A:$X>$B:1112 flags=$fl seq=$seq ack=$ack " 1 1 \
	"the untranslated segment dropped for NO_SOCKET"

# the real socket never left ESTABLISHED before the RST: the RST is not its
ts=$(field "$rst" ts)
awk -v s="sock=$srv" -v ts="$ts" '$1 == "STATE" && $3 == s {
		t = $2; sub(/ts=/, "", t); if (t + 0 < ts + 0) last = $NF }
	END { exit last != "new=TCP_ESTABLISHED(1)" }' "$d" ||
	{ grep -E "^STATE .* sock=$srv " "$d"; fail "server socket $B:80 not ESTABLISHED at the RST"; }
expect_n "$d" RESET "sock=$srv " 0 0 "no reset names the server socket"

# the client's socket, still addressed to 1112, accepts the RST
expect_n "$d" RESET "dir=received source=[a-z]+ sock=$cli .* netns=$NSAINO state=TCP_ESTABLISHED\(" 1 1 "the client receives the RST"
[ "$(field "$(lines "$d" RESET "dir=received source=[a-z]+ sock=$cli ")" ts)" -ge "$ts" ] || fail "client reset before the RST was sent"
ok "NAT: RST with no socket for the untranslated 10.233.0.1:$X>10.233.0.2:1112 (NO_SOCKET, tcp_v4_send_reset), server socket on port 80 untouched, client reset"

# the analyzer: one connection across the translation, one nat_mismatch
# naming both tuples, with the RST, the dropped segment and the client's
# reset as evidence; the client's reset is not taken for the peer's
"$ANA" anomalies --json "$T" >"$T.json" 2>/dev/null || fail "anomalies"
C="client=$A:$X" S="server=$B:1112"
scen_expect "$T.json" nat_mismatch "$C" "$S" both=true sel="answered with RST" \
	summary="segment $A:$X -> $B:1112 answered with RST without a socket; .*\(server socket $B:80 <- $A:$X\)" \
	reason=SK_RST_REASON_NO_SOCKET reason=SKB_DROP_REASON_NO_SOCKET seg="^$A:$X > $B:1112 PSH,ACK\$" \
	stack=tcp_v4_send_reset,tcp_v4_rcv,ip_local_deliver_finish 'order=RST sent<RST received' \
	explain="whose local port is 80, not 1112" explain="NAT, e.g. iptables REDIRECT/DNAT to port 80"
for k in rst_received rst_external; do
	scen_expect "$T.json" $k "$C" "$S" count=0
done
