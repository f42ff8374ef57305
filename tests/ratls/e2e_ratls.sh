#!/bin/bash
# End-to-end attested TLS over loopback with the simulated TEE: `ratls serve` in front of a tiny
# HTTP backend (SNP + 2 GPUs, TDX + 1 GPU), `ratls verify` / `ratls get` accepted, and every
# refusal asserted by exit status AND the named failing check (r = result JSON, rules = failing
# policy rules). Servers: 127.0.0.1, port 0 + port file, stopped by PID.
set -u
C=${CCT_CLI:?CCT_CLI not set}
H=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
PORT=
trap cleanup EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# start NAME CMD...: run in the background (in this shell, so its PID is recorded for the
# cleanup), wait (bounded) for $T/NAME.port, leave the port in $PORT
start() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 300); do [[ -s $T/$name.port ]] && break; sleep 0.1; done
	[[ -s $T/$name.port ]] || { echo "server $name did not start"; cat "$T/$name.log"; exit 1; }
	PORT=$(cat "$T/$name.port")
}
serve() { # serve NAME ratls-serve-args...
	local name=$1
	shift
	start "$name" "$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" \
		--port-file "$T/$name.port" "$@"
}
# expect NAME WANT_EXIT PYTHON_CHECK verify-args...
expect() {
	local name=$1 want=$2 check=$3
	shift 3
	"$C" ratls verify "$@" --json >"$T/out.json" 2>"$T/err.txt"
	local rc=$?
	if [[ $rc != "$want" ]]; then
		fail "$name: exit $rc, want $want"; head -c 1500 "$T/out.json" "$T/err.txt"; return
	fi
	if [[ -n $check ]] && ! python3 -c "import json,sys; r=json.load(open('$T/out.json')); rules=[f['rule'] for f in r.get('failures',[])]; e=r.get('error') or {}; sys.exit(0 if ($check) else 1)"; then
		fail "$name: check failed: $check"; head -c 2500 "$T/out.json"; return
	fi
	pass "$name"
}

"$C" sim init "$T/sim" >/dev/null || { echo "sim init failed"; exit 1; }
M=$(python3 -c "import json; print(json.load(open('$T/sim/sim.json'))['measurement'])")
MRTD=$(python3 -c "import json; print(json.load(open('$T/sim/sim.json'))['tdx']['mrtd'])")
S="--trust-sim $T/sim"
cat >"$T/pol.json" <<P
{"version":"cctrust.policy/v1","id":"ratls-snp","tee":["snp"],"snp":{"measurements":["$M"]},"gpu":{"count":2,"cc_mode":["on"]}}
P
cat >"$T/pol-tdx.json" <<P
{"version":"cctrust.policy/v1","id":"ratls-tdx","tee":["tdx"],"tdx":{"mrtd":["$MRTD"]},"gpu":{"count":1}}
P
cat >"$T/pol-other.json" <<P
{"version":"cctrust.policy/v1","id":"other-measurement","snp":{"measurements":["$(printf 'ab%.0s' $(seq 48))"]}}
P
start backend python3 "$H/servers.py" backend "$T/backend.port"; BP=$PORT

# ---- 1. SNP + 2 GPUs behind the proxy: accepted, and get returns the backend's body ----
serve snp --tee snp --gpus 2; P1=$PORT
expect snp-2gpu-accepted 0 "r['verified'] and r['check'] is None and r['simulated'] and r['certificate']['pubkey_hash']=='verified' and r['fresh']['exporter']=='verified' and r['fresh']['nonce']=='verified' and r['certificate']['composite']['gpu_count']==2 and r['fresh']['composite']['tee']=='snp' and r['pin'].startswith('sha256//') and r['checks_skipped']==[]" 127.0.0.1:$P1 --policy "$T/pol.json" $S
PIN=$(python3 -c "import json; print(json.load(open('$T/out.json'))['pin'])")
# what the evidence verifications skipped is the verdict's too, not only inside its sections
expect snp-skips-listed 0 "r['verified'] and 'crl' in r['checks_skipped'] and 'crl' in r['fresh']['composite']['checks_skipped'] and r['insecure'] and 'simulated-tee' in r['insecure']" 127.0.0.1:$P1 --policy "$T/pol.json" $S --offline --no-crl
out=$("$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" $S)
[[ $? == 0 && $out == "hello from backend /hello" ]] && pass get-body || fail "get-body: '$out'"
out=$("$C" ratls get "https://127.0.0.1:$P1/post" --policy "$T/pol.json" $S -d 'prompt=hi' -H 'X-Test: 7')
[[ $out == "echo:prompt=hi x-test=7" ]] && pass get-post-headers || fail "get-post-headers: '$out'"
"$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" $S -o "$T/body.txt" >/dev/null
[[ $(cat "$T/body.txt") == "hello from backend /hello" ]] && pass get-output-file || fail get-output-file
# -o naming an input (the policy, a file of --trust-sim) is refused before connecting, the
# input intact
cp "$T/pol.json" "$T/pol.json.orig"
"$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" $S -o "$T/pol.json" >/dev/null 2>"$T/e.txt"
rc=$?
[[ $rc == 2 ]] && cmp -s "$T/pol.json" "$T/pol.json.orig" && grep -q -- "-o .* is the same file as the input --policy" "$T/e.txt" &&
	pass get-output-over-policy || { fail "get-output-over-policy: exit $rc"; cat "$T/e.txt"; cp "$T/pol.json.orig" "$T/pol.json"; }
