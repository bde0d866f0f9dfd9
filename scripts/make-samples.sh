#!/bin/bash
# Re-record the captures in samples/ with the current recorder (root, BPF).
# They are real recordings of scripted loopback traffic, small enough to
# keep in git; tests and docs use them so the analyzer can be tried
# without root.
set -eu
cd "$(dirname "$0")/.."
B=build
[ "$(id -u)" = 0 ] || { echo "make-samples: needs root to record" >&2; exit 1; }
mkdir -p samples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/both.sh" <<'T'
#!/bin/bash
set -e
build/tcptrail-loadgen -q --conns 1 --close client --duration 10
build/tcptrail-loadgen -q --conns 1 --close server --duration 10
build/tcptrail-loadgen -q --conns 1 -6 --duration 10
T
chmod +x "$tmp/both.sh"
# one loadgen per sample, filtered to its port's traffic by construction:
# the recorder is started around the command only
$B/tcptrail-record -q -w samples/loopback-both-orders.trail -- "$tmp/both.sh"
$B/tcptrail-record -q -w samples/storm-200.trail -- $B/tcptrail-loadgen -q --conns 200 --parallel 2 --duration 20
$B/tcptrail-record -q -w samples/rst-abort.trail -- $B/tcptrail-loadgen -q --conns 3 --rst --duration 10
chmod 0644 samples/*.trail
ls -l samples/
