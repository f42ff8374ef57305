#!/bin/bash
# SNP verifications per second per core (one thread), next to OpenSSL's own P-384 verify rate on
# the same core, in paired rounds (bench/lib.sh). Usage: bench/snp.sh BUILD_DIR
set -u
build=${1:-build}
V=${CCT_VECTORS:-$(cd "$(dirname "$0")/.." && pwd)/tests/vectors}/snp/virtee-sev
b="$build/bench/snp_bench"
[ -x "$b" ] || { echo "snp_bench not built (make build)"; exit 1; }
. "$(dirname "$0")/lib.sh"
certs="$V/vcek_milan.der $V/cert_chain_milan.pem"
n=${SNP_BENCH_N:-1500}
limit() { ossl_verify_rate ecdsap384; }
cached() { taskset -c 0 "$b" "$V/report_milan.hex" $certs -n "$n"; }
cached >/dev/null || { echo "snp_bench failed"; exit 1; }
mapfile -t pairs < <(sandwich limit cached)
osl=${pairs[-1]#*/}
rsa=$(taskset -c 0 openssl speed -seconds 1 rsa4096 2>/dev/null | awk '/^rsa 4096/ {print $NF}' | tail -1)
full=$(taskset -c 0 "$b" "$V/report_milan.hex" $certs -n 300 --full-chain) || { echo "snp_bench failed"; exit 1; }
echo "SNP verify, chain cached, verifications/s/core vs openssl speed ecdsap384 verify/s, same core:"
ratio_rounds "SNP verify (chain cached) vs openssl speed ecdsap384" 0.9 "${pairs[@]}"
# the same limit without the drift between two processes: blocks of SNP verifications alternate
# with blocks of bare EVP P-384 verifications of the same report signature in one loop
read -r snp_rate bare_rate < <(taskset -c 0 "$b" "$V/report_milan.hex" $certs -n "$n" --interleave)
echo "in one loop with a bare EVP P-384 verify of the same signature: ${snp_rate:-n/a} vs ${bare_rate:-n/a} verifications/s"
ratio "SNP verify (chain cached) vs a bare P-384 verify, interleaved" "${snp_rate:-0}" "${bare_rate:-0}" 0.9
python3 - "$full" "${osl:-0}" "${rsa:-0}" <<'PY'
import sys
full, osl, rsa = (float(x) for x in sys.argv[1:4])
print(f"SNP verify, full chain:        {full:10.1f} verifications/s/core")
if osl > 0 and rsa > 0:
    floor = 1.0 / (1.0 / osl + 3.0 / rsa)
    print(f"floor 1 P-384 + 3 RSA-4096:    {floor:10.1f} /s   (openssl speed rsa4096 verify {rsa:.1f}/s); full/floor {full / floor:.2f}")
PY
