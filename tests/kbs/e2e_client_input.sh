#!/bin/bash
# `cctrust kbs` checks its own input before it asks the broker: an option value or a resource
# path the command would not honour is a usage error (exit 2) saying what is expected, never
# a request the broker refuses (exit 1) or a silent other meaning; files it writes keep what
# they hold private. One broker on loopback (REAL composite path, simulated SNP evidence).
. "$(dirname "$0")/lib.sh"
setup_keys
start_d a --store "sqlite:$T/a.db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --rate-limit 0
U=$URL_a
set_policies "$U"
head -c 32 /dev/urandom >"$T/secret"
"$CLI" kbs put-resource --url "$U" --admin-key "$T/admin.key" default/key/model "$T/secret" >/dev/null ||
	{ echo "cannot store the secret"; exit 1; }
ADM=(--url "$U" --admin-key "$T/admin.key")
GET=(get-resource --url "$U" --sim "$T/sim")

# expect NAME RC TEXT CMD...: cctrust CMD exits RC, and (TEXT non-empty) says TEXT on stderr
expect() {
	local name=$1 want=$2 text=$3 rc
	shift 3
	timeout 60 "$CLI" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, expected $want: $(head -c 300 "$T/err")"
	elif [ -n "$text" ] && ! grep -qF -- "$text" "$T/err"; then
		bad "$name: exit $rc, but stderr lacks '$text': $(head -c 300 "$T/err")"
	else
		ok "$name: exit $rc"
	fi
}

echo "--- an unknown subcommand is named as unknown, with the known ones (not '--url is required')"
expect "kbs get-resources (a typo)" 2 "unknown subcommand 'get-resources'" kbs get-resources default/key/model
miss=
for sub in get-resource put-resource delete-resource set-policy set-attestation-policy \
	set-reference-value audit list-resources admin-keygen bench decrypt verify-bench; do
	grep -qE "[ ,]$sub(,| \()" "$T/err" || miss="$miss $sub"
done
[ -z "$miss" ] && ! grep -q -- "--url" "$T/err" && ok "unknown subcommand: lists every subcommand" ||
	bad "unknown subcommand: missing$miss: $(head -c 300 "$T/err")"
expect "kbs frobnicate --url (with options)" 2 "unknown subcommand 'frobnicate'" kbs frobnicate --url "$U" --admin-key "$T/admin.key"

echo "--- an option the subcommand does not read is refused, named (not accepted and ignored)"
expect "get-resource --json" 2 "kbs get-resource: --json does not apply" kbs "${GET[@]}" --json default/key/model -o "$T/o1"
[ ! -e "$T/o1" ] && ok "get-resource --json: nothing fetched" || bad "get-resource --json wrote $T/o1"
expect "put-resource --token-out" 2 "kbs put-resource: --token-out does not apply" kbs put-resource --url "$U" --admin-key "$T/admin.key" --token-out "$T/o2" default/key/other "$T/admin.key"
[ ! -e "$T/o2" ] && ok "put-resource --token-out: nothing written" || bad "put-resource --token-out wrote $T/o2"
expect "audit --json" 2 "kbs audit: --json does not apply" kbs audit --url "$U" --admin-key "$T/admin.key" --json
expect "list-resources --clients" 2 "kbs list-resources: --clients" kbs list-resources --url "$U" --admin-key "$T/admin.key" --clients 3
expect "verify-bench --url" 2 "kbs verify-bench: --url does not apply" kbs verify-bench --url "$U" --sim "$T/sim"
expect "list-resources --role admin (a role is every admin command's)" 0 "" kbs list-resources --url "$U" --admin-key "$T/admin.key" --role admin
expect "list-resources --role superuser (no such role)" 2 "--role: admin or auditor, got 'superuser'" kbs list-resources --url "$U" --admin-key "$T/admin.key" --role superuser
expect "audit --role Auditor (case-insensitive, as the broker)" 0 "" kbs audit --url "$U" --admin-key "$T/admin.key" --role Auditor --limit 1

