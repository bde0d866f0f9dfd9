#!/bin/bash
# tcptrail-analyze on a synthetic capture with known connections
# (tests/t_analyze_gen.c): pairing, roles, active closer, times, names
# from the file's own state table, tcpstates columns.
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
[ -f "$TT_BUILD/libtrail.a" ] || fail "format library not built: $TT_BUILD/libtrail.a"
D=$TT_OUT/analyze_synth
rm -rf "$D"; mkdir -p "$D"
GEN=$D/gen
${CC:-cc} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -o "$GEN" \
	"$TT_ROOT/tests/t_analyze_gen.c" "$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the generator"

"$GEN" "$D/g.trail" || fail "generator failed"
"$ANA" "$D/g.trail" >"$D/out" 2>"$D/err"; rc=$?
[ $rc = 0 ] || { cat "$D/err"; fail "summary exit $rc, wanted 0"; }

# -- header
expect_grep '^  format +1\.0$' "$D/out" "format version"
expect_grep '^  kernel +6\.99\.0-test \(x86_64\)$' "$D/out" "kernel release"
expect_grep '^  command +tcptrail-record -w gen\.trail$' "$D/out" "command line"
expect_grep '^  probes +state: tp_btf inet_sock_set_state$' "$D/out" "probes"
expect_grep '^  span +2024-03-05 12:00:00\.000100 UTC \.\. ' "$D/out" "start time (UTC, from the anchor)"
expect_grep '^  end +clean \(END: 63 records' "$D/out" "clean end"
expect_grep 'stepped by up to 500\.000 ms' "$D/out" "clock step noticed"
# a control character from the file is escaped, never printed raw
expect_grep '^  host +gen\\x1b\[31mhost$' "$D/out" "escaped host name"
! grep -q $'\x1b' "$D/out" || fail "raw escape character reached the output"

# -- losses: loud on stdout and stderr
# (3 ring buffer + 2 decode errors; the eviction note is not a loss)
expect_grep '!!! 5 events LOST: THE CAPTURE IS INCOMPLETE' "$D/out" "loss banner"
expect_grep 'ring buffer full: 3 \(over 2 CPUs\)' "$D/out" "ring buffer losses"
expect_grep 'record\.decode_errors: 2$' "$D/out" "named loss counter"
expect_grep 'note\.socktab_evictions: 1 \(no event lost\)' "$D/out" "eviction note"
expect_grep 'warning: .*5 events lost' "$D/err" "loss warning on stderr"

# -- listeners are not connections
expect_grep '^Listeners \(3\)$' "$D/out" "listener count"
expect_grep '^  127\.0\.0\.1:8080  server\[100\]  from 12:00:00\.000100, still listening at the end  accepted 6 ' \
	"$D/out" "listener on 8080 with its 6 children"
expect_grep '^  \[::\]:8443 ' "$D/out" "IPv6 listener"
expect_grep '^Connections \(8\)$' "$D/out" "connection count"
expect_grep '^  connections +8 \(7 with both ends recorded\), 3 listeners$' "$D/out" "pairing count"

# block N of the connection list
conn() { awk -v n="#$1" '$1 == n {p = 1; print; next} /^#[0-9]/ {p = 0} p' "$D/out"; }
# state changes of one side ("client" or "server") of connection N
side() { conn "$1" | awk -v s="$2" '$1 == s {p = 1; next} $1 == "client" || $1 == "server" || /^  [a-z]/ {p = 0} p && / -> / {print $4, $5, $6}'; }

# #1: client closes first; both sides, each in protocol order
conn 1 | head -1 | grep -q '^#1  127\.0\.0\.1:40000 -> 127\.0\.0\.1:8080  tcp4  12:00:01\.000000  lasted 3\.020 ms$' ||
	{ conn 1; fail "#1 heading"; }
[ "$(side 1 client | tr '\n' ' ')" = "CLOSE -> SYN_SENT SYN_SENT -> ESTABLISHED ESTABLISHED -> FIN_WAIT1 FIN_WAIT1 -> FIN_WAIT2 FIN_WAIT2 -> CLOSE " ] ||
	{ side 1 client; fail "#1 client states"; }
