#!/bin/bash
# `make demo`: the whole key-broker story on one machine, self-contained and offline (< 30 s):
#   1. a simulated confidential VM (AMD-shaped SNP PKI made here, trusted only via --trust-sim)
#   2. cctrustd, the key broker, on SQLite on 127.0.0.1 (random port), with an admin key
#   3. the model owner uploads a model key with an attestation policy and a resource policy
#   4. the guest (`cctrust kbs get-resource`) attests with evidence bound to the broker's nonce
#      and its own key, gets an EAR token and the model key (a JWE only its key opens)
#   5. a tampered request and a guest running another model are refused, with their reasons
#   6. the audit log
set -u
C=${1:-build/cctrust}
[[ -x $C ]] || { echo "usage: scripts/demo.sh BUILD/cctrust (build first: make build)"; exit 2; }
CD=$(dirname "$C")/cctrustd
D=$(mktemp -d)
DPID=
trap '[[ -n $DPID ]] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; rm -rf "$D"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
[[ -x $CD ]] || { echo "cctrustd is not built (libmicrohttpd missing): make deps && make build"; exit 2; }

say "1. A simulated confidential VM (test roots generated now; results are marked simulated)"
"$C" sim init "$D/sim"
M=$(python3 -c "import json; print(json.load(open('$D/sim/sim.json'))['measurement'])")
ROOT=$(printf '%s' "demo-model" | sha256sum | cut -c1-64)
MODEL="demo-llm@0123abcd:$ROOT"
printf 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\nmodel = "%s"\n' "$MODEL" >"$D/init.toml"
echo "guest launch measurement $M"
echo "guest init-data (its SHA-384 is the SNP HOST_DATA): model = \"$MODEL\""

say "2. cctrustd on SQLite, loopback, a fresh admin key"
"$C" kbs admin-keygen "$D/admin.key" "$D/admin.pub"
(umask 077 && head -c 32 /dev/urandom >"$D/master.key") # cctrustd refuses a readable key
ARGS=(--store "sqlite:$D/kbs.db" --listen 127.0.0.1:0 --port-file "$D/port"
	--admin-pubkey "$D/admin.pub" --master-key "$D/master.key" --trust-sim "$D/sim")
printf '$ cctrustd %s\n' "${ARGS[*]}"
"$CD" "${ARGS[@]}" 2>"$D/cctrustd.log" >/dev/null &
DPID=$!
for _ in $(seq 100); do [[ -s $D/port ]] && break; sleep 0.05; done
[[ -s $D/port ]] || { echo "cctrustd did not start:"; cat "$D/cctrustd.log"; exit 1; }
U=http://127.0.0.1:$(cat "$D/port")
echo "listening on $U"

say "3. The model owner: attestation policy, model key, resource policy"
cat >"$D/attestation.json" <<POL
{"version":"cctrust.policy/v1","id":"demo",
 "snp":{"measurements":["$M"],"max_vmpl":0,"min_reported_tcb":{"bootloader":4,"snp":22}},
 "model":{"specs":["$MODEL"]},
 "gpu":{"cc_mode":["on"]}}
POL
cat >"$D/resource.json" <<POL
{"version":1,"rules":[{"name":"demo-llm-only","resources":["demo/model-key/*"],"allow_simulated":true,
 "require":[{"all_submods":"affirming"},
  {"claim":"/submods/cpu0/ear.veraison.annotated-evidence/init_data_claims/data/model","equals":"$MODEL"}]}]}
POL
head -c 32 /dev/urandom >"$D/model.key"
A=(--url "$U" --admin-key "$D/admin.key")
"$C" kbs put-resource "${A[@]}" demo/model-key/llm "$D/model.key" >/dev/null || exit 1
echo "cctrustd fails closed: before an admin sets both policies nothing is released:"
"$C" kbs get-resource --url "$U" --sim "$D/sim" --tee snp --init-data "$D/init.toml" \
	demo/model-key/llm -o /dev/null 2>/dev/null | sed 's/^/  /'
"$C" kbs set-attestation-policy "${A[@]}" "$D/attestation.json" >/dev/null &&
	"$C" kbs set-policy "${A[@]}" --resource demo/model-key/llm "$D/resource.json" >/dev/null || exit 1
echo "attestation policy \"demo\": measurement pinned, model $MODEL, GPUs in CC mode"
echo "model key demo/model-key/llm uploaded (sealed at rest), sha256 $(sha256sum <"$D/model.key" | cut -c1-16)..."
echo "resource policy: every submod affirming AND init-data names the demo model"
echo "  (\"allow_simulated\": true because this demo's TEE is simulated; production policies omit it)"

