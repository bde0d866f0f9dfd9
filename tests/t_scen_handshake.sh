#!/bin/bash
# Handshakes that go wrong, recorded for real between two network
# namespaces of our own (all three at once, each on its own port) and
# explained by `tcptrail-analyze anomalies --json`:
#  - syn_retransmit + handshake_timeout: the server's namespace drops the
#    SYNs (iptables DROP); the client's namespace allows one SYN retry
#    (net.ipv4.tcp_syn_retries=1), so connect() fails after 3 s;
#  - synack_retransmit: the server's namespace drops the final ACK for
#    1.3 s: the request sock resends its SYN-ACK, then the client's data
#    completes the handshake;
#  - listen_overflow: a listener with backlog 1 that never accepts; two
#    handshakes held (their final ACKs dropped) until their data comes: one
#    child fits, the other's data is dropped (TCP_LISTEN_OVERFLOW) and its
#    request sock resends its SYN-ACK.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/scen_lib.sh"
need_fault_tools
need_netns
command -v iptables >/dev/null || skip "no iptables(8)"

D=$TT_OUT/scen_handshake
rm -rf "$D"
mkdir -p "$D"
NSA=tts_ha$$ NSB=tts_hb$$
netns_pair $NSA $NSB 10.238.0.1 10.238.0.2
A='10\.238\.0\.1' B='10\.238\.0\.2'
P=$((20000 + RANDOM % 20000))
PS=$P PA=$((P + 1)) PO=$((P + 2))	# SYNs dropped, final ACK dropped, overflow
ip netns exec $NSA sysctl -qw net.ipv4.tcp_syn_retries=1 || fail "cannot set tcp_syn_retries"
ipt() { ip netns exec $NSB iptables "$@"; }
ipt -A INPUT -p tcp --dport $PS --syn -j DROP || skip "iptables does not work in a namespace here"

# server.py: listeners on PA (accepts) and PO (backlog 1, never accepts)
cat >"$D/server.py" <<EOF
import socket, time
$(comm_py '"tt-server"')
def listen(port, n):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("10.238.0.2", port)); l.listen(n); return l
a, o = listen($PA, 4), listen($PO, 1)
open("$D/ready", "w").close()
a.settimeout(6)
c, _ = a.accept(); c.settimeout(3)
c.recv(10)
time.sleep(3.5)
EOF
# client.py MODE: syn, ack or overflow (above)
cat >"$D/client.py" <<EOF
import os, socket, subprocess, sys, time
mode = sys.argv[1]
$(comm_py '"tt-" + mode')
for _ in range(200):
    if os.path.exists("$D/ready"):
        break
    time.sleep(0.02)
def acks(port, op):                    # the server's namespace drops final ACKs
    subprocess.run(["ip", "netns", "exec", "$NSB", "iptables", op, "INPUT", "-p", "tcp",
                    "--dport", str(port), "--tcp-flags", "SYN,ACK,PSH", "ACK", "-j", "DROP"],
                   check=True)
def connect(port):
    c = socket.socket(); c.settimeout(5); c.connect(("10.238.0.2", port)); return c
if mode == "syn":
    c = socket.socket(); t = time.time()
    try:
        c.connect(("10.238.0.2", $PS))
    except OSError as e:
        print("syn", c.getsockname()[1], e.errno, round(time.time() - t, 1), os.getpid(), flush=True)
    time.sleep(0.1)
    c.close()
elif mode == "ack":
    acks($PA, "-A")
    c = connect($PA)
    print("ack", c.getsockname()[1], flush=True)
    time.sleep(1.3)                    # the SYN-ACK comes again after 1 s
    acks($PA, "-D")
    c.send(b"x" * 10)
    time.sleep(0.2)
else:
    first = connect($PO)
    acks($PO, "-A")
    pend = [connect($PO), connect($PO)]  # request socks
    time.sleep(0.2)
    acks($PO, "-D")
    for c in pend:
        c.send(b"x" * 10)
    print("overflow", first.getsockname()[1], pend[0].getsockname()[1],
          pend[1].getsockname()[1], flush=True)
    time.sleep(1.5)                    # C's SYN-ACK is resent
