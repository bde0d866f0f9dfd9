#!/bin/bash
# Both close orders between two processes of our own in a network namespace:
# each close() is a CLOSE_CALL on the socket of the process that called it
# (its pid, the state it closed in), the active closer continues as a
# timewait sock linked to it (none for the passive side), both full sockets
# are destroyed. Then the timewait sock's end when a new connection takes
# its tuple (tcp_tw_reuse), which the kernel allows without the 60 s wait.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/life_close
rm -rf "$D"
mkdir -p "$D"
NS=ttl_cl$$
netns_new $NS
NSI=$(netns_of $NS)
ip netns exec $NS sysctl -qw net.ipv4.tcp_tw_reuse=1 || fail "cannot set tcp_tw_reuse"
# v6.13+: reuse waits tcp_tw_reuse_delay ms (else a second of timestamps)
ip netns exec $NS sysctl -qw net.ipv4.tcp_tw_reuse_delay=1 2>/dev/null

# server.py FIRST PORTFILE: accept one connection, read a line; close first
# (FIRST=1) or after the client's FIN. Listens on until told to stop.
cat >"$D/server.py" <<'EOF'
import os, socket, sys, time
first, pf = sys.argv[1] == "1", sys.argv[2]
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0)); l.listen(8); l.settimeout(10)
with open(pf + ".tmp", "w") as f:
    f.write("%d %d\n" % (l.getsockname()[1], os.getpid()))
os.rename(pf + ".tmp", pf)
c, _ = l.accept(); c.settimeout(5)
c.recv(16)
if first:
    c.close()
else:
    while c.recv(16):
        pass
    c.close()
# a second connection, from the first one's port (timewait reuse)
try:
    c2, _ = l.accept(); c2.settimeout(5); c2.recv(16); c2.close()
except OSError:
    pass
l.close()
EOF
# client.py FIRST PORTFILE REUSE: connect, send a line, close first or after
# the server's FIN; with REUSE=1 connect again from the same port.
cat >"$D/client.py" <<'EOF'
import os, socket, sys, time
first, pf, reuse = sys.argv[1] == "1", sys.argv[2], sys.argv[3] == "1"
for _ in range(200):
    if os.path.exists(pf):
        break
    time.sleep(0.02)
port, spid = map(int, open(pf).read().split())
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.settimeout(5); c.connect(("127.0.0.1", port))
me = c.getsockname()[1]
print("client", os.getpid(), me, "server", spid, port, flush=True)
c.send(b"hello\n")
if first:
    time.sleep(0.1)
    c.close()
else:
    while c.recv(16):
        pass
    c.close()
time.sleep(0.3)
if reuse:
    c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(("127.0.0.1", me))
    for _ in range(30):
        try:
            c.connect(("127.0.0.1", port))
            print("reused", me, flush=True)
            break
        except OSError:
            time.sleep(0.1)
    c.send(b"again\n"); time.sleep(0.1); c.close()
else:
    s = socket.create_connection(("127.0.0.1", port), timeout=5); s.close()
EOF

