#!/bin/bash
# cctrustd with Azure paravisor vTPM evidence (loopback, --trust-sim, simulated paravisors):
# sessions with tee "aztdxvtpm" / "azsnpvtpm" (kbs-types' names), with and without GPUs, get the
# secret through the real composite path; an attestation policy on the tdx section (MRTD) and on
# the quoted PCRs refuses by rule name; a request whose session is aztdxvtpm but whose evidence
# is az-snp-vtpm is refused; GPU evidence of another session is refused.
. "$(dirname "$0")/lib.sh"
setup_keys
COMMON=(--admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" --master-key "$T/master.key")
start_d v --store "sqlite:$T/v.db" "${COMMON[@]}"
U=$URL_v
set_policies "$U"
printf 'model-key-vtpm' >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" default/key/llm "$T/secret" >/dev/null ||
	{ echo "put-resource failed"; exit 1; }

for tee in az-tdx-vtpm az-snp-vtpm; do
	for g in 0 2; do
		rm -f "$T/got"
		"$CLI" kbs get-resource --url "$U" --sim "$T/sim" --tee $tee --gpus $g default/key/llm \
			-o "$T/got" --token-out "$T/tok.jwt" 2>"$T/err"
		rc=$?
		[ $rc = 0 ] && cmp -s "$T/got" "$T/secret" && ok "$tee with $g GPU(s): secret released" ||
			bad "$tee with $g GPU(s): exit $rc $(head -c 400 "$T/err")"
	done
done
# the token names the vTPM TEE and the GPUs' submods
python3 - "$T/tok.jwt" <<'PY' && ok "token: az-snp-vtpm cpu0 + gpu0, gpu1" || bad "token claims"
import base64, json, sys
p = open(sys.argv[1]).read().strip().split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
s = c["submods"]
assert sorted(s) == ["cpu0", "gpu0", "gpu1"], sorted(s)
assert all(v["ear.status"] == "affirming" for v in s.values())
PY

# attestation policy: the tdx section on the paravisor's TD quote and vtpm.pcrs on the quote
Z=$(printf '00%.0s' $(seq 48))
printf '{"version":"cctrust.policy/v1","tdx":{"mrtd":["%s"]}}' "$Z" >"$T/att-mrtd.json"
"$CLI" kbs set-attestation-policy --url "$U" --admin-key "$T/admin.key" "$T/att-mrtd.json" >/dev/null
"$CLI" kbs get-resource --url "$U" --sim "$T/sim" --tee az-tdx-vtpm default/key/llm -o "$T/got2" >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && [ ! -s "$T/got2" ] && grep -q 'tdx.mrtd' "$T/out" && ok "policy tdx.mrtd refuses az-tdx-vtpm, named" ||
	bad "tdx.mrtd policy: exit $rc $(head -c 400 "$T/out")"
printf '{"version":"cctrust.policy/v1","vtpm":{"pcrs":{"sha256":{"7":["%s"]}}}}' "$(printf '00%.0s' $(seq 32))" >"$T/att-pcr.json"
"$CLI" kbs set-attestation-policy --url "$U" --admin-key "$T/admin.key" "$T/att-pcr.json" >/dev/null
"$CLI" kbs get-resource --url "$U" --sim "$T/sim" --tee az-tdx-vtpm --gpus 1 default/key/llm -o "$T/got3" >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] && [ ! -s "$T/got3" ] && grep -q 'vtpm.pcrs.sha256.7' "$T/out" && ok "policy vtpm.pcrs refuses, named" ||
	bad "vtpm.pcrs policy: exit $rc $(head -c 400 "$T/out")"
set_policies "$U"

# by hand: a session opened as aztdxvtpm that sends az-snp-vtpm evidence
jar=$T/jar
n=$(curl -s -c "$jar" -H 'Content-Type: application/json' \
	-d '{"version":"0.4.0","tee":"aztdxvtpm","extra-params":{}}' "$U/kbs/v0/auth" | jq -r .nonce)
tee_key k1
"$CLI" sim evidence "$T/sim" --tee az-snp-vtpm --nonce "$n" --tee-pubkey "$T/k1.jwk" -o "$T/mis.json" || exit 1
code=$(attest "$U" "$jar" "$T/mis.json" "$T/mis.out")
[ "$code" != 200 ] && grep -qi 'az-snp-vtpm' "$T/mis.out" && ok "aztdxvtpm session with az-snp-vtpm evidence refused ($code)" ||
	bad "mismatched TEE: $code $(head -c 300 "$T/mis.out")"
# the right evidence on a fresh session: 200
n=$(curl -s -c "$jar" -H 'Content-Type: application/json' \
	-d '{"version":"0.4.0","tee":"aztdxvtpm","extra-params":{}}' "$U/kbs/v0/auth" | jq -r .nonce)
"$CLI" sim evidence "$T/sim" --tee az-tdx-vtpm --gpus 1 --nonce "$n" --tee-pubkey "$T/k1.jwk" -o "$T/ok.json" || exit 1
code=$(attest "$U" "$jar" "$T/ok.json" "$T/ok.out")
[ "$code" = 200 ] && ok "aztdxvtpm session attests over raw HTTP" || bad "raw attest: $code $(head -c 300 "$T/ok.out")"
# GPU evidence of another session bound into this vTPM quote: refused (GPU SPDM nonce)
n=$(curl -s -c "$jar" -H 'Content-Type: application/json' \
	-d '{"version":"0.4.0","tee":"aztdxvtpm","extra-params":{}}' "$U/kbs/v0/auth" | jq -r .nonce)
jq -r '."tee-evidence".additional_evidence' "$T/ok.json" >"$T/add.txt"
"$CLI" sim evidence "$T/sim" --tee az-tdx-vtpm --additional-evidence "$T/add.txt" --nonce "$n" \
	--tee-pubkey "$T/k1.jwk" -o "$T/gx.json" || exit 1
code=$(attest "$U" "$jar" "$T/gx.json" "$T/gx.out")
[ "$code" != 200 ] && grep -q 'SPDM nonce' "$T/gx.out" && ok "GPU evidence of another session refused ($code)" ||
	bad "foreign GPU evidence: $code $(head -c 300 "$T/gx.out")"

echo "$fails failure(s)"
[ $fails = 0 ]
