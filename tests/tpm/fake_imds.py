#!/usr/bin/env python3
"""A loopback stand-in for Azure IMDS (tests only; 127.0.0.1, bounded lifetime):
  POST /acc/tdquote {"report": base64url(TD report)} -> {"quote": base64url(TD quote)}, made by
       the simulated quoting enclave (`cctrust sim td-quote SIM --td-report F -o Q`);
  GET  /metadata/THIM/amd/certification (header "Metadata: true" required, as Azure does) ->
       {"vcekCert": PEM, "certificateChain": PEM, "tcbm": ...} of the simulated SNP chip.
If the file MODE exists and holds "other-report", the quote is made over the TD report with one
REPORTDATA byte changed (a host answering with another TD's quote).
usage: fake_imds.py CLI SIM_DIR PORT_FILE MODE_FILE LIFETIME_S"""
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import time

cli, sim, port_file, mode_file, lifetime = sys.argv[1:6]
deadline = time.time() + float(lifetime)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.path != "/acc/tdquote" or n <= 0 or n > 65536:
            return self.reply(404, {"error": "not found"})
        try:
            rep = bytearray(unb64url(json.loads(self.rfile.read(n))["report"]))
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": "bad request"})
        if os.path.exists(mode_file) and open(mode_file).read().strip() == "other-report":
            rep[0x80] ^= 1
        with tempfile.TemporaryDirectory() as d:
            rf, qf = os.path.join(d, "r"), os.path.join(d, "q")
            open(rf, "wb").write(rep)
            r = subprocess.run([cli, "sim", "td-quote", sim, "--td-report", rf, "-o", qf],
                               capture_output=True, timeout=30)
            if r.returncode:
                return self.reply(400, {"error": r.stderr.decode()[:200]})
            self.reply(200, {"quote": b64url(open(qf, "rb").read())})

    def do_GET(self):
        if self.path != "/metadata/THIM/amd/certification":
            return self.reply(404, {"error": "not found"})
        if self.headers.get("Metadata") != "true":
            return self.reply(400, {"error": "Required metadata header not specified"})
        chain = open(os.path.join(sim, "snp", "ask.pem")).read() + \
            open(os.path.join(sim, "snp", "ark.pem")).read()
        self.reply(200, {"vcekCert": open(os.path.join(sim, "snp", "vcek.pem")).read(),
                         "certificateChain": chain, "tcbm": "simulated"})

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
srv.timeout = 1
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
while time.time() < deadline:
    srv.handle_request()
