#!/bin/bash
# Start-up like a system tool: `cctrust --version` against `openssl version`, and `cctrust
# measure snp` per process against `sha384sum` of the same OVMF image plus that start-up, all in
# the same run (hyperfine when installed: make bench installs it; a timed loop otherwise).
# Usage: bench/startup.sh BUILD_DIR
set -u
build=${1:-build}
cct=$build/cctrust
here=$(cd "$(dirname "$0")/.." && pwd)
vec=${CCT_VECTORS:-$here/tests/vectors}
ovmf=$vec/measure/virtee-sev/ovmf_AmdSev_suffix.bin
[ -x "$cct" ] || { echo "no $cct (build first)"; exit 0; }
tmp=$(mktemp -d /tmp/cct-startup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "shared objects loaded: cctrust $(ldd "$cct" | wc -l), openssl $(ldd "$(command -v openssl)" | wc -l)"
# mean seconds of a command line (hyperfine, else a loop of 200)
mean_s() {
	if command -v hyperfine >/dev/null; then
		hyperfine -N --warmup 20 --runs ${STARTUP_RUNS:-300} --export-json "$tmp/h.json" "$1" >/dev/null 2>&1 &&
			python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$tmp/h.json" && return
	fi
	python3 - "$1" <<'PY'
import shlex, subprocess, sys, time
cmd = shlex.split(sys.argv[1]); n = 200
t = time.perf_counter()
for _ in range(n): subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print((time.perf_counter() - t) / n)
PY
}
o=$(mean_s "openssl version")
v=$(mean_s "$cct --version")
awk -v o="$o" -v v="$v" 'BEGIN { printf "openssl version: %.2f ms; cctrust --version: %.2f ms\n  => cctrust --version / openssl version: %.2fx (goal <= 2x)\n", o*1e3, v*1e3, v/o }'
if [ -f "$ovmf" ]; then
	m=$(mean_s "$cct measure snp --ovmf $ovmf --vcpus 4 --vcpu-type EPYC-v4")
	h=$(mean_s "sha384sum $ovmf")
	awk -v m="$m" -v h="$h" -v v="$v" 'BEGIN { printf "cctrust measure snp: %.2f ms per process; sha384sum of the OVMF: %.2f ms\n  => measure snp / (sha384sum + cctrust start-up %.2f ms): %.2fx (goal <= 1.5x)\n", m*1e3, h*1e3, v*1e3, m/(h+v) }'
fi
echo "(wall-clock means on a machine that may be shared: compare the ratios, measured in the same run)"
