#!/bin/bash
# cctrust kbs bench as a load generator against a real cctrustd on 127.0.0.1 (simulated SNP
# evidence, real composite verification): every flow succeeds and is counted per endpoint; a
# missing resource and an untrusted TEE show up as errors by type at the right endpoint with
# exit 1; the JSON contract; usage errors exit 2; verify-bench's figures, and its
# --seconds run ended by SIGTERM. Bounded: a few flows each.
. "$(dirname "$0")/lib.sh"
setup_keys
# one loopback client drives every flow: the per-client rate limit is off, as in bench/kbs.sh
start_d a --store "sqlite:$T/a.db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --rate-limit 0
U=$URL_a
set_policies "$U"
printf 'model-key-0123' >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" default/key/llm "$T/secret" >/dev/null
check "put-resource" 0 $?

"$CLI" kbs bench --url "$U" --sim "$T/sim" --tee snp --clients 2 --flows 6 --json \
	default/key/llm >"$T/ok.json" 2>"$T/progress"
check "bench: 6 flows from 2 clients" 0 $?
jq -e '.flows == 6 and .failures == 0 and .clients == 2 and .threads == 2 and .tee == "snp"
	and .flows_per_s > 0 and .evidence_ms_per_flow > 0 and .errors == {}
	and ([.latency_ms.auth, .latency_ms.attest, .latency_ms.resource, .latency_ms.flow]
	     | all(.n == 6 and .p50 > 0 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .max))
	and .p50_ms == .latency_ms.flow.p50 and .p99_ms == .latency_ms.flow.p99' "$T/ok.json" >/dev/null &&
	ok "JSON: counts, per-endpoint percentiles ordered, earlier keys kept" || bad "JSON: $(cat "$T/ok.json")"
grep -q 'bench: 6/6 flows, 0 failed' "$T/progress" && ok "progress line" || bad "progress: $(cat "$T/progress")"
# the broker's own CPU per request, from its /metrics before and after (nothing else ran)
jq -e '.server_cpu_ms.requests == {"auth": 6, "attest": 6, "resource": 6}
	and .server_cpu_ms.attest > .server_cpu_ms.verification and .server_cpu_ms.verification > 0
	and .server_cpu_ms.auth > 0 and .server_cpu_ms.resource > 0
	and ((.server_cpu_ms.handlers_per_flow - .server_cpu_ms.auth - .server_cpu_ms.attest
	      - .server_cpu_ms.resource) | fabs) < 0.001' "$T/ok.json" >/dev/null &&
	ok "JSON: the broker's CPU per request by endpoint" || bad "server_cpu_ms: $(jq -c .server_cpu_ms "$T/ok.json")"

# the simulated P-384 signatures: one SNP report and one SPDM response per GPU and flow, each
# with a precomputed nonce or inline, and the broker accepts both kinds (every flow released);
# the load generator waits for its nonces (bounded), so normally all are precomputed, but only
# the sum is fixed here (tests/sim/test_presign.c checks the precomputed ones)
"$CLI" kbs bench --url "$U" --sim "$T/sim" --tee snp --gpus 1 --clients 2 --flows 12 --json \
	default/key/llm >"$T/pre.json" 2>/dev/null
check "bench with presigned evidence" 0 $?
jq -e '.failures == 0 and .evidence_signatures.presigned + .evidence_signatures.inline == 24' \
	"$T/pre.json" >/dev/null && ok "evidence signatures counted (presigned + inline)" ||
	bad "presign: $(cat "$T/pre.json")"
"$CLI" kbs bench --url "$U" --sim "$T/sim" --tee snp --gpus 1 --clients 2 --flows 4 --json \
	--no-presign default/key/llm >"$T/inline.json" 2>/dev/null
check "bench --no-presign" 0 $?
jq -e '.failures == 0 and .evidence_signatures == {"presigned": 0, "inline": 8}' "$T/inline.json" \
	>/dev/null && ok "--no-presign: every signature inline" || bad "inline: $(cat "$T/inline.json")"

"$CLI" kbs bench --url "$U" --sim "$T/sim" --clients 2 --flows 4 default/key/llm >"$T/ok.txt" 2>/dev/null
check "bench, text output" 0 $?
grep -q '^4 flows (snp, 0 GPU(s)) from 2 clients' "$T/ok.txt" && grep -q '^attest ' "$T/ok.txt" &&
	grep -q '^broker CPU per request (its /metrics): auth [0-9.]* ms, attest ' "$T/ok.txt" &&
	ok "text: summary, per-endpoint rows, the broker's CPU" || bad "text: $(cat "$T/ok.txt")"

