#!/bin/bash
# TIME_WAIT told from an orphan's FIN_WAIT2 timeout. Both actives close with
# shutdown(SHUT_WR) first, so the kernel's path is the same for both; then:
#  - orphan: the client closes in FIN_WAIT2 and the peer never sends its
#    FIN: a timewait sock in substate FIN_WAIT2 whose timer fires after
#    tcp_fin_timeout (2 s in our netns): TIMEWAIT_ENTER and TIMEWAIT_END,
#    both FIN_WAIT2, ended by the timer.
#  - time-wait: the peer's FIN arrives first: the timewait sock is in
#    TIME_WAIT at once, and still there after the FIN_WAIT2 timeout would
#    have passed (TIME_WAIT is 60 s). Its client closed its socket only
#    after it was in CLOSE: that close() is known from the destruction
#    under the socket lock (CLOSE_CALL value CLOSE | 0x100).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/life_finwait2
rm -rf "$D"
mkdir -p "$D"
NS=ttl_fw$$
netns_new $NS
NSI=$(netns_of $NS)
FIN_TIMEOUT=2
ip netns exec $NS sysctl -qw net.ipv4.tcp_fin_timeout=$FIN_TIMEOUT || fail "cannot set tcp_fin_timeout"

# peer.py MODE: orphan: the server never closes; timewait: it closes on EOF
cat >"$D/peer.py" <<'EOF'
import os, socket, sys, time
mode = sys.argv[1]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
port = l.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port), timeout=5)
s, _ = l.accept(); s.settimeout(5)
print("ports", c.getsockname()[1], port, "pid", os.getpid(), flush=True)
c.shutdown(socket.SHUT_WR)
if mode == "orphan":
    time.sleep(0.3)              # the FIN is acked: FIN_WAIT2
    c.close()                    # an orphan in FIN_WAIT2, no FIN will come
    time.sleep(%(wait)s)
    s.close()
else:
    assert s.recv(16) == b""     # EOF: the server closes, its FIN arrives
    s.close()
    time.sleep(0.3)              # the client is in TIME_WAIT, still open
    c.close()
    time.sleep(%(wait)s)
l.close()
EOF
sed -i "s/%(wait)s/$((FIN_TIMEOUT + 1)).5/" "$D/peer.py"
A='127\.0\.0\.1'
NS_PER_S=1000000000

for mode in orphan timewait; do
	T=$D/$mode.trail
	fault_record "$T" timeout 20 ip netns exec $NS $PY "$D/peer.py" $mode
	d=$T.dump
	read -r _ X P _ PID <<<"$(grep '^ports ' "$T.out")"
	[ -n "$PID" ] || { cat "$T.out" "$T.err"; fail "$mode: no ports"; }
	cli=$(kid "$d" 0 "$NSI" "$A:$X>$A:$P")
	[ -n "$cli" ] || fail "$mode: no client socket"
	tw=$(one "$d" LINK "other=$cli .* relation=$REL_TIMEWAIT_OF$" "$mode: timewait sock of the client") || exit 1
	tw=$(field "$tw" sock)
	if [ $mode = orphan ]; then
		one "$d" LIFE "sock=$cli .* pid=$PID .* event=$EV_CLOSE_CALL value=$ST_FIN_WAIT2$" \
			"orphan: close() in FIN_WAIT2" >/dev/null
		enter=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=$ST_FIN_WAIT2$" \
			"orphan: timewait sock in substate FIN_WAIT2") || exit 1
		# substate FIN_WAIT2, ended by its timer (how 0)
		end=$(one "$d" LIFE "sock=$tw .* event=$EV_TW_END value=$ST_FIN_WAIT2$" \
			"orphan: FIN_WAIT2 timeout ends the timewait sock") || exit 1
		dt=$(( $(ts_of "$end") - $(ts_of "$enter") ))
		[ $dt -ge $((FIN_TIMEOUT * NS_PER_S - NS_PER_S / 2)) ] && [ $dt -le $(((FIN_TIMEOUT + 1) * NS_PER_S)) ] ||
			fail "orphan: FIN_WAIT2 timeout after $dt ns, tcp_fin_timeout is $FIN_TIMEOUT s"
		expect_n "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=$ST_TIME_WAIT$" 0 0 "orphan: never TIME_WAIT"
		ok "orphan FIN_WAIT2 timeout: timewait sock in FIN_WAIT2 for $dt ns, ended by its timer"
	else
		one "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=$ST_TIME_WAIT$" \
			"timewait: timewait sock in substate TIME_WAIT" >/dev/null
		expect_n "$d" LIFE "sock=$tw .* event=$EV_TW_END " 0 0 \
			"timewait: TIME_WAIT outlasts the $FIN_TIMEOUT s FIN_WAIT2 timeout"
		one "$d" STATE "sock=$cli .* old=TCP_FIN_WAIT2\(5\) new=TCP_CLOSE\(7\)" \
			"timewait: client FIN_WAIT2 -> CLOSE before its close()" >/dev/null
		# closed in CLOSE: no state change, the destruction tells who closed it
		one "$d" LIFE "sock=$cli .* pid=$PID .* event=$EV_CLOSE_CALL value=$((ST_CLOSE | 0x100))$" \
			"timewait: close() in CLOSE, seen at the destruction" >/dev/null
		one "$d" LIFE "sock=$cli .* pid=$PID .* event=$EV_DESTROY value=$ST_CLOSE$" \
			"timewait: destroyed in the closing task" >/dev/null
		ok "TIME_WAIT: timewait sock in TIME_WAIT, alive past the FIN_WAIT2 timeout"
	fi
done
