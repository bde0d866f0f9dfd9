# The analyzer builds alone without libbpf, clang, bpftool or BTF (it runs on
# laptops), links none of them, and `make install` honours PREFIX and DESTDIR.
. "$(dirname "$0")/lib.sh"
W=$TT_OUT/build-check
rm -rf "$W"; mkdir -p "$W/src"
(cd "$TT_ROOT" && git ls-files -z 2>/dev/null | xargs -0 cp --parents -t "$W/src") ||
	cp -r "$TT_ROOT"/{Makefile,format,analyze,bpf,record,scripts,tests} "$W/src"/
cd "$W/src" || fail "no copy"

# clang and bpftool replaced by commands that fail: any use breaks the build
make -s analyze CLANG=/bin/false BPFTOOL=/bin/false OUT=out >"$W/make.log" 2>&1 ||
	{ cat "$W/make.log"; fail "make analyze needs more than a C compiler and its libraries"; }
[ -x out/tcptrail-analyze ] || fail "no analyzer built"
[ ! -e out/vmlinux.h ] && [ ! -e out/tcptrail.bpf.o ] || fail "make analyze touched the BPF side"
ldd out/tcptrail-analyze >"$W/ldd"
grep -Eq 'libbpf|libelf' "$W/ldd" && { cat "$W/ldd"; fail "analyzer links libbpf/libelf"; }
out/tcptrail-analyze --version >/dev/null || fail "analyzer does not run"
ok "analyzer alone: $(grep -c '=>' "$W/ldd") shared libraries, none of them BPF"

# install into a staging root
make -s -C "$TT_ROOT" install DESTDIR="$W/stage" PREFIX=/opt/tt >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log"; fail "make install failed"; }
for b in tcptrail-record tcptrail-analyze; do
	[ -x "$W/stage/opt/tt/bin/$b" ] || fail "$b not installed under DESTDIR/PREFIX/bin"
done
ok "make install DESTDIR=... PREFIX=/opt/tt"
