#!/usr/bin/env python3
"""A KBS 0.4.0 client written the way guest-components' kbs_protocol client (kbs-types 0.18)
behaves, NOT cctrust's client: it is the stand-in for an unmodified Trustee guest.

What it reproduces from guest-components:
  * RCAR handshake: POST /kbs/v0/auth {"version":"0.4.0","tee":T,"extra-params":""}; the
    kbs-session-id cookie is kept in a cookie jar the way reqwest's jar does (by name, no Path
    needed); the challenge nonce is used verbatim.
  * tee-pubkey as kbs-types TeePubKey: EC {"kty":"EC","crv","alg":"ECDH-ES+A256KW","x","y"}
    (P-256 / P-384 / P-521) or RSA {"kty":"RSA","alg":"RSA-OAEP-256","n","e"}.
  * the attest body {"runtime-data":{"nonce","tee-pubkey"},"init-data"?,"tee-evidence":
    {"primary_evidence":..,"additional_evidence":"<json text>"}}; the GPU additional evidence
    exactly as the NVIDIA attester builds it: {"nvidia":{"device_evidence_list":[{"arch",
    "uuid","evidence","certificate"}]}} (no cc_mode, no ppcie_mode).
  * resource fetch with the cookie, and with "Authorization: Bearer <token>" alone.
  * JWE decryption with the AAD rebuilt the way serde re-serializes the protected header
    (alg, enc, then the other members in key order), ECDH-ES+A256KW (Concat KDF, AES key
    unwrap) and RSA-OAEP-256, A256GCM.

Evidence comes from the simulated TEE (`cctrust sim evidence`): the primary evidence (and its
binding over the additional evidence we build) is the simulator's; the request is ours.
Standard library + the `cryptography` package (Debian python3-cryptography) only."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------- HTTP with a cookie jar
class Http:
    def __init__(self, url):
        self.url = url
        self.cookies = {}  # name -> value, like reqwest's jar for one host
        self.last_set_cookie = None

    def call(self, method, path, body=None, headers=None, cookie=True):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else body.encode()
            h.setdefault("Content-Type", "application/json")
        if cookie and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text, hdrs = r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read().decode(), e.headers
        sc = hdrs.get("Set-Cookie")
        if sc:
            self.last_set_cookie = sc
            name, _, rest = sc.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, text


# ---------------------------------------------------------------- tee keys and JWE
class TeeKey:
    def __init__(self, kind):
        self.kind = kind
        if kind == "RSA":
            self.priv = rsa.generate_private_key(65537, 2048)
            n = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "alg": "RSA-OAEP-256",
                        "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                        "e": b64u(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big"))}
        else:
            curve, size = {"P-256": (ec.SECP256R1(), 32), "P-384": (ec.SECP384R1(), 48),
                           "P-521": (ec.SECP521R1(), 66)}[kind]
            self.priv = ec.generate_private_key(curve)
            p = self.priv.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": kind, "alg": "ECDH-ES+A256KW",
                        "x": b64u(p.x.to_bytes(size, "big")), "y": b64u(p.y.to_bytes(size, "big"))}

    def decrypt(self, jwe_text):
        jwe = json.loads(jwe_text)
        hdr = json.loads(b64u_dec(jwe["protected"]))
        # serde rebuild of the protected header: alg, enc, then the flattened rest by key
        rebuilt = {"alg": hdr["alg"], "enc": hdr["enc"]}
        for k in sorted(hdr):
            if k not in rebuilt:
                rebuilt[k] = hdr[k]
        aad = b64u(compact(rebuilt).encode()).encode()
        assert hdr["enc"] == "A256GCM", hdr
        ek = b64u_dec(jwe["encrypted_key"])
        if hdr["alg"] == "RSA-OAEP-256":
            cek = self.priv.decrypt(ek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                     algorithm=hashes.SHA256(), label=None))
        elif hdr["alg"] == "ECDH-ES+A256KW":
            epk = hdr["epk"]
            assert epk["crv"] == self.kind, (epk["crv"], self.kind)
            curve = self.priv.curve
            pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_dec(epk["x"]), "big"),
                                                int.from_bytes(b64u_dec(epk["y"]), "big"),
                                                curve).public_key()
            z = self.priv.exchange(ec.ECDH(), pub)
            alg = hdr["alg"].encode()
            other = (len(alg).to_bytes(4, "big") + alg + b"\0" * 8 + (256).to_bytes(4, "big"))
            kek = ConcatKDFHash(hashes.SHA256(), 32, other).derive(z)
            cek = aes_key_unwrap(kek, ek)
        else:
            raise ValueError("unexpected JWE alg " + hdr["alg"])
        ct = b64u_dec(jwe["ciphertext"]) + b64u_dec(jwe["tag"])
        return AESGCM(cek).decrypt(b64u_dec(jwe["iv"]), ct, aad)


# ---------------------------------------------------------------- admin tokens (kbs-client style)
def jwt_sign(key, alg, claims, kid=None):
    hdr = {"alg": alg, "typ": "JWT"}
    if kid:
        hdr["kid"] = kid
    si = (b64u(compact(hdr).encode()) + "." + b64u(compact(claims).encode())).encode()
    if alg == "EdDSA":
        sig = key.sign(si)
    elif alg in ("ES256", "ES384"):
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        h, n = (hashes.SHA256(), 32) if alg == "ES256" else (hashes.SHA384(), 48)
        r, s = decode_dss_signature(key.sign(si, ec.ECDSA(h)))
        sig = r.to_bytes(n, "big") + s.to_bytes(n, "big")
    elif alg == "RS256":
        sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = key.sign(si, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                       hashes.SHA256())
    else:
        raise ValueError(alg)
    return si.decode() + "." + b64u(sig)


def trustee_admin_claims(lifetime=3600, **extra):
    now = int(time.time())
    c = {"iss": "kbs-client", "sub": "admin", "aud": "kbs", "role": "admin", "iat": now,
         "exp": now + lifetime}
    c.update(extra)
    return c


# ---------------------------------------------------------------- evidence (simulated TEE)
class Sim:
    def __init__(self, cli, simdir, work):
        self.cli, self.dir, self.work = cli, simdir, work
        self.n = 0

    def _tmp(self, name):
        self.n += 1
        return os.path.join(self.work, "%d-%s" % (self.n, name))

    def evidence(self, tee, nonce, jwk, gpus=0, extra=()):
        kf = self._tmp("jwk")
        with open(kf, "w") as f:
            json.dump(jwk, f)
        out = self._tmp("ev.json")
        cmd = [self.cli, "sim", "evidence", self.dir, "--tee", tee, "--nonce", nonce,
               "--tee-pubkey", kf, "-o", out] + list(extra)
        if gpus:
            cmd += ["--gpus", str(gpus)]
        subprocess.run(cmd, check=True)
        with open(out) as f:
            return json.load(f)

    def gpu_device_entries(self, tee, nonce, jwk, gpus=1):
        """SPDM evidence of simulated GPUs bound to this nonce + tee-pubkey (Trustee's GPU
        binding), as device_evidence_list entries stripped to guest-components' fields."""
        body = self.evidence(tee, nonce, jwk, gpus=gpus)
        nv = json.loads(body["tee-evidence"]["additional_evidence"])["nvidia"]
        return [{"arch": d["arch"], "uuid": d["uuid"], "evidence": d["evidence"],
                 "certificate": d["certificate"]} for d in nv["device_evidence_list"]]


