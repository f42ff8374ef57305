#!/bin/bash
# The single-evidence verifiers accept the simulated TEE of `cctrust sim init DIR` only with
# --trust-sim DIR, and mark the result simulated; without it the same evidence is refused.
set -u
cct=${CCT_CLI:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect() { local want=$1 name=$2; shift 2; "$@" >"$tmp/out" 2>&1; local rc=$?; [ $rc -eq "$want" ] && ok || bad "$name: want $want got $rc: $(head -c 300 "$tmp/out")"; }
"$cct" sim init "$tmp/sim" >/dev/null || { echo "sim init failed"; exit 1; }
"$cct" sim tee-key -o "$tmp/tee.pem" > "$tmp/tee.jwk"
nonce=$(head -c 32 /dev/urandom | base64)

# SNP: raw report + GHCB certificate table
"$cct" sim report "$tmp/sim" --report-data "$(printf '%0128d' 0)" -o "$tmp/r.bin" "$tmp/t.bin"
expect 0 snp-trusted "$cct" snp verify "$tmp/r.bin" --cert-table "$tmp/t.bin" --trust-sim "$tmp/sim" --offline
expect 1 snp-untrusted "$cct" snp verify "$tmp/r.bin" --cert-table "$tmp/t.bin" --offline --no-crl
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['verified'] and o['simulated'] and 'simulated-root' in o['insecure'] and o['crl_checked']" && ok || bad "snp json marks simulated"

# TDX: the quote of a simulated request
"$cct" sim evidence "$tmp/sim" --tee tdx --gpus 1 --nonce "$nonce" --tee-pubkey "$tmp/tee.jwk" -o "$tmp/req.json"
python3 - "$tmp" "$nonce" <<'PY'
import base64, hashlib, json, sys
d, nonce = sys.argv[1], sys.argv[2]
r = json.load(open(d + "/req.json"))
open(d + "/quote.bin", "wb").write(base64.b64decode(r["tee-evidence"]["primary_evidence"]["quote"]))
gpu = json.loads(r["tee-evidence"]["additional_evidence"])["nvidia"]
json.dump({"device_evidence_list": gpu["device_evidence_list"]}, open(d + "/gpu.json", "w"))
rt = {"nonce": nonce, "tee-pubkey": r["runtime-data"]["tee-pubkey"]}
jcs = json.dumps(rt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
open(d + "/gpu_nonce", "w").write(hashlib.sha384(jcs).hexdigest()[:64])
PY
expect 0 tdx-trusted "$cct" tdx verify "$tmp/quote.bin" --trust-sim "$tmp/sim" --offline
expect 1 tdx-untrusted "$cct" tdx verify "$tmp/quote.bin" --quote-only --offline
"$cct" tdx verify "$tmp/quote.bin" --trust-sim "$tmp/sim" --offline --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['claims']['simulated'] is True" && ok || bad "tdx json marks simulated"

# GPU: the simulated H100's evidence, bound to the GPU nonce of the request
gn=$(cat "$tmp/gpu_nonce")
expect 0 gpu-trusted "$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$gn" --offline
expect 1 gpu-untrusted "$cct" gpu verify "$tmp/gpu.json" --nonce "$gn" --offline --no-ocsp --no-rim
expect 1 gpu-wrong-nonce "$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$(printf '%064d' 0)" --offline
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
