#!/bin/bash
# Healthy traffic has no findings: handshake, data both ways and close, in
# both close orders, between two network namespaces of our own and on
# loopback in the test's own namespace, recorded with every probe
# (lifecycle too) and checked with the strictest CLOSE_WAIT threshold we
# use (--close-wait-ms 300). The connections must be there, joined.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/scen_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/scen_healthy
rm -rf "$D"
mkdir -p "$D"
NSA=tts_ya$$ NSB=tts_yb$$
netns_pair $NSA $NSB 10.240.0.1 10.240.0.2
P=$((20000 + RANDOM % 20000))

# peer.py ROLE ADDR PORT FIRST: server or client; FIRST: which one closes
# first. The other reads to EOF, then closes. Two connections each.
cat >"$D/peer.py" <<EOF
import os, socket, sys, time
role, addr, port, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def talk(c):
    c.settimeout(5)
    if role == "client":
        c.sendall(b"request")
        assert c.recv(100) == b"response"
    else:
        assert c.recv(100) == b"request"
        c.sendall(b"response")
    if first == role:
        c.close()
    else:
        while c.recv(100):
            pass
        c.close()
ready = "$D/ready.%s.%d" % (addr, port)
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port)); l.listen(4); l.settimeout(5)
    open(ready, "w").close()
    for _ in range(2):
        talk(l.accept()[0])
    l.close()
else:
    for _ in range(200):
        if os.path.exists(ready):
            break
        time.sleep(0.02)
    for _ in range(2):
        talk(socket.create_connection((addr, port), timeout=5))
EOF
NET=10.240.0.2 LO=127.0.0.1
run() {	# NS-A NS-B ADDR PORT FIRST: server in NS-B, client in NS-A
	echo "ip netns exec $2 $PY $D/peer.py server $3 $4 $5 & ip netns exec $1 $PY $D/peer.py client $3 $4 $5 &"
}
T=$D/healthy.trail
SCEN_ANA_OPTS="--close-wait-ms 300" scen_record "$T" -q -p $P -p $((P + 1)) -p $((P + 2)) -p $((P + 3)) \
	-- timeout 20 bash -c "
	$(run $NSA $NSB $NET $P client) $(run $NSA $NSB $NET $((P + 1)) server)
	$(run $NSA $NSA $LO $((P + 2)) client) $(run $NSA $NSA $LO $((P + 3)) server) wait"
scen_kinds "$T.json" ""
ok "no findings"

# the traffic is there: 8 connections, both ends recorded and joined,
# each closed by the side that was meant to
"$ANA" connections "$T" >"$T.conns" || fail "connections"
[ "$(grep -c '^#' "$T.conns")" = 8 ] || { cat "$T.conns"; fail "want 8 connections"; }
expect_grep '^  connections  8 \(8 with both ends recorded\), 4 listeners$' <("$ANA" "$T") "all joined"
for i in 0 1 2 3; do
	who=client
	[ $((i % 2)) = 1 ] && who=server
	n=$(awk -v port=":$((P + i)) " -v want="closed first by the $who " '
		/^#/ { inport = index($0, port) > 0 }
		inport && index($0, want) { n++ } END { print n + 0 }' "$T.conns")
	[ "$n" = 2 ] || { cat "$T.conns"; fail "port $((P + i)): want 2 connections closed first by the $who"; }
done
ok "8 connections, both ends joined, both close orders in netns and on loopback"
