#!/bin/bash
# Connect to a closed port (IPv4 and IPv6 loopback): the kernel answers
# each SYN with an RST from tcp_v4/v6_send_reset, with no socket and the
# reason NO_SOCKET, then drops the SYN with the drop reason NO_SOCKET; the
# client socket receives the RST in SYN_SENT. The capture must hold all of
# it: the SYN answered (tuple, flags, seq) and the stacks that sent and
# dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
N=3

check() {
	local fam=$1 addr=$2 fn=$3 t=$TT_OUT/fault_refused$1.trail d port line sp seq i=0
	fault_record "$t" "$LOADGEN" -"$fam" --refused --conns $N
	d=$t.dump
	port=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$t.out")
	[ -n "$port" ] || { cat "$t.out"; fail "no port in loadgen's line"; }
	local seg="seg=$addr:[0-9]+>$addr:$port flags=S "

	expect_n "$d" RESET "dir=sent source=reply sock=0 .*$seg" $N $N "IPv$fam RSTs answering the SYNs"
	while read -r line; do
		i=$((i + 1))
		grep -q ' state=none reason=SK_RST_REASON_NO_SOCKET(' <<<"$line" ||
			{ echo "$line"; fail "IPv$fam RST $i: want no state and reason NO_SOCKET"; }
		expect_stack "$d" "$line" "IPv$fam RST $i" "$fn" "${fn%_send_reset}_rcv"
		sp=$(field "$line" seg | sed 's/.*:\([0-9]*\)>.*/\1/')
		seq=$(field "$line" seq)
		# the same SYN, dropped after it was answered
		expect_n "$d" DROP "sock=0 .*reason=SKB_DROP_REASON_NO_SOCKET\(.* seg=$addr:$sp>$addr:$port flags=S seq=$seq " 1 1 \
			"IPv$fam drop of SYN $i"
		expect_stack "$d" "$(lines "$d" DROP "seg=$addr:$sp>$addr:$port flags=S seq=$seq ")" \
			"IPv$fam drop of SYN $i" "(kfree_skb_reason|sk_skb_reason_drop)" "${fn%_send_reset}_rcv"
		# and the client that sent it got the RST while connecting
		expect_n "$d" RESET "dir=received .* sktuple=$addr:$sp>$addr:$port .* state=TCP_SYN_SENT\(" 1 1 \
			"IPv$fam client $i receives the RST"
	done < <(lines "$d" RESET "dir=sent source=reply sock=0 .*$seg")
	ok "IPv$fam: $N RSTs with no socket, reason NO_SOCKET, via $fn; SYNs dropped NO_SOCKET; clients reset in SYN_SENT"
}

check 4 '127\.0\.0\.1' tcp_v4_send_reset
if "$LOADGEN" -q -6 --refused --conns 1 >/dev/null 2>&1; then
	check 6 '\[::1\]' tcp_v6_send_reset
else
	echo "note: no IPv6 loopback here, IPv6 part skipped"
fi
