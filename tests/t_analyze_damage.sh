#!/bin/bash
# tcptrail-analyze on captures that are cut short, damaged or not captures
# at all, and on bad command lines: the documented exit codes, a warning
# naming the offset, and the analysis of whatever was readable.
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
D=$TT_OUT/analyze_damage
rm -rf "$D"; mkdir -p "$D"
GEN=$D/gen
${CC:-cc} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -o "$GEN" \
	"$TT_ROOT/tests/t_analyze_gen.c" "$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the generator"
"$GEN" "$D/g.trail" && "$GEN" --no-end "$D/noend.trail" && "$GEN" --raw "$D/raw.trail" ||
	fail "generator failed"

# run FILE WANT_RC: analyze, check the exit status
run() {
	"$ANA" "${@:3}" "$1" >"$D/out" 2>"$D/err"
	local rc=$?
	[ "$rc" = "$2" ] || { head -5 "$D/err"; fail "$(basename "$1") ${*:3}: exit $rc, wanted $2"; }
}

# no END block (kill -9 of the recorder): analysed, exit 0, warned
run "$D/noend.trail" 0
expect_grep '^  end +no END block' "$D/out" "no-END in the header"
expect_grep 'warning: .*no END block' "$D/err" "no-END warning"
expect_grep '^Connections \(8\)$' "$D/out" "no-END still analysed"
ok "no END"

# cut inside the last block: truncated, the blocks before it analysed
size=$(stat -c %s "$D/g.trail")
head -c $((size - 7)) "$D/g.trail" >"$D/cut.trail"
run "$D/cut.trail" 0
expect_grep '^  end +TRUNCATED: truncated at offset [0-9]+' "$D/out" "truncation with its offset"
expect_grep 'warning: .*truncated at offset [0-9]+' "$D/err" "truncation warning"
expect_grep '^Connections \(8\)$' "$D/out" "truncated file still analysed"
ok "truncated"

# a bad checksum late in the file (uncompressed: many small blocks):
# corrupt, exit 3, the part before analysed
rsize=$(stat -c %s "$D/raw.trail")
off=$((rsize * 3 / 4))
cp "$D/raw.trail" "$D/bad.trail"
printf '\xa5' | dd of="$D/bad.trail" bs=1 seek=$off conv=notrunc status=none
run "$D/bad.trail" 3
expect_grep '^  end +CORRUPT: corrupt block at offset [0-9]+' "$D/out" "corruption with its offset"
expect_grep 'error: .*corrupt' "$D/err" "corruption on stderr"
expect_grep '^#1  127\.0\.0\.1:40000 -> 127\.0\.0\.1:8080' "$D/out" "data before the damage analysed"
run "$D/bad.trail" 3 --tcpstates
head -1 "$D/out" | grep -q '^SKADDR ' || fail "tcpstates output on a corrupt file"
ok "corrupt"

# every cut of the file: never a crash, only 0 (analysed) or 1 (nothing usable)
for ((n = 0; n < size; n += 13)); do
	head -c $n "$D/g.trail" >"$D/c.trail"
	"$ANA" "$D/c.trail" >/dev/null 2>"$D/err"
	rc=$?
	case $rc in 0 | 1) ;; *) cat "$D/err"; fail "cut at $n: exit $rc" ;; esac
	[ $n -lt 16 ] && [ $rc != 1 ] && fail "cut at $n (inside the preamble): exit $rc, wanted 1"
done
ok "every cut"

# not captures
: >"$D/empty.trail"
run "$D/empty.trail" 1
echo "hello, not a capture" >"$D/text.trail"
run "$D/text.trail" 1
expect_grep 'magic' "$D/err" "bad magic named"
run "$D/missing.trail" 1
expect_grep 'missing\.trail' "$D/err" "missing file named"
ok "unreadable"

# the command line
run "$D/g.trail" 2 bogus-command
expect_grep "unknown command 'bogus-command'" "$D/err" "unknown command named"
run "$D/g.trail" 2 --no-such-option
expect_grep "unknown option '--no-such-option'" "$D/err" "unknown option named"
run "$D/g.trail" 2 -Z
run "$D/g.trail" 2 diagram
expect_grep "diagram needs --conn ID" "$D/err" "diagram without --conn"
run "$D/g.trail" 2 diagram --conn 999
expect_grep "no connection #999" "$D/err" "diagram of a missing connection"
run "$D/g.trail" 2 summary "$D/g.trail"
"$ANA" >/dev/null 2>&1; [ $? = 2 ] || fail "no arguments: want exit 2"
"$ANA" summary >/dev/null 2>&1; [ $? = 2 ] || fail "command without FILE: want exit 2"
"$ANA" --help >"$D/help" || fail "--help exit $?"
for w in summary connections tcpstates 'Exit status' '^  0 ' '^  1 ' '^  2 ' '^  3 '; do
	expect_grep "$w" "$D/help" "--help mentions $w"
done
"$ANA" -V | grep -q '^tcptrail-analyze [0-9]' || fail "-V"
run "$D/g.trail" 0 summary
run "$D/g.trail" 0 tcpstates -T
ok "command line"
