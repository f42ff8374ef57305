# Shared helpers of the cctrustd end-to-end tests (sourced). Loopback only, bounded waits.
set -u
CLI=${CCT_CLI:?CCT_CLI not set}
BUILD=${CCT_BUILD:-$(dirname "$CLI")}
D=$BUILD/cctrustd
[ -x "$D" ] || { echo "SKIP: cctrustd not built (libmicrohttpd missing)"; exit 0; }
T=$(mktemp -d /tmp/cct-kbs-e2e.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # check NAME EXPECTED_RC ACTUAL_RC
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, expected $2)"; fi
}

# start_d NAME ARGS...: start cctrustd on 127.0.0.1:0, sets URL_<NAME> and PID_<NAME>
start_d() {
	local name=$1; shift
	rm -f "$T/$name.port"
	"$D" --listen 127.0.0.1:0 --port-file "$T/$name.port" "$@" 2>>"$T/$name.log" &
	local pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$name=$pid"
	local i
	for i in $(seq 1 100); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$T/$name.port" ] || { echo "cctrustd $name did not start:"; cat "$T/$name.log"; exit 1; }
	eval "URL_$name=http://127.0.0.1:$(cat "$T/$name.port")"
}

setup_keys() {
	"$CLI" kbs admin-keygen "$T/admin.key" "$T/admin.pub" || exit 1
	"$CLI" kbs admin-keygen "$T/rogue.key" "$T/rogue.pub" || exit 1
	"$CLI" kbs sample-init "$T/sample" 2>/dev/null || exit 1
	"$CLI" kbs sample-init "$T/rogue-sample" 2>/dev/null || exit 1
	head -c 32 /dev/urandom >"$T/master.key"
}
