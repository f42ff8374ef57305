#!/bin/bash
# make bench: runs every bench/<area>.sh with the build directory; each prints its own figures.
# kbs_ab.sh, given one build, compares the broker with itself: the A/B tool's noise floor.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/*.sh; do
	# this runner, and the helpers the benchmarks source
	case "$(basename "$b")" in run.sh | lib.sh | kbs_lib.sh) continue ;; esac
	echo "== $(basename "$b" .sh)"
	bash "$b" "$build" || rc=1
	echo
done
exit $rc
