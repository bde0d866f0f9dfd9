#!/bin/bash
# The README's demo: record real loopback traffic with tcptrail-record and
# show what tcptrail-analyze makes of it. Run through `make demo`, which
# installs packages and builds first.
set -eu
cd "$(dirname "$0")/.."
B=build
OUT=${DEMO_OUT:-$B/demo.trail}

if [ "$(id -u)" != 0 ]; then
	echo "demo: recording needs root (BPF); try: sudo make demo" >&2
	echo "demo: meanwhile, the analyzer on a sample capture:" >&2
	exec $B/tcptrail-analyze samples/loopback-both-orders.trail
fi

# Three connections: the client closes first, the server closes first, and
# one over IPv6; all on loopback, bounded in count and time.
cat >$B/demo-traffic.sh <<'TRAFFIC'
#!/bin/bash
set -e
build/tcptrail-loadgen --conns 1 --close client --duration 10
build/tcptrail-loadgen --conns 1 --close server --duration 10
build/tcptrail-loadgen --conns 1 -6 --duration 10
TRAFFIC
chmod +x $B/demo-traffic.sh

echo "== tcptrail-record -w $OUT -- $B/demo-traffic.sh"
$B/tcptrail-record -w "$OUT" -- $B/demo-traffic.sh
echo
echo "== tcptrail-analyze $OUT"
$B/tcptrail-analyze "$OUT"
echo
echo "== tcptrail-analyze $OUT --tcpstates"
$B/tcptrail-analyze "$OUT" --tcpstates
