#!/bin/bash
# cctrust tdx: odd and hostile option combinations found by a black-box review (each case failed
# before its fix).
set -u
cct=${CCT_CLI:?}; P=${CCT_VECTORS:?}/tdx/phala-dcap-qvl/sample
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 300 "$tmp/out" "$tmp/err")"; }
Q=$P/tdx_quote; C=$P/tdx_quote_collateral.json; AT=2025-07-19T10:00:34Z

# a TCB rule with --quote-only (no TCB level evaluated) was accepted and ignored: exit 0
expect_rc 0 "$cct" tdx verify "$Q" --quote-only --at $AT
for o in "--min-tcb-date 2099-01-01T00:00:00Z" "--accept-tcb OutOfDate" "--deny-advisory INTEL-SA-00837"; do
	expect_rc 2 "$cct" tdx verify "$Q" --quote-only --at $AT $o
	grep -q -- "${o%% *}" "$tmp/err" && ok || bad "refusal does not name ${o%% *}"
done
# with collateral --quote-only is not applied, so the rules are: 2099 is after the tcbDate
expect_rc 1 "$cct" tdx verify "$Q" --quote-only --collateral "$C" --at $AT --min-tcb-date 2099-01-01T00:00:00Z
grep -q -- "--pccs or" "$tmp/err" && ok || bad "the quote-only note names a flag that does not exist"
grep -q -- "--pccs-url" "$tmp/err" && bad "the quote-only note names --pccs-url" || ok

# --cache without --pccs was silently unused (the quote verified against --collateral)
expect_rc 2 "$cct" tdx verify "$Q" --collateral "$C" --cache "$tmp/cache" --at $AT
grep -q -- "--cache" "$tmp/err" && ok || bad "refusal does not name --cache"
expect_rc 2 "$cct" tdx verify "$Q" --cache "$tmp/cache" --offline --at $AT
[ -e "$tmp/cache" ] && bad "a refused --cache created its directory" || ok
# with --pccs it is the cache (offline: nothing cached -> rejected, not a usage error)
mkdir -p "$tmp/cache"
expect_rc 1 "$cct" tdx verify "$Q" --pccs http://127.0.0.1:9 --cache "$tmp/cache" --offline --at $AT

# eventlog --json: a quote or log that cannot be read printed a text line on stdout (no JSON)
echo x > "$tmp/junk"
G=${CCT_VECTORS}/tdx/go-tdx-guest/ccel
for args in "$Q --ccel-table $tmp/junk --ccel-data $tmp/junk" "$tmp/missing --ccel-table $G/ccel_table.dat --ccel-data $G/ccel_data.dat" \
	"$Q --ccel-table $G/ccel_table.dat --ccel-data $tmp/missing"; do
	expect_rc 2 "$cct" tdx eventlog $args --json
	python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o['match'] is False and o['error']['code'] and o['events']==[] and o['replay'] is None" "$tmp/out" \
		&& ok || bad "eventlog --json error is not JSON: $args :: $(head -c 200 "$tmp/out")"
done

# an allow-list or rule option with no value ("" from an unset variable, or ",") added nothing,
# so --mrtd "" accepted any MRTD (exit 0): a usage error now, naming the option
for o in mrtd rtmr0 rtmr3 mrconfigid mrowner mrownerconfig xfam accept-tcb deny-advisory; do
	for val in "" ","; do
		expect_rc 2 "$cct" tdx verify "$Q" --collateral "$C" --at $AT --$o "$val"
		grep -q -- "--$o: no value" "$tmp/err" && ok || bad "--$o '$val' not refused by name: $(cat "$tmp/err")"
	done
done
# values still work (a wrong MRTD rejects, exit 1)
expect_rc 1 "$cct" tdx verify "$Q" --collateral "$C" --at $AT --mrtd "$(printf '%096d' 0)"
expect_rc 0 "$cct" tdx verify "$Q" --collateral "$C" --at $AT --accept-tcb OutOfDate, --deny-advisory ,INTEL-SA-99999

# --pccs "" fetched from Intel's PCS (the default) instead: an empty URL or cache is refused
expect_rc 2 "$cct" tdx verify "$Q" --pccs "" --cache "$tmp/cache" --offline --at $AT
grep -q -- "--pccs: empty URL" "$tmp/err" && ok || bad "--pccs '' not refused: $(cat "$tmp/out" "$tmp/err")"
expect_rc 2 "$cct" tdx verify "$Q" --pccs http://127.0.0.1:9 --cache "" --offline --at $AT
grep -q -- "--cache: empty path" "$tmp/err" && ok || bad "--cache '' not refused: $(cat "$tmp/out" "$tmp/err")"

# --policy with collateral that does not load: the result lacked "policy_id" and "failures",
# which every other --policy result carries
echo '{"version":"cctrust.policy/v1"}' > "$tmp/p.json"
echo garbage > "$tmp/coll.json"
expect_rc 1 "$cct" tdx verify "$Q" --collateral "$tmp/coll.json" --policy "$tmp/p.json" --json
python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o['failures']==[] and o['policy_id']=='default' and o['error']['stage']=='collateral'" "$tmp/out" \
	&& ok || bad "collateral refusal with --policy lacks policy_id/failures: $(head -c 300 "$tmp/out")"

# standard input named twice (the policy read the quote: 'policy is not valid JSON'), or read per
# quote with several quotes (the second quote found it empty): refused up front
G=${CCT_VECTORS}/tdx/go-tdx-guest/ccel
"$cct" tdx verify - --policy - --collateral "$C" --at $AT < "$Q" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "standard input (-) given to --policy and to a QUOTE" "$tmp/err" && ok || bad "quote - with --policy -: rc=$rc $(cat "$tmp/err")"
"$cct" tdx verify "$Q" "$Q" --collateral "$C" --at $AT --ccel-table "$G/ccel_table.dat" --ccel-data - < "$G/ccel_data.dat" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--ccel-data -: it is read for every QUOTE" "$tmp/err" && ok || bad "--ccel-data - with two quotes: rc=$rc $(cat "$tmp/err")"
"$cct" tdx eventlog - --ccel-table "$G/ccel_table.dat" --ccel-data - < "$Q" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "standard input (-) given to --ccel-data and to the QUOTE" "$tmp/err" && ok || bad "eventlog - with --ccel-data -: rc=$rc $(cat "$tmp/err")"
# one reader is fine
"$cct" tdx verify - --collateral "$C" --at $AT < "$Q" >"$tmp/out" 2>"$tmp/err" && ok || bad "quote from standard input: $(cat "$tmp/err")"

echo "tdx hostile: $pass passed, $fail failed"
[ $fail -eq 0 ]
