#!/bin/bash
# cctrust snp CLI contract: exit codes, JSON fields, input encodings, several reports per call.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}/snp
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 300 "$tmp/out" "$tmp/err")"; }
certs="--certs $V/virtee-sev/vcek_milan.der --certs $V/virtee-sev/cert_chain_milan.pem"
hexr=$V/virtee-sev/report_milan.hex
python3 -c "import sys;open('$tmp/r.bin','wb').write(bytes.fromhex(open('$hexr').read().strip()))"
base64 -w0 "$tmp/r.bin" > "$tmp/r.b64"

expect_rc 0 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl
expect_rc 0 "$cct" snp verify "$hexr" $certs --offline --no-crl
expect_rc 0 "$cct" snp verify "$tmp/r.b64" $certs --offline --no-crl
# revocation is on by default: offline without a CRL fails closed, naming --no-crl
expect_rc 1 "$cct" snp verify "$tmp/r.bin" $certs --offline
grep -q -- "--no-crl" "$tmp/out" && ok || bad "no-crl hint missing"
# JSON contract
"$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --json > "$tmp/j"
python3 - "$tmp/j" <<'PY' && ok || bad "json contract"
import json,sys
o=json.load(open(sys.argv[1]))
assert o["verified"] is True and o["error"] is None
c=o["claims"]
for k in ("version","guest_svn","policy","vmpl","measurement","host_data","report_data","chip_id","id_key_digest","author_key_digest","reported_tcb","committed_tcb","launch_tcb","product","signing_key"):
    assert k in c, k
assert c["signing_key"]=="vcek" and c["product"]=="Milan" and c["policy"]==0x30000
assert c["reported_tcb"]=={"bootloader":3,"tee":0,"snp":8,"microcode":115,"raw":"0x7308000000000003"}
assert c["measurement"]==c["measurement"].lower()
assert "no-crl" in o["insecure"] and o["crl_checked"] is False
PY
# report_data: right, wrong, too long (usage)
rd=d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd
expect_rc 0 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --report-data $rd
expect_rc 1 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --report-data 00
expect_rc 2 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --report-data ${rd}00
# a rejection in JSON names code and stage
"$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --report-data 00 --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['verified'] is False and o['error']['code']=='nonce' and o['error']['stage']=='binding'" && ok || bad "nonce json"
# several reports: one JSON object per line, exit 0 only if all accepted
gsg="$V/go-sev-guest/attestation.bin"
"$cct" snp verify "$tmp/r.bin" "$gsg" $certs --certs $V/go-sev-guest/vcek.der --offline --no-crl --json > "$tmp/j"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$tmp/j")" -eq 2 ] && ok || bad "fleet: rc=$rc lines=$(wc -l < "$tmp/j")"
expect_rc 0 "$cct" snp verify "$tmp/r.bin" "$gsg" $certs --certs $V/go-sev-guest/vcek.der --offline --no-crl --insecure-allow-debug
# malformed input: never a crash; 2 for unreadable/truncated, 1 for a complete but invalid report
head -c 100 "$tmp/r.bin" > "$tmp/short"; expect_rc 2 "$cct" snp verify "$tmp/short" $certs --offline --no-crl
echo "not a report" > "$tmp/text"; expect_rc 2 "$cct" snp verify "$tmp/text" $certs --offline --no-crl
expect_rc 2 "$cct" snp verify "$tmp/missing" $certs --offline --no-crl
python3 -c "b=bytearray(open('$tmp/r.bin','rb').read());b[0x4c]=1;open('$tmp/mbz','wb').write(b)"
expect_rc 1 "$cct" snp verify "$tmp/mbz" $certs --offline --no-crl
grep -q "0x4c" "$tmp/out" && ok || bad "mbz offset not named"
# time: after the VCEK's notAfter
expect_rc 1 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --at 2031-01-01T00:00:00Z
expect_rc 2 "$cct" snp verify "$tmp/r.bin" $certs --offline --no-crl --at yesterday
# usage
expect_rc 2 "$cct" snp verify
expect_rc 2 "$cct" snp verify "$tmp/r.bin" --bogus
expect_rc 0 "$cct" snp --help
# show
expect_rc 0 "$cct" snp show "$hexr" --json
python3 -c "import json;o=json.load(open('$tmp/out'));assert o['chip_id'].startswith('d49554ec')" && ok || bad "show json"
# collateral dir laid out like the KDS cache serves offline
mkdir -p "$tmp/coll/vcek/Milan/d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6"
cp $V/virtee-sev/vcek_milan.der "$tmp/coll/vcek/Milan/d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6/blSPL_3_teeSPL_0_snpSPL_8_ucodeSPL_115.der"
expect_rc 0 "$cct" snp verify "$tmp/r.bin" --collateral "$tmp/coll" --offline --no-crl
# several reports in one call: a report's own certificate table vouches for it alone. A table
# with another (simulated, untrusted) platform's ARK refuses its report, not the next one.
"$cct" sim init "$tmp/s1" >/dev/null && "$cct" sim init "$tmp/s2" >/dev/null || bad "sim init"
"$cct" sim report "$tmp/s1" --report-data "$(printf '%0128d' 0)" -o "$tmp/s1r.bin" "$tmp/s1t.bin" >/dev/null 2>&1 || bad "sim report s1"
"$cct" sim report "$tmp/s2" --report-data "$(printf '%0128d' 0)" -o "$tmp/s2r.bin" "$tmp/s2t.bin" >/dev/null 2>&1 || bad "sim report s2"
cat "$tmp/s2r.bin" "$tmp/s2t.bin" > "$tmp/s2ext.bin"
"$cct" snp verify "$tmp/s2ext.bin" "$tmp/s1r.bin" --trust-sim "$tmp/s1" --offline --json > "$tmp/j"
python3 - "$tmp/j" <<'PY' && ok || bad "foreign ARK of one report's table leaked into the next"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [x["verified"] for x in o] == [False, True], o
assert "pinned" in json.dumps(o[0]["error"]), o[0]
PY
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
