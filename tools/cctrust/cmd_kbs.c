/* cctrust kbs: the key broker's guest client (get-resource) and admin client (put-resource,
 * set-policy, audit, ...), plus helpers for tests and demos (admin-keygen, bench). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <openssl/rand.h>

#include "cctrust/attester.h"
#include "cctrust/sim.h"
#include "cctrust/kbs.h"
#include "cctrust/composite.h"
#include "cli.h"
#include "cli_vtpm.h"
#include "token/jose.h"
#include "kbs/kbs_int.h"

#define BENCH_MAX_FLOWS 100000
#define BENCH_MAX_THREADS 64
/* precomputed P-384 nonces: at least this many ready, and as many as the run signs */
#define PRESIGN_DEPTH 64
#define PRESIGN_MAX 4096 /* the most pairs a pool holds (cct_sim_presign_start) */
#define PRESIGN_WAIT_MS 120000

/* Evidence sources of the guest client: the simulated TEE (`--sim DIR`, `cctrust sim`) and
 * this machine's TEE and GPUs (src/attester). Both build the attest body for the session nonce
 * and the client's ephemeral tee-pubkey; tee / gpus pass through unchanged, so simulated TDX
 * and GPUs work here as soon as the simulator has them. */
typedef struct evidence_ctx {
	cct_cli_vtpm vt; /* --tee and the paravisor vTPM's options (cli_vtpm.h) */
	const char *sim_dir;
	int gpus;
	const char *init_data;  /* init-data TOML text the guest was launched with, or NULL */
	int no_gpu;
	int gpus_set; /* --gpus given */
} evidence_ctx;

static int sim_evidence(void *ctx, char **body_out, const char *tee, const char *nonce_b64,
			const char *tee_pubkey_jwk, cct_err *err)
{
	const evidence_ctx *e = ctx;
	cct_attester_opts ao;
	cct_sim_opts so;
	json_t *pub = json_loads(tee_pubkey_jwk, 0, NULL);
	int rc;

	*body_out = NULL;
	if (!json_is_object(pub)) {
		json_decref(pub);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "tee-pubkey is not a JWK");
	}
	memset(&ao, 0, sizeof(ao));
	memset(&so, 0, sizeof(so));
	ao.nonce_b64 = nonce_b64;
	ao.tee_pubkey = pub;
	ao.init_data_toml = e->init_data;
	/* the session's wire name (kbs-types) -> the simulator's TEE name */
	so.tee = !strcmp(tee, "azsnpvtpm")   ? "az-snp-vtpm"
		 : !strcmp(tee, "aztdxvtpm") ? "az-tdx-vtpm"
					     : tee;
	so.gpus = e->gpus;
	rc = cct_sim_evidence(body_out, e->sim_dir, &ao, &so, err);
	json_decref(pub);
	return rc;
}

static int hardware_evidence(void *ctx, char **body_out, const char *tee, const char *nonce_b64,
			     const char *tee_pubkey_jwk, cct_err *err)
{
	const evidence_ctx *e = ctx;
	cct_attester_opts ao;
	json_t *pub = json_loads(tee_pubkey_jwk, 0, NULL);
	int rc;

	/* the attester detects SNP/TDX; a vTPM is asked for by name (--tee, which is also the
	 * session's tee); the broker checks the session's */
	(void)tee;
	*body_out = NULL;
	if (!json_is_object(pub)) {
		json_decref(pub);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "tee-pubkey is not a JWK");
	}
	memset(&ao, 0, sizeof(ao));
	ao.nonce_b64 = nonce_b64;
	ao.tee_pubkey = pub;
	ao.init_data_toml = e->init_data;
	ao.no_gpu = e->no_gpu;
	rc = cct_cli_vtpm_collect(body_out, &ao, &e->vt, err);
	json_decref(pub);
	return rc;
}

typedef struct common {
	cct_kbs_client_opts o;
	const char *admin_key, *out, *resource_target, *id, *role;
	const char *init_data_file, *token_out, *key_file, *metrics_token_file;
	const char *key_arg; /* --key: get-resource's and bench's ec|rsa, decrypt's PEM file */
	evidence_ctx ev;
	long after, limit, flows, threads, seconds;
	int json, no_presign, flows_set, force;
	int seen[48], nseen; /* the options given (getopt values), for kbs_options_apply */
} common;

