#!/bin/bash
# Runs the tests of a ThreadSanitizer build (make tsan) and fails on any race report. Every
# process writes its reports to BUILD_DIR/tsan-reports/ (TSAN_OPTIONS log_path), so a race in a
# daemon an end-to-end test starts and stops (cctrustd, cctrust-collateral-serve) counts too,
# though its exit status is never seen.
# usage: scripts/run-tsan.sh BUILD_DIR [ctest args...]
set -uo pipefail
dir=${1:?usage: run-tsan.sh BUILD_DIR [ctest args]}
shift
reports=$(cd "$dir" && pwd)/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
# the caller's options first: a later flag overrides an earlier one, and these must hold
export TSAN_OPTIONS="${TSAN_OPTIONS:-} log_path=$reports/report halt_on_error=0 second_deadlock_stack=1"
# clang 14's ThreadSanitizer cannot map its shadow memory when the kernel randomises mmap with
# more than 28 bits (vm.mmap_rnd_bits, raised by newer kernels): run without address
# randomisation where the personality call is allowed (it is not in every container)
norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norand=(setarch "$(uname -m)" -R)
fi
"${norand[@]}" "$(dirname "$0")/run-ctest.sh" "$dir" "$@"
rc=$?
found=$(find "$reports" -type f -name 'report*' | sort)
if [ -n "$found" ]; then
	for f in $found; do
		echo "==== $f"
		cat "$f"
	done
	echo "FAIL: ThreadSanitizer reported $(cat $found | grep -c '^WARNING: ThreadSanitizer') problem(s) in $(echo "$found" | wc -l) process(es)"
	[ "$rc" = 0 ] && rc=1
fi
exit "$rc"
