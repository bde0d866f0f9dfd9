#!/bin/bash
# The recorder's table of request and timewait socks is bounded: with room
# for 4 (--max-sockets 4) and 6 request socks pending at once (their
# SYN-ACKs dropped by the client's firewall, veth pair between two network
# namespaces made here), the oldest are ended early, REQ_DROPPED value 4
# ("evicted"), counted in the LOSS note, and every request sock still ends
# exactly once: evicted, or dropped by the kernel when its retries run out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns
command -v nft >/dev/null || skip "no nft(8)"

D=$TT_OUT/life_bounded
rm -rf "$D"
mkdir -p "$D"
NSA=ttl_ba$$ NSB=ttl_bb$$
synack_blackhole $NSA $NSB 10.236.0.1 10.236.0.2
NSBI=$(netns_of $NSB)
P=$((20000 + RANDOM % 20000))
N=6

cat >"$D/server.py" <<EOF
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.236.0.2", $P)); s.listen(16)
open("$D/ready", "w").close()
time.sleep(6)
EOF
cat >"$D/client.py" <<EOF
import os, socket, time
for _ in range(100):
    if os.path.exists("$D/ready"):
        break
    time.sleep(0.05)
cs = []
for i in range($N):
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    c.setblocking(False)
    c.connect_ex(("10.236.0.2", $P))
    cs.append(c)
    time.sleep(0.05)
time.sleep(5)
EOF
T=$D/bounded.trail
"$REC" -q --ring-size 64 --max-sockets 4 -w "$T" -- timeout 30 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait" \
	>"$T.out" 2>"$T.err" || { cat "$T.out" "$T.err"; fail "recording failed"; }
"$ANA" dump "$T" >"$T.dump" || fail "dump of $T failed"
d=$T.dump
B='10\.236\.0\.2' A='10\.236\.0\.1'

# ids of request socks: an evicted one that shows up again (its timer, a
# SYN-ACK retransmit) gets a new id, like any socket the recorder dropped
reqs=$(kids "$d" 1 "$NSBI" "$B:$P>$A:[0-9]+")
tuples=$(grep -E "^SOCK id=[0-9]+ kind=1 .* netns=$NSBI .* tuple=$B:$P>$A:[0-9]+$" "$d" |
	sed 's/.* tuple=//' | sort -u | wc -l)
[ "$tuples" = $N ] || fail "want request socks for $N connections, got $tuples"
evicted=0
for r in $reqs; do
	end=$(one "$d" LIFE "sock=$r .* event=$EV_REQ_DROPPED value=[1-4]$" "request sock id $r ends once") || exit 1
	[ "$(field "$end" value)" = 4 ] && evicted=$((evicted + 1))
	[ "$(lineno "$d" "^RETIRE id=$r$")" -gt 0 ] || fail "request sock id $r not retired"
done
[ $evicted -ge $((N - 4)) ] || fail "want at least $((N - 4)) request socks evicted, got $evicted"
loss=$(grep '^LOSS' "$d" | tail -n 1)
n=$(sed -n 's/.* note\.minisock_evictions=\([0-9]*\).*/\1/p' <<<"$loss")
[ "${n:-0}" -ge $evicted ] || { echo "$loss"; fail "LOSS note counts ${n:-0} evictions, $evicted seen"; }
ok "$N pending handshakes in a table of 4: $evicted request sock ids evicted (REQ_DROPPED 4), every id ended once"