def guest_request(sim, tee, nonce, key, gpus=0, init_toml=None, hex_spdm=False, ccel=None):
    """The attest body as guest-components builds it."""
    additional = ""
    extra = []
    if gpus:
        devs = sim.gpu_device_entries(tee, nonce, key.jwk, gpus)
        if hex_spdm:  # guest-components before v0.16
            for d in devs:
                d["evidence"] = base64.b64decode(d["evidence"]).hex()
        additional = compact({"nvidia": {"device_evidence_list": devs}})
        af = sim._tmp("additional")
        with open(af, "w") as f:
            f.write(additional)
        extra += ["--additional-evidence", af]
    if init_toml:
        extra += ["--init-data", init_toml]
    if ccel:
        extra += ["--ccel-data", ccel]
    body = sim.evidence(tee, nonce, key.jwk, extra=extra)
    te = body["tee-evidence"]
    assert te.get("additional_evidence", "") == additional, "simulator changed the evidence"
    req = {"runtime-data": {"nonce": nonce, "tee-pubkey": key.jwk}}
    if "init-data" in body:
        req["init-data"] = body["init-data"]
    req["tee-evidence"] = {"primary_evidence": te["primary_evidence"],
                           "additional_evidence": additional}
    return compact(req)


# ---------------------------------------------------------------- AAEL (guest-components)
def aael_log(events):
    """guest-components' placeholder header (no CCEL in the guest) + AAEL events (TCG2
    crypto-agile, register index 17 = RTMR3 on TDX, SHA-384) + the 0xFF end flag. Returns the
    log and the RTMR3 it replays to."""
    hdr = bytearray(32)
    hdr[4:8] = (3).to_bytes(4, "little")         # EV_NO_ACTION
    spec = bytearray(16)                          # all-zero signature: the placeholder
    spec += bytes(8)                              # platform class, versions, uintn size
    algs = [(0x000B, 32), (0x000C, 48), (0x0012, 32)]
    spec += len(algs).to_bytes(4, "little")
    for a, s in algs:
        spec += a.to_bytes(2, "little") + s.to_bytes(2, "little")
    spec += b"\0"                                 # vendor info size
    hdr[28:32] = len(spec).to_bytes(4, "little")
    log = bytes(hdr) + bytes(spec)
    import hashlib
    rtmr3 = bytes(48)
    for text in events:
        data = text.encode()
        d = hashlib.sha384(data).digest()
        log += (17).to_bytes(4, "little") + (6).to_bytes(4, "little")  # EV_EVENT_TAG
        log += (1).to_bytes(4, "little") + (0x000C).to_bytes(2, "little") + d
        log += len(data).to_bytes(4, "little") + data
        rtmr3 = hashlib.sha384(rtmr3 + d).digest()
    return log + b"\xff" * 8, rtmr3


