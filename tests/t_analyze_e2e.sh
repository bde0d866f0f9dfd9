#!/bin/bash
# End to end: record real loopback connections with tcptrail-record and
# check tcptrail-analyze against what the test did: both ends of each
# connection joined, each side's states in protocol order, the active
# closer the side the test told to close first. Then the same across two
# network namespaces joined by a veth pair that the test creates.
. "$(dirname "$0")/lib.sh"

[ -x "$REC" ] || skip "recorder not built: $REC"
need_bpf
LOADGEN=$TT_BUILD/tcptrail-loadgen
[ -x "$ANA" ] || fail "analyzer not built: $ANA"
[ -x "$LOADGEN" ] || skip "loadgen not built: $LOADGEN"
D=$TT_OUT/analyze_e2e
rm -rf "$D"; mkdir -p "$D"

# Each part uses a free port (free_port, lib.sh), recorded alone (-p):
# whatever else the host does during the recording stays out of the capture.

# Transitions TCP allows (RFC 793 plus Linux's FIN_WAIT2/CLOSING -> CLOSE
# when a timewait socket takes over).
VALID=" CLOSE>SYN_SENT SYN_SENT>ESTABLISHED LISTEN>SYN_RECV SYN_RECV>ESTABLISHED
 ESTABLISHED>FIN_WAIT1 ESTABLISHED>CLOSE_WAIT ESTABLISHED>CLOSE SYN_RECV>FIN_WAIT1
 FIN_WAIT1>FIN_WAIT2 FIN_WAIT1>CLOSING FIN_WAIT1>TIME_WAIT FIN_WAIT1>CLOSE
 FIN_WAIT2>TIME_WAIT FIN_WAIT2>CLOSE CLOSING>TIME_WAIT CLOSING>CLOSE TIME_WAIT>CLOSE
 CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSE "

# check_side OUT N ROLE: the states of ROLE in connection N of OUT are a
# valid chain from the role's first transition to CLOSE, in time order.
# Prints "OLD>NEW=relms" per change for the caller.
check_side() {
	awk -v n="#$2" '$1 == n {p = 1; next} /^#[0-9]/ {p = 0} p' "$1" |
		awk -v s="$3" '$1 == s {p = 1; next} /^  [a-z]/ {p = 0} p && $5 == "->" {print $4, $5, $6, $2}' |
		awk -v role="$3" -v valid="$VALID" '
		BEGIN { gsub(/[ \t\n]+/, " ", valid) }
		{ t = $4; sub(/^\+/, "", t); tr = $1 ">" $3
		  if (index(valid, " " tr " ") == 0) { print "invalid transition " tr > "/dev/stderr"; bad = 1 }
		  if (NR > 1 && $1 != last) { print "chain broken: " last " then " $1 > "/dev/stderr"; bad = 1 }
		  if (NR > 1 && t + 0 < lt + 0) { print "time goes back at " tr > "/dev/stderr"; bad = 1 }
		  if (NR == 1 && role == "client" && tr != "CLOSE>SYN_SENT") { print "client starts " tr > "/dev/stderr"; bad = 1 }
		  if (NR == 1 && role == "server" && tr != "LISTEN>SYN_RECV") { print "server starts " tr > "/dev/stderr"; bad = 1 }
		  last = $3; lt = t; print tr "=" t }
		END { if (NR == 0) { print "no changes for " role > "/dev/stderr"; bad = 1 }
		      if (last != "CLOSE") { print role " ends in " last > "/dev/stderr"; bad = 1 }
		      exit bad }'
}

# rel TRANSITION: relative ms of TRANSITION in check_side's output on stdin
rel() { sed -n "s/^$1=//p" | head -1; }

