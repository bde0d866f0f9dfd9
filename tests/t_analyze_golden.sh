#!/bin/bash
# The analyzer's outputs for the real captures in samples/ match
# tests/golden/ exactly (every command and format). After a deliberate
# output change: scripts/update-golden.sh, review the diff, commit.
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
ls "$TT_ROOT"/samples/*.trail >/dev/null 2>&1 || skip "no samples"
cd "$TT_ROOT" || fail "cd"
ANA=$ANA scripts/update-golden.sh --check || fail "output differs from tests/golden (scripts/update-golden.sh regenerates)"
n=$(ls tests/golden | wc -l)
[ "$n" -ge 9 ] || fail "only $n golden files"
ok "$n golden outputs"
