# Shared helpers of the cctrustd end-to-end tests (sourced). Loopback only, bounded waits.
# Every test runs the REAL attestation path: cctrustd --trust-sim DIR (the composite verifier)
# and guests with simulated SNP evidence (`cctrust sim`), real formats, real signatures.
set -u
CLI=${CCT_CLI:?CCT_CLI not set}
BUILD=${CCT_BUILD:-$(dirname "$CLI")}
D=$BUILD/cctrustd
[ -x "$D" ] || { echo "SKIP: cctrustd not built (libmicrohttpd missing)"; exit 77; }
T=$(mktemp -d /tmp/cct-kbs-e2e.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # check NAME EXPECTED_RC ACTUAL_RC
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, expected $2)"; fi
}

# launch_d NAME ARGS...: start cctrustd on 127.0.0.1:0 without waiting (sets PID_<NAME>)
launch_d() {
	local name=$1; shift
	rm -f "$T/$name.port"
	"$D" --listen 127.0.0.1:0 --port-file "$T/$name.port" "$@" 2>>"$T/$name.log" &
	local pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$name=$pid"
}

# wait_d NAME: wait until it listens, sets URL_<NAME>
wait_d() {
	local name=$1 pid i
	eval "pid=\$PID_$name"
	for i in $(seq 1 100); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$T/$name.port" ] || { echo "cctrustd $name did not start:"; cat "$T/$name.log"; exit 1; }
	eval "URL_$name=http://127.0.0.1:$(cat "$T/$name.port")"
}

# start_d NAME ARGS...: launch_d + wait_d
start_d() {
	launch_d "$@"
	wait_d "$1"
}

# Admin keys (trusted + rogue), the simulated TEE the broker trusts ($T/sim) and one it does
# not ($T/rogue-sim: same shapes, other roots), a master key.
setup_keys() {
	"$CLI" kbs admin-keygen "$T/admin.key" "$T/admin.pub" || exit 1
	"$CLI" kbs admin-keygen "$T/rogue.key" "$T/rogue.pub" || exit 1
	"$CLI" sim init "$T/sim" >/dev/null || exit 1
	"$CLI" sim init "$T/rogue-sim" >/dev/null || exit 1
	head -c 32 /dev/urandom >"$T/master.key"
	chmod 600 "$T/master.key"
}

# tee_key NAME: $T/NAME.pem (private) and $T/NAME.jwk (public JWK)
tee_key() { "$CLI" sim tee-key -o "$T/$1.pem" >"$T/$1.jwk" || exit 1; }

# auth URL JAR: POST /kbs/v0/auth (tee snp), cookie into JAR, prints the nonce
auth() {
	curl -s -c "$2" -H 'Content-Type: application/json' \
		-d '{"version":"0.4.0","tee":"snp","extra-params":{}}' "$1/kbs/v0/auth" | jq -r .nonce
}

# attest URL JAR BODY OUT: prints the HTTP status, the reply in OUT
attest() {
	curl -s -o "$4" -w '%{http_code}' -b "$2" -H 'Content-Type: application/json' \
		--data-binary @"$3" "$1/kbs/v0/attest"
}

# cookie_of JAR: the session cookie value (sent by hand once curl's jar considers it expired)
cookie_of() { awk '$6 == "kbs-session-id" {print $7}' "$1"; }

# evidence NONCE KEYNAME OUT [sim evidence options]: simulated SNP evidence from $T/sim
evidence() {
	local n=$1 k=$2 o=$3
	shift 3
	"$CLI" sim evidence "$T/sim" --tee snp --nonce "$n" --tee-pubkey "$T/$k.jwk" -o "$o" "$@"
}

# set_policies URL [client options]: what an admin does before anything is released (cctrustd
# fails closed): the default attestation policy and a default resource policy that releases to
# any affirming guest, simulated ones included (these tests run on the simulated TEE).
set_policies() {
	local u=$1
	shift
	printf '{"version":"cctrust.policy/v1"}' >"$T/att-default.json"
	printf '{"version":1,"allow_simulated":true,"rules":[{"name":"any-affirming","resources":["*/*/*"],"require":[{"all_submods":"affirming"}]}]}' >"$T/res-default.json"
	"$CLI" kbs set-attestation-policy --url "$u" --admin-key "$T/admin.key" "$@" "$T/att-default.json" >/dev/null &&
		"$CLI" kbs set-policy --url "$u" --admin-key "$T/admin.key" "$@" "$T/res-default.json" >/dev/null ||
		{ echo "cannot set the policies on $u"; exit 1; }
}

# injection_sql COOKIE JWK: the database-injection attack of issue 11 as SQL: a session row
# with the attacker's own cookie hash, "affirming" claims and the attacker's own tee key, as
# someone who can write the database (but lacks the master key) would insert it.
injection_sql() {
	local id now claims
	id=$(printf '%s' "$1" | sha256sum | cut -c1-64)
	now=$(date +%s)
	claims='{"submods":{"cpu0":{"ear.status":"affirming","ear.appraisal-policy-id":"default"}}}'
	printf "INSERT INTO sessions (id, tee, nonce, created, expires, nonce_used, token, claims, tee_pubkey, evidence_digest) VALUES ('%s', 'snp', 'x', %s, %s, 1, 'forged', '%s', '%s', '00');" \
		"$id" "$now" "$((now + 3600))" "$claims" "$(cat "$2")"
}

# injection_cookie URL: a genuine session cookie from URL's /auth (the attacker is a client
# too); the challenge it carries is sealed, but the attested state is what the row holds
injection_cookie() {
	auth "$1" "$T/jar-inj" >/dev/null
	INJ_COOKIE=$(cookie_of "$T/jar-inj")
	[ -n "$INJ_COOKIE" ] || bad "no cookie from $1/kbs/v0/auth"
}

# injection_check URL NAME: the injected session (cookie INJ_COOKIE) must not release NAME
injection_check() {
	local code
	code=$(curl -s -o "$T/inj" -w '%{http_code}' -H "Cookie: kbs-session-id=$INJ_COOKIE" "$1/kbs/v0/resource/$2")
	[ "$code" = 401 ] && grep -q 'not sealed' "$T/inj" && ok "injected session row refused" ||
		bad "injected session row: $code $(cat "$T/inj")"
	"$CLI" kbs audit --url "$1" --admin-key "$T/admin.key" --limit 1000 >"$T/inj-audit"
	jq -e '[.[] | select(.record.event=="integrity" or .event=="integrity")] | length >= 1' "$T/inj-audit" >/dev/null &&
		ok "injected row audited" || bad "no integrity audit record: $(tail -c 400 "$T/inj-audit")"
}
