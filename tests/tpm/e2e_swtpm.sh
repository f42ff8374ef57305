#!/bin/bash
# Guest side against swtpm (a real TPM 2.0 implementation) provisioned like an Azure paravisor
# vTPM: an AK at 0x81000003, an HCL report at NV index 0x01400001 whose (simulated) SNP report
# binds that AK through REPORT_DATA = SHA-256(runtime data), the request index 0x01400002.
# collect (tpm2-tss) -> verify with real binding -> accepted; a real UEFI event log (go-eventlog's
# rhel8) replayed into swtpm's PCRs and sent with the evidence -> Secure Boot / kernel command
# line rules decided on it, another machine's log refused; a PCR extended after the policy was
# written -> the next quote no longer satisfies it; the boot gate and cctrustd (loopback) on this
# vTPM; a foreign AK -> refused.
# Skips (77) without swtpm / tpm2-tools. swtpm listens on 127.0.0.1 only, stopped by PID.
set -u
C=${CCT_CLI:?CCT_CLI not set}
command -v swtpm >/dev/null && command -v tpm2_createprimary >/dev/null || {
	echo "swtpm or tpm2-tools missing (scripts/install-deps.sh installs them)"; exit 77; }
T=$(mktemp -d)
SPID=
DPID=
trap '[[ -n $DPID ]] && kill $DPID 2>/dev/null; [[ -n $SPID ]] && kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

. "$(dirname "$0")/swtpm_lib.sh"
swtpm_start

# --- provision: the paravisor's AK and HCL report (runtime data with the AK, SNP report over it)
cd "$T"
swtpm_provision_ak

"$C" sim init "$T/sim" >/dev/null || exit 1
make_hcl snp ak.pem hcl.bin || { echo "cannot build the HCL report"; exit 1; }
q tpm2_nvdefine 0x01400001 -C o -s "$(stat -c %s hcl.bin)" -a "ownerread|ownerwrite|authread|authwrite"
q tpm2_nvwrite 0x01400001 -C o -i hcl.bin
q tpm2_nvdefine 0x01400002 -C o -s 64 -a "ownerread|ownerwrite|authread|authwrite"

# --- collect -> verify (binding real: the quote's qualifyingData is the runtime-data hash)
"$C" sim tee-key >"$T/tee.jwk"
N=$(head -c 32 /dev/urandom | base64)
collect() { # collect OUT [EVENT_LOG|none]
	"$C" evidence collect --tee az-snp-vtpm --tcti "$TCTI" --vcek "$T/sim/snp/vcek.pem" \
	--nonce "$N" --tee-pubkey "$T/tee.jwk" --event-log "${2:-none}" -o "$1"; }
if collect req1.json && "$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --json >out1.json; then
	pass collect-verify
else
	fail collect-verify; head -c 1500 out1.json
fi
python3 -c "
import json; r = json.load(open('out1.json')); c = r['submods']['cpu0']['claims']
assert r['tee'] == 'az-snp-vtpm' and r['binding'] == 'verified' and c.get('simulated')
assert len(c['pcrs']['sha256']) == 24
# the vTPM verifier checked the simulated AMD CRL: the verdict does not list it as skipped
assert 'crl' not in r['checks_skipped'] and 'snp_crl' not in c['checks_skipped'], r['checks_skipped']" && pass claims || fail claims
# --no-crl: skipped in both, and insecure
"$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --no-crl --json >out1n.json
python3 -c "
import json; r = json.load(open('out1n.json')); c = r['submods']['cpu0']['claims']
assert r['verified'] and 'crl' in r['checks_skipped'] and 'snp_crl' in c['checks_skipped'] and 'no-crl' in r['insecure']" &&
	pass no-crl-listed || fail no-crl-listed
# the evidence alone, through vtpm verify (nonce = the quote's extraData the attester chose)
python3 -c "import json; r = json.load(open('req1.json')); json.dump(r['tee-evidence']['primary_evidence'], open('ev1.json', 'w'))"
"$C" vtpm verify ev1.json --trust-sim "$T/sim" --json >v1.json && pass vtpm-verify || { fail vtpm-verify; head -c 800 v1.json; }
"$C" vtpm verify ev1.json --trust-sim "$T/sim" --nonce 00 >/dev/null; [[ $? == 1 ]] && pass vtpm-wrong-nonce || fail vtpm-wrong-nonce
"$C" vtpm verify ev1.json --json >/dev/null; [[ $? == 1 ]] && pass untrusted-sim-root || fail untrusted-sim-root
# another session's nonce: binding refused
N2=$(head -c 32 /dev/urandom | base64)
"$C" verify req1.json --trust-sim "$T/sim" --nonce "$N2" >/dev/null; [[ $? == 1 ]] && pass other-nonce || fail other-nonce

