#!/bin/bash
# Start-up like a system tool (issue 14): the CLI links none of the optional libraries; a command
# maps libxml2/xmlsec1 only when it reads a RIM, libcbor only for attested-TLS evidence, and
# neither for `--version` or `snp verify` (seen with the dynamic loader's own trace, LD_DEBUG).
# With a library missing (dlopen refused by a test shim, tests/core/dl_deny.c) the command fails
# closed and names the shared object and the Debian package to install.
set -u
cct=${CCT_CLI:?}; build=${CCT_BUILD:?}; V=${CCT_VECTORS:?}
deny=$build/tests/cct_dl_deny.so
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
command -v ldd >/dev/null || { echo "ldd missing: skipped"; exit 77; }
[ -f "$deny" ] || { echo "FAIL: $deny not built"; exit 1; }

lazy='libxml2\.so|libxmlsec1|libcbor\.so|libcurl|libarchive|libtss2|libpq\.so|libmicrohttpd|libicu|libxslt'
# 1. nothing optional is linked (ldd: the whole dependency tree)
if ldd "$cct" | grep -E "$lazy" >"$tmp/linked"; then bad "the CLI links: $(tr '\n' ' ' <"$tmp/linked")"; else ok; fi

# ... nor does the shared library, which calls none of their functions directly
lib=$build/libcctrust.so
if [ -f "$lib" ] && command -v nm >/dev/null; then
	if ldd "$lib" | grep -E "$lazy" >"$tmp/linked"; then bad "libcctrust.so links: $(tr '\n' ' ' <"$tmp/linked")"; else ok; fi
	nm -D --undefined-only "$lib" | grep -E ' (xml|cbor_|curl_|archive_|Esys_|Tss2_)' >"$tmp/undef" &&
		bad "libcctrust.so calls lazily loaded functions directly: $(head -n 5 "$tmp/undef" | tr '\n' ' ')" || ok
fi

# 2. what a command maps: every shared object the loader opened, linked or dlopen'd
# usage: maps NAME RC CMD... (fails unless the command exits RC; the list is in $tmp/NAME.libs)
maps() {
	local name=$1 want=$2; shift 2
	rm -f "$tmp/ld".*
	LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	[ "$rc" -eq "$want" ] && ok || bad "$name: want exit $want got $rc: $(head -c 300 "$tmp/$name.out" "$tmp/$name.err")"
	cat "$tmp/ld".* 2>/dev/null | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u >"$tmp/$name.libs"
	[ -s "$tmp/$name.libs" ] || bad "$name: LD_DEBUG wrote no trace"
}
has() { grep -qE "$2" "$tmp/$1.libs" && ok || bad "$1 did not load $2: $(tr '\n' ' ' <"$tmp/$1.libs")"; }
hasnt() { grep -qE "$2" "$tmp/$1.libs" && bad "$1 loaded $2: $(grep -E "$2" "$tmp/$1.libs" | tr '\n' ' ')" || ok; }

maps version 0 "$cct" --version
hasnt version "$lazy"
has version 'libcrypto\.so'   # the trace itself works

S=$V/snp/virtee-sev
python3 -c "import sys;open('$tmp/r.bin','wb').write(bytes.fromhex(open('$S/report_milan.hex').read().strip()))"
maps snp 0 "$cct" snp verify "$tmp/r.bin" --certs "$S/vcek_milan.der" --certs "$S/cert_chain_milan.pem" --offline --no-crl
hasnt snp "$lazy"

G=$V/nvgpu/nvidia-attestation-sdk/testdata
rim=$G/NV_GPU_DRIVER_GH100_550.144.03.xml
maps rim 0 "$cct" gpu rim verify "$rim" --at 2025-06-01T00:00:00Z
has rim 'libxmlsec1-openssl\.so\.1'
has rim 'libxmlsec1\.so\.1'
has rim 'libxml2\.so\.2'
hasnt rim 'libcbor|libcurl|libarchive|libtss2'

