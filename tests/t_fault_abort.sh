#!/bin/bash
# Resets this host sends on its own (tcp_send_active_reset), on loopback:
# a close with SO_LINGER 0 and a close with unread data, by the client and
# by the server. The capture must name the closing socket (the same id as
# its state changes), say ACTIVE, give the kernel's reason, show the close
# path in the stack, and show the peer receiving the RST while ESTABLISHED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
N=2
A='127\.0\.0\.1'

# check HOW SIDE REASONS FRAMES...: HOW is rst or unread; REASONS an ERE of
# acceptable sk_rst_reason names; FRAMES the stack, innermost first.
check() {
	local how=$1 side=$2 reasons=$3 t=$TT_OUT/fault_abort_$1_$2.trail d port
	local line id peer ptuple i=0
	shift 3
	fault_record "$t" "$LOADGEN" --"$how" --close "$side" --conns $N
	d=$t.dump
	port=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$t.out")
	[ -n "$port" ] || { cat "$t.out"; fail "no port in loadgen's line"; }
	# the closer's sockets: local>remote as the file gives them
	local closer="$A:[0-9]+>$A:$port"
	[ "$side" = server ] && closer="$A:$port>$A:[1-9][0-9]*"

	expect_n "$d" RESET "dir=sent source=active .* sktuple=$closer " $N $N "$how/$side: active RSTs"
	while read -r line; do
		i=$((i + 1))
		id=$(field "$line" sock)
		grep -Eq " state=TCP_CLOSE\(7\) reason=SK_RST_REASON_($reasons)\(.* seg=none$" <<<"$line" ||
			{ echo "$line"; fail "$how/$side RST $i: want state CLOSE, reason $reasons, no segment"; }
		# the same socket id as the connection's own state changes
		expect_n "$d" STATE "sock=$id .* old=TCP_ESTABLISHED\(1\) new=TCP_CLOSE\(7\)" 1 1 \
			"$how/$side RST $i is on the socket that closed"
		expect_stack "$d" "$line" "$how/$side RST $i" "$@"
		# the peer: local and remote swapped
		ptuple=$(field "$line" sktuple | awk -F'>' '{ print $2 ">" $1 }' | sed 's/\./\\./g')
		peer=$(lines "$d" RESET "dir=received .* sktuple=$ptuple ")
		[ "$(grep -c . <<<"$peer")" = 1 ] || { grep '^RESET' "$d"; fail "$how/$side RST $i: peer $ptuple did not receive it once"; }
		grep -q ' state=TCP_ESTABLISHED(1) ' <<<"$peer" ||
			{ echo "$peer"; fail "$how/$side RST $i: peer was not ESTABLISHED"; }
		expect_stack "$d" "$peer" "$how/$side peer $i" tcp_reset tcp_validate_incoming
		# tcp:tcp_send_reset fires after tcp_send_active_reset() transmitted,
		# and on loopback the peer has the RST by then: order by the close
		[ "$(field "$(lines "$d" STATE "sock=$id .* new=TCP_CLOSE\(7\)")" ts)" -le \
		  "$(field "$peer" ts)" ] || fail "$how/$side RST $i: peer reset before the close"
	done < <(lines "$d" RESET "dir=sent source=active .* sktuple=$closer ")
	ok "$how, $side closes: $N active RSTs on the closing socket, reason $reasons, peer reset"
}

# SO_LINGER 0: close() -> tcp_disconnect(); kernels name it by the state
# (TCP_STATE) or, in some versions, ABORT_ON_LINGER
for side in client server; do
	check rst $side 'TCP_STATE|TCP_ABORT_ON_LINGER' \
		tcp_send_active_reset tcp_disconnect __tcp_close tcp_close
done
# unread data at close(): RFC 2525's abort
for side in client server; do
	check unread $side 'TCP_ABORT_ON_CLOSE' tcp_send_active_reset __tcp_close tcp_close
done
