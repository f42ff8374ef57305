#!/bin/bash
# cctrust-collateral-serve as a hostile client sees it (found by a black-box review; each case
# failed before its fix): request framing that a proxy in front could read otherwise (request
# smuggling) is refused before the body, as cctrustd refuses it; an encoded NUL does not cut a
# path or an argument; HEAD answers as GET, other methods 405; the OCSP proxy stores only an
# answer about the certificate asked.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}; src=${CCT_SRC:?}
serve_bin=$(dirname "$cct")/cctrust-collateral-serve
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "SKIP: python3 and curl are needed"; exit 77; }
[ -x "$serve_bin" ] || { echo "SKIP: cctrust-collateral-serve not built (libmicrohttpd)"; exit 77; }
tmp=$(mktemp -d); pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
wait_port() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# a bundle with the AMD Milan ASK+ARK and the Intel PCK CRLs, fetched from the loopback mirror
SNP=$V/snp/virtee-sev; D=$V/tdx/phala-dcap-qvl/derived/tdx_quote
python3 - "$tmp/map.json" <<PY
import json, sys
D = "$D"; SNP = "$SNP"
json.dump({"get": {
  "/vcek/v1/Milan/cert_chain": {"file": SNP + "/cert_chain_milan.pem"},
  "/tdx/certification/v4/tcb": {"file": D + "/tcb_info.json", "headers": {"TCB-Info-Issuer-Chain": "file:" + D + "/tcb_info_issuer_chain.pem"}},
  "/tdx/certification/v4/qe/identity": {"file": D + "/qe_identity.json", "headers": {"SGX-Enclave-Identity-Issuer-Chain": "file:" + D + "/qe_identity_issuer_chain.pem"}},
  "/sgx/certification/v4/pckcrl": {"file": D + "/pck_crl.der", "headers": {"SGX-PCK-CRL-Issuer-Chain": "file:" + D + "/pck_crl_issuer_chain.pem"}},
  "/sgx/certification/v4/rootcacrl": {"file": D + "/root_ca_crl.der"}}}, open(sys.argv[1], "w"))
PY
python3 "$src/tests/collateral/mirror.py" --map "$tmp/map.json" --log "$tmp/mlog" \
	--port-file "$tmp/mport" --window 0 --lifetime 300 & pids="$pids $!"
wait_port "$tmp/mport" || { echo "FAIL: mirror did not start"; exit 1; }
M=http://127.0.0.1:$(cat "$tmp/mport")
B=$tmp/bundle
timeout 60 "$cct" collateral fetch -o "$B" --tdx-fmspc B0C06F000000 --snp-product Milan \
	--kds-url "$M" --pcs-url "$M" --kds-interval 0 --at 2025-07-19T10:00:00Z --quiet >/dev/null 2>&1
grep -q '"snp-ask-ark"' "$B/manifest.json" && grep -q '"tdx-pck-crl"' "$B/manifest.json" \
	|| { echo "FAIL: test bundle not built"; exit 1; }

timeout 300 "$serve_bin" "$B" --listen 127.0.0.1:0 --port-file "$tmp/sport" 2>"$tmp/serr" & spid=$!; pids="$pids $!"
wait_port "$tmp/sport" || { echo "FAIL: serve did not start: $(cat "$tmp/serr")"; exit 1; }
port=$(cat "$tmp/sport"); S=http://127.0.0.1:$port

