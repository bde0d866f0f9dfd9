#!/bin/bash
# Accept-queue overflow, in a network namespace of our own: a listener with
# backlog 1 that never accepts. One connection fills the queue half; two
# more complete their handshake while an nftables rule holds back their
# final ACKs, so both are request socks when the rule goes. Their data then
# completes them: one child fits, the other overflows the queue, is dropped
# with TCP_LISTEN_OVERFLOW, and the listener retransmits its SYN-ACK while
# the client retransmits its data. A last SYN, sent with the queue full, is
# discarded by the listener and retransmitted by its client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
need_netns
command -v nft >/dev/null || skip "no nft(8)"

D=$TT_OUT/fault_backlog
rm -rf "$D"
mkdir -p "$D"
NS=ttf_bl$$
cleanup() { ip netns del $NS 2>/dev/null; }
trap cleanup EXIT
ip netns add $NS && ip -n $NS link set lo up || fail "cannot set up namespace $NS"
NSINO=$(netns_of $NS)
P=$((20000 + RANDOM % 20000))

cat >"$D/overflow.py" <<EOF
import socket, subprocess, time
port = $P
def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)
def connect():
    c = socket.socket(); c.settimeout(2); c.connect(("127.0.0.1", port)); return c
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)    # the queue holds 2, nobody accepts
first = connect()
nft("add table inet ttf")
nft("add chain inet ttf in { type filter hook input priority 0 ; }")
nft("add rule inet ttf in tcp dport %d tcp flags & (syn | ack) == ack drop" % port)
pend = [connect(), connect()]                     # final ACKs held back
time.sleep(0.2)
nft("delete table inet ttf")
for c in pend:
    c.send(b"x" * 10)
time.sleep(1.5)                                   # SYN-ACK and data retransmits
late = socket.socket(); late.setblocking(False)
try:
    late.connect(("127.0.0.1", port))
except BlockingIOError:
    pass
time.sleep(1.4)                                   # its SYN is retransmitted after 1 s
print("ports", first.getsockname()[1], pend[0].getsockname()[1], pend[1].getsockname()[1],
      late.getsockname()[1], flush=True)
for c in [first, late] + pend:
    c.close()
srv.close()
EOF
T=$D/backlog.trail
fault_record "$T" ip netns exec $NS timeout 20 $PY "$D/overflow.py"
d=$T.dump
read -r FIRST B C LATE < <(sed -n 's/^ports //p' "$T.out")
[ -n "$LATE" ] || { cat "$T.out"; fail "no ports from the scenario"; }
A='127\.0\.0\.1'
listener=$(sock_id "$d" "$A:$P>0\.0\.0\.0:0")
[ -n "$listener" ] || fail "no listener socket on port $P"

# the overflow: C's data reaches its request sock, the queue is full
expect_n "$d" DROP "sock=$listener .* netns=$NSINO reason=SKB_DROP_REASON_TCP_LISTEN_OVERFLOW\(.* seg=$A:$C>$A:$P flags=PA .* len=10$" 1 \
	"C's data dropped for listen overflow on the listener"
line=$(lines "$d" DROP "reason=SKB_DROP_REASON_TCP_LISTEN_OVERFLOW\(.* seg=$A:$C>$A:$P flags=PA" | head -n 1)
seq=$(field "$line" seq)
expect_stack "$d" "$line" "listen overflow drop" "(kfree_skb_reason|sk_skb_reason_drop)" tcp_v4_rcv
expect_n "$d" DROP "reason=SKB_DROP_REASON_TCP_LISTEN_OVERFLOW\(.* seg=$A:($FIRST|$B)>" 0 0 \
	"no overflow for the connections that fit"
# the listener keeps C's request sock and retransmits its SYN-ACK, which
# acknowledges exactly the data that was dropped
expect_n "$d" RETRANS "kind=synack .* sktuple=$A:$P>$A:$C .* state=TCP_NEW_SYN_RECV\(.* seg=$A:$P>$A:$C flags=SA seq=[0-9]+ ack=$seq " 1 \
	"SYN-ACK retransmit of C's request sock"
req=$(field "$(lines "$d" RETRANS "kind=synack .* sktuple=$A:$P>$A:$C " | head -n 1)" sock)
grep -Eq "^SOCK id=$req kind=1 " "$d" || { grep -E "^SOCK id=$req " "$d"; fail "the SYN-ACK's socket is not a request sock"; }
# the client believes it is connected and retransmits the data
expect_n "$d" RETRANS "kind=data .* sktuple=$A:$C>$A:$P .* state=TCP_ESTABLISHED\(.* flags=PA seq=$seq .* len=10$" 1 \
	"C retransmits its data"
ok "listen overflow: C's data dropped (TCP_LISTEN_OVERFLOW) on the listener, SYN-ACK and data retransmitted"

# the late SYN: discarded at the full queue, retransmitted, never a child
expect_n "$d" RETRANS "kind=syn .* sktuple=$A:$LATE>$A:$P .* state=TCP_SYN_SENT\(.* seg=$A:$LATE>$A:$P flags=S " 1 \
	"the late SYN is retransmitted"
expect_n "$d" STATE "sktuple=$A:$P>$A:$LATE .* old=TCP_LISTEN\(10\)" 0 0 "no child for the late SYN"
ok "SYN to a full accept queue: retransmitted, never answered"
