#!/bin/bash
# cctrustd load over the REAL attestation path: full auth + attest + resource flows, each with
# fresh simulated SNP evidence (real report format, VCEK signature, chain to the simulated ARK,
# CRL) bound to the flow's nonce and an ephemeral EC key, composite verification + policy + EAR
# signing in the broker, JWE unwrap in the client. Driven by `cctrust kbs bench` from a separate
# process on 127.0.0.1. Prints flows/s and p50/p99 latency, next to the raw crypto limit of the
# same evidence from the same run (in-process composite verifications, and openssl speed for the
# signatures involved), the broker's own verification time from /metrics, and its RSS.
# Bounded: FLOWS flows, at most LIMIT_S seconds.
set -u
build=${1:-build}
CLI=$build/cctrust
D=$build/cctrustd
FLOWS=${FLOWS:-600}
THREADS=${THREADS:-4}
LIMIT_S=${LIMIT_S:-60}
[ -x "$D" ] || { echo "cctrustd not built (libmicrohttpd missing): skipped"; exit 0; }
T=$(mktemp -d /tmp/cct-kbs-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$T"' EXIT
"$CLI" kbs admin-keygen "$T/admin.key" "$T/admin.pub"
"$CLI" sim init "$T/sim" >/dev/null
(umask 077 && head -c 32 /dev/urandom >"$T/mk")
# one loopback client drives every flow: the per-client rate limit is off for the benchmark
"$D" --store "sqlite:$T/db" --listen 127.0.0.1:0 --port-file "$T/port" --admin-pubkey "$T/admin.pub" \
	--trust-sim "$T/sim" --master-key "$T/mk" --threads "$THREADS" --rate-limit 0 2>/dev/null &
pid=$!
for i in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
head -c 32 /dev/urandom >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" bench/key/model "$T/secret" >/dev/null
printf '{"version":"cctrust.policy/v1"}' >"$T/att.json"
printf '{"version":1,"allow_simulated":true,"rules":[{"resources":["bench/*/*"],"require":[{"all_submods":"affirming"}]}]}' >"$T/res.json"
"$CLI" kbs set-attestation-policy --url "$U" --admin-key "$T/admin.key" "$T/att.json" >/dev/null
"$CLI" kbs set-policy --url "$U" --admin-key "$T/admin.key" "$T/res.json" >/dev/null

rss_max=0
sample_rss() {
	while kill -0 "$pid" 2>/dev/null; do
		r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
		[ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r && echo "$rss_max" >"$T/rss"
		sleep 0.1
	done
}
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
sample_rss &
sp=$!
echo "cctrustd (SQLite, composite verifier, $THREADS threads) <- cctrust kbs bench --sim ($FLOWS flows, $THREADS client threads, $(nproc) cores shared):"
timeout "$LIMIT_S" "$CLI" kbs bench --url "$U" --sim "$T/sim" --tee snp \
	--flows "$FLOWS" --threads "$THREADS" bench/key/model
rc=$?
kill $sp 2>/dev/null
wait $sp 2>/dev/null
echo "{\"rss_idle_kib\":$rss_idle,\"rss_peak_under_load_kib\":$(cat "$T/rss" 2>/dev/null || echo 0)}"
curl -s "$U/metrics" >"$T/metrics"
awk '/^cctrustd_verifier_seconds_(sum|count)/ {v[$1]=$2}
     /^cctrustd_attest_seconds_(sum|count)/ {v[$1]=$2}
     END { if (v["cctrustd_verifier_seconds_count"] > 0)
             printf "{\"broker_composite_verify_ms\":%.3f,\"broker_attest_request_ms\":%.3f}\n",
               1000*v["cctrustd_verifier_seconds_sum"]/v["cctrustd_verifier_seconds_count"],
               1000*v["cctrustd_attest_seconds_sum"]/v["cctrustd_attest_seconds_count"] }' "$T/metrics"
grep -E '^cctrustd_(releases_total|verifier_results_total\{result="affirming")' "$T/metrics"
echo "raw limit of the same evidence (in process, one core: sim evidence build / composite verify + EAR):"
"$CLI" kbs verify-bench --sim "$T/sim" --tee snp --flows 200
echo "signatures per flow: report ECDSA P-384 verify, VCEK/ASK/ARK + CRL RSA-PSS-2048 verifies (the simulated"
echo "AMD-shaped chain; real AMD roots are RSA-4096), EAR ES256 sign, ECDH P-256 (JWE) both sides;"
echo "openssl speed, 1 core (columns: sign s, verify s, sign/s, verify/s; ecdh: op s, op/s):"
timeout 30 openssl speed -seconds 1 ecdsap384 ecdsap256 rsa2048 rsa4096 ecdhp256 2>/dev/null |
	grep -E '^ *(384|256) bits ecdsa|^rsa (2048|4096)|^ *256 bits ecdh' | sed 's/^/  /'
kill $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
exit $rc
