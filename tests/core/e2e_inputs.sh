#!/bin/bash
# Every verify command takes any number of inputs: files, "-" and directories (sorted by name;
# a directory without input files is exit 2, never an empty success),
# one at a time (cct_inputs_each). tdx: 300 quotes in a directory (the old cap was 256), a
# tampered one among them rejected alone; snp: a directory and stdin; gpu: 20 inputs (the old
# cap was 16) as one set and with --each one result per input.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

# --- tdx ---
q=$V/tdx/phala-dcap-qvl/sample/tdx_quote
coll=$V/tdx/phala-dcap-qvl/sample/tdx_quote_collateral.json
at=2025-07-19T10:00:34Z
mkdir "$tmp/q"
for i in $(seq -w 1 300); do cp "$q" "$tmp/q/q$i.dat"; done
"$cct" tdx verify "$tmp/q" --collateral "$coll" --at $at --offline --json >"$tmp/out"; rc=$?
[ $rc = 0 ] && [ "$(wc -l <"$tmp/out")" = 300 ] && [ "$(grep -c '"accepted":true' "$tmp/out")" = 300 ] &&
	ok "tdx: 300 quotes from a directory, all accepted" || bad "tdx dir: rc $rc, $(wc -l <"$tmp/out") lines"
head -1 "$tmp/out" | grep -q "\"quote\":\"$tmp/q/q001.dat\"" && tail -1 "$tmp/out" | grep -q "q300.dat" &&
	ok "tdx: directory order is by name" || bad "tdx order: $(head -c 120 "$tmp/out")"
python3 -c "b=bytearray(open('$q','rb').read()); b[60]^=1; open('$tmp/q/q150.dat','wb').write(b)"
"$cct" tdx verify "$tmp/q" - --collateral "$coll" --at $at --offline --json <"$q" >"$tmp/out"; rc=$?
[ $rc = 1 ] && [ "$(grep -c '"accepted":true' "$tmp/out")" = 300 ] &&
	grep '"quote":"'"$tmp"'/q/q150.dat"' "$tmp/out" | grep -q '"accepted":false' &&
	tail -1 "$tmp/out" | grep -q '"quote":"-"' &&
	ok "tdx: one tampered quote rejected alone (exit 1), stdin as '-'" || bad "tdx tampered: rc $rc"
"$cct" tdx verify "$tmp/q/none.dat" --collateral "$coll" --at $at --offline >/dev/null 2>&1
[ $? = 2 ] && ok "tdx: a missing input is unreadable (exit 2)" || bad "tdx missing input"

# --- snp ---
S=$V/snp/virtee-sev
certs="--certs $S/vcek_milan.der --certs $S/cert_chain_milan.pem"
mkdir "$tmp/r"
for i in 1 2 3; do python3 -c "open('$tmp/r/r$i.bin','wb').write(bytes.fromhex(open('$S/report_milan.hex').read().strip()))"; done
# shellcheck disable=SC2086
"$cct" snp verify "$tmp/r" $certs --offline --no-crl --json >"$tmp/out"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"verified":true' "$tmp/out")" = 3 ] && grep -q "\"report\":\"$tmp/r/r2.bin\"" "$tmp/out" &&
	ok "snp: a directory of reports, each named" || bad "snp dir: rc $rc $(head -c 200 "$tmp/out")"
# shellcheck disable=SC2086
"$cct" snp verify - $certs --offline --no-crl <"$tmp/r/r1.bin" >"$tmp/out"; rc=$?
[ $rc = 0 ] && ok "snp: report on stdin" || bad "snp stdin: rc $rc"

# hex text with a digit lost (or one too many): said so, exit 2; it was read as base64 and
# refused for its VERSION field
tr -d ' \n' <"$S/report_milan.hex" | head -c 2367 >"$tmp/odd.hex"; echo >>"$tmp/odd.hex"
# shellcheck disable=SC2086
for c in "snp verify $tmp/odd.hex $certs --offline --no-crl" "snp show $tmp/odd.hex"; do
	# shellcheck disable=SC2086
	"$cct" $c >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q "hex text has an odd number of digits (2367)" "$tmp/out" "$tmp/err" &&
		! grep -q VERSION "$tmp/out" "$tmp/err" && ok "${c%% /*}: odd-length hex report named, exit 2" ||
		bad "${c%% /*} odd hex: rc $rc $(head -c 200 "$tmp/out" "$tmp/err")"
done

# --- gpu ---
G=$V/nvgpu/nvidia-attestation-sdk/serialized_test_evidence/switch_evidence_ls10.json
gn=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
mkdir "$tmp/g"
for i in $(seq -w 1 20); do cp "$G" "$tmp/g/e$i.json"; done
"$cct" gpu verify "$tmp/g" --each --nonce $gn --offline --no-ocsp --no-rim --json >"$tmp/out"; rc=$?
[ $rc = 0 ] && [ "$(grep -c '"verified":true' "$tmp/out")" = 20 ] && grep -q "\"evidence\":\"$tmp/g/e20.json\"" "$tmp/out" &&
	ok "gpu --each: 20 inputs, one result each" || bad "gpu --each: rc $rc $(head -c 200 "$tmp/out")"
