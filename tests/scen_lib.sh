# Helpers for the anomaly scenario tests (tests/t_scen_*.sh): real traffic
# recorded with tcptrail-record, then `tcptrail-analyze anomalies --json`
# checked finding by finding. Source after lib.sh and fault_lib.sh.

# scen_record TRAIL RECORDER-OPTIONS... -- CMD...: record CMD's life into
# TRAIL (CMD's output in TRAIL.out, the recorder's in TRAIL.err), then the
# findings into TRAIL.json (anomalies --json $SCEN_ANA_OPTS). No stack
# budget, so that other traffic cannot use up the stacks of ours.
scen_record() {
	local t=$1
	shift
	"$REC" --stacks-per-sec 1000000000 -w "$t" "$@" >"$t.out" 2>"$t.err" ||
		{ cat "$t.out" "$t.err"; fail "recording $t failed"; }
	# shellcheck disable=SC2086
	"$ANA" anomalies --json ${SCEN_ANA_OPTS:-} "$t" >"$t.json" 2>"$t.json.err" ||
		{ cat "$t.json.err"; fail "anomalies of $t failed"; }
	# `anomalies` streams; the summary keeps every connection: same findings
	"$ANA" anomalies ${SCEN_ANA_OPTS:-} "$t" >"$t.stream" 2>/dev/null
	"$ANA" ${SCEN_ANA_OPTS:-} "$t" 2>/dev/null | sed -n '/^Findings (/,$p' >"$t.full"
	cmp -s "$t.stream" "$t.full" ||
		{ diff "$t.full" "$t.stream" | head -n 20; fail "$t: streaming and full findings differ"; }
}

# The checker: scen_py JSON MODE ARGS..., see the modes below.
SCEN_PY='
import json, re, sys

def die(msg, d=None):
    print("FAIL: " + msg)
    if d is not None:
        for a in d.get("anomalies", []):
            c = a.get("connection") or {}
            print("  %s %s -> %s: %s" % (a["kind"], c.get("client"), c.get("server"), a["summary"]))
    sys.exit(1)

def label(e):
    s = e.get("event", "")
    if s == "state":
        s += " %s>%s" % (e.get("from"), e.get("to"))
    return s

mode, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
d = json.load(open(path))
if d.get("schema") != 1 or not isinstance(d.get("anomalies"), list):
    die(path + ": not a schema 1 anomalies object")
for a in d["anomalies"]:
    for k in ("kind", "connection", "time", "time_boot_ns", "summary", "evidence", "explanation"):
        if k not in a:
            die("%s: a finding without %s" % (path, k))

if mode == "kinds":
    # kinds "k:n k:n ...": exactly these kinds, n findings of each
    want = {}
    for w in args[0].split():
        k, _, n = w.partition(":")
        want[k] = int(n or 1)
    got = {}
    for a in d["anomalies"]:
        got[a["kind"]] = got.get(a["kind"], 0) + 1
    if got != want or d["counts"] != want:
        die("%s: findings %s, counts %s, wanted %s" % (path, got, d["counts"], want), d)
    print(" ".join("%s:%d" % kv for kv in sorted(got.items())))
    sys.exit(0)

# expect KIND KEY=VALUE...: exactly one finding of KIND (of those whose
# connection matches client= and server=, full-match EREs) and it has:
#   reason=NAME    an evidence item with this kernel reason
#   process=COMM   an evidence item by this process (and pid=PID)
#   stack=F1,F2..  an evidence stack whose innermost frame is F1, through F2... in order
#   event=ERE      an evidence item whose label (event, "state A>B") matches
#   order=E1<E2    the first item matching E1 is not after the first matching E2
#   seg=ERE        an evidence segment "src > dst FLAGS" matching
#   summary=ERE, explain=ERE, noexplain=ERE   on the texts
#   both=true|false   both ends recorded
# Selection besides client= and server=: sel=ERE on the summary; count=N
# wants N such findings instead of 1 (count=0: none, no other check).
# Always: evidence in time order, the finding at the time of one of its
# evidence items, times consistent with time_boot_ns.
kind, checks = args[0], [x.split("=", 1) for x in args[1:]]
opt = dict(checks)
sel = []
for a in d["anomalies"]:
    if a["kind"] != kind:
        continue
    c = a["connection"]
    if "client" in opt or "server" in opt:
        if c is None:
            continue
        if not re.fullmatch(opt.get("client", ".*"), c["client"]) or \
           not re.fullmatch(opt.get("server", ".*"), c["server"]):
            continue
    if "sel" in opt and not re.search(opt["sel"], a["summary"]):
        continue
    sel.append(a)
