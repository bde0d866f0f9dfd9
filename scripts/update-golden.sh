#!/bin/bash
# Regenerates tests/golden/ from samples/*.trail with the analyzer in
# build/: run after a deliberate change of output, review `git diff
# tests/golden`, commit. tests/t_analyze_golden.sh compares exactly.
# Usage: scripts/update-golden.sh [--check]   (--check: compare only)
set -eu
cd "$(dirname "$0")/.."
ANA=${ANA:-build/tcptrail-analyze}
check=0
[ "${1:-}" = --check ] && check=1
out=tests/golden
[ $check = 1 ] && out=$(mktemp -d)
mkdir -p "$out"
# one command line per golden file: NAME ARGS (the sample path is appended)
cmds() {
	echo "summary summary"
	echo "connections connections"
	echo "tcpstates tcpstates -T -w"
	echo "anomalies anomalies"
	echo "anomalies.json anomalies --json"
	echo "anomalies.md anomalies --markdown"
	echo "diagram1.txt diagram --conn 1"
	echo "diagram1.mmd diagram --conn 1 --format mermaid"
	echo "diagram1.svg diagram --conn 1 --format svg"
}
rc=0
for s in samples/*.trail; do
	b=$(basename "$s" .trail)
	while read -r name args; do
		# the storm's 200 connections: the summary has them all once
		[ "$b" = storm-200 ] && case $name in connections|tcpstates) continue;; esac
		# shellcheck disable=SC2086
		"$ANA" $args --utc "$s" >"$out/$b.$name" 2>/dev/null || true
		if [ $check = 1 ] && ! cmp -s "$out/$b.$name" "tests/golden/$b.$name"; then
			echo "differs: tests/golden/$b.$name"
			diff -u "tests/golden/$b.$name" "$out/$b.$name" | head -20 || true
			rc=1
		fi
	done < <(cmds)
done
[ $check = 1 ] && rm -rf "$out"
exit $rc
