#!/bin/bash
# A command whose standard output cannot be written (a full disk: /dev/full; a closed
# descriptor) exited 0 when its work succeeded: a script took the lost or cut result for the
# verdict. Now such a run exits 2 naming the standard output; a rejection stays 1.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# NAME WANT_RC -- COMMAND...: stdout to /dev/full (where the machine has one) and closed
expect() {
	local name=$1 want=$2; shift 3
	if [ -w /dev/full ]; then
		"$@" >/dev/full 2>"$tmp/err"; local rc=$?
		check_rc "$name (/dev/full)" "$want" "$rc"
	fi
	"$@" >&- 2>"$tmp/err"; rc=$?
	check_rc "$name (closed)" "$want" "$rc"
}
check_rc() {
	local name=$1 want=$2 rc=$3
	if [ "$rc" = "$want" ] && { [ "$want" != 2 ] || grep -q 'cannot write the standard output' "$tmp/err"; }; then
		ok "$name: exit $rc"
	else
		bad "$name: exit $rc (want $want): $(head -c 200 "$tmp/err")"
	fi
}
S=$V/snp/virtee-sev
python3 -c "open('$tmp/r.bin','wb').write(bytes.fromhex(open('$S/report_milan.hex').read().strip()))"
python3 -c "b=bytearray(open('$tmp/r.bin','rb').read()); b[0x90]^=1; open('$tmp/bad.bin','wb').write(b)"
SNP=(snp verify --certs "$S/vcek_milan.der" --certs "$S/cert_chain_milan.pem" --offline --no-crl)
"$cct" "${SNP[@]}" "$tmp/r.bin" >/dev/null 2>&1 && ok "the report verifies (exit 0) when its output is written" ||
	bad "the report does not verify"
expect "--version" 2 -- "$cct" --version
expect "--help" 2 -- "$cct" --help
expect "snp verify (accepted)" 2 -- "$cct" "${SNP[@]}" "$tmp/r.bin"
expect "snp verify --json (accepted)" 2 -- "$cct" "${SNP[@]}" "$tmp/r.bin" --json
expect "snp verify (rejected): still the rejection" 1 -- "$cct" "${SNP[@]}" "$tmp/bad.bin"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
