#!/bin/bash
# Crash safety: kill -9 cctrustd during a stream of admin writes and guest releases (real
# composite verification of simulated SNP evidence; one guest's TEE has roots the broker does
# not trust), restart it on the same SQLite file, and assert:
#  1. every acknowledged write is there (and decrypts to what was written);
#  2. nothing is half-written (integrity check; every stored resource decrypts);
#  3. no secret was ever released without a passing attestation (audit log + client results).
. "$(dirname "$0")/lib.sh"
setup_keys
ARGS=(--store "sqlite:$T/db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim"
	--master-key "$T/master.key")
N=${CCT_CRASH_WRITES:-60}
start_d a "${ARGS[@]}"
U=$URL_a
set_policies "$U"
printf 'seed' >"$T/seed"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" crash/key/seed "$T/seed" >/dev/null || exit 1

writer() {
	local i
	for i in $(seq 1 "$N"); do
		printf 'secret-%d-%s' "$i" "$(head -c 512 /dev/urandom | base64 -w0)" >"$T/w$i"
		if "$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" --timeout 5 \
			"crash/key/k$i" "$T/w$i" >/dev/null 2>&1; then
			echo "$i" >>"$T/acked"
		fi
	done
}
guest() { # guest SIM_DIR TAG
	local i
	for i in $(seq 1 "$N"); do
		if "$CLI" kbs get-resource --url "$U" --sim "$1" --timeout 5 \
			crash/key/seed >/dev/null 2>&1; then
			echo "$i" >>"$T/released-$2"
		fi
	done
}
: >"$T/acked"
: >"$T/released-good"
: >"$T/released-rogue"
writer &
w=$!
guest "$T/sim" good &
g1=$!
guest "$T/rogue-sim" rogue &
g2=$!
# let the stream run, then kill -9 in the middle of it
for i in $(seq 1 100); do
	[ "$(wc -l <"$T/acked")" -ge $((N / 3)) ] && break
	sleep 0.05
done
kill -9 "$PID_a"
wait "$w" "$g1" "$g2" 2>/dev/null
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 0 ] && [ "$acked" -lt "$N" ] && ok "killed mid-stream after $acked acknowledged writes" ||
	echo "note: $acked of $N writes acknowledged before the kill"

start_d b "${ARGS[@]}"
U=$URL_b
[ "$(sqlite3 "$T/db" 'PRAGMA integrity_check')" = ok ] && ok "database integrity after kill -9" ||
	bad "integrity_check"
missing=0
for i in $(cat "$T/acked"); do
	"$CLI" kbs get-resource --url "$U" --sim "$T/sim" "crash/key/k$i" \
		-o "$T/r$i" >/dev/null 2>&1 && cmp -s "$T/w$i" "$T/r$i" || missing=$((missing + 1))
done
[ "$missing" = 0 ] && ok "all $acked acknowledged writes present and intact" ||
	bad "$missing acknowledged writes missing or different"
"$CLI" kbs list-resources --url "$U" --admin-key "$T/admin.key" >"$T/list" || bad list
half=0
for r in $(jq -r '.[]' "$T/list"); do
	"$CLI" kbs get-resource --url "$U" --sim "$T/sim" "$r" >/dev/null 2>&1 ||
		half=$((half + 1))
done
[ "$half" = 0 ] && ok "every stored resource ($(jq length "$T/list")) decrypts: nothing half-written" ||
	bad "$half stored resources unreadable"

[ ! -s "$T/released-rogue" ] && ok "untrusted evidence never got a secret" || bad "rogue guest got a secret"
"$CLI" kbs audit --url "$U" --admin-key "$T/admin.key" --limit 1000 >"$T/audit" || bad audit
unbacked=$(jq '[.[] | select(.event=="attest" and .outcome=="affirming") | .who] as $ok |
	[.[] | select(.event=="release" and .outcome=="released") |
	 select((.who | sub("^session:"; "session:")) as $w | ($ok | index($w)) == null)] | length' "$T/audit")
[ "$unbacked" = 0 ] && ok "every audited release follows a passing attestation of the same session" ||
	bad "$unbacked releases without a passing attestation"
rel=$(jq '[.[] | select(.event=="release" and .outcome=="released")] | length' "$T/audit")
good=$(wc -l <"$T/released-good")
[ "$rel" -ge "$good" ] && ok "audit has $rel releases for $good acknowledged guest receipts" ||
	bad "guest got $good secrets but only $rel releases audited"

echo "$fails failure(s)"
[ "$fails" = 0 ]