# a broker whose /metrics asks for a token: the run still measures, the broker's CPU is
# reported unknown and why, and known once the token is given
(umask 077 && printf 'metrics-token-0123456789\n' >"$T/metrics.token")
start_d m --store "sqlite:$T/m.db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --rate-limit 0 --metrics-token "$T/metrics.token"
set_policies "$URL_m"
"$CLI" kbs put-resource --url "$URL_m" --admin-key "$T/admin.key" default/key/llm "$T/secret" >/dev/null
"$CLI" kbs bench --url "$URL_m" --sim "$T/sim" --clients 1 --flows 2 --json default/key/llm \
	>"$T/guarded.json" 2>/dev/null
check "bench against a broker with --metrics-token" 0 $?
jq -e '.failures == 0 and .server_cpu_ms == null
	and (.server_cpu_unavailable | test("HTTP 401.*--metrics-token"))' "$T/guarded.json" >/dev/null &&
	ok "guarded /metrics: broker CPU unknown, and why" || bad "guarded: $(cat "$T/guarded.json")"
"$CLI" kbs bench --url "$URL_m" --sim "$T/sim" --clients 1 --flows 2 --json \
	--metrics-token "$T/metrics.token" default/key/llm >"$T/token.json" 2>/dev/null
check "bench --metrics-token" 0 $?
jq -e '.server_cpu_ms.requests.attest == 2 and (has("server_cpu_unavailable") | not)' \
	"$T/token.json" >/dev/null && ok "--metrics-token: the broker's CPU read" ||
	bad "token: $(cat "$T/token.json")"
"$CLI" kbs bench --url "$URL_m" --sim "$T/sim" --clients 1 --flows 2 \
	--metrics-token "$T/no-such-token" default/key/llm >/dev/null 2>&1
check "--metrics-token with an unreadable file is a usage error" 2 $?

# a resource that does not exist: auth and attest succeed, the resource step fails with 404
"$CLI" kbs bench --url "$U" --sim "$T/sim" --clients 2 --flows 4 --json default/key/none \
	>"$T/miss.json" 2>/dev/null
check "bench with a missing resource exits 1" 1 $?
jq -e '.failures == 4 and .errors["resource: HTTP 404"] == 4 and .latency_ms.attest.n == 4
	and .latency_ms.flow.n == 0' "$T/miss.json" >/dev/null &&
	ok "missing resource: errors by type at the resource endpoint" || bad "missing: $(cat "$T/miss.json")"

# evidence from a TEE the broker does not trust: refused at attest
"$CLI" kbs bench --url "$U" --sim "$T/rogue-sim" --clients 1 --flows 2 --json default/key/llm \
	>"$T/rogue.json" 2>/dev/null
check "bench with untrusted evidence exits 1" 1 $?
jq -e '.failures == 2 and (.errors | keys == ["attest: HTTP 401"] or keys == ["attest: HTTP 403"])
	and .latency_ms.resource.n == 0' "$T/rogue.json" >/dev/null &&
	ok "untrusted evidence: refused at attest" || bad "rogue: $(cat "$T/rogue.json")"

"$CLI" kbs bench --url "$U" --sim "$T/sim" --clients 0 --flows 2 default/key/llm >/dev/null 2>&1
check "--clients 0 is a usage error" 2 $?

# the limit on a schedule: verify-bench --seconds stops at SIGTERM, prints what it measured
"$CLI" kbs verify-bench --sim "$T/sim" --gpus 1 --flows 3 >"$T/vb.json" 2>/dev/null
check "verify-bench --flows 3" 0 $?
jq -e '.n == 3 and .composite_verify_ms > 0 and .composite_verify_cpu_ms > 0' "$T/vb.json" \
	>/dev/null && ok "verify-bench: wall and CPU ms per verification" || bad "vb: $(cat "$T/vb.json")"
"$CLI" kbs verify-bench --sim "$T/sim" --gpus 1 --seconds 60 >"$T/vbs.json" 2>"$T/vbs.err" &
vb=$!
for _ in $(seq 1 300); do grep -q "verifying for up to 60 s" "$T/vbs.err" && break; sleep 0.05; done
sleep 0.3
kill -TERM "$vb"
wait "$vb"
check "verify-bench --seconds ended by SIGTERM" 0 $?
jq -e '.n >= 1 and .composite_verify_cpu_ms > 0' "$T/vbs.json" >/dev/null &&
	ok "verify-bench --seconds: prints its figures when stopped" || bad "vbs: $(cat "$T/vbs.json")"

echo "$fails failure(s)"
[ "$fails" = 0 ]
