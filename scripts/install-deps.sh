#!/bin/bash
# Installs the Debian packages tcptrail needs to build, record, test and
# benchmark, if any are missing. Idempotent and quiet when all are there.
#   scripts/install-deps.sh            everything (recorder, analyzer, tests)
#   scripts/install-deps.sh --analyze  only what the analyzer needs
set -eu

ANALYZE_PKGS="gcc make libc6-dev pkg-config libzstd-dev libsqlite3-dev libpcap-dev"
RECORD_PKGS="clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev iproute2 iptables nftables"
TEST_PKGS="libclang-rt-14-dev libbpf-tools chromium"

pkgs="$ANALYZE_PKGS"
[ "${1:-}" = "--analyze" ] || pkgs="$pkgs $RECORD_PKGS $TEST_PKGS"

missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tcptrail: installing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "tcptrail: need root to install packages; run: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
