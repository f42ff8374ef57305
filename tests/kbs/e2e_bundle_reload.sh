#!/bin/bash
# cctrustd reloads its --collateral BUNDLE without a restart (SIGHUP, --collateral-reload S):
#  - bundle A lacks the VCEK of the simulated SNP platform: evidence without its certificate
#    table is refused; the path is replaced by bundle B (which has it), kill -HUP: the same
#    kind of evidence is accepted, reloads_total{result="ok"} counts it, the log names the new
#    manifest, --collateral-serve answers B's VCEK;
#  - a garbage .tar and a bundle with an altered item (SHA-256 differs from its manifest) +
#    HUP are refused (result="failed", logged), and the broker keeps attesting with B;
#  - attestations running while HUPs swap bundles: none fails because of a swap;
#  - --collateral-reload 1 on a directory bundle behind a symbolic link: swapping the link
#    is picked up without a signal; --collateral-reload without a bundle refuses to start.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v openssl >/dev/null && command -v tar >/dev/null ||
	{ echo "SKIP: jq, openssl and tar are needed"; exit 77; }
setup_keys
tee_key G
S=$T/sim
I=$S/snp/info.json
VKEY="Milan/$(jq -r .chip_id "$I")/$(jq -r '.tcb|"blSPL_\(.bootloader)_teeSPL_\(.tee)_snpSPL_\(.snp)_ucodeSPL_\(.microcode)"' "$I")"
VURL="/vcek/v1/Milan/$(jq -r .chip_id "$I")?$(jq -r '.tcb|"blSPL=\(.bootloader)&teeSPL=\(.tee)&snpSPL=\(.snp)&ucodeSPL=\(.microcode)"' "$I")"

# mkbundle DIR WITH_VCEK: the simulated platform's ASK+ARK (not used by the verifier: the
# broker has the ASK through --certs), and with WITH_VCEK=1 its VCEK (DER)
mkbundle() {
	local o=$1 items
	mkdir -p "$o/snp-ask-ark" "$o/snp-vcek"
	cat "$S/snp/ask.pem" "$S/snp/ark.pem" >"$o/snp-ask-ark/Milan.pem"
	items="{\"kind\": \"snp-ask-ark\", \"key\": \"Milan\", \"path\": \"snp-ask-ark/Milan.pem\", \"sha256\": \"$(sha256sum "$o/snp-ask-ark/Milan.pem" | cut -c1-64)\", \"fetched_at\": \"2026-01-0$(($2 + 1))T00:00:00Z\"}"
	if [ "$2" = 1 ]; then
		openssl x509 -in "$S/snp/vcek.pem" -outform DER -out "$o/snp-vcek/vcek.der" || exit 1
		items="$items, {\"kind\": \"snp-vcek\", \"key\": \"$VKEY\", \"path\": \"snp-vcek/vcek.der\", \"sha256\": \"$(sha256sum "$o/snp-vcek/vcek.der" | cut -c1-64)\"}"
	fi
	printf '{"version": "cctrust.collateral/v1", "items": [%s]}\n' "$items" >"$o/manifest.json"
}
mkbundle "$T/A" 0
mkbundle "$T/B" 1
tar -C "$T/A" -cf "$T/A.tar" . && tar -C "$T/B" -cf "$T/B.tar" . || exit 1
cp -r "$T/B" "$T/X" && printf '\x00' | dd of="$T/X/snp-vcek/vcek.der" bs=1 seek=100 conv=notrunc 2>/dev/null
tar -C "$T/X" -cf "$T/X.tar" . || exit 1
# replace BUNDLE_TAR SOURCE: what an operator does (written beside it, renamed over it)
replace() { cp "$2" "$1.new" && mv -f "$1.new" "$1"; }

cp "$T/A.tar" "$T/bundle.tar"
COMMON=(--admin-pubkey "$T/admin.pub" --trust-sim "$S" --master-key "$T/master.key"
	--certs "$S/snp/ask.pem" --offline)
start_d r --store "sqlite:$T/r.db" "${COMMON[@]}" --collateral "$T/bundle.tar" --collateral-serve
U=$URL_r
set_policies "$U"

