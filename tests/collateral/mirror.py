#!/usr/bin/env python3
"""Loopback vendor mirror for the collateral tests (127.0.0.1 only, bounded lifetime).

Serves AMD KDS, Intel PCS, NVIDIA RIM service and OCSP paths from test-vector files described
by a JSON map, and answers HTTP 429 (Retry-After) to a KDS request that comes less than
--window seconds after the previous answered one, like AMD KDS. Every request is appended to
--log as "METHOD PATH STATUS".

map.json: {"get": {"/path" or "/path?query": {"file": F, "headers": {"H": "file:F" | "text"},
                    "rim_id": ID (wrap F as the RIM service's JSON)}},
           "ocsp_dir": DIR (POST: the response whose serial (file name) occurs in the request),
           "ocsp_cas": [[CA_PEM, CA_KEY], ...] (POST: a live answer signed by `openssl ocsp` as
                        the issuer, echoing the request nonce; serials of ocsp_dir are "good")}
"""
import base64, json, os, subprocess, sys, tempfile, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
MAP_PATH = args["--map"]
MAP = json.load(open(MAP_PATH))
LOG = args["--log"]
WINDOW = float(args.get("--window", "10"))
RETRY_AFTER = args.get("--retry-after", str(int(WINDOW)))
LIFETIME = float(args.get("--lifetime", "300"))
lock = threading.Lock()
state = {"last_kds": 0.0}


def log(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global MAP
        MAP = json.load(open(MAP_PATH))  # tests rewrite it between fetches
        path = self.path
        if path.startswith("/vcek/") or path.startswith("/vlek/"):
            with lock:
                now = time.time()
                limited = now - state["last_kds"] < WINDOW
                if not limited:
                    state["last_kds"] = now
            if limited:
                log("GET %s 429" % path)
                return self.answer(429, b"rate limited", {"Retry-After": RETRY_AFTER})
        ent = MAP["get"].get(path) or MAP["get"].get(path.split("?")[0])
        if not ent:
            log("GET %s 404" % path)
            return self.answer(404, b"not found")
        body = open(ent["file"], "rb").read()
        if "rim_id" in ent:
            body = json.dumps({"id": ent["rim_id"], "rim": base64.b64encode(body).decode(),
                               "sha256": "", "rim_format": "xml"}).encode()
        hdrs = {}
        for k, v in ent.get("headers", {}).items():
            if v.startswith("file:"):
                v = urllib.parse.quote(open(v[5:], "rb").read().decode(), safe="")
            hdrs[k] = v
        log("GET %s 200" % path)
        self.answer(200, body, hdrs)

    def live_ocsp(self, req):
        d = MAP.get("ocsp_dir")
        with tempfile.TemporaryDirectory() as t:
            with open(os.path.join(t, "index.txt"), "w") as f:
                for name in sorted(os.listdir(d)):
                    if name.endswith(".der"):
                        s = name[:-4].upper()
                        s = ("0" + s) if len(s) % 2 else s
                        f.write("V\t991231235959Z\t\t%s\tunknown\t/CN=%s\n" % (s, s))
            open(os.path.join(t, "req.der"), "wb").write(req)
            for ca, key in MAP["ocsp_cas"]:
                out = os.path.join(t, "resp.der")
                r = subprocess.run(["openssl", "ocsp", "-index", os.path.join(t, "index.txt"),
                                    "-CA", ca, "-rsigner", ca, "-rkey", key, "-reqin",
                                    os.path.join(t, "req.der"), "-respout", out, "-nmin", "60"],
                                   capture_output=True)
                if r.returncode != 0 or not os.path.exists(out):
                    continue
                txt = subprocess.run(["openssl", "ocsp", "-respin", out, "-resp_text", "-noverify"],
                                     capture_output=True, text=True).stdout
                if "Cert Status: good" in txt:
                    return open(out, "rb").read()
        return None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = self.rfile.read(min(n, 65536))
        if MAP.get("ocsp_cas"):
            body = self.live_ocsp(req)
            log("POST %s %d" % (self.path, 200 if body else 404))
            if body:
                return self.answer(200, body, {"Content-Type": "application/ocsp-response"})
            return self.answer(404, b"unknown certificate")
        d = MAP.get("ocsp_dir")
        for name in sorted(os.listdir(d)) if d else []:
            serial = name[:-4]
            if len(serial) % 2:
                serial = "0" + serial
            if name.endswith(".der") and bytes.fromhex(serial) in req:
                log("POST %s 200 %s" % (self.path, name))
                return self.answer(200, open(os.path.join(d, name), "rb").read(),
                                   {"Content-Type": "application/ocsp-response"})
        log("POST %s 404" % self.path)
        self.answer(404, b"unknown certificate")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(args["--port-file"] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args["--port-file"] + ".tmp", args["--port-file"])
threading.Timer(LIFETIME, srv.shutdown).start()
srv.serve_forever()
