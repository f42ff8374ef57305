#!/usr/bin/env python3
"""Unmodified-Trustee-guest and Trustee-tooling checks against cctrustd (issue 13), driven by
e2e_trustee.sh. Usage:
  trustee_e2e.py keys DIR                 admin keys (Ed25519 PEM; JWKS of ES256/ES384/RS256/
                                          PS256), EAR signing key + certificate
  trustee_e2e.py run CLI SIM WORK URL_A URL_B
Prints "ok ..." / "FAIL ..." lines; exit 1 on any failure."""
import base64
import datetime
import json
import os
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trustee_client as tc  # noqa: E402

FAILS = []


def ok(name):
    print("ok   " + name, flush=True)


def bad(name, why=""):
    print("FAIL %s %s" % (name, str(why)[:600]), flush=True)
    FAILS.append(name)


def check(name, cond, why=""):
    (ok if cond else (lambda n: bad(n, why)))(name)


def pem_priv(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def pem_pub(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)


def load_priv(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def keys(d):
    os.makedirs(d, exist_ok=True)
    ed = ed25519.Ed25519PrivateKey.generate()  # kbs-client / docker-compose admin-token
    open(os.path.join(d, "admin.key"), "wb").write(pem_priv(ed))
    open(os.path.join(d, "admin.pub"), "wb").write(pem_pub(ed))
    jwks = {"keys": []}
    for alg, k in (("ES256", ec.generate_private_key(ec.SECP256R1())),
                   ("ES384", ec.generate_private_key(ec.SECP384R1())),
                   ("RS256", rsa.generate_private_key(65537, 2048)),
                   ("PS256", rsa.generate_private_key(65537, 2048))):
        open(os.path.join(d, alg + ".key"), "wb").write(pem_priv(k))
        if alg.startswith("ES"):
            n = k.public_key().public_numbers()
            size = 32 if alg == "ES256" else 48
            jwk = {"kty": "EC", "crv": "P-256" if size == 32 else "P-384",
                   "x": tc.b64u(n.x.to_bytes(size, "big")), "y": tc.b64u(n.y.to_bytes(size, "big"))}
        else:
            n = k.public_key().public_numbers()
            jwk = {"kty": "RSA", "n": tc.b64u(n.n.to_bytes(256, "big")),
                   "e": tc.b64u(n.e.to_bytes(3, "big"))}
        jwk.update({"alg": alg, "kid": "kid-" + alg, "use": "sig"})
        jwks["keys"].append(jwk)
    json.dump(jwks, open(os.path.join(d, "admin.jwks"), "w"))
    # EAR signing key with a certificate (--token-key / --token-cert)
    tk = ec.generate_private_key(ec.SECP256R1())
    open(os.path.join(d, "token.key"), "wb").write(pem_priv(tk))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cctrustd EAR signer (test)")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(tk.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(tk, hashes.SHA256()))
    open(os.path.join(d, "token.crt"), "wb").write(cert.public_bytes(serialization.Encoding.PEM))


INIT_TOML = '''version = "0.1.0"
algorithm = "sha384"
[data]
"aa.toml" = \'\'\'
[token_configs]
[token_configs.coco_as]
url = 'http://127.0.0.1:8080'

[token_configs.kbs]
url = 'http://127.0.0.1:8080'
\'\'\'

"cdh.toml"  = \'\'\'
socket = 'unix:///run/confidential-containers/cdh.sock'
credentials = []

[kbc]
name = 'cc_kbc'
url = 'http://127.0.0.1:8080'
\'\'\'
'''


def admin(url, path, body, tok, method="POST"):
    h = tc.Http(url)
    hd = {"Authorization": "Bearer " + tok} if tok else {}
    return h.call(method, path, body, headers=hd, cookie=False)


def run(cli, simdir, work, url_a, url_b):
    sim = tc.Sim(cli, simdir, work)
    edkey = load_priv(os.path.join(work, "keys", "admin.key"))

    def ed_tok(lifetime=3600, **kw):
        return tc.jwt_sign(edkey, "EdDSA", tc.trustee_admin_claims(lifetime, **kw))

    secret = b"trustee-model-key"
    # --- Trustee-format admin tokens (EdDSA, 1 h, iss/sub/aud/role) set resources/policies
    st, txt = admin(url_a, "/kbs/v0/resource/default/key/llm", secret, ed_tok())
    check("admin: Trustee-format EdDSA 1 h token sets a resource", st == 200, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/resource/default/key/llm", secret, None)
    check("admin: anonymous refused (401 AdminAuth)", st == 401 and "AdminAuth" in txt, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/resource/default/key/llm", secret, ed_tok(lifetime=30 * 3600))
    check("admin: 30 h token refused with 401 naming the lifetime cap",
          st == 401 and "lifetime" in txt and "admin-max-token-lifetime" in txt, (st, txt))
    # times that would overflow exp - iat (a lifetime wrapping negative passed the cap)
    st, txt = admin(url_a, "/kbs/v0/resource/default/key/llm", secret,
                    tc.jwt_sign(edkey, "EdDSA", tc.trustee_admin_claims(iat=-2**62 - 1, exp=2**62)))
    check("admin: iat/exp outside 0..2^40 refused (no overflow past the lifetime cap)",
          st == 401 and "0..2^40" in txt, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/resource/default/key/llm", secret, ed_tok(role="Admin"))
    check("admin: role claim as Trustee sends it", st == 200, (st, txt))
    rego = "package policy\ndefault allow = false\nallow { true }\n"
    st, txt = admin(url_a, "/kbs/v0/attestation-policy",
                    tc.compact({"type": "rego", "policy_id": "default_cpu",
                                "policy": tc.b64u(rego.encode())}), ed_tok())
    check("admin: Rego attestation policy -> 400 naming cctrust.policy/v1",
          st == 400 and "Rego" in txt and "cctrust.policy/v1" in txt, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/resource-policy",
                    tc.compact({"policy": tc.b64u(rego.encode())}), ed_tok())
    check("admin: Rego resource policy -> 400 naming the JSON equivalent",
          st == 400 and "Rego" in txt and "all_submods" in txt, (st, txt))
    pol = {"version": "cctrust.policy/v1"}
    st, txt = admin(url_a, "/kbs/v0/attestation-policy",
                    tc.compact({"type": "json", "policy_id": "default_cpu",
                                "policy": tc.b64u(tc.compact(pol).encode())}), ed_tok())
    check("admin: policy_id default_cpu maps to cctrust's default policy", st == 200, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/attestation-policy",
                    tc.compact({"type": "json", "policy_id": "my-policy",
                                "policy": tc.b64u(tc.compact(pol).encode())}), ed_tok())
    check("admin: custom policy_id stored and reported inactive (never silently ignored)",
          st == 200 and json.loads(txt).get("active") is False, (st, txt))
    # RVPS sample message, GET reference-value/<id>
    sj = json.load(open(os.path.join(simdir, "sim.json")))
    meas = sj["snp"]["measurement"] if "snp" in sj else sj["measurement"]
    rv = {"version": "0.1.0", "type": "sample",
          "payload": base64.b64encode(tc.compact({"snp-launch-measurement": [meas]}).encode()).decode()}
    st, txt = admin(url_a, "/kbs/v0/reference-value", tc.compact(rv), ed_tok())
    check("RVPS: Trustee sample message accepted", st == 200, (st, txt))
    st, txt = admin(url_a, "/kbs/v0/reference-value/snp-launch-measurement", None, ed_tok(), "GET")
    check("RVPS: GET /kbs/v0/reference-value/<id>",
          st == 200 and json.loads(txt).get("snp-launch-measurement") == [meas], (st, txt))
    # TDX guests attest below too: a policy allows the TEEs it has a section for
    rvpol = {"version": "cctrust.policy/v1", "snp": {"measurements": ["rv:snp-launch-measurement"]},
             "tdx": {}}
    st, txt = admin(url_a, "/kbs/v0/attestation-policy",
                    tc.compact({"type": "json", "policy_id": "default",
                                "policy": tc.b64u(tc.compact(rvpol).encode())}), ed_tok())
    check("RVPS: policy naming rv:snp-launch-measurement accepted", st == 200, (st, txt))
    # cctrustd fails closed: simulated guests need "allow_simulated" (issue 11)
    allow = {"version": 1, "allow_simulated": True,
             "rules": [{"name": "affirming", "resources": ["*/*/*"],
                        "require": [{"all_submods": "affirming"}]}]}
    st, txt = admin(url_a, "/kbs/v0/resource-policy",
                    tc.compact({"policy": tc.b64u(tc.compact(allow).encode())}), ed_tok())
    check("resource policy (base64url, as Trustee's kbs-client sends it) accepted", st == 200,
          (st, txt))
    st, txt = admin(url_a, "/kbs/v0/resource-policy", None, ed_tok(), "GET")
    try:
        got = json.loads(tc.b64u_dec(txt.strip()))
    except Exception as e:  # noqa: BLE001
        got = e
    check("GET /kbs/v0/resource-policy returns base64url of the policy (as Trustee)",
          st == 200 and got == allow, (st, txt))

    # --- guest flows: SNP, SNP + init-data, TDX (AAEL), SNP + 1 GPU, TDX + 1 GPU; P-256/384/521/RSA
    toml = os.path.join(work, "initdata.toml")
    open(toml, "w").write(INIT_TOML)
    log, _ = tc.aael_log(["INIT sha384/000000", "github.com/confidential-containers "
                          "CreateContainer pause", "github.com/confidential-containers "
                          "CreateContainer nginx"])
    aael = os.path.join(work, "aael.bin")
    open(aael, "wb").write(log)
    flows = [("SNP", "snp", 0, None, False, None), ("SNP+init-data", "snp", 0, toml, False, None),
             ("TDX (placeholder header + AAEL)", "tdx", 0, None, False, aael),
             ("SNP+1 GPU", "snp", 1, None, False, None),
             ("TDX+1 GPU (hex SPDM evidence)", "tdx", 1, None, True, None)]
    tokens = {}
    for name, tee, gpus, init, hexs, ccel in flows:
        for kind in ("P-256", "P-384", "P-521", "RSA"):
            try:
                s1, s2, tok, h = tc.flow(url_a, sim, tee, kind, gpus, init, hexs, ccel)
                check("guest %s, %s: auth, attest, resource by cookie and by Bearer, JWE"
                      % (name, kind), s1 == secret and s2 == secret, (s1, s2))
                tokens[name] = (tok, h)
            except Exception as e:  # noqa: BLE001
                bad("guest %s, %s" % (name, kind), repr(e))
    # what the tokens say
    if "SNP+1 GPU" in tokens:
        c = tc.token_claims(tokens["SNP+1 GPU"][0])
        g = c["submods"].get("gpu0", {})
        ae = g.get("ear.veraison.annotated-evidence", {}).get("nvidia", {})
        check("GPU without attester cc_mode: affirming from the signed report",
              g.get("ear.status") == "affirming" and ae.get("x-cctrust-cc-mode") == "on", ae.keys())
        check("GPU: Trustee's flat claims (measurements, config OPAQUE_FIELD_ID_*)",
              isinstance(ae.get("measurements"), dict) and
              any(k.startswith("OPAQUE_FIELD_ID_") for k in ae.get("config", {})), list(ae))
        snp = c["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["snp"]
        check("SNP: Trustee's flat claims beside cctrust's",
              snp.get("policy_debug_allowed") is False and "reported_tcb_bootloader" in snp
              and "measurement" in snp, list(snp)[:40])
    if "TDX (placeholder header + AAEL)" in tokens:
        c = tc.token_claims(tokens["TDX (placeholder header + AAEL)"][0])
        tdx = c["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["tdx"]
        check("TDX: AAEL replayed into RTMR3", tdx.get("ccel") == "rtmr3-replayed", tdx.get("ccel"))
        check("TDX: Trustee's quote.body claims", tdx.get("quote", {}).get("body", {})
              .get("mr_td") == tdx.get("mrtd"), list(tdx.get("quote", {})))
    if tokens:
        tok, h = next(iter(tokens.values()))
        hdr = tc.token_header(tok)
        x5c = hdr.get("jwk", {}).get("x5c")
        ok_x5c = False
        if x5c:
            cert = x509.load_der_x509_certificate(base64.b64decode(x5c[0]))
            n = cert.public_key().public_numbers()
            ok_x5c = tc.b64u(n.x.to_bytes(32, "big")) == hdr["jwk"]["x"]
        check("EAR header JWK carries x5c (--token-cert) for the signing key", ok_x5c, hdr)
        # protocol details Trustee's client depends on
        sc = h.last_set_cookie or ""
        check("session cookie has no Path (as Trustee)", "kbs-session-id=" in sc and "path=" not in sc.lower(), sc)
        st, txt = h.call("POST", "/kbs/v0/attest", "{}")
        check("re-attest of an attested session returns its token",
              st == 200 and json.loads(txt).get("token") == tok, (st, txt[:200]))
    x = tc.Http(url_a)
    st, txt = x.call("POST", "/kbs/v0/auth", "not json")
    check("/auth with a non-JSON body: 401 (detail kept)", st == 401 and "detail" in txt, (st, txt))
    st, txt = x.call("POST", "/kbs/v0/auth", tc.compact({"version": "0.4.0", "tee": "quantum",
                                                        "extra-params": ""}))
    check("/auth with an unknown tee: 401", st == 401 and "quantum" in txt, (st, txt))
    # resource policy deny -> 401 PolicyDeny (Trustee's client re-handshakes on 401)
    deny = {"version": 1, "rules": [{"name": "nobody", "resources": ["default/key/none"],
                                     "require": [{"all_submods": "affirming"}]}]}
    st, txt = admin(url_a, "/kbs/v0/resource-policy",
                    tc.compact({"policy": tc.b64u(tc.compact(deny).encode()),
                                "resource": "default/key/llm"}), ed_tok())
    if tokens:
        tok = next(iter(tokens.values()))[0]
        st, txt = tc.Http(url_a).call("GET", "/kbs/v0/resource/default/key/llm",
                                      headers={"Authorization": "Bearer " + tok}, cookie=False)
        check("resource policy deny: 401 PolicyDeny naming the rule",
              st == 401 and "PolicyDeny" in txt, (st, txt))
    # GPU: a policy requiring the attester's statement refuses a guest that sends none
    p2 = {"version": "cctrust.policy/v1", "gpu": {"cc_mode_source": "attester"}}
    st, txt = admin(url_a, "/kbs/v0/attestation-policy",
                    tc.compact({"policy_id": "default_gpu",
                                "policy": tc.b64u(tc.compact(p2).encode())}), ed_tok())
    check("policy_id default_gpu accepted (gpu section)", st == 200, (st, txt))
    try:
        tc.flow(url_a, sim, "snp", "P-256", 1)
        bad("gpu.cc_mode_source attester refuses a guest without an NVML statement")
    except AssertionError as e:
        check("gpu.cc_mode_source attester refuses a guest without an NVML statement",
              "gpu.cc_mode" in repr(e), repr(e))

    # --- broker B: JWKS admin keys, --admin-audience, --admin-require-jti
    kd = os.path.join(work, "keys")
    for alg in ("ES256", "ES384", "RS256", "PS256"):
        k = load_priv(os.path.join(kd, alg + ".key"))
        t = tc.jwt_sign(k, alg, tc.trustee_admin_claims(jti="j-" + alg + str(time.time())),
                        kid="kid-" + alg)
        st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
        check("admin JWKS key %s" % alg, st == 200, (st, txt))
        if alg == "ES256":
            st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
            check("admin jti is single use", st == 401 and "jti" in txt, (st, txt))
            # a database writer deletes the recorded jti: the broker still remembers it
            import sqlite3
            db = sqlite3.connect(os.path.join(work, "b.db"))
            gone = db.execute("DELETE FROM objects WHERE kind = 'admin-jti'").rowcount
            db.commit()
            db.close()
            st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
            check("admin jti stays single use when its row is deleted from the database",
                  gone >= 1 and st == 401 and "jti" in txt, (gone, st, txt))
    k = load_priv(os.path.join(kd, "ES256.key"))
    # a jti kept until exp + skew: an exp at INT64_MAX must not wrap and be forgotten at once
    t = tc.jwt_sign(k, "ES256", tc.trustee_admin_claims(iat=-1, exp=2**63 - 1, jti="huge-exp"),
                    kid="kid-ES256")
    st1, _ = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
    st2, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
    check("admin: exp at INT64_MAX refused, never replayable", st1 == 401 and st2 == 401, (st1, st2, txt))
    t = tc.jwt_sign(k, "ES256", tc.trustee_admin_claims(aud="someone-else", jti="x1"), kid="kid-ES256")
    st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
    check("admin aud checked when configured", st == 401 and "aud" in txt, (st, txt))
    t = tc.jwt_sign(k, "ES256", tc.trustee_admin_claims(), kid="kid-ES256")
    st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
    check("--admin-require-jti refuses a token without jti", st == 401 and "jti" in txt, (st, txt))
    t = tc.jwt_sign(edkey, "EdDSA", tc.trustee_admin_claims(jti="x2"))
    st, txt = admin(url_b, "/kbs/v0/resource/default/key/llm", secret, t)
    check("a key not in the JWKS is refused", st == 401, (st, txt))
    return 1 if FAILS else 0


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2])
        sys.exit(0)
    sys.exit(run(*sys.argv[2:7]))
