#!/bin/bash
# Collateral bundles end to end, against a loopback vendor mirror (tests/collateral/mirror.py)
# serving KDS / PCS / RIM / OCSP paths from the test vectors and the simulated GPU, answering
# 429 to a KDS request within the mirror's window of the previous one:
#  - `collateral fetch --from` SNP, TDX and GPU evidence stores the right items, paces KDS
#    (no 429 at --kds-interval above the window) and honours 429 Retry-After (interval 0);
#  - a second fetch of a complete set makes no upstream request; a missing item is named with
#    its URL (exit 1); an item whose signature fails is never stored nor replaces a good one;
#  - verifiers given --collateral BUNDLE reach the verdicts of the per-vendor options;
#  - `collateral check`: fresh 0; later --at names the expired items, exit 1; one corrupted
#    byte is named invalid, exit 1;
#  - `collateral serve`: snpguest- and PCCS-style URLs answer the bundle's bytes; with
#    --upstream, 50 concurrent identical requests cause exactly one upstream request.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}; build=${CCT_BUILD:?}; src=${CCT_SRC:?}
serve_bin=$(dirname "$cct")/cctrust-collateral-serve
gen=$build/tests/nvgpu_test_sim_gpu
command -v python3 >/dev/null && command -v curl >/dev/null && command -v openssl >/dev/null \
	|| { echo "SKIP: python3, curl and openssl are needed"; exit 77; }
[ -x "$serve_bin" ] || { echo "SKIP: cctrust-collateral-serve not built (libmicrohttpd)"; exit 77; }
tmp=$(mktemp -d); pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
expect_rc() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 600 "$tmp/out" "$tmp/err")"; }
wait_port() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

SNP=$V/snp/virtee-sev; D=$V/tdx/phala-dcap-qvl/derived/tdx_quote
QUOTE=$V/tdx/phala-dcap-qvl/sample/tdx_quote; TDX_AT=2025-07-19T10:00:00Z
NV=$V/nvgpu/nvidia-attestation-sdk/testdata
"$gen" --generate "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: cannot generate the simulated GPU"; exit 1; }
G=$tmp/sim/gpu; nonce=$(cat "$tmp/sim/nonce.hex")
chip=$("$cct" snp show "$SNP/report_milan.hex" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("chip_id") or d["claims"]["chip_id"])')

# the mirror's map (rewritten later to serve a corrupted RIM)
write_map() { python3 - "$tmp/map.json" "$1" <<PY
import glob, json, sys
G = "$G"; D = "$D"; NV = "$NV"; SNP = "$SNP"
rim_file = sys.argv[2]
def rim(i, f): return {"file": f, "rim_id": i}
m = {"get": {
  "/vcek/v1/Milan/$chip": {"file": SNP + "/vcek_milan.der"},
  "/vcek/v1/Milan/cert_chain": {"file": SNP + "/cert_chain_milan.pem"},
  "/tdx/certification/v4/tcb": {"file": D + "/tcb_info.json", "headers": {"TCB-Info-Issuer-Chain": "file:" + D + "/tcb_info_issuer_chain.pem"}},
  "/tdx/certification/v4/qe/identity": {"file": D + "/qe_identity.json", "headers": {"SGX-Enclave-Identity-Issuer-Chain": "file:" + D + "/qe_identity_issuer_chain.pem"}},
  "/sgx/certification/v4/pckcrl": {"file": D + "/pck_crl.der", "headers": {"SGX-PCK-CRL-Issuer-Chain": "file:" + D + "/pck_crl_issuer_chain.pem"}},
  "/sgx/certification/v4/rootcacrl": {"file": D + "/root_ca_crl.der"},
  "/v1/rim/NV_GPU_DRIVER_GH100_550.144.03": rim("NV_GPU_DRIVER_GH100_550.144.03", rim_file),
  "/v1/rim/NV_GPU_DRIVER_GH100_550.144.99": rim("NV_GPU_DRIVER_GH100_550.144.99", NV + "/incorrect_signature_driver_rim.xml")},
  "ocsp_dir": G + "/ocsp",
  "ocsp_cas": [[p, p[:-4] + ".key"] for p in sorted(glob.glob(G + "/*.pem") + glob.glob(G + "/devices/*/brom.pem"))]}
for f in glob.glob(G + "/rims/*.xml"):
    i = f.split("/")[-1][:-4]
    m["get"]["/v1/rim/" + i] = rim(i, f)
json.dump(m, open(sys.argv[1], "w"))
PY
}
write_map "$NV/NV_GPU_DRIVER_GH100_550.144.03.xml"
python3 "$src/tests/collateral/mirror.py" --map "$tmp/map.json" --log "$tmp/log" \
	--port-file "$tmp/mport" --window 3 --retry-after 2 --lifetime 600 & pids="$pids $!"
