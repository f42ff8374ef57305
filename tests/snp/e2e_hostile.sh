#!/bin/bash
# cctrust snp: odd and hostile inputs found by a black-box review (each case failed before its fix).
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}/snp
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 300 "$tmp/out" "$tmp/err")"; }

python3 - "$V" "$tmp" <<'PY'
import struct, sys, uuid
V, t = sys.argv[1], sys.argv[2]
rep = bytes.fromhex(open(V + '/virtee-sev/report_milan.hex').read().strip())
vcek = open(V + '/virtee-sev/vcek_milan.der', 'rb').read()
guid = uuid.UUID('63da758d-e664-4564-adc5-f4b93be8accd').bytes
table = guid + struct.pack('<II', 48, len(vcek)) + b'\0' * 24 + vcek
open(t + '/r.bin', 'wb').write(rep)
open(t + '/ext.bin', 'wb').write(rep + table)
# a table whose only entry points past its end
open(t + '/badext.bin', 'wb').write(rep + guid + struct.pack('<II', 48, 1 << 20) + b'\0' * 24)
PY

# snp show takes an extended report (report + GHCB certificate table) as verify does: it
# used to refuse it ("1408 unexpected bytes from offset 0x4a0")
chain="--certs $V/virtee-sev/cert_chain_milan.pem"
expect_rc 0 "$cct" snp verify "$tmp/ext.bin" $chain --offline --no-crl
expect_rc 0 "$cct" snp show "$tmp/ext.bin"
"$cct" snp show "$tmp/ext.bin" --json > "$tmp/a" 2>/dev/null
"$cct" snp show "$tmp/r.bin" --json > "$tmp/b" 2>/dev/null
cmp -s "$tmp/a" "$tmp/b" && ok || bad "show of an extended report differs from the bare report's"
# ... and still refuses a damaged table (never shown as if it were not there)
"$cct" snp show "$tmp/badext.bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && ok || bad "show accepted a damaged certificate table"

# --collateral FILE (neither a KDS cache directory nor a bundle) was taken for a cache and the
# report then rejected for a missing CRL, naming nothing about the path: a usage error now
certs="--certs $V/virtee-sev/vcek_milan.der $chain"
expect_rc 2 "$cct" snp verify "$tmp/r.bin" $certs --offline --collateral "$tmp/r.bin"
grep -q "neither a directory" "$tmp/err" && ok || bad "--collateral FILE not named: $(cat "$tmp/err")"
# a cache directory that does not exist yet is still fine (fetched into unless --offline)
expect_rc 0 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --collateral "$tmp/newcache"

# --collateral "" (an unset variable) was taken as a cache rooted at "": the KDS cache paths became
# /vcek/... and /crl/..., at the file system's root
expect_rc 2 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --collateral ""
grep -q "empty path" "$tmp/err" && ok || bad "--collateral '' not refused by name: $(cat "$tmp/err")"

# --max-vmpl "" was read as 0 (strtol): parsed as every other numeric option (cct_parse_long)
for val in "" "1 " "4" "-1" "0x1"; do
	expect_rc 2 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --max-vmpl "$val"
	grep -q -- "--max-vmpl" "$tmp/err" && ok || bad "--max-vmpl '$val' not named"
done
expect_rc 0 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --max-vmpl 3

# standard input named twice: the second reader found it empty ('SNP report is 0 bytes') or the
# table read the report; refused up front, naming both
echo '{"version":"cctrust.policy/v1"}' > "$tmp/p.json"
"$cct" snp verify - --cert-table - $chain --offline --no-crl < "$tmp/ext.bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "standard input (-) given to --cert-table and to a REPORT" "$tmp/err" && ok || bad "report - with --cert-table -: rc=$rc $(cat "$tmp/err")"
"$cct" snp verify - --policy - $certs --offline --no-crl < "$tmp/p.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "standard input (-) given to --policy and to a REPORT" "$tmp/err" && ok || bad "report - with --policy -: rc=$rc $(cat "$tmp/err")"
# one reader of standard input is fine
"$cct" snp verify - $certs --offline --no-crl < "$tmp/r.bin" >"$tmp/out" 2>"$tmp/err" && ok || bad "report from standard input: $(cat "$tmp/err")"
"$cct" snp verify "$tmp/r.bin" --policy - $certs --offline --no-crl < "$tmp/p.json" >"$tmp/out" 2>"$tmp/err" && ok || bad "policy from standard input: $(cat "$tmp/err")"

# --certs DIR: a damaged certificate file was skipped, and the verdict then said "no VCEK ...
# give it with --certs"; now it is named. And a directory of more than 256 entries was read
# only as far as readdir's order reached 256: every entry is read now.
mkdir -p "$tmp/certs" "$tmp/many"
cp "$V/virtee-sev/cert_chain_milan.pem" "$tmp/certs/"
head -c 300 "$V/virtee-sev/vcek_milan.der" >"$tmp/certs/vcek_milan.der"
expect_rc 2 "$cct" snp verify "$tmp/r.bin" --certs "$tmp/certs" --offline --no-crl
grep -q "vcek_milan.der: named as a certificate or CRL but does not decode" "$tmp/out" "$tmp/err" && ok ||
	bad "damaged --certs file not named: $(cat "$tmp/out" "$tmp/err")"
for i in $(seq -w 1 300); do printf 'not a certificate\n' >"$tmp/many/note$i.txt"; done
cp "$V/virtee-sev/cert_chain_milan.pem" "$V/virtee-sev/vcek_milan.der" "$tmp/many/"
expect_rc 0 "$cct" snp verify "$tmp/r.bin" --certs "$tmp/many" --offline --no-crl

echo "snp hostile: $pass passed, $fail failed"
[ $fail -eq 0 ]
