#!/bin/bash
# Guest side of az-tdx-vtpm (and az-snp-vtpm's VCEK from IMDS) against swtpm provisioned like an
# Azure TDX paravisor vTPM: an AK at 0x81000003, an HCL report at NV index 0x01400001 whose
# (simulated) TD report binds that AK through REPORTDATA = SHA-256(runtime data), the request
# index 0x01400002; a loopback fake of Azure IMDS (tests/tpm/fake_imds.py: /acc/tdquote made by
# the simulated quoting enclave, THIM with the simulated VCEK).
#   collect --tee az-tdx-vtpm --imds URL -> cctrust verify / vtpm verify accepted; the same
#   through $CCT_IMDS_URL; an IMDS answering with another TD report's quote -> refused at
#   binding (REPORTDATA); IMDS unreachable -> collection fails (exit 2); az-snp-vtpm on a TDX
#   HCL report -> refused by the collector; az-snp-vtpm without --vcek -> VCEK from THIM,
#   accepted; the boot gate on the TDX vTPM.
# Skips (77) without swtpm / tpm2-tools. Servers on 127.0.0.1 only, stopped by PID.
set -u
C=${CCT_CLI:?CCT_CLI not set}
SRC=${CCT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v swtpm >/dev/null && command -v tpm2_createprimary >/dev/null || {
	echo "swtpm or tpm2-tools missing (scripts/install-deps.sh installs them)"; exit 77; }
T=$(mktemp -d)
SPID=
IPID=
trap '[[ -n $IPID ]] && kill $IPID 2>/dev/null; [[ -n $SPID ]] && kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

. "$(dirname "$0")/swtpm_lib.sh"
swtpm_start

cd "$T" || exit 1
swtpm_provision_ak
"$C" sim init "$T/sim" >/dev/null || exit 1

put_hcl() { # put_hcl FILE: (re)define the report index with it
	tpm2_nvundefine 0x01400001 -C o >/dev/null 2>&1; flush
	q tpm2_nvdefine 0x01400001 -C o -s "$(stat -c %s "$1")" -a "ownerread|ownerwrite|authread|authwrite"
	q tpm2_nvwrite 0x01400001 -C o -i "$1"
}
make_hcl tdx ak.pem hcl-tdx.bin || { echo "cannot build the TDX HCL report"; exit 1; }
put_hcl hcl-tdx.bin
q tpm2_nvdefine 0x01400002 -C o -s 64 -a "ownerread|ownerwrite|authread|authwrite"

# the fake IMDS (loopback, 300 s at most, stopped by PID)
python3 "$SRC/tests/tpm/fake_imds.py" "$C" "$T/sim" imds.port imds.mode 300 2>imds.log &
IPID=$!
for i in $(seq 1 100); do [[ -s imds.port ]] && break; kill -0 $IPID 2>/dev/null || break; sleep 0.05; done
[[ -s imds.port ]] || { echo "fake IMDS did not start"; cat imds.log; exit 1; }
IMDS=http://127.0.0.1:$(cat imds.port)

"$C" sim tee-key >tee.jwk
N=$(head -c 32 /dev/urandom | base64)
collect() { # collect TEE OUT [more options]
	local tee=$1 out=$2
	shift 2
	"$C" evidence collect --tee "$tee" --tcti "$TCTI" --nonce "$N" --tee-pubkey tee.jwk \
		--event-log none --no-gpu -o "$out" "$@"
}

# --- az-tdx-vtpm: TD quote from IMDS
if collect az-tdx-vtpm req1.json --imds "$IMDS" 2>c1.err &&
	"$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --json >out1.json; then
	pass collect-verify-tdx
else
	fail collect-verify-tdx; cat c1.err; head -c 1200 out1.json
fi
python3 -c "
import json; r = json.load(open('out1.json')); c = r['submods']['cpu0']['claims']
assert r['tee'] == 'az-tdx-vtpm' and r['binding'] == 'verified' and c['simulated']
assert c['hcl']['report_type'] == 'tdx' and len(c['pcrs']['sha256']) == 24
assert c['tdx']['report_data'][:64] == c['hcl']['runtime_data_hash']" && pass claims-tdx || fail claims-tdx
python3 -c "import json; r = json.load(open('req1.json')); json.dump(r['tee-evidence']['primary_evidence'], open('ev1.json', 'w'))"
"$C" vtpm verify ev1.json --trust-sim "$T/sim" >/dev/null && pass vtpm-verify-tdx || fail vtpm-verify-tdx
# the IMDS base from the environment
CCT_IMDS_URL=$IMDS collect az-tdx-vtpm req2.json 2>c2.err &&
	"$C" verify req2.json --trust-sim "$T/sim" --nonce "$N" >/dev/null && pass imds-url-env || { fail imds-url-env; cat c2.err; }
# a host answering with the quote of another TD report: refused at binding
echo other-report >imds.mode
collect az-tdx-vtpm req3.json --imds "$IMDS" 2>c3.err || fail "collect with other-report IMDS"
rm -f imds.mode
"$C" verify req3.json --trust-sim "$T/sim" --nonce "$N" --json >out3.json
rc=$?
[[ $rc == 1 ]] && grep -q '"binding"' out3.json && grep -q 'REPORTDATA differs' out3.json && pass imds-other-report-refused ||
	{ fail "imds-other-report-refused (exit $rc)"; head -c 600 out3.json; }
# IMDS unreachable: collection fails (exit 2), naming IMDS
collect az-tdx-vtpm req4.json --imds "http://127.0.0.1:1" 2>c4.err
rc=$?
[[ $rc == 2 ]] && grep -q IMDS c4.err && pass imds-unreachable || { fail "imds-unreachable (exit $rc)"; cat c4.err; }
# asking for az-snp-vtpm on a TDX paravisor: the collector says so
collect az-snp-vtpm req5.json --imds "$IMDS" 2>c5.err
rc=$?
[[ $rc == 2 ]] && grep -q 'TDX' c5.err && pass snp-on-tdx-hcl-refused || { fail "snp-on-tdx-hcl-refused (exit $rc)"; cat c5.err; }
# the boot gate on the TDX vTPM: runs COMMAND when the policy passes, not otherwise
export CCT_NVML_LIB=$T/absent-libnvidia-ml.so
printf '{"version":"cctrust.policy/v1","tee":["az-tdx-vtpm"]}' >gate-ok.json
printf '{"version":"cctrust.policy/v1","tee":["az-snp-vtpm"]}' >gate-bad.json
G="gate --trust-sim $T/sim --tee az-tdx-vtpm --tcti $TCTI --imds $IMDS --event-log none"
"$C" $G --policy gate-ok.json -- touch "$T/ran" 2>gate.err && [[ -f $T/ran ]] && pass gate-runs-tdx || { fail gate-runs-tdx; cat gate.err; }
rm -f "$T/ran"
"$C" $G --policy gate-bad.json -- touch "$T/ran" 2>gate.err
rc=$?
[[ $rc == 1 && ! -f $T/ran ]] && pass gate-refuses-tdx || { fail "gate-refuses-tdx (exit $rc)"; cat gate.err; }

# --- az-snp-vtpm with the VCEK from IMDS THIM (no --vcek)
make_hcl snp ak.pem hcl-snp.bin || { echo "cannot build the SNP HCL report"; exit 1; }
put_hcl hcl-snp.bin
if collect az-snp-vtpm req6.json --imds "$IMDS" 2>c6.err &&
	"$C" verify req6.json --trust-sim "$T/sim" --nonce "$N" --json >out6.json; then
	pass thim-vcek-snp
else
	fail thim-vcek-snp; cat c6.err; head -c 900 out6.json
fi
python3 -c "
import base64, json, subprocess
e = json.load(open('req6.json'))['tee-evidence']['primary_evidence']
v = base64.urlsafe_b64decode(e['vcek'] + '=' * (-len(e['vcek']) % 4))
pem = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-outform', 'PEM'], input=v, capture_output=True).stdout
assert pem.strip() == open('$T/sim/snp/vcek.pem', 'rb').read().strip()" && pass thim-vcek-is-the-chips || fail thim-vcek-is-the-chips

echo "$fails failure(s)"
[[ $fails == 0 ]]
