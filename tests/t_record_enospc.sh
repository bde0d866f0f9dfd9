#!/bin/bash
# A full disk stops the recording cleanly: a clear error, exit 1, the
# command left to finish, and a capture readable up to its last block.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools
unshare -m --propagation private true 2>/dev/null || skip "no private mount namespaces (unshare -m)"

D=$TT_OUT/enospc
T=$D/full.trail
mkdir -p "$D"
# a 64 KiB tmpfs in a private mount namespace: only this test sees it
unshare -m --propagation private bash -c '
	mount -t tmpfs -o size=64k tcptrail-test "$1" || exit 9
	"$2" -w "$3" -- "$4" --conns 20000 --parallel 2 --duration 3 >"$1.out" 2>"$1.err"
	echo $? >"$1.rc"
	cp "$3" "$1.trail"' _ "$D" "$REC" "$T" "$LOADGEN"
[ $? = 9 ] && skip "cannot mount a tmpfs"
rc=$(cat "$D.rc")
[ "$rc" = 1 ] || { cat "$D.err"; fail "recorder on a full disk: exit $rc, wanted 1"; }
expect_grep 'writing .*full.trail failed: No space left on device; recording stopped' \
	"$D.err" "full-disk message"
expect_grep '^loadgen: [0-9]+ connections' "$D.out" "the command ran to its end"
"$ANA" summary "$D.trail" >"$D.summary" 2>"$D.summary.err"; rc=$?
[ $rc = 0 ] || { cat "$D.summary.err"; fail "analyzer on the cut capture: exit $rc"; }
expect_grep 'no END block' "$D.summary.err" "warning about the missing END"
expect_grep 'probes +state: ' "$D.summary" "META survived"
ok "full disk"
