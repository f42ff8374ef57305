#!/bin/bash
# Builds the project the ways users and packagers do, warnings as errors so a new warning shows:
#   release-gcc, release-clang:  cmake -DCMAKE_BUILD_TYPE=Release
#   dpkg-gcc, dpkg-clang:        Debian's flags (dpkg-buildflags CFLAGS+CPPFLAGS, LDFLAGS:
#                                -O2, _FORTIFY_SOURCE, -fstack-protector-strong, -Wformat-security,
#                                relro), CMAKE_BUILD_TYPE=None as debhelper does
# usage: scripts/build-matrix.sh [VARIANT...]   (default: all four; build dirs build-VARIANT)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(release-gcc release-clang dpkg-gcc dpkg-clang)
for v in "${variants[@]}"; do
	cc=${v##*-}
	command -v "$cc" >/dev/null || { echo "build-matrix: $cc not installed" >&2; exit 1; }
	case $v in
	release-*)
		CC=$cc cmake -S . -B "build-$v" -DCMAKE_BUILD_TYPE=Release -DCCT_WERROR=ON >/dev/null ;;
	dpkg-*)
		command -v dpkg-buildflags >/dev/null || { echo "build-matrix: dpkg-buildflags missing (dpkg-dev)" >&2; exit 1; }
		CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
		LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" CC=$cc \
			cmake -S . -B "build-$v" -DCMAKE_BUILD_TYPE=None -DCCT_WERROR=ON >/dev/null ;;
	*) echo "build-matrix: unknown variant $v" >&2; exit 2 ;;
	esac
	echo "== build-$v"
	cmake --build "build-$v" -j"$JOBS"
done