say "4. The guest: auth -> evidence for the nonce + its own key -> attest -> key (JWE)"
run "$C" kbs get-resource --url "$U" --sim "$D/sim" --tee snp --init-data "$D/init.toml" \
	demo/model-key/llm -o "$D/got.key" --token-out "$D/ear.jwt" || exit 1
cmp -s "$D/model.key" "$D/got.key" && echo "released: model key received and decrypted, sha256 $(sha256sum <"$D/got.key" | cut -c1-16)..." || exit 1
curl -sf "$U/.well-known/jwks.json" >"$D/jwks.json"
"$C" token verify "$D/ear.jwt" --jwks "$D/jwks.json" --json >"$D/claims.json" || exit 1
echo "the EAR token the broker issued (verified against $U/.well-known/jwks.json):"
python3 - "$D/claims.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))['claims']
cpu = c['submods']['cpu0']
ae = cpu['ear.veraison.annotated-evidence']
print('  eat_profile    ', c['eat_profile'])
print('  issuer         ', c['iss'], '/ policy', cpu['ear.appraisal-policy-id'])
print('  cpu0 status    ', cpu['ear.status'], '(simulated TEE)' if cpu.get('cctrust.simulated') else '')
print('  trust vector   ', json.dumps(cpu['ear.trustworthiness-vector'], sort_keys=True))
print('  measurement    ', ae['snp']['measurement'])
print('  model          ', ae['init_data_claims']['data']['model'])
print('  report_data    ', ae['report_data'][:48] + '...  (= SHA-384 of nonce + tee-pubkey)')
print('  tee-pubkey     ', json.dumps(ae['runtime_data_claims']['tee-pubkey']))
PY

say "5a. A man in the middle swaps in his own TEE key (to receive the model key)"
NONCE=$(curl -s -c "$D/jar" -H 'Content-Type: application/json' \
	-d '{"version":"0.4.0","tee":"snp","extra-params":{}}' "$U/kbs/v0/auth" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["nonce"])')
"$C" sim tee-key >"$D/guest.jwk"
"$C" sim tee-key >"$D/evil.jwk"
"$C" sim evidence "$D/sim" --tee snp --nonce "$NONCE" --tee-pubkey "$D/guest.jwk" \
	--init-data "$D/init.toml" -o "$D/request.json"
python3 -c "
import json; r=json.load(open('$D/request.json')); r['runtime-data']['tee-pubkey']=json.load(open('$D/evil.jwk'))
json.dump(r, open('$D/tampered.json','w'))"
code=$(curl -s -o "$D/reply" -w '%{http_code}' -b "$D/jar" -H 'Content-Type: application/json' \
	--data-binary @"$D/tampered.json" "$U/kbs/v0/attest")
echo "POST /kbs/v0/attest -> HTTP $code (refused, as it must be):"
python3 -c "import json; print('  ', json.load(open('$D/reply'))['detail'])"

say "5b. The same guest launched with another model"
sed "s/0123abcd/ffffffff/" "$D/init.toml" >"$D/other.toml"
"$C" kbs get-resource --url "$U" --sim "$D/sim" --init-data "$D/other.toml" demo/model-key/llm \
	>"$D/reply" 2>/dev/null
rc=$?
echo "cctrust kbs get-resource -> exit $rc (1 = refused):"
python3 -c "import json; print('  ', json.load(open('$D/reply'))['detail'])"

say "6. The audit log (every attestation, release and denial; never a secret)"
"$C" kbs audit --url "$U" --admin-key "$D/admin.key" >"$D/audit.json" || exit 1
python3 - "$D/audit.json" <<'PY'
import json, sys, time
for r in json.load(open(sys.argv[1])):
    e = r.get('record', r)
    t = time.strftime('%H:%M:%S', time.gmtime(r.get('time', 0)))
    what = e.get('resource') or ('evidence ' + e['evidence_sha256'][:12]) if e.get('evidence_sha256') or e.get('resource') else ''
    rule = e.get('rule', '')
    print('  %s %-7s %-26s %-20s %-36s %s' % (t, e.get('event'), e.get('outcome'), e.get('who', ''), what,
                                               (rule[:60] + '...') if len(rule) > 60 else rule))
PY
grep -q "$(od -An -tx1 "$D/model.key" | tr -d ' \n' | cut -c1-16)" "$D/audit.json" "$D/cctrustd.log" &&
	{ echo "secret found in the audit log!"; exit 1; }
[[ $code == 401 && $rc == 1 ]] || exit 1
echo
echo "demo done: the model key went to the attested guest only."