# --- measured boot: replay a real UEFI log into swtpm's SHA-256 PCRs, send it with the evidence
V=${CCT_VECTORS:-}
LOG=$V/vtpm/go-eventlog/tpm/rhel8-uefi.bin
if [[ -f $LOG ]]; then
	"$C" eventlog show "$LOG" --json >log.json || fail eventlog-show
	python3 -c "
import json; r = json.load(open('log.json'))
print(' '.join('%d:sha256=%s' % (e['pcr'], e['digests']['sha256']) for e in r['events'] if e['type'] != 'EV_NO_ACTION'))" >extends.txt
	for spec in $(cat extends.txt); do tpm2_pcrextend "$spec" >/dev/null 2>&1 || { fail "pcrextend $spec"; break; }; done
	flush
	collect req4.json "$LOG" || fail collect-with-log
	cat >polsb.json <<J
{"version": "cctrust.policy/v1", "vtpm": {"secure_boot": true, "kernel_cmdline": {"prefix": "(hd0,gpt2)/boot/vmlinuz-4.18.0-240.22.1.el8_3.x86_64 root=UUID="}}}
J
	"$C" verify req4.json --trust-sim "$T/sim" --nonce "$N" --policy polsb.json --json >out4.json &&
		python3 -c "
import json; c = json.load(open('out4.json'))['submods']['cpu0']['claims']['eventlog']
assert c['secure_boot'] is True and 'console=ttyS0,38400n8' in c['kernel_cmdline']" &&
		pass eventlog-facts-policy || { fail eventlog-facts-policy; head -c 900 out4.json; }
	sed 's/vmlinuz-4.18.0/vmlinuz-9.99/' polsb.json >polbad.json
	"$C" verify req4.json --trust-sim "$T/sim" --nonce "$N" --policy polbad.json --json >out5.json
	rc=$?
	[[ $rc == 1 ]] && grep -q '"vtpm.kernel_cmdline"' out5.json && pass cmdline-refused || { fail "cmdline-refused (exit $rc)"; head -c 600 out5.json; }
	# another machine's log does not explain these PCRs: rejected, the register named
	collect req6.json "$V/vtpm/go-eventlog/tpm/ubuntu-2104-no-secure-boot.bin" || fail collect-other-log
	"$C" verify req6.json --trust-sim "$T/sim" --nonce "$N" --json >out6.json
	rc=$?
	[[ $rc == 1 ]] && grep -q '"measurement"' out6.json && grep -q 'PCR' out6.json && pass foreign-log-refused || { fail "foreign-log-refused (exit $rc)"; head -c 600 out6.json; }
	# the boot gate on this vTPM: runs the command only when the policy passes
	export CCT_NVML_LIB=$T/absent-libnvidia-ml.so
	G="gate --trust-sim $T/sim --tee az-snp-vtpm --tcti $TCTI --vcek $T/sim/snp/vcek.pem --event-log $LOG"
	"$C" $G --policy polsb.json -- touch "$T/ran" 2>gate.err && [[ -f $T/ran ]] && pass gate-runs ||
		{ fail gate-runs; cat gate.err; }
	rm -f "$T/ran"
	"$C" $G --policy polbad.json -- touch "$T/ran" 2>gate.err
	rc=$?
	[[ $rc == 1 && ! -f $T/ran ]] && grep -q kernel_cmdline gate.err && pass gate-refuses ||
		{ fail "gate-refuses (exit $rc)"; cat gate.err; }
	# no log: the Secure Boot rule cannot be decided -> refused (fail closed)
	"$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --policy polsb.json >/dev/null
	[[ $? == 1 ]] && pass no-log-fails-closed || fail no-log-fails-closed
	# PCRs now hold the log's values: a fresh baseline for the PCR7 policy below
	collect req1.json && "$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --json >out1.json ||
		fail collect-again
else
	echo "no event-log vector under CCT_VECTORS"; fail eventlog-vector
fi

