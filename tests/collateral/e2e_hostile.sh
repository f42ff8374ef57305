#!/bin/bash
# cctrust collateral fetch / serve: options that would be accepted and do nothing are refused
# (found by a black-box review; each case failed before its fix). No network: the refusals come
# before any request, and the upstream URLs point at a closed loopback port.
set -u
cct=${CCT_CLI:?}
serve_bin=$(dirname "$cct")/cctrust-collateral-serve
tmp=$(mktemp -d); pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; timeout 20 "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?; [ $rc -eq "$want" ] && ok || bad "want exit $want got $rc: $* :: $(head -c 300 "$tmp/out" "$tmp/err")"; }
up="--kds-url http://127.0.0.1:9 --pcs-url http://127.0.0.1:9 --kds-interval 0"
hwid=$(printf '%0128d' 0)

# fetch: --tdx-ca without --tdx-fmspc was ignored (the fetch ran for the other keys)
expect_rc 2 "$cct" collateral fetch -o "$tmp/b1" --snp-product Milan --tdx-ca platform $up --quiet
grep -q -- "--tdx-ca" "$tmp/err" && ok || bad "refusal does not name --tdx-ca"
[ -e "$tmp/b1" ] && bad "a refused fetch created its bundle" || ok
# ... and with --tdx-fmspc it applies (network refused here: missing items, exit 1)
expect_rc 1 "$cct" collateral fetch -o "$tmp/b2" --tdx-fmspc b0c06f000000 --tdx-ca platform $up --quiet
# fetch: --snp-hwid names one chip; a second --snp-product was dropped without a word
expect_rc 2 "$cct" collateral fetch -o "$tmp/b3" --snp-product Milan --snp-product Genoa --snp-hwid "$hwid" --snp-tcb 0 $up --quiet
grep -q -- "--snp-product" "$tmp/err" && ok || bad "refusal does not name --snp-product"
expect_rc 1 "$cct" collateral fetch -o "$tmp/b4" --snp-product Milan --snp-hwid "$hwid" --snp-tcb 0 $up --quiet

# fetch -o DIR.tar where DIR.tar is a directory bundle: it is one (fetched items used to go to a
# scratch copy, then writing an archive over the directory failed: exit 2, items lost)
mkdir -p "$tmp/d.tar"
echo '{"version":"cctrust.collateral/v1","items":[]}' > "$tmp/d.tar/manifest.json"
expect_rc 1 "$cct" collateral fetch -o "$tmp/d.tar" --snp-product Milan $up --quiet
grep -q "4 missing" "$tmp/out" && ok || bad "fetch into a directory named .tar: $(cat "$tmp/out" "$tmp/err")"
[ -d "$tmp/d.tar" ] && [ -f "$tmp/d.tar/manifest.json" ] && ok || bad "the directory bundle was replaced"

# fetch -o DIR/x.tar where DIR does not exist: refused before any request (it fetched every item,
# then could not write the archive and threw them away)
expect_rc 2 "$cct" collateral fetch -o "$tmp/nodir/x.tar" --snp-product Milan $up --quiet
grep -q "cannot write in" "$tmp/err" && ok || bad "unwritable -o not named: $(cat "$tmp/err")"
grep -q "upstream requests" "$tmp/out" && bad "fetched before finding -o unwritable" || ok

# --gpu-rim "" (an unset variable) or a path was requested as /v1/rim/ or /v1/rim/../x
for id in "" "../manifest.json" "a/b" "a b"; do
	expect_rc 2 "$cct" collateral fetch -o "$tmp/b5" --gpu-rim "$id" --rim-url http://127.0.0.1:9 --quiet
	grep -q "is not a RIM id" "$tmp/err" && ok || bad "--gpu-rim '$id' not refused: $(cat "$tmp/out" "$tmp/err")"
done
expect_rc 1 "$cct" collateral fetch -o "$tmp/b5" --gpu-rim NV_GPU_DRIVER_GH100_550.144.03 --rim-url http://127.0.0.1:9 --quiet

# an empty upstream URL ("" from an unset variable) silently meant the vendor's default service
for o in kds-url pcs-url rim-url ocsp-url; do
	expect_rc 2 "$cct" collateral fetch -o "$tmp/b6" --snp-product Milan $up --$o "" --quiet
	grep -q -- "--$o: empty URL" "$tmp/err" && ok || bad "--$o '' not refused: $(cat "$tmp/out" "$tmp/err")"
