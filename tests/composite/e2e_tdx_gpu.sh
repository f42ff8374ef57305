#!/bin/bash
# End-to-end composite attestation with TDX and NVIDIA GPUs: the simulated TEE (real formats,
# test roots) for every refusal the issue names, and the real TDX / GPU vectors wrapped in a
# request (binding explicitly skipped). Every case asserts the exit status AND the named
# check/rule that decided it.
set -u
. "$(dirname "$0")/lib.sh"
pol() { echo "{\"version\":\"cctrust.policy/v1\",$2}" >"$T/$1"; }

S=$T/sim
"$C" sim init "$S" >/dev/null || { echo "sim init failed"; exit 1; }
"$C" sim tee-key >"$T/tee.jwk"
"$C" sim tee-key >"$T/other.jwk"
N=$(head -c 32 /dev/urandom | base64)
N2=$(head -c 32 /dev/urandom | base64)
ev() { local out=$1; shift; "$C" sim evidence "$S" --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/$out" "$@" || fail "sim evidence $*"; }
ev snp2.json --tee snp --gpus 2
ev tdx1.json --tee tdx --gpus 1
ev tdx0.json --tee tdx
MRTD=$(python3 -c "import json; print(json.load(open('$S/sim.json'))['tdx']['mrtd'])")
RTMR2=$(python3 -c "import json; print(json.load(open('$S/sim.json'))['tdx']['rtmr'][2])")
X48=$(printf 'ab%.0s' $(seq 48))

# 1. success: SNP + 2 GPUs, TDX + 1 GPU (every piece verified under the sim roots)
expect snp-2gpus 0 "r['verified'] and r['gpu_count']==2 and all(r['submods'][g]['verified'] and r['submods'][g]['claims']['measres']=='success' for g in ('gpu0','gpu1')) and r['submods']['gpu0']['claims']['ueid']!=r['submods']['gpu1']['claims']['ueid']" "$T/snp2.json" --trust-sim "$S" --nonce "$N"
expect tdx-1gpu 0 "r['tee']=='tdx' and r['binding']=='verified' and r['simulated'] and r['submods']['cpu0']['claims']['mrtd']=='$MRTD' and r['submods']['cpu0']['claims']['tcb_status']=='UpToDate' and r['submods']['gpu0']['claims']['arch']=='HOPPER'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N"
"$C" verify "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --token >"$T/tok" && "$C" sim jwks "$S" >"$T/jwks.json"
if "$C" token verify "$T/tok" --jwks "$T/jwks.json" --json >"$T/tv.json" && python3 -c "
import json; c=json.load(open('$T/tv.json'))['claims']['submods']
assert c['cpu0']['ear.status']=='affirming' and c['gpu0']['ear.status']=='affirming'
a=c['cpu0']['ear.veraison.annotated-evidence']; assert a['tdx']['mrtd']=='$MRTD', a
g=c['gpu0']['ear.veraison.annotated-evidence']['nvidia']; assert g['x-cctrust-gpu-cc-mode']=='on' and g['secboot']=='unknown' and g['dbgstat']=='unknown'
assert c['gpu0']['ear.veraison.annotated-evidence']['runtime_data_claims']['tee-pubkey']==json.load(open('$T/tee.jwk'))"; then pass tdx-token-claims; else fail tdx-token-claims; fi
ev tdx-tsm.json --tee tdx --form tsm
# --collateral for the CPU (the sim's TDX collateral file) does not take the GPUs' sim RIMs and
# OCSP responses away (it used to point them at PATH/nvidia/..., which is not there)
expect tdx-gpu-sim-collateral 0 "r['verified'] and r['submods']['gpu0']['claims']['measres']=='success'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --collateral "$S/tdx/collateral.json"
expect tdx-configfs-tsm 0 "r['evidence_form']=='tdx-quote'" "$T/tdx-tsm.json" --trust-sim "$S" --nonce "$N"
pol pol-ref.json "\"tee\":[\"tdx\"],\"tdx\":{\"mrtd\":[\"$MRTD\"],\"rtmr2\":[\"$RTMR2\"],\"accepted_tcb_status\":[\"UpToDate\"]},\"gpu\":{\"count\":1,\"architectures\":[\"HOPPER\"],\"min_driver_version\":\"590.0\",\"min_vbios_version\":\"96.00.A5.00.00\",\"rim_ids\":[\"NV_GPU_DRIVER_GH100_590.12\",\"NV_GPU_VBIOS_G520_0200_885_9600A50001\"],\"ppcie\":\"forbidden\",\"authorization_rules\":{\"authorization-rules\":{\"detached-claims\":{\"measres\":\"success\"}}}}"
expect tdx-pinned-policy 0 "r['policy_id']=='default' and not r['failures']" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-ref.json"
# no evidence field states a GPU's secure-boot or debug state: a policy that requires them fails
pol pol-secboot.json '"gpu":{"authorization_rules":{"authorization-rules":{"detached-claims":{"secboot":true,"dbgstat":"disabled"}}}}'
expect gpu-secboot-unknown 1 "rules==['gpu.authorization_rules.secboot','gpu.authorization_rules.dbgstat'] and r['submods']['gpu0']['claims']['secboot']=='unknown'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-secboot.json"

# 2. nonce mismatch: replayed under another session; the request's nonce swapped
expect tdx-nonce-mismatch 1 "e['code']=='nonce' and e['stage']=='binding'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N2"
jset "$T/tdx1.json" "$T/tdx-n.json" "r['runtime-data']['nonce']='$N2'"
expect tdx-nonce-swapped 1 "e['code']=='binding' and 'REPORT_DATA' in e['message']" "$T/tdx-n.json" --trust-sim "$S" --nonce "$N2"
# 3. wrong tee-pubkey
jset "$T/tdx1.json" "$T/tdx-k.json" "r['runtime-data']['tee-pubkey']=json.load(open('$T/other.jwk'))"
expect tdx-wrong-tee-pubkey 1 "e['code']=='binding' and e['stage']=='binding'" "$T/tdx-k.json" --trust-sim "$S" --nonce "$N"
jset "$T/snp2.json" "$T/snp-k.json" "r['runtime-data']['tee-pubkey']=json.load(open('$T/other.jwk'))"
expect snp-gpus-wrong-tee-pubkey 1 "e['code']=='binding'" "$T/snp-k.json" --trust-sim "$S" --nonce "$N"
# 4. GPU evidence not bound: genuine GPU evidence made for another nonce, carried (and covered
#    by REPORT_DATA) in this session's request: the SPDM nonce gives it away
"$C" sim evidence "$S" --tee tdx --gpus 1 --nonce "$N2" --tee-pubkey "$T/tee.jwk" -o "$T/tdx-n2.json"
python3 -c "import json; open('$T/add-n2.json','w').write(json.load(open('$T/tdx-n2.json'))['tee-evidence']['additional_evidence'])"
ev tdx-gpu-replay.json --tee tdx --additional-evidence "$T/add-n2.json"
expect gpu-not-bound 1 "e['code']=='binding' and 'gpu0 SPDM nonce' in e['message'] and r['submods']['gpu0']['verified'] is False" "$T/tdx-gpu-replay.json" --trust-sim "$S" --nonce "$N"
#    ... and a GPU whose report was swapped after the CPU report was made: REPORT_DATA
jset "$T/snp2.json" "$T/snp-swap.json" "r['tee-evidence']['additional_evidence']=json.load(open('$T/tdx-n2.json'))['tee-evidence']['additional_evidence']"
expect gpu-swapped 1 "e['code']=='binding' and 'REPORT_DATA' in e['message']" "$T/snp-swap.json" --trust-sim "$S" --nonce "$N"
# 5. CC mode off / devtools, recorded by the attester and bound via the CPU report
ev tdx-ccoff.json --tee tdx --gpus 1 --gpu-cc-mode off
expect cc-mode-off 1 "rules==['gpu.cc_mode'] and r['failures'][0]['actual']=='off' and r['binding']=='verified' and e['code']=='policy'" "$T/tdx-ccoff.json" --trust-sim "$S" --nonce "$N"
ev snp-dev.json --tee snp --gpus 2 --gpu-cc-mode devtools
expect cc-mode-devtools 1 "rules==['gpu.cc_mode','gpu.cc_mode']" "$T/snp-dev.json" --trust-sim "$S" --nonce "$N"
pol pol-dev.json '"gpu":{"cc_mode":["on","devtools"]}'
expect cc-mode-devtools-allowed 0 "r['verified']" "$T/snp-dev.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-dev.json"
# 6. GPU count short
pol pol-count.json '"gpu":{"count":2,"required":true}'
expect gpu-count-short 1 "rules==['gpu.count']" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-count.json"
expect gpu-required 1 "set(rules)=={'gpu.count','gpu.required'}" "$T/tdx0.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-count.json"
expect gpu-count-ok 0 "" "$T/snp2.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-count.json"
# one GPU presented twice does not make two GPUs
python3 -c "
import json; a=json.loads(json.load(open('$T/snp2.json'))['tee-evidence']['additional_evidence'])
l=a['nvidia']['device_evidence_list']; l[1]=l[0]; open('$T/add-dup.json','w').write(json.dumps(a))"
ev snp-dup.json --tee snp --additional-evidence "$T/add-dup.json"
expect gpu-duplicate 1 "rules==['gpu.unique_devices']" "$T/snp-dup.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-count.json"
# 7. policy reference value mismatch: MRTD, RTMR, TCB status, GPU rules on verified claims
pol pol-mrtd.json "\"tdx\":{\"mrtd\":[\"$X48\"],\"rtmr2\":[\"$X48\"],\"mrowner\":\"$X48\"}"
expect tdx-mrtd-mismatch 1 "rules==['tdx.mrtd','tdx.rtmr2','tdx.mrowner'] and r['failures'][0]['actual']=='$MRTD'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-mrtd.json"
pol pol-tcb.json '"tdx":{"accepted_tcb_status":["OutOfDate"]}'
expect tdx-tcb-status 1 "rules==['tdx.accepted_tcb_status'] and r['failures'][0]['actual']=='UpToDate'" "$T/tdx0.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-tcb.json"
pol pol-gpu.json '"gpu":{"architectures":["BLACKWELL"],"min_driver_version":"595.1","min_vbios_version":"96.00.B0.00.00","rim_ids":["NV_GPU_DRIVER_GH100_580.1"],"ppcie":"required","authorization_rules":{"authorization-rules":{"detached-claims":{"dbgstat":"enabled"}}}}'
expect gpu-rules 1 "rules==['gpu.ppcie','gpu.architectures','gpu.min_driver_version','gpu.min_vbios_version','gpu.rim_ids','gpu.rim_ids','gpu.authorization_rules.dbgstat'] and r['submods']['gpu0']['status']=='contraindicated' and r['submods']['cpu0']['status']=='affirming'" "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-gpu.json"
# a rejected result prints no token by default; with --token-always the token is signed and
# its ear.status says contraindicated, and `token verify` refuses it unless --allow-non-affirming
"$C" verify "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-gpu.json" --token >"$T/tok2" 2>/dev/null
[[ $? == 1 && ! -s $T/tok2 ]] && pass rejected-no-token || fail rejected-no-token
"$C" verify "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-gpu.json" --json >"$T/rej.json" 2>/dev/null
python3 -c "import json; assert 'token' not in json.load(open('$T/rej.json'))" && pass rejected-json-no-token || fail rejected-json-no-token
"$C" verify "$T/tdx1.json" --trust-sim "$S" --nonce "$N" --policy "$T/pol-gpu.json" --token --token-always >"$T/tok2" 2>/dev/null
"$C" token verify "$T/tok2" --jwks "$T/jwks.json" >/dev/null 2>&1
[[ $? == 1 ]] && pass token-non-affirming-exit-1 || fail token-non-affirming-exit-1
"$C" token verify "$T/tok2" --jwks "$T/jwks.json" --allow-non-affirming --json >"$T/tv2.json" && python3 -c "
import json; c=json.load(open('$T/tv2.json'))['claims']['submods']; assert c['gpu0']['ear.status']=='contraindicated' and c['gpu0']['ear.trustworthiness-vector']['executables']==96" && pass gpu-rules-token || fail gpu-rules-token
# 8. TDX debug, init-data bound to MRCONFIGID
ev tdx-dbg.json --tee tdx --debug-guest
expect tdx-debug 1 "rules==['tdx.allow_debug']" "$T/tdx-dbg.json" --trust-sim "$S" --nonce "$N"
printf 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\nmodel = "m@1:%s"\n' "$(printf '5e%.0s' $(seq 32))" >"$T/init.toml"
ev tdx-init.json --tee tdx --gpus 1 --init-data "$T/init.toml"
expect tdx-init-data 0 "r['submods']['cpu0']['claims']['mrconfigid']==r['init_data']['digest']" "$T/tdx-init.json" --trust-sim "$S" --nonce "$N"
jset "$T/tdx-init.json" "$T/tdx-init2.json" "r['init-data']['body']=r['init-data']['body'].replace('m@1','m@2')"
expect tdx-init-data-tampered 1 "e['code']=='binding' and 'MRCONFIGID' in e['message']" "$T/tdx-init2.json" --trust-sim "$S" --nonce "$N"
# 9. tampered evidence: quote body bit, GPU SPDM signature (carried and bound, still refused)
jset "$T/tdx1.json" "$T/tdx-flip.json" "p=r['tee-evidence']['primary_evidence']; b=bytearray(base64.b64decode(p['quote'])); b[48+136]^=1; p['quote']=base64.b64encode(bytes(b)).decode()"
expect tdx-quote-tampered 1 "e['code']=='signature' and e['stage']=='signature'" "$T/tdx-flip.json" --trust-sim "$S" --nonce "$N"
python3 -c "
import json, base64; a=json.loads(json.load(open('$T/tdx1.json'))['tee-evidence']['additional_evidence'])
d=a['nvidia']['device_evidence_list'][0]; b=bytearray(base64.b64decode(d['evidence'])); b[-5]^=1
d['evidence']=base64.b64encode(bytes(b)).decode(); open('$T/add-flip.json','w').write(json.dumps(a))"
ev tdx-gpuflip.json --tee tdx --additional-evidence "$T/add-flip.json"
expect gpu-signature-tampered 1 "e['code']=='signature' and e['message'].startswith('gpu0')" "$T/tdx-gpuflip.json" --trust-sim "$S" --nonce "$N"
# sim: an option that would change nothing, an output over an input, a report left without its
# table are refused (exit 2, the option named), never accepted and ignored
sim_refused() { # NAME WANT-IN-MESSAGE sim-args...
	local name=$1 want=$2
	shift 2
	"$C" sim "$@" >/dev/null 2>"$T/sim.err"
	local rc=$?
	[[ $rc == 2 ]] && grep -q -- "$want" "$T/sim.err" && pass "$name" || fail "$name: exit $rc: $(cat "$T/sim.err")"
}
SE="evidence $S --nonce $N --tee-pubkey $T/tee.jwk"
sim_refused sim-cc-mode-no-gpus "--gpu-cc-mode" $SE --tee snp --gpu-cc-mode devtools -o "$T/x.json"
sim_refused sim-form-az "--form" $SE --tee az-snp-vtpm --form tsm -o "$T/x.json"
sim_refused sim-gpus-and-additional "--gpus and --additional-evidence" $SE --tee tdx --gpus 2 --additional-evidence "$T/add-n2.json" -o "$T/x.json"
cp "$T/tee.jwk" "$T/tee-copy.jwk"
sim_refused sim-output-over-input "also --tee-pubkey" evidence "$S" --nonce "$N" --tee-pubkey "$T/tee-copy.jwk" -o "$T/tee-copy.jwk"
cmp -s "$T/tee.jwk" "$T/tee-copy.jwk" && pass sim-input-kept || fail sim-input-kept
RD0=$(printf '00%.0s' $(seq 64))
sim_refused sim-report-one-file "same file" report "$S" --report-data "$RD0" -o "$T/rep.bin" "$T/./rep.bin"
sim_refused sim-report-no-table "cannot write" report "$S" --report-data "$RD0" -o "$T/rep.bin" "$T/nodir/table.bin"
[[ ! -e $T/rep.bin ]] && pass sim-report-no-partial || fail sim-report-no-partial
"$C" sim td-report "$S" --report-data "$RD0" -o "$T/tdr.bin" >/dev/null 2>&1
sim_refused sim-td-quote-over-report "also --td-report" td-quote "$S" --td-report "$T/tdr.bin" -o "$T/tdr.bin"
[[ $(stat -c %s "$T/tdr.bin") == 1024 ]] && pass sim-td-report-kept || fail sim-td-report-kept
printf 'algorithm = "sha384"\nversion = "0.1.0"\n' | "$C" sim $SE --tee snp --init-data - --additional-evidence - -o "$T/x.json" >/dev/null 2>"$T/sim.err"
[[ $? == 2 ]] && grep -q "standard input (-) given for 2 options" "$T/sim.err" && pass sim-stdin-twice || fail "sim-stdin-twice: $(cat "$T/sim.err")"
echo '{"version":"cctrust.policy/v1"}' | "$C" verify - --trust-sim "$S" --nonce "$N" --policy - >/dev/null 2>"$T/v.err"
[[ $? == 2 ]] && grep -q -- "--policy - and the request - both name standard input" "$T/v.err" && pass verify-stdin-twice || fail "verify-stdin-twice: $(cat "$T/v.err")"
mkdir -p "$T/half" && : >"$T/half/gpu"
sim_refused sim-init-checks-first "half/gpu is not a directory" init "$T/half"
[[ $(ls "$T/half") == gpu ]] && pass sim-init-nothing-left || fail "sim-init-nothing-left: $(ls "$T/half")"
# an unreadable request still lists what the options turned off, as a refused one does
"$C" verify "$T/no-such.json" --trust-sim "$S" --no-crl --skip-binding-insecure --json >"$T/u.json" 2>/dev/null
[[ $? == 2 ]] && python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['error']['code']=='io' and o['checks_skipped']==['crl','binding','nonce'] and o['insecure']==['no-crl','skip-binding','nonce-not-checked']))" "$T/u.json" && pass unreadable-lists-skips || fail "unreadable-lists-skips: $(head -c 300 "$T/u.json")"
mkdir -p "$T/emptyd"
"$C" verify "$T/tdx1.json" "$T/emptyd" --trust-sim "$S" --nonce "$N" --json >"$T/m.json" 2>/dev/null
[[ $? == 2 ]] && python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; sys.exit(not (len(l)==2 and l[0]['verified'] and l[1]['verified'] is False and l[1]['error']['code']=='io'))" "$T/m.json" && pass multi-json-empty-dir-line || fail "multi-json-empty-dir-line: $(cut -c1-200 "$T/m.json")"
sim_refused sim-tee-key-says-why "$T/nodir/k.pem: No such file or directory" tee-key -o "$T/nodir/k.pem"