cp "$T/sim/sim.json" "$T/sim.json.orig"
"$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" $S -o "$T/sim/sim.json" >/dev/null 2>"$T/e.txt"
rc=$?
[[ $rc == 2 ]] && cmp -s "$T/sim/sim.json" "$T/sim.json.orig" && grep -q -- "an input of --trust-sim" "$T/e.txt" &&
	pass get-output-over-trust-sim || { fail "get-output-over-trust-sim: exit $rc"; cat "$T/e.txt"; cp "$T/sim.json.orig" "$T/sim/sim.json"; }
# -H 'Host: ...' replaces get's own Host header, not a second one beside it
out=$("$C" ratls get "https://127.0.0.1:$P1/host" --policy "$T/pol.json" $S -H 'host: api.example')
[[ $? == 0 && $out == "host=api.example" ]] && pass get-host-header || fail "get-host-header: '$out'"
out=$("$C" ratls get "https://127.0.0.1:$P1/host" --policy "$T/pol.json" $S)
[[ $out == "host=127.0.0.1:$P1" ]] && pass get-default-host || fail "get-default-host: '$out'"
# IPv6 literals: "[::1]:PORT" went to getaddrinfo with its brackets (unreachable), and SNI
# carried addresses; malformed targets are usage errors
for bad_target in "[::1" "[::1]x:1" "::1:443" "[]:1" "host:" "host:12a"; do
	"$C" ratls verify "$bad_target" --policy "$T/pol.json" $S >/dev/null 2>&1
	[[ $? == 2 ]] && pass "verify-target-malformed $bad_target" || fail "verify-target-malformed $bad_target: exit $?"
done
V6_SERVERS=0
if python3 -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::1',0))" 2>/dev/null; then
	V6_SERVERS=1
	start snp6 "$C" ratls serve --listen "[::1]:0" --backend "http://127.0.0.1:$BP" --sim "$T/sim" \
		--port-file "$T/snp6.port" --tee snp --gpus 2
	P6=$PORT
	expect verify-ipv6-literal 0 "r['verified']" "[::1]:$P6" --policy "$T/pol.json" $S
	out=$("$C" ratls get "https://[::1]:$P6/host" --policy "$T/pol.json" $S)
	[[ $? == 0 && $out == "host=[::1]:$P6" ]] && pass get-ipv6-literal || fail "get-ipv6-literal: '$out'"
else
	echo "note: no IPv6 loopback here: the [::1] connection cases are not run (parsing is)"
fi
# -o - is standard output (as for curl and the other commands), not a file named "-"
out=$(cd "$T" && "$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" $S -o -)
[[ $? == 0 && $out == "hello from backend /hello" && ! -e $T/- ]] && pass get-output-dash-stdout ||
	fail "get-output-dash-stdout: '$out'"
# a binary body that arrives in the same read as the head (NUL bytes after CRLF CRLF)
"$C" ratls get "https://127.0.0.1:$P1/binary" --policy "$T/pol.json" $S -o "$T/body.bin" >/dev/null
python3 -c "import sys; sys.exit(open('$T/body.bin','rb').read() != b'\x00\x01binary\x00' * 10)" &&
	pass get-binary-body || fail get-binary-body
# a body shorter than its Content-Length is an error (exit 2), not a success; a HEAD answer
# has no body whatever its Content-Length says
"$C" ratls get "https://127.0.0.1:$P1/truncated" --policy "$T/pol.json" $S -o "$T/trunc.out" 2>"$T/e.txt"
rc=$?
[[ $rc == 2 && $(cat "$T/trunc.out") == 0123456789 ]] && grep -q "ends after 10 of its 100 bytes" "$T/e.txt" &&
	pass get-truncated-body || { fail "get-truncated-body: exit $rc"; cat "$T/e.txt"; }
