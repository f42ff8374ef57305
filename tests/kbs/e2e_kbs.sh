#!/bin/bash
# cctrustd over real HTTP on 127.0.0.1 with the guest and admin clients (`cctrust kbs`):
# success, refusal with the RFC 7807 reason, admin auth, audit, TLS, loopback-only plain HTTP.
. "$(dirname "$0")/lib.sh"
setup_keys

start_d a --store "sqlite:$T/a.db" --admin-pubkey "$T/admin.pub" \
	--insecure-sample-tee "$T/sample" --master-key "$T/master.key"
U=$URL_a
printf 'model-key-0123' >"$T/secret"

"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" default/key/llm "$T/secret" >/dev/null
check "admin put-resource" 0 $?
"$CLI" kbs put-resource --url "$U" --admin-key "$T/rogue.key" default/key/llm "$T/secret" >"$T/out" 2>/dev/null
check "admin call with a wrong key refused" 1 $?
grep -q 'errors/AdminAuth' "$T/out" && ok "wrong key: AdminAuth problem" || bad "wrong key: AdminAuth problem"
curl -s -o "$T/out" -w '%{http_code}' -X POST --data-binary @"$T/secret" "$U/kbs/v0/resource/default/key/x" >"$T/code"
[ "$(cat "$T/code")" = 401 ] && grep -q AdminAuth "$T/out" && ok "admin call without a key refused" || bad "admin call without a key"

"$CLI" kbs get-resource --url "$U" --insecure-sample-attester "$T/sample" default/key/llm -o "$T/got"
check "guest get-resource (EC tee key)" 0 $?
cmp -s "$T/secret" "$T/got" && ok "secret matches" || bad "secret differs"
"$CLI" kbs get-resource --url "$U" --insecure-sample-attester "$T/sample" --key rsa default/key/llm >"$T/got2"
check "guest get-resource (RSA tee key)" 0 $?
cmp -s "$T/secret" "$T/got2" && ok "secret matches (RSA)" || bad "secret differs (RSA)"

# evidence signed by an attester the broker does not trust: refused, reason printed
"$CLI" kbs get-resource --url "$U" --insecure-sample-attester "$T/rogue-sample" default/key/llm >"$T/out" 2>"$T/err"
check "untrusted evidence refused" 1 $?
grep -q 'errors/AttestationError' "$T/out" && ok "refusal is RFC 7807 AttestationError" || bad "refusal body: $(cat "$T/out")"

# resource policy deny
cat >"$T/policy.json" <<'EOF'
{"version":1,"rules":[{"name":"prod-only","resources":["default/key/*"],
 "require":[{"claim":"/submods/cpu0/ear.veraison.annotated-evidence/sample/svn","equals":7}]}]}
EOF
"$CLI" kbs set-policy --url "$U" --admin-key "$T/admin.key" --resource default/key/llm "$T/policy.json" >/dev/null
check "set-policy" 0 $?
"$CLI" kbs get-resource --url "$U" --insecure-sample-attester "$T/sample" default/key/llm >"$T/out" 2>/dev/null
check "resource policy deny" 1 $?
grep -q 'PolicyDeny' "$T/out" && grep -q 'prod-only' "$T/out" && ok "deny names the rule" || bad "deny body: $(cat "$T/out")"

"$CLI" kbs audit --url "$U" --admin-key "$T/admin.key" >"$T/audit"
check "audit" 0 $?
[ "$(jq '[.[] | select(.event=="release" and .outcome=="released")] | length' "$T/audit")" = 2 ] &&
	ok "audit: two releases" || bad "audit releases: $(cat "$T/audit")"
[ "$(jq '[.[] | select(.event=="release" and .outcome=="denied")] | length' "$T/audit")" -ge 1 ] &&
	ok "audit: denial recorded" || bad "audit denial"
grep -q 'model-key-0123' "$T/audit" "$T/a.log" "$T/a.db" && bad "secret leaked to audit/log/db" || ok "secret never in audit, log or database"

curl -sf "$U/healthz" >/dev/null && ok healthz || bad healthz
curl -sf "$U/readyz" >/dev/null && ok readyz || bad readyz
curl -sf "$U/metrics" | grep -q 'cctrustd_releases_total 2' && ok "metrics count releases" || bad metrics
curl -sf "$U/.well-known/jwks.json" | jq -e '.keys[0].kty=="EC"' >/dev/null && ok jwks || bad jwks

# plain HTTP is refused on a non-loopback address, TLS works
"$D" --store "sqlite:$T/b.db" --listen 0.0.0.0:0 --admin-pubkey "$T/admin.pub" --master-key "$T/master.key" 2>"$T/b.log"
check "plain HTTP on 0.0.0.0 refused" 2 $?
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
start_d tls --store "sqlite:$T/c.db" --admin-pubkey "$T/admin.pub" --insecure-sample-tee "$T/sample" \
	--master-key "$T/master.key" --tls-cert "$T/tls.crt" --tls-key "$T/tls.key"
UT=${URL_tls/http:/https:}
"$CLI" kbs put-resource --url "$UT" --cacert "$T/tls.crt" --admin-key "$T/admin.key" a/b/c "$T/secret" >/dev/null
check "TLS admin put" 0 $?
"$CLI" kbs get-resource --url "$UT" --cacert "$T/tls.crt" --insecure-sample-attester "$T/sample" a/b/c >"$T/got3"
check "TLS guest get-resource" 0 $?
cmp -s "$T/secret" "$T/got3" && ok "TLS secret matches" || bad "TLS secret differs"
"$CLI" kbs get-resource --url "$UT" --insecure-sample-attester "$T/sample" a/b/c >/dev/null 2>&1
check "TLS with an unknown server certificate refused" 2 $?

echo "$fails failure(s)"
[ "$fails" = 0 ]
