#!/usr/bin/env python3
"""Writes SYNTHETIC fuzz seeds for tdx_quote and tdx_collateral (no shared-vector bytes).
Usage: make_seeds.py FUZZ_CORPORA_DIR. Certificates are minted with the openssl CLI."""
import os, struct, subprocess, sys, tempfile, json

out = sys.argv[1]
qd, cd = os.path.join(out, "tdx_quote"), os.path.join(out, "tdx_collateral")
os.makedirs(qd, exist_ok=True); os.makedirs(cd, exist_ok=True)
tmp = tempfile.mkdtemp()

def sh(*a):
    subprocess.run(a, check=True, capture_output=True, cwd=tmp)

sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem")
sh("openssl", "req", "-new", "-x509", "-key", "k.pem", "-subj", "/CN=Synthetic Root", "-days", "3650", "-out", "c.pem")
cert = open(os.path.join(tmp, "c.pem"), "rb").read()
chain = cert * 3

def quote(version, body_type=2, trailing=b"", chain=chain):
    hdr = struct.pack("<HHIHH16s20s", version, 2, 0x81, 0, 0, bytes(range(16)), b"\x01" * 20)
    body = bytes([2, 1] + [0] * 14) + b"\x00" * (584 - 16)
    if body_type == 3:
        body += b"\x00" * 64
    if version == 5:
        hdr += struct.pack("<HI", body_type, len(body))
    qe = b"\x00" * 384 + b"\x00" * 64 + struct.pack("<H", 32) + b"\x22" * 32
    qe += struct.pack("<HI", 5, len(chain)) + chain
    sig = b"\x00" * 128 + struct.pack("<HI", 6, len(qe)) + qe
    return hdr + body + struct.pack("<I", len(sig)) + sig + trailing

seeds = {
    "v4.bin": quote(4), "v5_td15.bin": quote(5, 3), "v5_td10.bin": quote(5, 2),
    "v4_trailing.bin": quote(4, trailing=b"\x00" * 64), "v4_onecert.bin": quote(4, chain=cert),
    "v3_sgx.bin": b"\x03\x00\x02\x00" + b"\x00" * 60, "empty_chain.bin": quote(4, chain=b""),
}
seeds["v4.hex"] = ("0x" + seeds["v4.bin"].hex()).encode()
for k, v in seeds.items():
    open(os.path.join(qd, k), "wb").write(v)

comp = [{"svn": 1}] * 16
tcb = {"id": "TDX", "version": 3, "issueDate": "2024-01-01T00:00:00Z", "nextUpdate": "2024-02-01T00:00:00Z",
       "fmspc": "00112233445566"[:12], "pceId": "0000", "tcbType": 0, "tcbEvaluationDataNumber": 1,
       "tdxModule": {"mrsigner": "00" * 48, "attributes": "00" * 8, "attributesMask": "FF" * 8},
       "tdxModuleIdentities": [{"id": "TDX_01", "mrsigner": "00" * 48, "attributes": "00" * 8, "attributesMask": "FF" * 8,
                                "tcbLevels": [{"tcb": {"isvsvn": 2}, "tcbDate": "2024-01-01T00:00:00Z", "tcbStatus": "UpToDate"}]}],
       "tcbLevels": [{"tcb": {"sgxtcbcomponents": comp, "pcesvn": 1, "tdxtcbcomponents": comp},
                      "tcbDate": "2024-01-01T00:00:00Z", "tcbStatus": "SWHardeningNeeded", "advisoryIDs": ["INTEL-SA-00000"]}]}
qe = {"id": "TD_QE", "version": 2, "issueDate": "2024-01-01T00:00:00Z", "nextUpdate": "2024-02-01T00:00:00Z",
      "tcbEvaluationDataNumber": 1, "miscselect": "00000000", "miscselectMask": "FFFFFFFF", "attributes": "11" + "00" * 15,
      "attributesMask": "FB" + "FF" * 7 + "00" * 8, "mrsigner": "AB" * 32, "isvprodid": 2,
      "tcbLevels": [{"tcb": {"isvsvn": 1}, "tcbDate": "2024-01-01T00:00:00Z", "tcbStatus": "UpToDate"}]}
tcb_s, qe_s = json.dumps(tcb, separators=(",", ":")), json.dumps(qe, separators=(",", ":"))
bundle = {"pck_crl_issuer_chain": cert.decode(), "root_ca_crl": "3000", "pck_crl": "3000",
          "tcb_info_issuer_chain": cert.decode(), "tcb_info": tcb_s, "tcb_info_signature": "00" * 64,
          "qe_identity_issuer_chain": cert.decode(), "qe_identity": qe_s, "qe_identity_signature": "00" * 64}
cseeds = {"bundle.json": json.dumps(bundle), "tcb_info.json": '{"tcbInfo":%s,"signature":"%s"}' % (tcb_s, "00" * 64),
          "qe_identity.json": '{"enclaveIdentity":%s,"signature":"%s"}' % (qe_s, "00" * 64),
          "tcb_info_raw.json": tcb_s, "qe_raw.json": qe_s, "nested.json": "[" * 40 + "]" * 40,
          "escapes.json": '{"a":"\\"}\\\\","tcbInfo":{"x":"\\u0041"}}'}
for k, v in cseeds.items():
    open(os.path.join(cd, k), "w").write(v)
print("seeds written")