wait_port "$tmp/mport" || { echo "FAIL: mirror did not start"; exit 1; }
M=http://127.0.0.1:$(cat "$tmp/mport")
urls="--kds-url $M --pcs-url $M --rim-url $M --ocsp-url $M/ocsp"
simroots="--gpu-device-root $G/device-root.pem --gpu-rim-root $G/rim-root.pem"
B=$tmp/bundle
reqs() { wc -l < "$tmp/log" 2>/dev/null || echo 0; }

# 1. SNP + GPU at now, KDS paced above the mirror's window: no 429; the CRL is missing (none is
#    shipped with the vectors) and named with its URL
expect_rc 1 "$cct" collateral fetch --from "$SNP/report_milan.hex" "$tmp/sim/evidence-kbs.json" \
	-o "$B" $urls $simroots --kds-interval 4.5
check "fetch names the missing CRL with its URL" "grep -q 'missing snp-crl vcek/Milan: .*$M/vcek/v1/Milan/crl' '$tmp/out'"
check "paced KDS requests get no 429" "! grep -q ' 429' '$tmp/log'"
man=$B/manifest.json
check "manifest version" "grep -q '\"version\": \"cctrust.collateral/v1\"' '$man'"
check "VCEK stored under product/hwid/TCB" "grep -q '\"key\": \"Milan/$chip/blSPL_3_teeSPL_0_snpSPL_8_ucodeSPL_115\"' '$man'"
check "VCEK bytes are KDS's" "cmp -s '$B/snp-vcek/Milan/$chip/blSPL_3_teeSPL_0_snpSPL_8_ucodeSPL_115.der' '$SNP/vcek_milan.der'"
check "ASK+ARK stored" "grep -q '\"kind\": \"snp-ask-ark\"' '$man'"
check "both GPU RIMs stored" "[ \$(grep -c '\"kind\": \"nvidia-rim\"' '$man') -eq 2 ]"
check "OCSP answers for both GPUs' and the RIMs' chains stored" "[ \$(grep -c '\"kind\": \"nvidia-ocsp\"' '$man') -eq 9 ]"

# 2. TDX (its collateral's window is mid-2025: fetched and validated --at then)
n0=$(reqs)
expect_rc 0 "$cct" collateral fetch --from "$QUOTE" -o "$B" $urls --at $TDX_AT
check "TDX: 4 items fetched (root CRL, TCB info, QE identity, PCK CRL)" "[ \$((\$(reqs) - n0)) -eq 4 ]"
check "TDX TCB info keyed by FMSPC with its issuer chain" "grep -q '\"key\": \"b0c06f000000\"' '$man' && grep -q 'tdx-tcb-info/b0c06f000000.issuer-chain.pem' '$man'"
# 3. a second fetch of complete sets makes no upstream request
n0=$(reqs)
expect_rc 0 "$cct" collateral fetch --from "$QUOTE" -o "$B" $urls --at $TDX_AT
expect_rc 0 "$cct" collateral fetch --from "$tmp/sim/evidence-kbs.json" -o "$B" $urls $simroots
check "second fetch: no upstream request" "[ \$(reqs) -eq $n0 ]"
check "second fetch says so" "grep -q '0 stored, 11 already present, 0 missing, 0 upstream requests' '$tmp/out'"

