#!/bin/bash
# One policy language: every cctrust.policy/v1 document gives the same verdict and the same
# failing-rule names through `cctrust verify` (the composite, as cctrustd runs it) and through the
# matching single verifier (`snp verify`, `tdx verify`, `gpu verify --policy`), on the simulated
# TEE and on the real vectors. Old-format policies still work (with a deprecation warning) and
# `cctrust policy convert` output is accepted by every command; `policy check` names every error.
set -u
. "$(dirname "$0")/../composite/lib.sh"
[[ -n $V && -d $V/snp/go-sev-guest && -d $V/tdx/phala-dcap-qvl ]] || { echo "vectors missing: $V"; exit 77; }

S=$T/sim
"$C" sim init "$S" >/dev/null || { echo "sim init failed"; exit 1; }
"$C" sim tee-key >"$T/tee.jwk"
N=$(head -c 32 /dev/urandom | base64)
M=$(python3 -c "import json; print(json.load(open('$S/sim.json'))['measurement'])")
MRTD=$(python3 -c "import json; print(json.load(open('$S/sim.json'))['tdx']['mrtd'])")
X48=$(printf 'ab%.0s' $(seq 48))
pol() { echo "{\"version\":\"cctrust.policy/v1\",$2}" >"$T/$1"; }

# same NAME KIND POLICY "composite args" "single command line": both exit codes equal, and the
# failing rules of the single verifier's sections equal those of the composite
same() {
	local name=$1 kind=$2 policy=$3 cargs=$4 sargs=$5
	"$C" verify $cargs --policy "$policy" --json >"$T/c.json" 2>"$T/c.err"
	local crc=$?
	"$C" $sargs --policy "$policy" --json >"$T/s.json" 2>"$T/s.err"
	local src=$?
	if [[ $crc != "$src" ]]; then
		fail "$name: cctrust verify exit $crc, $kind verify exit $src"
		head -c 600 "$T/c.json" "$T/s.json" "$T/s.err"; return
	fi
	if python3 - "$T/c.json" "$T/s.json" "$kind" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
lines = [l for l in open(sys.argv[2]).read().splitlines() if l.strip()]
try:
    singles = [json.loads(l) for l in lines]      # snp/tdx: one object per line
except ValueError:
    singles = [json.loads(open(sys.argv[2]).read())]
mine = ('tee', sys.argv[3] + '.', 'vtpm.') if sys.argv[3] != 'gpu' else ('gpu.',)  # vtpm: fails without a vTPM
cr = sorted(f['rule'] for f in c.get('failures', []) if f['rule'].startswith(mine))
sr = sorted(f['rule'] for s in singles for f in s.get('failures', []))
if cr != sr:
    print('composite rules', cr, 'single rules', sr); sys.exit(1)
EOF
	then pass "$name (exit $crc)"; else fail "$name: rule names differ"; fi
}

# ---- SNP on the simulated TEE: the report and its certificate table out of the request ----
"$C" sim evidence "$S" --tee snp --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/snp.json" || exit 1
python3 -c "
import json, base64; p=json.load(open('$T/snp.json'))['tee-evidence']['primary_evidence']
open('$T/snp.bin','wb').write(base64.b64decode(p['report'])); open('$T/snp.table','wb').write(base64.b64decode(p['cert_table']))"
SC="$T/snp.json --trust-sim $S --nonce $N"
SS="snp verify $T/snp.bin --cert-table $T/snp.table --trust-sim $S"
pol snp-good.json "\"tee\":[\"snp\"],\"snp\":{\"measurements\":[\"$M\"],\"max_vmpl\":0,\"products\":[\"Milan\"],\"signing_keys\":[\"vcek\"],\"min_reported_tcb\":{\"bootloader\":1}}"
pol snp-bad.json "\"snp\":{\"measurements\":[\"$X48\"],\"min_reported_tcb\":{\"snp\":99},\"min_guest_svn\":99,\"products\":[\"Genoa\"],\"require_id_block\":true,\"allow_smt\":false}"
pol snp-tee.json "\"tee\":[\"tdx\"]"
same snp-accepted snp "$T/snp-good.json" "$SC" "$SS"
same snp-rejected-every-rule snp "$T/snp-bad.json" "$SC" "$SS"
same snp-tee-not-allowed snp "$T/snp-tee.json" "$SC" "$SS"
# vtpm rules cannot be checked on plain SNP evidence: both refuse (they were passed over)
pol snp-vtpm.json "\"tee\":[\"snp\",\"az-snp-vtpm\"],\"vtpm\":{\"secure_boot\":true}"
same snp-vtpm-rules-fail snp "$T/snp-vtpm.json" "$SC" "$SS"
[[ $(python3 -c "import json; print(json.load(open('$T/s.json'))['error']['code'])") == policy ]] && pass snp-vtpm-rules-refused || fail snp-vtpm-rules-refused
"$C" $SS --policy "$T/snp-bad.json" --json >"$T/s.json"
python3 -c "import json; r=json.load(open('$T/s.json')); assert not r['verified'] and r['error']['code']=='policy' and r['error']['stage']=='policy' and len(r['failures'])>=5, r" && pass snp-failures-named || fail snp-failures-named