out=$("$C" ratls get "https://127.0.0.1:$P1/hello" -X HEAD --policy "$T/pol.json" $S 2>"$T/e.txt")
[[ $? == 0 && -z $out ]] && pass get-head-no-body || { fail "get-head-no-body: '$out'"; cat "$T/e.txt"; }
# the URL's path and -X are the request line: a space or line break in them would write header
# lines (or another request) of their own, so they are usage errors before connecting; a
# query without a path gets its /, a fragment is not sent
for bad in "https://127.0.0.1:$P1/hello"$' HTTP/1.0\r\nX-Test: injected\r\n' "https://127.0.0.1:$P1/a b"; do
	out=$("$C" ratls get "$bad" --policy "$T/pol.json" $S 2>"$T/e.txt")
	rc=$?
	[[ $rc == 2 && -z $out ]] && grep -q "space or control character" "$T/e.txt" && pass get-path-injection ||
		{ fail "get-path-injection: exit $rc '$out'"; cat "$T/e.txt"; }
done
out=$("$C" ratls get "https://127.0.0.1:$P1/post" -X $'POST /x HTTP/1.0\r\nX-Test: 1\r\n' -d a --policy "$T/pol.json" $S 2>"$T/e.txt")
rc=$?
[[ $rc == 2 && -z $out ]] && grep -q "an HTTP method" "$T/e.txt" && pass get-method-injection ||
	{ fail "get-method-injection: exit $rc '$out'"; cat "$T/e.txt"; }
out=$("$C" ratls get "https://127.0.0.1:$P1?q=1#frag" --policy "$T/pol.json" $S 2>"$T/e.txt")
[[ $? == 0 && $out == "hello from backend /?q=1" ]] && pass get-query-no-path || { fail "get-query-no-path: '$out'"; cat "$T/e.txt"; }
"$C" ratls get "https:///hello" --policy "$T/pol.json" $S >/dev/null 2>"$T/e.txt"
[[ $? == 2 ]] && grep -q "host:port is empty" "$T/e.txt" && pass get-empty-host || { fail get-empty-host; cat "$T/e.txt"; }
# server-sent events pass through unbuffered: the first event arrives before the last is sent
"$C" ratls get "https://127.0.0.1:$P1/sse" --policy "$T/pol.json" $S | python3 -c "
import sys, time
first = None
n = 0
for line in sys.stdin:
    if line.startswith('data: tick'):
        n += 1
        sent = float(line.split()[3])
        if first is None: first = time.time() - sent
assert n == 3, n
assert first is not None and first < 0.45, first   # received ~immediately, not after 0.9 s
" && pass sse-unbuffered || fail sse-unbuffered
# the printed pin is the server's key: curl --pinnedpubkey accepts it
if command -v curl >/dev/null; then
	out=$(curl -sk --pinnedpubkey "$PIN" "https://127.0.0.1:$P1/hello")
	[[ $out == "hello from backend /hello" ]] && pass curl-pin || fail "curl-pin: '$out'"
	curl -sk --pinnedpubkey "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "https://127.0.0.1:$P1/hello" >/dev/null \
		&& fail curl-wrong-pin || pass curl-wrong-pin
fi
# the human verdict
"$C" ratls verify 127.0.0.1:$P1 --policy "$T/pol.json" $S >"$T/h.txt"
grep -q "ACCEPTED snp + 2 GPU(s), certificate evidence + channel-bound fresh evidence (SIMULATED" "$T/h.txt" &&
	grep -q "pin sha256//" "$T/h.txt" && pass human-verdict || { fail human-verdict; cat "$T/h.txt"; }

# ---- 2. TDX + 1 GPU ----
serve tdx --tee tdx --gpus 1; P2=$PORT
expect tdx-1gpu-accepted 0 "r['verified'] and r['certificate']['composite']['tee']=='tdx' and r['certificate']['evidence']['format']=='cmw-collection' and r['certificate']['evidence']['evidence_tag']=='0x1a7501' and r['fresh']['exporter']=='verified'" 127.0.0.1:$P2 --policy "$T/pol-tdx.json" $S
out=$("$C" ratls get "https://127.0.0.1:$P2/hello" --policy "$T/pol-tdx.json" $S)
[[ $out == "hello from backend /hello" ]] && pass tdx-get-body || fail "tdx-get-body: '$out'"

