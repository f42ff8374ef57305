#!/bin/bash
# scripts/run-ctest.sh (what `make check` and CI run): a skipped test (exit 77) is listed as
# skipped; with CCT_FAIL_ON_SKIP=1 (CI) an unexpected skip fails the run, an allowed one does not,
# and a failing test fails it whatever the skip settings. scripts/run-tsan.sh (make tsan): a
# ThreadSanitizer report left by any process (a daemon whose exit status nobody sees) fails a
# run whose tests all passed, and is printed; a run without one passes.
set -u
# the cases below set these themselves: CI exports them for the whole run
unset CCT_FAIL_ON_SKIP CCT_ALLOWED_SKIPS
# and under make tsan, its report directory must not receive the fake report below
unset TSAN_OPTIONS
src=${CCT_SRC:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1 (exit $3, want $2)"; fails=$((fails + 1)); fi; }
mk() { # mk DIR EXIT_OF_SECOND_TEST
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(s NONE)
enable_testing()
add_test(NAME runs COMMAND sh -c "exit 0")
add_test(NAME other COMMAND sh -c "exit $2")
set_tests_properties(runs other PROPERTIES SKIP_RETURN_CODE 77)
CM
	cmake -S "$tmp/$1" -B "$tmp/$1/b" >/dev/null || exit 1
}
mk skip 77
mk fail 1
"$src/scripts/run-ctest.sh" "$tmp/skip/b" >"$tmp/out" 2>&1
check "a skip alone passes a developer run" 0 $?
grep -q "skipped tests: other" "$tmp/out" && grep -q "other (Skipped)" "$tmp/out"
check "the skip is listed as skipped" 0 $?
CCT_FAIL_ON_SKIP=1 "$src/scripts/run-ctest.sh" "$tmp/skip/b" >"$tmp/out" 2>&1
check "CI: an unexpected skip fails" 1 $?
grep -q "unexpected skip(s): other" "$tmp/out"
check "CI: the unexpected skip is named" 0 $?
CCT_FAIL_ON_SKIP=1 CCT_ALLOWED_SKIPS="other" "$src/scripts/run-ctest.sh" "$tmp/skip/b" >/dev/null 2>&1
check "CI: an allowed skip passes" 0 $?
CCT_FAIL_ON_SKIP=1 CCT_ALLOWED_SKIPS="other" "$src/scripts/run-ctest.sh" "$tmp/fail/b" >/dev/null 2>&1
check "a failing test fails (ctest's non-zero status)" 1 $(( $? != 0 ))
# a test standing for a daemon: exits 0 but leaves a report where TSAN_OPTIONS log_path says
mkdir -p "$tmp/race"
cat >"$tmp/race/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(s NONE)
enable_testing()
add_test(NAME daemon COMMAND sh -c "p=\$(echo \"\$TSAN_OPTIONS\" | sed -n 's/.*log_path=\\([^ ]*\\).*/\\1/p'); echo 'WARNING: ThreadSanitizer: data race' >\"\$p.123\"")
CM
cmake -S "$tmp/race" -B "$tmp/race/b" >/dev/null || exit 1
"$src/scripts/run-tsan.sh" "$tmp/race/b" >"$tmp/out" 2>&1
check "tsan: a report from a passing test fails the run" 1 $?
grep -q "ThreadSanitizer reported 1 problem(s) in 1 process(es)" "$tmp/out" && grep -q "WARNING: ThreadSanitizer: data race" "$tmp/out"
check "tsan: the report is printed and counted" 0 $?
"$src/scripts/run-tsan.sh" "$tmp/skip/b" >/dev/null 2>&1
check "tsan: a run without a report passes" 0 $?
echo "$fails failure(s)"
[ "$fails" = 0 ]
