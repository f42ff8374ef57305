#!/bin/bash
# A bad option value is a usage error (exit 2) that names the option, never read as something
# else: "abc" was 0 for atoi (--gpus, --expected-count, --flows ...), and --vcpu-family 999
# silently aliased another CPU's signature. The rest of each command line is valid, so only
# the value under test can be the reason.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

G=$V/nvgpu/nvidia-attestation-sdk/serialized_test_evidence/switch_evidence_ls10.json
gn=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
O=$V/measure/virtee-sev/ovmf_AmdSev_suffix.bin
Q=$V/tdx/phala-dcap-qvl/sample/tdx_quote
C=$V/tdx/phala-dcap-qvl/sample/tdx_quote_collateral.json
"$cct" sim init "$tmp/sim" >/dev/null || { echo "sim init failed"; exit 1; }
# the valid command lines first: each must run (exit 0 or 1), or the refusals below prove nothing
valid=(
	"gpu verify $G --nonce $gn --offline --no-ocsp --no-rim --expected-count 1"
	"measure snp --ovmf $O --vcpus 1 --vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1"
	"tdx verify $Q --collateral $C --offline --at 2025-07-19T10:00:34Z --repeat 2"
	"kbs verify-bench --sim $tmp/sim --gpus 1 --flows 2"
)
for c in "${valid[@]}"; do
	# shellcheck disable=SC2086
	"$cct" $c >/dev/null 2>"$tmp/err"; rc=$?
	[ $rc = 0 ] || [ $rc = 1 ] && ok || bad "valid: $c: exit $rc $(head -c 200 "$tmp/err")"
done
# OPTION VALUE, then the command line it is tried in (@ marks where it goes)
cases=(
	"--expected-count|abc|gpu verify $G --nonce $gn --offline --no-ocsp --no-rim @"
	"--expected-count|-1|gpu verify $G --nonce $gn --offline --no-ocsp --no-rim @"
	"--expected-count|0|gpu verify $G --nonce $gn --offline --no-ocsp --no-rim @"
	"--repeat|0|gpu verify $G --nonce $gn --offline --no-ocsp --no-rim @"
	"--repeat|x|tdx verify $Q --collateral $C --offline --at 2025-07-19T10:00:34Z @"
	"--gpus|abc|kbs verify-bench --sim $tmp/sim --flows 2 @"
	"--flows|1e3|kbs verify-bench --sim $tmp/sim @"
	"--seconds|0|kbs verify-bench --sim $tmp/sim @"
	"--seconds|5|kbs verify-bench --sim $tmp/sim --flows 2 @"
	"--seconds|5|kbs bench --url http://127.0.0.1:9 --sim $tmp/sim a/b/c @"
	"--clients|300|kbs bench --url http://127.0.0.1:9 --sim $tmp/sim a/b/c @"
	"--limit|0|kbs audit --url http://127.0.0.1:9 --admin-key $tmp/none @"
	"--timeout|5s|kbs audit --url http://127.0.0.1:9 --admin-key $tmp/none @"
	"--gpus|x|sim evidence $tmp/sim --tee snp --nonce AAAA --tee-pubkey $tmp/none @"
	"--vcpu-family|999|measure snp --ovmf $O --vcpus 1 --vcpu-model 1 --vcpu-stepping 1 @"
	"--vcpu-stepping|16|measure snp --ovmf $O --vcpus 1 --vcpu-family 25 --vcpu-model 1 @"
	"--tee|bogus|verify $tmp/none @"
	"--max-vmpl|abc|snp verify $tmp/none @"
	"--threads|0|model verity $O @"
	# 0 is the verifiers' "now": the epoch itself must not quietly mean today
	"--at|1970-01-01T00:00:00Z|tdx verify $Q --collateral $C --offline @"
	"--at|1969-12-31T23:59:59Z|gpu verify $G --nonce $gn --offline --no-ocsp --no-rim @"
	"--at|2025-02-29T00:00:00Z|tdx verify $Q --collateral $C --offline @"
)
for k in "${cases[@]}"; do
	opt=${k%%|*}; rest=${k#*|}; val=${rest%%|*}; line=${rest#*|}
	# shellcheck disable=SC2086
	"$cct" ${line/@/$opt $val} >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q -- "$opt" "$tmp/err" && ok ||
		bad "$opt $val in '${line%% --*} ...': exit $rc $(head -c 200 "$tmp/err")"
done
# an empty --report-data is not "64 zero bytes" (the loop above cannot pass an empty word)
for cmd in "tdx verify $Q --collateral $C --offline" "snp verify $tmp/none --offline --no-crl"; do
	# shellcheck disable=SC2086
	"$cct" $cmd --report-data "" >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q -- "--report-data" "$tmp/err" && ok ||
		bad "--report-data '' in '${cmd%% *} ...': exit $rc $(head -c 200 "$tmp/err")"
done
# an option a subcommand does not read is refused (exit 2), naming the option and the
# subcommand, never accepted and ignored: "WANT-IN-STDERR|command line"
S0=m@r:$(printf '%064d' 0)
foreign=(
	"model spec: --threads does not apply|model spec $S0 --threads 2"
	"model spec: --output does not apply|model spec $S0 --json --output $tmp/x"
	"usage: cctrust model spec|model spec $S0 $S0"
	"model pack: --salt does not apply|model pack $tmp/sim -o $tmp/m.tar --salt -"
	"verify: --token-always does not apply to the text output|verify $tmp/none --trust-sim $tmp/sim --token-always"
	"evidence collect: --cpu does not apply with --tee az-snp-vtpm|evidence collect --tee az-snp-vtpm --cpu tsm --event-log none --no-gpu"
	"gate: --cpu does not apply with --tee az-tdx-vtpm|gate --policy $tmp/none --tee az-tdx-vtpm --cpu auto --event-log none -- true"
	"model verify: --uuid does not apply|model verify $tmp/m.tar $tmp/m.tar.verity $S0 --uuid 00000000-0000-0000-0000-000000000000"
)
for f in "${foreign[@]}"; do
	# shellcheck disable=SC2086
	"$cct" ${f#*|} >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q -- "${f%%|*}" "$tmp/err" && ok ||
		bad "foreign option: ${f#*|}: exit $rc $(head -c 200 "$tmp/err")"
done
[ ! -e "$tmp/x" ] && [ ! -e "$tmp/m.tar" ] && ok || bad "a refused option's command wrote its output"
echo "option values: $pass right, $fail wrong"
[ $fail = 0 ]