echo "--- an operand a command does not take is refused, not ignored"
expect "list-resources extra" 2 "kbs list-resources takes no operand, got 'extra'" kbs list-resources "${ADM[@]}" extra
expect "audit default/key/model (a resource is no filter)" 2 "kbs audit takes no operand" kbs audit "${ADM[@]}" default/key/model
[ ! -s "$T/out" ] && ok "audit with an operand: nothing printed" || bad "audit with an operand printed: $(head -c 200 "$T/out")"
echo "--- audit --limit: the broker returns at most 1000 a query; more is refused, not cut silently"
expect "audit --limit 1001" 2 "--limit: '1001' is not a whole number in 1..1000" kbs audit "${ADM[@]}" --limit 1001
expect "audit --limit 1000" 0 "" kbs audit "${ADM[@]}" --limit 1000

echo "--- get-resource --key is the tee key's type, ec or rsa; decrypt's --key a PEM file"
expect "get-resource --key dsa" 2 "--key: ec or rsa" kbs "${GET[@]}" --key dsa default/key/model -o "$T/g1"
[ ! -e "$T/g1" ] && ok "get-resource --key dsa: nothing written" || bad "get-resource --key dsa wrote $T/g1"
expect "get-resource --key $T/sim/snp/ark.key (a file)" 2 "--key: ec or rsa" kbs "${GET[@]}" --key "$T/sim/snp/ark.key" default/key/model
expect "get-resource --key rsa" 0 "" kbs "${GET[@]}" --key rsa default/key/model -o "$T/g2"
cmp -s "$T/g2" "$T/secret" && ok "get-resource --key rsa: the secret" || bad "get-resource --key rsa: wrong bytes"
expect "get-resource --key ec" 0 "" kbs "${GET[@]}" --key ec default/key/model -o "$T/g3"
expect "put-resource --key rsa (not its option)" 2 "--key" kbs put-resource "${ADM[@]}" --key rsa default/key/other "$T/secret"
expect "decrypt --key ec (a file named ec)" 2 "cannot read ec" kbs decrypt --key ec "$T/secret"
tee_key dk
N=$(auth "$U" "$T/jar-dk")
evidence "$N" dk "$T/ev-dk.json" && [ "$(attest "$U" "$T/jar-dk" "$T/ev-dk.json" "$T/att-dk")" = 200 ] &&
	curl -s -b "$T/jar-dk" -o "$T/dk.jwe" "$U/kbs/v0/resource/default/key/model" || bad "no JWE for decrypt"
expect "decrypt -o FILE" 0 "" kbs decrypt --key "$T/dk.pem" -o "$T/dk.out" "$T/dk.jwe"
cmp -s "$T/dk.out" "$T/secret" && ok "decrypt -o FILE: the secret" || bad "decrypt -o FILE: wrong bytes"
expect "decrypt -o in a missing directory (says why)" 2 "$T/nodir/dk: No such file or directory" \
	kbs decrypt --key "$T/dk.pem" -o "$T/nodir/dk" "$T/dk.jwe"

echo "--- --tee: the TEEs the client can attest as"
expect "get-resource --tee foo" 2 "snp, tdx, az-snp-vtpm or az-tdx-vtpm" kbs "${GET[@]}" --tee foo default/key/model
expect "get-resource --tee azsnpvtpm (the wire name)" 0 "" kbs "${GET[@]}" --tee azsnpvtpm default/key/model
expect "bench --tee sgx" 2 "snp, tdx, az-snp-vtpm or az-tdx-vtpm" kbs bench --url "$U" --sim "$T/sim" --tee sgx --flows 1 default/key/model
expect "get-resource --tee snp" 0 "" kbs "${GET[@]}" --tee snp default/key/model -o "$T/g4"

echo "--- --gpus N is the simulated TEE's GPU count: not ignored without --sim, nor beside --no-gpu"
expect "get-resource --gpus 1 without --sim" 2 "--gpus N is the simulated TEE's" kbs get-resource --url "$U" --gpus 1 default/key/model
expect "get-resource --sim --gpus 1 --no-gpu" 2 "--gpus 1 and --no-gpu: one or the other" kbs "${GET[@]}" --gpus 1 --no-gpu default/key/model -o "$T/ng1"
[ ! -e "$T/ng1" ] && ok "get-resource --gpus 1 --no-gpu: nothing fetched" || bad "get-resource --gpus 1 --no-gpu wrote $T/ng1"
expect "bench --gpus 1 --no-gpu" 2 "one or the other" kbs bench --url "$U" --sim "$T/sim" --gpus 1 --no-gpu --flows 1 default/key/model
expect "get-resource --sim --no-gpu" 0 "" kbs "${GET[@]}" --no-gpu default/key/model -o "$T/ng2"