# raw REQUEST (Python bytes literal): every status line the server sends until it closes or is
# silent for 5 s ("timeout" then)
raw() { python3 - "$port" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(5)
s.sendall(eval(sys.argv[2]))
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
except socket.timeout:
    out += b"\ntimeout"
except ConnectionResetError:
    out += b"\nreset"
print(" ".join(l.decode() for l in out.split(b"\r\n") if l.startswith(b"HTTP/1.")) +
      (" timeout" if out.endswith(b"timeout") else ""))
PY
}
H='Host: x\r\n'
# Content-Length with Transfer-Encoding: MHD framed the body by the chunks and answered the
# request smuggled after them (GET /metrics); a proxy framing by the length sees another request
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n${H}\r\n'")
check "CL+TE: 400 and the connection closed, the smuggled request unanswered (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
r=$(raw "b'GET /vcek/v1/Milan/cert_chain HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'")
check "CL+TE on a GET: 400 (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello'")
check "two Content-Length: 400 (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n'")
check "two Transfer-Encoding: 400 (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
# a coding other than chunked: MHD waited for a body it cannot frame, to its 30 s timeout
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'")
check "Transfer-Encoding gzip, chunked: 400 at once (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n'")
check "Transfer-Encoding identity: 400 at once (got '$r')" "[ '$r' = 'HTTP/1.1 400 Bad Request' ]"
# a declared body above the OCSP request limit was read (and dropped) for as long as it came
r=$(raw "b'POST /ocsp HTTP/1.1\r\n${H}Content-Length: 100000000\r\n\r\nabc'")
check "Content-Length 100000000: 413 before the body (got '$r')" "[ '$r' = 'HTTP/1.1 413 Content Too Large' ]"
head -c 70000 /dev/zero > "$tmp/big"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "$S/ocsp")
check "a chunked body above the limit: the connection is closed, not read on (got $code)" "[ '$code' = 000 ]"
# the server still answers after all that
code=$(curl -s -o /dev/null -w '%{http_code}' "$S/vcek/v1/Milan/cert_chain")
check "a plain GET after the refusals: 200 (got $code)" "[ '$code' = 200 ]"

# %00: libmicrohttpd decodes it and the C string ended there (cert_chain%00x was cert_chain)
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$S/vcek/v1/Milan/cert_chain%00x")
check "%00 in the path: 400 (got $code)" "[ '$code' = 400 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$S/tdx/certification/v4/pckcrl?ca=platform%00x")
check "%00 in an argument: not the argument cut at the NUL (got $code)" "[ '$code' = 404 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$S/tdx/certification/v4/pckcrl?ca=platform")
check "the same argument without the NUL: 200 (got $code)" "[ '$code' = 200 ]"

# HEAD was 404 on every URL that GET answers 200; other methods were 404, not 405
curl -s -D "$tmp/gh" -o /dev/null "$S/sgx/certification/v4/pckcrl?ca=platform"
curl -s -I -o "$tmp/hh" "$S/sgx/certification/v4/pckcrl?ca=platform"
check "HEAD: 200 as GET" "grep -q '^HTTP/1.1 200' '$tmp/hh'"
for h in Content-Length Content-Type SGX-PCK-CRL-Issuer-Chain; do
	check "HEAD: $h as GET's" "[ -n \"\$(grep -i '^$h:' '$tmp/gh')\" ] && [ \"\$(grep -i '^$h:' '$tmp/gh')\" = \"\$(grep -i '^$h:' '$tmp/hh')\" ]"
done
code=$(curl -s -I -o /dev/null -w '%{http_code}' "$S/metrics")
check "HEAD /metrics: 200 (got $code)" "[ '$code' = 200 ]"
code=$(curl -s -I -o /dev/null -w '%{http_code}' "$S/vcek/v1/Genoa/cert_chain")
check "HEAD of an item not in the bundle: 404 (got $code)" "[ '$code' = 404 ]"
for m in PUT DELETE OPTIONS PATCH; do
	curl -s -X $m -D "$tmp/mh" -o /dev/null "$S/vcek/v1/Milan/cert_chain"
	check "$m: 405 with Allow" "grep -q '^HTTP/1.1 405' '$tmp/mh' && grep -qi '^Allow: GET, HEAD, POST' '$tmp/mh'"
done

# one client address holding every connection with an unfinished request kept all others out
# (256 in all, none per address); now at most 64 per address
r=$(python3 - "$port" <<'PY'
import socket, subprocess, sys, time
port = int(sys.argv[1]); held = []
for i in range(270):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /vcek/v1/Milan/cert_chain HTTP/1.1\r\nHost: x\r\n"); held.append(s)
    except OSError:
        pass
time.sleep(0.5)
r = subprocess.run(["curl", "-s", "-m", "5", "--interface", "127.0.0.2", "-o", "/dev/null", "-w",
                    "%{http_code}", "http://127.0.0.1:%d/vcek/v1/Milan/cert_chain" % port],
                   capture_output=True, text=True)
print(r.stdout)
PY
)
check "another client while one holds 270 unfinished requests: 200 (got $r)" "[ '$r' = 200 ]"