# ---------------------------------------------------------------- one guest flow
def flow(url, sim, tee, kind, gpus=0, init_toml=None, hex_spdm=False, ccel=None):
    """auth, attest, resource by cookie and by Bearer; returns (secret_cookie, secret_bearer,
    token, http)."""
    h = Http(url)
    st, txt = h.call("POST", "/kbs/v0/auth",
                     compact({"version": "0.4.0", "tee": tee, "extra-params": ""}))
    assert st == 200, (st, txt)
    nonce = json.loads(txt)["nonce"]
    key = TeeKey(kind)
    body = guest_request(sim, tee, nonce, key, gpus, init_toml, hex_spdm, ccel)
    st, txt = h.call("POST", "/kbs/v0/attest", body)
    assert st == 200, ("attest", st, txt)
    token = json.loads(txt)["token"]
    st, jwe = h.call("GET", "/kbs/v0/resource/default/key/llm")
    assert st == 200, ("resource by cookie", st, jwe)
    s1 = key.decrypt(jwe)
    b = Http(url)
    st, jwe = b.call("GET", "/kbs/v0/resource/default/key/llm",
                     headers={"Authorization": "Bearer " + token}, cookie=False)
    assert st == 200, ("resource by Bearer", st, jwe)
    s2 = key.decrypt(jwe)
    return s1, s2, token, h


def token_claims(token):
    return json.loads(b64u_dec(token.split(".")[1]))


def token_header(token):
    return json.loads(b64u_dec(token.split(".")[0]))