# 10. not trusted without --trust-sim: the sim roots are not Intel's / NVIDIA's
expect tdx-sim-untrusted 1 "e['stage']=='chain'" "$T/tdx0.json" --nonce "$N" --offline --collateral "$S/tdx/collateral.json"
# 11. CCEL event log: replayed into RTMR0..3; a changed event digest is refused
if [[ -n $V && -f $V/tdx/go-tdx-guest/ccel/ccel_data.dat ]]; then
	CCEL=$V/tdx/go-tdx-guest/ccel/ccel_data.dat
	ev tdx-ccel.json --tee tdx --ccel-data "$CCEL"
	expect tdx-ccel 0 "r['submods']['cpu0']['claims']['ccel']=='replayed'" "$T/tdx-ccel.json" --trust-sim "$S" --nonce "$N"
	jset "$T/tdx-ccel.json" "$T/tdx-ccel2.json" "p=r['tee-evidence']['primary_evidence']; b=bytearray(base64.b64decode(p['cc_eventlog'])); i=b.find(bytes.fromhex('458994daa60deac8dea19dba79748f6f')); assert i>0; b[i]^=1; p['cc_eventlog']=base64.b64encode(bytes(b)).decode()"
	expect tdx-ccel-tampered 1 "e['code']=='measurement' and 'RTMR0' in e['message']" "$T/tdx-ccel2.json" --trust-sim "$S" --nonce "$N"
