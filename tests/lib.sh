# Helpers for shell tests. Source it: . "$(dirname "$0")/lib.sh"
set -u
TT_ROOT=${TT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TT_BUILD=${TT_BUILD:-$TT_ROOT/build}
TT_OUT=${TT_OUT:-$TT_BUILD/test-out}
REC=$TT_BUILD/tcptrail-record
ANA=$TT_BUILD/tcptrail-analyze
mkdir -p "$TT_OUT"

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# need_bpf: skip unless we are root and BTF is there.
need_bpf() {
	[ "$(id -u)" = 0 ] || skip "needs root to load BPF"
	[ -r /sys/kernel/btf/vmlinux ] || skip "kernel has no BTF (/sys/kernel/btf/vmlinux)"
	[ -x "$REC" ] || fail "recorder not built: $REC"
}

# expect_grep PATTERN FILE WHAT: fail naming WHAT unless PATTERN is in FILE.
expect_grep() {
	grep -Eq -- "$1" "$2" || { echo "--- $2:"; head -n 80 "$2"; fail "$3 (no match for /$1/)"; }
}

# at_exit CMD: run the shell command CMD when the test exits, the last
# registered first. One EXIT trap for all: do not set another.
TT_ATEXIT=()
tt_atexit_run() {
	local i
	for ((i = ${#TT_ATEXIT[@]} - 1; i >= 0; i--)); do eval "${TT_ATEXIT[i]}"; done
}
at_exit() {
	[ ${#TT_ATEXIT[@]} -gt 0 ] || trap tt_atexit_run EXIT
	TT_ATEXIT+=("$1")
}

# free_port: a TCP port nothing on the host uses now.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 10000))
		[ -z "$(ss -Htan "sport = :$p or dport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
	done
	fail "no free port found"
}

# netns_new NAME: a network namespace with lo up, deleted when the test exits
netns_new() {
	ip netns add "$1" || fail "cannot create network namespace $1"
	at_exit "ip netns del '$1' 2>/dev/null"
	ip -n "$1" link set lo up || fail "cannot set lo up in $1"
}

# netns_pair NSA NSB ADDRA ADDRB: two network namespaces joined by a veth
# pair, ADDRA/24 in NSA and ADDRB/24 in NSB (10.x test addresses), lo up
# in both; all deleted when the test exits (the veth goes with them).
TT_VETHS=0
netns_pair() {
	local va=tt$$v${TT_VETHS}a vb=tt$$v${TT_VETHS}b
	TT_VETHS=$((TT_VETHS + 1))
	netns_new "$1"
	netns_new "$2"
	ip link add "$va" netns "$1" type veth peer name "$vb" netns "$2" &&
		ip -n "$1" addr add "$3/24" dev "$va" && ip -n "$2" addr add "$4/24" dev "$vb" &&
		ip -n "$1" link set "$va" up && ip -n "$2" link set "$vb" up ||
		fail "cannot join $1 and $2 with a veth pair"
}