echo "--- every REPO/TYPE/TAG argument is checked before any request"
expect "put-resource bench/key" 2 "REPO/TYPE/TAG" kbs put-resource "${ADM[@]}" bench/key "$T/secret"
expect "put-resource a/b/c/d" 2 "REPO/TYPE/TAG" kbs put-resource "${ADM[@]}" a/b/c/d "$T/secret"
expect "put-resource a/../c" 2 "REPO/TYPE/TAG" kbs put-resource "${ADM[@]}" a/../c "$T/secret"
# three segments of 128 are 386 characters, the broker's names at most 256: refused here, not
# sent to be answered 404 "object name too long"
S128=$(head -c 128 /dev/zero | tr '\0' s)
expect "put-resource of 386 characters" 2 "at most 256 in all" kbs put-resource "${ADM[@]}" "$S128/$S128/$S128" "$T/secret"
expect "get-resource of 386 characters" 2 "at most 256 in all" kbs "${GET[@]}" "$S128/$S128/$S128"
S125=$(head -c 125 /dev/zero | tr '\0' u)
expect "put-resource of 257 characters" 2 "at most 256 in all" kbs put-resource "${ADM[@]}" "$S128/$S125/tt" "$T/secret"
expect "put-resource of 256 characters" 0 "" kbs put-resource "${ADM[@]}" "$S128/$S125/t" "$T/secret"
expect "delete-resource of 256 characters" 0 "" kbs delete-resource "${ADM[@]}" "$S128/$S125/t"
expect "delete-resource a/b" 2 "REPO/TYPE/TAG" kbs delete-resource "${ADM[@]}" a/b
expect "set-policy --resource a/b" 2 "REPO/TYPE/TAG" kbs set-policy "${ADM[@]}" --resource a/b "$T/res-default.json"
expect "get-resource a/b" 2 "REPO/TYPE/TAG" kbs "${GET[@]}" a/b
expect "bench a/b" 2 "REPO/TYPE/TAG" kbs bench --url "$U" --sim "$T/sim" --flows 1 a/b

expect "set-attestation-policy --id ../x" 2 "--id '../x': policy_id must be 1..64" kbs set-attestation-policy "${ADM[@]}" --id ../x "$T/att-default.json"
echo '["aa"]' >"$T/rv.json"
printf '{"version":1,"rules":[' >"$T/res-cut.json"
expect "set-policy with a policy that does not parse" 2 "res-cut.json: resource policy is not JSON" kbs set-policy "${ADM[@]}" "$T/res-cut.json"
printf '{"version":1,"rules":[],"allow_simulate":true}' >"$T/res-typo.json"
expect "set-policy with a misspelt member" 2 "allow_simulate" kbs set-policy "${ADM[@]}" "$T/res-typo.json"
printf 'package policy\ndefault allow = false\n' >"$T/res.rego"
expect "set-policy with a Rego policy (named, with the JSON equivalent)" 2 "Rego" kbs set-policy "${ADM[@]}" "$T/res.rego"
expect "set-reference-value 'bad name'" 2 "reference value name" kbs set-reference-value "${ADM[@]}" 'bad name' "$T/rv.json"
expect "set-reference-value good-name" 0 "" kbs set-reference-value "${ADM[@]}" good-name "$T/rv.json"

echo "--- --url with a trailing slash"
expect "get-resource --url $U/" 0 "" kbs get-resource --url "$U/" --sim "$T/sim" default/key/model -o "$T/g5"
cmp -s "$T/g5" "$T/secret" && ok "--url $U/: the secret" || bad "--url $U/: wrong bytes"
expect "list-resources --url $U//" 0 "" kbs list-resources --url "$U//" --admin-key "$T/admin.key"