# 4. 429 honoured: interval 0 -> the mirror refuses back-to-back KDS requests, fetch waits
sleep 3
expect_rc 1 "$cct" collateral fetch --from "$SNP/report_milan.hex" -o "$tmp/b429" $urls --kds-interval 0
check "mirror answered 429" "grep -q ' 429' '$tmp/log'"
check "fetch retried after Retry-After" "grep -q 'answered 429; retrying in 2 s' '$tmp/err'"
check "VCEK stored despite the 429" "grep -q '\"kind\": \"snp-vcek\"' '$tmp/b429/manifest.json'"

# 5. never store an item whose signature fails; never replace a good one
expect_rc 1 "$cct" collateral fetch --gpu-rim NV_GPU_DRIVER_GH100_550.144.99 --gpu-rim NV_GPU_DRIVER_GH100_550.144.03 -o "$tmp/r" $urls
check "bad RIM named, not stored" "grep -q 'missing nvidia-rim NV_GPU_DRIVER_GH100_550.144.99: .*not stored, invalid' '$tmp/out' && ! grep -q 550.144.99 '$tmp/r/manifest.json'"
check "good RIM stored" "grep -q '\"key\": \"NV_GPU_DRIVER_GH100_550.144.03\"' '$tmp/r/manifest.json'"
cp "$tmp/r/manifest.json" "$tmp/r.manifest"
write_map "$NV/incorrect_signature_driver_rim.xml"
expect_rc 1 "$cct" collateral fetch --gpu-rim NV_GPU_DRIVER_GH100_550.144.03 -o "$tmp/r" $urls --refresh
check "refresh with an altered RIM keeps the good one" "cmp -s '$tmp/r/manifest.json' '$tmp/r.manifest' && cmp -s '$tmp/r/nvidia-rim/NV_GPU_DRIVER_GH100_550.144.03.xml' '$NV/NV_GPU_DRIVER_GH100_550.144.03.xml'"
write_map "$NV/NV_GPU_DRIVER_GH100_550.144.03.xml"

