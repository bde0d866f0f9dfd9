#!/bin/bash
# Closes that hang, recorded for real between two network namespaces of
# our own (both at once) and explained by `tcptrail-analyze anomalies
# --close-wait-ms 300 --json`:
#  - close_wait_stuck: the client closes, the server reads the EOF and
#    closes only 0.6 s later;
#  - fin_wait2_timeout: the client half-closes, then closes: an orphan in
#    FIN_WAIT2 (net.ipv4.tcp_fin_timeout=1 in its namespace) that the
#    kernel frees after 1 s, because the server closes only after 1.8 s
#    (in CLOSE_WAIT all along: close_wait_stuck too); its late FIN then
#    finds no socket on the client's side (rst_no_socket).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/scen_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/scen_close
rm -rf "$D"
mkdir -p "$D"
NSA=tts_ca$$ NSB=tts_cb$$
netns_pair $NSA $NSB 10.239.0.1 10.239.0.2
A='10\.239\.0\.1' B='10\.239\.0\.2'
P=$((20000 + RANDOM % 20000))
PW=$P PF=$((P + 1))	# CLOSE_WAIT, FIN_WAIT2
ip netns exec $NSA sysctl -qw net.ipv4.tcp_fin_timeout=1 || fail "cannot set tcp_fin_timeout"

# server.py PORT COMM HOLD: accept, read to EOF, close HOLD s later
cat >"$D/server.py" <<EOF
import os, socket, sys, time
port, hold = int(sys.argv[1]), float(sys.argv[3])
$(comm_py 'sys.argv[2]')
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.239.0.2", port)); l.listen(4); l.settimeout(10)
open("$D/ready.%d" % port, "w").close()
c, _ = l.accept(); c.settimeout(5)
while c.recv(100):
    pass
print("server", port, os.getpid(), flush=True)
time.sleep(hold)
c.close()
l.close()
EOF
# client.py PORT COMM MODE: close: close at once; orphan: shutdown(SHUT_WR),
# close in FIN_WAIT2
cat >"$D/client.py" <<EOF
import os, socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[3]
$(comm_py 'sys.argv[2]')
for _ in range(200):
    if os.path.exists("$D/ready.%d" % port):
        break
    time.sleep(0.02)
c = socket.create_connection(("10.239.0.2", port), timeout=5)
print("client", port, c.getsockname()[1], os.getpid(), flush=True)
c.send(b"hello")
if mode == "orphan":
    c.shutdown(socket.SHUT_WR)
    time.sleep(0.3)                    # the FIN is acked: FIN_WAIT2
c.close()
time.sleep(2)
EOF
SRV="ip netns exec $NSB $PY $D/server.py" CLI="ip netns exec $NSA $PY $D/client.py"
T=$D/close.trail
SCEN_ANA_OPTS="--close-wait-ms 300" scen_record "$T" -q -p $PW -p $PF -- timeout 20 bash -c "
	$SRV $PW tt-slowclose 0.6 & $SRV $PF tt-neverclose 1.8 &
	$CLI $PW tt-closer close & $CLI $PF tt-orphan orphan; wait"
read -r _ _ XW _ < <(grep "^client $PW " "$T.out")
read -r _ _ XF PIDF < <(grep "^client $PF " "$T.out")
read -r _ _ PIDW < <(grep "^server $PW " "$T.out")
read -r _ _ PIDN < <(grep "^server $PF " "$T.out")
[ -n "$XW" ] && [ -n "$XF" ] && [ -n "$PIDW" ] && [ -n "$PIDN" ] ||
	{ cat "$T.out" "$T.err"; fail "the scenarios did not run as planned"; }

scen_kinds "$T.json" "close_wait_stuck:2 fin_wait2_timeout:1 rst_no_socket:1"
scen_expect "$T.json" close_wait_stuck client="$A:$XW" server="$B:$PW" both=true \
	'order=state ESTABLISHED>CLOSE_WAIT<state CLOSE_WAIT>LAST_ACK' \
	summary="the server stayed in CLOSE_WAIT for (5[5-9][0-9]|[6-9][0-9][0-9]|1[0-9][0-9][0-9])\.[0-9]+ ms\$" \
	explain="did not call close\(\) .*threshold 300 ms" explain="tt-slowclose \(pid $PIDW\)"
scen_expect "$T.json" close_wait_stuck client="$A:$XF" server="$B:$PF" both=true \
	summary="the server stayed in CLOSE_WAIT for (1[6-9]|2[0-9])[0-9][0-9]\.[0-9]+ ms\$" \
	explain="tt-neverclose \(pid $PIDN\)"
# the orphan: FIN_WAIT2 for tcp_fin_timeout, ended by the kernel
scen_expect "$T.json" fin_wait2_timeout client="$A:$XF" server="$B:$PF" both=true \
	'order=^timewait entered<^timewait ended' \
	summary="the client waited (9[0-9][0-9]|1[0-9][0-9][0-9])\.[0-9]+ ms in FIN_WAIT2 for the peer's FIN, which never came" \
	explain="net.ipv4.tcp_fin_timeout"
# the server's late FIN: no socket on the client's side any more
scen_expect "$T.json" rst_no_socket client="$A:$XF" server="$B:$PF" \
	reason=SK_RST_REASON_NO_SOCKET seg="^$B:$PF > $A:$XF FIN,ACK\$" \
	stack=tcp_v4_send_reset,tcp_v4_rcv explain="addressed to the client.s end of this connection, whose socket had gone to CLOSE [0-9]+\.[0-9]+ ms before" explain="The server had not learned" \
	'order=state FIN_WAIT2>CLOSE<RST sent'
# and the RST's own finding is the only one: the server receiving it is not rst_received
scen_expect "$T.json" rst_received client="$A:$XF" count=0
