#!/usr/bin/env python3
"""Writes synthetic (made-up, unsigned) seeds for the SNP fuzz targets. Not real evidence."""
import os, struct, sys
root = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpora"
def report(version=2, policy=0x30000, fam=0, mod=0):
    b = bytearray(0x4A0)
    struct.pack_into("<IIQ", b, 0, version, 1, policy)
    struct.pack_into("<II", b, 0x30, 0, 1)
    struct.pack_into("<Q", b, 0x38, 0x7308000000000003)
    struct.pack_into("<Q", b, 0x180, 0x7308000000000003)
    b[0x90:0xC0] = bytes(range(48))
    if version >= 3:
        b[0x188], b[0x189], b[0x18A] = fam, mod, 1
    b[0x1A0:0x1E0] = bytes([0xA5]) * 64
    b[0x2A0:0x2D0] = bytes([7]) * 48
    b[0x2E8:0x318] = bytes([9]) * 48
    return bytes(b)
d = os.path.join(root, "snp_report"); os.makedirs(d, exist_ok=True)
for name, r in (("v2", report()), ("v3-genoa", report(3, 0x30000, 0x19, 0x11)),
                ("v5-turin", report(5, 0xB0000, 0x1A, 0x02)), ("short", report()[:700])):
    open(os.path.join(d, name), "wb").write(r)
d = os.path.join(root, "snp_cert_table"); os.makedirs(d, exist_ok=True)
vcek = bytes.fromhex("63da758de6644564adc5f4b93be8accd")
ask = bytes.fromhex("4ab7b379bbac4fe4a02f05aef327c782")
body1, body2 = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", bytes([0x30, 0x82, 0x01, 0x00]) + bytes(256)
hdr = vcek + struct.pack("<II", 72, len(body1)) + ask + struct.pack("<II", 72 + len(body1), len(body2)) + bytes(24)
open(os.path.join(d, "two-entries"), "wb").write(hdr + body1 + body2)
open(os.path.join(d, "empty"), "wb").write(bytes(24))
open(os.path.join(d, "out-of-range"), "wb").write(vcek + struct.pack("<II", 48, 0xFFFFFFF0) + bytes(24))