# 6. verifiers: --collateral BUNDLE gives the verdicts of today's options
expect_rc 0 "$cct" snp verify "$SNP/report_milan.hex" --certs "$SNP/vcek_milan.der" --offline --no-crl
expect_rc 0 "$cct" snp verify "$SNP/report_milan.hex" --collateral "$B" --offline --no-crl
expect_rc 1 "$cct" snp verify "$SNP/report_milan.hex" --collateral "$B" --offline
check "no CRL in the bundle: revocation fails closed" "grep -q 'revocation/collateral' '$tmp/out'"
python3 -c "import sys; d=bytearray(open(sys.argv[1]).read().strip(), 'ascii'); d[40:42]=b'ff' if d[40:42]!=b'ff' else b'00'; open(sys.argv[2],'w').write(d.decode())" "$SNP/report_milan.hex" "$tmp/tampered.hex"
expect_rc 1 "$cct" snp verify "$tmp/tampered.hex" --certs "$SNP/vcek_milan.der" --offline --no-crl
expect_rc 1 "$cct" snp verify "$tmp/tampered.hex" --collateral "$B" --offline --no-crl
"$cct" collateral fetch --from "$SNP/report_milan.hex" -o "$tmp/b.tar" $urls >/dev/null 2>&1
one_rc=$?
expect_rc 0 "$cct" snp verify "$SNP/report_milan.hex" --collateral "$tmp/b.tar" --offline --no-crl
# a fleet's evidence: more than 256 --from files were refused ("too many --from files"), and a
# directory was not taken; 300 of each now, their shared items fetched once (the same exit as
# the one report's: the mirror lacks an item either way)
mkdir -p "$tmp/fleet"
for i in $(seq -w 1 300); do cp "$SNP/report_milan.hex" "$tmp/fleet/r$i.hex"; done
expect_rc "$one_rc" "$cct" collateral fetch --from "$tmp"/fleet/r*.hex -o "$tmp/fleet-files.tar" $urls
expect_rc 0 "$cct" snp verify "$SNP/report_milan.hex" --collateral "$tmp/fleet-files.tar" --offline --no-crl
expect_rc "$one_rc" "$cct" collateral fetch --from "$tmp/fleet" -o "$tmp/fleet-dir.tar" $urls
expect_rc 0 "$cct" snp verify "$SNP/report_milan.hex" --collateral "$tmp/fleet-dir.tar" --offline --no-crl
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$nonce" --device-root "$G/device-root.pem" --rim-root "$G/rim-root.pem" --rim-dir "$G/rims" --ocsp-dir "$G/ocsp" --offline
expect_rc 0 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$nonce" --device-root "$G/device-root.pem" --rim-root "$G/rim-root.pem" --collateral "$B" --offline
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$(echo "$nonce" | tr 0123 3210)" --device-root "$G/device-root.pem" --rim-root "$G/rim-root.pem" --collateral "$B" --offline
expect_rc 1 "$cct" gpu verify "$tmp/sim/evidence-kbs.json" --nonce "$nonce" --device-root "$G/device-root.pem" --rim-root "$G/rim-root.pem" --collateral "$tmp/b429" --offline
expect_rc 0 "$cct" tdx verify "$QUOTE" --collateral "$V/tdx/phala-dcap-qvl/sample/tdx_quote_collateral.json" --at $TDX_AT
expect_rc 0 "$cct" tdx verify "$QUOTE" --collateral "$B" --offline --at $TDX_AT
expect_rc 1 "$cct" tdx verify "$QUOTE" --collateral "$B" --offline
expect_rc 1 "$cct" tdx verify "$V/tdx/phala-dcap-qvl/sample/tdx_quote_outdated" --collateral "$B" --offline --at $TDX_AT
# past the cache of per-platform collateral (16 FMSPC/CA pairs; the 17th was refused as
# too_big): each further quote gets its own, freed after its verdict. CCT_TDX_FETCH_CACHE=0
# (tests only) puts every quote past it; the verdicts are those of the cached path.
CCT_TDX_FETCH_CACHE=0 expect_rc 0 "$cct" tdx verify "$QUOTE" "$QUOTE" "$QUOTE" --collateral "$B" --offline --at $TDX_AT --json
check "three quotes past the cache, each accepted" "[ \"\$(grep -c '\"accepted\":true' '$tmp/out')\" = 3 ]"
CCT_TDX_FETCH_CACHE=1 expect_rc 1 "$cct" tdx verify "$QUOTE" "$V/tdx/phala-dcap-qvl/sample/tdx_quote_outdated" "$QUOTE" --collateral "$B" --offline --at $TDX_AT --json
check "past a cache of one: accepted, rejected, accepted" "[ \"\$(grep -o '\"accepted\":[a-z]*' '$tmp/out' | tr '\n' ' ')\" = '\"accepted\":true \"accepted\":false \"accepted\":true ' ]"

# 6b. keys from KBS attestation requests (simulated SNP + GPU, the real TDX quote wrapped in a
#     request): CPU report / quote and GPUs; the
#     services are unreachable, so every derived item is named missing with its URL
"$cct" sim init "$tmp/kbs-sim" >/dev/null && "$cct" sim tee-key >"$tmp/tee.jwk" || bad "sim init"
kn=$(head -c 32 /dev/urandom | base64)
"$cct" sim evidence "$tmp/kbs-sim" --tee snp --gpus 1 --nonce "$kn" --tee-pubkey "$tmp/tee.jwk" -o "$tmp/req-snp.json" || bad "sim evidence snp"
python3 - "$QUOTE" "$tmp/tee.jwk" "$tmp/real-tdx.json" <<'PY'
import base64, json, sys
json.dump({"runtime-data": {"nonce": base64.b64encode(b"\0" * 32).decode(), "tee-pubkey": json.load(open(sys.argv[2]))},
           "tee-evidence": {"primary_evidence": {"quote": base64.b64encode(open(sys.argv[1], "rb").read()).decode(), "cc_eventlog": None},
                            "additional_evidence": ""}}, open(sys.argv[3], "w"))
