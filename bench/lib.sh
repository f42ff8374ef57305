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

# Paired rounds. On a shared machine the speed of a core drifts by tens of percent within a
# minute (seen here: `openssl speed ecdsap384` 841 to 1498 verifies/s in one hour), so a limit
# measured once and a rate measured once, seconds apart, give a ratio anywhere from 0.7x to 1.3x.
# Each round measures the rate between two measurements of the limit on the same core and divides
# by their mean; the figure is the median of the rounds' ratios, printed with their range.
BENCH_ROUNDS=${BENCH_ROUNDS:-5}

# sandwich LIMIT_FN RATE_FN: BENCH_ROUNDS lines "RATE/LIMIT", each RATE from the function RATE_FN
# and each LIMIT the mean of LIMIT_FN right before and right after it (one round's "after" is the
# next round's "before"); "n/a" halves when a function prints nothing
sandwich() {
	local before after rate
	before=$($1)
	for _ in $(seq 1 "$BENCH_ROUNDS"); do
		rate=$($2)
		after=$($1)
		echo "${rate:-n/a}/$(awk -v a="${before:-0}" -v b="${after:-0}" \
			'BEGIN { if (a > 0 && b > 0) print (a + b) / 2; else print "n/a" }')"
		before=$after
	done
}

# ossl_verify_rate ALG: verifies/s of `openssl speed -seconds 1 ALG` on core 0 (where the
# benchmarks run); empty when openssl cannot tell
ossl_verify_rate() {
	taskset -c 0 openssl speed -seconds 1 "$1" 2>/dev/null | awk '/bits ecdsa/ {v = $NF} END {print v}'
}

# ratio_rounds LABEL GOAL PAIRS...: each PAIR is RATE/LIMIT of one round (empty or n/a halves are
# left out). Prints "=> LABEL: M.MMx of its limit (median of N paired rounds, range A-B; goal >=
# GOAL)" and, on a second line, the rounds' rates and limits.
ratio_rounds() {
	python3 - "$@" <<'PY'
import statistics, sys
label, goal, pairs = sys.argv[1], sys.argv[2], []
for p in sys.argv[3:]:
    try:
        r, l = (float(x) for x in p.split("/"))
    except ValueError:
        continue
    if r > 0 and l > 0:
        pairs.append((r, l))
if not pairs:
    print(f"  => {label}: n/a"); sys.exit(0)
q = sorted(r / l for r, l in pairs)
print(f"  => {label}: {statistics.median(q):.2f}x of its limit (median of {len(q)} paired rounds, "
      f"range {q[0]:.2f}-{q[-1]:.2f}; goal >= {goal})")
print("     rounds (rate / limit): " + ", ".join(f"{r:.0f}/{l:.0f}" for r, l in pairs))
PY
}