# ---- 3. certificates: key mode, openssl sees the extension, TDX-only is the interoperable tag ----
"$C" ratls cert --tee snp --gpus 2 --sim "$T/sim" --key-out "$T/a.key" --cert-out "$T/a.pem" 2>/dev/null || fail cert-make
[[ $(stat -c %a "$T/a.key") == 600 ]] && pass key-mode-0600 || fail key-mode-0600
openssl x509 -in "$T/a.pem" -noout -text | grep -q "2.23.133.5.4.9" && pass openssl-shows-oid || fail openssl-shows-oid
"$C" ratls cert --tee tdx --sim "$T/sim" --nonce 00112233 --key-out "$T/t.key" --cert-out "$T/t.pem" 2>/dev/null
"$C" ratls show "$T/t.pem" --json >"$T/show.json"
python3 -c "
import json; d=json.load(open('$T/show.json'))
assert d['format']=='tagged-evidence' and d['evidence_tag']=='0x1a7501' and d['tee']=='tdx', d
assert d['pubkey_hash_matches'] is True and d['claims']['nonce']=='00112233' and d['cctrust_can_verify']
" && pass show-tdx-tagged || { fail show-tdx-tagged; cat "$T/show.json"; }
"$C" ratls show "$T/a.pem" | grep -q "matches the certificate's key" && pass show-human || fail show-human
# cert --json: what was written and what the certificate binds (it once printed nothing)
"$C" ratls cert --tee snp --sim "$T/sim" --nonce 0a0b --key-out "$T/j.key" --cert-out "$T/j.pem" --json >"$T/cert.json" 2>/dev/null
rc=$?
"$C" ratls show "$T/j.pem" --json >"$T/jshow.json"
[[ $rc == 0 ]] && python3 -c "
import json; d=json.load(open('$T/cert.json')); s=json.load(open('$T/jshow.json'))
assert d['key_out']=='$T/j.key' and d['cert_out']=='$T/j.pem' and d['key_mode']=='0600', d
c=d['certificate']
assert c['pin']==s['pin'] and c['pin'].startswith('sha256//') and c['pubkey_hash_matches'] is True, c
assert c['claims']['pubkey-hash']==s['claims']['pubkey-hash'] and c['claims']['nonce']=='0a0b', c
" && pass cert-json || { fail "cert-json: exit $rc"; cat "$T/cert.json"; }

# ---- 4. refusals, each naming its check ----
# a plain TLS server with an ordinary certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/plain.key" -out "$T/plain.pem" \
	-subj /CN=localhost -days 1 2>/dev/null
start plain python3 "$H/servers.py" plain "$T/plain.port" "$T/plain.pem" "$T/plain.key"; PP=$PORT
expect plain-tls-refused 1 "r['check']=='certificate.evidence-extension' and not r['verified']" 127.0.0.1:$PP --policy "$T/pol.json" $S
out=$("$C" ratls get "https://127.0.0.1:$PP/" --policy "$T/pol.json" $S 2>/dev/null)
[[ $? == 1 && -z $out ]] && pass plain-tls-get-refused || fail "plain-tls-get-refused: '$out'"

# a certificate whose evidence was made for another key (the extension copied onto key B)
HEX=$(openssl asn1parse -in "$T/a.pem" | grep -A1 ":2.23.133.5.4.9" | tail -1 | sed 's/.*\[HEX DUMP\]://')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/b.key" 2>/dev/null
printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=forged\n[ext]\n2.23.133.5.4.9=DER:%s\n' "$HEX" >"$T/forge.cnf"
openssl req -x509 -new -key "$T/b.key" -config "$T/forge.cnf" -extensions ext -days 1 -out "$T/forged.pem" 2>"$T/forge.err" ||
	{ fail forge-cert; cat "$T/forge.err"; }
"$C" ratls show "$T/forged.pem" | grep -q "DOES NOT MATCH" && pass show-forged-mismatch || fail show-forged-mismatch
serve forged --tee snp --gpus 2 --cert "$T/forged.pem" --key "$T/b.key"; P3=$PORT
expect pubkey-hash-mismatch 1 "r['check']=='certificate.pubkey-hash' and e['stage']=='binding'" 127.0.0.1:$P3 --policy "$T/pol.json" $S

# a proxy that terminates TLS itself (holding the genuine certificate and key) and relays the
# attestation endpoint to the genuine server: the fresh evidence carries the other connection's exporter
serve genuine --tee snp --gpus 2 --cert "$T/a.pem" --key "$T/a.key"; P4=$PORT
expect genuine-cert-served 0 "r['verified']" 127.0.0.1:$P4 --policy "$T/pol.json" $S
start relay python3 "$H/servers.py" relay "$T/relay.port" "$T/a.pem" "$T/a.key" "$P4"; PR=$PORT
expect relay-exporter-mismatch 1 "r['check']=='fresh.exporter' and r['certificate']['verified'] and e['code']=='binding'" 127.0.0.1:$PR --policy "$T/pol.json" $S
# certificate-only mode cannot see the relay: accepted, and says what was skipped
expect relay-cert-only-weaker 0 "r['verified'] and 'fresh' not in r and r['checks_skipped'] and 'replayable' in r['checks_skipped'][0]" 127.0.0.1:$PR --policy "$T/pol.json" $S --cert-only
# the relay drops the connection without a TLS close_notify: a body without Content-Length
# (the SSE stream) may be cut short there, so it is an error, not a success
"$C" ratls get "https://127.0.0.1:$PR/sse" --policy "$T/pol.json" $S --cert-only >/dev/null 2>"$T/e.txt"
rc=$?
[[ $rc == 2 ]] && grep -q "without a TLS close_notify" "$T/e.txt" && pass get-no-close-notify ||
	{ fail "get-no-close-notify: exit $rc"; cat "$T/e.txt"; }