# ---- TDX on the simulated TEE ----
"$C" sim evidence "$S" --tee tdx --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/tdx.json" || exit 1
python3 -c "
import json, base64; p=json.load(open('$T/tdx.json'))['tee-evidence']['primary_evidence']
open('$T/tdx.bin','wb').write(base64.b64decode(p['quote']))"
TC="$T/tdx.json --trust-sim $S --nonce $N"
TS="tdx verify $T/tdx.bin --trust-sim $S"
pol tdx-good.json "\"tee\":[\"tdx\"],\"tdx\":{\"mrtd\":[\"$MRTD\"],\"accepted_tcb_status\":[\"UpToDate\"]}"
pol tdx-bad.json "\"tdx\":{\"mrtd\":[\"$X48\"],\"rtmr1\":[\"$X48\"],\"mrowner\":\"$X48\",\"xfam\":[\"0000000000000000\"],\"accepted_tcb_status\":[\"OutOfDate\"],\"min_tcb_date\":\"2999-01-01T00:00:00Z\"}"
same tdx-accepted tdx "$T/tdx-good.json" "$TC" "$TS"
same tdx-rejected-every-rule tdx "$T/tdx-bad.json" "$TC" "$TS"

# ---- GPUs on the simulated TEE: the device evidence as the guest sent it, its SPDM nonce ----
gpu_case() { # OUT-PREFIX [sim evidence args]
	local out=$1; shift
	"$C" sim evidence "$S" --tee tdx --gpus 1 --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/$out.json" "$@" || exit 1
	python3 - "$T/$out.json" "$T/$out-gpu.json" "$T/$out-nonce" <<'EOF'
import json, sys, hashlib
r = json.load(open(sys.argv[1]))
json.dump(json.loads(r['tee-evidence']['additional_evidence'])['nvidia'], open(sys.argv[2], 'w'))
rd = r['runtime-data']   # Trustee's GPU binding: SHA-384(JCS({nonce, tee-pubkey}))[0:32]
j = json.dumps({"nonce": rd['nonce'], "tee-pubkey": rd['tee-pubkey']}, sort_keys=True, separators=(',', ':'))
open(sys.argv[3], 'w').write(hashlib.sha384(j.encode()).hexdigest()[:64])
EOF
}
gpu_case gpu
gpu_case gpudev --gpu-cc-mode devtools
GC="$T/gpu.json --trust-sim $S --nonce $N"
GS="gpu verify $T/gpu-gpu.json --trust-sim $S --nonce $(cat "$T/gpu-nonce")"
pol gpu-good.json "\"gpu\":{\"count\":1,\"architectures\":[\"HOPPER\"],\"cc_mode\":[\"on\"],\"min_driver_version\":\"590.0\",\"require_measres\":true}"
pol gpu-bad.json "\"gpu\":{\"count\":2,\"architectures\":[\"BLACKWELL\"],\"min_driver_version\":\"999.0\",\"rim_ids\":[\"NV_GPU_DRIVER_GH100_1.0\"]}"
same gpu-accepted gpu "$T/gpu-good.json" "$GC" "$GS"
same gpu-rejected-every-rule gpu "$T/gpu-bad.json" "$GC" "$GS"
same gpu-devtools-refused gpu "$T/gpu-good.json" "$T/gpudev.json --trust-sim $S --nonce $N" "gpu verify $T/gpudev-gpu.json --trust-sim $S --nonce $(cat "$T/gpudev-nonce")"
# (not secboot: no evidence field states it, it is "unknown" and a rule requiring it fails)
echo '{"authorization-rules":{"detached-claims":{"measres":"success","x-nvidia-gpu-arch-check":true}}}' >"$T/old-gpu.json"
"$C" $GS --policy "$T/old-gpu.json" >/dev/null 2>"$T/w.txt"
[[ $? == 0 ]] && grep -q 'use "gpu.authorization_rules"' "$T/w.txt" && pass old-gpu-policy-warns || fail old-gpu-policy-warns
"$C" policy convert "$T/old-gpu.json" >"$T/old-gpu-v1.json" 2>/dev/null && "$C" verify $GC --policy "$T/old-gpu-v1.json" >/dev/null 2>&1 \
	&& "$C" $GS --policy "$T/old-gpu-v1.json" >/dev/null 2>&1 && pass converted-gpu-by-all || fail converted-gpu-by-all