# check_capture FILE PORT CLOSER N ADDR: N connections to ADDR:PORT, both
# ends recorded, the CLOSER (client|server) closing first.
check_capture() {
	local f=$1 port=$2 closer=$3 n=$4 addr=$5 out=$1.out i ids cs ss passive fin cw
	"$ANA" "$f" >"$out" 2>"$f.err" || { cat "$f.err"; fail "$f: analyzer exit $?"; }
	expect_grep '^  end +clean' "$out" "recorder stopped cleanly"
	expect_grep '^  losses +none$' "$out" "nothing lost"
	expect_grep "^  $addr:$port  .* accepted $n " "$out" "listener on $addr:$port with $n children"
	ids=$(grep -E "^#[0-9]+  .* -> $addr:$port  tcp" "$out" | awk '{print substr($1, 2)}')
	[ "$(echo "$ids" | grep -c .)" = "$n" ] || { cat "$out"; fail "$f: want $n connections to $addr:$port, got: $ids"; }
	[ "$closer" = client ] && passive=server || passive=client
	for i in $ids; do
		cs=$(check_side "$out" "$i" client) || { cat "$out"; fail "$f #$i: client side"; }
		ss=$(check_side "$out" "$i" server) || { cat "$out"; fail "$f #$i: server side"; }
		[ "$closer" = client ] && { fin=$(rel 'ESTABLISHED>FIN_WAIT1' <<<"$cs"); cw=$(rel 'ESTABLISHED>CLOSE_WAIT' <<<"$ss"); } ||
			{ fin=$(rel 'ESTABLISHED>FIN_WAIT1' <<<"$ss"); cw=$(rel 'ESTABLISHED>CLOSE_WAIT' <<<"$cs"); }
		[ -n "$fin" ] || { cat "$out"; fail "$f #$i: the $closer never sent FIN (ESTABLISHED -> FIN_WAIT1)"; }
		[ -n "$cw" ] || { cat "$out"; fail "$f #$i: the $passive never got FIN (ESTABLISHED -> CLOSE_WAIT)"; }
		awk -v a="$fin" -v b="$cw" 'BEGIN {exit !(a + 0 <= b + 0)}' ||
			fail "$f #$i: $closer FIN at $fin ms is not before $passive CLOSE_WAIT at $cw ms"
		awk -v n="#$i" '$1 == n {p = 1; next} /^#[0-9]/ {p = 0} p' "$out" |
			grep -q "^  closed first by the $closer (active close: ESTABLISHED -> FIN_WAIT1" ||
			{ cat "$out"; fail "$f #$i: analyzer does not name the $closer as the active closer"; }
	done
	# healthy real traffic: no findings (whatever records this recorder writes)
	"$ANA" anomalies "$f" >"$f.anom" 2>/dev/null || fail "$f: anomalies exit $?"
	grep -qx 'Findings (0)' "$f.anom" || { cat "$f.anom"; fail "$f: findings in healthy traffic"; }
	# the tcpstates view of the same capture has every one of these changes
	"$ANA" --tcpstates "$f" >"$f.ts" 2>/dev/null || fail "$f: tcpstates exit $?"
	local want got
	want=$(for i in $ids; do awk -v n="#$i" '$1 == n {p = 1; next} /^#[0-9]/ {p = 0} p && $5 == "->"' "$out"; done | wc -l)
	# LPORT or RPORT is ours; RPORT 0 is the listener itself
	got=$(awk -v p="$port" 'NR > 1 && ($5 == p || $7 == p) && $7 != 0' "$f.ts" | wc -l)
	[ "$got" = "$want" ] || { cat "$f.ts"; fail "$f: tcpstates shows $got changes on port $port, summary $want"; }
}

N=3
for closer in client server; do
	port=$(free_port)
	"$REC" -q -p "$port" -w "$D/$closer.trail" -- "$LOADGEN" -q --conns $N --close $closer --port "$port" \
		>"$D/$closer.log" 2>&1 || { cat "$D/$closer.log"; fail "recording ($closer closes) failed"; }
	check_capture "$D/$closer.trail" "$port" $closer $N 127.0.0.1
	ok "loopback, $closer closes first: $N connections, both ends, protocol order, closer named"
done

port=$(free_port)
if "$REC" -q -p "$port" -w "$D/v6.trail" -- "$LOADGEN" -q -6 --conns 2 --close client --port "$port" >"$D/v6.log" 2>&1; then
	check_capture "$D/v6.trail" "$port" client 2 '\[::1\]'
	ok "IPv6 loopback"
else
	grep -qi 'address\|ipv6\|family' "$D/v6.log" && echo "note: no IPv6 loopback here, IPv6 part skipped" ||
		{ cat "$D/v6.log"; fail "IPv6 recording failed"; }
fi

# Two network namespaces joined by a veth pair: the two sides of one
# connection live in different namespaces and must still be joined.
PY=/usr/bin/python3
if ! command -v ip >/dev/null || [ ! -x $PY ]; then
	echo "note: no ip(8) or $PY: netns part skipped"
	exit 0
fi
NSA=ttana_a$$ NSB=ttana_b$$
netns_pair $NSA $NSB 10.231.0.1 10.231.0.2
port=$(free_port)
cat >"$D/server.py" <<EOF
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.231.0.2", $port)); s.listen(4); s.settimeout(10)
open("$D/ready", "w").close()
c, _ = s.accept(); c.settimeout(10)
while c.recv(4096): pass
c.close(); s.close()
EOF
cat >"$D/client.py" <<EOF
import os, socket, time
for _ in range(100):
    if os.path.exists("$D/ready"): break
    time.sleep(0.05)
c = socket.create_connection(("10.231.0.2", $port), timeout=10)
c.sendall(b"x" * 100); time.sleep(0.05); c.close()
time.sleep(0.2)
EOF
rm -f "$D/ready"
"$REC" -q -p "$port" -w "$D/netns.trail" -- timeout 20 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait" \
	>"$D/netns.log" 2>&1 || { cat "$D/netns.log"; fail "netns recording failed"; }
check_capture "$D/netns.trail" "$port" client 1 10.231.0.2
i=$(grep -E "^#[0-9]+  10\.231\.0\.1:[0-9]+ -> 10\.231\.0\.2:$port " "$D/netns.trail.out" | awk '{print substr($1, 2)}')
[ -n "$i" ] || fail "netns: connection not shown from the client's end"
nets=$(awk -v n="#$i" '$1 == n {p = 1; next} /^#[0-9]/ {p = 0} p && /^  (client|server) /' "$D/netns.trail.out" |
	sed -n 's/.*netns \([0-9]*\).*/\1/p' | sort -u | wc -l)
[ "$nets" = 2 ] || { cat "$D/netns.trail.out"; fail "netns: the two sides should be in two namespaces"; }
ok "two network namespaces: one connection, both ends joined"
