#!/bin/bash
# Simulated GPU through the CLI contract: `cctrust gpu verify` accepts simulated evidence (KBS and
# NVIDIA forms, 2 GPUs, OCSP on, offline) only with --device-root/--rim-root pointing at the sim,
# refuses a golden mismatch naming index, digests and RIM, and `gpu rim verify` checks a sim RIM.
# The sim directory is written by the unit-test binary (nvgpu_test_sim_gpu --generate DIR).
set -u
cct=${CCT_CLI:?}; build=${CCT_BUILD:?}
gen=$build/tests/nvgpu_test_sim_gpu
[ -x "$gen" ] || gen=$(find "$build" -type f -name nvgpu_test_sim_gpu -perm -u+x | head -n 1)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 400 "$tmp/out" "$tmp/err")"; }

"$gen" --generate "$tmp/sim" || { echo "FAIL: cannot generate the sim"; exit 1; }
g=$tmp/sim/gpu
n=$(cat "$tmp/sim/nonce.hex")
trust="--device-root $g/device-root.pem --rim-root $g/rim-root.pem"
coll="--rim-dir $g/rims --ocsp-dir $g/ocsp --offline"

expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll
# a stored OCSP response that is not current, and no responder to ask (no AIA, not offline):
# the message said only "no OCSP responder URL ... (no AIA)", hiding the stale response
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust --rim-dir "$g/rims" --ocsp-dir "$g/ocsp" --at 2031-01-01T00:00:00Z
grep -q "(dir) is not current at 2031-01-01T00:00:00Z; and no fresh response: no OCSP responder URL" "$tmp/out" "$tmp/err" && ok ||
	bad "stale stored OCSP response not named: $(cat "$tmp/out" "$tmp/err")"
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-nvidia.json" --nonce "$n" $trust $coll --expected-count 2 --expected-arch HOPPER
"$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --json >"$tmp/j"
python3 - "$tmp/j" "$g/info.json" <<'PY' && ok || bad "json claims of the sim"
import json, sys
o = json.load(open(sys.argv[1])); info = json.load(open(sys.argv[2]))
assert o["verified"] is True and o["error"] is None
gpus = o["claims"]["gpus"]
assert len(gpus) == 2
for i, g in enumerate(gpus):
    assert g["measres"] == "success" and g["hwmodel"] == "GH100 A01 GSP BROM"
    assert g["ueid"] == info["devices"][i]["ueid"] and g["x-cctrust-uuid"] == info["devices"][i]["uuid"]
    assert g["x-nvidia-gpu-driver-rim-id"] == "NV_GPU_DRIVER_GH100_590.12"
    assert g["x-nvidia-gpu-vbios-rim-id"] == "NV_GPU_VBIOS_G520_0200_885_9600A50001"
    assert g["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"] == "good"
    assert g["x-nvidia-gpu-driver-rim-cert-chain"]["x-nvidia-cert-ocsp-status"] == "good"
