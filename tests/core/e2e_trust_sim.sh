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
# its roots are not replaced by a second init without --force
ark=$(sha256sum <"$tmp/sim/snp/ark.pem")
expect 2 sim-init-again "$cct" sim init "$tmp/sim"
[ "$(sha256sum <"$tmp/sim/snp/ark.pem")" = "$ark" ] && ok || bad "sim init replaced the ARK"

# SNP: raw report + GHCB certificate table
"$cct" sim report "$tmp/sim" --report-data "$(printf '%0128d' 0)" -o "$tmp/r.bin" "$tmp/t.bin"
expect 0 snp-trusted "$cct" snp verify "$tmp/r.bin" --cert-table "$tmp/t.bin" --trust-sim "$tmp/sim" --offline
expect 1 snp-untrusted "$cct" snp verify "$tmp/r.bin" --cert-table "$tmp/t.bin" --offline --no-crl
# an extended report (report + certificate table) as hex text is hex: it was read as base64
# (longer than a report) and rejected for its VERSION field
python3 -c "import sys; open(sys.argv[3], 'w').write((open(sys.argv[1], 'rb').read() + open(sys.argv[2], 'rb').read()).hex() + '\n')" \
	"$tmp/r.bin" "$tmp/t.bin" "$tmp/ext.hex"
expect 0 snp-extended-report-hex "$cct" snp verify "$tmp/ext.hex" --trust-sim "$tmp/sim" --offline
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['verified'] and o['simulated'] and 'simulated-root' in o['insecure'] and o['crl_checked']" && ok || bad "snp json marks simulated"
# every check not performed is listed: no --report-data -> report_data (JSON and stderr)
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['checks_skipped']==['report_data'], o['checks_skipped']" && ok || bad "snp checks_skipped report_data"
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline --report-data "$(printf '%0128d' 0)" --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['verified'] and o['checks_skipped']==[]" && ok || bad "snp nothing skipped with --report-data"
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline --no-crl --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['checks_skipped']==['report_data','crl'], o['checks_skipped']" && ok || bad "snp checks_skipped crl"
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline 2>"$tmp/e" >/dev/null
grep -q "checks skipped.*: report_data" "$tmp/e" && ok || bad "snp text: checks skipped on stderr: $(cat "$tmp/e")"

# sim evidence refuses a request the verifier would refuse later: --nonce not base64 (or
# empty), --tee-pubkey not a usable public JWK; exit 2 naming the option, nothing written
printf '{"kid":"k1"}' >"$tmp/notjwk.json"
python3 -c "import json; k=json.load(open('$tmp/tee.jwk')); k['x']=k['y']; json.dump(k, open('$tmp/offcurve.jwk','w'))"
# a JWK with its private key: the attestation result (a bearer token) would carry it
python3 -c "import json; k=json.load(open('$tmp/tee.jwk')); k['d']='AAAA'; json.dump(k, open('$tmp/private.jwk','w'))"
for c in "--nonce|not*base64!|--tee-pubkey $tmp/tee.jwk" "--nonce||--tee-pubkey $tmp/tee.jwk" \
	"--tee-pubkey|$tmp/notjwk.json|--nonce $nonce" "--tee-pubkey|$tmp/offcurve.jwk|--nonce $nonce" \
	"--tee-pubkey|$tmp/private.jwk|--nonce $nonce"; do
	opt=${c%%|*}; rest=${c#*|}; val=${rest%%|*}; other=${rest#*|}
	rm -f "$tmp/bad-req.json"
	# shellcheck disable=SC2086
	"$cct" sim evidence "$tmp/sim" --tee snp $other "$opt" "$val" -o "$tmp/bad-req.json" >/dev/null 2>"$tmp/e"; rc=$?
	[ $rc = 2 ] && [ ! -e "$tmp/bad-req.json" ] && grep -q -- "$opt" "$tmp/e" && ok ||
		bad "sim evidence $opt '$val': want exit 2 naming $opt, got $rc: $(head -c 200 "$tmp/e")"
done
# ... while the valid forms still work: standard and URL-safe base64, with or without padding
for n in "$nonce" "$(printf '%s' "$nonce" | tr '+/' '-_' | tr -d '=')" AAAA 6368616c6c656e6765; do
	expect 0 "sim-evidence-nonce $n" "$cct" sim evidence "$tmp/sim" --tee snp --nonce "$n" --tee-pubkey "$tmp/tee.jwk" -o "$tmp/ok-req.json"
done

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
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['checks_skipped']==['report_data'], o['checks_skipped']" && ok || bad "tdx checks_skipped"
# --quote-only on a real quote (Intel chain): accepted, but TCB, revocation and binding skipped
"$cct" tdx verify "${CCT_VECTORS:?}/tdx/phala-dcap-qvl/sample/tdx_quote" --quote-only --json > "$tmp/j"
python3 -c "import json;o=json.load(open('$tmp/j'));assert o['accepted'] and o['checks_skipped']==['report_data','crl','tcb'], o" && ok || bad "tdx --quote-only lists skipped checks"
"$cct" tdx verify "${CCT_VECTORS:?}/tdx/phala-dcap-qvl/sample/tdx_quote" --quote-only 2>"$tmp/e" >/dev/null
grep -q "checks skipped.*report_data, crl, tcb" "$tmp/e" && ok || bad "tdx text: checks skipped on stderr: $(cat "$tmp/e")"

# GPU: the simulated H100's evidence, bound to the GPU nonce of the request
gn=$(cat "$tmp/gpu_nonce")
expect 0 gpu-trusted "$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$gn" --offline
expect 1 gpu-untrusted "$cct" gpu verify "$tmp/gpu.json" --nonce "$gn" --offline --no-ocsp --no-rim
"$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$gn" --offline --json > "$tmp/j"
python3 -c "
import json; o=json.load(open('$tmp/j')); g=o['claims']['gpus'][0]
assert o['verified'] and o['simulated'] is True and o['claims']['x-cctrust-simulated'] is True
assert g['x-cctrust-device-root']=='untrusted-override' and g['x-nvidia-gpu-driver-rim-root']=='untrusted-override'
assert o['checks_skipped']==[] and o['freshness']=='established' and o['insecure']==['simulated-root']" && ok || bad "gpu json marks simulated (untrusted root)"
"$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$gn" --offline 2>"$tmp/e" >/dev/null
grep -q "SIMULATED / UNTRUSTED ROOT" "$tmp/e" && ok || bad "gpu text marks simulated: $(cat "$tmp/e")"
expect 1 gpu-wrong-nonce "$cct" gpu verify "$tmp/gpu.json" --trust-sim "$tmp/sim" --nonce "$(printf '%064d' 0)" --offline
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
