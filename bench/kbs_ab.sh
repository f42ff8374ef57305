#!/bin/bash
# A/B comparison of two cctrustd (two builds, or one build with two sets of options) under the
# same guest flows as bench/kbs.sh, for changes smaller than a single run's noise.
#
# On a shared machine a core's speed drifts by tens of percent within a minute, so two
# separate runs of bench/kbs.sh cannot tell a 3% change from chance. Here both brokers run at
# once on the same core (CPU 0; the load generator on the others), and short loads alternate
# between them (A, B, A, B, ...): each pair of rounds sees the same core speed, and the figure
# is the mean over the rounds of B's CPU per flow over A's.
#
#   bench/kbs_ab.sh BUILD_DIR [A_CCTRUSTD [B_CCTRUSTD]]
#   env: ROUNDS (16), ROUND_FLOWS (200), CLIENTS (4), GPUS (1),
#        A_ARGS / B_ARGS (extra cctrustd options), A_ENV / B_ENV (NAME=VALUE for the broker)
# Example: cp build/cctrustd /tmp/cctrustd.old; (change, rebuild);
#          bench/kbs_ab.sh build /tmp/cctrustd.old build/cctrustd
# Prints each round's broker CPU ms per flow and flows/s for A and B, then the means and the
# B/A ratio with its spread (the standard error of the mean of the per-round ratios).
set -u
build=${1:-build}
CLI=$build/cctrust
DA=${2:-$build/cctrustd}
DB=${3:-$DA}
ROUNDS=${ROUNDS:-16}
ROUND_FLOWS=${ROUND_FLOWS:-200}
CLIENTS=${CLIENTS:-4}
GPUS=${GPUS:-1}
for d in "$DA" "$DB"; do [ -x "$d" ] || { echo "kbs_ab: $d is not an executable cctrustd" >&2; exit 2; }; done
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; then
	echo "kbs_ab: needs 2 cores and taskset (the brokers share CPU 0, the client the rest)" >&2
	exit 2
fi
PIN_BROKER=(taskset -c 0)
PIN_CLIENT=(taskset -c "1-$(($(nproc) - 1))")
T=$(mktemp -d /tmp/cct-kbs-ab.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
"$CLI" sim init "$T/sim" >/dev/null
. "$(dirname "$0")/kbs_lib.sh"

# start NAME BINARY ENV ARGS: a broker with its own store, policies and secret
start() {
	mkdir -p "$T/$1"
	# shellcheck disable=SC2086 # ENV and ARGS are word lists on purpose
	kbs_broker_start "$T/$1" "$T/sim" env ${3:-} "${PIN_BROKER[@]}" "$2" ${4:-}
	local ok=$?
	[ -s "$T/$1/pid" ] && pids+=("$(cat "$T/$1/pid")")
	[ "$ok" = 0 ] || { echo "kbs_ab: broker $1 ($2) not ready" >&2; exit 2; }
}

# load NAME FLOWS: prints "broker-ms-per-flow flows-per-s"; every flow must succeed
load() {
	local dir=$T/$1 p c0 c1
	p=$(cat "$dir/pid")
	c0=$(kbs_cpu_ns "$p")
	timeout 120 "${PIN_CLIENT[@]}" "$CLI" kbs bench --url "$(cat "$dir/url")" --sim "$T/sim" --tee snp --gpus "$GPUS" \
		--flows "$2" --clients "$CLIENTS" --json bench/key/model 2>/dev/null >"$dir/b.json" ||
		{ echo "kbs_ab: load on broker $1 failed" >&2; exit 1; }
	c1=$(kbs_cpu_ns "$p")
	python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))
print("%.3f %.0f" % ((int(sys.argv[2]) - int(sys.argv[3])) / 1e6 / int(sys.argv[4]), b["flows_per_s"]))' \
		"$dir/b.json" "$c1" "$c0" "$2"
}

start a "$DA" "${A_ENV:-}" "${A_ARGS:-}"
start b "$DB" "${B_ENV:-}" "${B_ARGS:-}"
echo "A: $DA ${A_ENV:-} ${A_ARGS:-}"
echo "B: $DB ${B_ENV:-} ${B_ARGS:-}"
echo "$ROUNDS rounds of $ROUND_FLOWS flows each (--clients $CLIENTS --gpus $GPUS), both brokers on CPU 0, alternating"
load a 50 >/dev/null # warm-up: first connections, first pages of each database
load b 50 >/dev/null
echo "round  A ms/flow  A flows/s  B ms/flow  B flows/s"
for r in $(seq 1 "$ROUNDS"); do
	a=$(load a "$ROUND_FLOWS") || exit 1
	b=$(load b "$ROUND_FLOWS") || exit 1
	echo "$r $a $b"
done | tee "$T/rounds" | awk '{printf "%5d  %9.3f  %9.0f  %9.3f  %9.0f\n", $1, $2, $3, $4, $5}'
[ "$(wc -l <"$T/rounds")" -eq "$ROUNDS" ] || exit 1
awk '{ a += $2; b += $4; fa += $3; fb += $5; q = $4 / $2; s += q; ss += q * q; n++ }
END { m = s / n; v = n > 1 ? (ss - n * m * m) / (n - 1) : 0; if (v < 0) v = 0
      printf "A %.3f ms/flow %.0f flows/s; B %.3f ms/flow %.0f flows/s\n", a / n, fa / n, b / n, fb / n
      printf "B/A broker CPU per flow: %.3f +- %.3f (mean of %d paired rounds +- its standard error)\n", m, sqrt(v / n), n }' "$T/rounds"