out=$("$C" ratls get "https://127.0.0.1:$PR/hello" --policy "$T/pol.json" $S --cert-only 2>/dev/null)
[[ $? == 0 && $out == "hello from backend /hello" ]] && pass get-content-length-no-close-notify ||
	fail "get-content-length-no-close-notify: '$out'"

# serving a certificate whose evidence differs from what the fresh evidence would be: refused
"$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee tdx \
	--cert "$T/a.pem" --key "$T/a.key" --port-file "$T/never.port" >/dev/null 2>"$T/mm.err"
[[ $? == 2 && ! -e $T/never.port ]] && grep -q "snp evidence with 2 GPU" "$T/mm.err" && pass serve-cert-mismatch ||
	{ fail serve-cert-mismatch; cat "$T/mm.err"; }

# a validity shorter than the rotation (served expired until re-issued), or --rotate /
# --validity with a --cert that is never re-issued: usage errors, not accepted and ignored
for opts in "--rotate 1h --validity 10m" "--cert $T/a.pem --key $T/a.key --rotate 1h" "--cert $T/a.pem --key $T/a.key --validity 1d"; do
	# shellcheck disable=SC2086
	timeout 10 "$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee snp --gpus 2 \
		$opts --port-file "$T/never.port" >/dev/null 2>"$T/mm.err"
	rc=$?
	[[ $rc == 2 && ! -e $T/never.port ]] && grep -Eq "shorter than --rotate|does not apply to --cert" "$T/mm.err" &&
		pass "serve-validity-rotate ($opts)" || { fail "serve-validity-rotate ($opts): exit $rc"; cat "$T/mm.err"; }
	rm -f "$T/never.port"
done
# --key that is not the --cert's key (or no key at all): a usage error naming both, not exit 1
"$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee snp --gpus 2 \
	--cert "$T/a.pem" --key "$T/b.key" --port-file "$T/never.port" >/dev/null 2>"$T/mm.err"
[[ $? == 2 && ! -e $T/never.port ]] && grep -q -- "--key .*b.key is not the private key of --cert" "$T/mm.err" &&
	pass serve-key-not-certs || { fail serve-key-not-certs; cat "$T/mm.err"; }
"$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee snp --gpus 2 \
	--cert "$T/a.pem" --key "$T/a.pem" --port-file "$T/never.port" >/dev/null 2>"$T/mm.err"
[[ $? == 2 && ! -e $T/never.port ]] && grep -q -- "--key .*a.pem: not an unencrypted PEM private key" "$T/mm.err" &&
	pass serve-key-not-a-key || { fail serve-key-not-a-key; cat "$T/mm.err"; }

# an old certificate past its validity
"$C" ratls cert --tee snp --gpus 2 --sim "$T/sim" --not-before -2d --validity 1h --key-out "$T/old.key" --cert-out "$T/old.pem" 2>/dev/null
serve old --tee snp --gpus 2 --cert "$T/old.pem" --key "$T/old.key"; P5=$PORT
expect expired-cert 1 "r['check']=='certificate.validity' and e['code']=='expired'" 127.0.0.1:$P5 --policy "$T/pol.json" $S

# a policy with another measurement
expect other-measurement 1 "r['check']=='certificate.policy' and 'snp.measurements' in rules and e['code']=='policy' and 'fresh-evidence (not reached)' in r['checks_skipped'] and not any('replayable' in x for x in r['checks_skipped'])" 127.0.0.1:$P1 --policy "$T/pol-other.json" $S
# a guest launched with another measurement, against the right policy
serve othermeas --tee snp --gpus 2 --measurement "$(printf 'cd%.0s' $(seq 48))"; P6=$PORT
expect guest-other-measurement 1 "r['check']=='certificate.policy' and 'snp.measurements' in rules" 127.0.0.1:$P6 --policy "$T/pol.json" $S

# GPUs with confidential computing off
serve ccoff --tee snp --gpus 2 --gpu-cc-mode off; P7=$PORT
expect gpu-cc-off 1 "r['check']=='certificate.policy' and 'gpu.cc_mode' in rules" 127.0.0.1:$P7 --policy "$T/pol.json" $S

