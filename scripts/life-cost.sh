#!/bin/bash
# What the lifecycle probes cost (not a test): a loopback connection storm
# in a network namespace of its own, recorded with every probe and with the
# lifecycle probes left out (forced onto attach types this kernel refuses),
# alternated, median connection rate of each; then, with BPF run stats on,
# how often each lifecycle program runs per connection and for how long.
# Usage: scripts/life-cost.sh [ROUNDS] [CONNS]   (as root, after make)
set -u
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
CONNS=${2:-20000}
REC=build/tcptrail-record
LG=build/tcptrail-loadgen
NS=ttl_cost$$
OUT=$(mktemp -d)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$OUT"; sysctl -qw kernel.bpf_stats_enabled=0' EXIT
ip netns add $NS && ip -n $NS link set lo up || exit 1
OFF=(--force-method reqsk=fentry --force-method timewait=fexit --force-method close=fentry
     --force-method destroy=fentry)

rate() {	# rate [recorder options...]: connections per second of one storm
	"$REC" -q --ring-size 64 "$@" -w "$OUT/t.trail" -- ip netns exec $NS \
		"$LG" --conns "$CONNS" --parallel 2 2>"$OUT/err" |
		sed -n 's/.*(\([0-9]*\)\/s).*/\1/p'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# pairs run back to back: the host's other load drifts slower than a pair
on=() off=() ratio=()
for ((i = 0; i < ROUNDS; i++)); do
	off+=("$(rate "${OFF[@]}")")
	on+=("$(rate)")
	ratio+=("$(awk -v a="${on[i]}" -v b="${off[i]}" 'BEGIN { printf "%.3f", a / b }')")
done
echo "lifecycle probes off: ${off[*]} conn/s, median $(median "${off[@]}")"
echo "lifecycle probes on:  ${on[*]} conn/s, median $(median "${on[@]}")"
echo "on/off per pair: ${ratio[*]}, median $(median "${ratio[@]}")"

# per program: runs per connection and mean run time (stats add two clock reads)
sysctl -qw kernel.bpf_stats_enabled=1
"$REC" -q --ring-size 64 -w "$OUT/t.trail" -- bash -c \
	"sleep 0.5; bpftool -j prog show > $OUT/before.json; ip netns exec $NS $LG --conns $CONNS --parallel 2 >/dev/null;
	 bpftool -j prog show > $OUT/after.json" 2>/dev/null
python3 - "$OUT/before.json" "$OUT/after.json" "$CONNS" <<'EOF'
import json, sys
b = {p["id"]: p for p in json.load(open(sys.argv[1]))}
a = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
for p in a:
    name = p.get("name", "")
    if not name.startswith("tt_") or p["id"] not in b:
        continue
    runs = p.get("run_cnt", 0) - b[p["id"]].get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) - b[p["id"]].get("run_time_ns", 0)
    if runs:
        print("%-18s %8.2f runs/conn %7.1f ns/run" % (name, runs / n, ns / runs))
EOF
