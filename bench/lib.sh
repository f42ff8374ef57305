# Shared by bench/*.sh (sourced). Rates are computed from CPU time (user + system) of the
# measured process, like `openssl speed` (which divides by CPU user time unless -elapsed): on a
# shared machine wall-clock time counts other processes' turns, CPU time does not, so a ratio of
# two figures from the same run stays meaningful even when the numbers themselves are noisy.

# cpu_s CMD...: run CMD (output discarded), print its user+system CPU seconds; its exit status
# is what `last_rc` prints afterwards (cpu_s runs in a command substitution's subshell).
CCT_BENCH_RC=$(mktemp /tmp/cct-bench-rc.XXXXXX)
trap 'rm -f "$CCT_BENCH_RC"' EXIT
cpu_s() {
	python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(str(r))
print("%.6f" % (u.ru_utime + u.ru_stime))' "$CCT_BENCH_RC" "$@"
}
last_rc() { cat "$CCT_BENCH_RC"; }

# rate_of N COLD_S WARM_S: (N-1) / (WARM_S - COLD_S), i.e. the loop without start-up and the
# first (cold) iteration.
rate_of() {
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d <= 0) d = b; printf "%.0f", (n - 1) / d }'
}

# ratio LABEL VALUE LIMIT GOAL: one line "LABEL: x.xx of the limit (goal >= GOAL)".
ratio() {
	awk -v l="$1" -v v="$2" -v m="$3" -v g="$4" 'BEGIN {
		if (m > 0 && v > 0) printf "  => %s: %.2fx of its limit (goal >= %s)\n", l, v / m, g
		else printf "  => %s: n/a\n", l }'
}

# openssl_verify ALG: verifies/s per core from `openssl speed -seconds 2 ALG` (ecdsap256, ...).
openssl_verify() {
	openssl speed -seconds 2 "$1" 2>/dev/null | awk '/bits ecdsa/ {v = $NF} END {print v}'
}
