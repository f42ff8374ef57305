#!/bin/bash
# The KBS client refuses plain http:// to any host but this machine unless --insecure-http,
# before any connection (192.0.2.1 is TEST-NET-1: nothing answers there), for guest, admin
# and load-generator commands alike; loopback forms go ahead (and fail to connect: port 9).
set -u
cct=${CCT_CLI:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
"$cct" kbs admin-keygen "$tmp/a.key" "$tmp/a.pub" >/dev/null
"$cct" sim init "$tmp/sim" >/dev/null
echo secret >"$tmp/s"
for u in http://192.0.2.1:8080 HTTP://192.0.2.1 http://127.0.0.1@192.0.2.1:8080 "http://[::2]:8080" http://localhost.example:8080; do
	for c in "put-resource --admin-key $tmp/a.key a/b/c $tmp/s" "list-resources --admin-key $tmp/a.key" \
		"get-resource --sim $tmp/sim a/b/c" "bench --sim $tmp/sim --flows 1 a/b/c"; do
		# shellcheck disable=SC2086
		timeout 20 "$cct" kbs ${c%% *} --url "$u" ${c#* } >"$tmp/out" 2>"$tmp/err"; rc=$?
		[ $rc = 2 ] && grep -q "plain HTTP to a host that is not this machine" "$tmp/err" "$tmp/out" &&
			ok "$u ${c%% *}: refused before connecting" || bad "$u ${c%% *}: rc $rc $(head -c 200 "$tmp/err")"
	done
done
# what libcurl takes as plain HTTP too, to any host: one slash, none, or no scheme at all
for u in http:/192.0.2.1:8080 http:192.0.2.1:8080 192.0.2.1:8080 //192.0.2.1:8080 ftp://192.0.2.1; do
	for c in "list-resources --admin-key $tmp/a.key" "get-resource --sim $tmp/sim a/b/c"; do
		# shellcheck disable=SC2086
		timeout 20 "$cct" kbs ${c%% *} --url "$u" --timeout 2 ${c#* } >"$tmp/out" 2>"$tmp/err"; rc=$?
		[ $rc = 2 ] && grep -q "must start with https://" "$tmp/err" &&
			ok "$u ${c%% *}: refused before connecting" || bad "$u ${c%% *}: rc $rc $(head -c 200 "$tmp/err")"
	done
done
for u in http://127.0.0.1:9 http://127.9.9.9:9 http://localhost:9 "http://[::1]:9"; do
	timeout 20 "$cct" kbs list-resources --url "$u" --admin-key "$tmp/a.key" >"$tmp/out" 2>"$tmp/err"; rc=$?
	! grep -q "plain HTTP" "$tmp/err" && [ $rc = 2 ] && ok "$u: loopback goes ahead (no listener: exit 2)" ||
		bad "$u: rc $rc $(head -c 200 "$tmp/err")"
done
timeout 20 "$cct" kbs list-resources --url http://192.0.2.1:9 --insecure-http --timeout 2 --admin-key "$tmp/a.key" >/dev/null 2>"$tmp/err"; rc=$?
! grep -q "plain HTTP" "$tmp/err" && ok "--insecure-http lets it try (exit $rc)" || bad "--insecure-http: $(head -c 200 "$tmp/err")"
echo "client http: $pass right, $fail wrong"
[ $fail = 0 ]
