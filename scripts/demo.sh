#!/bin/bash
# `make demo`: the whole story on a simulated confidential VM, self-contained and offline.
#   1. a simulated TEE (AMD-shaped SNP PKI made here, never trusted unless --trust-sim)
#   2. the guest builds a KBS 0.4.0 attest request for the broker's nonce and its own key
#   3. composite verification + policy -> a signed EAR token (Trustee's profile)
#   4. the token verified against the verifier's JWKS, its claims printed
#   5. a tampered request (another TEE key swapped in) refused with its reason
set -u
C=${1:-build/cctrust}
[[ -x $C ]] || { echo "usage: scripts/demo.sh BUILD/cctrust (build first: make build)"; exit 2; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. A simulated TEE (test roots generated now; results are marked simulated)"
run "$C" sim init "$D/sim"

say "2. The guest: a TEE key, the broker's nonce, init-data naming the model, the request"
"$C" sim tee-key -o "$D/tee.pem" >"$D/tee.jwk" && cat "$D/tee.jwk"
NONCE=$(head -c 32 /dev/urandom | base64)
echo "nonce from POST /kbs/v0/auth: $NONCE"
ROOT=$(printf '%s' "demo-model" | sha256sum | cut -c1-64)
cat >"$D/init.toml" <<TOML
algorithm = "sha384"
version = "0.1.0"

[data]
model = "demo-llm@0123abcd:$ROOT"
TOML
run "$C" sim evidence "$D/sim" --tee snp --nonce "$NONCE" --tee-pubkey "$D/tee.jwk" \
	--init-data "$D/init.toml" -o "$D/request.json"
python3 -c "import json; r=json.load(open('$D/request.json')); print('request members:', sorted(r), '/ evidence:', sorted(r['tee-evidence']['primary_evidence']))" 2>/dev/null || true

say "3. The verifier: evidence, binding, policy -> EAR token"
M=$(python3 -c "import json; print(json.load(open('$D/sim/sim.json'))['measurement'])")
cat >"$D/policy.json" <<POL
{"version":"cctrust.policy/v1","id":"demo",
 "snp":{"measurements":["$M"],"max_vmpl":0,"min_reported_tcb":{"bootloader":4,"snp":22}},
 "model":{"specs":["demo-llm@0123abcd:$ROOT"]},
 "gpu":{"cc_mode":["on"]}}
POL
run "$C" verify "$D/request.json" --trust-sim "$D/sim" --nonce "$NONCE" --policy "$D/policy.json"
"$C" verify "$D/request.json" --trust-sim "$D/sim" --nonce "$NONCE" --policy "$D/policy.json" \
	--token >"$D/token.jwt" || exit 1
echo "EAR token: $(head -c 72 "$D/token.jwt")..."

say "4. The relying party: verify the token with the verifier's JWKS"
"$C" sim jwks "$D/sim" >"$D/jwks.json"
"$C" token verify "$D/token.jwt" --jwks "$D/jwks.json" --json >"$D/claims.json" || exit 1
python3 - "$D/claims.json" <<'PY' 2>/dev/null || cat "$D/claims.json"
import json, sys
c = json.load(open(sys.argv[1]))['claims']
cpu = c['submods']['cpu0']
ae = cpu['ear.veraison.annotated-evidence']
print('eat_profile   ', c['eat_profile'])
print('cpu0 status   ', cpu['ear.status'], '(simulated)' if cpu.get('cctrust.simulated') else '')
print('trust vector  ', json.dumps(cpu['ear.trustworthiness-vector'], sort_keys=True))
print('measurement   ', ae['snp']['measurement'])
print('model         ', ae['init_data_claims']['data']['model'])
print('tee-pubkey    ', json.dumps(ae['runtime_data_claims']['tee-pubkey']))
PY

say "5. A tampered request: a man in the middle swaps in his own TEE key"
"$C" sim tee-key >"$D/evil.jwk"
python3 -c "
import json; r=json.load(open('$D/request.json')); r['runtime-data']['tee-pubkey']=json.load(open('$D/evil.jwk'))
json.dump(r, open('$D/tampered.json','w'))"
run "$C" verify "$D/tampered.json" --trust-sim "$D/sim" --nonce "$NONCE" --policy "$D/policy.json"
rc=$?
echo "exit status $rc (1 = refused)"
say "and a guest launched with other init-data (another model) is refused by the model rule"
sed -i "s/0123abcd/ffffffff/" "$D/init.toml"
"$C" sim evidence "$D/sim" --nonce "$NONCE" --tee-pubkey "$D/tee.jwk" --init-data "$D/init.toml" -o "$D/other.json"
run "$C" verify "$D/other.json" --trust-sim "$D/sim" --nonce "$NONCE" --policy "$D/policy.json"
[[ $rc == 1 ]] && echo && echo "demo done."
