#!/bin/bash
# Collateral is never fetched on the request path with sleeps (issue 11): a KDS mirror on
# loopback answers every request 429 with Retry-After 60. Guests sending a genuine SNP report
# (tests/vectors/snp/virtee-sev, whose VCEK is not cached) get 503 "collateral unavailable"
# with Retry-After within the wait budget (--collateral-wait 3), the mirror sees each URL once
# (single flight, then negative caching), and other guests keep being served meanwhile.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
V=${CCT_VECTORS:?}/snp/virtee-sev/report_milan.hex
[ -r "$V" ] || { echo "SKIP: $V missing"; exit 77; }
setup_keys
cat >"$T/kds.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        open(sys.argv[2], "a").write(self.path + "\n")
        self.send_response(429); self.send_header("Retry-After", "60")
        self.send_header("Content-Length", "0"); self.end_headers()
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
: >"$T/kds.log"
python3 "$T/kds.py" "$T/kds.port" "$T/kds.log" &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$T/kds.port" ] && break; sleep 0.1; done
mkdir -p "$T/cache"
export CCTRUST_KDS_URL=http://127.0.0.1:$(cat "$T/kds.port") CCT_CACHE_DIR=$T/cache XDG_CACHE_HOME=$T/cache HOME=$T
start_d c --store "sqlite:$T/c.db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --collateral-wait 3
U=$URL_c
set_policies "$U"
printf 'served' >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" c/o/l "$T/secret" >/dev/null || bad put
REPORT=$(xxd -r -p "$V" | base64 -w0)
tee_key G
# genuine_attest N: one guest with the genuine report; writes code, seconds, Retry-After
genuine_attest() {
	local n s0
	n=$(auth "$U" "$T/jar$1")
	jq -n --arg n "$n" --arg r "$REPORT" --slurpfile k "$T/G.jwk" \
		'{"runtime-data":{"nonce":$n,"tee-pubkey":$k[0]},"tee-evidence":{"primary_evidence":{"report":$r},"additional_evidence":""}}' >"$T/gbody$1"
	s0=$(date +%s%N)
	curl -s -D "$T/gh$1" -o "$T/gr$1" -w '%{http_code}' -b "$T/jar$1" -H 'Content-Type: application/json' \
		--data-binary @"$T/gbody$1" "$U/kbs/v0/attest" >"$T/gcode$1"
	echo $(( ($(date +%s%N) - s0) / 1000000 )) >"$T/gms$1"
}
GP=""
for i in 1 2 3; do genuine_attest $i & GP="$GP $!"; done
sleep 0.3
s0=$(date +%s%N)
"$CLI" kbs get-resource --url "$U" --sim "$T/sim" --timeout 10 c/o/l >"$T/got" 2>"$T/err"
rc=$?
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
[ $rc = 0 ] && cmp -s "$T/secret" "$T/got" && [ $ms -lt 2000 ] &&
	ok "another guest served while collateral is unavailable (${ms} ms)" || bad "other guest: rc $rc ${ms} ms $(cat "$T/err")"
for p in $GP; do wait "$p"; done
for i in 1 2 3; do
	code=$(cat "$T/gcode$i"); ms=$(cat "$T/gms$i")
	if [ "$code" = 503 ] && grep -q 'collateral unavailable' "$T/gr$i" && [ "$ms" -lt 4500 ] &&
		grep -qi '^Retry-After: [1-9]' "$T/gh$i"; then
		ok "genuine guest $i: 503 collateral unavailable in ${ms} ms, $(grep -i '^Retry-After' "$T/gh$i" | tr -d '\r')"
	else
		bad "genuine guest $i: $code in ${ms} ms: $(cat "$T/gr$i")"
	fi
done
genuine_attest 4
[ "$(cat "$T/gcode4")" = 503 ] && [ "$(cat "$T/gms4")" -lt 1000 ] &&
	ok "negative cache: the next guest is answered at once ($(cat "$T/gms4") ms)" || bad "4th: $(cat "$T/gcode4") $(cat "$T/gms4") ms"
n=$(grep -c vcek "$T/kds.log")
dups=$(sort "$T/kds.log" | uniq -d | wc -l)
[ "$n" -ge 1 ] && [ "$dups" = 0 ] && ok "the KDS mirror saw each VCEK URL once for 4 guests ($n URLs: product candidates)" ||
	bad "KDS requests: $n, repeated: $dups: $(cat "$T/kds.log")"
curl -s "$U/metrics" | grep -q '^cctrustd_collateral_unavailable_total 4' && ok "collateral_unavailable counted" || bad "metric: $(curl -s "$U/metrics" | grep collateral_unavail)"
echo "$fails failure(s)"
[ "$fails" = 0 ]