for closer in client server; do
	T=$D/$closer.trail
	pf=$D/$closer.port
	cf=0 sf=0
	[ $closer = client ] && cf=1 || sf=1
	reuse=$cf
	fault_record "$T" timeout 20 ip netns exec $NS bash -c \
		"$PY $D/server.py $sf $pf & $PY $D/client.py $cf $pf $reuse; wait"
	d=$T.dump
	read -r _ CPID X _ SPID P <<<"$(grep '^client ' "$T.out")"
	[ -n "$P" ] || { cat "$T.out"; fail "$closer first: no ports from the client"; }
	A='127\.0\.0\.1'
	cli=$(grep -E "^(SOCK|TUPLE) id=[0-9]+ kind=0 .* netns=$NSI .* tuple=$A:$X>$A:$P( |$)" "$d" |
		head -n 1 | sed 's/^[A-Z]* id=\([0-9]*\).*/\1/')
	srv=$(kids "$d" 0 "$NSI" "$A:$P>$A:$X" | head -n 1)
	[ -n "$cli" ] && [ -n "$srv" ] || fail "$closer first: client ($cli) or server ($srv) socket missing"
	if [ $closer = client ]; then act=$cli apid=$CPID pas=$srv ppid=$SPID
	else act=$srv apid=$SPID pas=$cli ppid=$CPID; fi

	# close() calls: by the process that called it, in the state it was in
	one "$d" LIFE "sock=$act .* pid=$apid comm=python3 event=$EV_CLOSE_CALL value=$ST_ESTABLISHED$" \
		"$closer first: the active closer's close()" >/dev/null
	one "$d" LIFE "sock=$pas .* pid=$ppid comm=python3 event=$EV_CLOSE_CALL value=$ST_CLOSE_WAIT$" \
		"$closer first: the passive closer's close()" >/dev/null
	c1=$(ts_of "$(lines "$d" LIFE "sock=$act .* event=$EV_CLOSE_CALL ")")
	c2=$(ts_of "$(lines "$d" LIFE "sock=$pas .* event=$EV_CLOSE_CALL ")")
	[ "$c1" -lt "$c2" ] || fail "$closer first: the $closer's close() is not the first"
	one "$d" STATE "sock=$act .* old=TCP_ESTABLISHED\(1\) new=TCP_FIN_WAIT1\(4\)" \
		"$closer first: the closer goes FIN_WAIT1" >/dev/null

	# TIME_WAIT: a timewait sock continuing the active closer, none for the other
	tw=$(one "$d" LINK "other=$act .* relation=$REL_TIMEWAIT_OF$" "$closer first: timewait sock of the closer") || exit 1
	tw=$(field "$tw" sock)
	twline=$(grep -E "^SOCK id=$tw " "$d")
	[ "$(field "$twline" kind)" = 2 ] || fail "$closer first: sock $tw is not a timewait sock"
	enter=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=($ST_TIME_WAIT|$ST_FIN_WAIT2)$" \
		"$closer first: TIMEWAIT_ENTER") || exit 1
	expect_n "$d" LINK "other=$pas .* relation=$REL_TIMEWAIT_OF$" 0 0 "$closer first: no timewait sock for the passive side"
	fw2c=$(one "$d" STATE "sock=$act .* old=TCP_(FIN_WAIT2\(5\)|CLOSING\(11\)) new=TCP_CLOSE\(7\)" \
		"$closer first: the closer's FIN_WAIT2/CLOSING -> CLOSE") || exit 1
	[ "$(ts_of "$fw2c")" -le "$(ts_of "$enter")" ] || fail "$closer first: TIME_WAIT entered before the closer's CLOSE"

	# destruction of both full sockets, after their close()
	for s in $act $pas; do
		dl=$(one "$d" LIFE "sock=$s .* event=$EV_DESTROY value=$ST_CLOSE$" "$closer first: socket $s destroyed") || exit 1
		[ "$(ts_of "$dl")" -gt "$c1" ] || fail "$closer first: socket $s destroyed before the close()"
	done

	if [ $reuse = 1 ]; then
		grep -q "^reused $X" "$T.out" || { cat "$T.out" "$T.err"; fail "the client could not reuse port $X"; }
		# a new connection on the tuple: the kernel killed the timewait sock
		end=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_END value=$((ST_TIME_WAIT | 1 << 8))$" \
			"timewait sock ended by the reused tuple") || exit 1
		new=$(kid "$d" 0 "$NSI" "$A:$X>$A:$P")
		[ -n "$new" ] && [ "$new" != "$cli" ] || fail "no second client socket on port $X"
		[ "$(lineno "$d" "^RETIRE id=$tw$")" -gt 0 ] || fail "timewait sock $tw not retired"
		ok "timewait sock of 127.0.0.1:$X ended when a new connection reused its tuple"
	fi
	ok "$closer closes first: close() calls by their processes, TIME_WAIT on the $closer, both destroyed"
done
