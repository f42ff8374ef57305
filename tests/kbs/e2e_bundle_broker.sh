#!/bin/bash
# cctrustd with --collateral BUNDLE: the bundle is opened once at start-up (a broken one stops
# the start), guests attest and get secrets through it, and /metrics reports the bundle's
# freshness (items, expired items, seconds to the next deadline).
. "$(dirname "$0")/lib.sh"
setup_keys
B=$T/bundle
mkdir -p "$B/snp-crl"
printf 'not-a-real-crl' >"$B/snp-crl/old.der"
SUM=$(sha256sum "$B/snp-crl/old.der" | cut -c1-64)
cat >"$B/manifest.json" <<JSON
{"version": "cctrust.collateral/v1", "items": [
 {"kind": "snp-crl", "key": "vcek/Milan", "path": "snp-crl/old.der",
  "source": "https://kdsintf.amd.com/vcek/v1/Milan/crl", "fetched_at": "2020-01-01T00:00:00Z",
  "not_before": "2020-01-01T00:00:00Z", "not_after": "2020-02-01T00:00:00Z",
  "next_update": "2020-01-15T00:00:00Z", "sha256": "$SUM"}]}
JSON
COMMON=(--admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" --master-key "$T/master.key")
start_d a --store "sqlite:$T/a.db" "${COMMON[@]}" --collateral "$B"
U=$URL_a
set_policies "$U"
printf 'model-key-0123' >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" default/key/llm "$T/secret" >/dev/null
"$CLI" kbs get-resource --url "$U" --sim "$T/sim" --tee snp default/key/llm -o "$T/got" >/dev/null 2>&1
check "guest gets the secret with a bundle configured" 0 $?
cmp -s "$T/got" "$T/secret" && ok "released secret is the stored one" || bad "released secret differs"
curl -s "$U/metrics" >"$T/m"
grep -q '^cctrustd_collateral_bundle_items 1$' "$T/m" && ok "bundle items in /metrics" || bad "bundle items metric: $(grep bundle "$T/m")"
grep -q '^cctrustd_collateral_bundle_expired_items 1$' "$T/m" && ok "expired bundle items in /metrics" || bad "expired items metric"
grep -q '^cctrustd_collateral_bundle_next_deadline_seconds -[0-9]' "$T/m" && ok "past deadline is negative" || bad "deadline metric"
# --collateral-serve: the vendors' URL layouts from the bundle, on the broker's own listener
start_d s --store "sqlite:$T/s.db" "${COMMON[@]}" --collateral "$B" --collateral-serve
code=$(curl -s -o "$T/crl" -w '%{http_code}' "$URL_s/vcek/v1/Milan/crl")
[ "$code" = 200 ] && cmp -s "$T/crl" "$B/snp-crl/old.der" && ok "KDS-style URL answers the bundle's bytes" || bad "KDS-style URL: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL_s/vcek/v1/Genoa/crl")
[ "$code" = 404 ] && ok "an item the bundle lacks: 404" || bad "missing item: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'junk' "$URL_s/ocsp")
[ "$code" = 400 ] && ok "POST /ocsp with a non-OCSP body: 400" || bad "bad OCSP request: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"version":"0.4.0","tee":"snp","extra-params":{}}' "$URL_s/kbs/v0/auth")
[ "$code" = 200 ] && ok "the KBS endpoints still answer beside it" || bad "KBS auth beside serving: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL_a/vcek/v1/Milan/crl")
[ "$code" = 404 ] && ok "without --collateral-serve no collateral is served" || bad "served without the flag: $code"
# HEAD answers as GET (it went to the key broker: 404); a stored OCSP answer (kept by serial)
# is served only to the request it answers, not to one about another CA's serial 5678
code=$(curl -s -I -o "$T/head" -w '%{http_code}' "$URL_s/vcek/v1/Milan/crl")
[ "$code" = 200 ] && grep -qi "^content-length: $(stat -c %s "$B/snp-crl/old.der")" "$T/head" &&
	ok "--collateral-serve: HEAD answers as GET" || bad "HEAD: $code $(head -c 200 "$T/head")"
O=$T/ocsp
mkdir -p "$O" "$T/ob/nvidia-ocsp"
for ca in ca ca2; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$O/$ca.key" \
		-out "$O/$ca.pem" -subj "/CN=$ca" -days 3650 2>/dev/null
done
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$O/leaf.key" -out "$O/leaf.csr" \
	-subj /CN=leaf 2>/dev/null
for ca in ca ca2; do
	openssl x509 -req -in "$O/leaf.csr" -CA "$O/$ca.pem" -CAkey "$O/$ca.key" -set_serial 0x5678 \
		-out "$O/leaf-$ca.pem" -days 365 2>/dev/null
	openssl ocsp -issuer "$O/$ca.pem" -cert "$O/leaf-$ca.pem" -no_nonce -reqout "$O/req-$ca.der" 2>/dev/null
done
printf 'V\t301231235959Z\t\t5678\tunknown\t/CN=leaf\n' >"$O/index.txt"
openssl ocsp -index "$O/index.txt" -rsigner "$O/ca.pem" -rkey "$O/ca.key" -CA "$O/ca.pem" \
	-reqin "$O/req-ca.der" -respout "$T/ob/nvidia-ocsp/5678.der" -ndays 30 >/dev/null 2>&1
OSUM=$(sha256sum "$T/ob/nvidia-ocsp/5678.der" | cut -c1-64)
cat >"$T/ob/manifest.json" <<JSON
{"version": "cctrust.collateral/v1", "items": [
 {"kind": "nvidia-ocsp", "key": "5678", "path": "nvidia-ocsp/5678.der",
  "source": "https://ocsp.ndis.nvidia.com", "fetched_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "sha256": "$OSUM"}]}
JSON
start_d o --store "sqlite:$T/o.db" "${COMMON[@]}" --collateral "$T/ob" --collateral-serve
code=$(curl -s -o "$T/ocsp-got" -w '%{http_code}' --data-binary @"$O/req-ca.der" "$URL_o/ocsp")
[ "$code" = 200 ] && cmp -s "$T/ocsp-got" "$T/ob/nvidia-ocsp/5678.der" &&
	ok "--collateral-serve: the stored OCSP answer to the request it answers" || bad "OCSP of its CA: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req-ca2.der" "$URL_o/ocsp")
[ "$code" = 404 ] && ok "--collateral-serve: not to a request about another CA's serial 5678 (404)" ||
	bad "OCSP of another CA, same serial: $code"
timeout 20 "$D" --listen 127.0.0.1:0 --port-file "$T/n.port" --store "sqlite:$T/n.db" "${COMMON[@]}" \
	--collateral-serve 2>"$T/n.log"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q 'needs --collateral BUNDLE' "$T/n.log" && ok "--collateral-serve without a bundle refuses to start" || bad "--collateral-serve without a bundle (rc $rc)"
# a bundle whose manifest does not parse stops the start (fail closed, named in the log)
mkdir -p "$T/broken" && printf '{"version": "cctrust.collateral/v1", "items": [' >"$T/broken/manifest.json"
timeout 20 "$D" --listen 127.0.0.1:0 --port-file "$T/b.port" --store "sqlite:$T/b.db" "${COMMON[@]}" \
	--collateral "$T/broken" 2>"$T/b.log"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && [ ! -s "$T/b.port" ] && ok "broken bundle: cctrustd does not start" || bad "broken bundle started (rc $rc)"
echo "cctrustd + bundle: $fails failure(s)"
exit $((fails > 0))
