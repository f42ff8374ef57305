#!/bin/bash
# make demo: verify the real SEV-SNP reports shipped in ../shared/vectors/snp, then show a
# tampered copy rejected with its reason. Usage: scripts/demo.sh PATH/TO/cctrust
set -u
cct=${1:-build/cctrust}
V=$(cd "$(dirname "$0")/../.." && pwd)/shared/vectors/snp
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -d "$V" ] || { echo "demo: $V not found (the shared vectors live beside the project)"; exit 2; }

say "1. A real Milan guest report (virtee/sev test data), VCEK + AMD chain, ARK pinned in cctrust"
"$cct" snp verify "$V/virtee-sev/report_milan.hex" --certs "$V/virtee-sev/vcek_milan.der" \
	--certs "$V/virtee-sev/cert_chain_milan.pem" --offline --no-crl
echo "(no AMD CRL ships with these vectors, so revocation is switched off explicitly: --no-crl)"

say "2. Without --no-crl, cctrust fails closed: no CRL, no verdict"
"$cct" snp verify "$V/virtee-sev/report_milan.hex" --certs "$V/virtee-sev/vcek_milan.der" --offline

say "3. A real report from a debuggable guest (go-sev-guest test data): refused by default"
"$cct" snp verify "$V/go-sev-guest/attestation.bin" --certs "$V/go-sev-guest/vcek.der" --offline --no-crl

say "4. A tampered copy: one byte of the launch measurement changed"
python3 -c "import sys;b=bytearray(bytes.fromhex(open(sys.argv[1]).read().strip()));b[0x90]^=1;open(sys.argv[2],'wb').write(b)" \
	"$V/virtee-sev/report_milan.hex" "$tmp/tampered.bin"
"$cct" snp verify "$tmp/tampered.bin" --certs "$V/virtee-sev/vcek_milan.der" --offline --no-crl --json |
	python3 -c "import json,sys;o=json.load(sys.stdin);print('verified:',o['verified']);print('reason:',o['error']['stage'],'/',o['error']['code'],'-',o['error']['message'])"

say "5. The same report as of a date after the VCEK expired"
"$cct" snp verify "$V/virtee-sev/report_milan.hex" --certs "$V/virtee-sev/vcek_milan.der" --offline --no-crl --at 2031-01-01T00:00:00Z
echo
echo "demo done: genuine evidence accepted, tampered, debuggable and expired evidence rejected with reasons."
