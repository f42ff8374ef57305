#!/bin/bash
# SNP verifications per second per core (one thread), next to OpenSSL's own P-384 verify rate
# measured in the same run. Usage: bench/snp.sh BUILD_DIR
set -u
build=${1:-build}
V=${CCT_VECTORS:-$(cd "$(dirname "$0")/.." && pwd)/tests/vectors}/snp/virtee-sev
b="$build/bench/snp_bench"
[ -x "$b" ] || { echo "snp_bench not built (make build)"; exit 1; }
certs="$V/vcek_milan.der $V/cert_chain_milan.pem"
osl=$(openssl speed -seconds 2 ecdsap384 2>/dev/null | awk '/nistp384/ {print $NF}' | tail -1)
rsa=$(openssl speed -seconds 2 rsa4096 2>/dev/null | awk '/^rsa 4096/ {print $NF}' | tail -1)
cached=$(taskset -c 0 "$b" "$V/report_milan.hex" $certs -n 3000 2>/dev/null || "$b" "$V/report_milan.hex" $certs -n 3000)
full=$(taskset -c 0 "$b" "$V/report_milan.hex" $certs -n 300 --full-chain 2>/dev/null || "$b" "$V/report_milan.hex" $certs -n 300 --full-chain)
python3 - "$cached" "$full" "$osl" "$rsa" <<'PY'
import sys
cached, full, osl, rsa = (float(x) for x in sys.argv[1:5])
floor = 1.0 / (1.0 / osl + 3.0 / rsa)
print(f"SNP verify, chain cached:      {cached:10.1f} verifications/s/core")
print(f"openssl speed ecdsap384 verify: {osl:10.1f} /s   ratio {cached / osl:.2f} (target >= 0.90)")
print(f"SNP verify, full chain:        {full:10.1f} verifications/s/core")
print(f"floor 1 P-384 + 3 RSA-4096:    {floor:10.1f} /s   (openssl speed rsa4096 verify {rsa:.1f}/s); full/floor {full / floor:.2f}")
PY
