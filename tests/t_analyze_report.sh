#!/bin/bash
# tcptrail-analyze report: one self-contained HTML file (findings, inline
# SVG diagrams, summary) that a real browser renders: headless Chromium
# from Debian's package (skipped without it). Strings from the file are
# escaped: a hostile enum name must not become markup.
. "$(dirname "$0")/lib.sh"

[ -x "$ANA" ] || fail "analyzer not built: $ANA"
command -v python3 >/dev/null || skip "python3 needed to parse the HTML"
D=$TT_OUT/analyze_report
rm -rf "$D"; mkdir -p "$D"
GEN=$D/scen
${CC:-cc} -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TT_ROOT/format" -I"$TT_ROOT/tests" -o "$GEN" \
	"$TT_ROOT/tests/t_analyze_scen.c" "$TT_ROOT/tests/t_analyze_scen_cases.c" \
	"$TT_BUILD/libtrail.a" -lzstd || fail "cannot build the scenario writer"

for s in nat hostile healthy; do
	"$GEN" $s "$D/$s.trail" || fail "scenario $s"
	"$ANA" report "$D/$s.trail" -o "$D/$s.html" 2>"$D/$s.err" || { cat "$D/$s.err"; fail "$s: report exit $?"; }
	[ -s "$D/$s.html" ] || fail "$s: empty report"
	# well formed: every element closed, nothing loaded from elsewhere, no script
	python3 - "$D/$s.html" <<'PY' || fail "$s: HTML check"
import sys
from html.parser import HTMLParser
void = {"meta", "br", "img", "hr", "link", "input"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.tags = set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            assert k not in ("src",) and not k.startswith("on"), (tag, k, v)
            if k == "href": assert v.startswith("#"), v
        if tag not in void: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
assert not p.stack, p.stack
assert "script" not in p.tags, "a script element"
assert "svg" in p.tags, "no inline svg"
PY
done
grep -q 'class="ok">Nothing in this capture looks wrong' "$D/healthy.html" || fail "healthy: no findings said"
grep -q 'nat_mismatch' "$D/nat.html" || fail "nat: finding"
grep -q 'SK_RST_&lt;script&gt;' "$D/hostile.html" || fail "hostile: name escaped"
ok "report files"

command -v chromium >/dev/null || skip "chromium not installed (scripts/install-deps.sh installs it)"
for s in nat healthy; do
	prof=$(mktemp -d)
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--window-size=1200,1600 --screenshot="$D/$s.png" "file://$D/$s.html" >"$D/$s.chromium" 2>&1
	rm -rf "$prof"
	[ -s "$D/$s.png" ] || { tail -5 "$D/$s.chromium"; fail "$s: chromium rendered nothing"; }
	# a rendered page is not one flat colour
	python3 - "$D/$s.png" <<'PY' || fail "$s: blank screenshot"
import sys, zlib, struct
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n"
i, idat = 8, b""
while i < len(b):
    n, t = struct.unpack(">I4s", b[i:i + 8]); d = b[i + 8:i + 8 + n]; i += 12 + n
    if t == b"IDAT": idat += d
raw = zlib.decompress(idat)
assert len(set(raw[::97])) > 4, "flat image"
PY
done
ok "rendered in chromium"