echo "--- --token-out: the EAR is a bearer token for the broker, written 0600 as -o writes"
expect "get-resource --token-out" 0 "" kbs "${GET[@]}" default/key/model -o "$T/g6" --token-out "$T/tok"
[ "$(stat -c %a "$T/tok")" = 600 ] && [ -s "$T/tok" ] && ok "--token-out FILE: mode 600" || bad "--token-out FILE: mode $(stat -c %a "$T/tok")"
(umask 022; echo old >"$T/tok2")
expect "get-resource --token-out over a 0644 file" 0 "" kbs "${GET[@]}" default/key/model -o "$T/g7" --token-out "$T/tok2"
[ "$(stat -c %a "$T/tok2")" = 600 ] && ok "--token-out over a 0644 file: now 600" || bad "--token-out over a 0644 file: mode $(stat -c %a "$T/tok2")"
echo keep >"$T/other"; ln -s "$T/other" "$T/tok3"
expect "get-resource --token-out to a symlink" 0 "" kbs "${GET[@]}" default/key/model -o "$T/g8" --token-out "$T/tok3"
[ ! -L "$T/tok3" ] && [ "$(cat "$T/other")" = keep ] && [ "$(stat -c %a "$T/tok3")" = 600 ] &&
	ok "--token-out to a symlink: the link replaced, its target untouched" || bad "--token-out followed the symlink"
# a token that cannot be written is an error (exit 2 naming the path and the OS error), after the
# secret is out; nothing is left at FILE (it once only warned, and exited 0 without the file)
expect "get-resource --token-out in a missing directory" 2 "$T/nodir/tok: No such file or directory" \
	kbs "${GET[@]}" default/key/model -o "$T/g9" --token-out "$T/nodir/tok"
cmp -s "$T/g9" "$T/secret" && [ ! -e "$T/nodir" ] && ok "--token-out unwritable: the secret still written, no token file" ||
	bad "--token-out unwritable: secret or leftovers wrong"
mkdir "$T/tokdir"
expect "get-resource --token-out a directory" 2 "$T/tokdir: it is a directory" kbs "${GET[@]}" default/key/model -o "$T/g10" --token-out "$T/tokdir"
[ -z "$(ls -A "$T/tokdir")" ] && [ -z "$(ls "$T" | grep '\.tmp\.')" ] && ok "--token-out a directory: nothing left behind" ||
	bad "--token-out a directory left: $(ls -A "$T/tokdir") $(ls "$T" | grep '\.tmp\.')"
if [ -w /dev/full ]; then
	expect "get-resource --token-out /dev/full" 2 "/dev/full: No space left on device" kbs "${GET[@]}" default/key/model -o "$T/g11" --token-out /dev/full
fi

expect "get-resource -o F --token-out ./F (one file for both)" 2 "are the same file" \
	kbs "${GET[@]}" default/key/model -o "$T/both" --token-out "$T/./both"
[ ! -e "$T/both" ] && ok "get-resource -o F --token-out F: nothing fetched or written" || bad "get-resource -o F --token-out F wrote $T/both"

(cd "$T" && timeout 60 "$CLI" kbs "${GET[@]}" default/key/model -o - >"$T/dash.out" 2>"$T/err")
[ $? = 0 ] && cmp -s "$T/dash.out" "$T/secret" && [ ! -e "$T/-" ] &&
	ok "get-resource -o -: the secret on standard output, no file named -" || bad "get-resource -o -: $(ls "$T" | grep -c '^-$') file(s) named -, $(head -c 200 "$T/err")"
(cd "$T" && timeout 60 "$CLI" kbs "${GET[@]}" default/key/model --token-out - >/dev/null 2>"$T/err")
[ $? = 2 ] && grep -q "token-out -" "$T/err" && [ ! -e "$T/-" ] && ok "get-resource --token-out -: refused" || bad "get-resource --token-out -: $(head -c 200 "$T/err")"

echo "--- admin-keygen: two distinct new files, or --force"
K=$T/kg; mkdir "$K"
expect "admin-keygen same.pem same.pem" 2 "same file" kbs admin-keygen "$K/same.pem" "$K/same.pem"
[ ! -e "$K/same.pem" ] && ok "admin-keygen same path: nothing left" || bad "admin-keygen same path left $(head -1 "$K/same.pem")"
expect "admin-keygen a.pem ./a.pem" 2 "same file" kbs admin-keygen "$K/a.pem" "$K/./a.pem"
[ ! -e "$K/a.pem" ] && ok "admin-keygen same file by two paths: nothing left" || bad "admin-keygen same file by two paths left a file"
expect "admin-keygen fresh" 0 "" kbs admin-keygen "$K/adm.key" "$K/adm.pub"
[ "$(stat -c %a "$K/adm.key")" = 600 ] && grep -q 'PRIVATE KEY' "$K/adm.key" && grep -q 'PUBLIC KEY' "$K/adm.pub" &&
	ok "admin-keygen: private key 0600, public key" || bad "admin-keygen: $(stat -c %a "$K/adm.key")"