# simulated roots without --trust-sim
expect sim-roots-untrusted 1 "r['check']=='certificate.evidence' and e['stage']=='chain' and not r['simulated']" 127.0.0.1:$P1 --policy "$T/pol.json"
out=$("$C" ratls get "https://127.0.0.1:$P1/hello" --policy "$T/pol.json" 2>/dev/null)
[[ $? == 1 && -z $out ]] && pass sim-roots-get-refused || fail "sim-roots-get-refused: '$out'"

# rotation: a new key and certificate after --rotate, still verifying
serve rotate --tee tdx --rotate 2s; P8=$PORT
cat >"$T/pol-tdx0.json" <<P
{"version":"cctrust.policy/v1","id":"tdx-no-gpu","tee":["tdx"],"tdx":{"mrtd":["$MRTD"]}}
P
expect rotate-before 0 "r['verified'] and r['certificate']['evidence']['format']=='tagged-evidence'" 127.0.0.1:$P8 --policy "$T/pol-tdx0.json" $S
PIN1=$(python3 -c "import json; print(json.load(open('$T/out.json'))['pin'])")
sleep 3
expect rotate-after 0 "r['verified'] and r['pin']!='$PIN1'" 127.0.0.1:$P8 --policy "$T/pol-tdx0.json" $S
grep -q "re-issued" "$T/rotate.log" && pass rotate-logged || fail rotate-logged

# unreachable / usage: exit 2
"$C" ratls verify 127.0.0.1:1 --policy "$T/pol.json" $S >/dev/null 2>&1; [[ $? == 2 ]] && pass unreachable-exit-2 || fail unreachable-exit-2
"$C" ratls verify 127.0.0.1:$P1 $S >/dev/null 2>&1; [[ $? == 2 ]] && pass no-policy-exit-2 || fail no-policy-exit-2

# the proxy's attestation endpoint refuses a missing nonce
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$P1/.well-known/cctrust/attestation" | grep -q 400 &&
	pass endpoint-needs-nonce || fail endpoint-needs-nonce

# ---- 5. outputs never replace inputs; bounded options; hostile peers ----
# cert: one file for both outputs, or an output over a file of the simulated TEE: refused, nothing written
"$C" ratls cert --tee snp --sim "$T/sim" --key-out "$T/same.pem" --cert-out "$T/same.pem" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/same.pem ]] && grep -q -- "--cert-out .* and --key-out .* are the same file" "$T/e.txt" &&
	pass cert-outputs-same-file || { fail cert-outputs-same-file; cat "$T/e.txt"; }
cp -r "$T/sim" "$T/sim2"
cp "$T/sim2/sim.json" "$T/sim2.json.orig"
"$C" ratls cert --tee snp --sim "$T/sim2" --key-out "$T/sim2/sim.json" --cert-out "$T/x.pem" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/x.pem ]] && cmp -s "$T/sim2/sim.json" "$T/sim2.json.orig" && grep -q -- "--key-out .*input of --sim" "$T/e.txt" &&
	pass cert-output-over-sim-input || { fail cert-output-over-sim-input; cat "$T/e.txt"; }
"$C" ratls cert --tee snp --sim "$T/sim2" --key-out "$T/y.key" --cert-out "$T/sim2/snp/vcek.pem" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/y.key ]] && pass cert-output-over-sim-cert || { fail cert-output-over-sim-cert; cat "$T/e.txt"; }
# an output that is a directory, or in a directory that does not exist: refused before the
# other output is written (the key was written, then --cert-out failed)
mkdir -p "$T/adir"
"$C" ratls cert --tee tdx --sim "$T/sim" --key-out "$T/o1.key" --cert-out "$T/adir" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/o1.key ]] && grep -q -- "--cert-out .*is a directory" "$T/e.txt" &&
	pass cert-output-directory || { fail cert-output-directory; cat "$T/e.txt"; }
"$C" ratls cert --tee tdx --sim "$T/sim" --key-out "$T/o2.key" --cert-out "$T/nodir/o2.pem" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/o2.key ]] && grep -q "is not an existing directory" "$T/e.txt" &&
	pass cert-output-no-parent || { fail cert-output-no-parent; cat "$T/e.txt"; }
