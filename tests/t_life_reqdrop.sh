#!/bin/bash
# Request socks that never get a child do not stay live: between two network
# namespaces joined by a veth pair (made here), the client's firewall drops
# every SYN-ACK. The server's request sock retransmits its SYN-ACK (the
# fault probe's RETRANS names the same request sock) until its retries (1
# here) run out, then the kernel drops it: LIFE REQ_DROPPED, value 1 (SYN-ACK
# retries exhausted), when its timer fires, and its id is retired. A second
# request sock is left behind by a listener that closes: REQ_DROPPED value 2
# at its next timer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns
command -v nft >/dev/null || skip "no nft(8)"

D=$TT_OUT/life_reqdrop
rm -rf "$D"
mkdir -p "$D"
NSA=ttl_ra$$ NSB=ttl_rb$$
synack_blackhole $NSA $NSB 10.235.0.1 10.235.0.2
NSBI=$(netns_of $NSB)
P=$((20000 + RANDOM % 20000))

# server.py: listens for 6 s (the first request sock times out meanwhile),
# then closes the listener with a second request sock still queued.
cat >"$D/server.py" <<EOF
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.235.0.2", $P)); s.listen(4)
open("$D/ready", "w").close()
time.sleep(6)
s.close()
time.sleep(2.5)
EOF
# client.py: two connects that never complete (one SYN retransmit each)
cat >"$D/client.py" <<EOF
import os, socket, time
for _ in range(100):
    if os.path.exists("$D/ready"):
        break
    time.sleep(0.05)
def attempt(delay):
    time.sleep(delay)
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    c.settimeout(10)
    c.bind(("10.235.0.1", 0))
    print("port", c.getsockname()[1], flush=True)
    try:
        c.connect(("10.235.0.2", $P))
        print("connected", flush=True)
    except OSError as e:
        print("failed", e.errno, flush=True)
attempt(0)
attempt(1.5)
EOF
T=$D/reqdrop.trail
fault_record "$T" timeout 30 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait"
d=$T.dump
grep -q '^connected' "$T.out" && { cat "$T.out"; fail "a handshake completed through the firewall"; }
read -r X1 X2 <<<"$(sed -n 's/^port //p' "$T.out" | tr '\n' ' ')"
[ -n "$X2" ] || { cat "$T.out"; fail "no client ports"; }
A='10\.235\.0\.1' B='10\.235\.0\.2'
NS_PER_S=1000000000

# 1: retries exhausted while the listener listens
r1=$(kids "$d" 1 "$NSBI" "$B:$P>$A:$X1")
[ "$(wc -w <<<"$r1")" = 1 ] || fail "want one request sock for the first SYN, got '$r1'"
syn=$(one "$d" LIFE "sock=$r1 .* event=$EV_SYN_ARRIVED " "first request sock's SYN") || exit 1
expect_n "$d" RETRANS "kind=synack sock=$r1 .* state=TCP_NEW_SYN_RECV\(" 1 \
	"SYN-ACK retransmits named by the request sock's id"
drop=$(one "$d" LIFE "sock=$r1 .* task=none event=$EV_REQ_DROPPED value=1$" \
	"first request sock dropped: SYN-ACK retries exhausted") || exit 1
dt=$(( $(ts_of "$drop") - $(ts_of "$syn") ))
# timers at 1 s and 1 + 2 s (a retransmitted SYN may push them a bit)
[ $dt -ge $((2 * NS_PER_S)) ] && [ $dt -le $((6 * NS_PER_S)) ] ||
	fail "first request sock dropped $dt ns after its SYN, want about 3 s"
[ "$(lineno "$d" "^RETIRE id=$r1$")" -gt "$(lineno "$d" "^LIFE .*sock=$r1 .* event=$EV_REQ_DROPPED ")" ] ||
	fail "first request sock not retired after its drop"
expect_n "$d" LINK "other=$r1 .* relation=$REL_CHILD_OF_REQ$" 0 0 "no child for the first request sock"
ok "handshake timeout: request sock dropped $dt ns after the SYN, SYN-ACK retransmits on its id"

# 2: the listener closes with a request sock queued
r2=$(kids "$d" 1 "$NSBI" "$B:$P>$A:$X2" | head -n 1)
[ -n "$r2" ] || fail "no request sock for the second SYN"
lclose=$(one "$d" STATE "sktuple=$B:$P>0\.0\.0\.0:0 .* old=TCP_LISTEN\(10\) new=TCP_CLOSE\(7\)" "listener closed") || exit 1
odrop=$(one "$d" LIFE "sock=$r2 .* event=$EV_REQ_DROPPED value=2$" "second request sock dropped with its listener") ||
	{ grep -E "sock=$r2 " "$d"; exit 1; }
[ "$(ts_of "$odrop")" = "$(ts_of "$lclose")" ] || fail "second request sock not dropped at its listener's close"
ok "listener closed with a request sock queued: REQ_DROPPED value 2 at its close"
