#!/bin/bash
# connections filters on the synthetic capture of tests/t_analyze_gen.c,
# whose connections are known: #1-#3 loopback 8080, #4 remote peer, #5
# reset, #6 two netns on port 80 with TIME_WAIT, #7 IPv6 8443 open,
# #8 open at the end. Bad filter values are usage errors.
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
D=$TT_OUT/analyze_filters
rm -rf "$D"; mkdir -p "$D"
${CC:-cc} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -o "$D/gen" \
	"$TT_ROOT/tests/t_analyze_gen.c" "$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the generator"
"$D/gen" "$D/g.trail" || fail "generator"

ids() { "$ANA" connections "$@" "$D/g.trail" 2>/dev/null | grep -o '^#[0-9]*' | tr '\n' ' '; }
want() { local w=$1; shift; [ "$(ids "$@")" = "$w" ] || fail "$*: got '$(ids "$@")', wanted '$w'"; ok "$* -> $w"; }

want "#1 #2 #3 #4 #5 #6 #7 #8 "
want "#7 " --port 8443
want "#6 #7 " --port 80 --port 8443
want "#5 " --outcome abort
want "#7 #8 " --outcome open
want "#1 #2 #3 #4 #6 " --outcome fin
want "#6 " --state TIME_WAIT
want "#6 " --state tcp_time_wait
want "#4 #5 " --since 2.5 --until 4.5
want "#8 " --since 100
want "#5 " --port 8080 --outcome abort --since 3.5
# numbering does not change with a filter: #7 is #7 in `diagram --conn 7` too
"$ANA" diagram --conn 7 "$D/g.trail" 2>/dev/null | head -1 | grep -q '^connection #7  \[::1\]:50000 -> \[::1\]:8443$' ||
	fail "diagram --conn 7 is the IPv6 connection"
for bad in "--port 0" "--port 70000" "--port x" "--since -1" "--until nan" "--outcome maybe" "--conn 0"; do
	# shellcheck disable=SC2086
	"$ANA" connections $bad "$D/g.trail" >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "$bad: exit $rc, wanted 2"
done
ok "bad values rejected"
