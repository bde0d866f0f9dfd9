# Short bounded libFuzzer run of the capture reader (ASan+UBSan), seeded with
# the samples and a capture holding every record kind. `make fuzz` runs long.
. "$(dirname "$0")/lib.sh"
FUZZ=$TT_BUILD/fuzz/fuzz_reader
[ -x "$FUZZ" ] || skip "fuzz target not built (needs clang with libFuzzer)"
corpus=$TT_OUT/fuzz-corpus
rm -rf "$corpus"; mkdir -p "$corpus"
cp "$TT_ROOT"/samples/*.trail "$corpus"/ 2>/dev/null
"$TT_BUILD/tests/test_format" --sample "$corpus/all-kinds.trail" || fail "could not write seed"
"$FUZZ" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10 \
	-artifact_prefix="$TT_OUT/fuzz-" "$corpus" >"$TT_OUT/fuzz.out" 2>&1
rc=$?
tail -n 5 "$TT_OUT/fuzz.out"
[ $rc -eq 0 ] || fail "fuzzer found a problem (exit $rc), artifact in $TT_OUT/fuzz-*"
grep -Eq 'Done [0-9]+ runs' "$TT_OUT/fuzz.out" || fail "fuzzer did not run"
ok "$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$TT_OUT/fuzz.out")"
