#!/bin/bash
# Once attached, the recorder holds no capability (CapEff, CapPrm, CapBnd
# all zero, no_new_privs), still records, and writes 0600 files; with
# --user or under sudo it runs as that user and the files are theirs;
# rotating into a directory only DAC override can write keeps exactly that.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/record_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
need_ops_tools
trap ops_cleanup EXIT

status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$REC_PID/status"; }
P=$(free_port)

T=$TT_OUT/privs.trail
rec_start "$T" -p "$P"
[ "$(status_of CapEff)" = 0000000000000000 ] || fail "CapEff $(status_of CapEff)"
[ "$(status_of CapPrm)" = 0000000000000000 ] || fail "CapPrm $(status_of CapPrm)"
[ "$(status_of CapBnd)" = 0000000000000000 ] || fail "CapBnd $(status_of CapBnd)"
[ "$(status_of NoNewPrivs)" = 1 ] || fail "NoNewPrivs $(status_of NoNewPrivs)"
"$LOADGEN" -q --conns 10 --port "$P" || fail "loadgen"
rec_stop "$T"
transitions "$T" "$P" >/dev/null
expect_close_order "$T.trans" 10
[ "$(stat -c %a "$T")" = 600 ] || fail "mode $(stat -c %a "$T")"
ok "root without capabilities, still recording"

# --user nobody (and the sudo variables): files handed over, uid switched
D=$TT_OUT/privs-user
rm -rf "$D"; mkdir -p "$D"; chmod 0777 "$D"
for how in "--user nobody" "SUDO"; do
	rm -f "$D"/*
	if [ "$how" = SUDO ]; then
		SUDO_UID=65534 SUDO_GID=65534 rec_start "$D/u.trail" -p "$P" --pcap "$D/u.pcap" -C 4k
	else
		rec_start "$D/u.trail" -p "$P" --pcap "$D/u.pcap" -C 4k --user nobody
	fi
	[ "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "/proc/$REC_PID/status")" = 65534655346553465534 ] ||
		fail "$how: $(grep Uid: "/proc/$REC_PID/status")"
	[ "$(status_of CapEff)" = 0000000000000000 ] || fail "$how: CapEff $(status_of CapEff)"
	"$LOADGEN" -q --conns 300 --port "$P" || fail "loadgen"
	sleep 0.3
	rec_stop "$D/u.trail"
	n=0
	for f in "$D"/u.trail* "$D"/u.pcap*; do
		case $f in *.err) continue ;; esac
		[ "$(stat -c '%U %a' "$f")" = "nobody 600" ] || fail "$how: $f is $(stat -c '%U %a' "$f")"
		n=$((n + 1))
	done
	[ "$n" -ge 4 ] || fail "$how: only $n files: no rotation as nobody"
	ok "$how: uid 65534, $n files of nobody, mode 600"
done

# rotation into a directory root may only write with DAC override
D=$TT_OUT/privs-dac
rm -rf "$D"; mkdir -p "$D"; chown nobody "$D"; chmod 0700 "$D"
rec_start "$D/d.trail" -p "$P" -C 4k
[ "$(status_of CapEff)" = 0000000000000002 ] || fail "CapEff $(status_of CapEff), wanted cap_dac_override only"
expect_grep 'capabilities kept: cap_dac_override' "$D/d.trail.err" "kept capability named"
"$LOADGEN" -q --conns 300 --port "$P" || fail "loadgen"
rec_stop "$D/d.trail"
[ -f "$D/d.trail1" ] || fail "no rotated file in $D"
ok "-C into a directory of another user keeps cap_dac_override, nothing else"