# --- policy pinned to PCR7 now; extend PCR7; the next quote no longer satisfies it
PCR7=$(python3 -c "import json; print(json.load(open('out1.json'))['submods']['cpu0']['claims']['pcrs']['sha256']['7'])")
cat >pol.json <<J
{"version": "cctrust.policy/v1", "tee": ["az-snp-vtpm"], "vtpm": {"pcrs": {"sha256": {"7": ["$PCR7"]}}}}
J
"$C" verify req1.json --trust-sim "$T/sim" --nonce "$N" --policy pol.json >/dev/null && pass policy-pcr7 || fail policy-pcr7
q tpm2_pcrextend 7:sha256=$(printf 'secure boot changed' | sha256sum | cut -c1-64)
collect req2.json || fail collect-2
"$C" verify req2.json --trust-sim "$T/sim" --nonce "$N" --policy pol.json --json >out2.json
rc=$?
[[ $rc == 1 ]] && grep -q '"vtpm.pcrs.sha256.7"' out2.json && pass pcr-extended-refused || { fail "pcr-extended-refused (exit $rc)"; head -c 800 out2.json; }
"$C" verify req2.json --trust-sim "$T/sim" --nonce "$N" >/dev/null && pass pcr-extended-no-policy || fail pcr-extended-no-policy

# --- the key broker: cctrustd (loopback, --trust-sim) releases a secret to this vTPM guest
D=$(dirname "$C")/cctrustd
if [[ -x $D ]]; then
	"$C" kbs admin-keygen admin.key admin.pub >/dev/null && head -c 32 /dev/urandom >master.key &&
		chmod 600 master.key
	"$D" --listen 127.0.0.1:0 --port-file d.port --admin-pubkey admin.pub --trust-sim "$T/sim" \
		--master-key master.key --store "sqlite:$T/d.db" 2>d.log &
	DPID=$!
	for i in $(seq 1 100); do [[ -s d.port ]] && break; kill -0 $DPID 2>/dev/null || break; sleep 0.05; done
	if [[ -s d.port ]]; then
		U=http://127.0.0.1:$(cat d.port)
		printf 'model-key-vtpm' >secret
		# the broker fails closed without policies: a plain attestation policy and a resource
		# policy that releases to affirming guests, simulated roots included (this test's SNP)
		printf '{"version":"cctrust.policy/v1"}' >att0.json
		printf '{"version":1,"allow_simulated":true,"rules":[{"name":"any-affirming","resources":["*/*/*"],"require":[{"all_submods":"affirming"}]}]}' >res0.json
		"$C" kbs set-attestation-policy --url "$U" --admin-key admin.key att0.json >/dev/null &&
			"$C" kbs set-policy --url "$U" --admin-key admin.key res0.json >/dev/null || fail broker-policies
		"$C" kbs put-resource --url "$U" --admin-key admin.key default/key/llm secret >/dev/null
		"$C" kbs get-resource --url "$U" --tee az-snp-vtpm --tcti "$TCTI" --vcek "$T/sim/snp/vcek.pem" \
			--event-log none default/key/llm -o got 2>kbs.err && cmp -s got secret &&
			pass broker-releases || { fail broker-releases; cat kbs.err; tail -5 d.log; }
		# attestation policy pinning PCR7 to another value: the broker refuses, naming the rule
		cat >attpol.json <<J
{"version": "cctrust.policy/v1", "vtpm": {"pcrs": {"sha256": {"7": ["$(printf '00%.0s' $(seq 32))"]}}}}
J
		"$C" kbs set-attestation-policy --url "$U" --admin-key admin.key attpol.json >/dev/null
		"$C" kbs get-resource --url "$U" --tee az-snp-vtpm --tcti "$TCTI" --vcek "$T/sim/snp/vcek.pem" \
			--event-log none default/key/llm -o got2 >kbs2.out 2>&1
		rc=$?
		[[ $rc == 1 && ! -s got2 ]] && grep -q 'vtpm.pcrs.sha256.7' kbs2.out && pass broker-refuses-pcr ||
			{ fail "broker-refuses-pcr (exit $rc)"; cat kbs2.out; }
	else
		fail "cctrustd did not start"; cat d.log
	fi
	kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; DPID=
else
	echo "cctrustd not built (libmicrohttpd missing): broker part not run"
fi

# --- a foreign AK: the HCL report binds another key than the one that signs the quote
openssl genrsa -out foreign.key 2048 2>/dev/null && openssl rsa -in foreign.key -pubout -out foreign.pem 2>/dev/null
make_hcl snp foreign.pem hcl2.bin && q tpm2_nvundefine 0x01400001 -C o &&
	q tpm2_nvdefine 0x01400001 -C o -s "$(stat -c %s hcl2.bin)" -a "ownerread|ownerwrite|authread|authwrite" &&
	q tpm2_nvwrite 0x01400001 -C o -i hcl2.bin
collect req3.json || fail collect-3
"$C" verify req3.json --trust-sim "$T/sim" --nonce "$N" --json >out3.json
rc=$?
[[ $rc == 1 ]] && grep -q '"signature"' out3.json && pass foreign-ak || { fail "foreign-ak (exit $rc)"; head -c 800 out3.json; }

echo "$fails failed"
[[ $fails == 0 ]]
