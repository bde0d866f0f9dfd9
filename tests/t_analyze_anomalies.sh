#!/bin/bash
# tcptrail-analyze anomalies/diagram on one synthetic capture per scenario
# (tests/t_analyze_scen*.c): each anomaly kind is found, with the evidence
# and names it needs; healthy captures have no findings; JSON is valid;
# strings from the file come out escaped in every format.
# To check a real recorded capture the same way, add a line to the table
# below with its file instead of a scenario name (see expect_kinds).
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
D=$TT_OUT/analyze_anomalies
rm -rf "$D"; mkdir -p "$D"
GEN=$D/scen
${CC:-cc} -O1 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" \
	-I"$TT_ROOT/tests" -o "$GEN" "$TT_ROOT/tests/t_analyze_scen.c" \
	"$TT_ROOT/tests/t_analyze_scen_cases.c" "$TT_BUILD/libtrail.a" -lzstd ||
	fail "cannot build the scenario writer"
command -v python3 >/dev/null || skip "python3 needed to check JSON"

# expect_kinds FILE "kind kind ...": the sorted kinds of FILE's findings, exactly
expect_kinds() {
	local f=$1 want=$2 got
	"$ANA" anomalies --json "$f" >"$f.json" 2>"$f.err" || { cat "$f.err"; fail "$f: anomalies exit $?"; }
	python3 -m json.tool "$f.json" >/dev/null || fail "$f: invalid JSON"
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["anomalies"]:
    for k in ("kind", "connection", "time", "summary", "evidence", "explanation"):
        assert k in a, (k, a)
    assert a["summary"] and a["explanation"], a
print(" ".join(sorted(a["kind"] for a in d["anomalies"])))' "$f.json") || fail "$f: JSON schema"
	[ "$got" = "$want" ] || fail "$f: kinds '$got', wanted '$want'"
	ok "$(basename "$f"): ${want:-no findings}"
}

while read -r name kinds; do
	"$GEN" "$name" "$D/$name.trail" || fail "scenario $name"
	expect_kinds "$D/$name.trail" "$kinds"
done <<'TABLE'
healthy
closed_port rst_no_socket
nat nat_mismatch
lookup_race rst_lookup_race
linger rst_linger_abort
unread rst_close_unread
hostile rst_abort
external rst_external
reply_rst rst_sent
peer_reset rst_received
refused_states_only
syn_timeout handshake_timeout syn_retransmit
synack_timeout handshake_timeout synack_retransmit
overflow listen_overflow
close_wait close_wait_stuck
fin_wait2 fin_wait2_timeout
lost events_lost
TABLE

j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$D/$1.trail.json"; }

# -- evidence and names
[ "$(j nat 'd["anomalies"][0]["connection"]["server"]')" = "127.0.0.1:1112" ] || fail "nat: client's view"
j nat 'd["anomalies"][0]["summary"]' | grep -q '127\.0\.0\.1:40100 -> 127\.0\.0\.1:1112.*127\.0\.0\.1:80 <- 127\.0\.0\.1:40100' ||
	fail "nat: both tuples named"
rst='[e for e in d["anomalies"][0]["evidence"] if e["event"].startswith("RST sent")][0]'
[ "$(j nat "$rst"'["stack"][0]')" = "tcp_v4_send_reset+0x1a4" ] || fail "nat: stack"
[ "$(j nat "$rst"'["reason"]')" = "SK_RST_REASON_NO_SOCKET" ] || fail "nat: reason"
[ "$(j nat "$rst"'["matched"]')" = "no socket; untranslated tuple of this connection" ] || fail "nat: how it matched"
j nat '[e["event"] for e in d["anomalies"][0]["evidence"]]' | grep -q "'RST received'" || fail "nat: the client's view in the evidence"
j lookup_race '[e.get("to") for e in d["anomalies"][0]["evidence"]]' | grep -q "'SYN_RECV'" ||
	fail "lookup race: the live socket's state changes around the RST"
"$ANA" connections "$D/nat.trail" | grep -q 'address translation: the client connected to 127\.0\.0\.1:1112, the server.s socket is 127\.0\.0\.1:80' ||
	fail "nat: connection joined across the translation"
j linger 'd["anomalies"][0]["summary"]' | grep -q 'SK_RST_REASON_TCP_ABORT_ON_LINGER.*client (pid 200)' || fail "linger: reason and process"
[ "$(j linger '[e for e in d["anomalies"][0]["evidence"] if "segment" in e][0]["segment"]["flags"]')" = "RST,ACK" ] ||
	fail "linger: segment flags"
# evidence is in time order
j linger 'all(a["time_boot_ns"] <= b["time_boot_ns"] for a, b in zip(d["anomalies"][0]["evidence"], d["anomalies"][0]["evidence"][1:]))' |
	grep -q True || fail "evidence in time order"
