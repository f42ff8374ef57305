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
# a schema of its own (search_path in the URL): runs sharing one database never meet
SCHEMA=cct_e2e_$$_$RANDOM
psql "$CCT_PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null || { echo "FAIL create schema"; exit 1; }
case "$CCT_PG_URL" in *\?*) sep='&' ;; *) sep='?' ;; esac
BASE_PG_URL=$CCT_PG_URL
CCT_PG_URL="${CCT_PG_URL}${sep}options=-csearch_path%3D$SCHEMA"
drop_schema() { psql "$BASE_PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; }
trap 'cleanup; drop_schema' EXIT
# the URL (with its password) from a file, not the command line; loopback test database:
# --pg-insecure (production needs sslmode=verify-full)
printf '%s\n' "$CCT_PG_URL" >"$T/pg.url"
chmod 600 "$T/pg.url"
"$D" --store postgres --pg-url-file "$T/pg.url" --listen 127.0.0.1:0 --admin-pubkey "$T/admin.pub" \
	--master-key "$T/master.key" 2>"$T/nossl.log"
check "PostgreSQL without sslmode=verify-full refused" 2 $?
ARGS=(--store postgres --pg-url-file "$T/pg.url" --pg-insecure --admin-pubkey "$T/admin.pub"
	--trust-sim "$T/sim" --master-key "$T/master.key")
# both replicas start at once: they race to create the EAR key and must agree on one
# replica A has a pool of one connection, B of 7: any pool size serves the flows below
launch_d a "${ARGS[@]}" --store-connections 1
launch_d b "${ARGS[@]}" --store-connections 7
wait_d a
wait_d b
for r in a:1 b:7; do
	eval "u=\$URL_${r%%:*}"
	curl -s "$u/metrics" | grep -q "^cctrustd_limit{name=\"store_connections\"} ${r#*:}\$"
	check "replica ${r%%:*}: a pool of ${r#*:} PostgreSQL connections" 0 $?
done
set_policies "$URL_a"
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

# session opened on A, attested on B, resource from A; evidence replayed on A refused
tee_key A
nonce=$(auth "$URL_a" "$T/jar")
evidence "$nonce" A "$T/body"
code=$(attest "$URL_b" "$T/jar" "$T/body" "$T/tok")
[ "$code" = 200 ] && ok "session from A attests on B" || bad "attest on B: $code $(cat "$T/tok")"
code=$(curl -s -o "$T/res" -w '%{http_code}' -b "$T/jar" "$URL_a/kbs/v0/resource/pg/key/one")
[ "$code" = 200 ] && "$CLI" kbs decrypt --key "$T/A.pem" "$T/res" | cmp -s - "$T/secret" &&
	ok "attested session releases on A" || bad "resource on A: $code"
# the attested session gets its own token back on A (as Trustee); the evidence replayed under
# another session opened on A is refused (its nonce is not that session's)
code=$(attest "$URL_a" "$T/jar" "$T/body" "$T/rep")
[ "$code" = 200 ] && [ "$(jq -r .token "$T/rep")" = "$(jq -r .token "$T/tok")" ] &&
	ok "re-attest on the other replica returns the session's token" || bad "re-attest on A: $code"
auth "$URL_a" "$T/jar2" >/dev/null
code=$(attest "$URL_a" "$T/jar2" "$T/body" "$T/rep2")
[ "$code" = 401 ] && ok "evidence replayed under another session refused" || bad "replay on A: $code"
code=$(curl -s -o "$T/res2" -w '%{http_code}' -H "Authorization: Bearer $(jq -r .token "$T/tok")" \
	"$URL_a/kbs/v0/resource/pg/key/one")
[ "$code" = 200 ] && ok "EAR issued by B accepted as Bearer on A" || bad "bearer across replicas: $code"
"$CLI" kbs audit --url "$URL_a" --admin-key "$T/admin.key" >"$T/audit"
[ "$(jq '[.[] | select(.outcome=="released")] | length' "$T/audit")" -ge 3 ] &&
	ok "shared audit log seen from A" || bad "audit"
# deletions: through the admin API on A, B (which read the secret) takes it as gone (the
# tombstone); deleted in PostgreSQL by a writer, B refuses it for its integrity
"$CLI" kbs put-resource --url "$URL_a" --admin-key "$T/admin.key" pg/key/del "$T/secret" >/dev/null &&
	"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" pg/key/del >/dev/null
check "pg/key/del written on A, released by B" 0 $?
psql "$CCT_PG_URL" -qc "DELETE FROM objects WHERE kind = 'resource' AND name = 'pg/key/del'" >/dev/null || bad "psql delete"
"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" pg/key/del >"$T/out" 2>/dev/null
check "secret deleted in PostgreSQL: nothing released by B" 1 $?
grep -q integrity "$T/out" && ok "secret deleted in PostgreSQL refused for its integrity" || bad "pg deletion: $(cat "$T/out")"
"$CLI" kbs put-resource --url "$URL_a" --admin-key "$T/admin.key" pg/key/del "$T/secret" >/dev/null &&
	"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" pg/key/del >/dev/null
check "written again on A (a newer generation): released by B" 0 $?
"$CLI" kbs delete-resource --url "$URL_a" --admin-key "$T/admin.key" pg/key/del >/dev/null
check "deleted through A" 0 $?
"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" pg/key/del >"$T/out" 2>/dev/null
check "deleted through A: nothing released by B" 1 $?
grep -q 'not found' "$T/out" && ! grep -q integrity "$T/out" && ok "deleted through A: not found on B, no integrity alarm" ||
	bad "deleted through A, on B: $(cat "$T/out")"
# issue 11: a database writer without the master key cannot mint a session
tee_key X
injection_cookie "$URL_b"
psql "$CCT_PG_URL" -qc "$(injection_sql "$INJ_COOKIE" "$T/X.jwk")" >/dev/null || bad "psql insert"
injection_check "$URL_b" pg/key/one
psql "$CCT_PG_URL" -qc "UPDATE objects SET value = convert_to('$(cat "$T/res-default.json")', 'UTF8') WHERE kind = 'resource-policy'" >/dev/null
code=$(curl -s -o "$T/res3" -w '%{http_code}' -H "Authorization: Bearer $(jq -r .token "$T/tok")" \
	"$URL_a/kbs/v0/resource/pg/key/one")
[ "$code" = 500 ] && grep -q integrity "$T/res3" && ok "policy row rewritten in PostgreSQL refused" || bad "tampered pg policy: $code $(cat "$T/res3")"
# the session cap on PostgreSQL: a session whose nonce was spent and whose row the cap evicted
# before it expired is not fresh again (its challenge is older than the recorded horizon)
tee_key C
spend_session() { # URL JAR: auth, then a refused attest (untrusted evidence) spends the nonce
	local n
	n=$(auth "$1" "$2")
	"$CLI" sim evidence "$T/rogue-sim" --tee snp --nonce "$n" --tee-pubkey "$T/C.jwk" -o "$2.rogue"
	evidence "$n" C "$2.body"
	[ "$(attest "$1" "$2" "$2.rogue" "$2.r")" = 401 ] || bad "rogue evidence: $(cat "$2.r")"
}
spend_session "$URL_a" "$T/jarC"
sleep 1.1
spend_session "$URL_a" "$T/jarD" # newer: the one row a cap of 1 keeps
start_d c "${ARGS[@]}" --max-sessions 1 --prune-interval 1
sleep 1.5
[ "$(psql "$CCT_PG_URL" -tAc 'SELECT count(*) FROM sessions')" -le 1 ] && ok "session cap applied on PostgreSQL" ||
	bad "session rows: $(psql "$CCT_PG_URL" -tAc 'SELECT count(*) FROM sessions')"
h=$(psql "$CCT_PG_URL" -tAc "SELECT convert_from(value, 'UTF8') FROM objects WHERE kind = 'session-horizon'")
[ -n "$h" ] && ok "cap recorded its eviction horizon ($h)" || bad "no session horizon row"
code=$(attest "$URL_b" "$T/jarC" "$T/jarC.body" "$T/rC")
[ "$code" = 401 ] && grep -q 'evicted' "$T/rC" && ok "spent, evicted session not fresh again (genuine evidence refused)" ||
	bad "evicted session: $code $(cat "$T/rC")"
code=$(attest "$URL_b" "$T/jarD" "$T/jarD.body" "$T/rD")
[ "$code" = 401 ] && grep -q 'nonce already used' "$T/rD" && ok "the kept spent session still refused" ||
	bad "kept session: $code $(cat "$T/rD")"
echo "$fails failure(s)"
[ "$fails" = 0 ]
