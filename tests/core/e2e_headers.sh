#!/bin/bash
# Every public header compiles on its own, as C11 and (when g++ is present) as C++.
set -u
src=${CCT_SRC:?}; fail=0; n=0
for h in "$src"/include/cctrust/*.h; do
	n=$((n+1))
	printf '#include "cctrust/%s"\nint cct_headertest_%d;\n' "$(basename "$h")" $n > /tmp/cct_ht_$$.c
	cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$src/include" /tmp/cct_ht_$$.c || { echo "FAIL (C): $h"; fail=$((fail+1)); }
	if command -v g++ >/dev/null; then
		g++ -x c++ -Wall -Wextra -Werror -fsyntax-only -I"$src/include" /tmp/cct_ht_$$.c || { echo "FAIL (C++): $h"; fail=$((fail+1)); }
	fi
done
rm -f /tmp/cct_ht_$$.c
echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
