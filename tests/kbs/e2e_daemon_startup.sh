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

echo "daemon start-up: $fails wrong"
[ "$fails" = 0 ]
