#!/bin/bash
# Resets, recorded for real between two network namespaces of our own and
# explained by `tcptrail-analyze anomalies --json`:
#  - rst_no_socket: a connect() to a port nothing listens on;
#  - rst_close_unread: a server that closes with the client's data unread;
#  - rst_linger_abort: a client that closes with SO_LINGER {1, 0} (on 6.18
#    the RST's reason is TCP_STATE: the analyzer knows it from the stack);
#  - rst_received: the same abort by a peer whose namespace is not recorded
#    (a second recording, --netns of the client's namespace only).
# Each finding must name the connection's tuples, the process, the kernel's
# reason and stack, its evidence in time order and the right explanation;
# and nothing else may be found.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
. "$(dirname "$0")/scen_lib.sh"
need_fault_tools
need_netns

D=$TT_OUT/scen_rst
rm -rf "$D"
mkdir -p "$D"
NSA=tts_ra$$ NSB=tts_rb$$
netns_pair $NSA $NSB 10.237.0.1 10.237.0.2
A='10\.237\.0\.1' B='10\.237\.0\.2'
P=$((20000 + RANDOM % 20000))
PC=$P PU=$((P + 1)) PL=$((P + 2)) PR=$((P + 3))	# closed, unread, linger, received

# server.py MODE PORT COMM: unread: close as soon as data waits, unread;
# drain: read until EOF or reset; linger: close at once with SO_LINGER 0
cat >"$D/server.py" <<EOF
import select, socket, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
$(comm_py 'sys.argv[3]')
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.237.0.2", port)); l.listen(4); l.settimeout(10)
open("$D/ready.%d" % port, "w").close()
c, _ = l.accept(); c.settimeout(5)
if mode == "unread":
    select.select([c], [], [], 5)
    time.sleep(0.05)
elif mode == "drain":
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
elif mode == "linger":
    c.recv(1)                          # the client is connected for sure
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
l.close()
EOF
# client.py MODE PORT COMM: closed: connect, refused; unread: send, wait
# for the reset; linger: send, close with SO_LINGER 0; reset: wait for it
cat >"$D/client.py" <<EOF
import os, socket, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
$(comm_py 'sys.argv[3]')
if mode != "closed":
    for _ in range(200):
        if os.path.exists("$D/ready.%d" % port):
            break
        time.sleep(0.02)
c = socket.socket(); c.settimeout(5)
try:
    c.connect(("10.237.0.2", port))
except ConnectionRefusedError:
    print("refused", c.getsockname()[1], os.getpid(), flush=True)
    sys.exit(0)
print("connected", c.getsockname()[1], os.getpid(), flush=True)
if mode == "linger":
    c.send(b"x" * 10)
    time.sleep(0.1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
else:
    c.send(b"x" * (100 if mode == "unread" else 1))
    try:
        print("eof" if not c.recv(10) else "data", flush=True)
    except ConnectionResetError:
        print("reset", flush=True)
c.close()
EOF
SRV="ip netns exec $NSB $PY $D/server.py" CLI="ip netns exec $NSA $PY $D/client.py"

# -- both namespaces recorded
T=$D/both.trail
scen_record "$T" -q -p $PC -p $PU -p $PL -- timeout 20 bash -c "
	$SRV unread $PU tt-unread & $SRV drain $PL tt-drain &
	$CLI closed $PC tt-refused; $CLI unread $PU tt-sender; $CLI linger $PL tt-linger; wait"
read -r _ XC _ < <(grep '^refused ' "$T.out")
read -r _ XU _ < <(grep '^connected ' "$T.out" | sed -n 1p)
read -r _ XL PIDL < <(grep '^connected ' "$T.out" | sed -n 2p)
[ -n "$XC" ] && [ -n "$PIDL" ] && grep -qx reset "$T.out" ||
	{ cat "$T.out" "$T.err"; fail "the scenarios did not run as planned"; }

scen_kinds "$T.json" "rst_no_socket:1 rst_close_unread:1 rst_linger_abort:1"
scen_expect "$T.json" rst_no_socket client="$A:$XC" server="$B:$PC" both=false \
	reason=SK_RST_REASON_NO_SOCKET seg="^$A:$XC > $B:$PC SYN\$" \
	stack=tcp_v4_send_reset,tcp_v4_rcv event='^RST sent \(reply, no socket\)' \
	'order=state CLOSE>SYN_SENT<RST sent' 'order=RST sent<RST received' \
	'order=RST received<state SYN_SENT>CLOSE' reason=SKB_DROP_REASON_NO_SOCKET \
	summary="no socket for $A:$XC -> $B:$PC" explain="connection refused" \
	explain="listening on port $PC in this network namespace"
scen_expect "$T.json" rst_close_unread client="$A:$XU" server="$B:$PU" both=true \
	reason=SK_RST_REASON_TCP_ABORT_ON_CLOSE process=tt-unread \
	stack=tcp_send_active_reset,__tcp_close,tcp_close 'order=close\(\) called<RST sent' \
	summary="the server aborted the connection with RST .*process tt-unread" \
	explain="closed the socket while received data was still unread"
scen_expect "$T.json" rst_linger_abort client="$A:$XL" server="$B:$PL" both=true \
	reason=SK_RST_REASON_TCP_STATE process=tt-linger pid="$PIDL" \
	stack=tcp_send_active_reset,tcp_disconnect,__tcp_close,tcp_close \
	'order=close\(\) called<RST sent' summary="the client aborted .*process tt-linger \(pid $PIDL\)" \
	explain="SO_LINGER set and a zero linger time" explain="inferred from the stack" \
	noexplain="TCP_LINGER2"

# -- the client's namespace only: the peer's abort is an RST received
T=$D/client_only.trail
scen_record "$T" -q -p $PR --netns /run/netns/$NSA -- timeout 20 bash -c "
	$SRV linger $PR tt-peer & $CLI reset $PR tt-victim; wait"
read -r _ XR _ < <(grep '^connected ' "$T.out")
[ -n "$XR" ] && grep -qx reset "$T.out" || { cat "$T.out" "$T.err"; fail "the peer did not reset"; }
scen_kinds "$T.json" "rst_received:1"
scen_expect "$T.json" rst_received client="$A:$XR" server="$B:$PR" both=false \
	event='^RST received' \
	summary="the client received an RST from the peer in state ESTABLISHED" \
	explain="The peer \(not recorded in this capture\)"