PY
none="--kds-url http://127.0.0.1:9 --pcs-url http://127.0.0.1:9 --rim-url http://127.0.0.1:9 --ocsp-url http://127.0.0.1:9/ocsp"
expect_rc 1 "$cct" collateral fetch --from "$tmp/req-snp.json" "$tmp/real-tdx.json" -o "$tmp/kbs-b" $none --kds-interval 0 --gpu-device-root "$tmp/kbs-sim/gpu/device-root.pem" --gpu-rim-root "$tmp/kbs-sim/gpu/rim-root.pem"
check "KBS request: SNP VCEK, ASK+ARK and CRL derived" "grep -q '^missing snp-vcek [A-Za-z]*/[0-9a-f]*/.*SPL_[0-9]*: .*127.0.0.1:9/vcek/v1/' '$tmp/out' && grep -q '^missing snp-ask-ark ' '$tmp/out' && grep -q '^missing snp-crl vcek/' '$tmp/out'"
check "KBS request: TDX items for its FMSPC derived" "grep -q '^missing tdx-tcb-info b0c06f000000: ' '$tmp/out' && grep -q '^missing tdx-qe-identity tdx' '$tmp/out' && grep -q '^missing tdx-root-ca-crl root' '$tmp/out'"
check "KBS request: its GPU evidence derived (first unreachable OCSP named)" "grep -q '^missing nvidia-rim gpu-0: .*OCSP' '$tmp/out'"

# 6c. cctrust verify (composite): the real TDX quote in a request, --collateral BUNDLE vs the
#     QVL bundle file (binding skipped: the vector's REPORTDATA is fixed)
expect_rc 0 "$cct" verify "$tmp/real-tdx.json" --collateral "$V/tdx/phala-dcap-qvl/sample/tdx_quote_collateral.json" --offline --skip-binding-insecure --at $TDX_AT --json
expect_rc 0 "$cct" verify "$tmp/real-tdx.json" --collateral "$B" --offline --skip-binding-insecure --at $TDX_AT --json
check "composite with the bundle: TCB UpToDate" "grep -q '\"tcb_status\": \"UpToDate\"' '$tmp/out'"
expect_rc 1 "$cct" verify "$tmp/real-tdx.json" --collateral "$B" --offline --skip-binding-insecure --json