want = int(opt.get("count", 1))
if len(sel) != want:
    die("%s: %d %s findings for client %s server %s, wanted %d" %
        (path, len(sel), kind, opt.get("client"), opt.get("server"), want), d)
if want != 1:
    print("%d %s for %s -> %s" % (want, kind, opt.get("client"), opt.get("server")))
    sys.exit(0)
a = sel[0]
ev = a["evidence"]
what = "%s %s" % (kind, a["summary"])
ts = [e["time_boot_ns"] for e in ev]
if ts != sorted(ts):
    die(what + ": evidence not in time order")
if ev and a["time_boot_ns"] not in ts:
    die(what + ": finding time %d is none of its evidence times %s" % (a["time_boot_ns"], ts))
for k, v in checks:
    if k in ("client", "server", "pid", "sel", "count"):
        continue
    if k == "reason":
        ok = any(e.get("reason") == v for e in ev)
    elif k == "process":
        ok = any(e.get("process", {}).get("comm") == v and
                 ("pid" not in opt or str(e["process"].get("pid")) == opt["pid"]) for e in ev)
    elif k == "stack":
        fr = v.split(",")
        def through(st):
            if not st or not st[0].startswith(fr[0] + "+"):
                return False
            i = 1
            for f in st[1:]:
                if i < len(fr) and f.startswith(fr[i] + "+"):
                    i += 1
            return i == len(fr)
        ok = any(through(e.get("stack")) for e in ev)
    elif k == "event":
        ok = any(re.search(v, label(e)) for e in ev)
    elif k == "order":
        x, y = v.split("<", 1)
        tx = [e["time_boot_ns"] for e in ev if re.search(x, label(e))]
        ty = [e["time_boot_ns"] for e in ev if re.search(y, label(e))]
        ok = bool(tx and ty) and tx[0] <= ty[0]
    elif k == "seg":
        ok = any(re.search(v, "%s > %s %s" % (g["src"], g["dst"], g["flags"]))
                 for g in (e.get("segment") for e in ev) if g)
    elif k == "summary":
        ok = re.search(v, a["summary"]) is not None
    elif k == "explain":
        ok = re.search(v, a["explanation"]) is not None
    elif k == "noexplain":
        ok = re.search(v, a["explanation"]) is None
    elif k == "both":
        ok = a["connection"] is not None and \
             str(a["connection"]["both_ends_recorded"]).lower() == v
    else:
        die("unknown check " + k)
    if not ok:
        print(json.dumps(a, indent=1))
        die("%s: %s=%s does not hold" % (what, k, v))
print("%s %s -> %s" % (kind, (a["connection"] or {}).get("client"), (a["connection"] or {}).get("server")))
'

# scen_kinds JSON "kind:n ...": the capture's findings are exactly these
scen_kinds() {
	python3 -c "$SCEN_PY" kinds "$@" || fail "$1: not the findings wanted"
}

# scen_expect JSON KIND CHECK...: one finding of KIND with these checks (above)
scen_expect() {
	local out
	out=$(python3 -c "$SCEN_PY" expect "$@") || { echo "$out"; fail "$2 in $1"; }
	ok "$out"
}

# comm_py EXPR: a line of Python that names the process (comm) the string EXPR
comm_py() {
	echo "import ctypes; ctypes.CDLL(None).prctl(15, ($1).encode(), 0, 0, 0)"
}