"$cct" gpu verify "$tmp/g" --nonce $gn --offline --no-ocsp --no-rim --json >"$tmp/out" 2>"$tmp/err"; rc=$?
! grep -q "too many" "$tmp/err" && [ $rc != 2 ] &&
	ok "gpu: 20 inputs as one set are read (no cap; verdict is the set's: exit $rc)" || bad "gpu set: rc $rc $(cat "$tmp/err")"
"$cct" gpu verify "$G" --nonce $gn --offline --no-ocsp --no-rim >/dev/null; rc=$?
[ $rc = 0 ] && ok "gpu: one file as before" || bad "gpu one file: rc $rc"

# --- an empty directory checks nothing: never exit 0 (fail closed), exit 2 naming it ---
mkdir "$tmp/empty"; touch "$tmp/empty/.hidden"; mkdir "$tmp/empty/sub"
for c in "snp verify --offline" "tdx verify --offline" "vtpm verify --offline" \
	"verify --offline" "token verify" "gpu verify --no-nonce --offline" \
	"gpu verify --no-nonce --offline --each"; do
	# shellcheck disable=SC2086
	"$cct" $c "$tmp/empty" >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q "$tmp/empty" "$tmp/err" "$tmp/out" &&
		ok "$c: a directory without input files is exit 2, named" || bad "$c empty dir: rc $rc $(head -c 200 "$tmp/err")"
done
# shellcheck disable=SC2086
"$cct" snp verify "$tmp/r" "$tmp/empty" $certs --offline --no-crl --json >"$tmp/out" 2>/dev/null; rc=$?
[ $rc = 2 ] && [ "$(grep -c '"verified":true' "$tmp/out")" = 3 ] &&
	ok "snp: reports before an empty directory are verified, then exit 2" || bad "snp dir + empty: rc $rc"

# --- standard input can be read once: "-" twice is a usage error before anything is verified ---
"$cct" tdx verify - - --collateral "$coll" --at $at --offline --json <"$q" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "standard input" "$tmp/err" && ! grep -q '"accepted"' "$tmp/out" &&
	grep -q '"message": ".*standard input' "$tmp/out" &&
	ok "tdx: '-' twice refused (exit 2)" || bad "'-' twice: rc $rc $(head -c 200 "$tmp/err")"

# --- file names that are not UTF-8 (Linux allows any bytes): still in the JSON, as \xHH ---
mkdir "$tmp/u8"
cp "$q" "$tmp/u8/q"$'\xff'".dat"
"$cct" tdx verify "$tmp/u8/q"$'\xff'".dat" "$tmp/u8/gone"$'\xfe' --collateral "$coll" --at $at --offline \
	--json >"$tmp/out" 2>/dev/null; rc=$?
[ $rc = 2 ] && python3 -c "
import json, sys; rs = [json.loads(l) for l in open(sys.argv[1])]
assert [r['quote'].rsplit('/', 1)[1] for r in rs] == ['q\\\\xff.dat', 'gone\\\\xfe'], rs
assert rs[0]['accepted'] and rs[1]['error']['message'].endswith('gone\\\\xfe: No such file or directory'), rs[1]
" "$tmp/out" && ok "tdx: non-UTF-8 file names kept in the JSON as \\xHH" || bad "non-UTF-8 names: rc $rc $(head -c 300 "$tmp/out")"

# --json: a usage error or a file named by an option that cannot be read (exit 2 before any
# result) still prints one JSON object with the error; a run that printed its results adds none
for args in "verify $q --policy $tmp/absent.json --json" "tpm quote verify --ak $tmp/absent --quote x --sig y --json" \
	"token verify $tmp/absent --jwks $tmp/absent --json" "vtpm verify $q --bogus-option --json"; do
	# shellcheck disable=SC2086
	"$cct" $args >"$tmp/out" 2>"$tmp/err"; rc=$?
	python3 -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert set(o) == {'error'} and o['error']['stage'] == 'input' and o['error']['message'], o
" "$tmp/out" 2>/dev/null && [ $rc = 2 ] && ok "json usage error: ${args%% *} ..." ||
		bad "json usage error: $args: rc $rc, stdout $(head -c 200 "$tmp/out")"
done
"$cct" verify "$q" --policy "$tmp/absent.json" --json >/dev/null 2>"$tmp/err"
grep -q "absent.json" "$tmp/err" && ok "json usage error: stderr keeps the message" || bad "stderr lost"
"$cct" tdx verify "$tmp/absent" --json >"$tmp/out" 2>/dev/null
[ "$(python3 -c "import json,sys; print(len([l for l in open(sys.argv[1]).read().split(chr(10)) if l.strip().startswith('{')]))" "$tmp/out")" = 1 ] &&
	grep -q '"quote"\|"accepted"' "$tmp/out" && ok "json: an unreadable input's own object, nothing added" ||
	bad "json unreadable input: $(head -c 300 "$tmp/out")"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