j unread 'd["anomalies"][0]["explanation"]' | grep -q 'unread' || fail "unread: explanation"
j closed_port 'd["anomalies"][0]["summary"]' | grep -q '127\.0\.0\.1:40500 -> 127\.0\.0\.1:9' || fail "closed port: segment"
j syn_timeout '[a["summary"] for a in d["anomalies"] if a["kind"] == "syn_retransmit"][0]' | grep -q '3 more times; the handshake never completed' ||
	fail "syn retransmits counted"
[ "$(j close_wait 'd["anomalies"][0]["evidence"][0]["to"]')" = "CLOSE_WAIT" ] || fail "close_wait evidence"
"$ANA" anomalies --close-wait-ms 9000 "$D/close_wait.trail" | grep -q '^Findings (0)$' || fail "--close-wait-ms threshold"

# -- the server's side starts at the SYN's arrival, TIME_WAIT is shown
"$ANA" diagram --conn 1 "$D/healthy.trail" >"$D/healthy.txt" || fail "diagram text"
awk '/NEW_SYN_RECV/ {s = NR} /SYN_SENT -> ESTABLISHED/ {e = NR} END {exit !(s && e && s < e)}' "$D/healthy.txt" ||
	{ cat "$D/healthy.txt"; fail "diagram: SYN arrival before the client's ESTABLISHED"; }
expect_grep 'TIME_WAIT entered' "$D/healthy.txt" "diagram: TIME_WAIT"
[ "$("$ANA" connections "$D/healthy.trail" | grep -c '^#')" = 5 ] || fail "healthy: 5 connections (an old TIME_WAIT ending is none)"
"$ANA" "$D/healthy.trail" | grep -q '^  connections  5 (5 with both ends recorded), 1 listener$' || fail "healthy: all joined"
expect_grep '\+60002\.000 ms +TIME_WAIT ended' "$D/healthy.txt" "diagram: TIME_WAIT end"
"$ANA" diagram --conn 1 --format mermaid "$D/nat.trail" >"$D/nat.mmd" || fail "mermaid"
head -1 "$D/nat.mmd" | grep -qx 'sequenceDiagram' || fail "mermaid header"
expect_grep '^    S-xC: .*RST sent \(reply, no socket\) \[SK_RST_REASON_NO_SOCKET\]' "$D/nat.mmd" "mermaid RST arrow with reason"
"$ANA" diagram --conn 1 --format svg "$D/linger.trail" >"$D/linger.svg" || fail "svg"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$D/linger.svg" || fail "svg is not XML"
expect_grep 'SK_RST_REASON_TCP_ABORT_ON_LINGER' "$D/linger.svg" "svg reason"

# -- a hostile reason name, in every format
"$GEN" hostile "$D/h.trail"
"$ANA" anomalies "$D/h.trail" >"$D/h.txt"
"$ANA" anomalies --markdown "$D/h.trail" >"$D/h.md"
"$ANA" diagram --conn 1 --format svg "$D/h.trail" >"$D/h.svg"
"$ANA" diagram --conn 1 --format mermaid "$D/h.trail" >"$D/h.mmd"
for f in h.txt h.md h.svg h.mmd hostile.trail.json; do
	! grep -q $'\x1b' "$D/$f" || fail "$f: raw escape character"
done
# fenced code blocks show their text literally: only the rest of the Markdown counts
awk '/^```/ {f = !f; next} !f' "$D/h.md" >"$D/h.md.prose"
grep -q '^```$' "$D/h.md" || fail "markdown evidence in a fenced block"
for f in h.md.prose h.svg h.mmd; do
	! grep -Eq '(^|[^\\])<script' "$D/$f" || fail "$f: raw markup from the file"
done
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$D/h.svg" || fail "hostile svg is not XML"
ok "escaping"

# -- the summary ends with the findings
"$ANA" "$D/linger.trail" >"$D/sum.txt" || fail "summary"
expect_grep '^Findings \(1\)$' "$D/sum.txt" "summary findings"
expect_grep '^\[1\] rst_linger_abort ' "$D/sum.txt" "summary finding kind"
ok "anomalies"

# `anomalies` streams (keeps only connections with findings); the summary
# holds everything: both must find and number the same
for s in $("$GEN" --list); do
	"$ANA" anomalies "$D/$s.trail" >"$D/stream.txt" 2>/dev/null
	"$ANA" "$D/$s.trail" 2>/dev/null | sed -n '/^Findings (/,$p' >"$D/full.txt"
	cmp -s "$D/stream.txt" "$D/full.txt" || { diff "$D/full.txt" "$D/stream.txt" | head; fail "$s: streaming and full findings differ"; }
done
for i in $(seq 1 25); do
	"$GEN" --random "$i" "$D/r.trail" || fail "random $i"
	"$ANA" anomalies "$D/r.trail" >"$D/stream.txt" 2>/dev/null
	"$ANA" "$D/r.trail" 2>/dev/null | sed -n '/^Findings (/,$p' >"$D/full.txt"
	cmp -s "$D/stream.txt" "$D/full.txt" || { diff "$D/full.txt" "$D/stream.txt" | head; fail "random $i: streaming and full findings differ"; }
done
ok "streaming findings = full findings"
