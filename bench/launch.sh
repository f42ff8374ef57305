#!/bin/bash
# launch diagnose timing on a 4 MiB OVMF (bound from issue 18: under 5 s). Usage: bench/launch.sh BUILD_DIR
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
vec=${CCT_VECTORS:-$here/tests/vectors}
b=$build/bench/launch_bench
[[ -x $b ]] || { echo "no $b: build first"; exit 2; }
"$b" "$vec/measure/virtee-sev/ovmf_AmdSev_suffix.bin" -n 5