# 7. collateral check
expect_rc 0 "$cct" collateral check "$tmp/r"
expect_rc 1 "$cct" collateral check "$B" --at $TDX_AT --gpu-rim-root "$G/rim-root.pem" --gpu-device-root "$G/device-root.pem" --json
check "check --json at the TDX window: TDX items fresh, the GPU's answers of today not yet valid" "python3 -c \"import json,sys; d=json.load(open('$tmp/out')); t=[i for i in d['items'] if i['kind'].startswith('tdx-')]; assert len(t)==4 and all(i['state']=='fresh' for i in t); assert all(i['state']=='expired' and i['error']['code'] for i in d['items'] if i['kind']=='nvidia-ocsp'); assert d['ok'] is False\""
expect_rc 1 "$cct" collateral check "$B" --gpu-rim-root "$G/rim-root.pem"
check "check now: the TDX items are named expired" "grep -q '^expired  tdx-tcb-info    b0c06f000000' '$tmp/out' && grep -q '^expired  tdx-pck-crl' '$tmp/out'"
expect_rc 1 "$cct" collateral check "$tmp/r" --at 2040-01-01T00:00:00Z
check "later --at: the RIM is named expired" "grep -q '^expired  nvidia-rim      NV_GPU_DRIVER_GH100_550.144.03' '$tmp/out'"
expect_rc 1 "$cct" collateral check "$tmp/r" --within 36000
check "--within: due items named" "grep -q '^expiring nvidia-rim' '$tmp/out'"
cp -r "$tmp/r" "$tmp/rc"
f=$tmp/rc/nvidia-rim/NV_GPU_DRIVER_GH100_550.144.03.xml
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$f"
expect_rc 1 "$cct" collateral check "$tmp/rc"
check "one corrupted byte: named invalid" "grep -q '^invalid  nvidia-rim      NV_GPU_DRIVER_GH100_550.144.03' '$tmp/out'"
expect_rc 2 "$cct" collateral check "$tmp/nonexistent"
# a bundle with no items: nothing was checked, so never "all valid and fresh" (exit 1, said so)
mkdir "$tmp/empty"; printf '{"version":"cctrust.collateral/v1","items":[]}' >"$tmp/empty/manifest.json"
expect_rc 1 "$cct" collateral check "$tmp/empty"
check "empty bundle: says it holds nothing to check" "grep -q 'holds no collateral items: nothing to check' '$tmp/out' && ! grep -q 'valid and fresh' '$tmp/out'"
expect_rc 1 "$cct" collateral check "$tmp/empty" --json
check "empty bundle --json: ok false, no items, the reason" "python3 -c \"import json; d=json.load(open('$tmp/out')); assert d['ok'] is False and d['count']==0 and d['items']==[] and 'nothing to check' in d['error']['message'], d\""
# a CRL is current while thisUpdate <= at <= nextUpdate (docs/tdx.md): check and tdx verify
# agree at the PCK CRL's exact nextUpdate and one second later
"$cct" collateral check "$B" --at $TDX_AT --json > "$tmp/pck.json" 2>/dev/null
nu=$(python3 -c "import json; print([i for i in json.load(open('$tmp/pck.json'))['items'] if i['kind']=='tdx-pck-crl'][0]['next_update'])")
nu1=$(python3 -c "import datetime as d; t=d.datetime.strptime('$nu','%Y-%m-%dT%H:%M:%SZ')+d.timedelta(seconds=1); print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))")
pck_state() { "$cct" collateral check "$B" --at "$1" --json 2>/dev/null | python3 -c "import json,sys; print([i['state'] for i in json.load(sys.stdin)['items'] if i['kind']=='tdx-pck-crl'][0])"; }
check "check at the PCK CRL's nextUpdate ($nu): fresh; a second later: expired" "[ \"\$(pck_state $nu)\" = fresh ] && [ \"\$(pck_state $nu1)\" = expired ]"
expect_rc 0 "$cct" tdx verify "$QUOTE" --collateral "$B" --offline --at "$nu"
expect_rc 1 "$cct" tdx verify "$QUOTE" --collateral "$B" --offline --at "$nu1"
check "tdx verify a second after nextUpdate: the PCK CRL named" "grep -q 'PCK CRL\|CRL for' '$tmp/out' '$tmp/err'"
expect_rc 2 "$cct" collateral fetch --from "$SNP/report_milan.hex"
# numeric options: negative, non-numeric and out-of-range values are usage errors, not keys
for t in -1 abc 18446744073709551616 " 5"; do
	expect_rc 2 "$cct" collateral fetch -o "$tmp/neg" --snp-hwid "$chip" --snp-tcb "$t" $urls
done
check "--snp-tcb -1 named, nothing fetched" "grep -q -- \"--snp-tcb: ' 5'\" '$tmp/err' && [ ! -e '$tmp/neg/manifest.json' ]"
for k in -1 nan 1e3 3601; do expect_rc 2 "$cct" collateral fetch -o "$tmp/neg" --tdx-fmspc b0c06f000000 --kds-interval "$k" $urls; done
expect_rc 2 "$cct" collateral check "$tmp/r" --within -1