# unreadable input and out-of-range durations are usage errors (exit 2) naming the range
"$C" ratls cert --tee snp --sim "$T/nonexistent" --key-out "$T/n.key" --cert-out "$T/n.pem" 2>/dev/null
[[ $? == 2 ]] && pass cert-missing-sim-exit-2 || fail cert-missing-sim-exit-2
"$C" ratls cert --tee snp --sim "$T/sim" --validity 99999999999h --key-out "$T/n.key" --cert-out "$T/n.pem" 2>"$T/e.txt"
[[ $? == 2 && ! -e $T/n.key ]] && grep -q "from 1s to 3650d" "$T/e.txt" && pass cert-validity-range || { fail cert-validity-range; cat "$T/e.txt"; }
"$C" ratls cert --tee snp --sim "$T/sim" --validity 3651d --key-out "$T/n.key" --cert-out "$T/n.pem" 2>/dev/null
[[ $? == 2 ]] && pass cert-validity-3651d || fail cert-validity-3651d
"$C" ratls cert --tee snp --sim "$T/sim" --not-before -99999999999999999999d --key-out "$T/n.key" --cert-out "$T/n.pem" 2>/dev/null
[[ $? == 2 ]] && pass cert-not-before-overflow || fail cert-not-before-overflow
# serve: a port file that is the served key (or a file of the simulated TEE) is refused at start-up
cp "$T/a.key" "$T/a.key.orig"
timeout 10 "$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee snp --gpus 2 \
	--cert "$T/a.pem" --key "$T/a.key" --port-file "$T/a.key" >/dev/null 2>"$T/e.txt"
[[ $? == 2 ]] && cmp -s "$T/a.key" "$T/a.key.orig" && grep -q -- "--port-file .*--key" "$T/e.txt" &&
	pass serve-port-file-is-key || { fail serve-port-file-is-key; cat "$T/e.txt"; }
cp -r "$T/sim" "$T/sim3"
cp "$T/sim3/tdx/pck.pem" "$T/pck.pem.orig"
timeout 10 "$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --sim "$T/sim3" --tee tdx \
	--port-file "$T/sim3/tdx/pck.pem" >/dev/null 2>&1
[[ $? == 2 ]] && cmp -s "$T/sim3/tdx/pck.pem" "$T/pck.pem.orig" && pass serve-port-file-in-sim || fail serve-port-file-in-sim
# ports outside 0..65535 or not numbers
for l in 127.0.0.1:99999 127.0.0.1:65536 127.0.0.1:http 127.0.0.1:-1; do
	timeout 10 "$C" ratls serve --listen "$l" --backend "http://127.0.0.1:$BP" --sim "$T/sim" --tee tdx \
		--port-file "$T/bad.port" >/dev/null 2>&1
	[[ $? == 2 && ! -e $T/bad.port ]] && pass "serve-listen-refused $l" || fail "serve-listen-refused $l"
done
for b in http://127.0.0.1:70000 http://127.0.0.1:0 http://127.0.0.1:x1; do
	timeout 10 "$C" ratls serve --listen 127.0.0.1:0 --backend "$b" --sim "$T/sim" --tee tdx \
		--port-file "$T/bad.port" >/dev/null 2>&1
	[[ $? == 2 && ! -e $T/bad.port ]] && pass "serve-backend-refused $b" || fail "serve-backend-refused $b"
done
# a server that accepts and closes: an error naming the stage, exit 2, not SIGPIPE
start closer python3 "$H/servers.py" closer "$T/closer.port"; PC=$PORT
"$C" ratls verify 127.0.0.1:$PC --policy "$T/pol.json" $S --json >"$T/out.json" 2>/dev/null
rc=$?
[[ $rc == 2 ]] && python3 -c "import json,sys; r=json.load(open('$T/out.json')); sys.exit(not (r['verified'] is False and r['check'] in ('connect','handshake') and 'fresh-evidence (not reached)' in r['checks_skipped'] and r['failures']==[] and r['pin'] is None and r['simulated'] is False))" &&
	pass verify-peer-closes || { fail "verify-peer-closes: exit $rc"; cat "$T/out.json"; }
# unreachable, with a target that is not UTF-8: the same JSON frame, the target escaped
"$C" ratls verify $'\xff.invalid:1' --policy "$T/pol.json" --json >"$T/out.json" 2>/dev/null
rc=$?
[[ $rc == 2 ]] && python3 -c "import json,sys; r=json.load(open('$T/out.json')); sys.exit(not (r['verified'] is False and r['check']=='connect' and r['target'] and r['checks_skipped']))" &&
	pass verify-unreachable-json || { fail "verify-unreachable-json: exit $rc"; cat "$T/out.json"; }