[ "$(side 1 server | tr '\n' ' ')" = "LISTEN -> SYN_RECV SYN_RECV -> ESTABLISHED ESTABLISHED -> CLOSE_WAIT CLOSE_WAIT -> LAST_ACK LAST_ACK -> CLOSE " ] ||
	{ side 1 server; fail "#1 server states"; }
conn 1 | grep -q 'closed first by the client (active close: ESTABLISHED -> FIN_WAIT1 at +2\.000 ms)' || fail "#1 closer"
conn 1 | grep -q 'time in state: SYN_SENT 0\.050 ms, ESTABLISHED 1\.950 ms, FIN_WAIT1 0\.020 ms, FIN_WAIT2 0\.990 ms$' ||
	{ conn 1; fail "#1 client time in state"; }
conn 1 | grep -q '^    12:00:01\.000060       +0\.060 ms  LISTEN      -> SYN_RECV     client\[200\]$' ||
	{ conn 1; fail "#1 server line layout (time, relative ms, states, task)"; }
conn 1 | grep -q '^  client 127\.0\.0\.1:40000  client\[200\]  (sock 2,' || fail "#1 client owner"

# #2 overlaps #1 on another port: server closes first
conn 2 | head -1 | grep -q '127\.0\.0\.1:40002 -> 127\.0\.0\.1:8080' || fail "#2 tuple"
conn 2 | grep -q 'closed first by the server' || { conn 2; fail "#2 closer"; }
# #3 reuses #1's tuple later: a connection of its own
conn 3 | head -1 | grep -q '^#3  127\.0\.0\.1:40000 -> 127\.0\.0\.1:8080  tcp4  12:00:02\.000000' || { conn 3; fail "#3 reused tuple"; }
[ "$(conn 3 | grep -Ec '^  (client|server) ')" = 2 ] || fail "#3 should have both sides"
# #4 remote peer: one side only
conn 4 | head -1 | grep -q '192\.0\.2\.9:5555 -> 127\.0\.0\.1:8080' || fail "#4 tuple"
conn 4 | grep -q 'the client end was not recorded' || fail "#4 lone side"
conn 4 | grep -q 'closed first by the unrecorded peer' || fail "#4 closer"
# #5 reset
conn 5 | grep -q 'aborted by the client without FIN (ESTABLISHED -> CLOSE at +0\.700 ms' || { conn 5; fail "#5 abort"; }
# #6 across two network namespaces
conn 6 | head -1 | grep -q '10\.1\.0\.1:33000 -> 10\.1\.0\.2:80' || fail "#6 tuple"
conn 6 | grep -q 'netns 11' && conn 6 | grep -q 'netns 22' || { conn 6; fail "#6 sides in two netns"; }
conn 6 | grep -q 'accepted from the listener on port 80 (sock 11)' || fail "#6 listener link"
# #7 IPv6, still open
conn 7 | head -1 | grep -q '^#7  \[::1\]:50000 -> \[::1\]:8443  tcp6 .* open at the end' || { conn 7; fail "#7 IPv6"; }
conn 7 | grep -q 'still ESTABLISHED when the capture ended' || fail "#7 open"
# #8 is nearest the second anchor, 0.5 s after what the first predicts
conn 8 | head -1 | grep -q ' 12:16:30\.500000 ' || { conn 8; fail "#8 nearest anchor"; }
! grep -Eq '(^| )(1[01][0-9]|TCP_[A-Z])' <(grep ' -> ' "$D/out") || fail "raw state numbers or TCP_ prefixes shown"
ok "summary"

# The numbering of states is the file's business: kernel numbers, the +100
# numbers and an uncompressed file must all read the same.
"$GEN" --kernel-numbers "$D/k.trail" && "$GEN" --raw "$D/r.trail" || fail "generator variants"
"$ANA" "$D/k.trail" 2>/dev/null | tail -n +2 >"$D/k.out"
"$ANA" "$D/r.trail" 2>/dev/null | tail -n +2 | grep -v '^  end ' >"$D/r.out"
tail -n +2 "$D/out" >"$D/g.out"
diff -u "$D/g.out" "$D/k.out" || fail "output depends on the kernel's state numbering"
diff -u <(grep -v '^  end ' "$D/g.out") "$D/r.out" || fail "output depends on compression"
ok "state numbers from the file's table"

