#!/bin/bash
# Runs ctest in a build directory and makes skips visible. ctest reports a test that exited 77
# as "Skipped" (SKIP_RETURN_CODE); with CCT_FAIL_ON_SKIP=1 (CI) any skipped test not named in
# CCT_ALLOWED_SKIPS (space-separated test names) fails the run, so a test CI is meant to run
# (PostgreSQL replicas, cctrustd, the real vectors) can never pass by not running.
# usage: scripts/run-ctest.sh BUILD_DIR [ctest args...]
set -uo pipefail
dir=${1:?usage: run-ctest.sh BUILD_DIR [ctest args]}
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "The following tests did not run:" / "  12 - kbs_e2e_postgres (Skipped)"
skipped=$(sed -n 's/^[[:space:]]*[0-9]\{1,\} - \([^ ]*\) (Skipped)$/\1/p' "$log" | sort -u)
if [ -n "$skipped" ]; then
	echo "skipped tests: $(echo $skipped)"
	if [ "${CCT_FAIL_ON_SKIP:-0}" = 1 ]; then
		unexpected=""
		for t in $skipped; do
			case " ${CCT_ALLOWED_SKIPS:-} " in
			*" $t "*) ;;
			*) unexpected="$unexpected $t" ;;
			esac
		done
		if [ -n "$unexpected" ]; then
			echo "FAIL: unexpected skip(s):$unexpected (CCT_FAIL_ON_SKIP=1; allowed: '${CCT_ALLOWED_SKIPS:-}')"
			[ "$rc" = 0 ] && rc=1
		fi
	fi
fi
exit "$rc"
