#!/bin/bash
# An active reset from a timer, not from a task: a connection between two
# network namespaces (veth pair made here) whose peer goes silent (its
# firewall drops everything from the client). With keepalive after 1 s and
# one unanswered probe, the client's kernel aborts the connection with an
# RST, reason TCP_KEEPALIVE_TIMEOUT, from tcp_keepalive_timer; the peer's
# firewall drops that RST too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
need_fault_tools
need_netns
command -v nft >/dev/null || skip "no nft(8)"

D=$TT_OUT/fault_keepalive
rm -rf "$D"
mkdir -p "$D"
NSA=ttf_ka$$ NSB=ttf_kb$$
netns_pair $NSA $NSB 10.234.0.1 10.234.0.2
NSBINO=$(netns_of $NSB)
P=$((20000 + RANDOM % 20000))

cat >"$D/server.py" <<EOF
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.234.0.2", $P)); s.listen(4); s.settimeout(10)
open("$D/ready", "w").close()
c, _ = s.accept()
time.sleep(3)
EOF
cat >"$D/client.py" <<EOF
import os, socket, subprocess, time
for _ in range(100):
    if os.path.exists("$D/ready"):
        break
    time.sleep(0.05)
c = socket.create_connection(("10.234.0.2", $P), timeout=5)
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 1)
subprocess.run(["ip", "netns", "exec", "$NSB", "nft", "-f", "-"], check=True, text=True,
               input="table inet ttf {\n chain in {\n type filter hook input priority 0;\n"
                     " ip saddr 10.234.0.1 drop\n }\n}\n")
c.settimeout(3.5)
try:
    c.recv(1)
    print("aborted no", flush=True)
except OSError as e:
    print("aborted", e.errno, flush=True)
print("port", c.getsockname()[1], flush=True)
EOF
T=$D/keepalive.trail
fault_record "$T" timeout 20 bash -c \
	"ip netns exec $NSB $PY $D/server.py & ip netns exec $NSA $PY $D/client.py; wait"
d=$T.dump
X=$(sed -n 's/^port //p' "$T.out")
[ -n "$X" ] || { cat "$T.out"; fail "no port from the client"; }
grep -q '^aborted 110$' "$T.out" || { cat "$T.out"; fail "the client was not aborted with ETIMEDOUT"; }
A='10\.234\.0\.1' B='10\.234\.0\.2'
cli=$(sock_id "$d" "$A:$X>$B:$P")
[ -n "$cli" ] || fail "no client socket"

expect_n "$d" RESET "dir=sent source=active sock=$cli .* state=TCP_ESTABLISHED\(1\) reason=SK_RST_REASON_TCP_KEEPALIVE_TIMEOUT\(.* seg=none$" 1 1 \
	"keepalive timeout RST on the client socket"
line=$(lines "$d" RESET "dir=sent source=active sock=$cli ")
expect_stack "$d" "$line" "keepalive RST" tcp_send_active_reset tcp_keepalive_timer
expect_n "$d" DROP "netns=$NSBINO reason=SKB_DROP_REASON_NETFILTER_DROP\(.* seg=$A:$X>$B:$P flags=R" 1 \
	"the silent peer's firewall drops the RST"
expect_n "$d" STATE "sock=$cli .* old=TCP_ESTABLISHED\(1\) new=TCP_CLOSE\(7\)" 1 1 "the client socket closed"
ok "keepalive timeout: active RST from the timer on the client socket, reason TCP_KEEPALIVE_TIMEOUT"
