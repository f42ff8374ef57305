#!/bin/bash
# --help and -h everywhere: every command and subcommand of cctrust (and both daemons) prints its
# usage on stdout, nothing on stderr, exits 0 and does nothing else: run in an empty directory,
# which stays empty (`sim init --help` once made a simulator in a directory named "--help").
set -u
cct=${CCT_CLI:?}
bin=$(dirname "$cct")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cwd"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

commands=(
	"" snp "snp verify" "snp show" tdx "tdx verify" "tdx show" "tdx eventlog"
	vtpm "vtpm verify" tpm "tpm quote" "tpm quote verify" eventlog "eventlog show"
	"eventlog replay" gpu "gpu verify" "gpu show" "gpu rim" "gpu rim verify" verify
	policy "policy check" "policy convert" token "token verify" evidence "evidence collect"
	gate sim "sim init" "sim evidence" "sim report" "sim td-report" "sim td-quote" "sim jwks"
	"sim tee-key" measure "measure snp" "measure tdx" "measure ovmf-hash" "measure id-block"
	model "model pack" "model verity" "model verify" "model spec" kbs cert "cert verify"
	collateral "collateral fetch" "collateral check" "collateral serve" ratls "ratls cert"
	"ratls show" "ratls serve" "ratls verify" "ratls get" launch "launch plan"
	"launch diagnose" host "host gpu" "host gpu list" "host gpu bind" "host gpu restore"
)
# every kbs subcommand its own usage lists
while read -r sub; do commands+=("kbs $sub"); done < <("$cct" kbs --help | awk '/^ +[a-z][a-z-]+ /{print $1}' | sort -u)
[ "${#commands[@]}" -gt 70 ] || bad "kbs --help lists its subcommands (${#commands[@]} commands in all)"

check() { # LABEL PROGRAM ARGS...
	local label=$1 rc
	shift
	(cd "$tmp/cwd" && "$@" >"$tmp/out" 2>"$tmp/err")
	rc=$?
	if [ $rc != 0 ]; then bad "$label: exit $rc ($(head -c 160 "$tmp/err"))"
	elif [ -s "$tmp/err" ]; then bad "$label: wrote to stderr: $(head -c 160 "$tmp/err")"
	elif ! grep -qi "usage" "$tmp/out"; then bad "$label: no usage on stdout"
	elif [ -n "$(ls -A "$tmp/cwd")" ]; then bad "$label: left files: $(ls -A "$tmp/cwd")"; rm -rf "${tmp:?}/cwd/"* "$tmp/cwd/".[!.]* 2>/dev/null
	else ok; fi
}
for c in "${commands[@]}"; do
	# collateral serve runs cctrust-collateral-serve, built only with libmicrohttpd
	[ "$c" = "collateral serve" ] && [ ! -x "$bin/cctrust-collateral-serve" ] && continue
	for h in --help -h; do
		# shellcheck disable=SC2086
		check "cctrust $c $h" "$cct" $c $h
	done
done
for d in cctrustd cctrust-collateral-serve; do
	[ -x "$bin/$d" ] || continue
	for h in --help -h; do check "$d $h" "$bin/$d" $h; done
done
echo "help: $pass right, $fail wrong"
[ $fail = 0 ]