done

# --from - - : the second read found standard input empty ("-: not an SNP report ...")
echo x | timeout 20 "$cct" collateral fetch -o "$tmp/b7" --from - - $up --quiet >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "standard input (-) given more than once" "$tmp/err" && ok || bad "--from - -: rc=$rc $(cat "$tmp/err")"

# an unknown subcommand is named (it printed the usage alone, as snp and tdx do not)
expect_rc 2 "$cct" collateral verify "$tmp/d.tar"
grep -q "unknown subcommand 'verify'" "$tmp/err" && ok || bad "unknown collateral subcommand not named"

# serve: --at and --kds-interval only steer the caching proxy; without an upstream they were
# accepted and did nothing (the server ran)
if [ -x "$serve_bin" ]; then
	mkdir -p "$tmp/bundle"
	echo '{"version":"cctrust.collateral/v1","items":[]}' > "$tmp/bundle/manifest.json"
	expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --at 2025-01-01T00:00:00Z
	grep -q -- "--at" "$tmp/err" && ok || bad "refusal does not name --at"
	expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --kds-interval 1
	grep -q -- "--kds-interval" "$tmp/err" && ok || bad "refusal does not name --kds-interval"
	expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --upstream-pcs http://127.0.0.1:9 --kds-interval 1
	for o in upstream upstream-kds upstream-pcs upstream-rim upstream-ocsp; do
		expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --$o ""
		grep -q -- "--$o: empty URL" "$tmp/err" && ok || bad "serve --$o '' not refused: $(cat "$tmp/err")"
	done
	# --kds-interval with more than 3 decimals: "0.0001" became 0 ms, which is the 10 s default
	# (collateral fetch refuses it)
	for v in 0.0001 1.2345 1.; do
		expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --upstream http://127.0.0.1:9 --kds-interval "$v"
		grep -q -- "--kds-interval: '$v' is not a number" "$tmp/err" && ok || bad "serve --kds-interval $v not refused: $(cat "$tmp/err")"
	done
	# --listen with an empty or spaced port: strtol took "" as port 0 (a random port) and " 5"
	# as port 5; the server ran
	for l in "127.0.0.1:" "127.0.0.1: 5" "127.0.0.1:+5" "127.0.0.1:0x10"; do
		expect_rc 2 "$cct" collateral serve "$tmp/bundle" --listen "$l"
		grep -q -- "--listen '$l': expected IPv4:PORT" "$tmp/err" && ok || bad "--listen '$l' not refused: $(cat "$tmp/err")"
	done
	# --port-file over the bundle: the port number replaced the .tar, or the manifest of a
	# directory bundle (and F.tmp, written first, the bundle named F.tmp)
	tar -cf "$tmp/pf.tar" -C "$tmp/bundle" . && cp "$tmp/pf.tar" "$tmp/pf.tmp"
	cp "$tmp/pf.tar" "$tmp/pf.keep"
	for a in "pf.tar pf.tar" "bundle bundle/manifest.json" "bundle bundle/../bundle/new" "pf.tmp pf"; do
		set -- $a
		expect_rc 2 "$cct" collateral serve "$tmp/$1" --listen 127.0.0.1:0 --port-file "$tmp/$2"
		grep -q -- "is the bundle .* or inside it" "$tmp/err" && ok || bad "--port-file $2 over bundle $1 not refused: $(cat "$tmp/err")"
	done
	cmp -s "$tmp/pf.tar" "$tmp/pf.keep" && cmp -s "$tmp/pf.tmp" "$tmp/pf.keep" && grep -q '"version"' "$tmp/bundle/manifest.json" \
		&& ok || bad "--port-file overwrote a bundle"
	# with an upstream both are taken: the server starts
	"$cct" collateral serve "$tmp/bundle" --listen 127.0.0.1:0 --port-file "$tmp/port" \
		--upstream http://127.0.0.1:9 --at 2025-01-01T00:00:00Z --kds-interval 1 2>"$tmp/serr" &
	pids="$pids $!"
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] && ok || bad "serve with --upstream --at --kds-interval did not start: $(cat "$tmp/serr")"
else
	echo "note: cctrust-collateral-serve not built; serve cases not run"
fi

echo "collateral hostile: $pass passed, $fail failed"
[ $fail -eq 0 ]