# an OCSP answer on its own: signed by any CA it verifies under its own signer certificate;
# whether that signer speaks for NVIDIA needs the certificate and its issuer, so check lists
# the responder chain as not checked instead of calling the answer plainly valid
o=$tmp/evil; mkdir -p "$o/OB/nvidia-ocsp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$o/ca.key" -out "$o/ca.pem" -subj /CN=evilca -days 30 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$o/l.key" -out "$o/l.csr" -subj /CN=leaf 2>/dev/null
openssl x509 -req -in "$o/l.csr" -CA "$o/ca.pem" -CAkey "$o/ca.key" -set_serial 0x1234abcd -out "$o/l.pem" -days 30 2>/dev/null
printf 'V\t300101000000Z\t\t1234ABCD\tunknown\t/CN=leaf\n' > "$o/idx"
openssl ocsp -issuer "$o/ca.pem" -cert "$o/l.pem" -reqout "$o/req.der" -no_nonce >/dev/null 2>&1
openssl ocsp -index "$o/idx" -rsigner "$o/ca.pem" -rkey "$o/ca.key" -CA "$o/ca.pem" -reqin "$o/req.der" -respout "$o/OB/nvidia-ocsp/1234abcd.der" -ndays 7 >/dev/null 2>&1
printf '{"version":"cctrust.collateral/v1","items":[{"kind":"nvidia-ocsp","key":"1234abcd","path":"nvidia-ocsp/1234abcd.der","source":"x","fetched_at":null,"not_before":null,"not_after":null,"next_update":null,"sha256":"%s"}]}' "$(sha256sum "$o/OB/nvidia-ocsp/1234abcd.der" | cut -c1-64)" > "$o/OB/manifest.json"
"$cct" collateral check "$o/OB" --json > "$tmp/oj" 2>&1
check "check --json: a foreign CA's OCSP answer lists its responder chain as not checked" "python3 -c \"import json; d=json.load(open('$tmp/oj')); i=d['items'][0]; assert i['checks_skipped']==['ocsp_responder_chain'] and d['checks_skipped']==['ocsp_responder_chain'], d\""
"$cct" collateral check "$o/OB" > "$tmp/ot" 2>&1
check "check: the text says so on the item and in the summary" "grep -q \"^fresh    nvidia-ocsp     1234abcd: .*not checked: the responder's chain to NVIDIA's root\" '$tmp/ot' && grep -q 'as far as checked (not checked: the responder chain of 1 OCSP answer)' '$tmp/ot'"
"$cct" collateral check "$tmp/r" --json > "$tmp/rj" 2>&1
check "check --json: items other than OCSP answers skip nothing" "python3 -c \"import json; d=json.load(open('$tmp/rj')); assert d['checks_skipped']==[] and all(i['checks_skipped']==[] for i in d['items']) and d['ok'] and d['error'] is None, d\""

# 8. serve: the vendors' URL layouts from the bundle, byte-identical
"$cct" collateral serve "$B" --listen 127.0.0.1:0 --port-file "$tmp/sport" 2>"$tmp/serve.err" & pids="$pids $!"
wait_port "$tmp/sport" || bad "serve did not start: $(cat "$tmp/serve.err")"
S=http://127.0.0.1:$(cat "$tmp/sport")
curl -s -o "$tmp/vcek" "$S/vcek/v1/Milan/$chip?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
check "snpguest-style VCEK URL: KDS's bytes" "cmp -s '$tmp/vcek' '$SNP/vcek_milan.der'"
curl -s -o "$tmp/chain" "$S/vcek/v1/Milan/cert_chain"
check "KDS cert_chain" "cmp -s '$tmp/chain' '$SNP/cert_chain_milan.pem'"
curl -s -D "$tmp/hdr" -o "$tmp/pckcrl" "$S/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
check "PCCS-style PCK CRL URL: PCS's bytes" "cmp -s '$tmp/pckcrl' '$D/pck_crl.der'"
check "issuer-chain header" "grep -qi '^SGX-PCK-CRL-Issuer-Chain: -----BEGIN%20CERTIFICATE' '$tmp/hdr'"
curl -s -o "$tmp/tcb" "$S/tdx/certification/v4/tcb?fmspc=B0C06F000000"
check "PCS TCB info" "cmp -s '$tmp/tcb' '$D/tcb_info.json'"
rid=$(basename "$(ls "$G"/rims/NV_GPU_DRIVER*.xml)" .xml)
curl -s -o "$tmp/rim.json" "$S/v1/rim/$rid"
check "RIM service JSON around the RIM's bytes" "python3 -c \"import base64,json; d=json.load(open('$tmp/rim.json')); assert base64.b64decode(d['rim'])==open('$G/rims/$rid.xml','rb').read() and d['id']=='$rid'\""
check "unknown item: 404" "[ \$(curl -s -o /dev/null -w '%{http_code}' '$S/vcek/v1/Genoa/cert_chain') = 404 ]"
# an existing client pointed at it unchanged: snp verify fetching from "KDS"
expect_rc 0 env CCTRUST_KDS_URL=$S "$cct" snp verify "$SNP/report_milan.hex" --collateral "$tmp/kdscache" --no-crl
curl -s "$S/metrics" > "$tmp/metrics"
check "metrics: hits and items" "grep -q '^cctrust_collateral_hits_total [1-9]' '$tmp/metrics' && grep -q '^cctrust_collateral_items 17' '$tmp/metrics'"

