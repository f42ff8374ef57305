#!/bin/bash
# cctrustd under hostile load (issue 11), loopback only, bounded (about 40 s):
#  - 2,000 /auth calls: session rows stay under --max-sessions once the pruner ran;
#  - slowloris: 500 connections from another loopback address (127.0.0.2) sending one byte
#    every 20 s do not stop a normal guest flow (127.0.0.1) from completing within 1 s, and the
#    broker holds at most --max-connections-per-ip of them;
#  - a client above --rate-limit gets 429 with Retry-After; a body above --unauth-body-limit
#    without credentials gets 413 before routing.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
	{ echo "SKIP: cannot bind 127.0.0.2"; exit 77; }
setup_keys
COMMON=(--admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" --master-key "$T/master.key")

# --- 2,000 /auth calls against a cap of 300 sessions ---
start_d s --store "sqlite:$T/s.db" "${COMMON[@]}" --max-sessions 300 --prune-interval 1 --rate-limit 0
python3 - "$URL_s" >"$T/auth.out" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
ok = 0
for i in range(2000):
    c.request("POST", "/kbs/v0/auth", body='{"version":"0.4.0","tee":"snp","extra-params":{}}',
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    ok += r.status == 200
print(ok)
PY
[ "$(cat "$T/auth.out")" = 2000 ] && ok "2000 /auth calls answered" || bad "auth calls: $(cat "$T/auth.out")"
sleep 2.5 # the pruner runs every second
rows=$(sqlite3 "$T/s.db" 'SELECT count(*) FROM sessions')
[ "$rows" -le 300 ] && ok "session rows after pruning: $rows <= 300" || bad "session rows: $rows"
curl -s "$URL_s/metrics" | grep -Eq '^cctrustd_sessions ([0-9]|[0-9][0-9]|[12][0-9][0-9]|300)$' &&
	ok "cctrustd_sessions in /metrics under the cap" || bad "sessions metric: $(curl -s "$URL_s/metrics" | grep '^cctrustd_sessions')"
kill "$PID_s"

# --- rate limit and pre-routing body limit ---
start_d r --store "sqlite:$T/r.db" "${COMMON[@]}" --rate-limit 5 --rate-burst 5
for i in $(seq 12); do curl -s -D "$T/h$i" -o /dev/null "$URL_r/healthz"; done
n429=$(grep -l '^HTTP/1.1 429' "$T"/h[0-9]* | wc -l)
[ "$n429" -ge 1 ] && ok "client above --rate-limit gets 429 ($n429 of 12)" || bad "no 429"
[ "$(grep -il '^Retry-After:' $(grep -l '^HTTP/1.1 429' "$T"/h[0-9]*) | wc -l)" = "$n429" ] &&
	ok "429 carries Retry-After" || bad "no Retry-After"
kill "$PID_r"
start_d b --store "sqlite:$T/b.db" "${COMMON[@]}"
head -c 100000 /dev/zero | tr '\0' 'a' >"$T/big"
code=$(curl -s -o "$T/r" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/big" "$URL_b/kbs/v0/auth")
[ "$code" = 413 ] && grep -q 'unauth-body-limit' "$T/r" && ok "100 kB body without credentials: 413 before routing" || bad "unauth body: $code $(cat "$T/r")"
# body framing: a declared length above the limit is answered 413 before the body (no "100
# Continue"); two Content-Length headers, or one with Transfer-Encoding, are 400 (RFC 9112 6.3:
# a proxy in front may frame the body otherwise, smuggling a request); a chunked body past the limit
# closes the connection at once instead of being read to its end
python3 - "${URL_b#http://}" >"$T/framing.out" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
def send(data, wait=3.0):
    s = socket.create_connection((host, int(port))); s.settimeout(wait)
    t0 = time.time(); out = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
            if b"\r\n\r\n" in out and not out.startswith(b"HTTP/1.1 100"): break
    except (socket.timeout, ConnectionError): pass
    s.close()
    return out, time.time() - t0
r, _ = send(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 30000000\r\n\r\n")
print("expect", r.split(b"\r\n")[0].decode())
r, _ = send(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
print("dupcl", r.split(b"\r\n")[0].decode())
r, _ = send(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"1f\r\n{\"version\":\"0.4.0\",\"tee\":\"snp\"}\r\n0\r\n\r\n")
print("clte", r.split(b"\r\n")[0].decode(), b"Set-Cookie" in r)
r, _ = send(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
            b"1f\r\n{\"version\":\"0.4.0\",\"tee\":\"snp\"}\r\n0\r\n\r\n")
print("tete", r.split(b"\r\n")[0].decode(), b"Set-Cookie" in r)
r, t = send(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
            b"1f\r\n{\"version\":\"0.4.0\",\"tee\":\"snp\"}\r\n0\r\n\r\n")
print("tegzip", (r.split(b"\r\n")[0].decode() or "none"), b"Set-Cookie" in r, "%.1f" % t)
s = socket.create_connection((host, int(port))); s.settimeout(5)
s.sendall(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n")
t0 = time.time(); closed = False
try:
    for _ in range(64):  # 4 MiB of the declared 256 MiB chunk, unless the broker hangs up first
        s.sendall(b"a" * 65536)
    s.settimeout(5); closed = s.recv(1) == b""
except (ConnectionError, BrokenPipeError): closed = True
except socket.timeout: closed = False
print("chunked", "closed" if closed else "open", "%.1f" % (time.time() - t0))
PY
grep -q '^expect HTTP/1.1 413' "$T/framing.out" && ok "Expect: 100-continue with a 30 MB Content-Length: 413 before the body" || bad "expect: $(cat "$T/framing.out")"
grep -q '^dupcl HTTP/1.1 400' "$T/framing.out" && ok "two Content-Length headers: 400" || bad "duplicate Content-Length: $(cat "$T/framing.out")"
grep -q '^tete HTTP/1.1 400 .* False$' "$T/framing.out" && ok "two Transfer-Encoding headers: 400, no session" || bad "two Transfer-Encoding headers: $(grep ^tete "$T/framing.out")"
# "chunked, gzip" got no answer until --conn-timeout (MHD waited for a body it cannot frame)
grep -q '^tegzip HTTP/1.1 400 .* False ' "$T/framing.out" && ok "Transfer-Encoding chunked, gzip: 400, no session" || bad "Transfer-Encoding chunked, gzip: $(grep ^tegzip "$T/framing.out")"
grep -q '^clte HTTP/1.1 400 .* False$' "$T/framing.out" && ok "Content-Length with Transfer-Encoding: chunked: 400, no session" || bad "Content-Length with Transfer-Encoding: $(grep ^clte "$T/framing.out")"
grep -q '^chunked closed' "$T/framing.out" && ok "chunked body past the limit: connection closed ($(awk '/^chunked/ {print $3}' "$T/framing.out") s)" || bad "chunked over the limit: $(cat "$T/framing.out")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL_b/healthz")" = 200 ] && ok "broker serves after the framing probes" || bad "broker down after framing probes"

# --- header sizes: --connection-memory bounds the request head a connection holds ---
# (an EAR with GPU claims is ~20 kB per GPU). The default, 32 KiB, holds one GPU's Bearer EAR.
bearer() { # bearer URL BYTES: status of a resource request with a Bearer header of BYTES
	local tok
	tok=$(head -c $(($2 - 20)) /dev/zero | tr '\0' 'A').$(head -c 16 /dev/zero | tr '\0' 'B').sig
	curl -s -o "$T/r" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H "Cookie: kbs-session-id=$(printf '%064d' 0)" "$1/kbs/v0/resource/a/b/c"
}
code=$(bearer "$URL_b" 31000)
[ "$code" = 401 ] && grep -q 'bearer token rejected' "$T/r" && ok "default: 31 kB Bearer header reaches the token check (401, not 431)" || bad "31 kB header: $code $(head -c 300 "$T/r")"
code=$(bearer "$URL_b" 40000)
[ "$code" = 431 ] && ok "default: 40 kB Bearer header refused before routing (431)" || bad "40 kB header at the default: $code"
curl -s "$URL_b/metrics" | grep -q '^cctrustd_limit{name="connection_memory_bytes"} 32768$' &&
	ok "connection memory in /metrics (32768)" || bad "connection memory metric: $(curl -s "$URL_b/metrics" | grep connection_memory)"
"$D" --store "sqlite:$T/x.db" --listen 127.0.0.1:0 "${COMMON[@]}" --connection-memory 1000 2>"$T/cm.err"
rc=$?
[ "$rc" = 2 ] && grep -q 'connection-memory' "$T/cm.err" && ok "--connection-memory out of range: exit 2" || bad "--connection-memory 1000: rc $rc $(cat "$T/cm.err")"
start_d h --store "sqlite:$T/h.db" "${COMMON[@]}" --connection-memory 98304
code=$(bearer "$URL_h" 63000)
[ "$code" = 401 ] && grep -q 'bearer token rejected' "$T/r" && ok "--connection-memory 98304: 63 kB Bearer header reaches the token check" || bad "63 kB header: $code $(head -c 300 "$T/r")"
code=$(bearer "$URL_h" 70000)
case "$code" in 401 | 431) ok "70 kB Bearer header refused ($code)" ;; *) bad "70 kB header: $code" ;; esac
curl -sf "$URL_h/healthz" >/dev/null && ok "broker serves after oversized headers" || bad "broker down after oversized headers"
kill "$PID_h"
curl -sf "$URL_b/healthz" >/dev/null && ok "default broker serves after oversized headers" || bad "broker down after oversized headers"

# --- slowloris ---
set_policies "$URL_b"
printf 'slow-secret' >"$T/secret"
"$CLI" kbs put-resource --url "$URL_b" --admin-key "$T/admin.key" s/l/o "$T/secret" >/dev/null || bad "put"
port=${URL_b##*:}
python3 - "$port" "$T/slow.out" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(500):
    s = socket.socket()
    s.setblocking(True)
    s.settimeout(2)
    try:
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.send(b"P")
        socks.append(s)
    except OSError:
        s.close()
open_at_start = len(socks)
for pause in (20, 9):
    time.sleep(pause)
    if pause != 20:
        break
    alive = []
    for s in socks:
        try:
            s.send(b"O")
            alive.append(s)
        except OSError:
            s.close()
    socks = alive
# how many the broker still holds: a closed peer reads EOF
held = 0
for s in socks:
    s.setblocking(False)
    try:
        held += s.recv(1) != b""
    except BlockingIOError:
        held += 1
    except OSError:
        pass
open(out, "w").write("%d %d\n" % (open_at_start, held))
PY
slow=$!
PIDS="$PIDS $slow"
sleep 1
worst=0
for at in 1 5 12 21 28; do
	while [ "$(date +%s)" -lt "$(( $(stat -c %Y "$T/secret") + at ))" ]; do sleep 0.2; done
	s0=$(date +%s%N)
	"$CLI" kbs get-resource --url "$URL_b" --sim "$T/sim" --timeout 5 s/l/o >"$T/got" 2>"$T/err"
	rc=$?
	ms=$(( ($(date +%s%N) - s0) / 1000000 ))
	[ $ms -gt $worst ] && worst=$ms
	if [ $rc = 0 ] && cmp -s "$T/secret" "$T/got" && [ $ms -lt 1000 ]; then
		ok "guest flow under slowloris at +${at}s: ${ms} ms"
	else
		bad "guest flow under slowloris at +${at}s: rc $rc, ${ms} ms $(cat "$T/err")"
	fi
done
wait "$slow"
read -r opened held <"$T/slow.out"
echo "     slowloris: $opened connections accepted by the kernel, $held still held by the broker after 30 s; worst flow ${worst} ms"
[ "$held" -le 64 ] && ok "broker holds at most --max-connections-per-ip slow connections" || bad "slow connections held: $held"
# --- --threads: 1..1024, or 0 / absent for one per CPU (at least 2) ---
for n in -1 1025 x; do
	"$D" --store "sqlite:$T/t.db" --listen 127.0.0.1:0 "${COMMON[@]}" --threads "$n" 2>"$T/threads.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "--threads: '$n' is not a whole number in 0..1024" "$T/threads.err" &&
		ok "--threads $n refused (exit 2)" || bad "--threads $n: rc $rc $(cat "$T/threads.err")"
done
# --- --store-connections: 1..256, or absent for one per worker thread within 4..16 ---
for n in -1 0 257 x; do
	"$D" --store "sqlite:$T/t.db" --listen 127.0.0.1:0 "${COMMON[@]}" --store-connections "$n" 2>"$T/conns.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "--store-connections: '$n' is not a whole number in 1..256" "$T/conns.err" &&
		ok "--store-connections $n refused (exit 2)" || bad "--store-connections $n: rc $rc $(cat "$T/conns.err")"
done
# --- every numeric option is a whole number in its range: "abc" was read as 0 (the default, or
# for --rate-limit "off"), on the command line and in the config file ---
for a in "--rate-limit abc" "--rate-limit -5" "--session-ttl 10m" "--max-sessions 1e6" \
	"--audit-retention-days x" "--conn-timeout 999999" "--collateral-wait 5s"; do
	# shellcheck disable=SC2086
	"$D" --store "sqlite:$T/t.db" --listen 127.0.0.1:0 "${COMMON[@]}" $a 2>"$T/num.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "${a%% *}: '${a#* }' is not a whole number" "$T/num.err" &&
		ok "$a refused (exit 2)" || bad "$a: rc $rc $(cat "$T/num.err")"
done
printf 'rate-limit = abc\n' >"$T/num.conf"
"$D" --store "sqlite:$T/t.db" --listen 127.0.0.1:0 "${COMMON[@]}" --config "$T/num.conf" 2>"$T/num.err"
rc=$?
[ "$rc" = 2 ] && grep -q "config rate-limit: 'abc' is not a whole number" "$T/num.err" &&
	ok "config rate-limit = abc refused (exit 2)" || bad "config rate-limit = abc: rc $rc $(cat "$T/num.err")"
# a config line longer than the reader's buffer, or more settings than it keeps, was cut or
# dropped without a word: refused
python3 -c "print('metrics-token = ' + 'x' * 1100)" >"$T/long.conf"
python3 -c "print('offline = false\n' * 70, end='')" >"$T/many.conf"
for cf in long many; do
	"$D" --store "sqlite:$T/t.db" --listen 127.0.0.1:0 "${COMMON[@]}" --config "$T/$cf.conf" 2>"$T/cf.err"
	rc=$?
	[ "$rc" = 2 ] && grep -qE "longer than|more than 64 settings" "$T/cf.err" &&
		ok "config with too $cf lines refused (exit 2)" || bad "config $cf: rc $rc $(cat "$T/cf.err")"
done
# a PostgreSQL password on the command line is named (ps shows it), in the authority or as a
# parameter; a URL without one, or too short to hold one, is read without a warning or a crash
for u in "postgres://u:pw@127.0.0.1:1/db 1" "postgresql://127.0.0.1:1/db?sslmode=disable&password=x 1" \
	"postgres://u@127.0.0.1:1/db 0" "postgresql://127.0.0.1:1/db?passwordx=1 0" "postgres@/ 0" "postgres 0"; do
	"$D" --store "${u% *}" --pg-insecure --listen 127.0.0.1:0 --admin-pubkey "$T/admin.pub" \
		--master-key "$T/absent.key" 2>"$T/pw.err"
	rc=$?
	n=$(grep -c "password is on the command line" "$T/pw.err")
	[ "$rc" = 2 ] && [ "$n" = "${u##* }" ] && ok "--store ${u% *}: password warning $n, exit 2 (no master key)" ||
		bad "--store ${u% *}: rc $rc, $n warnings: $(cat "$T/pw.err")"
done
limit_metric() { curl -s "$1/metrics" | awk -v k="cctrustd_limit{name=\"$2\"}" '$1 == k {print $2}'; }
start_d c1 --store "sqlite:$T/c1.db" "${COMMON[@]}" --threads 1
[ "$(limit_metric "$URL_c1" worker_threads)" = 1 ] && [ "$(limit_metric "$URL_c1" store_connections)" = 4 ] &&
	ok "1 worker thread: 4 store connections by default" ||
	bad "defaults: threads $(limit_metric "$URL_c1" worker_threads), connections $(limit_metric "$URL_c1" store_connections)"
kill "$PID_c1"
start_d c40 --store "sqlite:$T/c40.db" "${COMMON[@]}" --threads 40
[ "$(limit_metric "$URL_c40" store_connections)" = 16 ] && ok "40 worker threads: 16 store connections by default" ||
	bad "40 threads: connections $(limit_metric "$URL_c40" store_connections)"
kill "$PID_c40"
# one reader connection serves a guest flow; so do 9
for n in 1 9; do
	start_d n$n --store "sqlite:$T/n$n.db" "${COMMON[@]}" --threads 3 --store-connections $n
	eval "u=\$URL_n$n p=\$PID_n$n"
	[ "$(limit_metric "$u" store_connections)" = $n ] || bad "--store-connections $n not in /metrics"
	set_policies "$u"
	"$CLI" kbs put-resource --url "$u" --admin-key "$T/admin.key" s/l/o "$T/secret" >/dev/null || bad "put"
	"$CLI" kbs get-resource --url "$u" --sim "$T/sim" --timeout 10 s/l/o >"$T/got$n" 2>"$T/err$n" &&
		cmp -s "$T/secret" "$T/got$n" && ok "guest flow with --store-connections $n" ||
		bad "--store-connections $n: $(cat "$T/err$n")"
	kill "$p"
done
echo "$fails failure(s)"
[ "$fails" = 0 ]
