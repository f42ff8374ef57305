#!/bin/bash
# Guest side against fakes: a fake configfs-tsm kernel (tests/attester/fake_tsm.py) signing with
# the simulated SNP platform, and a fake libnvidia-ml.so built here with cc -shared.
# Collect -> verify (binding is real: REPORT_DATA was made by the attester), GPU nonce and CC
# state recorded, the boot gate runs a command only when attestation passes.
set -u
C=${CCT_CLI:?CCT_CLI not set}
SRC=${CCT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
KPID=
KPID2=
trap '[[ -n $KPID ]] && kill $KPID 2>/dev/null; [[ -n $KPID2 ]] && kill $KPID2 2>/dev/null; rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

"$C" sim init "$T/sim" >/dev/null || exit 1
"$C" sim tee-key >"$T/tee.jwk"
mkdir -p "$T/tsm"
cc -shared -fPIC -o "$T/libfakenvml.so" "$SRC/tests/attester/fake_nvml.c" || { echo "cannot build fake NVML"; exit 1; }
python3 "$SRC/tests/attester/fake_tsm.py" "$C" "$T/sim" "$T/tsm" &
KPID=$!
export CCT_TSM_ROOT=$T/tsm CCT_NVML_LIB=$T/absent-libnvidia-ml.so
N=$(head -c 32 /dev/urandom | base64)
S="--trust-sim $T/sim"

# 1. configfs-tsm, no GPU: the collected request verifies with real binding
if "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/req.json" &&
   "$C" verify "$T/req.json" $S --nonce "$N" >"$T/out.txt"; then pass tsm-collect-verify; else fail tsm-collect-verify; cat "$T/out.txt"; fi
grep -q '"outblob"' "$T/req.json" && grep -q '"provider": "sev_guest"' "$T/req.json" && pass tsm-shape || fail tsm-shape
# the inblob the attester wrote is the REPORT_DATA carried by the verified report
python3 - "$T/tsm" "$T/req.json" <<'PY' && pass tsm-inblob-is-report-data || fail tsm-inblob-is-report-data
import base64, glob, json, sys
ib = [open(p, 'rb').read() for p in glob.glob(sys.argv[1] + '/cctrust-*/inblob')]
rep = base64.b64decode(json.load(open(sys.argv[2]))['tee-evidence']['primary_evidence']['outblob'])
assert len(ib) == 1 and len(ib[0]) == 64 and rep[0x50:0x90] == ib[0]
PY
# the attester wrote REPORT_DATA = SHA-384(JCS(runtime data)): swap the key and it no longer binds
python3 -c "
import json; r=json.load(open('$T/req.json')); r['runtime-data']['tee-pubkey']['x']=r['runtime-data']['tee-pubkey']['y']; json.dump(r,open('$T/req2.json','w'))"
"$C" verify "$T/req2.json" $S --nonce "$N" --json >"$T/o.json"; rc=$?
[[ $rc == 1 ]] && pass tsm-rebinding-refused || fail "tsm-rebinding-refused ($rc)"

# a hostile configfs-tsm: an outblob cut short, padded, or over another inblob is refused (exit 2,
# named), never written out as evidence; a second fake kernel serves $T/tsm-bad
mkdir -p "$T/tsm-bad"
python3 "$SRC/tests/attester/fake_tsm.py" "$C" "$T/sim" "$T/tsm-bad" &
KPID2=$!
for m in "short:1000 bytes; an SNP report is 1184" "long:1200 bytes; an SNP report is 1184" \
	"foreign:REPORT_DATA is "; do
	echo "${m%%:*}" >"$T/tsm-bad.mode"
	rm -f "$T/bad-tsm.json"
	CCT_TSM_ROOT=$T/tsm-bad "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/bad-tsm.json" 2>"$T/e.txt"; rc=$?
	[[ $rc == 2 && ! -e $T/bad-tsm.json ]] && grep -q "configfs-tsm outblob (sev_guest): ${m#*:}" "$T/e.txt" &&
		pass "tsm-${m%%:*}-outblob-refused" || { fail "tsm-${m%%:*}-outblob-refused ($rc)"; cat "$T/e.txt"; }
done
# a TDX kernel: the quote's REPORT_DATA is checked the same way (found through the quote parser);
# the CCEL is this test's (none), never the machine's ACPI table
echo tdx >"$T/tsm-bad.mode"
export CCT_CCEL=$T/no-ccel
CCT_TSM_ROOT=$T/tsm-bad "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/tdx-tsm.json" 2>"$T/e.txt" &&
	"$C" verify "$T/tdx-tsm.json" $S --nonce "$N" >/dev/null 2>&1 && grep -q '"quote"' "$T/tdx-tsm.json" &&
	pass tsm-tdx-collect-verify || { fail tsm-tdx-collect-verify; cat "$T/e.txt"; }
printf 'CCEL-FIXTURE' >"$T/ccel.bin"
CCT_CCEL=$T/ccel.bin CCT_TSM_ROOT=$T/tsm-bad "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/tdx-ccel.json" 2>"$T/e.txt" &&
	python3 -c "import base64,json,sys; pe=json.load(open('$T/tdx-ccel.json'))['tee-evidence']['primary_evidence']; sys.exit(base64.b64decode(pe['cc_eventlog']) != b'CCEL-FIXTURE' or json.load(open('$T/tdx-tsm.json'))['tee-evidence']['primary_evidence']['cc_eventlog'] is not None)" &&
	pass tsm-tdx-ccel-from-env || { fail tsm-tdx-ccel-from-env; cat "$T/e.txt"; }
echo tdx-foreign >"$T/tsm-bad.mode"
rm -f "$T/bad-tsm.json"
CCT_TSM_ROOT=$T/tsm-bad "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/bad-tsm.json" 2>"$T/e.txt"; rc=$?
[[ $rc == 2 && ! -e $T/bad-tsm.json ]] && grep -q "configfs-tsm outblob (tdx_guest): REPORT_DATA is " "$T/e.txt" &&
	pass tsm-tdx-foreign-outblob-refused || { fail "tsm-tdx-foreign-outblob-refused ($rc)"; cat "$T/e.txt"; }

# 2. GPUs through the fake NVML: nonce = first 32 bytes of SHA-384(JCS({nonce,tee-pubkey}))
export CCT_NVML_LIB=$T/libfakenvml.so FAKE_NVML_GPUS=2 FAKE_NVML_CC=on FAKE_NVML_READY_FILE=$T/ready
"$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/req-gpu.json" || fail gpu-collect
python3 - "$T/req-gpu.json" <<'PY' && pass gpu-nonce-and-cc-recorded || fail gpu-nonce-and-cc-recorded
import base64, hashlib, json, sys
r = json.load(open(sys.argv[1]))
rd = r['runtime-data']
jcs = json.dumps({'nonce': rd['nonce'], 'tee-pubkey': rd['tee-pubkey']}, sort_keys=True, separators=(',', ':'))
want = hashlib.sha384(jcs.encode()).digest()[:32]
nv = json.loads(r['tee-evidence']['additional_evidence'])['nvidia']
assert nv['cc_mode'] == 'on' and nv['ppcie_mode'] is False and len(nv['device_evidence_list']) == 2
for d in nv['device_evidence_list']:
    ev = base64.b64decode(d['evidence'])
    assert ev[:9] == b'FAKE-SPDM' and ev[9:41] == want, 'wrong SPDM nonce'
    assert d['arch'] == 'HOPPER' and d['uuid'].startswith('GPU-fake')
PY
# the CPU report binds the GPU evidence; the fake NVML's "reports" are not SPDM: the GPU
# verifier refuses them by name (real simulated GPUs: tests/composite/e2e_tdx_gpu.sh)
"$C" verify "$T/req-gpu.json" $S --nonce "$N" --json >"$T/o.json"; rc=$?
[[ $rc == 1 ]] && python3 -c "import json; r=json.load(open('$T/o.json')); e=r['error']; assert r['binding']=='verified' and r['gpu_count']==2 and e['code']=='unsupported' and e['stage']=='parse' and e['message'].startswith('gpu0: SPDM') and r['submods']['gpu0']['verified'] is False" && pass gpu-bound-fake-refused || fail gpu-bound-fake-refused
# a GPU whose UUID is not text fails the collection (was: that GPU left out of the evidence
# list silently, exit 0, 1 of 2 GPUs in the request)
rm -f "$T/req-bad-uuid.json"
FAKE_NVML_BAD_UUID=1 "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/req-bad-uuid.json" 2>"$T/e.txt"; rc=$?
[[ $rc == 2 && ! -e $T/req-bad-uuid.json ]] && grep -q "NVML: GPU 1 UUID is not UTF-8 text" "$T/e.txt" &&
	pass gpu-bad-uuid-not-dropped || { fail "gpu-bad-uuid-not-dropped ($rc)"; cat "$T/e.txt"; }
# CC off recorded by the attester -> the policy's gpu.cc_mode rule names it
FAKE_NVML_CC=off "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/req-off.json"
"$C" verify "$T/req-off.json" $S --nonce "$N" --json >"$T/o.json"
python3 -c "import json; r=json.load(open('$T/o.json')); assert [f for f in r['failures'] if f['rule']=='gpu.cc_mode' and f['actual']=='off']" && pass cc-off-named || fail cc-off-named
FAKE_NVML_CC=devtools "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" -o "$T/req-dev.json"
"$C" verify "$T/req-dev.json" $S --nonce "$N" --json >"$T/o.json"
python3 -c "import json; r=json.load(open('$T/o.json')); assert [f for f in r['failures'] if f['rule']=='gpu.cc_mode' and f['actual']=='devtools']" && pass devtools-refused || fail devtools-refused

# 3. the boot gate
echo '{"version":"cctrust.policy/v1","id":"gate"}' >"$T/pol.json"
out=$("$C" gate --policy "$T/pol.json" $S --no-gpu -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 0 && $out == STARTED ]] && pass gate-runs-when-attested || { fail "gate-runs-when-attested ($rc)"; cat "$T/gate.err"; }
# the command's own exit status comes through; 127 when it cannot be executed
"$C" gate --policy "$T/pol.json" $S --no-gpu -- sh -c 'exit 3' 2>/dev/null; rc=$?
[[ $rc == 3 ]] && pass gate-command-status || fail "gate-command-status ($rc)"
"$C" gate --policy "$T/pol.json" $S --no-gpu -- "$T/no-such-command" 2>"$T/gate.err"; rc=$?
[[ $rc == 127 ]] && grep -q "cannot exec" "$T/gate.err" && pass gate-exec-failure-127 || fail "gate-exec-failure-127 ($rc)"
echo "{\"version\":\"cctrust.policy/v1\",\"snp\":{\"measurements\":[\"$(printf '00%.0s' $(seq 48))\"]}}" >"$T/pol-bad.json"
out=$("$C" gate --policy "$T/pol-bad.json" $S --no-gpu -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 1 && -z $out ]] && grep -q snp.measurements "$T/gate.err" && pass gate-refuses-policy || fail "gate-refuses-policy ($rc)"
rm -f "$T/ready"
out=$("$C" gate --policy "$T/pol.json" $S -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 1 && -z $out && ! -e $T/ready ]] && pass gate-gpus-not-ready-when-unverified || fail "gate-gpus-not-ready-when-unverified ($rc)"
# after attesting, the GPUs' state must be readable and hold exactly the GPUs attested before
# the system-wide ready switch is flipped (was: an NVML error skipped it silently and the command
# ran; a GPU that appeared after collection was set ready unattested)
for g in "0,fail:state cannot be read" "0,1:1 GPU(s) present now, 0 attested"; do
	rm -f "$T/ready" "$T/inits"
	out=$(FAKE_NVML_GPUS=${g%%:*} FAKE_NVML_INIT_COUNT_FILE=$T/inits "$C" gate --policy "$T/pol.json" $S -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
	[[ $rc == 1 && -z $out && ! -e $T/ready ]] && grep -q "${g#*:}" "$T/gate.err" &&
		pass "gate-gpu-state-${g%%:*}-refused" || { fail "gate-gpu-state-${g%%:*}-refused ($rc)"; cat "$T/gate.err"; }
done
rm -f "$T/ready"
out=$(FAKE_NVML_GPUS=0 "$C" gate --policy "$T/pol.json" $S -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 0 && $out == STARTED && ! -e $T/ready ]] && pass gate-no-gpu-present-runs || { fail "gate-no-gpu-present-runs ($rc)"; cat "$T/gate.err"; }
out=$("$C" gate --policy "$T/pol.json" --no-gpu -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 1 && -z $out ]] && pass gate-untrusted-root || fail "gate-untrusted-root ($rc)"
# an unknown --cpu is a usage error (was exit 1 "REFUSED: cannot collect evidence"), found
# before anything is read or collected: no TEE interface at all, a policy file that is not there
for pol in "$T/pol.json" "$T/absent.json"; do
	out=$(CCT_TSM_ROOT=$T/no-tsm CCT_SEV_GUEST_DEV=$T/no-dev "$C" gate --policy "$pol" $S --no-gpu --cpu bogus -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
	[[ $rc == 2 && -z $out ]] && grep -q -- "--cpu: 'bogus'" "$T/gate.err" && grep -q "auto, tsm, sev-guest" "$T/gate.err" &&
		pass "gate-cpu-usage-error ($pol)" || { fail "gate-cpu-usage-error ($pol, $rc)"; cat "$T/gate.err"; }
done

# a nonce or tee-pubkey the verifier would refuse is refused before evidence is bound to it
for bad in "--nonce notbase64!! --tee-pubkey $T/tee.jwk" "--nonce '' --tee-pubkey $T/tee.jwk" \
	"--nonce $N --tee-pubkey {\"kty\":\"oct\"}"; do
	rm -f "$T/bad.json"
	eval "\"\$C\" evidence collect $bad --no-gpu -o \"\$T/bad.json\"" 2>"$T/e.txt"
	[[ $? == 2 && ! -e $T/bad.json ]] && grep -qE -- "--nonce|--tee-pubkey" "$T/e.txt" &&
		pass "bad-input-refused ($bad)" || fail "bad-input-refused ($bad): $(cat "$T/e.txt")"
done

# -o never replaces an input, standard input is read once, --tee-pubkey - reads it, and the
# JWK file goes through the bounded reader (was: -o over --tee-pubkey / --init-data overwrote
# it with the request, a second - read nothing, - was a file name, any size was loaded)
cp "$T/tee.jwk" "$T/tee2.jwk"; printf 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n' >"$T/init.toml"
cp "$T/init.toml" "$T/init2.toml"
"$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee2.jwk" --no-gpu -o "$T/../$(basename "$T")/tee2.jwk" 2>"$T/e.txt"; rc=$?
[[ $rc == 2 ]] && cmp -s "$T/tee.jwk" "$T/tee2.jwk" && grep -q "is also --tee-pubkey: it would be overwritten" "$T/e.txt" &&
	pass out-over-tee-pubkey-refused || fail "out-over-tee-pubkey-refused ($rc)"
"$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" --init-data "$T/init2.toml" --no-gpu -o "$T/init2.toml" 2>"$T/e.txt"; rc=$?
[[ $rc == 2 ]] && cmp -s "$T/init.toml" "$T/init2.toml" && grep -q "is also --init-data" "$T/e.txt" &&
	pass out-over-init-data-refused || fail "out-over-init-data-refused ($rc)"
"$C" evidence collect --nonce "$N" --tee-pubkey - --init-data - --no-gpu -o "$T/two.json" <"$T/tee.jwk" 2>"$T/e.txt"; rc=$?
[[ $rc == 2 && ! -e $T/two.json ]] && grep -q "standard input (-) given for 2 options" "$T/e.txt" &&
	pass collect-stdin-twice-refused || fail "collect-stdin-twice-refused ($rc)"
"$C" evidence collect --nonce "$N" --tee-pubkey - --no-gpu -o "$T/stdin.json" <"$T/tee.jwk" && grep -q '"outblob"' "$T/stdin.json" &&
	pass tee-pubkey-from-stdin || fail tee-pubkey-from-stdin
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big.jwk"
"$C" evidence collect --nonce "$N" --tee-pubkey "$T/big.jwk" --no-gpu >/dev/null 2>"$T/e.txt"; rc=$?
[[ $rc == 2 ]] && grep -q -- "--tee-pubkey: .*big.jwk is larger than the 65536-byte limit" "$T/e.txt" &&
	pass tee-pubkey-bounded || fail "tee-pubkey-bounded ($rc)"
out=$("$C" gate --policy - --init-data - $S --no-gpu -- sh -c 'echo STARTED' <"$T/pol.json" 2>"$T/gate.err"); rc=$?
[[ $rc == 2 && -z $out ]] && grep -q "standard input (-) given for 2 options" "$T/gate.err" &&
	pass gate-stdin-twice-refused || { fail "gate-stdin-twice-refused ($rc)"; cat "$T/gate.err"; }

# init-data that is not text is refused, never dropped (was: bytes that are not UTF-8 left the
# request without init-data, a NUL cut it short, both exit 0; gate ran the command)
printf 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\nx = "\xff"\n' >"$T/bad-utf8.toml"
printf 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\0x = "hidden"\n' >"$T/bad-nul.toml"
for f in "bad-utf8.toml:not UTF-8 text" "bad-nul.toml:a NUL byte at offset 45"; do
	rm -f "$T/id.json"
	"$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" --no-gpu --init-data "$T/${f%%:*}" -o "$T/id.json" 2>"$T/e.txt"; rc=$?
	[[ $rc == 2 && ! -e $T/id.json ]] && grep -q -- "--init-data .*${f#*:}" "$T/e.txt" &&
		pass "init-data-${f%%:*}-refused" || { fail "init-data-${f%%:*}-refused ($rc)"; cat "$T/e.txt"; }
	out=$("$C" gate --policy "$T/pol.json" $S --no-gpu --init-data "$T/${f%%:*}" -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
	[[ $rc == 2 && -z $out ]] && grep -q "${f#*:}" "$T/gate.err" &&
		pass "gate-init-data-${f%%:*}-refused" || { fail "gate-init-data-${f%%:*}-refused ($rc)"; cat "$T/gate.err"; }
done

# --init-data with a vTPM --tee (no field for it) is a usage error in gate too (was exit 1,
# "REFUSED: cannot collect evidence"); found before any TPM is opened
out=$("$C" gate --policy "$T/pol.json" --tee az-snp-vtpm --init-data "$T/init.toml" --no-gpu -- sh -c 'echo STARTED' 2>"$T/gate.err"); rc=$?
[[ $rc == 2 && -z $out ]] && grep -q -- "--init-data does not apply with --tee az-snp-vtpm" "$T/gate.err" &&
	pass gate-vtpm-init-data-usage || { fail "gate-vtpm-init-data-usage ($rc)"; cat "$T/gate.err"; }

# evidence collect: an unknown --cpu is a usage error found before anything is collected (was:
# the GPUs' SPDM reports were requested first, tdx-guest was taken though not documented)
for m in bogus tdx-guest ""; do
	rm -f "$T/inits"
	CCT_NVML_LIB=$T/libfakenvml.so FAKE_NVML_INIT_COUNT_FILE=$T/inits "$C" evidence collect --cpu "$m" --nonce "$N" --tee-pubkey "$T/tee.jwk" >/dev/null 2>"$T/e.txt"; rc=$?
	[[ $rc == 2 && ! -e $T/inits ]] && grep -q -- "--cpu: '$m' is not one of auto, tsm, sev-guest" "$T/e.txt" &&
		pass "collect-cpu-usage-error ($m)" || { fail "collect-cpu-usage-error ($m, $rc)"; cat "$T/e.txt"; }
done

# a request that cannot be written to standard output is a failure (was exit 0, nothing out)
"$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" --no-gpu >&- 2>"$T/e.txt"; rc=$?
[[ $rc == 2 ]] && grep -q "cannot write the request to standard output" "$T/e.txt" && pass collect-stdout-closed || fail "collect-stdout-closed ($rc)"

# 4. no TEE interface / a device that is not sev-guest: clear errors, exit 2
CCT_TSM_ROOT=$T/none CCT_SEV_GUEST_DEV=$T/none "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" --no-gpu >/dev/null 2>"$T/e.txt"
[[ $? == 2 ]] && grep -q "no TEE interface" "$T/e.txt" && pass no-tee-interface || fail no-tee-interface
# a TEE interface variable set but empty is refused by name (was: CCT_TSM_ROOT= fell back to
# the sev-guest device, and with --cpu tsm made the report entry at /cctrust-*); only the auto
# method here, which also on the old code touches no real interface
for v in CCT_TSM_ROOT CCT_SEV_GUEST_DEV; do
	env CCT_TSM_ROOT=$T/none CCT_SEV_GUEST_DEV=$T/none $v= "$C" evidence collect --nonce "$N" --tee-pubkey "$T/tee.jwk" --no-gpu >/dev/null 2>"$T/e.txt"; rc=$?
	[[ $rc == 2 ]] && grep -qF "\$$v is set but empty" "$T/e.txt" && pass "empty-$v-refused" || { fail "empty-$v-refused ($rc)"; cat "$T/e.txt"; }
done
touch "$T/fake-dev"
CCT_SEV_GUEST_DEV=$T/fake-dev "$C" evidence collect --cpu sev-guest --nonce "$N" --tee-pubkey "$T/tee.jwk" --no-gpu >/dev/null 2>"$T/e.txt"
[[ $? == 2 ]] && grep -q "SNP_GET_EXT_REPORT" "$T/e.txt" && pass sev-guest-ioctl-error || fail sev-guest-ioctl-error

echo "attester e2e: $fails failure(s)"
exit $((fails > 0))