# ---- real vectors (binding skipped in the composite: their nonces are fixed) ----
K=$(cat "$T/tee.jwk")
python3 - "$V" "$T" <<'EOF'
import base64, json, sys
v, t = sys.argv[1], sys.argv[2]
k = json.load(open(t + '/tee.jwk'))
def req(prim, out):
    json.dump({"runtime-data": {"nonce": base64.b64encode(b'\0' * 32).decode(), "tee-pubkey": k},
               "tee-evidence": {"primary_evidence": prim, "additional_evidence": ""}}, open(out, 'w'))
req({"report": base64.b64encode(open(v + '/snp/go-sev-guest/attestation.bin', 'rb').read()).decode()}, t + '/real-snp.json')
req({"quote": base64.b64encode(open(v + '/tdx/phala-dcap-qvl/sample/tdx_quote', 'rb').read()).decode(), "cc_eventlog": None}, t + '/real-tdx.json')
EOF
mkdir -p "$T/gcerts"
cp "$V/snp/go-sev-guest/vcek.der" "$V/snp/go-sev-guest/trust/ask_ark_milan.pem" "$T/gcerts/"
RSC="$T/real-snp.json --certs $T/gcerts --no-crl --offline --skip-binding-insecure"
RSS="snp verify $V/snp/go-sev-guest/attestation.bin --certs $T/gcerts --no-crl --offline"
pol real-snp-debug.json "\"snp\":{\"min_version\":\"1.49\"}"
pol real-snp-ok.json "\"snp\":{\"allow_debug\":true,\"min_version\":\"1.49\"}"
same real-snp-debug-refused snp "$T/real-snp-debug.json" "$RSC" "$RSS"
same real-snp-debug-allowed snp "$T/real-snp-ok.json" "$RSC" "$RSS"
AT=2025-07-19T10:00:34Z
P=$V/tdx/phala-dcap-qvl/sample
RTC="$T/real-tdx.json --collateral $P/tdx_quote_collateral.json --offline --skip-binding-insecure --at $AT"
RTS="tdx verify $P/tdx_quote --collateral $P/tdx_quote_collateral.json --offline --at $AT"
pol real-tdx-ok.json "\"tdx\":{\"mrtd\":[\"91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7\"]}"
pol real-tdx-bad.json "\"tdx\":{\"mrtd\":[\"$X48\"],\"deny_advisories\":[\"INTEL-SA-00000\"],\"allow_debug\":false}"
same real-tdx-accepted tdx "$T/real-tdx-ok.json" "$RTC" "$RTS"
same real-tdx-rejected tdx "$T/real-tdx-bad.json" "$RTC" "$RTS"

