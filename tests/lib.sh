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
