#!/bin/bash
# The fault probes' other attach methods. Classic tracepoints (forced)
# record the same resets, drops and stacks as tp_btf. The fentry and kprobe
# methods of 'reset' (for kernels whose tcp_send_reset has no reason) either
# work here and record resets without a reason, or fail and leave the probe
# at "none" while the recording goes on with the other probes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
A='127\.0\.0\.1'

# record_forced NAME LOADGEN-ARGS -- FORCE...: record loadgen with methods forced
record_forced() {
	local t=$TT_OUT/fault_methods_$1.trail f=() m
	shift
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	for m in "$@"; do f+=(--force-method "$m"); done
	"$REC" --ring-size 64 --stacks-per-sec 1000000000 -w "$t" "${f[@]}" -- "$LOADGEN" "${args[@]}" >"$t.out" 2>"$t.err" ||
		{ cat "$t.out" "$t.err"; fail "recording with ${f[*]} failed"; }
	"$ANA" dump "$t" >"$t.dump" || fail "dump of $t failed"
	PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$t.out")
	[ -n "$PORT" ] || { cat "$t.out"; fail "no port in loadgen's line"; }
	D=$t.dump E=$t.err
}

# classic tracepoints for every fault probe
TPS="reset=tracepoint reset_recv=tracepoint retrans=tracepoint retrans_synack=tracepoint drop=tracepoint"
# shellcheck disable=SC2086
record_forced tp_refused --refused --conns 2 -- $TPS
for p in "reset tcp/tcp_send_reset" "reset_recv tcp/tcp_receive_reset" "drop skb/kfree_skb" \
	"retrans tcp/tcp_retransmit_skb" "retrans_synack tcp/tcp_retransmit_synack"; do
	set -- $p
	expect_grep "^tcptrail-record: probe $1: tracepoint $2$" "$E" "$1 on its tracepoint"
	expect_grep "^META probe\.$1=tracepoint $2$" "$D" "$1's method in the capture"
done
seg="seg=$A:[0-9]+>$A:$PORT flags=S "
expect_n "$D" RESET "dir=sent source=reply sock=0 .* reason=SK_RST_REASON_NO_SOCKET\(.* $seg" 2 2 "tracepoint: RST replies"
expect_stack "$D" "$(lines "$D" RESET "dir=sent .* $seg" | head -n 1)" "tracepoint RST" tcp_v4_send_reset tcp_v4_rcv
expect_n "$D" DROP "sock=0 .* reason=SKB_DROP_REASON_NO_SOCKET\(.* $seg" 2 2 "tracepoint: SYNs dropped"
expect_stack "$D" "$(lines "$D" DROP "$seg" | head -n 1)" "tracepoint drop" \
	"(kfree_skb_reason|sk_skb_reason_drop)" tcp_v4_rcv
expect_n "$D" RESET "dir=received .* sktuple=$A:[0-9]+>$A:$PORT .* state=TCP_SYN_SENT\(" 2 2 "tracepoint: clients reset"
# shellcheck disable=SC2086
record_forced tp_unread --unread --conns 1 -- $TPS
expect_n "$D" RESET "dir=sent source=active .* sktuple=$A:[0-9]+>$A:$PORT .* state=TCP_CLOSE\(7\) reason=SK_RST_REASON_TCP_ABORT_ON_CLOSE\(" 1 1 \
	"tracepoint: active RST on close with unread data"
ok "classic tracepoints: same resets, drops, reasons and stacks as tp_btf"

# the senders' entry hooks
for m in fentry kprobe; do
	record_forced $m --refused --conns 2 -- reset=$m
	if grep -q "^tcptrail-record: probe reset: $m " "$E"; then
		expect_n "$D" RESET "dir=sent source=reply sock=0 .* reason=none .* seg=$A:[0-9]+>$A:$PORT flags=S " 2 2 \
			"$m: RST replies, no reason known"
		ok "$m works here: RSTs recorded without a reason"
	else
		expect_grep "^tcptrail-record: probe reset: none( \($m: .*\))?$" "$E" "reset left without a method"
		expect_grep "^META probe\.reset=none$" "$D" "reset method none in the capture"
		expect_n "$D" RESET "dir=sent" 0 0 "$m failed: no RST recorded"
		# the rest of the recording is whole
		expect_n "$D" DROP "reason=SKB_DROP_REASON_NO_SOCKET\(.* seg=$A:[0-9]+>$A:$PORT flags=S " 2 2 \
			"$m failed: drops still recorded"
		ok "$m not available here: reset probe none, other probes recording"
	fi
done
