#!/bin/bash
# -4 / -6 keep only that family, and the capture records the filter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
need_record_tools

N=10
T=$TT_OUT/filter6.trail
# IPv4 traffic with -6: nothing on its port
record_loadgen "$T" -6 -- -4 --conns $N
transitions "$T" "$LG_PORT" >/dev/null
expect_total "$T.trans" 0
"$ANA" summary "$T" >"$T.summary" || fail "analyzer summary failed"
expect_grep 'filters +family: 6' "$T.summary" "filter.family in META"

T=$TT_OUT/filter4.trail
record_loadgen "$T" -4 -- -4 --conns $N
transitions "$T" "$LG_PORT" >/dev/null
expect_close_order "$T.trans" $N
"$ANA" summary "$T" >"$T.summary" || fail "analyzer summary failed"
expect_grep 'filters +family: 4' "$T.summary" "filter.family in META"
T=$TT_OUT/filter6b.trail
record_loadgen "$T" -6 -- -6 --conns $N
transitions "$T" "$LG_PORT" >/dev/null
expect_close_order "$T.trans" $N
ok "family filters"
