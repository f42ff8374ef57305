#!/bin/bash
# cctrustd load: full auth + attest + resource flows (sample TEE evidence, EC tee key, JWE
# unwrap) driven by `cctrust kbs bench` from a separate process on 127.0.0.1. Prints flows/s,
# p50/p99 latency, the daemon's RSS under load, and the server-side attest time from its own
# metrics (verification + store, no HTTP). Bounded: FLOWS flows, at most LIMIT_S seconds.
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
"$CLI" kbs sample-init "$T/sample" 2>/dev/null
head -c 32 /dev/urandom >"$T/mk"
"$D" --store "sqlite:$T/db" --listen 127.0.0.1:0 --port-file "$T/port" --admin-pubkey "$T/admin.pub" \
	--insecure-sample-tee "$T/sample" --master-key "$T/mk" --threads "$THREADS" 2>/dev/null &
pid=$!
for i in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
head -c 32 /dev/urandom >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" bench/key/model "$T/secret" >/dev/null

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
echo "cctrustd (SQLite, $THREADS threads) <- cctrust kbs bench ($FLOWS flows, $THREADS client threads):"
timeout "$LIMIT_S" "$CLI" kbs bench --url "$U" --insecure-sample-attester "$T/sample" \
	--flows "$FLOWS" --threads "$THREADS" bench/key/model
rc=$?
kill $sp 2>/dev/null
wait $sp 2>/dev/null
echo "{\"rss_idle_kib\":$rss_idle,\"rss_peak_under_load_kib\":$(cat "$T/rss" 2>/dev/null || echo 0)}"
curl -s "$U/metrics" | grep -E '^cctrustd_(attest_seconds_(sum|count)|releases_total)'
exit $rc
