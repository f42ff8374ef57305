# shellcheck shell=bash
# Shared by bench/kbs.sh and bench/kbs_ab.sh (sourced): a cctrustd set up for the guest flows of
# `cctrust kbs bench`, and the CPU time of a process. Needs $CLI (the cctrust binary).

# kbs_cpu_ns PID: the process's CPU time in ns, all threads (schedstat counts ns where
# /proc/PID/stat counts 10 ms ticks)
kbs_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }

# kbs_broker_start DIR SIM_DIR CMD...: run CMD (the broker: optional prefixes such as taskset
# or env, the cctrustd binary, extra options) on 127.0.0.1 with its own SQLite store, master key
# and admin key in DIR, trusting the simulated TEE SIM_DIR, the per-client rate limit off (one
# loopback client drives every flow); store the resource bench/key/model and policies that
# release it to simulated evidence. Its PID goes to DIR/pid, its URL to DIR/url, its stderr to
# DIR/log. Returns non-zero (message on stderr) when it does not start or take the policies.
kbs_broker_start() {
	local dir=$1 sim=$2 url _
	shift 2
	"$CLI" kbs admin-keygen "$dir/admin.key" "$dir/admin.pub" >/dev/null || return 1
	(umask 077 && head -c 32 /dev/urandom >"$dir/mk")
	"$@" --store "sqlite:$dir/db" --listen 127.0.0.1:0 --port-file "$dir/port" \
		--admin-pubkey "$dir/admin.pub" --trust-sim "$sim" --master-key "$dir/mk" --rate-limit 0 \
		>/dev/null 2>"$dir/log" </dev/null &
	echo $! >"$dir/pid"
	for _ in $(seq 1 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
	if [ ! -s "$dir/port" ]; then
		# its own complaint: an option error leads its output, a start-up failure ends it
		echo "broker did not start: $(grep -m 3 -e 'cctrustd' -e 'rror' "$dir/log" || tail -3 "$dir/log")" >&2
		return 1
	fi
	url=http://127.0.0.1:$(cat "$dir/port")
	echo "$url" >"$dir/url"
	head -c 32 /dev/urandom >"$dir/secret"
	printf '{"version":"cctrust.policy/v1"}' >"$dir/att.json"
	printf '{"version":1,"allow_simulated":true,"rules":[{"resources":["bench/*/*"],"require":[{"all_submods":"affirming"}]}]}' >"$dir/res.json"
	if ! "$CLI" kbs put-resource --url "$url" --admin-key "$dir/admin.key" bench/key/model "$dir/secret" >/dev/null ||
		! "$CLI" kbs set-attestation-policy --url "$url" --admin-key "$dir/admin.key" "$dir/att.json" >/dev/null ||
		! "$CLI" kbs set-policy --url "$url" --admin-key "$dir/admin.key" "$dir/res.json" >/dev/null; then
		echo "broker at $url did not take the resource or the policies" >&2
		return 1
	fi
}