# gpu verify: real evidence without RIMs maps no XML library; simulated evidence with RIMs does
ev=$V/nvgpu/nvidia-attestation-sdk/serialized_test_evidence/switch_evidence_ls10.json
maps gpunorim 0 "$cct" gpu verify "$ev" --nonce 931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb --offline --no-ocsp --no-rim
hasnt gpunorim "$lazy"
gen=$build/tests/nvgpu_test_sim_gpu
[ -x "$gen" ] || gen=$(find "$build" -type f -name nvgpu_test_sim_gpu -perm -u+x | head -n 1)
"$gen" --generate "$tmp/gsim" >/dev/null || bad "cannot generate the GPU sim"
gs=$tmp/gsim/gpu
maps gpurim 0 "$cct" gpu verify "$tmp/gsim/evidence-kbs.json" --nonce "$(cat "$tmp/gsim/nonce.hex")" \
	--device-root "$gs/device-root.pem" --rim-root "$gs/rim-root.pem" --rim-dir "$gs/rims" --ocsp-dir "$gs/ocsp" --offline
has gpurim 'libxmlsec1-openssl\.so\.1'
has gpurim 'libxml2\.so\.2'

"$cct" sim init "$tmp/sim" >/dev/null 2>&1 || bad "sim init"
maps ratls 0 "$cct" ratls cert --tee snp --sim "$tmp/sim" --key-out "$tmp/k.pem" --cert-out "$tmp/c.pem"
has ratls 'libcbor\.so'
maps show 0 "$cct" ratls show "$tmp/c.pem"
has show 'libcbor\.so'
hasnt show 'libxml2|libxmlsec1|libcurl|libarchive|libtss2'

# 3. a missing library: refused, fails closed, says which shared object and what to install
# (gcc's ASan wants its runtime first in the preload list; the shim is not instrumented)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
without() { # SONAME PACKAGE RC CMD...
	local so=$1 pkg=$2 want=$3; shift 3
	CCT_DL_DENY=$so LD_PRELOAD=$deny "$@" >"$tmp/out" 2>&1
	local rc=$?
	[ "$rc" -eq "$want" ] && ok || bad "without $so: want exit $want got $rc: $* :: $(head -c 400 "$tmp/out")"
	grep -qF "cannot load $so" "$tmp/out" && grep -qF "apt install $pkg" "$tmp/out" && ok ||
		bad "without $so: the message does not name $so and $pkg: $(head -c 400 "$tmp/out")"
	grep -q "ACCEPTED" "$tmp/out" && bad "without $so: output claims ACCEPTED" || ok
}
without libxmlsec1-openssl.so.1 libxmlsec1-openssl 1 "$cct" gpu rim verify "$rim" --at 2025-06-01T00:00:00Z
without libxmlsec1.so.1 libxmlsec1 1 "$cct" gpu rim verify "$rim" --at 2025-06-01T00:00:00Z
without libxml2.so.2 libxml2 1 "$cct" gpu rim verify "$rim" --at 2025-06-01T00:00:00Z
cbor=$(sed -n 's/.*\(libcbor\.so\.[0-9.]*\).*/\1/p' "$tmp/ratls.libs" | head -n 1)
[ -n "$cbor" ] || cbor=libcbor.so.0.8
without "$cbor" "libcbor${cbor#libcbor.so.}" 1 "$cct" ratls show "$tmp/c.pem"
# the shim only refuses what it is told to: with nothing denied the RIM still verifies
CCT_DL_DENY=libnothing.so.0 LD_PRELOAD=$deny "$cct" gpu rim verify "$rim" --at 2025-06-01T00:00:00Z >"$tmp/out" 2>&1 &&
	grep -q "RIM: ACCEPTED" "$tmp/out" && ok || bad "the shim breaks dlopen: $(head -c 300 "$tmp/out")"

echo "lazy libraries: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