static const struct option lopts[] = {
	{ "url", 1, 0, 'u' }, { "admin-key", 1, 0, 'a' }, { "output", 1, 0, 'o' },
	{ "insecure-http", 0, 0, 'H' },
	{ "cacert", 1, 0, 'c' }, { "sim", 1, 0, 's' },
	{ "gpus", 1, 0, 'g' }, { "key", 1, 0, 'k' },
	{ "resource", 1, 0, 'r' }, { "id", 1, 0, 'i' }, { "after", 1, 0, 'A' },
	{ "limit", 1, 0, 'L' }, { "flows", 1, 0, 'n' }, { "threads", 1, 0, 'j' },
	{ "role", 1, 0, 'R' }, { "timeout", 1, 0, 'T' }, { "init-data", 1, 0, 'I' },
	{ "token-out", 1, 0, 'K' }, { "no-gpu", 0, 0, 'G' }, { "help", 0, 0, 'h' },
	{ "clients", 1, 0, 'j' }, { "json", 0, 0, 'J' }, { "no-presign", 0, 0, 'P' },
	{ "metrics-token", 1, 0, 'M' }, { "seconds", 1, 0, 'S' }, { "force", 0, 0, 'F' },
	{ "admin-audience", 1, 0, 'D' },
	CCT_CLI_VTPM_OPTIONS, /* --tee, --tcti, --vcek, --imds, --event-log */
	{ 0, 0, 0, 0 }
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cctrust kbs <command> [options]\n"
		"guest:\n"
		"  get-resource --url URL REPO/TYPE/TAG [-o FILE] [--cacert PEM]\n"
		"               [--sim DIR --tee snp|tdx|az-snp-vtpm|az-tdx-vtpm --gpus N]\n"
		"               [--init-data TOML] [--no-gpu]\n"
		"               [--token-out FILE] [--key ec|rsa]\n"
		"               [--tee az-snp-vtpm|az-tdx-vtpm [--tcti CONF] [--vcek FILE]\n"
		"                [--imds URL] [--event-log FILE|none]]\n"
		"     evidence: this machine's TEE and GPUs (configfs-tsm, /dev/sev-guest, NVML),\n"
		"     or with --sim DIR the simulated TEE of 'cctrust sim init DIR', or with\n"
		"     --tee az-*-vtpm the paravisor vTPM through tpm2-tss, as evidence collect and\n"
		"     gate (see below)\n"
		"admin (Ed25519 admin key, PEM):\n"
		"  put-resource    --url URL --admin-key FILE REPO/TYPE/TAG FILE\n"
		"  delete-resource --url URL --admin-key FILE REPO/TYPE/TAG\n"
		"  set-policy      --url URL --admin-key FILE [--resource REPO/TYPE/TAG] POLICY.json\n"
		"  set-attestation-policy --url URL --admin-key FILE [--id ID] POLICY\n"
		"  set-reference-value --url URL --admin-key FILE NAME VALUES.json\n"
		"  audit           --url URL --admin-key FILE [--after N] [--limit 1..1000]\n"
		"  list-resources  --url URL --admin-key FILE\n"
		"  every admin JWT carries a random jti (single use); --admin-audience AUD adds the\n"
		"  \"aud\" a broker started with --admin-audience AUD requires; --role admin|auditor\n"
		"  its role claim (default admin; auditor: the read-only GET endpoints)\n"
		"tools:\n"
		"  admin-keygen [--force] PRIVATE.pem PUBLIC.pem\n"
		"        (two new files; --force replaces existing ones, never one file by both)\n"
		"  bench --url URL --sim DIR [--tee snp|tdx] [--gpus K] [--clients N] [--flows M]\n"
		"        [--json] [--no-presign] [--metrics-token FILE] [--key ec|rsa]\n"
		"        [--init-data TOML] [--no-gpu] RESOURCE\n"
		"        (load generator: M full flows from N client threads; evidence built per\n"
		"        flow in process, not counted, its P-384 signatures' nonces precomputed\n"
		"        (before the clock starts when the run signs at most 4096 times) unless\n"
		"        --no-presign; flows/s, p50/p90/p99/max per endpoint, errors by type, and\n"
		"        the broker's own CPU per request from its /metrics (--metrics-token: the\n"
		"        token cctrustd --metrics-token asks for); --threads is --clients)\n"
		"  decrypt --key PRIVATE.pem JWE_FILE [-o FILE]  (unwrap a broker JWE with a TEE key)\n"
		"--key: the ephemeral tee key's type (ec, the default, or rsa) for get-resource and\n"
		"  bench, a PEM private key file for decrypt; other commands take none\n"
		"  verify-bench --sim DIR [--tee snp|tdx] [--gpus K] [--flows N | --seconds S]\n"
		"        [--init-data TOML] [--no-gpu]\n"
		"        (the in-process limit: composite verifications of one simulated request,\n"
		"        N of them, or for S seconds or until SIGTERM/SIGINT; wall and CPU ms each)\n"
		"every network command: --timeout S per HTTP request (default 30)\n"
		"every command: https:// (--cacert PEM), or http:// to this machine only unless\n"
		"  --insecure-http (the bearer and the secret would cross the network in the clear);\n"
		"  URL's trailing slashes are dropped; REPO/TYPE/TAG is three segments of\n"
		"  [A-Za-z0-9._-], checked before any request\n"
		"an option a command does not list above is refused (exit 2), not ignored\n"
		"exit status: 0 ok, 1 refused by the broker (RFC 7807 reason printed), 2 usage/input\n"
		"get-resource's vTPM options (the same in evidence collect and gate):\n"
		"%s", CCT_CLI_VTPM_HELP);
}

