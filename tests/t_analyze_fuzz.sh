#!/bin/bash
# The analyzer reads files from bug tickets: run an ASan+UBSan build of it
# on captures with random bytes changed inside their blocks (checksums
# fixed, so the damage reaches the decoder and the analyzer). It must
# never crash or trip a sanitizer; exit codes stay within 0, 1, 3.
. "$(dirname "$0")/lib.sh"

D=$TT_OUT/analyze_fuzz
rm -rf "$D"; mkdir -p "$D"
CCX=${CC:-cc}
ASAN=$D/tcptrail-analyze-asan
$CCX -O1 -g -std=gnu11 -D_GNU_SOURCE -DTCPTRAIL_VERSION='"asan"' \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I"$TT_ROOT/format" -o "$ASAN" "$TT_ROOT"/analyze/*.c "$TT_ROOT"/format/*.c -lzstd -lpcap -lm 2>"$D/cc.err" ||
	{ cat "$D/cc.err"; skip "cannot build with -fsanitize=address,undefined"; }
${CCX} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -o "$D/gen" \
	"$TT_ROOT/tests/t_analyze_gen.c" "$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the generator"
"$D/gen" --raw "$D/raw.trail" && "$D/gen" "$D/z.trail" && "$D/gen" --raw --no-table "$D/nt.trail" ||
	fail "generator failed"

export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:exitcode=99
N=${TT_FUZZ_N:-300}
end=$((SECONDS + 120))
declare -A seen
i=0
for ((i = 1; i <= N && SECONDS < end; i++)); do
	case $((i % 3)) in 0) in=$D/raw.trail ;; 1) in=$D/nt.trail ;; *) in=$D/z.trail ;; esac
	"$D/gen" --mutate "$i" "$in" "$D/m.trail" || fail "mutate $i"
	for mode in "" --tcpstates; do
		"$ASAN" $mode "$D/m.trail" >/dev/null 2>"$D/err"
		rc=$?
		case $rc in
		0 | 1 | 3) seen[$rc]=1 ;;
		*) cp "$D/m.trail" "$D/crash-$i.trail"; tail -30 "$D/err"
		   fail "seed $i ${mode:-summary}: exit $rc (kept as $D/crash-$i.trail)" ;;
		esac
	done
done
[ -n "${seen[3]:-}" ] || fail "no mutation reached the decoder (no exit 3): the fuzzer is not working"
ok "$((i - 1)) mutated captures, exit codes seen: ${!seen[*]}"

# well-formed files of random records: the pairing and printing logic
M=${TT_FUZZ_RANDOM:-150}
end=$((SECONDS + 120))
for ((i = 1; i <= M && SECONDS < end; i++)); do
	"$D/gen" --random "$i" "$D/r.trail" || fail "random $i"
	for mode in "" --tcpstates; do
		"$ASAN" $mode "$D/r.trail" >"$D/out" 2>"$D/err"
		rc=$?
		[ $rc = 0 ] || { cp "$D/r.trail" "$D/crash-random-$i.trail"; tail -30 "$D/err"
			fail "random seed $i ${mode:-summary}: exit $rc (kept as $D/crash-random-$i.trail)"; }
	done
	! grep -q $'[\x01\x1b]' "$D/out" || fail "random seed $i: control character in the output"
done
ok "$((i - 1)) random captures"

# random records of every issue 3 kind (links between any sockets, resets
# and drops with and without sockets, hostile stack frames), through every
# command and format; the scenario captures mutated
${CCX} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -I"$TT_ROOT/tests" -o "$D/scen" \
	"$TT_ROOT/tests/t_analyze_scen.c" "$TT_ROOT/tests/t_analyze_scen_cases.c" \
	"$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the scenario writer"
"$D/scen" nat "$D/nat.trail" && "$D/scen" linger "$D/linger.trail" || fail "scenarios"
M=${TT_FUZZ_RANDOM:-150}
end=$((SECONDS + 150))
for ((i = 1; i <= M && SECONDS < end; i++)); do
	if ((i % 3)); then
		"$D/scen" --random "$i" "$D/r.trail" || fail "scen random $i"
	else
		"$D/gen" --mutate "$i" "$D/$( ((i % 2)) && echo nat || echo linger).trail" "$D/r.trail" || fail "mutate $i"
	fi
	for cmd in "anomalies --json" "anomalies --markdown" summary "report -o $D/r.html" \
		"diagram --conn 1 --format svg" "diagram --conn 2 --format mermaid" \
		"connections --outcome reset --port 80"; do
		# shellcheck disable=SC2086
		"$ASAN" $cmd "$D/r.trail" >"$D/out" 2>"$D/err"
		rc=$?
		case $rc in
		0 | 1 | 2 | 3) ;;
		*) cp "$D/r.trail" "$D/crash-records-$i.trail"; tail -30 "$D/err"
		   fail "records seed $i $cmd: exit $rc (kept as $D/crash-records-$i.trail)" ;;
		esac
		! grep -q $'[\x01\x1b]' "$D/out" || fail "records seed $i $cmd: control character in the output"
	done
	if command -v python3 >/dev/null && "$ASAN" anomalies --json "$D/r.trail" >"$D/j" 2>/dev/null; then
		python3 -m json.tool "$D/j" >/dev/null || fail "records seed $i: invalid JSON"
	fi
done
ok "$((i - 1)) captures of random issue 3 records through every command"
