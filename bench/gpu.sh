#!/bin/bash
# GPU verification throughput per core, next to `openssl speed ecdsap384` (verify) from the same
# run, and one cold verification from local files.
#  - warm, RIM cached: real NVSwitch LS10 evidence + NVIDIA's genuine switch BIOS RIM (offline;
#    no OCSP responses for NVIDIA's certificates ship with the vectors, so OCSP is off here);
#  - warm, OCSP cached: synthetic Hopper evidence on a test chain minted now, with OCSP
#    responses for every certificate (RIMs do not exist for the synthetic device: --no-rim);
#  - cold: one `cctrust gpu verify` process, RIM read from the local directory.
# Usage: bench/gpu.sh BUILD_DIR
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cct=$build/cctrust
[ -x "$cct" ] || { echo "no $cct; build first"; exit 2; }
vec=${CCT_VECTORS:-$here/../tests/vectors}/nvgpu/nvidia-attestation-sdk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=${GPU_BENCH_N:-2000}

mkdir -p "$tmp/rims"
cp "$vec/testdata/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml" "$tmp/rims/"
sw=$vec/serialized_test_evidence/switch_evidence_ls10.json
swn=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb

ossl=$(openssl speed -seconds 2 ecdsap384 2>/dev/null | awk '/384 bits ecdsa/ {print $NF}' | tail -1)

rim_line=$(taskset -c 0 "$cct" gpu verify "$sw" --nonce $swn --offline --no-ocsp \
	--rim-dir "$tmp/rims" --repeat "$n" 2>&1 >/dev/null | grep gpu-bench)
rim_rate=$(sed 's/.*per_device_per_s \([0-9.]*\).*/\1/' <<<"$rim_line")

gen=$(find "$build" -type f -name nvgpu_test_ocsp -perm -u+x | head -n 1)
ocsp_rate=n/a
if [ -n "$gen" ] && "$gen" --generate "$tmp/synth" >/dev/null 2>&1; then
	ocsp_line=$(taskset -c 0 "$cct" gpu verify "$tmp/synth/evidence.json" \
		--nonce 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 \
		--device-root "$tmp/synth/root.pem" --ocsp-dir "$tmp/synth/good" --offline --no-rim \
		--repeat "$n" 2>&1 >/dev/null | grep gpu-bench)
	ocsp_rate=$(sed 's/.*per_device_per_s \([0-9.]*\).*/\1/' <<<"$ocsp_line")
fi

t0=$(date +%s%N)
"$cct" gpu verify "$sw" --nonce $swn --offline --no-ocsp --rim-dir "$tmp/rims" >/dev/null
t1=$(date +%s%N)
cold_ms=$(( (t1 - t0) / 1000000 ))

echo "openssl speed ecdsap384 verify (1 core):        ${ossl} verifies/s"
echo "gpu verify, RIM cached (LS10 + genuine RIM):     ${rim_rate} verifications/s/core  ($rim_line)"
echo "gpu verify, OCSP cached (synthetic chain):       ${ocsp_rate} verifications/s/core"
awk -v a="$rim_rate" -v b="$ocsp_rate" -v o="$ossl" 'BEGIN {
	if (o > 0) { printf "ratio to openssl verify: RIM-cached %.2f, OCSP-cached %.2f (target >= 0.80)\n", a / o, (b == "n/a" ? 0 : b / o) } }'
echo "cold verification (one process, local RIM file): ${cold_ms} ms"
