#!/bin/bash
# The --json contract of every command (README "Exit status", cctrust(1) EXIT STATUS): with
# --json standard output always carries JSON, one document (or one object per line per input
# with several); a run that stops with exit 2 before printing any result prints
# {"error": {"code", "stage", "message"}}, the message being the complaint on standard error.
set -u
cct=${CCT_CLI:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
"$cct" sim init "$tmp/sim" >/dev/null || { echo "sim init failed"; exit 1; }
"$cct" sim report "$tmp/sim" --report-data "$(printf '%0128d' 0)" -o "$tmp/r.bin" "$tmp/t.bin" ||
	{ echo "sim report failed"; exit 1; }
"$cct" sim td-report "$tmp/sim" --report-data "$(printf '%0128d' 0)" -o "$tmp/td.bin" &&
	"$cct" sim td-quote "$tmp/sim" --td-report "$tmp/td.bin" -o "$tmp/q.bin" &&
	"$cct" sim tee-key -o "$tmp/tee.pem" >"$tmp/tee.jwk" &&
	"$cct" sim evidence "$tmp/sim" --tee snp --nonce AAAA --tee-pubkey "$tmp/tee.jwk" -o "$tmp/req.json" &&
	"$cct" sim evidence "$tmp/sim" --tee az-snp-vtpm --nonce AAAA --tee-pubkey "$tmp/tee.jwk" -o "$tmp/vreq.json" &&
	"$cct" verify "$tmp/req.json" --trust-sim "$tmp/sim" --nonce AAAA --token >"$tmp/ear.jwt" &&
	"$cct" sim jwks "$tmp/sim" >"$tmp/jwks.json" || { echo "sim fixtures failed"; exit 1; }
python3 -c "
import json, sys
json.dump(json.load(open(sys.argv[1]))['tee-evidence']['primary_evidence'], open(sys.argv[2], 'w'))
" "$tmp/vreq.json" "$tmp/vt.json" || exit 1
mkdir "$tmp/empty"

# usage_json WANT-IN-MESSAGE ARGS...: exit 2, standard output exactly one {"error": {code, stage,
# message}} whose message holds WANT
usage_json() {
	local want=$1; shift
	"$cct" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
	python3 -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert set(o) == {'error'} and set(o['error']) >= {'code', 'stage', 'message'}, o
assert sys.argv[2] in o['error']['message'], o['error']['message']
" "$tmp/out" "$want" 2>"$tmp/py" && [ $rc = 2 ] && ok "usage error as JSON: $*" ||
		bad "usage error as JSON: $*: rc $rc, stdout $(head -c 200 "$tmp/out") $(tail -1 "$tmp/py")"
}

# an unknown command (and --json before the command, which is none) printed nothing on stdout
usage_json "unknown command 'bogus'" bogus --json
usage_json "unknown command '--json'" --json snp verify "$tmp/r.bin"
# getopt_long takes an abbreviation of --json ("--js") as --json: the command answered in JSON,
# but an exit 2 before any result printed nothing on stdout
usage_json "no REPORT given" snp verify --js
usage_json "doesn't allow an argument" snp verify "$tmp/r.bin" --jso=1
"$cct" snp verify "$tmp/r.bin" --trust-sim "$tmp/sim" --offline --js >"$tmp/out" 2>/dev/null; rc=$?
[ $rc = 0 ] && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['verified']" "$tmp/out" &&
	ok "snp verify --js: the result in JSON" || bad "snp verify --js: rc $rc $(head -c 200 "$tmp/out")"

# the message is the complaint, not a line of the usage text that follows it: a usage line
# starting "cctrust." (token verify) or "cctrust: usage:" (tdx show, model pack) was taken
for c in "token verify" "tdx show" "model pack" "snp verify"; do
	# shellcheck disable=SC2086
	usage_json "unrecognized option '--bogus'" $c "$tmp/r.bin" --bogus --json
done

# several inputs: one object per input, a directory without input files too (it ends the run,
# exit 2); snp, tdx, vtpm and token verify said it on stderr only, verify and gpu --each
# printed its object
for c in "snp verify $tmp/r.bin|--trust-sim $tmp/sim --offline" "tdx verify $tmp/q.bin|--trust-sim $tmp/sim --offline" \
	"vtpm verify $tmp/vt.json|--trust-sim $tmp/sim --offline" "token verify $tmp/ear.jwt|--jwks $tmp/jwks.json" \
	"verify $tmp/req.json|--trust-sim $tmp/sim --nonce AAAA"; do
	# shellcheck disable=SC2086
	"$cct" ${c%%|*} "$tmp/empty" ${c#*|} --json >"$tmp/out" 2>/dev/null; rc=$?
	python3 -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert len(rs) == 2, rs
e = rs[1]['error']
assert e['code'] == 'io' and sys.argv[2] in e['message'] and e['stage'], e
" "$tmp/out" "$tmp/empty" 2>"$tmp/py" && [ $rc = 2 ] && ok "${c%% /*}: an empty directory among the inputs gets its object" ||
		bad "${c%% /*} + empty dir: rc $rc $(tail -1 "$tmp/py") $(head -c 300 "$tmp/out")"
done

# a file named by an option that cannot be read is exit 2 before any result: tdx verify read
# --ccel-data / --ccel-table only for a quote that verified, so an untrusted quote was
# rejected (exit 1) with the file never read
for o in --ccel-data --ccel-table; do
	usage_json "$o: cannot read $tmp/absent" tdx verify "$tmp/q.bin" --offline --ccel-table "$tmp/t.bin" \
		--ccel-data "$tmp/t.bin" "$o" "$tmp/absent" --json
done

# an empty input (nothing but white space) is unreadable input, exit 2, in every verify command:
# snp, tdx, vtpm, gpu and verify said so, token and cert verify rejected it (exit 1)
: >"$tmp/empty.txt"; printf '\n \n' >"$tmp/blank.txt"
for c in "token verify @ --jwks $tmp/jwks.json" "cert verify @ --ca $tmp/r.bin" "cert verify $tmp/r.bin --ca @"; do
	for f in "$tmp/empty.txt" "$tmp/blank.txt"; do
		# shellcheck disable=SC2086
		"$cct" ${c/@/$f} --json >"$tmp/out" 2>/dev/null; rc=$?
		python3 -c "
import json, sys
e = json.load(open(sys.argv[1]))['error']
assert e['stage'] == 'input' and e['message'].endswith(sys.argv[2] + ' is empty'), e
" "$tmp/out" "$f" 2>"$tmp/py" && [ $rc = 2 ] && ok "${c%% @*}: an empty input is exit 2 (${f##*/})" ||
			bad "${c%% @*} ${f##*/}: rc $rc $(tail -1 "$tmp/py") $(head -c 300 "$tmp/out")"
	done
done
# ... tpm quote verify's --sig and gpu rim verify's RIM too (exit 1, "unsupported"/"format")
for c in "tpm quote verify --ak $tmp/r.bin --quote $tmp/r.bin --sig @" "gpu rim verify @ --no-ocsp"; do
	# shellcheck disable=SC2086
	"$cct" ${c/@/$tmp/blank.txt} --json >"$tmp/out" 2>/dev/null; rc=$?
	python3 -c "
import json, sys
e = json.load(open(sys.argv[1]))['error']
assert e['stage'] == 'input' and e['message'].endswith('blank.txt is empty'), e
" "$tmp/out" 2>"$tmp/py" && [ $rc = 2 ] && ok "${c%% @*}: an empty input is exit 2" ||
		bad "${c%% @*} empty: rc $rc $(tail -1 "$tmp/py") $(head -c 300 "$tmp/out")"
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