assert gpus[0]["ueid"] != gpus[1]["ueid"]
PY
# pinned NVIDIA roots: refused at the chain
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $coll
grep -q "chain" "$tmp/out" && ok || bad "chain refusal not named"
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" --device-root "$g/device-root.pem" $coll
# wrong nonce
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$(echo "$n" | tr 0123 3210)" $trust $coll
grep -q "nonce" "$tmp/out" && ok || bad "nonce refusal not named"
# golden mismatch: index, RIM, expected and actual digests in the JSON
"$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust --rim-dir "$tmp/sim/rims-mismatch" --ocsp-dir "$g/ocsp" --offline --json >"$tmp/m"
[ $? -eq 1 ] && ok || bad "mismatch exit"
python3 - "$tmp/m" <<'PY' && ok || bad "mismatch json"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["verified"] is False
e = o["error"]
assert e["stage"] == "measurement" and "index 23" in e["message"], e
m = o["claims"]["gpus"][0]["x-cctrust-mismatched-measurements"][0]
assert m["index"] == 23 and m["rim"] == "driver" and m["rim-id"] == "NV_GPU_DRIVER_GH100_590.12"
assert len(m["actual"]) == 96 and m["actual"] not in m["expected"]
PY
# gpu verify --policy: the attester's NVML statement (cc_mode) is judged however the evidence
# comes in (a file, -, a directory, one of several inputs), never dropped on the way
python3 - "$tmp/sim/evidence-kbs.json" "$tmp" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); t = sys.argv[2]
dev = dict(o, cc_mode="devtools"); json.dump(dev, open(t + "/ev-devtools.json", "w"))
l = o["device_evidence_list"]
json.dump({"device_evidence_list": [l[0]], "cc_mode": "on"}, open(t + "/ev-a.json", "w"))
json.dump({"device_evidence_list": [l[1]], "cc_mode": "devtools"}, open(t + "/ev-b.json", "w"))
PY
mkdir -p "$tmp/devdir" && cp "$tmp/ev-devtools.json" "$tmp/devdir/"
echo '{"version":"cctrust.policy/v1","gpu":{"cc_mode":["on"]}}' >"$tmp/pol-on.json"
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --policy "$tmp/pol-on.json"
expect_rc 1 "$cct" gpu verify "$tmp/ev-devtools.json" --nonce "$n" $trust $coll --policy "$tmp/pol-on.json"
grep -q "gpu.cc_mode" "$tmp/out" && ok || bad "devtools (file) not refused by gpu.cc_mode"
expect_rc 1 "$cct" gpu verify - --nonce "$n" $trust $coll --policy "$tmp/pol-on.json" <"$tmp/ev-devtools.json"
grep -q "gpu.cc_mode" "$tmp/out" && ok || bad "devtools (stdin) not refused by gpu.cc_mode"
expect_rc 1 "$cct" gpu verify "$tmp/devdir" --nonce "$n" $trust $coll --policy "$tmp/pol-on.json"
grep -q "gpu.cc_mode" "$tmp/out" && ok || bad "devtools (directory) not refused by gpu.cc_mode"
"$cct" gpu verify "$tmp/ev-a.json" "$tmp/ev-b.json" --nonce "$n" $trust $coll --policy "$tmp/pol-on.json" --json >"$tmp/j" 2>/dev/null
[ $? -eq 1 ] && ok || bad "devtools (second of two inputs) not refused"
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); f=o['failures']; sys.exit(not (len(f)==1 and f[0]['rule']=='gpu.cc_mode' and f[0]['actual']=='devtools' and 'gpu1' in f[0]['message']))" "$tmp/j" && ok || bad "two inputs: the second's statement is not its own: $(head -c 400 "$tmp/j")"
# gpu.require_measres false tells the GPU module not to look for RIMs, as cctrust verify does:
# without RIMs the evidence is accepted with "rim" skipped (it was refused at collateral)
mkdir -p "$tmp/norims"
echo '{"version":"cctrust.policy/v1","gpu":{"require_measres":false}}' >"$tmp/pol-nomeas.json"
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust --rim-dir "$tmp/norims" --ocsp-dir "$g/ocsp" --offline
"$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust --rim-dir "$tmp/norims" --ocsp-dir "$g/ocsp" --offline --policy "$tmp/pol-nomeas.json" --json >"$tmp/j" 2>/dev/null
[ $? -eq 0 ] && python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['verified'] and 'rim' in o['checks_skipped'] and all(g['measres']=='skipped' for g in o['claims']['gpus'])))" "$tmp/j" && ok || bad "require_measres false: RIMs still required by gpu verify --policy: $(head -c 300 "$tmp/j")"
# one RIM on its own
expect_rc 0 "$cct" gpu rim verify "$g/rims/NV_GPU_DRIVER_GH100_590.12.xml" --rim-root "$g/rim-root.pem" --ocsp --ocsp-dir "$g/ocsp" --offline
expect_rc 1 "$cct" gpu rim verify "$g/rims/NV_GPU_DRIVER_GH100_590.12.xml"
# a RIM accepted under an overriding root, without OCSP: both said, in JSON and in text
rim=$g/rims/NV_GPU_DRIVER_GH100_590.12.xml
"$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem" --json >"$tmp/j" 2>"$tmp/err"
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['verified'] and o['checks_skipped']==['ocsp'] and o['simulated'] is True and o['insecure']==['simulated-root']))" "$tmp/j" && ok || bad "rim json does not list ocsp skipped / simulated root: $(head -c 300 "$tmp/j")"
"$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem" --ocsp --ocsp-dir "$g/ocsp" --offline --json >"$tmp/j"
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['verified'] and o['checks_skipped']==[]))" "$tmp/j" && ok || bad "rim json with OCSP lists a skip"
expect_rc 0 "$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem"
grep -q "SIMULATED / UNTRUSTED ROOT" "$tmp/err" && grep -q "checks skipped.*ocsp" "$tmp/err" && ok || bad "rim text hides the root or the skip: $(cat "$tmp/err")"
# refused before any claims: what the options turned off is still listed
"$cct" gpu verify "$tmp/none.json" --nonce "$n" --no-ocsp --no-rim --json >"$tmp/j" 2>/dev/null
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['verified'] is False and o['checks_skipped']==['ocsp','rim']))" "$tmp/j" && ok || bad "refused gpu verify hides --no-ocsp/--no-rim: $(head -c 300 "$tmp/j")"
# refused after claims (another nonce): the skipped list still names --no-rim and --no-ocsp,
# and the measurements opted out of were not compared ("skipped", not "failure")
n2=$(printf '%064d' 0)
"$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n2" $trust $coll --no-ocsp --no-rim --json >"$tmp/j" 2>/dev/null
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); sys.exit(not (o['verified'] is False and o['error']['code']=='nonce' and o['checks_skipped']==['ocsp','rim'] and o['claims']['gpus'][0]['measres']=='skipped'))" "$tmp/j" && ok || bad "gpu verify refused at the nonce hides --no-rim: $(head -c 300 "$tmp/j")"
# a policy cannot judge a RIM alone: refused, not ignored
echo '{"version":"cctrust.policy/v1"}' >"$tmp/pol.json"
expect_rc 2 "$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem" --policy "$tmp/pol.json"
grep -q -- "--policy" "$tmp/err" && ok || bad "rim --policy refusal does not name the option"
python3 - "$g/rims/NV_GPU_DRIVER_GH100_590.12.xml" "$tmp/tampered.xml" <<'PY'
import sys
s = open(sys.argv[1]).read()
k = 'index="7" active="True" alternatives="1" ns2:Hash0="'
i = s.index(k) + len(k)
s = s[:i] + ("1" if s[i] != "1" else "2") + s[i + 1:]
open(sys.argv[2], "w").write(s)
PY
expect_rc 1 "$cct" gpu rim verify "$tmp/tampered.xml" --rim-root "$g/rim-root.pem"
grep -qi "signature" "$tmp/out" && ok || bad "tampered RIM refusal not named"

