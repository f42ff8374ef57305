#!/bin/bash
# Unmodified Trustee guests and tools against cctrustd (issue 13): a guest-components-faithful
# client (tests/kbs/trustee_client.py: Python standard library + python3-cryptography, not
# cctrust's client) runs SNP, SNP + init-data, TDX (placeholder header + AAEL), SNP + 1 GPU and
# TDX + 1 GPU (hex SPDM evidence) with P-256/P-384/P-521/RSA tee keys, each: auth, attest,
# resource by cookie and by Bearer, JWE opened; Trustee-format admin tokens (EdDSA PEM key,
# 1 h; JWKS keys ES256/ES384/RS256/PS256 with aud and jti); RVPS, policy ids, Rego refusals,
# status codes, cookie, re-attest, EAR x5c and Trustee claim names. Loopback only.
. "$(dirname "$0")/lib.sh"
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing (scripts/install-deps.sh)"; exit 77; }
PY="$(dirname "$0")/trustee_e2e.py"
"$CLI" sim init "$T/sim" >/dev/null || exit 1
(umask 077 && head -c 32 /dev/urandom >"$T/master.key")
python3 "$PY" keys "$T/keys" || exit 1
start_d a --store "sqlite:$T/a.db" --admin-pubkey "$T/keys/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --token-key "$T/keys/token.key" --token-cert "$T/keys/token.crt"
start_d b --store "sqlite:$T/b.db" --admin-pubkey "$T/keys/admin.jwks" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --admin-audience kbs --admin-require-jti \
	--admin-max-token-lifetime 7200
python3 "$PY" run "$CLI" "$T/sim" "$T" "$URL_a" "$URL_b"
rc=$?
[ $rc = 0 ] || { echo "--- cctrustd a log (tail)"; tail -5 "$T/a.log"; }
exit $rc
