# Shared by the composite end-to-end scripts (sourced): a temp dir, pass/fail counting, and
# `expect NAME WANT_EXIT PYTHON_CHECK -- verify args...`, which asserts the exit status AND, through
# the Python expression (r = result JSON, rules = failing rule names, e = error), what decided it.
C=${CCT_CLI:?CCT_CLI not set}
V=${CCT_VECTORS:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
vectors_missing=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

expect() {
	local name=$1 want=$2 check=$3
	shift 3
	"$C" verify "$@" --json >"$T/out.json" 2>"$T/err.txt"
	local rc=$?
	if [[ $rc != "$want" ]]; then
		fail "$name: exit $rc, want $want"; head -c 900 "$T/out.json" "$T/err.txt"; return
	fi
	if [[ -n $check ]] && ! python3 -c "import json,sys; r=json.load(open('$T/out.json')); rules=[f['rule'] for f in r.get('failures',[])]; e=r.get('error') or {}; sys.exit(0 if ($check) else 1)"; then
		fail "$name: check failed: $check"; head -c 1500 "$T/out.json"; return
	fi
	pass "$name"
}
jset() { # jset IN OUT PYTHON_EXPR_ON_r
	python3 -c "import json, base64; r=json.load(open('$1')); $3; json.dump(r, open('$2','w'))"
}

# finish NAME: exit 1 on any failure; 77 (ctest: skipped) when every run case passed but the
# real-vector cases could not run; 0 only when everything ran and passed.
finish() {
	echo "$1: $fails failure(s)"
	((fails > 0)) && exit 1
	((vectors_missing)) && { echo "SKIP: real-vector cases did not run"; exit 77; }
	exit 0
}