# A recorder with a full socket table retires open sockets and re-adds
# them under new ids: the sides are joined again, nothing else changes.
"$GEN" --evict "$D/e.trail" || fail "generator --evict"
"$ANA" "$D/e.trail" >"$D/e.out" 2>/dev/null || fail "evict exit $?"
expect_grep '^  socktab +2 sockets retired early by the recorder' "$D/e.out" "re-adds counted"
grep -A3 '^  client 127\.0\.0\.1:40000 ' "$D/e.out" | grep -q "re-added 1 time, last as sock" ||
	fail "#1 client re-add noted"
norm() { grep -v -e 're-added' -e '^  records ' -e '^  end ' -e '^  socktab ' -e '^tcptrail capture' "$1" |
	sed -E 's/sock [0-9]+/sock N/g'; }
diff -u <(norm "$D/out") <(norm "$D/e.out") || fail "re-added sockets change the analysis"
ok "sockets re-added after a full socket table"

# No table: numbers shown, said so, nothing crashes.
"$GEN" --no-table "$D/n.trail" || fail "generator --no-table"
"$ANA" "$D/n.trail" >"$D/n.out" 2>/dev/null || fail "no-table exit $?"
expect_grep 'no tcp_state table in the file' "$D/n.out" "missing table said"
expect_grep '^    12:00:01\.000000 +\+0\.000 ms  107 +-> 102 ' "$D/n.out" "numbers without a table"
ok "no table"

# Local time instead of UTC.
TZ=Asia/Tokyo "$ANA" --local "$D/g.trail" >"$D/l.out" 2>/dev/null
expect_grep '^#1 .* 21:00:01\.000000 ' "$D/l.out" "--local (UTC+9)"
expect_grep 'times in local time' "$D/l.out" "--local said"
ok "--local"

# connections: only the connection list
"$ANA" connections "$D/g.trail" >"$D/c.out" 2>/dev/null || fail "connections exit $?"
head -1 "$D/c.out" | grep -q '^#1 ' || { head -3 "$D/c.out"; fail "connections starts with #1"; }
! grep -q '^tcptrail capture' "$D/c.out" || fail "connections prints no header"
ok "connections"

# tcpstates: libbpf-tools columns, one line per state change
"$ANA" --tcpstates "$D/g.trail" >"$D/t.out" 2>/dev/null || fail "tcpstates exit $?"
hdr=$(printf '%-16s %-7s %-10s %-15s %-5s %-15s %-5s %-11s -> %-11s %s' SKADDR PID COMM LADDR LPORT RADDR RPORT OLDSTATE NEWSTATE MS)
[ "$(head -1 "$D/t.out")" = "$hdr" ] || { head -1 "$D/t.out"; fail "tcpstates header"; }
[ "$(($(wc -l <"$D/t.out") - 1))" = 63 ] || fail "tcpstates: want 63 state lines, got $(($(wc -l <"$D/t.out") - 1))"
line=$(printf '%-16s %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s -> %-11s %.3f' 15c40 0 swapper/0 127.0.0.1 40000 127.0.0.1 8080 SYN_SENT ESTABLISHED 0.050)
grep -qxF "$line" "$D/t.out" || { head -5 "$D/t.out"; fail "tcpstates line layout / MS"; }
line=$(printf '%-16s %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s -> %-11s %.3f' 15c40 200 client 127.0.0.1 0 127.0.0.1 8080 CLOSE SYN_SENT 0.000)
[ "$(grep -cxF "$line" "$D/t.out")" = 2 ] || fail "tcpstates: MS restarts for a new socket on a reused address"
awk 'NR > 1 && NF != 11 {bad = 1} END {exit bad}' "$D/t.out" || fail "tcpstates: every line has 11 columns"
"$ANA" tcpstates -T -w "$D/g.trail" >"$D/tw.out" 2>/dev/null || fail "tcpstates -T -w exit $?"
head -1 "$D/tw.out" | grep -q '^TIME(s)  SKADDR           PID     COMM             IP LADDR ' || { head -1 "$D/tw.out"; fail "-T -w header"; }
grep -q '^12:00:07 b600             0       swapper/0        6  ::1  ' "$D/tw.out" || { grep b600 "$D/tw.out"; fail "-T -w IPv6 line"; }
ok "tcpstates"
