#!/bin/bash
# Starts a local PostgreSQL on 127.0.0.1 for the KBS replica tests and prints the URL to use as
# CCT_PG_URL. Installs the server if missing. Used by .ci/run; harmless to run twice.
set -e
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
read -r ver name port _ < <(pg_lsclusters -h | head -1)
$SUDO pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 || true
for _ in $(seq 30); do
	$SUDO -u postgres psql -qAtc 'select 1' >/dev/null 2>&1 && break
	[ "$(id -u)" -eq 0 ] && runuser -u postgres -- psql -qAtc 'select 1' >/dev/null 2>&1 && break
	sleep 1
done
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
run_pg psql -qAtc "select 1 from pg_roles where rolname='cctrust'" | grep -q 1 ||
	run_pg psql -qc "create role cctrust login password 'cctrust-ci'" >/dev/null
run_pg psql -qAtc "select 1 from pg_database where datname='cctrust_ci'" | grep -q 1 ||
	run_pg psql -qc "create database cctrust_ci owner cctrust" >/dev/null
echo "postgresql://cctrust:cctrust-ci@127.0.0.1:${port}/cctrust_ci"