fi

# 12. real vectors wrapped in a request; binding explicitly skipped (their nonces are fixed)
if [[ -n $V && -d $V/tdx/phala-dcap-qvl && -d $V/nvgpu/nvidia-attestation-sdk ]]; then
	P=$V/tdx/phala-dcap-qvl/sample
	G=$V/nvgpu/nvidia-attestation-sdk/testdata
	mkdir -p "$T/coll/nvidia/rims"
	cp "$G"/sample_rims/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml "$G"/sample_rims/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml "$T/coll/nvidia/rims/"
	cp "$P/tdx_quote_collateral.json" "$T/coll/tdx"
	python3 - "$V" "$T" <<'EOF'
import base64, json, sys
v, t = sys.argv[1], sys.argv[2]
k = json.load(open(t + '/tee.jwk'))
g = v + '/nvgpu/nvidia-attestation-sdk/testdata/'
def raw(p):
    b = open(p, 'rb').read()
    try:
        s = b.decode().strip()
        if all(c in '0123456789abcdefABCDEF' for c in s): return bytes.fromhex(s)
    except UnicodeDecodeError: pass
    return b
def gpu(arch, rep, chain):
    return {"arch": arch, "uuid": "GPU-real", "evidence": base64.b64encode(raw(g + rep)).decode(),
            "certificate": base64.b64encode(open(g + chain, 'rb').read()).decode()}
