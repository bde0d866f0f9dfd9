#!/bin/bash
# The handshake as the protocol has it: each SYN creates a request sock
# (TCP_NEW_SYN_RECV) recorded with its tuple and time, linked to its
# listener, BEFORE the client's SYN_SENT -> ESTABLISHED; the child socket
# the final ACK creates is linked to it and the request sock retired.
# IPv4 and IPv6, in a network namespace of our own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/life_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/life_handshake
rm -rf "$D"
mkdir -p "$D"
NS=ttl_hs$$
netns_new $NS
NSI=$(netns_of $NS)
N=5

for fam in 4 6; do
	if [ $fam = 4 ]; then A='127\.0\.0\.1' ANY='0\.0\.0\.0'; else A='\[::1\]' ANY='\[::\]'; fi
	T=$D/hs$fam.trail
	fault_record "$T" ip netns exec $NS "$LOADGEN" -$fam --conns $N --close client
	d=$T.dump
	P=$(sed -n 's/^loadgen: .* port \([0-9]*\),.*/\1/p' "$T.out")
	[ -n "$P" ] || { cat "$T.out"; fail "no port from loadgen"; }
	expect_grep '^META probe\.reqsk=' "$d" "reqsk probe in META"
	grep -q '^META probe\.reqsk=none' "$d" && skip "no method for request socks here"

	lid=$(kid "$d" 0 "$NSI" "$A:$P>($ANY|$A):0")
	[ -n "$lid" ] || fail "v$fam: no listener socket"
	reqs=$(kids "$d" 1 "$NSI" "$A:$P>$A:[0-9]+")
	[ "$(wc -w <<<"$reqs")" = $N ] || { echo "$reqs"; fail "v$fam: want $N request socks, got $(wc -w <<<"$reqs")"; }
	for r in $reqs; do
		rline=$(grep -E "^SOCK id=$r " "$d")
		tuple=$(field "$rline" tuple)
		X=${tuple##*:}
		syn=$(one "$d" LIFE "sock=$r .* task=none event=$EV_SYN_ARRIVED value=0$" "v$fam: SYN arrival of request sock $r") || exit 1
		one "$d" LINK "sock=$r .* other=$lid .* relation=$REL_REQ_OF_LISTENER$" \
			"v$fam: request sock $r made by the listener" >/dev/null
		link=$(one "$d" LINK "other=$r .* relation=$REL_CHILD_OF_REQ$" "v$fam: child of request sock $r") || exit 1
		c=$(field "$link" sock)
		cline=$(grep -E "^SOCK id=$c " "$d")
		[ "$(field "$cline" kind)" = 0 ] || fail "v$fam: child $c is not a full socket"
		[ "$(field "$cline" tuple)" = "$tuple" ] || { echo "$cline"; fail "v$fam: child $c has another tuple than $tuple"; }
		# the child inherits the request sock's cookie
		[ "$(field "$cline" cookie)" = "$(field "$rline" cookie)" ] ||
			fail "v$fam: child $c and request sock $r have different cookies"
		one "$d" STATE "sock=$c .* old=TCP_LISTEN\(10\) new=TCP_SYN_RECV\(3\)" "v$fam: child $c leaves LISTEN" >/dev/null
		# linked after the child appears, then the request sock is gone
		l_child=$(lineno "$d" "^STATE .*sock=$c .* new=TCP_SYN_RECV")
		l_link=$(lineno "$d" "^LINK sock=$c .* relation=$REL_CHILD_OF_REQ$")
		l_ret=$(lineno "$d" "^RETIRE id=$r$")
		[ "$l_child" -lt "$l_link" ] && [ "$l_link" -lt "$l_ret" ] ||
			fail "v$fam: request sock $r: child at line $l_child, link $l_link, retire $l_ret"
		expect_n "$d" LIFE "sock=$r .* event=$EV_REQ_DROPPED " 0 0 "v$fam: request sock $r got a child, not dropped"
		# the protocol's order: SYN arrival before the client is established
		cli=$(kid "$d" 0 "$NSI" "$A:$X>$A:$P")
		[ -n "$cli" ] || fail "v$fam: no client socket for port $X"
		est=$(one "$d" STATE "sock=$cli .* old=TCP_SYN_SENT\(2\) new=TCP_ESTABLISHED\(1\)" "v$fam: client $X established") || exit 1
		[ "$(ts_of "$syn")" -lt "$(ts_of "$est")" ] ||
			fail "v$fam: SYN arrival at $(ts_of "$syn") not before the client's ESTABLISHED at $(ts_of "$est")"
	done
	ok "v$fam: $N request socks, each before its client's ESTABLISHED, linked to the listener and to its child"
done