# an item altered under the running server: 500 (fail closed); the reason went to the client
# (with the bundle's file layout) and nowhere in the operator's log
echo x >> "$B/snp-ask-ark/Milan.pem"
body=$(curl -s -w ' %{http_code}' "$S/vcek/v1/Milan/cert_chain")
check "altered item: 500 'collateral item unreadable' (got '$body')" "[ \"\$body\" = 'collateral item unreadable
 500' ]"
check "altered item: the log names it and why" "grep -q 'snp-ask-ark Milan: .*SHA-256 differs from the manifest' '$tmp/serr'"
# ... and behind a proxy, a damaged cache entry stayed a 500 for good: it is fetched again,
# validated and replaces it
cp -r "$B" "$tmp/pc"
timeout 60 "$serve_bin" "$tmp/pc" --listen 127.0.0.1:0 --port-file "$tmp/pcport" --upstream "$M" \
	--at 2025-07-19T10:00:00Z --kds-interval 0 2>"$tmp/pcerr" & pcpid=$!; pids="$pids $!"
wait_port "$tmp/pcport" || bad "proxy did not start: $(cat "$tmp/pcerr")"
n0=$(grep -c 'cert_chain' "$tmp/mlog")
code=$(curl -s -o "$tmp/pcchain" -w '%{http_code}' "http://127.0.0.1:$(cat "$tmp/pcport")/vcek/v1/Milan/cert_chain")
check "proxy, damaged item: fetched again and served (got $code)" "[ '$code' = 200 ] && cmp -s '$tmp/pcchain' '$SNP/cert_chain_milan.pem' && [ \$(grep -c cert_chain '$tmp/mlog') -eq $((n0 + 1)) ]"
check "proxy, damaged item: replaced in the bundle" "cmp -s '$tmp/pc/snp-ask-ark/Milan.pem' '$SNP/cert_chain_milan.pem'"
kill "$pcpid"
kill -0 "$spid" 2>/dev/null && ok || bad "serve died: $(tail -3 "$tmp/serr")"

# --upstream-ocsp that answers about another certificate: the proxy stored the answer for serial
# 5678 under the asked serial 1234 and served it until the nextUpdate the upstream chose
if command -v openssl >/dev/null; then
	O=$tmp/ocsp; mkdir -p "$O"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$O/ca.key" \
		-out "$O/ca.pem" -subj /CN=ca -days 3650 2>/dev/null
	for n in 1234 5678; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$O/$n.key" \
			-out "$O/$n.csr" -subj /CN=leaf$n 2>/dev/null
		openssl x509 -req -in "$O/$n.csr" -CA "$O/ca.pem" -CAkey "$O/ca.key" -set_serial 0x$n \
			-out "$O/$n.pem" -days 365 2>/dev/null
		openssl ocsp -issuer "$O/ca.pem" -cert "$O/$n.pem" -no_nonce -reqout "$O/req$n.der" 2>/dev/null
	done
	printf 'V\t301231235959Z\t\t1234\tunknown\t/CN=leaf1234\nV\t301231235959Z\t\t5678\tunknown\t/CN=leaf5678\n' > "$O/index.txt"
	openssl ocsp -index "$O/index.txt" -rsigner "$O/ca.pem" -rkey "$O/ca.key" -CA "$O/ca.pem" \
		-reqin "$O/req5678.der" -respout "$O/resp5678.der" -ndays 30 >/dev/null 2>&1
	# the answer this upstream gives to every request is whatever $O/serve.der holds
	cp "$O/resp5678.der" "$O/serve.der"
	openssl ocsp -index "$O/index.txt" -rsigner "$O/ca.pem" -rkey "$O/ca.key" -CA "$O/ca.pem" \
		-reqin "$O/req1234.der" -respout "$O/resp1234-nonext.der" >/dev/null 2>&1
	python3 - "$O/serve.der" "$O/uport" "$O/ulog" <<'PY' & pids="$pids $!"
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = open(sys.argv[1], "rb").read()
        open(sys.argv[3], "a").write("POST\n")
        self.send_response(200); self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H); s.timeout = 1