cp "$K/adm.key" "$K/adm.key.orig"; cp "$K/adm.pub" "$K/adm.pub.orig"
expect "admin-keygen over existing keys" 2 "$K/adm.key exists" kbs admin-keygen "$K/adm.key" "$K/adm.pub"
expect "admin-keygen over an existing public key" 2 "$K/adm.pub exists" kbs admin-keygen "$K/new.key" "$K/adm.pub"
cmp -s "$K/adm.key" "$K/adm.key.orig" && cmp -s "$K/adm.pub" "$K/adm.pub.orig" && [ ! -e "$K/new.key" ] &&
	ok "admin-keygen refused: the admin key unchanged, nothing new left" || bad "admin-keygen refused but changed files"
expect "admin-keygen --force over existing keys" 0 "" kbs admin-keygen --force "$K/adm.key" "$K/adm.pub"
! cmp -s "$K/adm.key" "$K/adm.key.orig" && [ "$(stat -c %a "$K/adm.key")" = 600 ] &&
	ok "admin-keygen --force: a new key, 0600" || bad "admin-keygen --force: key not replaced"
ln "$K/adm.key" "$K/hard.pem"
expect "admin-keygen --force, one file by two names (hard link)" 2 "same file" kbs admin-keygen --force "$K/adm.key" "$K/hard.pem"
ln -s "$K/adm.key" "$K/sym.pem"
expect "admin-keygen --force, one file by two names (symlink)" 2 "same file" kbs admin-keygen --force "$K/adm.key" "$K/sym.pem"
expect "admin-keygen /nonexistent/a" 2 "$K/nonexistent/a: No such file or directory" kbs admin-keygen "$K/nonexistent/a" "$K/b.pub"
[ ! -e "$K/b.pub" ] && ok "admin-keygen unwritable private path: no public key left" || bad "admin-keygen left $K/b.pub"
expect "admin-keygen PRIV /nonexistent/b" 2 "$K/nonexistent/b: No such file or directory" kbs admin-keygen "$K/c.key" "$K/nonexistent/b"
[ ! -e "$K/c.key" ] && ok "admin-keygen unwritable public path: no private key left" || bad "admin-keygen left $K/c.key"
expect "--force on another command" 2 "--force" kbs list-resources "${ADM[@]}" --force

echo "--- a broker that requires a jti and an audience: the admin commands send both"
start_d b --store "sqlite:$T/b.db" --admin-pubkey "$T/admin.pub" --trust-sim "$T/sim" \
	--master-key "$T/master.key" --admin-require-jti --admin-audience kbs-b.example
ADMB=(--url "$URL_b" --admin-key "$T/admin.key")
expect "list-resources without --admin-audience" 1 "HTTP 401" kbs list-resources "${ADMB[@]}"
grep -qF 'aud' "$T/out" && ok "the broker's reason names aud" || bad "no aud in: $(head -c 300 "$T/out")"
expect "list-resources --admin-audience (jti sent)" 0 "" kbs list-resources "${ADMB[@]}" --admin-audience kbs-b.example
expect "put-resource twice (a fresh jti each call)" 0 "" kbs put-resource "${ADMB[@]}" --admin-audience kbs-b.example default/key/b "$T/secret"
expect "put-resource again" 0 "" kbs put-resource "${ADMB[@]}" --admin-audience kbs-b.example default/key/b "$T/secret"

echo "--- init-data must be text: read as a C string, a NUL cut it short and the rest was dropped"
printf 'algorithm = "sha384"\nversion = "0.1.0"\n\0[data]\nx = "1"\n' >"$T/nul-init.toml"
expect "get-resource --init-data with a NUL" 2 "a NUL byte at offset" kbs "${GET[@]}" --init-data "$T/nul-init.toml" default/key/model
tee_key N
expect "sim evidence --init-data with a NUL" 2 "a NUL byte at offset" sim evidence "$T/sim" --tee snp \
	--nonce AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --tee-pubkey "$T/N.jwk" --init-data "$T/nul-init.toml"

echo "client input: $fails wrong"
[ "$fails" = 0 ]
