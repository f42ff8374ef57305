#!/bin/sh
# Installs the Debian 12 packages cctrust builds, tests and benchmarks with (only missing ones).
set -e
PKGS="build-essential cmake pkg-config libssl-dev libjansson-dev libcurl4-openssl-dev
libxml2-dev libxmlsec1-dev libarchive-dev libsqlite3-dev libpq-dev libmicrohttpd-dev
libcjose-dev libcmocka-dev libcbor-dev cryptsetup-bin python3 python3-cryptography python3-cbor2
openssl clang jq sqlite3 curl osslsigncode
libtss2-dev swtpm swtpm-tools tpm2-tools"
# benchmark peers and tools (make bench): hyperfine for start-up times; node + npm run
# @phala/dcap-qvl next to cctrust tdx (some nodejs
# builds bundle npm, so look for the commands, and never fail the bench over a missing peer)
BENCH_PKGS=""
if [ "${1:-}" = "--bench" ]; then
	command -v node >/dev/null || BENCH_PKGS="$BENCH_PKGS nodejs"
	command -v npm >/dev/null || BENCH_PKGS="$BENCH_PKGS npm"
	command -v taskset >/dev/null || BENCH_PKGS="$BENCH_PKGS util-linux"
	# start-up figures (cctrust --version against openssl version, measure snp per process)
	command -v hyperfine >/dev/null || BENCH_PKGS="$BENCH_PKGS hyperfine"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$BENCH_PKGS" ]; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $BENCH_PKGS || echo "bench peers not installed:$BENCH_PKGS (their comparisons are skipped)"
fi
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