# attest_once U TAG: one guest, SNP evidence without its certificate table (the VCEK must
# come from the bundle); prints the HTTP status, the reply in $T/out.TAG
attest_once() {
	local n
	n=$(auth "$1" "$T/jar.$2")
	evidence "$n" G "$T/ev.$2" >/dev/null || { echo 000; return; }
	jq -c 'del(."tee-evidence".primary_evidence.cert_table)' "$T/ev.$2" >"$T/body.$2"
	attest "$1" "$T/jar.$2" "$T/body.$2" "$T/out.$2"
}
# metric U NAME: value of a /metrics line (exact name with labels)
metric() { curl -s "$1/metrics" | awk -v k="$2" '$1 == k {print $2}'; }
OKM='cctrustd_collateral_bundle_reloads_total{result="ok"}'
FAILM='cctrustd_collateral_bundle_reloads_total{result="failed"}'
# wait_metric U NAME VALUE: bounded wait (5 s) until the metric has VALUE
wait_metric() {
	local i
	for i in $(seq 1 100); do
		[ "$(metric "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

code=$(attest_once "$U" a1)
[ "$code" != 200 ] && grep -q 'VCEK' "$T/out.a1" && ok "bundle A (no VCEK): evidence refused, VCEK named" ||
	bad "bundle A: $code $(head -c 300 "$T/out.a1")"
[ "$(metric "$U" "$OKM")" = 0 ] && [ "$(metric "$U" "$FAILM")" = 0 ] && ok "no reloads counted at start" ||
	bad "reload counters at start: $(curl -s "$U/metrics" | grep reloads)"
[ "$(metric "$U" cctrustd_collateral_bundle_items)" = 1 ] && ok "bundle gauge: A's 1 item" || bad "items gauge at start"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U$VURL")
[ "$code" = 404 ] && ok "--collateral-serve: A has no VCEK (404)" || bad "serve before reload: $code"

replace "$T/bundle.tar" "$T/B.tar"
kill -HUP "$PID_r"
wait_metric "$U" "$OKM" 1 && ok "HUP: reload counted ok" || bad "HUP: ok counter $(metric "$U" "$OKM")"
code=$(attest_once "$U" b1)
[ "$code" = 200 ] && jq -e '.token | length > 0' "$T/out.b1" >/dev/null &&
	ok "after HUP with bundle B: the same evidence is accepted" || bad "after reload: $code $(head -c 300 "$T/out.b1")"
[ "$(metric "$U" cctrustd_collateral_bundle_items)" = 2 ] && ok "bundle gauge follows the reload (2 items)" ||
	bad "items gauge after reload: $(metric "$U" cctrustd_collateral_bundle_items)"
code=$(curl -s -o "$T/vcek" -w '%{http_code}' "$U$VURL")
[ "$code" = 200 ] && cmp -s "$T/vcek" "$T/B/snp-vcek/vcek.der" && ok "--collateral-serve answers B's VCEK" ||
	bad "serve after reload: $code"
grep '"event":"collateral_bundle"' "$T/r.log" | grep '"result":"reloaded"' | grep '"trigger":"SIGHUP"' |
	grep '"items":2' | grep -q '"newest_fetched_at":"2026-01-02T00:00:00Z"' &&
	ok "the reload is logged with the new manifest (items, newest fetched_at)" ||
	bad "reload log line: $(grep collateral_bundle "$T/r.log")"

# refused bundles: garbage, then an altered item; the broker keeps B
printf 'this is not a tar archive' >"$T/junk.tar"
replace "$T/bundle.tar" "$T/junk.tar"
kill -HUP "$PID_r"
wait_metric "$U" "$FAILM" 1 && ok "HUP with a garbage bundle: reload counted failed" ||
	bad "garbage bundle: failed counter $(metric "$U" "$FAILM")"
replace "$T/bundle.tar" "$T/X.tar"
kill -HUP "$PID_r"
wait_metric "$U" "$FAILM" 2 && ok "HUP with an altered item: refused (failed 2)" ||
	bad "altered item: failed counter $(metric "$U" "$FAILM")"
grep '"result":"refused"' "$T/r.log" | grep -q 'SHA-256 differs' && ok "refusal logged, naming the altered item" ||
	bad "refusal log: $(grep refused "$T/r.log" | tail -1)"
[ "$(metric "$U" "$OKM")" = 1 ] && [ "$(metric "$U" cctrustd_collateral_bundle_items)" = 2 ] &&
	ok "refused bundles swapped nothing in" || bad "after refusals: $(curl -s "$U/metrics" | grep bundle)"
code=$(attest_once "$U" b2)
[ "$code" = 200 ] && ok "after refused reloads the broker still attests with B" || bad "after refusals: $code $(head -c 300 "$T/out.b2")"
kill -0 "$PID_r" && ok "broker still running" || bad "broker died"

# concurrency: 3 guests attesting in a loop while bundles are swapped under them (B and a
# copy of B with another manifest) with a HUP every 50 ms, for ~3 s
mkbundle "$T/B2" 1 && sed -i 's/2026-01-02/2026-01-03/' "$T/B2/manifest.json" && tar -C "$T/B2" -cf "$T/B2.tar" . || exit 1
replace "$T/bundle.tar" "$T/B.tar"
: >"$T/codes"
loop_guest() {
	local end=$(($(date +%s) + 3)) i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		echo "$(attest_once "$U" "c$1.$i") $(jq -r '.detail // empty' "$T/out.c$1.$i" 2>/dev/null | head -c 160)" >>"$T/codes"
		rm -f "$T/out.c$1.$i" "$T/ev.c$1.$i" "$T/body.c$1.$i" "$T/jar.c$1.$i"
		i=$((i + 1))
	done
}
GP=""
for g in 1 2 3; do loop_guest $g & GP="$GP $!"; done
ok0=$(metric "$U" "$OKM")
end=$(($(date +%s) + 3)); n=0
while [ "$(date +%s)" -lt "$end" ]; do
	if [ $((n % 2)) = 0 ]; then replace "$T/bundle.tar" "$T/B2.tar"; else replace "$T/bundle.tar" "$T/B.tar"; fi
	kill -HUP "$PID_r"; n=$((n + 1)); sleep 0.05
done
for p in $GP; do wait "$p"; done
sleep 0.2
total=$(wc -l <"$T/codes"); good=$(grep -c '^200 ' "$T/codes")
ok1=$(metric "$U" "$OKM")
[ "$total" -gt 0 ] && [ "$good" = "$total" ] && ok "concurrency: $good/$total attestations accepted during $n HUPs" ||
	bad "concurrency: $good/$total accepted; first failures: $(grep -v '^200 ' "$T/codes" | head -3)"
[ "$ok1" -gt "$ok0" ] && [ "$(metric "$U" "$FAILM")" = 2 ] && ok "concurrency: reloads ok $ok0 -> $ok1, none failed" ||
	bad "concurrency reload counters: ok $ok0 -> $ok1, failed $(metric "$U" "$FAILM")"

# --collateral-reload 1: a directory bundle behind a symbolic link, the link swapped
ln -s "$T/A" "$T/cur"
start_d p --store "sqlite:$T/p.db" "${COMMON[@]}" --collateral "$T/cur" --collateral-reload 1
set_policies "$URL_p"
code=$(attest_once "$URL_p" p1)
[ "$code" != 200 ] && ok "polling broker on A: refused" || bad "polling broker on A: $code"
ln -s "$T/B" "$T/cur.new" && mv -T "$T/cur.new" "$T/cur"
for i in $(seq 1 60); do [ "$(metric "$URL_p" "$OKM")" = 1 ] && break; sleep 0.1; done
[ "$(metric "$URL_p" "$OKM")" = 1 ] && ok "--collateral-reload: the swapped link is picked up without a signal" ||
	bad "polling reload: ok $(metric "$URL_p" "$OKM")"
code=$(attest_once "$URL_p" p2)
[ "$code" = 200 ] && ok "polling broker on B: accepted" || bad "polling broker on B: $code $(head -c 300 "$T/out.p2")"
sleep 1.5
[ "$(metric "$URL_p" "$OKM")" = 1 ] && ok "an unchanged path is not reloaded again" || bad "unchanged path reloaded: $(metric "$URL_p" "$OKM")"

timeout 20 "$D" --listen 127.0.0.1:0 --port-file "$T/n.port" --store "sqlite:$T/n.db" "${COMMON[@]}" \
	--collateral-reload 5 2>"$T/n.log"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q 'needs --collateral BUNDLE' "$T/n.log" &&
	ok "--collateral-reload without a bundle refuses to start" || bad "--collateral-reload without a bundle (rc $rc)"
"$D" --collateral-reload soon >/dev/null 2>&1
check "--collateral-reload with a non-number: usage" 2 $?
echo "cctrustd bundle reload: $fails failure(s)"
exit $((fails > 0))
