#!/bin/bash
# GPU verification throughput per core, next to `openssl speed ecdsap384` (verify) from the same
# core in paired rounds (bench/lib.sh) and against bare OpenSSL P-384 verifications interleaved
# in one loop (bench/gpu_bench.c: the steadier figure), and one cold verification from local
# files.
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
n=${GPU_BENCH_N:-1000}

mkdir -p "$tmp/rims"
cp "$vec/testdata/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml" "$tmp/rims/"
sw=$vec/serialized_test_evidence/switch_evidence_ls10.json
swn=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb

. "$(dirname "$0")/lib.sh"
trap 'rm -rf "$tmp" "$CCT_BENCH_RC"' EXIT
# rates from CPU time: one process with 1 verification vs one with n (the difference is n-1
# verifications with the device chain, RIMs and OCSP responses cached), each round between two
# measurements of `openssl speed ecdsap384` on the same core (the limit: 1 P-384 verify per
# device; bench/lib.sh). rounds ARGS...: the "rate/limit" pairs of `cctrust ARGS`, one a line
limit() { ossl_verify_rate ecdsap384; }
rounds() {
	local args=("$@") c1
	c1=$(cpu_s taskset -c 0 "$cct" "${args[@]}")
	gpu_rate() { rate_of "$n" "$c1" "$(cpu_s taskset -c 0 "$cct" "${args[@]}" --repeat "$n")"; }
	sandwich limit gpu_rate
}
rim_args=(gpu verify "$sw" --nonce $swn --offline --no-ocsp --rim-dir "$tmp/rims")
mapfile -t rim_pairs < <(rounds "${rim_args[@]}")
norim_pairs=()
ocsp_pairs=()
gen=$(find "$build" -type f -name nvgpu_test_ocsp -perm -u+x | head -n 1)
if [ -n "$gen" ] && "$gen" --generate "$tmp/synth" >/dev/null 2>&1; then
	syn_args=(gpu verify "$tmp/synth/evidence.json"
		--nonce 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
		--device-root "$tmp/synth/root.pem" --offline --no-rim)
	mapfile -t norim_pairs < <(rounds "${syn_args[@]}" --no-ocsp)
	mapfile -t ocsp_pairs < <(rounds "${syn_args[@]}" --ocsp-dir "$tmp/synth/good")
fi

# interleave LABEL GOAL GPU_BENCH_ARGS...: the same verification in bench/gpu_bench, blocks of it
# alternating with blocks of bare P-384 verifications (one per device) in one process
gb=$build/bench/gpu_bench
interleave() {
	local label=$1 goal=$2 rate limit
	shift 2
	[ -x "$gb" ] || return 0
	read -r rate limit < <(taskset -c 0 "$gb" "$@" -n "$n" 2>/dev/null)
	echo "in one loop with a bare EVP P-384 verify per device: ${rate:-n/a} vs ${limit:-n/a} verifications/s"
	ratio "$label vs a bare P-384 verify, interleaved" "${rate:-0}" "${limit:-0}" "$goal"
}

t0=$(date +%s%N)
"$cct" gpu verify "$sw" --nonce $swn --offline --no-ocsp --rim-dir "$tmp/rims" >/dev/null 2>&1
t1=$(date +%s%N)
cold_ms=$(( (t1 - t0) / 1000000 ))

echo "gpu verify, verifications/s per core vs openssl speed ecdsap384 verify/s (limit: 1 P-384 verify per device), same core:"
echo "no RIM (synthetic Hopper, --no-ocsp):"
ratio_rounds "GPU (no RIM) vs openssl speed ecdsap384" 0.8 "${norim_pairs[@]}"
[ -n "$gen" ] && [ -d "$tmp/synth" ] && interleave "GPU (no RIM)" 0.8 "$tmp/synth/evidence.json" \
	0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 \
	--device-root "$tmp/synth/root.pem" --no-rim --no-ocsp
echo "OCSP cached (synthetic, --no-rim):"
ratio_rounds "GPU (OCSP cached) vs openssl speed ecdsap384" 0.8 "${ocsp_pairs[@]}"
[ -n "$gen" ] && [ -d "$tmp/synth" ] && interleave "GPU (OCSP cached)" 0.8 "$tmp/synth/evidence.json" \
	0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 \
	--device-root "$tmp/synth/root.pem" --no-rim --ocsp-dir "$tmp/synth/good"
echo "RIMs cached (LS10 + genuine RIM):"
ratio_rounds "GPU (RIMs cached) vs openssl speed ecdsap384" 0.7 "${rim_pairs[@]}"
interleave "GPU (RIMs cached)" 0.7 "$sw" $swn --no-ocsp --rim-dir "$tmp/rims"
echo "cold verification (one process, local RIM file):    ${cold_ms} ms"