EOF
SRV="ip netns exec $NSB $PY $D/server.py" CLI="ip netns exec $NSA $PY $D/client.py"
T=$D/handshake.trail
scen_record "$T" -q -p $PS -p $PA -p $PO -- timeout 20 bash -c "
	$SRV & $CLI syn & $CLI ack & $CLI overflow; wait"
read -r _ XS ERR SECS PIDS < <(grep '^syn ' "$T.out")
read -r _ XA < <(grep '^ack ' "$T.out")
read -r _ XF XB XC < <(grep '^overflow ' "$T.out")
[ "$ERR" = 110 ] && [ -n "$XA" ] && [ -n "$XC" ] ||
	{ cat "$T.out" "$T.err"; fail "the scenarios did not run as planned (connect: errno '$ERR' after $SECS s)"; }

scen_kinds "$T.json" "syn_retransmit:1 handshake_timeout:2 synack_retransmit:2 listen_overflow:1 rst_abort:2"
# SYNs dropped: resent, then connect() gave up (the close() came after)
scen_expect "$T.json" syn_retransmit client="$A:$XS" server="$B:$PS" \
	event='^SYN retransmitted' seg="^$A:$XS > $B:$PS SYN\$" \
	summary="the client sent its SYN [1-9] more times?; the handshake never completed" \
	explain="No SYN-ACK came back" reason=SKB_DROP_REASON_NETFILTER_DROP \
	'order=segment dropped<SYN retransmitted' explain="a firewall rule here \(iptables/nft\) dropped them"
# The close() of a socket whose connect() timed out is recorded under -p
# although tcp_disconnect cleared its remote port (the filter follows it):
# the kernel gave up first, the application closed after, never "closed
# while connecting".
why=("order=state SYN_SENT>CLOSE<close\(\) called" "explain=the kernel gave up .*closed the socket only after that")
scen_expect "$T.json" handshake_timeout client="$A:$XS" server="$B:$PS" \
	'order=state CLOSE>SYN_SENT<state SYN_SENT>CLOSE' "${why[@]}" noexplain="while connecting" \
	process=tt-syn pid="$PIDS" summary="the client's connect\(\) gave up after [0-9.]+ ms in SYN_SENT"
# the final ACK dropped for 1.3 s: the SYN-ACK resent, then the handshake done
scen_expect "$T.json" synack_retransmit client="$A:$XA" server="$B:$PA" both=true \
	event='^SYN-ACK retransmitted' seg="^$B:$PA > $A:$XA SYN,ACK\$" \
	summary="the server sent its SYN-ACK 1 more time\$" explain="final ACK of the handshake did not arrive" \
	reason=SKB_DROP_REASON_NETFILTER_DROP seg="^$A:$XA > $B:$PA ACK\$" \
	explain="dropped 1 segment of this connection .*a firewall rule here \(iptables/nft\) dropped it"
# the overflow: C's data dropped on the full listener, its SYN-ACK resent,
# its request sock never became a child and went with the listener
scen_expect "$T.json" listen_overflow reason=SKB_DROP_REASON_TCP_LISTEN_OVERFLOW \
	seg="^$A:$XC > $B:$PO " summary="dropped: the listen queue of $B:$PO was full" \
	explain="accept queue was full" stack=sk_skb_reason_drop,tcp_v4_rcv
scen_expect "$T.json" synack_retransmit client="$A:$XC" server="$B:$PO" \
	seg="^$B:$PO > $A:$XC SYN,ACK\$"
scen_expect "$T.json" handshake_timeout client="$A:$XC" server="$B:$PO" \
	'order=SYN arrived<SYN-ACK retransmitted' 'order=SYN-ACK retransmitted<request sock dropped' \
	summary="a SYN arrived but the handshake never completed on the server" \
	explain="the request sock went when its listener was closed" noexplain="SYN-ACK retries"
# the two children never accepted, reset when the listener closed
for x in $XF $XB; do
	scen_expect "$T.json" rst_abort client="$A:$x" server="$B:$PO" process=tt-server \
		reason=SK_RST_REASON_TCP_STATE \
		stack=tcp_send_active_reset,tcp_disconnect,inet_child_forget,inet_csk_listen_stop \
		explain="listening socket was closed .* never accepted" noexplain="SO_LINGER"
done
