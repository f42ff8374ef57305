#!/bin/bash
# Azure paravisor vTPM evidence on TDX (Trustee az-tdx-vtpm) and vTPM evidence with GPUs, on the
# simulated TEE (no real az-tdx-vtpm vector is shared): `cctrust sim evidence --tee az-tdx-vtpm`
# makes a TD report over SHA-256(HCL runtime data) in an HCL report, the TD quote the simulated
# quoting enclave makes from it (Intel-shaped DCAP PKI + collateral), and a TPM quote signed by
# the simulated vTPM AK over Trustee's 48-byte runtime-data hash.
#   - `vtpm verify` and `cctrust verify` accept it (claims: tdx, hcl, pcrs; marked simulated);
#   - each tampered variant is rejected at its stage: TPM quote byte (signature), nonce
#     (binding), PCR value (measurement), HCL runtime-data byte (binding: runtime data), TD
#     report field (binding: names the field), TD quote byte (signature), a TD quote of another
#     TD report (binding: REPORTDATA), a foreign AK (signature), a debug TD (policy),
#     untrusted simulated root (chain);
#   - Trustee's v0 form (byte arrays) verifies as v1 does;
#   - policies: tdx + vtpm sections decide by rule name; the KBS wire name aztdxvtpm;
#   - GPUs with az-tdx-vtpm and az-snp-vtpm evidence: bound like SNP/TDX (a GPU report made for
#     another nonce is refused at binding).
set -u
C=${CCT_CLI:?CCT_CLI not set}
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# expect NAME RC STAGE FILE [GREP]: exit RC and the JSON error names STAGE (and GREP)
expect() {
	local name=$1 want=$2 stage=$3 f=$4 g=${5:-}
	if [[ $RC == "$want" ]] && python3 -c "
import json, sys; r = json.load(open('$f')); e = r.get('error') or {}
sys.exit(0 if e.get('stage') == '$stage' else 1)" && { [[ -z $g ]] || grep -q -- "$g" "$f"; }; then
		pass "$name"
	else
		fail "$name (exit $RC)"; head -c 700 "$f"; echo
	fi
}

