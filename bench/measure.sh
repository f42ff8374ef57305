#!/bin/bash
# Measure/verity benchmark: `cctrust model verity` throughput on a 2 GB file next to
# `veritysetup format` on the same file in the same run (same salt/uuid; hash files compared),
# and the time of `cctrust measure snp`. Usage: bench/measure.sh BUILD_DIR
set -u
build=${1:-build}
cct=$(find "$build" -type f -name cctrust -perm -u+x 2>/dev/null | head -n 1)
[[ -x ${cct:-} ]] || { echo "no cctrust binary under $build"; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
vec=${CCT_VECTORS:-$here/tests/vectors}

want=$((2 * 1024 * 1024 * 1024))
tmpdir=$(mktemp -d /tmp/cct-bench-measure.XXXXXX)
trap 'rm -rf "$tmpdir"' EXIT
free_kb=$(df -Pk /tmp | awk 'NR==2 {print $4}')
need_kb=$(( want / 1024 * 21 / 10 ))   # data + two hash files + margin
size=$want
if (( free_kb < need_kb )); then
	size=$(( free_kb * 1024 / 3 / 4096 * 4096 ))
	echo "NOTE: only $((free_kb / 1024)) MiB free in /tmp: using a $((size / 1048576)) MiB file instead of 2 GiB"
fi
data=$tmpdir/model.img
echo "creating $((size / 1048576)) MiB test file in $tmpdir"
head -c "$size" /dev/urandom > "$data"
salt=00010203040506070809101a1b1c1d1e1f
uuid=645ac31f-7610-42e1-8434-9d733699eac0
mib=$((size / 1048576))

now() { date +%s.%N; }
rate() { awk -v m="$mib" -v t="$1" 'BEGIN { printf "%.0f MiB/s (%.2f s)", m / t, t }'; }

# warm the page cache once so both tools read from memory alike
cat "$data" > /dev/null

best_c=999999; best_v=999999
for run in 1 2 3; do
	t0=$(now)
	"$cct" model verity "$data" --salt $salt --uuid $uuid -o "$tmpdir/h.cct" > "$tmpdir/c.out" 2>/dev/null || { echo "cctrust model verity failed"; exit 1; }
	t1=$(now)
	tc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	best_c=$(awk -v a="$best_c" -v b="$tc" 'BEGIN { print (b < a) ? b : a }')
	if command -v veritysetup > /dev/null; then
		t0=$(now)
		veritysetup format "$data" "$tmpdir/h.vs" --salt $salt --uuid $uuid > "$tmpdir/v.out" 2>&1 || { echo "veritysetup failed"; exit 1; }
		t1=$(now)
		tv=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
		best_v=$(awk -v a="$best_v" -v b="$tv" 'BEGIN { print (b < a) ? b : a }')
	fi
done
echo "cctrust model verity ($(nproc) threads): $(rate "$best_c")  [best of 3]"
if command -v veritysetup > /dev/null; then
	echo "veritysetup format (1 thread):       $(rate "$best_v")  [best of 3]"
	awk -v c="$best_c" -v v="$best_v" 'BEGIN { printf "speedup: %.2fx (target >= 1.7x)\n", v / c }'
	if cmp -s "$tmpdir/h.cct" "$tmpdir/h.vs"; then echo "hash files: identical"; else echo "hash files: DIFFER"; exit 1; fi
else
	echo "veritysetup not installed (apt-get install cryptsetup-bin): no comparison"
fi
rm -f "$data" "$tmpdir"/h.*

ovmf=$vec/measure/virtee-sev/ovmf_AmdSev_suffix.bin
if [[ -f $ovmf ]]; then
	n=200
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		"$cct" measure snp --ovmf "$ovmf" --vcpus 4 --vcpu-type EPYC-v4 --kernel /dev/null --initrd /dev/null --append "console=ttyS0" > /dev/null || exit 1
	done
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "cctrust measure snp (4 vCPUs, kernel hashes): %.2f ms per run (process start included, %d runs)\n", (b - a) * 1000 / n, n }'
	big=$tmpdir/ovmf4m.fd
	head -c $((4 * 1024 * 1024 - 4096)) /dev/zero > "$big"; cat "$ovmf" >> "$big"
	t0=$(now)
	"$cct" measure snp --ovmf "$big" --vcpus 64 --vcpu-type EPYC-v4 --kernel /dev/null > /dev/null || exit 1
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "cctrust measure snp (4 MiB OVMF, 64 vCPUs): %.1f ms\n", (b - a) * 1000 }'
fi
