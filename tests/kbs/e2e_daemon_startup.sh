#!/bin/bash
# cctrustd's start-up checks: a configuration it would not honour, or honour differently from
# what it says, stops the start with exit 2 and a message naming the option and the path,
# instead of a broker that serves anyway. Loopback only; each refused start is bounded by
# timeout (a daemon that starts instead exits 124 there, and the case fails).
. "$(dirname "$0")/lib.sh"
setup_keys
BASE=(--admin-pubkey "$T/admin.pub" --master-key "$T/master.key")

# refused NAME EXPECTED_LOG_TEXT ARGS...: cctrustd ARGS must exit 2 before serving, saying TEXT
refused() {
	local name=$1 text=$2 rc
	shift 2
	rm -f "$T/r.port"
	timeout 5 "$D" --store "sqlite:$T/r.db" --listen 127.0.0.1:0 "$@" >/dev/null 2>"$T/r.log" </dev/null
	rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$text" "$T/r.log"; then
		ok "$name: exit 2, names $text"
	else
		bad "$name: exit $rc (expected 2 naming $text): $(tail -c 300 "$T/r.log")"
	fi
}

echo "--- --trust-sim DIR: the simulated roots must be there at start-up"
refused "trust-sim missing dir" "$T/late" "${BASE[@]}" --port-file "$T/r.port" --trust-sim "$T/late"
mkdir "$T/empty"
refused "trust-sim empty dir" "$T/empty/sim.json" "${BASE[@]}" --port-file "$T/r.port" --trust-sim "$T/empty"
: >"$T/afile"
refused "trust-sim a file" "not a directory" "${BASE[@]}" --port-file "$T/r.port" --trust-sim "$T/afile"
for f in snp/ark.pem tdx/root_ca.pem tdx/collateral.json gpu/device-root.pem gpu/rim-root.pem; do
	rm -rf "$T/part"
	cp -r "$T/sim" "$T/part"
	rm -f "$T/part/$f"
	refused "trust-sim without $f" "$T/part/$f" "${BASE[@]}" --port-file "$T/r.port" --trust-sim "$T/part"
done
rm -rf "$T/part"
cp -r "$T/sim" "$T/part"
chmod o+w "$T/part/snp"
refused "trust-sim with a world-writable snp/" "writable by others" "${BASE[@]}" --port-file "$T/r.port" --trust-sim "$T/part"
start_d ok --store "sqlite:$T/ok.db" "${BASE[@]}" --trust-sim "$T/sim"
ok "trust-sim made by 'cctrust sim init': starts"

echo "--- --port-file that cannot be written: the daemon stops (a script waiting for it would hang)"
refused "port-file in a missing dir" "--port-file" "${BASE[@]}" --port-file "$T/nonexistent/p"
refused "port-file in a missing dir (path)" "$T/nonexistent/p" "${BASE[@]}" --port-file "$T/nonexistent/p"

echo "--- --pg-url-file is --store postgres's: with another store it is refused, not ignored"
(umask 077; echo "postgresql://u@127.0.0.1/db?sslmode=verify-full" >"$T/pg.url")
refused "pg-url-file with sqlite" "--pg-url-file" "${BASE[@]}" --port-file "$T/r.port" --pg-url-file "$T/pg.url"
printf 'pg-url-file = %s\n' "$T/pg.url" >"$T/pg.conf"
refused "pg-url-file (config) with sqlite" "--pg-url-file" "${BASE[@]}" --port-file "$T/r.port" --config "$T/pg.conf"

echo "--- --threads: 0 is the default (one per CPU), 1..1024 a count; the manuals say the same"
refused "threads 1025" "0..1024" "${BASE[@]}" --port-file "$T/r.port" --threads 1025
start_d t0 --store "sqlite:$T/t0.db" "${BASE[@]}" --threads 0
n=$(curl -s "$URL_t0/metrics" | awk '$1 == "cctrustd_limit{name=\"worker_threads\"}" {print $2}')
[ -n "$n" ] && [ "$n" -ge 2 ] && ok "--threads 0: one worker per CPU, at least 2 ($n)" || bad "--threads 0: worker_threads '$n'"
SRC=${CCT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
man=$(sed -n '/^\.It Fl -threads Ar N$/,/^\.It /p' "$SRC/docs/man8/cctrustd.8")
grep -q '0 to 1024' <<<"$man" && grep -q '^0 (the default)\|0, the default' <<<"$man" && ! grep -q '1 to 1024' <<<"$man" &&
	ok "cctrustd(8) --threads: 0 to 1024, 0 the default" || bad "cctrustd(8) --threads: $man"
cfg=$(sed -n '/^\.It Fl -config Ar FILE$/,/^\.It /p' "$SRC/docs/man8/cctrustd.8")
grep -A1 -x '\.Fl -threads' <<<"$cfg" | grep -q '^0\.\.1024' &&
	ok "cctrustd(8) --config: --threads 0..1024" || bad "cctrustd(8) --config: --threads range"
grep -q '^| `--threads N` | HTTP worker threads, 0\.\.1024' "$SRC/docs/kbs.md" &&
	ok "docs/kbs.md --threads: 0..1024" || bad "docs/kbs.md --threads: $(grep -- '--threads N' "$SRC/docs/kbs.md")"

echo "daemon start-up: $fails wrong"
[ "$fails" = 0 ]
