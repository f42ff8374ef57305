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
vec=${CCT_VECTORS:-$here/tests/vectors}/nvgpu/nvidia-attestation-sdk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=${GPU_BENCH_N:-2000}

mkdir -p "$tmp/rims"
cp "$vec/testdata/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml" "$tmp/rims/"
sw=$vec/serialized_test_evidence/switch_evidence_ls10.json
swn=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb

ossl=$(openssl speed -seconds 2 ecdsap384 2>/dev/null | awk '/384 bits ecdsa/ {print $NF}' | tail -1)

. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$tmp" "$CCT_BENCH_RC"' EXIT
# rates from CPU time: one process with 1 verification vs one with n (the difference is n-1
# verifications with the device chain, RIMs and OCSP responses cached)
rim_args=(gpu verify "$sw" --nonce $swn --offline --no-ocsp --rim-dir "$tmp/rims")
c1=$(cpu_s taskset -c 0 "$cct" "${rim_args[@]}")
cn=$(cpu_s taskset -c 0 "$cct" "${rim_args[@]}" --repeat "$n")
rim_rate=$(rate_of "$n" "$c1" "$cn")
norim_rate=n/a
ocsp_rate=n/a
gen=$(find "$build" -type f -name nvgpu_test_ocsp -perm -u+x | head -n 1)
if [ -n "$gen" ] && "$gen" --generate "$tmp/synth" >/dev/null 2>&1; then
	syn_args=(gpu verify "$tmp/synth/evidence.json"
		--nonce 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
		--device-root "$tmp/synth/root.pem" --offline --no-rim)
	c1=$(cpu_s taskset -c 0 "$cct" "${syn_args[@]}" --no-ocsp)
	cn=$(cpu_s taskset -c 0 "$cct" "${syn_args[@]}" --no-ocsp --repeat "$n")
	norim_rate=$(rate_of "$n" "$c1" "$cn")
	c1=$(cpu_s taskset -c 0 "$cct" "${syn_args[@]}" --ocsp-dir "$tmp/synth/good")
	cn=$(cpu_s taskset -c 0 "$cct" "${syn_args[@]}" --ocsp-dir "$tmp/synth/good" --repeat "$n")
	ocsp_rate=$(rate_of "$n" "$c1" "$cn")
fi

t0=$(date +%s%N)
"$cct" gpu verify "$sw" --nonce $swn --offline --no-ocsp --rim-dir "$tmp/rims" >/dev/null
t1=$(date +%s%N)
cold_ms=$(( (t1 - t0) / 1000000 ))

echo "openssl speed ecdsap384 verify (1 core):            ${ossl} verifies/s (limit: 1 P-384 verify per device)"
echo "gpu verify, no RIM (synthetic Hopper, --no-ocsp):   ${norim_rate} verifications/s/core"
ratio "GPU (no RIM) vs openssl speed ecdsap384" "$norim_rate" "$ossl" 0.8
echo "gpu verify, OCSP cached (synthetic, --no-rim):      ${ocsp_rate} verifications/s/core"
ratio "GPU (OCSP cached) vs openssl speed ecdsap384" "$ocsp_rate" "$ossl" 0.8
echo "gpu verify, RIMs cached (LS10 + genuine RIM):       ${rim_rate} verifications/s/core"
ratio "GPU (RIMs cached) vs openssl speed ecdsap384" "$rim_rate" "$ossl" 0.7
echo "cold verification (one process, local RIM file):    ${cold_ms} ms"
