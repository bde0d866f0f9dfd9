#!/bin/bash
# The pcap comes from a bug ticket too: the frame decoder under ASan+UBSan
# on every link type, every truncation and random damage; then an
# ASan+UBSan analyzer on a generated capture whose pcap is cut or damaged.
# It must never crash; bad packets are skipped with a message naming the
# file and the packet number; a pcap of loopback traffic seen twice ("any")
# gives each packet once.
. "$(dirname "$0")/lib.sh"

D=$TT_OUT/pcap_damage
rm -rf "$D"; mkdir -p "$D"
CCX=${CC:-cc}
SANF="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
ASAN=$D/tcptrail-analyze-asan
$CCX -O1 -g -std=gnu11 -D_GNU_SOURCE -DTCPTRAIL_VERSION='"asan"' $SANF -I"$TT_ROOT/format" \
	-o "$ASAN" "$TT_ROOT"/analyze/*.c "$TT_ROOT"/format/*.c -lzstd -lpcap -lm 2>"$D/cc.err" ||
	{ cat "$D/cc.err"; skip "cannot build with -fsanitize=address,undefined"; }
$CCX -O1 -g -std=gnu11 -D_GNU_SOURCE $SANF -I"$TT_ROOT/format" -o "$D/gen" \
	"$TT_ROOT/tests/t_pcap_gen.c" "$TT_ROOT/analyze/pcap_decode.c" "$TT_ROOT"/format/*.c \
	-lzstd -lpcap 2>"$D/cc.err" || { cat "$D/cc.err"; fail "cannot build t_pcap_gen"; }
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:exitcode=99

"$D/gen" selftest || fail "decoder self test"

# Linux cooked ("any"): every packet twice, sent then received
"$D/gen" write "$D/c.trail" "$D/c.trail.pcap" 113 || fail "generator"
"$ASAN" "$D/c.trail" >"$D/sum" 2>"$D/err" || { cat "$D/err"; fail "summary with the pcap"; }
expect_grep 'pcap .*c\.trail\.pcap: 7 TCP packets, 7 attached to connections, 0 unmatched, [0-9]+ tied to kernel events, 7 seen twice' \
	"$D/sum" "14 frames of loopback traffic seen twice: 7 packets"
expect_grep 'packets: 7 in the pcap \(4 from the client, 3 from the server\): SYN 1, SYN-ACK 1, ACK 3, data 0, FIN 2, RST 0' \
	"$D/sum" "packet counts"
"$ASAN" anomalies --json "$D/c.trail" >"$D/json" 2>"$D/err" || { cat "$D/err"; fail "anomalies"; }
expect_grep '"anomalies": \[\]' "$D/json" "a clean generated connection has no findings"
# Ethernet with a VLAN tag
"$D/gen" write "$D/e.trail" "$D/e.trail.pcap" 1 || fail "generator (Ethernet)"
"$ASAN" connections "$D/e.trail" >"$D/conns" 2>"$D/err" || { cat "$D/err"; fail "connections (Ethernet)"; }
expect_grep 'packets: 7 in the pcap' "$D/conns" "Ethernet packets attached"
ok "decoder self test; 7 packets seen twice folded; Ethernet+VLAN"

# --pcap naming no file, or not a pcap: exit 1 with a message; --no-pcap: quiet
"$ASAN" --pcap "$D/none.pcap" "$D/c.trail" >/dev/null 2>"$D/err"; rc=$?
[ $rc = 1 ] || fail "--pcap of a missing file: exit $rc"
expect_grep 'cannot read pcap .*none\.pcap' "$D/err" "missing pcap message"
"$ASAN" --pcap "$D/c.trail" "$D/c.trail" >/dev/null 2>"$D/err"; rc=$?
[ $rc = 1 ] || fail "--pcap of a .trail: exit $rc"
"$ASAN" --no-pcap "$D/c.trail" >"$D/sum" 2>"$D/err" || fail "--no-pcap"
grep -Eq "packets: |TCP packets" "$D/sum" "$D/err" && fail "--no-pcap: a pcap was still used"

N=${TT_FUZZ_N:-200}
end=$((SECONDS + 120))
named=0
for ((i = 1; i <= N && SECONDS < end; i++)); do
	"$D/gen" mutate "$i" "$D/c.trail.pcap" "$D/m.pcap" || fail "mutate $i"
	"$ASAN" connections --pcap "$D/m.pcap" "$D/c.trail" >/dev/null 2>"$D/err"
	rc=$?
	case $rc in
	0 | 1) ;;
	*) cp "$D/m.pcap" "$D/crash-$i.pcap"; tail -30 "$D/err"
	   fail "seed $i: exit $rc (kept as $D/crash-$i.pcap)" ;;
	esac
	if grep -q 'packet [0-9]*:' "$D/err"; then
		grep -Eq "pcap .*m\.pcap: packet [0-9]+: .*(; skipped|packets before it are used)" "$D/err" ||
			{ cat "$D/err"; fail "seed $i: a bad packet without file and number"; }
		named=$((named + 1))
	fi
done
[ $named -gt 0 ] || fail "no damaged packet was reported: the mutations do not reach the decoder"
ok "$((i - 1)) cut or damaged pcaps: no crash, $named with bad packets named by number"

# a short libFuzzer run of the frame decoder, where clang built it (make tests)
FUZZ=$TT_BUILD/fuzz/fuzz_pcap
if [ -x "$FUZZ" ]; then
	mkdir -p "$D/corpus"
	"$FUZZ" -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$D/fuzz-" "$D/corpus" >"$D/fuzz.out" 2>&1 ||
		{ tail -n 20 "$D/fuzz.out"; fail "fuzz_pcap found a problem, artifact in $D/fuzz-*"; }
	ok "fuzz_pcap: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$D/fuzz.out")"
fi
