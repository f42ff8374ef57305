# Shared by the swtpm end-to-end tests (sourced; the caller sets C, T and SPID='' and stops
# $SPID in its EXIT trap). swtpm on 127.0.0.1 only, bounded tries.

# swtpm_start: a swtpm on a free loopback port pair; sets SPID, P, TCTI, TPM2TOOLS_TCTI
swtpm_start() {
	local try i
	for try in 1 2 3 4 5 6 7 8; do
		P=$((20000 + RANDOM % 20000))
		mkdir -p "$T/tpm"
		swtpm socket --tpm2 --tpmstate dir="$T/tpm" --flags not-need-init,startup-clear \
			--server type=tcp,port=$P,bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((P + 1)),bindaddr=127.0.0.1 >"$T/swtpm.log" 2>&1 &
		SPID=$!
		for i in 1 2 3 4 5 6 7 8 9 10; do
			(exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break
			sleep 0.2
		done
		kill -0 $SPID 2>/dev/null && break
		SPID=
	done
	[[ -n $SPID ]] || { echo "swtpm did not start"; cat "$T/swtpm.log"; exit 1; }
	export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$P"
	TCTI=$TPM2TOOLS_TCTI
}
flush() { tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; }
q() { "$@" >/dev/null 2>"$T/tool.err" || { echo "$*: $(cat "$T/tool.err")"; exit 1; }; flush; }

# swtpm_provision_ak: the paravisor's AK (restricted RSA-2048 signing key, RSASSA-SHA256)
# persisted at 0x81000003, its public key in ./ak.pem
swtpm_provision_ak() {
	q tpm2_createprimary -C o -g sha256 -G rsa2048 -c prim.ctx
	q tpm2_create -C prim.ctx -G rsa2048:rsassa-sha256:null \
		-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign" -u ak.pub -r ak.priv
	q tpm2_load -C prim.ctx -u ak.pub -r ak.priv -c ak.ctx
	q tpm2_evictcontrol -C o -c ak.ctx 0x81000003
	q tpm2_readpublic -c 0x81000003 -f pem -o ak.pem
}

# make_hcl snp|tdx AK_PEM OUT: the paravisor's HCL report: runtime data with the AK as JWK and
# the simulated hardware report (SNP report, or TD report) over its SHA-256 ($T/sim)
make_hcl() {
	local mod rd
	mod=$(openssl rsa -pubin -in "$2" -noout -modulus | cut -d= -f2)
	python3 - "$mod" runtime.json <<'PY'
import base64, json, sys
n = bytes.fromhex(sys.argv[1]); b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
rt = {"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB", "n": b64(n)}],
      "vm-configuration": {"secure-boot": True, "tpm-enabled": True, "vmUniqueId": "swtpm-e2e"},
      "user-data": ""}
open(sys.argv[2], "wb").write(json.dumps(rt, separators=(",", ":")).encode())
PY
	rd=$(sha256sum runtime.json | cut -c1-64)$(printf '0%.0s' $(seq 64))
	if [[ $1 == tdx ]]; then
		"$C" sim td-report "$T/sim" --report-data "$rd" -o hw.bin || return 1
	else
		"$C" sim report "$T/sim" --report-data "$rd" -o hw.bin table.bin >/dev/null || return 1
	fi
	python3 - hw.bin runtime.json "$3" "$1" <<'PY'
import struct, sys
hw = open(sys.argv[1], "rb").read()[:1184]; hw += bytes(1184 - len(hw)); rt = open(sys.argv[2], "rb").read()
igvm = struct.pack("<5I", 20 + len(rt), 1, 4 if sys.argv[4] == "tdx" else 2, 1, len(rt)) + rt
hdr = b"HCLA" + struct.pack("<4I", 1, 32 + 1184 + len(igvm), 2, 0) + bytes(12)
open(sys.argv[3], "wb").write(hdr + hw + igvm)
PY
}
