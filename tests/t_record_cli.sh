#!/bin/bash
# Command line: usage errors exit 2 naming the problem, the recorded
# command's exit status comes back, refusals are clear and leave no file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

T=$TT_OUT/cli.trail
E=$TT_OUT/cli.err

usage_error() { # WHAT PATTERN ARGS...
	local what=$1 pat=$2 rc
	shift 2
	"$REC" "$@" >/dev/null 2>"$E"
	rc=$?
	[ $rc = 2 ] || { cat "$E"; fail "$what: exit $rc, wanted 2"; }
	expect_grep "$pat" "$E" "$what"
}
usage_error "no -w" '-w FILE is required'
usage_error "ring size 0" 'ring-size wants a whole number' -w "$T" --ring-size 0
usage_error "ring size junk" 'ring-size wants a whole number' -w "$T" --ring-size 8x
usage_error "bad duration" 'duration wants seconds' -w "$T" --duration -1
usage_error "unknown probe" "no probe named 'nosuch'" -w "$T" --force-method nosuch=tp_btf
usage_error "unknown method" "has no method 'kprobe'" -w "$T" --force-method state=kprobe
usage_error "both families" 'one of -4 and -6' -w "$T" -4 -6
"$REC" -V | grep -Eq '^tcptrail-record [0-9]+\.[0-9]+' || fail "-V"
"$REC" -h | grep -q -- '--ring-size' || fail "-h"

# the command's status, its signal as 128+N
"$REC" -q -w "$T" -- sh -c 'exit 42'; rc=$?
[ $rc = 42 ] || fail "exit status of the command: got $rc, wanted 42"
"$REC" -q -w "$T" -- sh -c 'kill -TERM $$'; rc=$?
[ $rc = 143 ] || fail "command killed by SIGTERM: got $rc, wanted 143"
"$REC" -q -w "$T" -- "$TT_OUT/no-such-command" 2>"$E"; rc=$?
[ $rc = 127 ] || fail "missing command: got $rc, wanted 127"
expect_grep 'cannot run' "$E" "missing command message"
# options after the command are the command's
"$REC" -q -w "$T" -- sh -c 'exit 3' -4 --duration; rc=$?
[ $rc = 3 ] || fail "command options: got $rc, wanted 3"

# a file that cannot be created
"$REC" -w "$TT_OUT/no/such/dir/x.trail" -- true 2>"$E"; rc=$?
[ $rc = 1 ] || fail "unwritable path: exit $rc"
expect_grep 'cannot create .*no/such/dir/x.trail' "$E" "unwritable path message"

# not root: refused before anything is created
if command -v setpriv >/dev/null; then
	rm -f "$TT_OUT/nobody.trail"
	chmod o+rwx "$TT_OUT"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$REC" -w "$TT_OUT/nobody.trail" -- true 2>"$E"; rc=$?
	[ $rc = 1 ] || fail "not root: exit $rc"
	expect_grep 'must run as root' "$E" "not-root message"
	[ -e "$TT_OUT/nobody.trail" ] && fail "not root: a capture file was left behind"
fi
ok "command line"
