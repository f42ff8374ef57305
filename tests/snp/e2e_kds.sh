#!/bin/bash
# KDS fetch path against a local server on 127.0.0.1: one 429 with Retry-After, then the VCEK;
# the collateral cache is filled and a second, --offline run is served from it.
set -u
cct=${CCT_CLI:?}; V=${CCT_VECTORS:?}/snp/virtee-sev
tmp=$(mktemp -d); trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/kds.py" <<'PY'
import http.server, sys, os
vcek = open(sys.argv[1], "rb").read(); hits = {"n": 0}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        hits["n"] += 1
        open(os.path.join(sys.argv[3], "hits"), "a").write(self.path + "\n")
        if hits["n"] == 1:
            self.send_response(429); self.send_header("Retry-After", "1"); self.end_headers(); return
        if self.path.startswith("/vcek/v1/Milan/d49554ec") and "ucodeSPL=115" in self.path:
            self.send_response(200); self.send_header("Content-Length", str(len(vcek))); self.end_headers(); self.wfile.write(vcek); return
        self.send_response(404); self.end_headers()
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
for _ in range(20): s.handle_request()
PY
python3 "$tmp/kds.py" "$V/vcek_milan.der" "$tmp/port" "$tmp" & srv=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
export CCTRUST_KDS_URL=http://127.0.0.1:$(cat "$tmp/port")
fail=0
"$cct" snp verify "$V/report_milan.hex" --collateral "$tmp/cache" --no-crl > "$tmp/out" 2>&1 || { echo "FAIL online fetch: $(cat "$tmp/out")"; fail=1; }
grep -q "retrying" "$tmp/out" || { echo "FAIL: 429 not honoured"; fail=1; }
n=$(find "$tmp/cache/vcek" -name '*.der' | wc -l); [ "$n" -eq 1 ] || { echo "FAIL: cache has $n VCEKs"; fail=1; }
kill $srv 2>/dev/null
"$cct" snp verify "$V/report_milan.hex" --collateral "$tmp/cache" --no-crl --offline > "$tmp/out" 2>&1 || { echo "FAIL offline from cache: $(cat "$tmp/out")"; fail=1; }
[ "$(wc -l < "$tmp/hits")" -eq 2 ] || { echo "FAIL: expected 2 requests, got $(wc -l < "$tmp/hits")"; fail=1; }
[ $fail -eq 0 ] && echo "3 passed, 0 failed"
exit $fail