static int parse(common *c, int argc, char **argv)
{
	int ch;
	long num;

	memset(c, 0, sizeof(*c));
	c->limit = 100;
	c->flows = 200;
	c->threads = 4;
	cct_cli_vtpm_init(&c->ev.vt);
	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc, argv, "o:h", lopts)) != -1) {
		if (ch != '?' && ch != 'h' && c->nseen < (int)(sizeof(c->seen) / sizeof(c->seen[0])))
			c->seen[c->nseen++] = ch;
		if (cct_cli_vtpm_option(&c->ev.vt, ch, optarg))
			continue;
		switch (ch) {
		case 'u': c->o.url = optarg; break;
		case 'H': c->o.insecure_http = 1; break;
		case 'a': c->admin_key = optarg; break;
		case 'D': c->o.admin_audience = optarg; break;
		case 'o': c->out = optarg; break;
		case 'c': c->o.cacert = optarg; break;
		case 's': c->ev.sim_dir = optarg; break;
		case 'g':
			if (cct_cli_parse_long(&num, "--gpus", optarg, 0, CCT_ATTESTER_MAX_GPUS))
				return -1;
			c->ev.gpus = (int)num;
			c->ev.gpus_set = 1;
			break;
		case 'I': c->init_data_file = optarg; break;
		case 'K': c->token_out = optarg; break;
		case 'G': c->ev.no_gpu = 1; break;
		case 'k': c->key_arg = optarg; break; /* its meaning is the command's: kbs_cmd */
		case 'r': c->resource_target = optarg; break;
		case 'i': c->id = optarg; break;
		case 'A':
			if (cct_cli_parse_long(&c->after, "--after", optarg, 0, LONG_MAX))
				return -1;
			break;
		case 'L':
			/* the broker returns at most CCT_STORE_MAX_AUDIT a query: a larger
			 * --limit would be cut there without a word */
			if (cct_cli_parse_long(&c->limit, "--limit", optarg, 1, CCT_STORE_MAX_AUDIT))
				return -1;
			break;
		case 'n':
			if (cct_cli_parse_long(&c->flows, "--flows", optarg, 1, 10000000L))
				return -1;
			c->flows_set = 1;
			break;
		case 'j':
			if (cct_cli_parse_long(&c->threads, "--clients", optarg, 1, 256))
				return -1;
			break;
		case 'R': c->role = optarg; break;
		case 'T':
			if (cct_cli_parse_long(&c->o.timeout_s, "--timeout", optarg, 1, 86400))
				return -1;
			break;
		case 'J': c->json = 1; break;
		case 'P': c->no_presign = 1; break;
		case 'F': c->force = 1; break;
		case 'M': c->metrics_token_file = optarg; break;
		case 'S':
			if (cct_cli_parse_long(&c->seconds, "--seconds", optarg, 1, 86400))
				return -1;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	/* refused before any work (a load generator would otherwise fail every flow) */
	if (c->o.url) {
		cct_err uerr;

		if (cct_kbs_client_check_url(&c->o, &uerr) != CCT_OK) {
			cct_cli_usage_error("%s", uerr.msg);
			return -1;
		}
	}
	if (c->ev.sim_dir) {
		c->o.evidence = sim_evidence;
		c->o.evidence_ctx = &c->ev;
	} else {
		c->o.evidence = hardware_evidence;
		c->o.evidence_ctx = &c->ev;
	}
	if (c->ev.gpus < 0 || c->ev.gpus > CCT_ATTESTER_MAX_GPUS) {
		cct_cli_usage_error("--gpus: 0..%d", CCT_ATTESTER_MAX_GPUS);
		return -1;
	}
	/* --tee here is also the session's: SNP or TDX, or a paravisor vTPM (its KBS wire name
	 * too); any other name would only reach the broker to be refused there */
	if (c->ev.vt.tee && strcmp(c->ev.vt.tee, "snp") && strcmp(c->ev.vt.tee, "tdx") &&
	    !cct_cli_vtpm_tee(c->ev.vt.tee)) {
		cct_cli_usage_error("--tee: snp, tdx, az-snp-vtpm or az-tdx-vtpm, got '%s'",
				    c->ev.vt.tee);
		return -1;
	}
	/* --gpus N is how many GPUs the simulated TEE gives (this machine's are found through
	 * NVML, --no-gpu skipping them): without --sim, or with --no-gpu, it was ignored */
	if (c->ev.gpus_set && !c->ev.sim_dir) {
		cct_cli_usage_error("--gpus N is the simulated TEE's (--sim DIR); this machine's GPUs "
				    "are found through NVML (--no-gpu skips them)");
		return -1;
	}
	if (c->ev.gpus_set && c->ev.gpus > 0 && c->ev.no_gpu) {
		cct_cli_usage_error("--gpus %d and --no-gpu: one or the other", c->ev.gpus);
		return -1;
	}
	if (cct_cli_vtpm_finish(&c->ev.vt, 1))
		return -1;
	if (c->ev.sim_dir && c->ev.vt.device_opts) {
		cct_cli_usage_error("--tcti, --vcek, --imds and --event-log are this machine's vTPM's; "
				    "--sim DIR uses none of them");
		return -1;
	}
	c->o.tee = c->ev.vt.tee;
	if (!c->o.tee)
		c->o.tee = "snp";
	if (!strcmp(c->o.tee, "az-snp-vtpm"))
		c->o.tee = "azsnpvtpm"; /* the KBS protocol's (kbs-types) name on the wire */
	else if (!strcmp(c->o.tee, "az-tdx-vtpm"))
		c->o.tee = "aztdxvtpm";
	return 0;
}

static int need(const common *c, int admin)
{
	if (!c->o.url)
		return cct_cli_usage_error("--url URL is required");
	if (admin && !c->admin_key)
		return cct_cli_usage_error("--admin-key FILE is required");
	return 0;
}

/* Print a broker reply: JSON on stdout; status class decides the exit code. */
static int admin_call(const common *c, const char *method, const char *path, const uint8_t *body,
		      size_t len)
{
	cct_err err;
	int status = 0;
	char *resp = NULL;
	size_t rlen = 0;

	if (cct_kbs_client_admin(&status, &resp, &rlen, &c->o, c->admin_key,
				 c->role ? c->role : "admin", method, path, body, len,
				 &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		return CCT_EXIT_USAGE;
	}
	printf("%s\n", resp);
	free(resp);
	if (status != 200) {
		fprintf(stderr, "cctrust: broker refused (HTTP %d)\n", status);
		return CCT_EXIT_REJECT;
	}
	return CCT_EXIT_OK;
}

static int read_file(uint8_t **b, size_t *n, const char *path)
{
	cct_err err;

	if (cct_file_read(b, n, path, CCT_KBS_MAX_BODY, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int b64_policy_body(char **out, const uint8_t *txt, size_t n, const char *k1,
			   const char *v1, const char *k2, const char *v2)
{
	char *b64 = cct_b64_encode(txt, n, 0);
	json_t *j = json_pack("{s:s}", "policy", b64 ? b64 : "");

	if (k1 && v1)
		json_object_set_new(j, k1, json_string(v1));
	if (k2 && v2)
		json_object_set_new(j, k2, json_string(v2));
	*out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	free(b64);
	return *out ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_progress(void *ctx, long done, long failed, double el)
{
	const common *c = ctx;
	int tty = isatty(2);

	fprintf(stderr, "%sbench: %ld/%ld flows, %ld failed, %.1f s, %.1f flows/s%s",
		tty ? "\r" : "", done, c->flows, failed, el, el > 0 ? (double)done / el : 0.0,
		tty ? "  " : "\n");
	if (tty && done == c->flows)
		fputc('\n', stderr);
}

/* What a guest binds its evidence to, fresh: a random session nonce (raw and base64) and a
 * P-256 tee-pubkey JWK (public members only; the key itself is not kept: neither bench opens a
 * JWE with it). 0, or -1 with nothing left allocated. */
static int sim_binding(uint8_t nonce[CCT_KBS_NONCE_SIZE], char **n64, json_t **jwk)
{
	EVP_PKEY *k = NULL;

	*n64 = NULL;
	*jwk = NULL;
	if (RAND_bytes(nonce, CCT_KBS_NONCE_SIZE) == 1 &&
	    (*n64 = cct_b64_encode(nonce, CCT_KBS_NONCE_SIZE, 0)) != NULL &&
	    (k = cct_jose_keygen("P-256")) != NULL)
		*jwk = cct_jose_pkey_to_jwk(k, "ECDH-ES+A256KW");
	EVP_PKEY_free(k);
	if (*jwk)
		return 0;
	free(*n64);
	*n64 = NULL;
	return -1;
}

/* The simulator's first evidence in a process loads its keys, certificates and RIMs (some
 * 45 ms on the dev box, a fifth of a 100-flow run's time): done once here, before the load
 * generator's clock, so flows/s measures the broker and not the simulator's start-up. */
static void sim_warm_up(common *c)
{
	uint8_t nonce[CCT_KBS_NONCE_SIZE];
	json_t *jwk = NULL;
	char *n64 = NULL, *jwk_txt = NULL, *body = NULL;
	cct_err err;

	if (sim_binding(nonce, &n64, &jwk) == 0 &&
	    (jwk_txt = json_dumps(jwk, JSON_COMPACT)) != NULL &&
	    sim_evidence(&c->ev, &body, c->o.tee, n64, jwk_txt, &err) != CCT_OK)
		fprintf(stderr, "cctrust: simulator warm-up: %s\n", err.msg);
	free(body);
	free(jwk_txt);
	json_decref(jwk);
	free(n64);
}

/* Load generator: library src/kbs/loadgen.c; here only options and output. */
static int bench(common *c, const char *res)
{
	static const char *const names[4] = { "auth", "attest", "resource", "flow" };
	cct_kbs_loadgen_opts lo;
	cct_kbs_loadgen_report r;
	cct_err err;
	size_t i;
	unsigned long pre0 = 0, inl0 = 0, pre1 = 0, inl1 = 0;
	uint8_t *token = NULL;
	size_t token_len = 0;
	int rc;

	memset(&lo, 0, sizeof(lo));
	if (c->threads < 1 || c->threads > 256 || c->flows < 1 || c->flows > 10000000L)
		return cct_cli_usage_error("--clients 1..256, --flows 1..10000000");
	if (c->metrics_token_file) {
		if (cct_file_read(&token, &token_len, c->metrics_token_file, 4096, &err) != CCT_OK)
			return cct_cli_usage_error("--metrics-token: %s", err.msg);
		token[strcspn((char *)token, "\r\n")] = 0; /* cct_file_read NUL-terminates */
		lo.metrics_bearer = (const char *)token;
	}
	lo.client = &c->o;
	lo.resource = res;
	lo.clients = (int)c->threads;
	lo.flows = c->flows;
	lo.progress = bench_progress;
	lo.progress_ctx = c;
	/* the simulated PSP's and GPUs' signatures cost the load generator what they cost the
	 * guest, next to nothing: their nonces are precomputed (cctrust/sim.h), as many as the
	 * run signs and before the clock starts, so the load generator's core is not kept busy
	 * by them while the broker is measured */
	if (c->ev.sim_dir) /* first: its own signatures are not the run's */
		sim_warm_up(c);
	if (!c->no_presign && c->ev.sim_dir) {
		unsigned long per_flow = (unsigned long)(c->ev.no_gpu ? 0 : c->ev.gpus) +
					 (strstr(c->o.tee, "snp") ? 1u : 0u);
		unsigned long need = per_flow * (unsigned long)c->flows;
		/* all of them up front: at this thread's priority, since it only waits for them
		 * (at idle priority, on a busy machine, the wait could last its whole bound); a run
		 * that needs more than a pool holds has the rest made on idle time as it goes */
		int upfront = need <= PRESIGN_MAX;
		unsigned depth = !upfront ? PRESIGN_MAX
				 : need < PRESIGN_DEPTH ? PRESIGN_DEPTH : (unsigned)need;

		if (need && cct_sim_presign_start(depth, upfront ? 0 : CCT_SIM_PRESIGN_IDLE,
						  &err) != CCT_OK)
			fprintf(stderr, "cctrust: %s\n", err.msg);
		else if (need && upfront) {
			if (need > 1000 && isatty(2))
				fprintf(stderr, "cctrust: precomputing %lu P-384 signature nonces for the "
						"simulated evidence (not counted)\n",
					need);
			cct_sim_presign_budget(need);
			cct_sim_presign_wait(depth, PRESIGN_WAIT_MS);
		}
	}
	cct_sim_presign_counts(&pre0, &inl0);
	rc = cct_kbs_loadgen_run(&r, &lo, &err);
	cct_sim_presign_counts(&pre1, &inl1);
	cct_sim_presign_stop();
	if (token) {
		cct_wipe(token, token_len);
		free(token);
	}
	if (rc != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		return CCT_EXIT_USAGE;
	}
	if (c->json) {
		char *js = cct_kbs_loadgen_json(&r);
		json_t *o = js ? json_loads(js, 0, NULL) : NULL;

		free(js);
		if (!o)
			return CCT_EXIT_USAGE;
		/* the fields of earlier versions, kept */
		json_object_set_new(o, "threads", json_integer(r.clients));
		json_object_set_new(o, "p50_ms", json_real(r.ms[3][0]));
		json_object_set_new(o, "p99_ms", json_real(r.ms[3][2]));
		json_object_set_new(o, "tee", json_string(c->o.tee));
		json_object_set_new(o, "gpus", json_integer(c->ev.gpus));
		json_object_set_new(o, "evidence_signatures",
				    json_pack("{s:I,s:I}", "presigned", (json_int_t)(pre1 - pre0),
					      "inline", (json_int_t)(inl1 - inl0)));
		js = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		if (js)
			printf("%s\n", js);
		free(js);
	} else {
		printf("%ld flows (%s, %d GPU(s)) from %d clients in %.2f s: %.1f flows/s, %ld "
		       "failed; evidence %.2f ms/flow in process (not counted)\n",
		       r.flows, c->o.tee, c->ev.gpus, r.clients, r.seconds,
		       r.seconds > 0 ? (double)(r.flows - r.failures) / r.seconds : 0.0,
		       r.failures, r.flows ? r.evidence_s * 1e3 / (double)r.flows : 0.0);
		printf("evidence signatures (P-384): %lu with a precomputed nonce, %lu inline\n",
		       pre1 - pre0, inl1 - inl0);
		printf("%-10s %10s %10s %10s %10s %8s\n", "latency ms", "p50", "p90", "p99", "max",
		       "n");
		for (i = 0; i < 4; i++)
			printf("%-10s %10.2f %10.2f %10.2f %10.2f %8ld\n", names[i], r.ms[i][0],
			       r.ms[i][1], r.ms[i][2], r.ms[i][3], r.samples[i]);
		for (i = 0; i < r.error_types; i++)
			printf("error %-40s %ld\n", r.errors[i].type, r.errors[i].count);
		if (r.errors_other)
			printf("error %-40s %ld\n", "(other types)", r.errors_other);
		if (r.server_cpu_ok)
			printf("broker CPU per request (its /metrics): auth %.2f ms, attest %.2f ms "
			       "(verification %.2f ms), resource %.2f ms; handlers per flow %.2f ms\n",
			       r.server_cpu_ms[0], r.server_cpu_ms[1], r.server_cpu_ms[3],
			       r.server_cpu_ms[2],
			       r.server_cpu_ms[0] + r.server_cpu_ms[1] + r.server_cpu_ms[2]);
		else
			printf("broker CPU per request: not known (%s)\n", r.server_cpu_why);
	}
	return r.failures ? CCT_EXIT_REJECT : CCT_EXIT_OK;
}

static int get_resource(common *c, const char *res)
{
	cct_err err;
	uint8_t *secret = NULL;
	size_t n = 0;
	char *problem = NULL, *token = NULL;
	int rc = cct_kbs_client_get_resource_ex(&secret, &n, &c->o, res, &problem,
						c->token_out ? &token : NULL, &err), ex;
	int had_problem, token_lost = 0;

	if (token) { /* the EAR the broker issued on attest: written even when then refused;
		      * the broker takes it as a Bearer token, so 0600 like -o. cct_file_write
		      * renames a finished temporary file into place: a failure leaves no part
		      * of the token at FILE (the command goes on, and then exits 2) */
		cct_err terr;

		if (cct_file_write(c->token_out, token, strlen(token), 1, &terr) != CCT_OK) {
			fprintf(stderr, "cctrust: --token-out: %s (the broker's token was not saved)\n",
				terr.msg);
			token_lost = 1;
		}
		free(token);
	} else if (c->token_out && rc == CCT_OK) {
		fprintf(stderr, "cctrust: --token-out %s: the broker's attest reply held no token; "
				"nothing written\n",
			c->token_out);
		token_lost = 1;
	}
	if (rc == CCT_OK) {
		if (c->out) {
			rc = cct_file_write(c->out, secret, n, 1, &err);
			ex = rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_USAGE;
			if (rc != CCT_OK)
				fprintf(stderr, "cctrust: %s\n", err.msg);
		} else {
			ex = fwrite(secret, 1, n, stdout) == n ? CCT_EXIT_OK : CCT_EXIT_USAGE;
		}
		cct_wipe(secret, n);
		free(secret);
		/* the secret is out, but the token file asked for is not: never exit 0 */
		return ex == CCT_EXIT_OK && token_lost ? CCT_EXIT_USAGE : ex;
	}
	had_problem = problem != NULL;
	if (problem) {
		printf("%s\n", problem);
		free(problem);
	}
	fprintf(stderr, "cctrust: %s\n", err.msg);
	/* refused by the broker (RFC 7807 body) or a JWE not for our key: 1; could not run at all
	 * (network, no TEE / simulator, bad input): 2 */
	return had_problem || rc == CCT_ESIGNATURE ? CCT_EXIT_REJECT : CCT_EXIT_USAGE;
}

/* Unwrap a broker JWE with a TEE private key (tests: only the attested key opens it). */
static int decrypt(const common *c, const char *jwe_file)
{
	cct_err err;
	EVP_PKEY *k = NULL;
	uint8_t *jwe = NULL, *pt = NULL;
	size_t jn = 0, pn = 0;
	int ex = CCT_EXIT_USAGE, rc;

	if (!c->key_file)
		return cct_cli_usage_error("decrypt needs --key PRIVATE.pem");
	if (cct_jose_pem_read(&k, c->key_file, 1, &err) != CCT_OK ||
	    cct_file_read(&jwe, &jn, jwe_file, CCT_KBS_MAX_BODY * 2, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		goto out;
	}
	rc = cct_jose_jwe_decrypt(&pt, &pn, (const char *)jwe, jn, k, &err);
	if (rc != CCT_OK) {
		fprintf(stderr, "cctrust: JWE does not open with this key: %s\n", err.msg);
		ex = cct_code_is_input(rc) ? CCT_EXIT_USAGE : CCT_EXIT_REJECT;
		goto out;
	}
	if (c->out) {
		ex = cct_file_write(c->out, pt, pn, 1, &err) == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_USAGE;
		if (ex != CCT_EXIT_OK) /* exit 2 said nothing: name the file and the reason */
			fprintf(stderr, "cctrust: %s\n", err.msg);
	} else {
		ex = fwrite(pt, 1, pn, stdout) == pn ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
out:
	if (pt) {
		cct_wipe(pt, pn);
		free(pt);
	}
	free(jwe);
	EVP_PKEY_free(k);
	return ex;
}

static double cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t verify_bench_stop;

static void verify_bench_on_signal(int sig)
{
	(void)sig;
	verify_bench_stop = 1;
}

/* The raw limit of the same evidence, in process: N simulated evidence builds (the guest's
 * cost) and N composite verifications with token signing (the broker's crypto per flow).
 * With --seconds S: one timed build, then verifications for S seconds or until SIGTERM or
 * SIGINT (at least one), so a script can run the limit on a core at the same time as a load
 * and stop it when the load ends; the CPU time per verification is then the figure (the core
 * is shared), measured at the same moments as the load. */
static int verify_bench(const common *c, int argc, char **argv)
{
	cct_err err;
	cct_policy *pol = NULL;
	cct_token_signer *signer = NULL;
	cct_composite_opts vo;
	cct_composite_result r;
	cct_attester_opts ao;
	cct_sim_opts so;
	json_t *jwk = NULL;
	uint8_t nonce[CCT_KBS_NONCE_SIZE];
	char *n64 = NULL, *body = NULL;
	long i, n = c->flows, n_ev = c->seconds ? 1 : c->flows, nv = 0;
	double t0, t1, t2, dt, t_ev = 0, t_ver = 0, t_free = 0, t_first_ev = 0, t_first_ver = 0;
	double t_cpu = 0, c0, loop_start = 0;
	struct sigaction sa, old_term, old_int;
	int ex = CCT_EXIT_USAGE, failed = 0, on_term = 0, on_int = 0;

	(void)argv;
	if (argc != 0 || !c->ev.sim_dir || n < 1 || n > BENCH_MAX_FLOWS)
		return cct_cli_usage_error("verify-bench --sim DIR [--tee snp|tdx] [--gpus N] "
					   "[--flows 1..%d | --seconds S]", BENCH_MAX_FLOWS);
	if (sim_binding(nonce, &n64, &jwk) != 0 || cct_policy_default(&pol, &err) != CCT_OK ||
	    cct_token_signer_generate(&signer, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: verify-bench setup failed\n");
		goto out;
	}
	memset(&ao, 0, sizeof(ao));
	memset(&so, 0, sizeof(so));
	ao.nonce_b64 = n64;
	ao.tee_pubkey = jwk;
	ao.init_data_toml = c->ev.init_data;
	so.tee = c->o.tee;
	so.gpus = c->ev.gpus;
	memset(&vo, 0, sizeof(vo));
	vo.expected_nonce = nonce;
	vo.expected_nonce_len = sizeof(nonce);
	vo.tee_hint = c->o.tee;
	vo.trust_sim_dir = c->ev.sim_dir;
	vo.offline = 1;
	/* the first evidence and the first verification in a process (i = -1) load the
	 * simulator's and the verifier's keys, roots and RIMs (tens of ms): timed apart, not in
	 * the means, which are the cost of each further one (the limit a long-running broker
	 * approaches) */
	for (i = -1; i < n_ev; i++) {
		free(body);
		body = NULL;
		t0 = now_s();
		if (cct_sim_evidence(&body, c->ev.sim_dir, &ao, &so, &err) != CCT_OK) {
			fprintf(stderr, "cctrust: sim evidence: %s\n", err.msg);
			goto out;
		}
		dt = now_s() - t0;
		if (i < 0)
			t_first_ev = dt;
		else
			t_ev += dt;
	}
	if (c->seconds) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = verify_bench_on_signal;
		sigemptyset(&sa.sa_mask);
		verify_bench_stop = 0;
		on_term = sigaction(SIGTERM, &sa, &old_term) == 0;
		on_int = sigaction(SIGINT, &sa, &old_int) == 0;
	}
	for (i = -1;; i++) {
		if (i == 0 && c->seconds) {
			loop_start = now_s();
			fprintf(stderr, "cctrust: verify-bench: verifying for up to %ld s (SIGTERM or "
					"SIGINT ends it)\n", c->seconds);
		}
		if (c->seconds ? i > 0 && (verify_bench_stop ||
					   now_s() - loop_start >= (double)c->seconds)
			       : i >= n)
			break;
		c0 = cpu_now_s();
		t0 = now_s();
		failed |= cct_composite_verify(&r, (const uint8_t *)body, strlen(body), pol, &vo,
					       signer) != CCT_OK;
		t1 = now_s();
		if (failed)
			fprintf(stderr, "cctrust: composite verify: %s\n", r.err.msg);
		/* releasing the result (the claims document above all) is part of each
		 * verification's cost: a server pays it for every request */
		cct_composite_result_clear(&r);
		t2 = now_s();
		if (i < 0) {
			t_first_ver = t2 - t0;
		} else {
			t_free += t2 - t1;
			t_ver += t2 - t0;
			t_cpu += cpu_now_s() - c0;
			nv++;
		}
		if (failed)
			goto out;
	}
	/* composite_verify_cpu_ms: this process's CPU time per verification (the figure when the
	 * core is shared); the wall-clock figures are the ones of earlier versions */
	printf("{\"evidence\":\"%s simulated, %d GPU(s)\",\"n\":%ld,"
	       "\"sim_evidence_ms\":%.3f,\"composite_verify_ms\":%.3f,"
	       "\"composite_verify_cpu_ms\":%.3f,"
	       "\"result_free_ms\":%.3f,\"composite_verifies_per_s_per_core\":%.1f,"
	       "\"first_sim_evidence_ms\":%.3f,\"first_composite_verify_ms\":%.3f}\n",
	       c->o.tee, c->ev.gpus, nv, t_ev * 1e3 / (double)n_ev, t_ver * 1e3 / (double)nv,
	       t_cpu * 1e3 / (double)nv, t_free * 1e3 / (double)nv, (double)nv / t_ver,
	       t_first_ev * 1e3, t_first_ver * 1e3);
	ex = CCT_EXIT_OK;
out:
	if (on_term)
		sigaction(SIGTERM, &old_term, NULL);
	if (on_int)
		sigaction(SIGINT, &old_int, NULL);
	free(body);
	free(n64);
	json_decref(jwk);
	cct_policy_free(pol);
	cct_token_signer_free(signer);
	return ex;
}

/* A REPO/TYPE/TAG argument, checked here as the broker checks it (src/kbs/policy.c), so a
 * malformed one is a usage error before any request: 0, or CCT_EXIT_USAGE after saying so. */
static int resource_arg(const char *what, const char *res)
{
	if (cct_kbs__resource_path_ok(res))
		return 0;
	return cct_cli_usage_error("%s '%s' is not REPO/TYPE/TAG (three segments of "
				   "[A-Za-z0-9._-], 1..128 characters each and at most %d in all, "
				   "no '..', no leading '.')", what, res, CCT_STORE_MAX_NAME);
}

/* A new Ed25519 admin key pair in two distinct files. Without force neither may exist: each
 * is claimed (O_EXCL) before the key is made, so an admin key in place is never replaced
 * unasked; a file claimed here is removed again on failure. One file by both names (the same
 * path, or the same inode by another) is refused: the public key would replace the private
 * one. */
static int admin_keygen(const char *priv, const char *pub, int force)
{
	const char *const path[2] = { priv, pub };
	int made[2] = { 0, 0 }, ex = CCT_EXIT_USAGE, i, fd;
	struct stat st0, st1;
	EVP_PKEY *k = NULL;
	cct_err err;

	if (!strcmp(priv, pub))
		return cct_cli_usage_error("admin-keygen: PRIVATE.pem and PUBLIC.pem are the same file "
					   "(%s): the public key would replace the private one",
					   priv);
	for (i = 0; i < 2; i++) {
		if (i == 1 && stat(priv, &st0) == 0 && stat(pub, &st1) == 0 &&
		    st0.st_dev == st1.st_dev && st0.st_ino == st1.st_ino) {
			cct_cli_usage_error("admin-keygen: %s and %s are the same file: the public "
					    "key would replace the private one", priv, pub);
			goto out;
		}
		if (lstat(path[i], &st1) == 0) {
			if (!force) {
				cct_cli_usage_error("admin-keygen: %s exists: --force replaces it (the "
						    "admin key it holds is lost)", path[i]);
				goto out;
			}
			continue;
		}
		fd = errno == ENOENT ? open(path[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
							    O_CLOEXEC, 0600)
				     : -1;
		if (fd < 0) {
			cct_cli_usage_error("admin-keygen: cannot create %s: %s", path[i],
					    strerror(errno));
			goto out;
		}
		close(fd);
		made[i] = 1;
	}
	k = cct_jose_keygen("Ed25519");
	if (!k) {
		cct_cli_usage_error("admin-keygen: Ed25519 key generation failed");
		goto out;
	}
	if (cct_jose_pem_write(priv, k, 1, &err) != CCT_OK ||
	    cct_jose_pem_write(pub, k, 0, &err) != CCT_OK) {
		cct_cli_usage_error("admin-keygen: %s", err.msg);
		goto out;
	}
	made[0] = made[1] = 0; /* kept */
	ex = CCT_EXIT_OK;
out:
	for (i = 0; i < 2; i++)
		if (made[i])
			unlink(path[i]);
	EVP_PKEY_free(k);
	return ex;
}

static char *init_data_buf;

static int kbs_cmd(int argc, char **argv);

/* The options each subcommand reads (getopt values of lopts; the vTPM ones by name below): any
 * other one is refused, not accepted and ignored (a --json or --token-out that did nothing). */
#define KBS_NET "uHcT"     /* --url --insecure-http --cacert --timeout */
#define KBS_ADMIN KBS_NET "aDR" /* --admin-key --admin-audience --role */
static const struct {
	const char *cmd, *opts;
	int vtpm; /* 2: --tee, --tcti, --vcek, --imds, --event-log; 1: --tee only */
} kbs_cmd_opts[] = {
	{ "get-resource", KBS_NET "osgIKGk", 2 },
	{ "put-resource", KBS_ADMIN, 0 },
	{ "delete-resource", KBS_ADMIN, 0 },
	{ "set-policy", KBS_ADMIN "r", 0 },
	{ "set-attestation-policy", KBS_ADMIN "i", 0 },
	{ "set-reference-value", KBS_ADMIN, 0 },
	{ "audit", KBS_ADMIN "AL", 0 },
	{ "list-resources", KBS_ADMIN, 0 },
	{ "admin-keygen", "F", 0 },
	{ "bench", KBS_NET "sgIGkjnJPM", 1 },
	{ "decrypt", "ko", 0 },
	{ "verify-bench", "sgGnSI", 1 },
};

static const char *kbs_opt_name(int ch)
{
	return ch == 'j' ? "clients (--threads)" : cct_cli_long_name(lopts, ch);
}

/* CCT_EXIT_USAGE (message printed) when an option given is not cmd's, else 0. */
static int kbs_options_apply(const common *c, const char *cmd)
{
	size_t i;
	int k;

	for (i = 0; i < sizeof(kbs_cmd_opts) / sizeof(kbs_cmd_opts[0]); i++) {
		if (strcmp(cmd, kbs_cmd_opts[i].cmd))
			continue;
		for (k = 0; k < c->nseen; k++) {
			int ch = c->seen[k], ok;

			if (ch >= CCT_CLI_O_TEE)
				ok = kbs_cmd_opts[i].vtpm == 2 ||
				     (kbs_cmd_opts[i].vtpm == 1 && ch == CCT_CLI_O_TEE);
			else
				ok = ch > 0 && ch < 128 && strchr(kbs_cmd_opts[i].opts, ch);
			if (!ok)
				return cct_cli_usage_error("kbs %s: %s%s does not apply to it "
							   "(cctrust kbs --help lists each "
							   "command's options)",
							   cmd, ch == 'o' ? "-o/--" : "--",
							   kbs_opt_name(ch));
		}
		return 0;
	}
	return 0;
}

/* the subcommands, in the order 'cctrust kbs --help' lists them */
static const char *const kbs_cmds[] = { "get-resource", "put-resource", "delete-resource",
					"set-policy", "set-attestation-policy",
					"set-reference-value", "audit", "list-resources",
					"admin-keygen", "bench", "decrypt", "verify-bench" };

static int is_kbs_cmd(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(kbs_cmds) / sizeof(kbs_cmds[0]); i++)
		if (!strcmp(cmd, kbs_cmds[i]))
			return 1;
	return 0;
}

/* An unknown subcommand is named as such (not as a missing --url), with the known ones. */
static int unknown_kbs_cmd(const char *cmd)
{
	char list[512] = "";
	size_t i, n = 0;

	for (i = 0; i < sizeof(kbs_cmds) / sizeof(kbs_cmds[0]) && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", kbs_cmds[i]);
	return cct_cli_usage_error("kbs: unknown subcommand '%.100s'; one of: %s (cctrust kbs --help)",
				   cmd, list);
}

int cct_cmd_kbs(int argc, char **argv)
{
	int ex = kbs_cmd(argc, argv);

	free(init_data_buf);
	init_data_buf = NULL;
	return ex;
}

static int kbs_cmd(int argc, char **argv)
{
	common c;
	const char *cmd;
	int pr;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	cmd = argv[1];
	/* before the options: an unknown subcommand is the error, not what it would need */
	if (!is_kbs_cmd(cmd) && !cct_cli_asks_help(argc, argv, 2))
		return unknown_kbs_cmd(cmd);
	pr = parse(&c, argc - 1, argv + 1);
	if (pr)
		return pr > 0 ? 0 : CCT_EXIT_USAGE;
	argc -= optind + 1;
	argv += optind + 1;
	if (c.init_data_file) {
		uint8_t *b = NULL;
		size_t n = 0;

		if (read_file(&b, &n, c.init_data_file))
			return CCT_EXIT_USAGE;
		/* TOML text: a NUL would cut it short */
		if (cct_cli_text_check("--init-data", c.init_data_file, b, n)) {
			free(b);
			return CCT_EXIT_USAGE;
		}
		init_data_buf = (char *)b;
		c.ev.init_data = init_data_buf;
	}
	/* a bound the command would not honour is refused, not ignored */
	if (c.seconds && strcmp(cmd, "verify-bench"))
		return cct_cli_usage_error("--seconds is verify-bench's (kbs bench runs --flows M)");
	if (c.seconds && c.flows_set)
		return cct_cli_usage_error("verify-bench: --flows N or --seconds S, not both");
	if (c.force && strcmp(cmd, "admin-keygen") && is_kbs_cmd(cmd))
		return cct_cli_usage_error("--force is admin-keygen's; %s takes none", cmd);
	/* --key names the ephemeral tee key's type for the commands that attest, and a private
	 * key file for decrypt: one meaning per command, anything else refused */
	if (c.key_arg) {
		if (!strcmp(cmd, "get-resource") || !strcmp(cmd, "bench")) {
			if (strcmp(c.key_arg, "ec") && strcmp(c.key_arg, "rsa"))
				return cct_cli_usage_error("--key: ec or rsa (the type of %s's "
							   "ephemeral tee key), got '%s' (a PEM key "
							   "file is decrypt's --key)", cmd, c.key_arg);
			c.o.key_kind = !strcmp(c.key_arg, "rsa") ? "RSA" : "P-256";
		} else if (!strcmp(cmd, "decrypt")) {
			c.key_file = c.key_arg;
		} else if (is_kbs_cmd(cmd)) {
			return cct_cli_usage_error("--key is get-resource's (ec|rsa) and decrypt's "
						   "(PRIVATE.pem); %s takes none", cmd);
		}
	}
	if (kbs_options_apply(&c, cmd))
		return CCT_EXIT_USAGE;
	/* '-' was a file of that name in the working directory: -o - is standard output (where
	 * the secret goes without -o); the token has no stream of its own */
	if (c.out && !strcmp(c.out, "-"))
		c.out = NULL;
	if (c.token_out && !strcmp(c.token_out, "-"))
		return cct_cli_usage_error("--token-out -: standard output carries the secret; give "
					   "a file");
	/* the roles a broker knows (Trustee's claim, case-insensitive there too): another was
	 * sent in a signed token only to be refused, as an admin auth failure in its audit log */
	if (c.role && strcasecmp(c.role, "admin") && strcasecmp(c.role, "auditor"))
		return cct_cli_usage_error("--role: admin or auditor, got '%.64s'", c.role);
	if (!strcmp(cmd, "decrypt")) {
		if (argc != 1)
			return cct_cli_usage_error("decrypt --key PRIVATE.pem JWE_FILE");
		return decrypt(&c, argv[0]);
	}
	if (!strcmp(cmd, "verify-bench"))
		return verify_bench(&c, argc, argv);
	if (!strcmp(cmd, "admin-keygen")) {
		if (argc != 2)
			return cct_cli_usage_error("admin-keygen [--force] PRIVATE.pem PUBLIC.pem");
		return admin_keygen(argv[0], argv[1], c.force);
	}
	if (!strcmp(cmd, "get-resource") || !strcmp(cmd, "bench")) {
		if (need(&c, 0))
			return CCT_EXIT_USAGE;
		if (argc != 1)
			return cct_cli_usage_error("%s needs REPO/TYPE/TAG", cmd);
		if (resource_arg(cmd, argv[0]))
			return CCT_EXIT_USAGE;
		/* one file for both: the secret replaced the token, which was lost with exit 0 */
		if (c.out && c.token_out && cct_cli_same_output(c.out, c.token_out))
			return cct_cli_usage_error("-o %s and --token-out %s are the same file: the "
						   "secret would replace the token", c.out,
						   c.token_out);
		return !strcmp(cmd, "bench") ? bench(&c, argv[0]) : get_resource(&c, argv[0]);
	}
	if (need(&c, 1))
		return CCT_EXIT_USAGE;
	if (!strcmp(cmd, "put-resource") || !strcmp(cmd, "delete-resource")) {
		char path[512];
		uint8_t *b = NULL;
		size_t n = 0;
		int ex;

		if (argc != (!strcmp(cmd, "put-resource") ? 2 : 1))
			return cct_cli_usage_error("%s REPO/TYPE/TAG%s", cmd,
						   argc && !strcmp(cmd, "put-resource") ? " FILE" : "");
		if (resource_arg(cmd, argv[0]))
			return CCT_EXIT_USAGE;
		snprintf(path, sizeof(path), "/kbs/v0/resource/%.400s", argv[0]);
		if (!strcmp(cmd, "delete-resource"))
			return admin_call(&c, "DELETE", path, NULL, 0);
		if (read_file(&b, &n, argv[1]))
			return CCT_EXIT_USAGE;
		ex = admin_call(&c, "POST", path, b, n);
		cct_wipe(b, n);
		free(b);
		return ex;
	}
	if (!strcmp(cmd, "set-policy") || !strcmp(cmd, "set-attestation-policy")) {
		uint8_t *b = NULL;
		size_t n = 0;
		char *body = NULL;
		int ex, res = !strcmp(cmd, "set-policy");

		if (argc != 1)
			return cct_cli_usage_error("%s POLICY_FILE", cmd);
		if (res && c.resource_target && resource_arg("set-policy --resource",
							     c.resource_target))
			return CCT_EXIT_USAGE;
		if (!res && c.id) { /* as the broker checks it, before any request */
			const char *as;
			int active;
			cct_err ierr;

			if (cct_kbs__att_policy_id(c.id, &as, &active, &ierr) != CCT_OK)
				return cct_cli_usage_error("--id '%.80s': %s", c.id, ierr.msg);
		}
		if (read_file(&b, &n, argv[0]))
			return CCT_EXIT_USAGE;
		if (res) { /* a resource policy as the broker checks it, before any request */
			const char *rego = cct_kbs__rego_detail((const char *)b, 0);
			cct_err perr;

			if (rego || cct_kbs_policy_check((const char *)b, n, &perr) != CCT_OK) {
				cct_cli_usage_error("%s: %s", argv[0], rego ? rego : perr.msg);
				free(b);
				return CCT_EXIT_USAGE;
			}
		}
		if (res)
			b64_policy_body(&body, b, n, "resource", c.resource_target, NULL, NULL);
		else
			b64_policy_body(&body, b, n, "policy_id", c.id ? c.id : "default", "type",
					"json");
		free(b);
		if (!body)
			return CCT_EXIT_USAGE;
		ex = admin_call(&c, "POST", res ? "/kbs/v0/resource-policy"
					       : "/kbs/v0/attestation-policy",
				(uint8_t *)body, strlen(body));
		free(body);
		return ex;
	}
	if (!strcmp(cmd, "set-reference-value")) {
		uint8_t *b = NULL;
		size_t n = 0;
		json_t *vals, *j;
		char *body;
		int ex;

		if (argc != 2)
			return cct_cli_usage_error("set-reference-value NAME VALUES.json");
		if (read_file(&b, &n, argv[1]))
			return CCT_EXIT_USAGE;
		vals = json_loadb((const char *)b, n, 0, NULL);
		free(b);
		if (!json_is_array(vals)) {
			json_decref(vals);
			return cct_cli_usage_error("%s must hold a JSON array", argv[1]);
		}
		j = json_pack("{s:s,s:o}", "name", argv[0], "values", vals);
		{ /* NAME and the values as the broker checks them, before any request */
			json_t *parsed = NULL;
			cct_err rerr;

			if (j && cct_kbs__rvps_parse(&parsed, j, &rerr) != CCT_OK) {
				json_decref(j);
				return cct_cli_usage_error("set-reference-value: %s", rerr.msg);
			}
			json_decref(parsed);
		}
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!body)
			return CCT_EXIT_USAGE;
		ex = admin_call(&c, "POST", "/kbs/v0/reference-value", (uint8_t *)body, strlen(body));
		free(body);
		return ex;
	}
	/* the read-only commands take no operand: one given would be ignored */
	if ((!strcmp(cmd, "audit") || !strcmp(cmd, "list-resources")) && argc != 0)
		return cct_cli_usage_error("kbs %s takes no operand, got '%.100s'%s", cmd, argv[0],
					   !strcmp(cmd, "audit") ? " (--after N, --limit N)" : "");
	if (!strcmp(cmd, "audit")) {
		char path[128];

		snprintf(path, sizeof(path), "/kbs/v0/audit?after=%ld&limit=%ld", c.after, c.limit);
		if (!c.role)
			c.role = "auditor";
		return admin_call(&c, "GET", path, NULL, 0);
	}
	if (!strcmp(cmd, "list-resources"))
		return admin_call(&c, "GET", "/kbs/v0/admin/resources", NULL, 0);
	return unknown_kbs_cmd(cmd);
}
