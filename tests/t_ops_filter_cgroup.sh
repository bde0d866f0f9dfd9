#!/bin/bash
# --cgroup keeps exactly the sockets created in the cgroup (v2) or below it,
# whichever task or softirq later changes their state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || skip "no cgroup v2 mount"
CG=$CG2/tcptrail-test-$$
mkdir "$CG" "$CG/sub" 2>/dev/null || skip "cannot create a cgroup under $CG2"
cleanup() {
	# the processes are gone; their cgroups can go too
	rmdir "$CG/sub" "$CG" 2>/dev/null
}
trap cleanup EXIT

N=10
P1=$(free_port) P2=$(free_port) P3=$(free_port)
cmd="sh -c 'echo \$\$ >$CG/cgroup.procs && exec $LOADGEN -q --conns $N --port $P1' &
sh -c 'echo \$\$ >$CG/sub/cgroup.procs && exec $LOADGEN -q --conns $N --port $P3' &
$LOADGEN -q --conns $N --port $P2; wait"

for m in $METHODS; do
	T=$TT_OUT/cgroup-$m.trail
	"$REC" -w "$T" --cgroup "$CG" --force-method state=$m -- sh -c "$cmd" 2>"$T.err" ||
		{ cat "$T.err"; fail "recording"; }
	transitions "$T" "$P1" >/dev/null
	expect_close_order "$T.trans" $N
	transitions "$T" "$P3" >/dev/null
	expect_close_order "$T.trans" $N
	transitions "$T" "$P2" >/dev/null
	expect_total "$T.trans" 0
	inspect_trail "$T"
	expect_method "$T.i" "$m"
	expect_grep "^meta.filter.cgroup=$CG \(id [0-9]+, level [0-9]+\)" "$T.i" "filter.cgroup in META"
	ok "--cgroup: the cgroup and its descendant, not the rest ($m)"
done

# the child cgroup alone
T=$TT_OUT/cgroup-sub.trail
"$REC" -q -w "$T" --cgroup "$CG/sub" -- sh -c "$cmd" 2>"$T.err" || { cat "$T.err"; fail "recording sub"; }
transitions "$T" "$P3" >/dev/null
expect_close_order "$T.trans" $N
for p in "$P1" "$P2"; do
	transitions "$T" "$p" >/dev/null
	expect_total "$T.trans" 0
done
ok "--cgroup of the descendant only"

# not a cgroup v2 directory: a usage error
"$REC" -w "$TT_OUT/x.trail" --cgroup "$TT_OUT" -- true 2>"$T.err"; rc=$?
[ $rc = 2 ] || fail "--cgroup of a plain directory: exit $rc"
expect_grep 'not a cgroup v2 directory' "$T.err" "not cgroup v2 message"
ok "--cgroup of a plain directory refused"