# ---- old formats: converted with a warning, same verdict; convert output accepted by all ----
echo "{\"measurement\":\"$M\",\"max_vmpl\":0}" >"$T/old-snp.json"
"$C" $SS --policy "$T/old-snp.json" >/dev/null 2>"$T/w.txt"
[[ $? == 0 ]] && grep -q 'deprecated: use "snp.measurements"' "$T/w.txt" && pass old-snp-policy-warns || fail old-snp-policy-warns
echo "{\"measurement\":\"$X48\"}" >"$T/old-snp-bad.json"
"$C" $SS --policy "$T/old-snp-bad.json" >/dev/null 2>&1; [[ $? == 1 ]] && pass old-snp-policy-rejects || fail old-snp-policy-rejects
echo "{\"mrtd\":\"$MRTD\",\"accept_tcb\":[\"SWHardeningNeeded\"]}" >"$T/old-tdx.json"
"$C" $TS --policy "$T/old-tdx.json" >/dev/null 2>"$T/w.txt"
[[ $? == 0 ]] && grep -q 'use "tdx.accepted_tcb_status"' "$T/w.txt" && pass old-tdx-policy-warns || fail old-tdx-policy-warns
for old in old-snp old-tdx; do
	"$C" policy convert "$T/$old.json" >"$T/$old-v1.json" 2>/dev/null && "$C" policy check "$T/$old-v1.json" >/dev/null \
		&& pass "$old-converted-valid" || fail "$old-converted-valid"
done
# no deprecation warning for a converted policy (stderr only lists the checks not performed)
"$C" $SS --policy "$T/old-snp-v1.json" >/dev/null 2>"$T/w.txt"; [[ $? == 0 && -z $(grep -v 'checks skipped' "$T/w.txt") ]] && pass converted-snp-by-snp-verify || fail converted-snp-by-snp-verify
"$C" verify $SC --policy "$T/old-snp-v1.json" >/dev/null 2>&1 && pass converted-snp-by-verify || fail converted-snp-by-verify
"$C" $TS --policy "$T/old-tdx-v1.json" >/dev/null 2>&1 && pass converted-tdx-by-tdx-verify || fail converted-tdx-by-tdx-verify
"$C" verify $TC --policy "$T/old-tdx-v1.json" >/dev/null 2>&1 && pass converted-tdx-by-verify || fail converted-tdx-by-verify
# an old-format policy with no key that tells its kind ({}, or only a comment) is the kind of the
# verifier it is given to; `policy convert` asks for --kind rather than guessing one
echo '{"comment":"no constraints"}' >"$T/old-any.json"
"$C" $TS --policy "$T/old-any.json" >/dev/null 2>&1 && pass old-any-policy-by-tdx-verify || fail old-any-policy-by-tdx-verify
"$C" $SS --policy "$T/old-any.json" >/dev/null 2>&1 && pass old-any-policy-by-snp-verify || fail old-any-policy-by-snp-verify
"$C" policy convert "$T/old-any.json" >/dev/null 2>"$T/w.txt"
[[ $? == 2 ]] && grep -q -- '--kind' "$T/w.txt" && pass convert-untold-kind-asks || fail convert-untold-kind-asks
"$C" policy convert "$T/old-any.json" --kind tdx 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("tdx") != {} or "snp" in d)' \
	&& pass convert-kind-named || fail convert-kind-named
# per-verifier flags override the policy object
pol snp-vmpl.json "\"snp\":{\"measurements\":[\"$M\"]}"
"$C" $SS --policy "$T/snp-vmpl.json" --max-vmpl 2 --json >"$T/s.json"
[[ $? == 0 ]] && pass flag-override || fail flag-override

