#!/bin/bash
# make bench: runs every bench/<area>.sh with the build directory; each prints its own figures.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	bash "$b" "$build" || rc=1
	echo
done
exit $rc
