#!/bin/bash
# Runs every test under tests/: shell tests tests/t_*.sh and the C test
# programs listed by tests/tests.mk (built into build/tests/). Exit codes
# follow the automake convention: 0 pass, 77 skipped (the test prints why),
# anything else fails. Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
export TT_ROOT=$PWD TT_BUILD=$PWD/build
export TT_OUT=${TT_OUT:-$PWD/build/test-out}
rm -rf "$TT_OUT"; mkdir -p "$TT_OUT"

pass=0 fail=0 skip=0 failed=()
run_one() {
	local name=$1; shift
	local log="$TT_OUT/$name.log" start=$SECONDS rc
	timeout -k 10 300 "$@" >"$log" 2>&1
	rc=$?
	local dt=$((SECONDS - start))
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS     %-40s %3ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1)); printf 'SKIPPED  %-40s %s\n' "$name" "$(grep -m1 '^SKIPPED' "$log" | cut -c1-100)" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL     %-40s %3ss (exit %d)\n' "$name" "$dt" "$rc"
	    tail -n 30 "$log" | sed 's/^/    | /' ;;
	esac
}

for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in tests/t_*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t" .sh)" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