# an option the subcommand does not read is refused (exit 2, named), never accepted and ignored
foreign_opt() { # WANT-IN-MESSAGE gpu-args...
	local want=$1
	shift
	expect_rc 2 "$cct" gpu "$@"
	grep -q -- "$want" "$tmp/err" && ok || bad "gpu $*: refusal does not say '$want': $(cat "$tmp/err")"
}
expect_rc 0 "$cct" gpu show "$tmp/sim/evidence-kbs.json" --json
foreign_opt "gpu show: --nonce does not apply" show "$tmp/sim/evidence-kbs.json" --nonce "$n"
foreign_opt "gpu rim verify: --nonce does not apply" rim verify "$rim" --rim-root "$g/rim-root.pem" --nonce "$n"
foreign_opt "gpu rim verify: --no-rim does not apply" rim verify "$rim" --rim-root "$g/rim-root.pem" --no-rim
foreign_opt "gpu rim verify: --rim-dir does not apply" rim verify "$rim" --rim-root "$g/rim-root.pem" --rim-dir "$g/rims"
foreign_opt "gpu rim verify: --expected-count does not apply" rim verify "$rim" --rim-root "$g/rim-root.pem" --expected-count 2
foreign_opt "gpu rim verify: --ocsp and --no-ocsp contradict" rim verify "$rim" --rim-root "$g/rim-root.pem" --ocsp --ocsp-dir "$g/ocsp" --offline --no-ocsp
expect_rc 0 "$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem" --no-ocsp
# rim verify reads OCSP sources only with --ocsp: without it they were accepted and ignored
foreign_opt "gpu rim verify: --ocsp-dir is read only with --ocsp" rim verify "$rim" --rim-root "$g/rim-root.pem" --ocsp-dir "$g/ocsp"
foreign_opt "gpu rim verify: --allow-hold is read only with --ocsp" rim verify "$rim" --rim-root "$g/rim-root.pem" --allow-hold
foreign_opt "gpu rim verify: --cache-dir is read only with --ocsp" rim verify "$rim" --rim-root "$g/rim-root.pem" --no-ocsp --cache-dir "$tmp/cache"
foreign_opt "gpu rim verify: --ocsp-url is read only with --ocsp" rim verify "$rim" --rim-root "$g/rim-root.pem" --ocsp-url http://127.0.0.1:9/
foreign_opt "gpu verify: --ocsp and --no-ocsp contradict" verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --ocsp --no-ocsp
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --ocsp
# an --expected-arch no device has is a typo (exit 2), not a rejection of the evidence (exit 1)
foreign_opt "--expected-arch: 'H100' is not HOPPER, BLACKWELL or LS10" verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --expected-arch H100
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$n" $trust $coll --expected-arch hopper
# standard input read once: --policy - beside the input - is refused (the evidence read empty)
foreign_opt "gpu verify: --policy - and the input - both name standard input" verify - --nonce "$n" $trust $coll --policy - <"$tmp/pol-on.json"
# --trust-sim: the sim has no responders (as cctrust verify --trust-sim); an OCSP response not
# current at --at is named as such, not "no OCSP responder URL (no AIA)" after a network try
"$cct" sim init "$tmp/sim2" >/dev/null 2>&1 && "$cct" sim tee-key >"$tmp/tee.jwk" &&
"$cct" sim evidence "$tmp/sim2" --tee snp --gpus 1 --nonce AAAA --tee-pubkey "$tmp/tee.jwk" -o "$tmp/req2.json" &&
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); json.dump(json.loads(r['tee-evidence']['additional_evidence'])['nvidia'], open(sys.argv[2],'w'))" "$tmp/req2.json" "$tmp/ev2.json" || bad "sim2 evidence"
expect_rc 0 "$cct" gpu verify "$tmp/ev2.json" --no-nonce --trust-sim "$tmp/sim2"
"$cct" gpu verify "$tmp/ev2.json" --no-nonce --trust-sim "$tmp/sim2" --at "$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)" --json >"$tmp/j" 2>/dev/null
python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['error']; sys.exit(not (e['stage']=='revocation' and 'is not current at' in e['message']))" "$tmp/j" && ok || bad "trust-sim goes to the network: $(head -c 300 "$tmp/j")"
# a RIM over its 4 MiB cap is refused as it is read (it was read up to 64 MiB first)
head -c $((5 << 20)) /dev/zero | expect_rc 2 "$cct" gpu rim verify - --rim-root "$g/rim-root.pem"
grep -q "4194304-byte limit" "$tmp/out" && ok || bad "rim cap not applied on read: $(cat "$tmp/out")"
# --each --json: an input that ends the run (an empty directory) has its line too
mkdir -p "$tmp/emptyd"
"$cct" gpu verify --each "$tmp/sim/evidence-kbs.json" "$tmp/emptyd" --nonce "$n" $trust $coll --json >"$tmp/j" 2>/dev/null
[ $? -eq 2 ] && python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; sys.exit(not (len(l)==2 and l[0]['verified'] and l[1]['verified'] is False and 'holds no input files' in l[1]['error']['message']))" "$tmp/j" && ok || bad "--each --json drops the empty directory: $(cat "$tmp/j" | cut -c1-200)"
# what rim verify does read stays accepted
expect_rc 0 "$cct" gpu rim verify "$rim" --rim-root "$g/rim-root.pem" --ocsp --ocsp-dir "$g/ocsp" --offline --allow-hold --cache-dir "$tmp/cache"
expect_rc 0 "$cct" gpu rim verify "$rim" --trust-sim "$tmp/sim" --ocsp --offline --json

echo "gpu sim e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