open(sys.argv[2], "w").write(str(s.server_port))
end = time.time() + 120
while time.time() < end: s.handle_request()
PY
	wait_port "$O/uport" || bad "fake OCSP upstream did not start"
	mkdir -p "$O/pb"; echo '{"version":"cctrust.collateral/v1","items":[]}' > "$O/pb/manifest.json"
	timeout 120 "$serve_bin" "$O/pb" --listen 127.0.0.1:0 --port-file "$O/pport" \
		--upstream-ocsp "http://127.0.0.1:$(cat "$O/uport")/ocsp" 2>"$O/perr" & ppid=$!; pids="$pids $!"
	wait_port "$O/pport" || bad "OCSP proxy did not start: $(cat "$O/perr")"
	P=http://127.0.0.1:$(cat "$O/pport")
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req1234.der" "$P/ocsp")
	check "OCSP answer about another serial: 502, not served (got $code)" "[ '$code' = 502 ]"
	check "... not stored" "! grep -q '\"nvidia-ocsp\"' '$O/pb/manifest.json'"
	check "... named in the log" "grep -q 'answers serial 5678, the request asked about serial 1234' '$O/perr'"
	code=$(curl -s -o "$O/got" -w '%{http_code}' --data-binary @"$O/req5678.der" "$P/ocsp")
	check "OCSP answer about the asked serial: 200, stored (got $code)" "[ '$code' = 200 ] && cmp -s '$O/got' '$O/resp5678.der' && grep -q '\"key\": \"5678\"' '$O/pb/manifest.json'"

	# an answer without nextUpdate: the verifiers refuse it a day after its thisUpdate, but
	# check called it fresh with "no expiry" and the proxy served it for ever, never refetched
	cp "$O/resp1234-nonext.der" "$O/serve.der"
	sleep 5 # the failed flight for 1234 above is shared for 5 s
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req1234.der" "$P/ocsp")
	check "OCSP answer without nextUpdate: stored (got $code)" "[ '$code' = 200 ] && grep -q '\"key\": \"1234\"' '$O/pb/manifest.json'"
	kill "$ppid"; wait "$ppid" 2>/dev/null
	later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
	"$cct" collateral check "$O/pb" >"$O/c0" 2>&1; rc=$?
	check "check now: fresh, exit 0 (got $rc)" "[ $rc = 0 ]"
	"$cct" collateral check "$O/pb" --at "$later" >"$O/c1" 2>&1; rc=$?
	check "check two days later: expired, exit 1 (got $rc: $(head -c 300 "$O/c1"))" "[ $rc = 1 ] && grep -q '^expired  nvidia-ocsp     1234: .*thisUpdate + 1 day: no nextUpdate' '$O/c1'"
	n0=$(wc -l < "$O/ulog")
	timeout 60 "$serve_bin" "$O/pb" --listen 127.0.0.1:0 --port-file "$O/pport2" --at "$later" \
		--upstream-ocsp "http://127.0.0.1:$(cat "$O/uport")/ocsp" 2>"$O/perr2" & pids="$pids $!"
	wait_port "$O/pport2" || bad "OCSP proxy did not start: $(cat "$O/perr2")"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req1234.der" "http://127.0.0.1:$(cat "$O/pport2")/ocsp")
	check "proxy two days later: the stale answer is refetched, not served (got $code, $(( $(wc -l < "$O/ulog") - n0 )) upstream requests)" "[ '$code' = 502 ] && [ \$(wc -l < '$O/ulog') -eq $((n0 + 1)) ]"

	# OCSP answers are stored by serial: the answer for 5678 of one CA was served to a request
	# about serial 5678 of another CA (which it does not answer)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$O/ca2.key" \
		-out "$O/ca2.pem" -subj /CN=ca2 -days 3650 2>/dev/null
	openssl x509 -req -in "$O/5678.csr" -CA "$O/ca2.pem" -CAkey "$O/ca2.key" -set_serial 0x5678 \
		-out "$O/5678-ca2.pem" -days 365 2>/dev/null
	openssl ocsp -issuer "$O/ca2.pem" -cert "$O/5678-ca2.pem" -no_nonce -reqout "$O/req5678-ca2.der" 2>/dev/null
	timeout 60 "$serve_bin" "$O/pb" --listen 127.0.0.1:0 --port-file "$O/pport5" 2>"$O/perr5" & pids="$pids $!"
	wait_port "$O/pport5" || bad "serve did not start: $(cat "$O/perr5")"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req5678-ca2.der" "http://127.0.0.1:$(cat "$O/pport5")/ocsp")
	check "OCSP request about serial 5678 of another CA: 404, not the stored answer (got $code)" "[ '$code' = 404 ]"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req5678.der" "http://127.0.0.1:$(cat "$O/pport5")/ocsp")
	check "OCSP request about serial 5678 of its CA: 200 (got $code)" "[ '$code' = 200 ]"

	# an answer whose thisUpdate is ahead of the proxy's time (here --at two days back): every
	# verifier refuses it until then, but the proxy stored and served it, never refetching
	cp "$O/resp5678.der" "$O/serve.der"
	mkdir -p "$O/pb3"; echo '{"version":"cctrust.collateral/v1","items":[]}' > "$O/pb3/manifest.json"
	before=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)
	timeout 60 "$serve_bin" "$O/pb3" --listen 127.0.0.1:0 --port-file "$O/pport3" --at "$before" \
		--upstream-ocsp "http://127.0.0.1:$(cat "$O/uport")/ocsp" 2>"$O/perr3" & pids="$pids $!"
	wait_port "$O/pport3" || bad "OCSP proxy did not start: $(cat "$O/perr3")"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$O/req5678.der" "http://127.0.0.1:$(cat "$O/pport3")/ocsp")
	check "OCSP answer not valid yet at the proxy's time: not served (got $code)" "[ '$code' = 502 ]"
