#!/bin/bash
# The classic tracepoint fallback (forced) records the same state changes as
# tp_btf, says so in the capture, and mounts tracefs itself when missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

N=30
T=$TT_OUT/fallback.trail
record_loadgen "$T" --force-method state=tracepoint -- --conns $N --close client
expect_grep 'probe state: tracepoint sock/inet_sock_set_state' "$T.err" "probe line on stderr"
transitions "$T" "$LG_PORT"
expect_close_order "$T.trans" $N
"$ANA" summary "$T" >"$T.summary" || fail "analyzer summary failed"
expect_grep 'probes +state: tracepoint sock/inet_sock_set_state' "$T.summary" "probe in META"
ok "tracepoint fallback: $N connections"

# without tracefs: in a private mount namespace, so the host's stays as is
if command -v unshare >/dev/null && unshare -m --propagation private true 2>/dev/null; then
	T=$TT_OUT/fallback_notracefs.trail
	unshare -m --propagation private bash -c '
		umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null
		[ -e /sys/kernel/tracing/events ] && exit 9
		"$1" -w "$2" --force-method state=tracepoint -- "$3" --conns 5 >"$2.out" 2>"$2.err"' \
		_ "$REC" "$T" "$LOADGEN"
	rc=$?
	[ $rc = 9 ] && skip "cannot unmount tracefs in a private mount namespace"
	[ $rc = 0 ] || { cat "$T.out" "$T.err"; fail "recording without tracefs exited $rc"; }
	expect_grep 'mounted tracefs on /sys/kernel/tracing' "$T.err" "tracefs mount notice"
	LG_PORT=$(sed -n 's/^loadgen: .* port \([0-9][0-9]*\),.*/\1/p' "$T.out")
	transitions "$T" "$LG_PORT" >/dev/null
	expect_close_order "$T.trans" 5
	ok "tracepoint fallback mounts tracefs"
fi
