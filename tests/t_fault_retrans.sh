#!/bin/bash
# Retransmits between two network namespaces joined by a veth pair that
# the test creates. (1) SYNs to a peer that never answers: its firewall
# drops them (NETFILTER_DROP), and the client retransmits the same SYN.
# (2) Data on an established connection whose segments the peer starts to
# drop: the client retransmits them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
need_netns
command -v nft >/dev/null || skip "no nft(8)"

D=$TT_OUT/fault_retrans
rm -rf "$D"
mkdir -p "$D"
NSA=ttf_ra$$ NSB=ttf_rb$$
netns_pair $NSA $NSB 10.232.0.1 10.232.0.2
NSBINO=$(netns_of $NSB)
P=$((20000 + RANDOM % 20000))	# dropped: nobody answers
Q=$((P + 1))			# answers, then its data is dropped
ip netns exec $NSB nft -f - <<EOF || fail "cannot add the drop rules"
table inet ttf {
	chain in {
		type filter hook input priority 0;
		tcp dport $P drop
	}
}
EOF

cat >"$D/server.py" <<EOF
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.232.0.2", $Q)); s.listen(4); s.settimeout(10)
c, _ = s.accept()
time.sleep(1.5)
EOF
cat >"$D/client.py" <<EOF
import socket, subprocess, time
s = socket.socket(); s.settimeout(3.5)           # SYN retransmits at 1 s and 3 s
try:
    s.connect(("10.232.0.2", $P))
except OSError:
    pass
time.sleep(0.2)
for _ in range(100):
    try:
        c = socket.create_connection(("10.232.0.2", $Q), timeout=2)
        break
    except OSError:
        time.sleep(0.05)
subprocess.run(["ip", "netns", "exec", "$NSB", "nft", "add", "rule", "inet", "ttf", "in",
                "tcp", "dport", "$Q", "tcp", "flags", "&", "psh", "==", "psh", "drop"], check=True)
c.send(b"d" * 100)
time.sleep(1.0)                                   # RTO 200 ms and its backoff
print("ports", s.getsockname()[1], c.getsockname()[1], flush=True)
EOF
T=$D/retrans.trail
fault_record "$T" timeout 20 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait"
d=$T.dump
read -r X Y < <(sed -n 's/^ports //p' "$T.out")
[ -n "$Y" ] || { cat "$T.out"; fail "no ports from the client"; }
A='10\.232\.0\.1' B='10\.232\.0\.2'

# (1) the first SYN, dropped by the peer's firewall, then the same SYN again
line=$(lines "$d" DROP "netns=$NSBINO reason=SKB_DROP_REASON_NETFILTER_DROP\(.* seg=$A:$X>$B:$P flags=S " | head -n 1)
[ -n "$line" ] || { grep '^DROP' "$d" | head; fail "no NETFILTER_DROP of the SYN to $P"; }
expect_stack "$d" "$line" "firewall drop" "(kfree_skb_reason|sk_skb_reason_drop)" nf_hook_slow
seq=$(field "$line" seq)
expect_n "$d" RETRANS "kind=syn .* sktuple=$A:$X>$B:$P .* state=TCP_SYN_SENT\(.* seg=$A:$X>$B:$P flags=S seq=$seq ack=0 len=0$" 2 \
	"SYN retransmits (1 s, 3 s)"
t0=$(field "$line" ts)
t1=$(field "$(lines "$d" RETRANS "kind=syn .* sktuple=$A:$X>$B:$P " | head -n 1)" ts)
[ $((t1 - t0)) -ge 900000000 ] || fail "first SYN retransmit $((t1 - t0)) ns after the drop, want ~1 s"
expect_n "$d" STATE "sktuple=$A:$X>$B:$P .* new=TCP_ESTABLISHED" 0 0 "the connection never opened"
ok "SYNs to a peer that never answers: dropped by its firewall, the same SYN retransmitted"

# (2) data retransmits on the established connection, the peer dropping them
expect_n "$d" STATE "sktuple=$A:$Y>$B:$Q .* new=TCP_ESTABLISHED" 1 1 "second connection open"
line=$(lines "$d" DROP "netns=$NSBINO reason=SKB_DROP_REASON_NETFILTER_DROP\(.* seg=$A:$Y>$B:$Q flags=PA .* len=100$" | head -n 1)
[ -n "$line" ] || { grep '^DROP' "$d" | head; fail "no NETFILTER_DROP of the data to $Q"; }
seq=$(field "$line" seq)
expect_n "$d" RETRANS "kind=data .* sktuple=$A:$Y>$B:$Q .* state=TCP_ESTABLISHED\(.* seg=$A:$Y>$B:$Q flags=PA seq=$seq .* len=100$" 2 \
	"data retransmits"
ok "data dropped by the peer: the same 100 bytes retransmitted"