else
	echo "note: openssl not found; the OCSP proxy cases not run"
fi
# --upstream-pcs alone: KDS and RIM misses went to the vendors' services (CCTRUST_KDS_URL /
# CCTRUST_RIM_URL, else AMD's and NVIDIA's, with the guests' chip IDs); they are 404 as without a
# proxy (the variables point at a closed port here, so the old code reached nothing)
W=$tmp/pcsonly; mkdir -p "$W/pb"; echo '{"version":"cctrust.collateral/v1","items":[]}' > "$W/pb/manifest.json"
CCTRUST_KDS_URL=http://127.0.0.1:9 CCTRUST_RIM_URL=http://127.0.0.1:9 timeout 60 "$serve_bin" "$W/pb" \
	--listen 127.0.0.1:0 --port-file "$W/pport" --upstream-pcs "$M" --at 2025-07-19T10:00:00Z 2>"$W/perr" & pids="$pids $!"
wait_port "$W/pport" || bad "proxy did not start: $(cat "$W/perr")"
WP=http://127.0.0.1:$(cat "$W/pport")
for u in /vcek/v1/Milan/cert_chain /v1/rim/NV_GPU_DRIVER_GH100_550.144.03; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$WP$u")
	check "--upstream-pcs only, $u: 404, nothing fetched (got $code)" "[ '$code' = 404 ]"
done
check "--upstream-pcs only: no KDS or RIM fetch tried" "! grep -q '127.0.0.1:9' '$W/perr'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$WP/sgx/certification/v4/pckcrl?ca=platform")
check "--upstream-pcs only, PCK CRL: fetched from it (got $code)" "[ '$code' = 200 ]"

# an upstream answering 503 (Retry-After: 1): the proxy retried 4 times while its client waited
# and every other miss queued behind it; one request per miss, then 502
U=$tmp/u503; mkdir -p "$U/pb"; echo '{"version":"cctrust.collateral/v1","items":[]}' > "$U/pb/manifest.json"
python3 - "$U/uport" "$U/ulog" <<'PY' & pids="$pids $!"
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[2], "a").write(self.path + "\n")
        self.send_response(503); self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H); s.timeout = 1
open(sys.argv[1], "w").write(str(s.server_port))
end = time.time() + 60
while time.time() < end: s.handle_request()
PY
wait_port "$U/uport" || bad "503 upstream did not start"
timeout 60 "$serve_bin" "$U/pb" --listen 127.0.0.1:0 --port-file "$U/pport" \
	--upstream "http://127.0.0.1:$(cat "$U/uport")" 2>"$U/perr" & pids="$pids $!"
wait_port "$U/pport" || bad "proxy did not start: $(cat "$U/perr")"
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$U/pport")/v1/rim/NV_GPU_DRIVER_GH100_550.144.03")
n=$(wc -l < "$U/ulog")
check "upstream 503: 502 after one upstream request (got $code after $n)" "[ '$code' = 502 ] && [ $n = 1 ]"

echo "collateral serve http: $pass passed, $fail failed"
[ $fail -eq 0 ]