# 9. serve --upstream: single flight, validated, stored
"$cct" collateral serve "$tmp/proxy" --listen 127.0.0.1:0 --port-file "$tmp/pport" --upstream "$M" --at $TDX_AT 2>"$tmp/proxy.err" & pids="$pids $!"
wait_port "$tmp/pport" || bad "proxy did not start: $(cat "$tmp/proxy.err")"
P=http://127.0.0.1:$(cat "$tmp/pport")
n0=$(grep -c 'GET /tdx/certification/v4/tcb' "$tmp/log")
cpids=""
for i in $(seq 50); do
	curl -s -o "$tmp/c$i" -w '%{http_code}\n' "$P/tdx/certification/v4/tcb?fmspc=b0c06f000000" >> "$tmp/codes" & cpids="$cpids $!"
done
wait $cpids
check "50 concurrent requests all answered 200" "[ \$(grep -c '^200$' '$tmp/codes') -eq 50 ]"
check "exactly one upstream request for them" "[ \$((\$(grep -c 'GET /tdx/certification/v4/tcb' '$tmp/log') - n0)) -eq 1 ]"
check "all 50 byte-identical to PCS's" "for i in \$(seq 50); do cmp -s '$tmp/c'\$i '$D/tcb_info.json' || exit 1; done"
check "proxy stored it after validation" "grep -q '\"key\": \"b0c06f000000\"' '$tmp/proxy/manifest.json'"
curl -s "$P/metrics" > "$tmp/pm"
check "proxy metrics: misses, upstream requests, no errors" "grep -q '^cctrust_collateral_misses_total [1-9]' '$tmp/pm' && grep -q '^cctrust_collateral_upstream_errors_total 0' '$tmp/pm' && grep -q '^cctrust_collateral_upstream_requests_total 2' '$tmp/pm'"
check "a RIM that fails its signature is refused by the proxy" "[ \$(curl -s -o /dev/null -w '%{http_code}' '$P/v1/rim/NV_GPU_DRIVER_GH100_550.144.99') = 502 ] && ! grep -q 550.144.99 '$tmp/proxy/manifest.json'"
# a tar bundle is read-only: as a proxy it could store nothing, so it is refused at start-up
(cd "$B" && tar cf "$tmp/ro.tar" .)
expect_rc 2 timeout 20 "$cct" collateral serve "$tmp/ro.tar" --listen 127.0.0.1:0 --port-file "$tmp/roport" --upstream "$M"
check "serve BUNDLE.tar --upstream: refused, the tar named read-only, never listening" "grep -q 'ro.tar is a tar bundle, which is read-only' '$tmp/err' && [ ! -e '$tmp/roport' ]"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
