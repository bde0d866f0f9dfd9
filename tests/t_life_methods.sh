#!/bin/bash
# The lifecycle probes on their classic tracepoint methods (the programs
# that read with bpf_probe_read_kernel) record what the tp_btf ones do:
# close() calls, the timewait sock of the closer, destruction, and the end
# of a FIN_WAIT2 timewait sock by its timer. Request socks have only
# sockops here, so that probe is the same in both runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/life_methods
rm -rf "$D"
mkdir -p "$D"
NS=ttl_me$$
netns_new $NS
NSI=$(netns_of $NS)
ip netns exec $NS sysctl -qw net.ipv4.tcp_fin_timeout=1 || fail "cannot set tcp_fin_timeout"
cat >"$D/peer.py" <<'EOF'
import socket, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
port = l.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port), timeout=5)
s, _ = l.accept()
print("ports", c.getsockname()[1], port, flush=True)
c.shutdown(socket.SHUT_WR); time.sleep(0.3); c.close()
time.sleep(2)
s.close(); l.close()
EOF
A='127\.0\.0\.1'
for m in tp_btf tracepoint; do
	T=$D/$m.trail
	f=()
	[ $m = tracepoint ] && for p in close timewait destroy mini_timers; do f+=(--force-method "$p=tracepoint"); done
	"$REC" -q --ring-size 64 "${f[@]}" -w "$T" -- ip netns exec $NS $PY "$D/peer.py" >"$T.out" 2>"$T.err" ||
		{ cat "$T.out" "$T.err"; fail "$m: recording failed"; }
	"$ANA" dump "$T" >"$T.dump" || fail "$m: dump failed"
	d=$T.dump
	for p in close timewait destroy mini_timers; do
		expect_grep "^META probe\.$p=$m " "$d" "$m: probe $p on $m"
	done
	read -r _ X P <<<"$(grep '^ports ' "$T.out")"
	cli=$(kid "$d" 0 "$NSI" "$A:$X>$A:$P")
	srv=$(kid "$d" 0 "$NSI" "$A:$P>$A:$X")
	[ -n "$cli" ] && [ -n "$srv" ] || fail "$m: sockets missing"
	one "$d" LIFE "sock=$cli .* comm=python3 event=$EV_CLOSE_CALL value=$ST_FIN_WAIT2$" "$m: client close()" >/dev/null
	one "$d" LIFE "sock=$srv .* comm=python3 event=$EV_CLOSE_CALL value=$ST_CLOSE_WAIT$" "$m: server close()" >/dev/null
	tw=$(one "$d" LINK "other=$cli .* relation=$REL_TIMEWAIT_OF$" "$m: timewait sock") || exit 1
	tw=$(field "$tw" sock)
	one "$d" LIFE "sock=$tw .* event=$EV_TW_ENTER value=$ST_FIN_WAIT2$" "$m: TIMEWAIT_ENTER" >/dev/null
	one "$d" LIFE "sock=$tw .* event=$EV_TW_END value=$ST_FIN_WAIT2$" "$m: ended by its timer" >/dev/null
	one "$d" LIFE "sock=$cli .* event=$EV_DESTROY value=$ST_CLOSE$" "$m: client destroyed" >/dev/null
	one "$d" LIFE "sock=$srv .* event=$EV_DESTROY value=$ST_CLOSE$" "$m: server destroyed" >/dev/null
	ok "$m: close() calls, timewait sock and its timer end, destruction"
done