# ---- policy check: every error with its JSON path; exit 0 valid, 2 invalid ----
pol bad-doc.json "\"snp\":{\"measurment\":[],\"max_vmpl\":-1},\"gpu\":{\"cc_mode\":[\"sometimes\"]},\"tdx\":{\"mrtd\":[\"zz\"]}"
"$C" policy check "$T/bad-doc.json" --json >"$T/chk.json"; rc=$?
[[ $rc == 2 ]] && python3 -c "
import json; e=[x['path'] for x in json.load(open('$T/chk.json'))['errors']]
assert set(e)=={'snp.measurment','snp.max_vmpl','gpu.cc_mode[0]','tdx.mrtd[0]'}, e" && pass policy-check-every-error || fail policy-check-every-error
"$C" policy check "$T/snp-good.json" >/dev/null; [[ $? == 0 ]] && pass policy-check-valid || fail policy-check-valid
# a minimum the evaluator cannot compare number by number would read as 0 there: refused
pol bad-values.json "\"snp\":{\"min_version\":\"abc\",\"max_vmpl\":99},\"gpu\":{\"min_driver_version\":\"1.x\",\"min_vbios_version\":\"\"},\"tdx\":{\"accepted_tcb_status\":[\"UpToDate\",\"Bogus\"]}"
"$C" policy check "$T/bad-values.json" --json >"$T/chk2.json"; rc=$?
[[ $rc == 2 ]] && python3 -c "
import json; e=[x['path'] for x in json.load(open('$T/chk2.json'))['errors']]
assert set(e)=={'snp.min_version','snp.max_vmpl','gpu.min_driver_version','gpu.min_vbios_version','tdx.accepted_tcb_status[1]'}, e" && pass policy-check-values || fail policy-check-values
pol good-values.json "\"snp\":{\"min_version\":\"1.55\",\"max_vmpl\":3},\"gpu\":{\"min_driver_version\":\"550.54.15\",\"min_vbios_version\":\"96.00.5e.00.01\"}"
"$C" policy check "$T/good-values.json" >/dev/null; [[ $? == 0 ]] && pass policy-check-good-values || fail policy-check-good-values
echo '{"version":' >"$T/trunc.json"
"$C" policy check "$T/trunc.json" >/dev/null; [[ $? == 2 ]] && pass policy-check-not-json || fail policy-check-not-json
# an option the subcommand does not read is refused (exit 2, named), never accepted and ignored:
# `check --kind tdx` did not check the document as a tdx one, `convert --json` changed nothing
out=$("$C" policy check "$T/snp-good.json" --kind tdx 2>&1 >/dev/null); rc=$?
[[ $rc == 2 && $out == *"policy check: --kind does not apply"* ]] && pass policy-check-kind-refused || fail "policy-check-kind-refused: $rc $out"
out=$("$C" policy convert "$T/old-any.json" --kind tdx --json 2>&1 >/dev/null); rc=$?
[[ $rc == 2 && $out == *"policy convert: --json does not apply"* ]] && pass policy-convert-json-refused || fail "policy-convert-json-refused: $rc $out"

# convert reads its input as check does: '-' is standard input, a directory is named as one, and
# a document over the policy cap is refused before it is parsed
"$C" policy convert - <"$T/old-gpu.json" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit("authorization_rules" not in d["gpu"])' \
	&& pass convert-stdin || fail convert-stdin
out=$("$C" policy convert "$T" 2>&1 >/dev/null); rc=$?
[[ $rc == 2 && $out == *"directory"* ]] && pass convert-directory-named || fail "convert-directory-named: $rc $out"
python3 -c "import sys; sys.stdout.write('{\"version\":\"cctrust.policy/v1\",\"comment\":\"' + 'x' * (1 << 20) + '\"}')" >"$T/huge.json"
out=$("$C" policy convert "$T/huge.json" 2>&1 >/dev/null); rc=$?
[[ $rc == 2 && $out == *"limit"* ]] && pass convert-capped || fail "convert-capped: $rc $out"

# a v1 document is printed unchanged whatever --kind names (it was read as a legacy policy of
# that kind: a false deprecation warning, or refused)
pol v1-multi.json "\"snp\":{\"max_vmpl\":1},\"gpu\":{\"count\":1}"
for k in snp tdx gpu; do
	"$C" policy convert "$T/v1-multi.json" --kind $k >"$T/conv.json" 2>"$T/conv.err"; rc=$?
	[[ $rc == 0 && ! -s $T/conv.err ]] && python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))!=json.load(open(sys.argv[2])))" "$T/conv.json" "$T/v1-multi.json" \
		&& pass convert-v1-kind-$k || fail "convert-v1-kind-$k: $rc $(cat "$T/conv.err")"
done

echo "one policy language: $fails failure(s)"
exit $((fails > 0))
