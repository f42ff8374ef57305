#!/bin/bash
# TDX quote verification throughput (one core, collateral parsed and checked once = cached),
# next to OpenSSL's ECDSA P-256 verify rate and the npm package @phala/dcap-qvl on the same
# quote + collateral. Usage: bench/tdx.sh BUILD_DIR. Never fails because a peer is missing.
set -u
build=${1:-build}
cct=$build/cctrust
vec=${CCT_VECTORS:-$(cd "$(dirname "$0")/.." && pwd)/tests/vectors}
quote=$vec/tdx/phala-dcap-qvl/sample/tdx_quote
coll=$vec/tdx/phala-dcap-qvl/sample/tdx_quote_collateral.json
at=2025-07-19T10:00:34Z
at_unix=1752919234
n=${TDX_BENCH_N:-3000}

[ -x "$cct" ] || { echo "tdx bench: no $cct (build first)"; exit 0; }
[ -f "$quote" ] || { echo "tdx bench: vectors not found under $vec"; exit 0; }

. "$(dirname "$0")/lib.sh"
# one verification (start-up + collateral load + cold caches) vs n verifications in one process:
# the CPU-time difference is n-1 verifications with collateral, PCK chain and keys cached; in
# paired rounds with `openssl speed ecdsap256` on the same core (bench/lib.sh)
args=(tdx verify "$quote" --collateral "$coll" --at $at --offline)
c1=$(cpu_s taskset -c 0 "$cct" "${args[@]}")
limit() { ossl_verify_rate ecdsap256 | awk '{ print $1 / 2 }'; } # 2 P-256 verifies per quote
tdx_rate() {
	local cn
	cn=$(cpu_s taskset -c 0 "$cct" "${args[@]}" --repeat $n)
	[ "$(last_rc)" = 0 ] && rate_of "$n" "$c1" "$cn"
}
[ -n "$(tdx_rate)" ] || { echo "tdx bench: verification failed (exit $(last_rc))"; exit 0; }
mapfile -t pairs < <(sandwich limit tdx_rate)
cct_rate=${pairs[-1]%/*}
ossl=$(awk -v l="${pairs[-1]#*/}" 'BEGIN { if (l > 0) print 2 * l }')
printf "cctrust tdx verify:     %8s verifications/s per core (CPU time; full DCAP verification, collateral cached, n=%d; last round)\n" "$cct_rate" "$n"
printf "openssl ecdsap256:      %8s verify/s per core (openssl speed -seconds 1 ecdsap256, same core, around the last round)\n" "${ossl:-n/a}"
if [ -n "${ossl:-}" ]; then
	ratio_rounds "TDX verify vs openssl speed ecdsap256 / 2" 0.8 "${pairs[@]}" | tee "$CCT_BENCH_RC.ratio"
	sed -n 's/.*=> TDX verify[^:]*: \([0-9.]*\)x of its limit.*/\1/p' "$CCT_BENCH_RC.ratio" |
		awk '{ x = $1 + 0; if (x > 0) printf "  => one TDX verification costs %.2f P-256 verifies (limit: 2, the quote and the QE report; from the median)\n", 2 / x }'
	rm -f "$CCT_BENCH_RC.ratio"
fi
# the steadier figure: the same verification against two bare OpenSSL P-256 verifications per
# quote interleaved in one loop (bench/tdx_bench.c), so the core's drift cancels
if [ -x "$build/bench/tdx_bench" ]; then
	read -r tdx_rate tdx_limit < <(taskset -c 0 "$build/bench/tdx_bench" "$quote" "$coll" --at $at -n "$n" 2>/dev/null)
	echo "in one loop with 2 bare EVP P-256 verifies per quote: ${tdx_rate:-n/a} vs ${tdx_limit:-n/a} quotes/s"
	ratio "TDX verify vs 2 bare P-256 verifies, interleaved" "${tdx_rate:-0}" "${tdx_limit:-0}" 0.8
fi
# caches off (CCT_VCACHE=0): what every quote would cost without them
n0=$(( n / 10 > 50 ? n / 10 : 50 ))
c0=$(cpu_s env CCT_VCACHE=0 taskset -c 0 "$cct" "${args[@]}" --repeat $n0)
printf "  (caches off, CCT_VCACHE=0: %s verifications/s per core)\n" "$(rate_of "$n0" "$c1" "$c0")"

tmp=$(mktemp -d /tmp/cct-tdx-bench-XXXXXX)
trap 'rm -rf "$tmp" "$CCT_BENCH_RC"' EXIT

# memory over many inputs: one call over a directory of TDX_BENCH_FILES quote files (streamed:
# peak RSS must not grow with the number of files)
nf=${TDX_BENCH_FILES:-10000}
mkdir -p "$tmp/quotes"
for ((i = 0; i < nf; i++)); do printf -v f '%s/quotes/q%05d.dat' "$tmp" "$i"; cp "$quote" "$f"; done
python3 - "$cct" "$tmp/quotes" "$coll" "$at" "$nf" <<'PY'
import resource, subprocess, sys, time
cct, d, coll, at, nf = sys.argv[1:6]
t = time.perf_counter()
p = subprocess.run([cct, "tdx", "verify", d, "--collateral", coll, "--at", at, "--offline", "--json"],
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
el = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
lines = p.stdout.count(b"\n"); ok = p.stdout.count(b'"accepted":true')
print(f"cctrust tdx verify DIR ({nf} quote files, one process): exit {p.returncode}, {lines} results, {ok} accepted, "
      f"{el:.1f} s wall, {ru.ru_utime + ru.ru_stime:.1f} s CPU, peak RSS {ru.ru_maxrss / 1024:.1f} MiB")
print(f"  => peak RSS {ru.ru_maxrss / 1024:.1f} MiB over {nf} files (goal < 32 MiB)")
PY
rm -rf "$tmp/quotes"
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 &&
	(cd "$tmp" && timeout 120 npm install --silent --no-audit --no-fund @phala/dcap-qvl >/dev/null 2>&1); then
	cat >"$tmp/bench.js" <<'JS'
const fs = require("fs");
const qvl = require(process.argv[2] + "/node_modules/@phala/dcap-qvl");
const quote = fs.readFileSync(process.argv[3]);
const coll = JSON.parse(fs.readFileSync(process.argv[4], "utf8"));
const now = Number(process.argv[5]);
const n = Number(process.argv[6]);
let r = qvl.verify(quote, coll, now);
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) r = qvl.verify(quote, coll, now);
const c1 = process.cpuUsage(c0); /* CPU time, like the other figures of this run */
const s = (c1.user + c1.system) / 1e6;
console.log(`${Math.round(n / s)} ${r.status}`);
JS
	out=$(taskset -c 0 node "$tmp/bench.js" "$tmp" "$quote" "$coll" $at_unix ${TDX_BENCH_JS_N:-200} 2>&1 | tail -1)
	js_rate=${out%% *}
	if [[ "$js_rate" =~ ^[0-9]+$ ]] && [ "$js_rate" -gt 0 ]; then
		printf "@phala/dcap-qvl (npm):  %8s verifications/s per core (CPU time; status %s)\n" "$js_rate" "${out#* }"
		awk -v r="$cct_rate" -v j="$js_rate" 'BEGIN{printf "  => cctrust is %.1fx @phala/dcap-qvl (goal >= 10x; both CPU time)\n", r/j}'
	else
		echo "@phala/dcap-qvl (npm): could not run: $out"
	fi
else
	echo "@phala/dcap-qvl (npm): not installable here (npm/node missing or offline); skipped"
fi
exit 0
