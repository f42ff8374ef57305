#!/bin/bash
# The three guest commands that collect paravisor vTPM evidence (evidence collect, gate, kbs
# get-resource) take the same vTPM options with the same defaults (tools/cctrust/cli_vtpm.c),
# on swtpm provisioned like an Azure TDX paravisor (tests/tpm/swtpm_lib.sh), a loopback fake
# IMDS (tests/tpm/fake_imds.py) and cctrustd (loopback, --trust-sim):
#   --imds URL: every command collects through it, over a $CCT_IMDS_URL naming a dead port;
#     --imds naming a dead port fails every command (evidence 2, gate 1 without running
#     COMMAND, kbs 2) naming that URL; $CCT_IMDS_URL alone works for every command;
#   event log default: with it pointed ($CCT_TPM_EVENT_LOG) at the real rhel8 UEFI log
#     replayed into swtpm's PCRs, every command sends that log without --event-log (a Secure
#     Boot / kernel command line policy, which fails closed without a log, passes in all
#     three; evidence collect's event_log is the file's bytes); when the default file is
#     absent every command still attests, without a log (the same policy then refuses in all
#     three, a plain one accepts); --event-log none sends no log in all three; an explicit
#     --event-log FILE that is missing fails all three; all three --help texts name the same
#     default path; --tcti without a vTPM --tee is a usage error in all three (and kbs
#     refuses them with --sim, whose evidence uses none of them).
# Skips (77) without swtpm / tpm2-tools / cctrustd. Servers on 127.0.0.1 only, stopped by PID.
set -u
C=${CCT_CLI:?CCT_CLI not set}
SRC=${CCT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
D=${CCT_BUILD:-$(dirname "$C")}/cctrustd
command -v swtpm >/dev/null && command -v tpm2_createprimary >/dev/null || {
	echo "swtpm or tpm2-tools missing (scripts/install-deps.sh installs them)"; exit 77; }
[[ -x $D ]] || { echo "cctrustd not built (libmicrohttpd missing)"; exit 77; }
LOG=${CCT_VECTORS:?CCT_VECTORS not set}/vtpm/go-eventlog/tpm/rhel8-uefi.bin
[[ -f $LOG ]] || { echo "no event-log vector $LOG"; exit 1; }
T=$(mktemp -d)
SPID=
IPID=
DPID=
trap '[[ -n $DPID ]] && kill $DPID 2>/dev/null; [[ -n $IPID ]] && kill $IPID 2>/dev/null
	[[ -n $SPID ]] && kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

. "$(dirname "$0")/swtpm_lib.sh"
swtpm_start
cd "$T" || exit 1
swtpm_provision_ak
"$C" sim init "$T/sim" >/dev/null || exit 1
make_hcl tdx ak.pem hcl-tdx.bin || { echo "cannot build the TDX HCL report"; exit 1; }
q tpm2_nvdefine 0x01400001 -C o -s "$(stat -c %s hcl-tdx.bin)" -a "ownerread|ownerwrite|authread|authwrite"
q tpm2_nvwrite 0x01400001 -C o -i hcl-tdx.bin
q tpm2_nvdefine 0x01400002 -C o -s 64 -a "ownerread|ownerwrite|authread|authwrite"

# the real UEFI log replayed into the SHA-256 PCRs: sent, it explains the quote
"$C" eventlog show "$LOG" --json >log.json || { echo "eventlog show failed"; exit 1; }
python3 -c "
import json; r = json.load(open('log.json'))
print(' '.join('%d:sha256=%s' % (e['pcr'], e['digests']['sha256']) for e in r['events'] if e['type'] != 'EV_NO_ACTION'))" >extends.txt
for spec in $(cat extends.txt); do tpm2_pcrextend "$spec" >/dev/null 2>&1 || { echo "pcrextend $spec failed"; exit 1; }; done
flush

# the fake IMDS (loopback, 600 s at most, stopped by PID)
python3 "$SRC/tests/tpm/fake_imds.py" "$C" "$T/sim" imds.port imds.mode 600 2>imds.log &
IPID=$!
for i in $(seq 1 100); do [[ -s imds.port ]] && break; kill -0 $IPID 2>/dev/null || break; sleep 0.05; done
[[ -s imds.port ]] || { echo "fake IMDS did not start"; cat imds.log; exit 1; }
IMDS=http://127.0.0.1:$(cat imds.port)
DEAD=http://127.0.0.1:1

# the broker, its policies and a secret
"$C" kbs admin-keygen admin.key admin.pub >/dev/null && head -c 32 /dev/urandom >master.key &&
	chmod 600 master.key || exit 1
"$D" --listen 127.0.0.1:0 --port-file d.port --admin-pubkey admin.pub --trust-sim "$T/sim" \
	--master-key master.key --store "sqlite:$T/d.db" 2>d.log &
DPID=$!
for i in $(seq 1 100); do [[ -s d.port ]] && break; kill -0 $DPID 2>/dev/null || break; sleep 0.05; done
[[ -s d.port ]] || { echo "cctrustd did not start"; cat d.log; exit 1; }
U=http://127.0.0.1:$(cat d.port)
printf 'model-key-vtpm' >secret
printf '{"version":"cctrust.policy/v1","tee":["az-tdx-vtpm"]}' >plain.json
cat >sb.json <<J
{"version": "cctrust.policy/v1", "tee": ["az-tdx-vtpm"], "vtpm": {"secure_boot": true, "kernel_cmdline": {"prefix": "(hd0,gpt2)/boot/vmlinuz-4.18.0-240.22.1.el8_3.x86_64 root=UUID="}}}
J
printf '{"version":1,"allow_simulated":true,"rules":[{"name":"any-affirming","resources":["*/*/*"],"require":[{"all_submods":"affirming"}]}]}' >res.json
"$C" kbs set-policy --url "$U" --admin-key admin.key res.json >/dev/null &&
	"$C" kbs put-resource --url "$U" --admin-key admin.key default/key/llm secret >/dev/null ||
	{ echo "cannot set up the broker"; cat d.log; exit 1; }
att_policy() { "$C" kbs set-attestation-policy --url "$U" --admin-key admin.key "$1" >/dev/null ||
	{ echo "cannot set the attestation policy $1"; exit 1; }; }

export CCT_NVML_LIB=$T/absent-libnvidia-ml.so
unset CCT_IMDS_URL
export CCT_TPM_EVENT_LOG=$T/absent-event-log
"$C" sim tee-key >tee.jwk
N=$(head -c 32 /dev/urandom | base64)
VT=(--tee az-tdx-vtpm --tcti "$TCTI")

# each command, the same vTPM options; the caller's env (CCT_IMDS_URL, CCT_TPM_EVENT_LOG)
ev() { # ev OUT [options]: exit status of evidence collect then verify (POLICY: $POL)
	local out=$1
	shift
	rm -f "$out"
	"$C" evidence collect "${VT[@]}" --nonce "$N" --tee-pubkey tee.jwk --no-gpu -o "$out" "$@" 2>ev.err ||
		return 2
	"$C" verify "$out" --trust-sim "$T/sim" --nonce "$N" --policy "$POL" >ev.out 2>&1
}
gt() { # gt [options]: gate's exit status; 0 only when COMMAND ran (POLICY: $POL)
	rm -f ran
	"$C" gate --trust-sim "$T/sim" "${VT[@]}" --no-gpu --policy "$POL" "$@" -- touch "$T/ran" 2>gate.err
	local rc=$?
	[[ $rc == 0 && ! -f ran ]] && rc=99
	[[ $rc != 0 && -f ran ]] && rc=98
	return $rc
}
kb() { # kb [options]: get-resource's exit status; 0 only with the secret (attestation policy: $POL)
	rm -f got
	"$C" kbs get-resource --url "$U" "${VT[@]}" --no-gpu "$@" default/key/llm -o got >kbs.out 2>&1
	local rc=$?
	[[ $rc == 0 ]] && ! cmp -s got secret && rc=99
	[[ $rc != 0 && -s got ]] && rc=98
	return $rc
}
# expect NAME EV GATE KBS [options]: the three commands' exit statuses with these options
expect() {
	local name=$1 we=$2 wg=$3 wk=$4 re rg rk
	shift 4
	ev req.json "$@"; re=$?
	gt "$@"; rg=$?
	kb "$@"; rk=$?
	if [[ $re == "$we" && $rg == "$wg" && $rk == "$wk" ]]; then
		pass "$name"
	else
		fail "$name: evidence $re (want $we), gate $rg (want $wg), kbs $rk (want $wk)"
		cat ev.err ev.out gate.err kbs.out 2>/dev/null | head -c 1500
	fi
}
POL=plain.json
att_policy plain.json

# --- --imds, in all three
CCT_IMDS_URL=$DEAD expect "--imds used, over \$CCT_IMDS_URL" 0 0 0 --imds "$IMDS"
CCT_IMDS_URL=$IMDS expect "--imds to a dead port fails all three" 2 1 2 --imds "$DEAD"
grep -qF "IMDS $DEAD/acc/tdquote" ev.err && grep -qF "IMDS $DEAD/acc/tdquote" gate.err &&
	grep -qF "IMDS $DEAD/acc/tdquote" kbs.out && pass "the --imds URL named in all three failures" ||
	{ fail "the --imds URL named in all three failures"; cat ev.err gate.err kbs.out; }
export CCT_IMDS_URL=$IMDS
expect "\$CCT_IMDS_URL without --imds" 0 0 0

# --- the event log default, in all three
python3 -c "
import base64, json, sys
e = json.load(open('req.json'))['tee-evidence']['primary_evidence']
sys.exit('event_log' in e)" && pass "absent default file: no event_log" || fail "absent default file: no event_log"
POL=sb.json
att_policy sb.json
expect "absent default file: attested without a log, the Secure Boot policy refuses" 1 1 1
export CCT_TPM_EVENT_LOG=$LOG
expect "default log sent by all three: the Secure Boot policy passes" 0 0 0
python3 -c "
import base64, json
e = json.load(open('req.json'))['tee-evidence']['primary_evidence']
assert base64.b64decode(e['event_log']) == open('$LOG', 'rb').read()" && pass "evidence collect's event_log is the default file" ||
	fail "evidence collect's event_log is the default file"
expect "--event-log none: no log in all three" 1 1 1 --event-log none
expect "--event-log FILE: that log in all three" 0 0 0 --event-log "$LOG"
expect "--event-log FILE missing: all three fail" 2 1 2 --event-log "$T/missing.log"
POL=plain.json
att_policy plain.json
export CCT_TPM_EVENT_LOG=$T/absent-event-log
expect "absent default file: plain policy accepted in all three" 0 0 0

# --- the same options, checks and help in all three
"$C" evidence collect --tcti "$TCTI" --nonce "$N" --tee-pubkey tee.jwk 2>u1.err; r1=$?
"$C" gate --policy plain.json --tcti "$TCTI" -- true 2>u2.err; r2=$?
"$C" kbs get-resource --url "$U" --tcti "$TCTI" default/key/llm 2>u3.err; r3=$?
[[ $r1 == 2 && $r2 == 2 && $r3 == 2 ]] && grep -q 'go with --tee' u1.err && grep -q 'go with --tee' u2.err &&
	grep -q 'go with --tee' u3.err && pass "--tcti without a vTPM --tee: usage error in all three" ||
	{ fail "--tcti without a vTPM --tee ($r1 $r2 $r3)"; cat u1.err u2.err u3.err; }
rm -f got
"$C" kbs get-resource --url "$U" --sim "$T/sim" --tee az-tdx-vtpm --imds "$IMDS" default/key/llm -o got 2>u4.err
rc=$?
[[ $rc == 2 && ! -s got ]] && grep -q 'uses none of them' u4.err && pass "kbs: the vTPM options refused with --sim" ||
	{ fail "kbs: the vTPM options with --sim (exit $rc)"; cat u4.err; }
n=0
for cmd in "evidence --help" "gate --help" "kbs --help"; do
	"$C" $cmd 2>&1 | tr -d '\n' | grep -q 'default /sys/kernel/security/tpm0/binary_bios_measurements' && n=$((n + 1))
	"$C" $cmd 2>&1 | grep -q -- '--imds URL' && n=$((n + 1))
done
[[ $n == 6 ]] && pass "--help: the same --imds and event-log default in all three" ||
	fail "--help: $n of 6 mentions"

echo "$fails failure(s)"
[[ $fails == 0 ]]
