#!/bin/bash
# -C/-W: every file a complete capture (META with rotation.seq, END, live
# sockets declared again), no event lost or doubled across files, at most N
# files with -W, pcap files rotating with them; SIGTERM mid-run leaves
# every file complete.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools
trap ops_cleanup EXIT

N=1500
P=$(free_port)
D=$TT_OUT/rotate
rm -rf "$D"; mkdir -p "$D"

# no -W: FILE, FILE1, ...; the state changes of all files add up
"$REC" -w "$D/r.trail" -p "$P" -C 8k -- "$LOADGEN" -q --conns $N --port "$P" 2>"$D/r.err" ||
	{ cat "$D/r.err"; fail "recording -C"; }
files=$(ls "$D" | grep -c '^r\.trail[0-9]*$')
[ "$files" -ge 3 ] || fail "-C 8k over $N connections made $files files"
total=0 listener_again=0
for ((i = 0; i < files; i++)); do
	f=$D/r.trail$([ $i = 0 ] || echo $i)
	[ -f "$f" ] || fail "missing $f"
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
	inspect_trail "$f"
	expect_kv "$f.i" status OK
	expect_kv "$f.i" meta.rotation.seq "$i"
	expect_kv "$f.i" meta.rotation.size_limit 8000
	expect_kv "$f.i" loss.ringbuf 0
	expect_kv "$f.i" meta.probe.state "tp_btf inet_sock_set_state"
	grep -q '^meta.filter.port=' "$f.i" || fail "$f: no filter in META"
	total=$((total + $(kv "$f.i" states)))
	# the listener, made in the first file, is declared again in the others
	[ $i -gt 0 ] && grep -q "^sock=[0-9]* $P 0\$" "$f.i" && listener_again=$((listener_again + 1))
	# every file stands alone for the analyzer
	"$ANA" summary "$f" >/dev/null 2>"$f.ana" || { cat "$f.ana"; fail "analyzer on $f"; }
done
[ "$total" = $((10 * N + 2)) ] || fail "$total state changes in $files files, wanted $((10 * N + 2))"
[ "$listener_again" = $((files - 1)) ] || fail "listener declared again in $listener_again of $((files - 1)) files"
ok "-C 8k: $files complete files, $total state changes, none lost or doubled"

# -W 3 with --pcap: at most 3 of each, all readable
rm -rf "$D"; mkdir -p "$D"
"$REC" -q -w "$D/w.trail" --pcap "$D/w.pcap" -p "$P" -C 8k -W 3 -- \
	"$LOADGEN" -q --conns $N --port "$P" 2>"$D/w.err" || { cat "$D/w.err"; fail "recording -W"; }
nt=$(ls "$D" | grep -c '^w\.trail[0-9]*$')
np=$(ls "$D" | grep -c '^w\.pcap[0-9]*$')
[ "$nt" = 3 ] && [ "$np" = 3 ] || { ls -l "$D"; fail "-W 3: $nt trails and $np pcaps"; }
seqs=
for f in "$D"/w.trail*; do
	case $f in *.i|*.err|*.ana) continue ;; esac
	inspect_trail "$f"
	expect_kv "$f.i" status OK
	expect_kv "$f.i" meta.rotation.max_files 3
	seqs="$seqs $(kv "$f.i" meta.rotation.seq)"
	pc=$(kv "$f.i" meta.pcap.file)
	"$INSPECT" pcap "$pc" >"$f.pcap.i" || fail "$pc unreadable"
	expect_kv "$f.pcap.i" end clean
	expect_kv "$f.pcap.i" magic a1b23c4d
	expect_kv "$f.pcap.i" packets "$(kv "$f.i" meta.pcap.packets)"
done
# the three newest files survive
max=$(tr ' ' '\n' <<<"$seqs" | sort -n | tail -1)
[ "$(tr ' ' '\n' <<<"$seqs" | grep -c .)" = 3 ] && [ "$max" -ge 3 ] || fail "sequence numbers:$seqs"
for s in $((max - 2)) $((max - 1)) "$max"; do
	grep -qw "$s" <<<"$seqs" || fail "file $s of $max missing (have$seqs)"
done
ok "-C 8k -W 3 --pcap: 3 files of each, sequence$seqs"

# SIGTERM while rotating: every file ends cleanly
rm -rf "$D"; mkdir -p "$D"
rec_start "$D/s.trail" -p "$P" -C 64k --pcap "$D/s.pcap"
"$LOADGEN" -q --conns 100000 --duration 1.5 --port "$P" &
LG=$!
sleep 0.7
rec_stop "$D/s.trail" TERM
wait $LG
for f in "$D"/s.trail*; do
	case $f in *.i|*.err) continue ;; esac
	inspect_trail "$f"
	expect_kv "$f.i" status OK
	# a timewait sock is written into a file only when an event there names
	# it: carried into every new file, a storm's thousands of them made each
	# file its own limit and rotation ran away
	"$ANA" dump "$f" 2>/dev/null | awk '
		/^SOCK / && / kind=2 / { sub(/^id=/, "", $2); tw[$2] = 1 }
		/^(LIFE|LINK|RESET|DROP|RETRANS) / { for (i = 2; i <= NF; i++)
			if ($i ~ /^(sock|other)=/) { split($i, kv, "="); used[kv[2]] = 1 } }
		END { for (id in tw) if (!(id in used)) n++; print n + 0 }' >"$f.unused"
	[ "$(cat "$f.unused")" = 0 ] ||
		fail "$f: $(cat "$f.unused") timewait socks written with no event naming them"
done
n=$(ls "$D"/s.trail* | grep -cv '\.\(i\|err\|unused\)$')
bytes=$(sed -n 's/.* lost, \([0-9]*\) bytes written.*/\1/p' "$D/s.trail.err")
[ -n "$bytes" ] && [ "$bytes" -le $((n * 2 * 65536)) ] ||
	fail "$n files hold $bytes bytes: more than twice the 64k limit each"
for f in "$D"/s.pcap*; do
	case $f in *.i|*.unused) continue ;; esac
	"$INSPECT" pcap "$f" >"$f.i" || fail "$f unreadable"
	expect_kv "$f.i" end clean
done
ok "SIGTERM during rotation: all files complete"

"$REC" -w "$D/x.trail" -W 3 -- true 2>"$D/x.err"; rc=$?
[ $rc = 2 ] || fail "-W without -C: exit $rc"
expect_grep '-W N needs -C' "$D/x.err" "-W without -C"
"$REC" -w "$D/x.trail" -C 1x -- true 2>"$D/x.err"; rc=$?
[ $rc = 2 ] || fail "-C 1x: exit $rc"
expect_grep '-C wants a size' "$D/x.err" "bad -C"
ok "rotation option errors"