def req(quote, gpus, out):
    add = json.dumps({"nvidia": {"device_evidence_list": gpus, "cc_mode": "on", "ppcie_mode": False}}) if gpus else ""
    json.dump({"runtime-data": {"nonce": base64.b64encode(b'\0' * 32).decode(), "tee-pubkey": k},
               "tee-evidence": {"primary_evidence": {"quote": base64.b64encode(open(quote, 'rb').read()).decode(), "cc_eventlog": None},
                                "additional_evidence": add}}, open(out, 'w'))
q = v + '/tdx/phala-dcap-qvl/sample/'
req(q + 'tdx_quote', [], t + '/real-tdx.json')
req(q + 'tdx_quote_outdated', [], t + '/real-tdx-outdated.json')
req(q + 'tdx_quote', [gpu("HOPPER", "hopperAttestationReport.txt", "hopperCertChain.txt")], t + '/real-tdx-h100.json')
req(q + 'tdx_quote', [gpu("BLACKWELL", "sample_attestation_data/gpu/blackwellAttestationReport.txt", "sample_attestation_data/gpu/blackwellCertChain.txt")], t + '/real-tdx-b200.json')
req(q + 'tdx_quote', [gpu("HOPPER", "sample_attestation_data/gpu/hopperAttestationReport.txt", "sample_attestation_data/gpu/hopperCertChain.txt")], t + '/real-tdx-h100-535.json')
EOF
	AT=2025-07-19T10:00:34Z
	RT="--collateral $P/tdx_quote_collateral.json --offline --skip-binding-insecure"
	expect real-tdx-skip 0 "r['binding']=='skipped' and 'skip-binding' in r['insecure'] and not r['simulated'] and r['submods']['cpu0']['claims']['tcb_status']=='UpToDate' and r['submods']['cpu0']['claims']['mrtd'].startswith('91eb2b44')" "$T/real-tdx.json" $RT --at $AT
	expect real-tdx-bound 1 "e['code']=='binding'" "$T/real-tdx.json" --collateral "$P/tdx_quote_collateral.json" --offline --at $AT
	expect real-tdx-expired 1 "e['stage']=='collateral'" "$T/real-tdx.json" $RT --at 2026-11-23T00:00:00Z
	mkdir -p "$T/empty-cache"
	expect real-tdx-no-collateral-offline 1 "e['code']=='network' and e['stage']=='collateral'" "$T/real-tdx.json" --offline --collateral "$T/empty-cache" --skip-binding-insecure --at $AT
	expect real-tdx-outdated 1 "e['code']=='tcb'" "$T/real-tdx-outdated.json" --collateral "$P/tdx_quote_outdated_collateral.json" --offline --skip-binding-insecure --at 2026-03-20T10:41:14Z
	echo '{"version":"cctrust.policy/v1","tdx":{"mrtd":["91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"]},"gpu":{"require_measres":false,"count":1}}' >"$T/pol-real.json"
	# real H100 / B200 evidence (NVIDIA vectors; no OCSP responses or RIMs ship for them)
	expect real-tdx-h100 0 "r['submods']['gpu0']['claims']['hwmodel']=='GH100 A01 GSP BROM' and r['submods']['gpu0']['claims']['x-nvidia-gpu-driver-version']=='580.159.03' and r['submods']['gpu0']['claims']['measres']=='skipped' and 'no-crl' in r['insecure']" "$T/real-tdx-h100.json" $RT --at $AT --no-crl --policy "$T/pol-real.json"
	expect real-tdx-b200 0 "r['submods']['gpu0']['claims']['hwmodel']=='GB100 A01 GSP BROM'" "$T/real-tdx-b200.json" $RT --at $AT --no-crl --policy "$T/pol-real.json"
	expect real-h100-measres-required 1 "e['stage']=='collateral' and e['message'].startswith('gpu0')" "$T/real-tdx-h100.json" $RT --at $AT --no-crl
	expect real-h100-ocsp-required 1 "e['message'].startswith('gpu0') and e['stage'] in ('revocation','collateral')" "$T/real-tdx-h100.json" $RT --at $AT --policy "$T/pol-real.json"
	# the published mismatch RIMs (their driver RIM's XML signature is broken): refused at the RIM
	expect real-h100-535-rims 1 "e['message'].startswith('gpu0') and e['code']=='signature'" "$T/real-tdx-h100-535.json" --collateral "$T/coll" --offline --skip-binding-insecure --no-crl --at $AT
else
	echo "SKIP real vectors: $V lacks them (CCT_VECTORS should point at tests/vectors)"
	vectors_missing=1
fi

finish "tdx+gpu composite e2e"
