#!/bin/bash
# The KBS flow against PostgreSQL with two cctrustd replicas sharing one database, over the REAL
# composite path (--trust-sim + simulated SNP evidence): a secret written through replica A is
# released by replica B; a session opened on A attests on B (shared sessions and nonces); a
# nonce consumed on one replica is refused on the other; both replicas publish the same EAR key
# (sealed in the shared store), so a token issued by B releases on A.
# Runs only when CCT_PG_URL is set (e.g. postgres://user@127.0.0.1/db); skipped otherwise.
. "$(dirname "$0")/lib.sh"
if [ -z "${CCT_PG_URL:-}" ]; then
	echo "SKIP: CCT_PG_URL not set (local server: CCT_PG_URL=\$(bash scripts/ci-postgres.sh))"
	exit 77
fi
setup_keys
psql "$CCT_PG_URL" -qc 'DROP TABLE IF EXISTS sessions, objects, audit, cctrust_schema' >/dev/null 2>&1
ARGS=(--store "$CCT_PG_URL" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim"
	--master-key "$T/master.key")
# both replicas start at once: they race to create the EAR key and must agree on one
launch_d a "${ARGS[@]}"
launch_d b "${ARGS[@]}"
wait_d a
wait_d b
printf 'shared-secret' >"$T/secret"
"$CLI" kbs put-resource --url "$URL_a" --admin-key "$T/admin.key" pg/key/one "$T/secret" >/dev/null
check "write through replica A" 0 $?
"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" pg/key/one >"$T/got"
check "release through replica B (composite verification)" 0 $?
cmp -s "$T/secret" "$T/got" && ok "secret matches" || bad "secret differs"
"$CLI" kbs get-resource --url "$URL_b" --sim "$T/rogue-sim" pg/key/one >/dev/null 2>&1
check "untrusted evidence refused on B" 1 $?
curl -sf "$URL_a/.well-known/jwks.json" >"$T/jwks-a"
curl -sf "$URL_b/.well-known/jwks.json" | cmp -s - "$T/jwks-a" && ok "replicas publish the same EAR key" ||
	bad "replicas have different EAR keys"

# session opened on A, attested on B, resource from A; replay of the attest on A refused
tee_key A
nonce=$(auth "$URL_a" "$T/jar")
evidence "$nonce" A "$T/body"
code=$(attest "$URL_b" "$T/jar" "$T/body" "$T/tok")
[ "$code" = 200 ] && ok "session from A attests on B" || bad "attest on B: $code $(cat "$T/tok")"
code=$(curl -s -o "$T/res" -w '%{http_code}' -b "$T/jar" "$URL_a/kbs/v0/resource/pg/key/one")
[ "$code" = 200 ] && "$CLI" kbs decrypt --key "$T/A.pem" "$T/res" | cmp -s - "$T/secret" &&
	ok "attested session releases on A" || bad "resource on A: $code"
code=$(attest "$URL_a" "$T/jar" "$T/body" "$T/rep")
[ "$code" = 401 ] && ok "nonce replay refused on the other replica" || bad "replay on A: $code"
code=$(curl -s -o "$T/res2" -w '%{http_code}' -H "Authorization: Bearer $(jq -r .token "$T/tok")" \
	"$URL_a/kbs/v0/resource/pg/key/one")
[ "$code" = 200 ] && ok "EAR issued by B accepted as Bearer on A" || bad "bearer across replicas: $code"
"$CLI" kbs audit --url "$URL_a" --admin-key "$T/admin.key" >"$T/audit"
[ "$(jq '[.[] | select(.outcome=="released")] | length' "$T/audit")" -ge 3 ] &&
	ok "shared audit log seen from A" || bad "audit"
echo "$fails failure(s)"
[ "$fails" = 0 ]
