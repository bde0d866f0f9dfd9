#!/bin/bash
# Clean errors, exit status and no file left behind: not root, no tracefs
# (and it cannot be mounted), no kernel BTF, unknown and bad options.
# --list-probes names the method per probe, or why there is none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools

T=$TT_OUT/err.trail
E=$TT_OUT/err.err
rm -f "$T"

# refused EXPECTED_RC PATTERN WHAT CMD...: fails as said, leaves no capture
refused() {
	local want=$1 pat=$2 what=$3 rc
	shift 3
	"$@" >"$E.out" 2>"$E"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$E.out" "$E"; fail "$what: exit $rc, wanted $want"; }
	expect_grep "$pat" "$E" "$what"
	[ -e "$T" ] && fail "$what: $T was left behind"
	# one clear message, not a cascade
	[ "$(wc -l <"$E")" -le 12 ] || { cat "$E"; fail "$what: $(wc -l <"$E") lines of errors"; }
	ok "$what"
}

command -v setpriv >/dev/null || skip "no setpriv"
chmod o+rwx "$TT_OUT"
refused 1 'must run as root' "not root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$REC" -w "$T" -- true
refused 1 'must run as root' "not root, --list-probes" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$REC" --list-probes

if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	# tracefs gone and not mountable (no CAP_SYS_ADMIN): the tracepoint
	# method fails cleanly, tp_btf needs no tracefs and still records
	NOTRACEFS="umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null;"
	refused 1 'classic tracepoints need tracefs, and mounting it .* failed' "no tracefs" \
		unshare -m sh -c "$NOTRACEFS exec setpriv --bounding-set -sys_admin --inh-caps -sys_admin \
		$REC -w $T --force-method state=tracepoint -- true"
	unshare -m sh -c "$NOTRACEFS exec setpriv --bounding-set -sys_admin $REC --list-probes" \
		>"$E.out" 2>"$E" || { cat "$E.out" "$E"; fail "--list-probes without tracefs"; }
	expect_grep '^  \* tp_btf +inet_sock_set_state +ok' "$E.out" "tp_btf chosen without tracefs"
	expect_grep 'tracepoint .*failed' "$E.out" "tracepoint failing without tracefs"
	expect_grep 'needs tracefs' "$E.out" "why the tracepoint fails"
	P=$(free_port)
	unshare -m sh -c "$NOTRACEFS exec setpriv --bounding-set -sys_admin $REC -q -w $T.ok \
		-p $P -- $LOADGEN -q --conns 3 --port $P" 2>"$E" || { cat "$E"; fail "recording without tracefs"; }
	transitions "$T.ok" "$P" >/dev/null
	expect_total "$T.ok.trans" 32
	ok "without tracefs: recorded with tp_btf"
	# no tracefs, but the recorder may mount it: it does, in its namespace
	unshare -m sh -c "$NOTRACEFS exec $REC -w $T.ok --force-method state=tracepoint -- true" \
		2>"$E" || { cat "$E"; fail "tracepoint with tracefs mounted by the recorder"; }
	expect_grep 'mounted tracefs' "$E" "mounting tracefs"
	ok "without tracefs but allowed to mount it: mounted it"

	refused 1 'kernel BTF not found' "no kernel BTF" \
		unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec $REC -w $T -- true"
else
	echo "no mount namespaces: tracefs and BTF cases not run"
fi

refused 2 "unrecognized option '--no-such-option'" "unknown option" "$REC" -w "$T" --no-such-option
refused 2 'port wants a whole number from 1 to 65535' "port 0" "$REC" -w "$T" -p 0 -- true
refused 2 'port wants a whole number from 1 to 65535' "port 70000" "$REC" -w "$T" -p 80,70000 -- true
refused 2 'port: bad list' "empty port list" "$REC" -w "$T" -p '' -- true
refused 2 'pid wants a whole number' "pid junk" "$REC" -w "$T" --pid 12x -- true
refused 2 'cgroup /no/such/dir: No such file' "missing cgroup" "$REC" -w "$T" --cgroup /no/such/dir -- true
refused 2 'needs --pcap' "-i without --pcap" "$REC" -w "$T" -i lo -- true
refused 2 'same file' "--pcap = -w" "$REC" -w "$T" --pcap "$T" -- true
refused 2 'no such user' "unknown --user" "$REC" -w "$T" --user tt-no-such-user -- true

# --list-probes: every probe of the table, the method a recording uses
"$REC" --list-probes >"$E.out" 2>"$E" || { cat "$E.out" "$E"; fail "--list-probes"; }
expect_grep '^state \(required\)' "$E.out" "state probe listed"
expect_grep '^  \* tp_btf +inet_sock_set_state +ok' "$E.out" "state uses tp_btf"
expect_grep '^    tracepoint +sock/inet_sock_set_state +ok' "$E.out" "the fallback works too"
"$REC" --list-probes --force-method state=tracepoint >"$E.out" 2>"$E" || fail "--list-probes forced"
expect_grep '^  \* tracepoint' "$E.out" "forced method marked"
expect_grep 'tp_btf .*excluded by --force-method' "$E.out" "excluded method said so"
ok "--list-probes"