"$C" ratls get "https://127.0.0.1:$PC/x" --policy "$T/pol.json" $S >/dev/null 2>&1
rc=$?
[[ $rc == 2 ]] && pass get-peer-closes || fail "get-peer-closes: exit $rc"
# the proxy's HTTP edges: answered before closing, and a body on the attestation endpoint is
# never read as a request for the backend
python3 "$H/servers.py" hostile "$P1" bighead >"$T/h.txt"
head -1 "$T/h.txt" | grep -q "^1 HTTP/1.1 431" && pass serve-head-too-large-431 || { fail serve-head-too-large-431; cat "$T/h.txt"; }
python3 "$H/servers.py" hostile "$P1" nul >"$T/h.txt"
head -1 "$T/h.txt" | grep -q "^1 HTTP/1.1 400" && pass serve-nul-400 || { fail serve-nul-400; cat "$T/h.txt"; }
python3 "$H/servers.py" hostile "$P1" post-attest >"$T/h.txt"
head -1 "$T/h.txt" | grep -q "^1 HTTP/1.1 405" && grep -q "^Allow: GET" "$T/h.txt" && pass serve-attest-post-405 ||
	{ fail serve-attest-post-405; cat "$T/h.txt"; }
python3 "$H/servers.py" hostile "$P1" smuggle >"$T/h.txt"
head -1 "$T/h.txt" | grep -q "^1 HTTP/1.1 400" && ! grep -q smuggled "$T/h.txt" && pass serve-attest-body-refused ||
	{ fail serve-attest-body-refused; cat "$T/h.txt"; }
# slowloris: connections trickling a TLS record hold their slot only until the head deadline,
# then a client gets in (2 slots, 2 s deadline; the trickle would last 60 s)
serve slow --tee tdx --max-connections 2 --header-timeout 2; P9=$PORT
out=$(python3 "$H/servers.py" drip "$P9" 2 60)
[[ $out == "closed 2" ]] && pass serve-head-deadline || fail "serve-head-deadline: $out"
expect serve-after-slowloris 0 "r['verified']" 127.0.0.1:$P9 --policy "$T/pol-tdx0.json" $S
"$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --header-timeout 0 >/dev/null 2>&1
[[ $? == 2 ]] && pass serve-header-timeout-range || fail serve-header-timeout-range
# one client address cannot take every slot: 3 connections from 127.0.0.2 with 2 allowed per
# address, the third closed before TLS; a client from 127.0.0.1 still verifies meanwhile
serve perip --tee tdx --max-connections 4 --max-connections-per-ip 2 --header-timeout 30; P10=$PORT
python3 "$H/servers.py" hold "$P10" 3 127.0.0.2 8 >"$T/hold.txt" &
hp=$!
for _ in $(seq 1 50); do [[ -s $T/hold.txt ]] && break; sleep 0.1; done
[[ $(cat "$T/hold.txt") == "open 2 closed 1" ]] && pass serve-per-ip-cap || fail "serve-per-ip-cap: $(cat "$T/hold.txt")"
expect serve-per-ip-others-served 0 "r['verified']" 127.0.0.1:$P10 --policy "$T/pol-tdx0.json" $S
kill $hp 2>/dev/null
wait $hp 2>/dev/null
"$C" ratls serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --max-connections 4 --max-connections-per-ip 5 >/dev/null 2>&1
[[ $? == 2 ]] && pass serve-per-ip-above-limit || fail serve-per-ip-above-limit

# an option the subcommand does not read is refused (exit 2, named), never accepted and ignored
foreign_opt() { # NAME WANT-IN-MESSAGE ratls-args...
	local name=$1 want=$2 out
	shift 2
	out=$("$C" ratls "$@" 2>&1 >/dev/null)
	[[ $? == 2 && $out == *"$want"* ]] && pass "$name" || fail "$name: $out"
}
foreign_opt opt-show-nonce "--nonce does not apply" show "$T/a.pem" --nonce 00
foreign_opt opt-get-json "--json does not apply" get "https://127.0.0.1:1/" --policy "$T/pol-tdx0.json" --json
foreign_opt opt-cert-policy "--policy does not apply" cert --tee snp --key-out "$T/x.key" --cert-out "$T/x.pem" --policy "$T/pol-tdx0.json"
foreign_opt opt-verify-curl "-o is an option of 'ratls get'" verify 127.0.0.1:1 --policy "$T/pol-tdx0.json" -o "$T/x.out"
foreign_opt opt-serve-json "--json does not apply" serve --listen 127.0.0.1:0 --backend "http://127.0.0.1:$BP" --json
[[ ! -e $T/x.key && ! -e $T/x.out ]] && pass opt-refused-nothing-written || fail opt-refused-nothing-written

# every server this test started is stopped by its PID and exits on SIGTERM
[[ ${#PIDS[@]} == $((14 + V6_SERVERS)) ]] && pass "servers-tracked (${#PIDS[@]})" ||
	fail "servers-tracked: ${#PIDS[@]} PIDs, want $((14 + V6_SERVERS))"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait
left=0
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
[[ $left == 0 ]] && pass servers-stopped || fail "servers-stopped: $left still running"
PIDS=()
echo "failures: $fails"
[[ $fails == 0 ]]