"$C" sim init sim >/dev/null || exit 1
"$C" sim tee-key >tee.jwk || exit 1
N=$(head -c 32 /dev/urandom | base64)
"$C" sim evidence sim --tee az-tdx-vtpm --nonce "$N" --tee-pubkey tee.jwk -o req.json || { echo "sim evidence failed"; exit 1; }
python3 - <<'PY' || exit 1
import json
r = json.load(open("req.json"))
json.dump(r["tee-evidence"]["primary_evidence"], open("ev.json", "w"))
PY
# the nonce the quote carries: Trustee's runtime-data hash (48 bytes)
X=$(python3 -c "
import json; q = json.load(open('ev.json'))['tpm_quote']['message']; b = bytes.fromhex(q)
n = int.from_bytes(b[6:8], 'big'); o = 8 + n; l = int.from_bytes(b[o:o+2], 'big'); print(b[o+2:o+2+l].hex())")

# --- accepted
"$C" vtpm verify ev.json --trust-sim sim --nonce "$X" --json >ok.json
RC=$?
[[ $RC == 0 ]] && python3 -c "
import json; r = json.load(open('ok.json')); c = r['claims']; s = json.load(open('sim/sim.json'))
assert r['verified'] and r['tee'] == 'az-tdx-vtpm' and c['tee'] == 'az-tdx-vtpm'
assert c['simulated'] is True and c['hcl']['report_type'] == 'tdx'
assert c['tdx']['mrtd'] == s['tdx']['mrtd'] and c['tdx']['tcb_status'] == 'UpToDate'
assert c['tdx']['report_data'][:64] == c['hcl']['runtime_data_hash']
assert len(c['pcrs']['sha256']) == 24 and c['tpm_quote']['extra_data'] == '$X'
assert r['checks_skipped'] == [] and r['failures'] == [] and r['simulated'] is True" && pass vtpm-verify || { fail "vtpm-verify (exit $RC)"; head -c 900 ok.json; }
"$C" vtpm verify ev.json --trust-sim sim >plain.out && grep -q 'az-tdx-vtpm: TD quote' plain.out &&
	grep -q 'not checked: tpm_quote_nonce' plain.out && grep -q 'SIMULATED TEE' plain.out && pass vtpm-verify-no-nonce || { fail vtpm-verify-no-nonce; cat plain.out; }
"$C" verify req.json --trust-sim sim --nonce "$N" --json >c.json
RC=$?
[[ $RC == 0 ]] && python3 -c "
import json; r = json.load(open('c.json'))
assert r['tee'] == 'az-tdx-vtpm' and r['evidence_form'] == 'az-tdx-vtpm' and r['binding'] == 'verified'
c = r['submods']['cpu0']['claims']; assert c['tdx']['simulated']
# Trustee's flat names beside cctrust's: tpm.pcrNN, report_data (quote extraData), quote.body.*
assert c['tpm']['pcr00'] == c['pcrs']['sha256']['0'] and len(c['tpm']) == 24
assert c['report_data'] == c['tpm_quote']['extra_data']
assert c['quote']['body']['mr_td'] == c['tdx']['mrtd']" && pass composite || { fail "composite (exit $RC)"; head -c 900 c.json; }
"$C" verify req.json --trust-sim sim --nonce "$N" --tee aztdxvtpm >/dev/null && pass wire-name-aztdxvtpm || fail wire-name-aztdxvtpm
"$C" verify req.json --trust-sim sim --nonce "$N" --tee azsnpvtpm >/dev/null
[[ $? == 1 ]] && pass wrong-tee-hint || fail wrong-tee-hint

# --- tampered variants: mutate ev.json with python, verify, expect the stage
mutate() { # mutate OUT PYTHON-EXPR-ON-e (e: the evidence dict; helpers b64d/b64e)
	python3 - "$1" "$2" <<'PY'
import base64, json, sys
e = json.load(open("ev.json"))
def b64d(s): return bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
def b64e(b): return base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode()
exec(sys.argv[2])
json.dump(e, open(sys.argv[1], "w"))
PY
}
run() { "$C" vtpm verify "$1" --trust-sim sim --nonce "${2:-$X}" --json >"$1.out"; RC=$?; }

mutate t1.json "m = bytearray.fromhex(e['tpm_quote']['message']); m[-40] ^= 1; e['tpm_quote']['message'] = m.hex()"
run t1.json; expect quote-byte 1 signature t1.json.out
run ev.json "00$X"; expect wrong-nonce 1 binding ev.json.out
mutate t3.json "p = bytearray.fromhex(e['tpm_quote']['pcrs'][7]); p[0] ^= 1; e['tpm_quote']['pcrs'][7] = p.hex()"
run t3.json; expect pcr-value 1 measurement t3.json.out
# a runtime-data byte (the HCL's variable data, after 0x20 + 1184 + 20): the AK binding breaks
mutate t4.json "h = b64d(e['hcl_report']); i = h.index(b'cctrust-simulated-paravisor'); h[i] ^= 0x20; e['hcl_report'] = b64e(h)"
run t4.json; expect runtime-data-byte 1 binding t4.json.out 'runtime data'
# a TD report field in the HCL report (RTMR1 at TD report 0x300): not the quote's TD report
mutate t5.json "h = b64d(e['hcl_report']); h[0x20 + 0x300] ^= 1; e['hcl_report'] = b64e(h)"
run t5.json; expect td-report-rtmr 1 binding t5.json.out 'RTMR1 differs'
mutate t5b.json "h = b64d(e['hcl_report']); h[0x20 + 0x210] ^= 1; e['hcl_report'] = b64e(h)"
run t5b.json; expect td-report-mrtd 1 binding t5b.json.out 'MRTD differs'
# a TD quote body byte (MRTD at quote 0x30 + 0x88): the quote signature breaks
mutate t6.json "q = b64d(e['td_quote']); q[0x30 + 0x88] ^= 1; e['td_quote'] = b64e(q)"
run t6.json; expect td-quote-byte 1 signature t6.json.out
# the TD quote of another paravisor report (another runtime data): REPORTDATA differs
"$C" sim evidence sim --tee az-tdx-vtpm --nonce "$(head -c 32 /dev/urandom | base64)" --tee-pubkey tee.jwk -o other.json || exit 1
mutate t7.json "o = json.load(open('other.json'))['tee-evidence']['primary_evidence']; e['td_quote'] = o['td_quote']"
run t7.json; expect td-quote-of-other-report 1 binding t7.json.out 'REPORTDATA differs'
# a foreign AK: HCL report + TD quote of a paravisor with another AK, this TPM quote
mv sim/vtpm/ak.key ak.saved
"$C" sim evidence sim --tee az-tdx-vtpm --nonce "$N" --tee-pubkey tee.jwk -o foreign.json || exit 1
mv ak.saved sim/vtpm/ak.key
mutate t8.json "o = json.load(open('foreign.json'))['tee-evidence']['primary_evidence']; e['hcl_report'] = o['hcl_report']; e['td_quote'] = o['td_quote']"
run t8.json; expect foreign-ak 1 signature t8.json.out
# a debug TD
"$C" sim evidence sim --tee az-tdx-vtpm --debug-guest --nonce "$N" --tee-pubkey tee.jwk -o dbg.json || exit 1
python3 -c "import json; json.dump(json.load(open('dbg.json'))['tee-evidence']['primary_evidence'], open('t9.json', 'w'))"
run t9.json; expect debug-td 1 policy t9.json.out 'debuggable'
# an SNP HCL report in az-tdx-vtpm evidence
"$C" sim evidence sim --tee az-snp-vtpm --nonce "$N" --tee-pubkey tee.jwk -o snpv.json || exit 1
mutate t10.json "o = json.load(open('snpv.json'))['tee-evidence']['primary_evidence']; e['hcl_report'] = o['hcl_report']"
run t10.json; expect snp-hcl-in-tdx-evidence 1 parse t10.json.out 'non-TDX'
# the simulated root is not Intel's
"$C" vtpm verify ev.json --nonce "$X" --json >root.out; RC=$?
expect untrusted-sim-root 1 chain root.out
# unreadable input: exit 2 (not JSON, a missing file); evidence missing a member: rejected (1)
printf 'not json' >bad.json
"$C" vtpm verify bad.json --trust-sim sim >/dev/null 2>&1; [[ $? == 2 ]] && pass not-json-exit-2 || fail not-json-exit-2
"$C" vtpm verify missing.json --trust-sim sim >/dev/null 2>&1; [[ $? == 2 ]] && pass missing-file-exit-2 || fail missing-file-exit-2
printf '{"version": 1, "td_quote": "AAAA"}' >bad2.json
"$C" vtpm verify bad2.json --trust-sim sim --json >bad2.out; RC=$?
expect missing-hcl-report 1 input bad2.out 'hcl_report'

# many inputs, one at a time: one JSON line each with its path; any rejected -> 1; a directory
"$C" vtpm verify ev.json t1.json --trust-sim sim --nonce "$X" --json >many.out; RC=$?
[[ $RC == 1 ]] && python3 -c "
import json; rs = [json.loads(l) for l in open('many.out')]
assert [r['evidence'] for r in rs] == ['ev.json', 't1.json'] and [r['verified'] for r in rs] == [True, False]
" && pass vtpm-many-one-rejected || fail "vtpm-many-one-rejected (exit $RC)"
mkdir -p evdir && cp ev.json evdir/a.json && cp ev.json evdir/b.json
"$C" vtpm verify evdir --trust-sim sim --nonce "$X" --json >dir.out; RC=$?
[[ $RC == 0 && $(grep -c '"verified": *true' dir.out) == 2 ]] && pass vtpm-directory || fail "vtpm-directory (exit $RC)"
"$C" vtpm verify ev.json missing.json --trust-sim sim --nonce "$X" >/dev/null 2>&1; [[ $? == 2 ]] && pass vtpm-many-unreadable-exit-2 || fail vtpm-many-unreadable-exit-2
# an unreadable input has its JSON object too, between the others, not only a line on stderr
"$C" vtpm verify ev.json missing.json ev.json --trust-sim sim --nonce "$X" --json >unr.out 2>/dev/null; RC=$?
[[ $RC == 2 ]] && python3 -c "
import json; rs = [json.loads(l) for l in open('unr.out')]
assert [r['evidence'] for r in rs] == ['ev.json', 'missing.json', 'ev.json'], rs
assert rs[1]['verified'] is False and rs[1]['error']['stage'] == 'input' and rs[1]['error']['message']
" && pass vtpm-many-unreadable-json || fail "vtpm-many-unreadable-json (exit $RC)"
"$C" verify req.json missing.json --trust-sim sim --nonce "$N" --json >vunr.out 2>/dev/null; RC=$?
[[ $RC == 2 ]] && python3 -c "
import json; rs = [json.loads(l) for l in open('vunr.out')]
assert [r['request'] for r in rs] == ['req.json', 'missing.json'], rs
assert rs[0]['verified'] is True and rs[1]['verified'] is False and rs[1]['error']['stage'] == 'input'
" && pass verify-many-unreadable-json || fail "verify-many-unreadable-json (exit $RC)"
# cctrust verify: many attest requests; the one made for another nonce is rejected
"$C" verify req.json req.json --trust-sim sim --nonce "$N" --json >vmany.out; RC=$?
[[ $RC == 0 && $(grep -c '"request"' vmany.out) == 2 ]] && pass verify-many || fail "verify-many (exit $RC)"
"$C" verify req.json other.json --trust-sim sim --nonce "$N" --json >vmany2.out; RC=$?
[[ $RC == 1 ]] && python3 -c "
import json; rs = [json.loads(l) for l in open('vmany2.out')]
assert [r['request'] for r in rs] == ['req.json', 'other.json']
assert rs[0]['status'] == 'affirming' or 'token' in rs[0], rs[0].keys()
assert 'token' not in rs[1]
" && pass verify-many-one-rejected || fail "verify-many-one-rejected (exit $RC)"
"$C" vtpm verify ev.json --trust-sim sim --bogus >/dev/null 2>&1; [[ $? == 2 ]] && pass usage-exit-2 || fail usage-exit-2

# collateral named explicitly (the simulated platform's QVL bundle), and a verification time
# after it expired (--at): refused, fail closed
"$C" vtpm verify ev.json --trust-sim sim --nonce "$X" --collateral sim/tdx/collateral.json --offline >/dev/null &&
	pass explicit-collateral || fail explicit-collateral
"$C" vtpm verify ev.json --trust-sim sim --nonce "$X" --at 2036-01-01T00:00:00Z --json >late.out; RC=$?
[[ $RC == 1 ]] && python3 -c "
import json, sys; e = json.load(open('late.out'))['error']; sys.exit(e['stage'] not in ('collateral', 'chain'))" &&
	pass collateral-expired-at || { fail "collateral-expired-at (exit $RC)"; head -c 500 late.out; }

# collateral fetch derives its keys from vTPM requests: the SNP report inside the HCL report
# (VCEK of that chip), the TD quote (its PCK chain is checked first: the simulated root is refused
# there, which shows the quote was found); the loopback port 1 refuses every fetch
"$C" sim evidence sim --tee az-snp-vtpm --nonce "$N" --tee-pubkey tee.jwk -o snpreq.json || exit 1
"$C" collateral fetch -o bundle1 --from snpreq.json --kds-url http://127.0.0.1:1 --quiet >cf1.out 2>&1; RC=$?
[[ $RC == 1 ]] && grep -q 'missing snp-vcek Milan/' cf1.out && pass collateral-keys-az-snp-vtpm ||
	{ fail "collateral-keys-az-snp-vtpm (exit $RC)"; head -c 500 cf1.out; }
"$C" collateral fetch -o bundle2 --from req.json --pcs-url http://127.0.0.1:1 --quiet >cf2.out 2>&1; RC=$?
[[ $RC == 2 ]] && grep -q 'PCK certificate chain' cf2.out && pass collateral-keys-az-tdx-vtpm ||
	{ fail "collateral-keys-az-tdx-vtpm (exit $RC)"; head -c 500 cf2.out; }

# --- Trustee's v0 form (no version; byte arrays): the same verdict
mutate v0.json "
def arr(b): return list(bytes(b))
q = e['tpm_quote']
e2 = {'tpm_quote': {'signature': arr(bytes.fromhex(q['signature'])), 'message': arr(bytes.fromhex(q['message'])),
      'pcrs': [arr(bytes.fromhex(p)) for p in q['pcrs']]},
      'hcl_report': arr(b64d(e['hcl_report'])), 'td_quote': arr(b64d(e['td_quote']))}
e.clear(); e.update(e2)"
"$C" vtpm verify v0.json --trust-sim sim --nonce "$X" --json >v0.out && python3 -c "
import json; r = json.load(open('v0.out')); assert r['claims']['evidence_version'] == 0" && pass trustee-v0 || { fail trustee-v0; head -c 600 v0.out; }

# --- policies: tdx section on the TD quote, vtpm on the quoted PCRs
P0=$(python3 -c "import json; print(json.load(open('ok.json'))['claims']['pcrs']['sha256']['0'])")
MRTD=$(python3 -c "import json; print(json.load(open('sim/sim.json'))['tdx']['mrtd'])")
Z=$(printf '00%.0s' $(seq 48))
printf '{"version":"cctrust.policy/v1","tee":["az-tdx-vtpm"],"tdx":{"mrtd":["%s"]},"vtpm":{"pcrs":{"sha256":{"0":["%s"]}}}}' "$MRTD" "$P0" >pol-ok.json
printf '{"version":"cctrust.policy/v1","tdx":{"mrtd":["%s"]},"vtpm":{"pcrs":{"sha256":{"0":["%s"]}}}}' "$Z" "${P0/a/b}" >pol-bad.json
"$C" vtpm verify ev.json --trust-sim sim --nonce "$X" --policy pol-ok.json >/dev/null && pass policy-pass || fail policy-pass
"$C" vtpm verify ev.json --trust-sim sim --nonce "$X" --policy pol-bad.json --json >pb.json
RC=$?
[[ $RC == 1 ]] && grep -q '"tdx.mrtd"' pb.json && grep -q '"vtpm.pcrs.sha256.0"' pb.json && pass policy-refuses-by-name ||
	{ fail "policy-refuses-by-name (exit $RC)"; head -c 600 pb.json; }
"$C" verify req.json --trust-sim sim --nonce "$N" --policy pol-bad.json --json >cpb.json
RC=$?
[[ $RC == 1 ]] && grep -q '"tdx.mrtd"' cpb.json && grep -q '"vtpm.pcrs.sha256.0"' cpb.json && pass composite-policy ||
	{ fail "composite-policy (exit $RC)"; head -c 600 cpb.json; }
printf '{"version":"cctrust.policy/v1","tee":["az-snp-vtpm"]}' >pol-tee.json
"$C" verify req.json --trust-sim sim --nonce "$N" --policy pol-tee.json --json >ct.json
[[ $? == 1 ]] && grep -q '"rule": *"tee"' ct.json && pass policy-tee-list || { fail policy-tee-list; head -c 400 ct.json; }
"$C" policy check pol-ok.json >/dev/null && pass policy-check-az-tdx-vtpm || fail policy-check-az-tdx-vtpm

# --- GPUs with vTPM evidence: bound the same way as with SNP/TDX
for tee in az-tdx-vtpm az-snp-vtpm; do
	"$C" sim evidence sim --tee $tee --gpus 2 --nonce "$N" --tee-pubkey tee.jwk -o g-$tee.json || { fail "sim $tee gpus"; continue; }
	"$C" verify g-$tee.json --trust-sim sim --nonce "$N" --json >g-$tee.out
	RC=$?
	[[ $RC == 0 ]] && python3 -c "
import json; r = json.load(open('g-$tee.out'))
assert r['tee'] == '$tee' and r['gpu_count'] == 2 and sorted(r['submods']) == ['cpu0', 'gpu0', 'gpu1']
assert all(r['submods'][s]['status'] == 'affirming' for s in r['submods'])" && pass "gpus-$tee" || { fail "gpus-$tee (exit $RC)"; head -c 900 g-$tee.out; }
	# GPU evidence made for another session inside this request: the CPU binding covers the
	# additional evidence, so the vTPM quote no longer matches (binding)
	"$C" sim evidence sim --tee $tee --gpus 2 --nonce "$(head -c 32 /dev/urandom | base64)" --tee-pubkey tee.jwk -o g2-$tee.json || exit 1
	python3 - "$tee" <<'PY'
import json, sys
t = sys.argv[1]
a = json.load(open(f"g-{t}.json")); b = json.load(open(f"g2-{t}.json"))
a["tee-evidence"]["additional_evidence"] = b["tee-evidence"]["additional_evidence"]
json.dump(a, open(f"g3-{t}.json", "w"))
PY
	"$C" verify g3-$tee.json --trust-sim sim --nonce "$N" --json >g3-$tee.out
	RC=$?
	[[ $RC == 1 ]] && grep -q '"binding"' g3-$tee.out && pass "gpus-$tee-other-session" || { fail "gpus-$tee-other-session (exit $RC)"; head -c 600 g3-$tee.out; }
	# the same foreign GPU evidence bound into this vTPM quote: the GPUs' SPDM nonce is not
	# this session's (GPU binding)
	python3 -c "import json; open('add-$tee.txt', 'w').write(json.load(open('g2-$tee.json'))['tee-evidence']['additional_evidence'])"
	"$C" sim evidence sim --tee $tee --additional-evidence add-$tee.txt --nonce "$N" --tee-pubkey tee.jwk -o g4-$tee.json || exit 1
	"$C" verify g4-$tee.json --trust-sim sim --nonce "$N" --json >g4-$tee.out
	RC=$?
	[[ $RC == 1 ]] && grep -q 'SPDM nonce' g4-$tee.out && pass "gpus-$tee-gpu-nonce" || { fail "gpus-$tee-gpu-nonce (exit $RC)"; head -c 600 g4-$tee.out; }
done

echo "$fails failure(s)"
[[ $fails == 0 ]]
