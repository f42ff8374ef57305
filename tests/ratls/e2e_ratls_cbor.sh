#!/bin/bash
# The attested TLS certificate decoded by an independent CBOR decoder (Debian python3-cbor2) and
# checked against values computed here with openssl, not with cctrust: the extension found by its
# OID, the CMW collection / CCC tagged evidence, pubkey-hash = [7, SHA-384(DER SPKI)], and the
# report data of the SNP report / TDX quote = SHA-384(claims buffer) || 0^16.
set -u
C=${CCT_CLI:?CCT_CLI not set}
PY=
for p in python3 /usr/bin/python3; do # Debian's python3-cbor2 lives with /usr/bin/python3
	"$p" -c "import cbor2" 2>/dev/null && { PY=$p; break; }
done
[[ -n $PY ]] || { echo "python3-cbor2 missing: skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$C" sim init "$T/sim" >/dev/null || exit 1
"$C" ratls cert --tee snp --gpus 2 --sim "$T/sim" --nonce 0a0b0c --key-out "$T/s.key" --cert-out "$T/s.pem" 2>/dev/null || exit 1
"$C" ratls cert --tee tdx --sim "$T/sim" --key-out "$T/t.key" --cert-out "$T/t.pem" 2>/dev/null || exit 1
for c in s t; do
	openssl asn1parse -in "$T/$c.pem" | grep -A1 ":2.23.133.5.4.9" | tail -1 | sed 's/.*\[HEX DUMP\]://' >"$T/$c.ext.hex"
	openssl x509 -in "$T/$c.pem" -pubkey -noout | openssl pkey -pubin -outform DER >"$T/$c.spki.der"
done
"$PY" - "$T" <<'PY'
import binascii, hashlib, json, sys
import cbor2
T = sys.argv[1]

def load(c):
    ext = binascii.unhexlify(open(f"{T}/{c}.ext.hex").read().strip())
    spki = open(f"{T}/{c}.spki.der", "rb").read()
    return cbor2.loads(ext), spki

def check_claims(claims_bytes, spki):
    claims = cbor2.loads(claims_bytes)
    alg, h = cbor2.loads(claims["pubkey-hash"])
    assert alg == 7 and h == hashlib.sha384(spki).digest(), "pubkey-hash is not [7, SHA-384(SPKI)]"
    return claims

# SNP + 2 GPUs: a CMW collection
col, spki = load("s")
assert isinstance(col, dict) and col["__cmwc_t"] == "tag:cctrust.dev,2026:ratls-evidence/v1", col.keys()
mt, val, ind = col["cpu"]
assert mt == "application/vnd.cctrust.ratls-tagged-evidence+cbor" and ind == 4
tagged = cbor2.loads(val)
assert isinstance(tagged, cbor2.CBORTag) and tagged.tag == 0x1a7504, tagged
report, claims_bytes = tagged.value
assert len(report) == 1184
claims = check_claims(claims_bytes, spki)
assert claims["nonce"] == bytes.fromhex("0a0b0c")
gpus = cbor2.loads(claims["cctrust-gpus"])
assert gpus == {"count": 2, "cc-mode": "on", "ppcie-mode": False}, gpus
assert report[0x50:0x90] == hashlib.sha384(claims_bytes).digest() + bytes(16), "SNP REPORT_DATA"
assert col["snp-certs"][0] == "application/vnd.cctrust.snp-cert-table" and col["snp-certs"][2] == 2
gmt, gval, gind = col["gpus"]
nv = json.loads(gval)["nvidia"]
assert gmt == "application/vnd.cctrust.nvidia-evidence+json" and gind == 4
assert len(nv["device_evidence_list"]) == 2 and nv["cc_mode"] == "on"

# TDX, no GPU: the interoperable CCC tagged form
tagged, spki = load("t")
assert isinstance(tagged, cbor2.CBORTag) and tagged.tag == 0x1a7501, tagged
quote, claims_bytes = tagged.value
assert quote[4] == 0x81, "TDX quote tee_type"
claims = check_claims(claims_bytes, spki)
assert "nonce" not in claims and "cctrust-gpus" not in claims
assert quote[568:632] == hashlib.sha384(claims_bytes).digest() + bytes(16), "TDX REPORTDATA"
print("ok   cbor2 decodes the CMW collection and the CCC tagged evidence; bindings recomputed")
PY

# Another RA-TLS implementation's certificate: an SGX quote under the CCC Intel-quote tag with a
# sha-256 pubkey-hash (built here with cbor2 + openssl). `show` decodes it, checks pubkey-hash
# and says cctrust cannot verify SGX evidence.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sgx.key" 2>/dev/null
openssl pkey -in "$T/sgx.key" -pubout -outform DER -out "$T/sgx.spki.der" 2>/dev/null
HEX=$("$PY" - "$T" <<'PY'
import hashlib, sys, cbor2
T = sys.argv[1]
spki = open(f"{T}/sgx.spki.der", "rb").read()
claims = cbor2.dumps({"pubkey-hash": cbor2.dumps([1, hashlib.sha256(spki).digest()]),
                      "nonce": b"\x01\x02", "vendor-claim": b"x"})
quote = bytes([3, 0, 2, 0, 0, 0, 0, 0]) + bytes(424)   # SGX ECDSA quote v3 header shape, tee_type 0
print(cbor2.dumps(cbor2.CBORTag(0x1a7501, [quote, claims])).hex())
PY
)
printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=sgx\n[ext]\n2.23.133.5.4.9=DER:%s\n' "$HEX" >"$T/sgx.cnf"
openssl req -x509 -new -key "$T/sgx.key" -config "$T/sgx.cnf" -extensions ext -days 1 -out "$T/sgx.pem" 2>/dev/null || exit 1
"$C" ratls show "$T/sgx.pem" --json >"$T/sgx.json" || { echo "FAIL show foreign"; exit 1; }
"$PY" - "$T/sgx.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tee"] == "sgx" and d["evidence_tag"] == "0x1a7501" and d["format"] == "tagged-evidence", d
assert d["cctrust_can_verify"] is False and "SGX" in d["note"], d
assert d["pubkey_hash_matches"] is True and d["claims"]["pubkey-hash"]["alg"] == 1, d
assert d["claims"]["nonce"] == "0102", d
print("ok   a foreign SGX RA-TLS certificate decodes; pubkey-hash (sha-256) checked; marked not verifiable")
PY

