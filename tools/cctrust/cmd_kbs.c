/* cctrust kbs: the key broker's guest client (get-resource) and admin client (put-resource,
 * set-policy, audit, ...), plus helpers for tests and demos (admin-keygen, sample-init, bench). */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/kbs.h"
#include "cli.h"
#include "kbs/jose.h"

#define BENCH_MAX_FLOWS 100000
#define BENCH_MAX_THREADS 64

/* Evidence sources of the guest client. Seams: the simulated TEE (`--sim DIR`, issue 5's
 * `cctrust sim`) and the hardware attester (src/attester) plug in here. */
typedef struct sim_ctx {
	const char *dir;
	int gpus;
} sim_ctx;

static int sim_evidence(void *ctx, char **body_out, const char *tee, const char *nonce_b64,
			const char *tee_pubkey_jwk, cct_err *err)
{
	(void)ctx; (void)tee; (void)nonce_b64; (void)tee_pubkey_jwk;
	*body_out = NULL;
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
			   "the simulated TEE (--sim) is not in this build");
}

static const cct_kbs_evidence_fn hardware_evidence = cct_kbs_evidence_none;

typedef struct common {
	cct_kbs_client_opts o;
	const char *admin_key, *out, *sample_dir, *resource_target, *id, *role;
	sim_ctx sim;
	long after, limit, flows, threads;
} common;

static const struct option lopts[] = {
	{ "url", 1, 0, 'u' }, { "admin-key", 1, 0, 'a' }, { "output", 1, 0, 'o' },
	{ "cacert", 1, 0, 'c' }, { "tee", 1, 0, 't' }, { "sim", 1, 0, 's' },
	{ "gpus", 1, 0, 'g' }, { "insecure-sample-attester", 1, 0, 'S' }, { "key", 1, 0, 'k' },
	{ "resource", 1, 0, 'r' }, { "id", 1, 0, 'i' }, { "after", 1, 0, 'A' },
	{ "limit", 1, 0, 'L' }, { "flows", 1, 0, 'n' }, { "threads", 1, 0, 'j' },
	{ "role", 1, 0, 'R' }, { "timeout", 1, 0, 'T' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cctrust kbs <command> [options]\n"
		"guest:\n"
		"  get-resource --url URL REPO/TYPE/TAG [-o FILE] [--cacert PEM]\n"
		"               [--tee snp|tdx|sample] [--sim DIR --gpus N]\n"
		"               [--insecure-sample-attester DIR] [--key ec|rsa]\n"
		"admin (Ed25519 admin key, PEM):\n"
		"  put-resource    --url URL --admin-key FILE REPO/TYPE/TAG FILE\n"
		"  delete-resource --url URL --admin-key FILE REPO/TYPE/TAG\n"
		"  set-policy      --url URL --admin-key FILE [--resource REPO/TYPE/TAG] POLICY.json\n"
		"  set-attestation-policy --url URL --admin-key FILE [--id ID] POLICY\n"
		"  set-reference-value --url URL --admin-key FILE NAME VALUES.json\n"
		"  audit           --url URL --admin-key FILE [--after N] [--limit N] [--role auditor]\n"
		"  list-resources  --url URL --admin-key FILE\n"
		"tools:\n"
		"  admin-keygen PRIVATE.pem PUBLIC.pem\n"
		"  sample-init DIR              (INSECURE software TEE for tests and demos)\n"
		"  sample-evidence DIR NONCE_B64 TEE_PUBKEY_JWK   (attest body of the sample TEE)\n"
		"  bench --url URL --insecure-sample-attester DIR [--flows N] [--threads N] RESOURCE\n"
		"exit status: 0 ok, 1 refused by the broker (RFC 7807 reason printed), 2 usage/input\n");
}

static int parse(common *c, int argc, char **argv)
{
	int ch;

	memset(c, 0, sizeof(*c));
	c->limit = 100;
	c->flows = 200;
	c->threads = 4;
	c->o.tee = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'u': c->o.url = optarg; break;
		case 'a': c->admin_key = optarg; break;
		case 'o': c->out = optarg; break;
		case 'c': c->o.cacert = optarg; break;
		case 't': c->o.tee = optarg; break;
		case 's': c->sim.dir = optarg; break;
		case 'g': c->sim.gpus = atoi(optarg); break;
		case 'S': c->sample_dir = optarg; break;
		case 'k': c->o.key_kind = !strcmp(optarg, "rsa") ? "RSA" : "P-256"; break;
		case 'r': c->resource_target = optarg; break;
		case 'i': c->id = optarg; break;
		case 'A': c->after = atol(optarg); break;
		case 'L': c->limit = atol(optarg); break;
		case 'n': c->flows = atol(optarg); break;
		case 'j': c->threads = atol(optarg); break;
		case 'R': c->role = optarg; break;
		case 'T': c->o.timeout_s = atol(optarg); break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (c->sample_dir) {
		c->o.evidence = cct_kbs_evidence_sample;
		c->o.evidence_ctx = (void *)c->sample_dir;
		if (!c->o.tee)
			c->o.tee = "sample";
	} else if (c->sim.dir) {
		c->o.evidence = sim_evidence;
		c->o.evidence_ctx = &c->sim;
	} else {
		c->o.evidence = hardware_evidence;
	}
	if (!c->o.tee)
		c->o.tee = "snp";
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

typedef struct bench_state {
	const common *c;
	const char *res;
	long next, done, failures;
	double *lat;
	pthread_mutex_t lock;
} bench_state;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_worker(void *arg)
{
	bench_state *b = arg;

	for (;;) {
		long i;
		double t0;
		uint8_t *s = NULL;
		size_t n = 0;
		int rc;

		pthread_mutex_lock(&b->lock);
		i = b->next < b->c->flows ? b->next++ : -1;
		pthread_mutex_unlock(&b->lock);
		if (i < 0)
			break;
		t0 = now_s();
		rc = cct_kbs_client_get_resource(&s, &n, &b->c->o, b->res, NULL, NULL);
		b->lat[i] = now_s() - t0;
		if (s) {
			cct_wipe(s, n);
			free(s);
		}
		if (rc != CCT_OK) {
			pthread_mutex_lock(&b->lock);
			b->failures++;
			pthread_mutex_unlock(&b->lock);
		}
	}
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(common *c, const char *res)
{
	bench_state b;
	pthread_t th[BENCH_MAX_THREADS];
	long i, nt = c->threads;
	double t0, el;

	if (c->flows < 1 || c->flows > BENCH_MAX_FLOWS || nt < 1 || nt > BENCH_MAX_THREADS)
		return cct_cli_usage_error("--flows 1..%d, --threads 1..%d", BENCH_MAX_FLOWS,
					   BENCH_MAX_THREADS);
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.res = res;
	b.lat = calloc((size_t)c->flows, sizeof(double));
	if (!b.lat)
		return CCT_EXIT_USAGE;
	pthread_mutex_init(&b.lock, NULL);
	t0 = now_s();
	for (i = 0; i < nt; i++)
		pthread_create(&th[i], NULL, bench_worker, &b);
	for (i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	el = now_s() - t0;
	qsort(b.lat, (size_t)c->flows, sizeof(double), cmp_d);
	printf("{\"flows\":%ld,\"threads\":%ld,\"failures\":%ld,\"seconds\":%.3f,"
	       "\"flows_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
	       c->flows, nt, b.failures, el, (double)c->flows / el,
	       b.lat[(c->flows - 1) / 2] * 1e3, b.lat[(c->flows * 99 - 1) / 100] * 1e3);
	free(b.lat);
	pthread_mutex_destroy(&b.lock);
	return b.failures ? CCT_EXIT_REJECT : CCT_EXIT_OK;
}

static int get_resource(common *c, const char *res)
{
	cct_err err;
	uint8_t *secret = NULL;
	size_t n = 0;
	char *problem = NULL;
	int rc = cct_kbs_client_get_resource(&secret, &n, &c->o, res, &problem, &err), ex;
	int had_problem;

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
		return ex;
	}
	had_problem = problem != NULL;
	if (problem) {
		printf("%s\n", problem);
		free(problem);
	}
	fprintf(stderr, "cctrust: %s\n", err.msg);
	/* refused by the broker or a JWE not for our key: 1; cannot run at all: 2 */
	return rc == CCT_ENETWORK || rc == CCT_EUNSUPPORTED || (rc == CCT_EINVAL && !had_problem)
		       ? CCT_EXIT_USAGE
		       : CCT_EXIT_REJECT;
}

int cct_cmd_kbs(int argc, char **argv)
{
	common c;
	const char *cmd;
	int pr;
	cct_err err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	cmd = argv[1];
	pr = parse(&c, argc - 1, argv + 1);
	if (pr)
		return pr > 0 ? 0 : CCT_EXIT_USAGE;
	argc -= optind + 1;
	argv += optind + 1;
	if (!strcmp(cmd, "sample-evidence")) {
		char *body = NULL;

		if (argc != 3)
			return cct_cli_usage_error("sample-evidence DIR NONCE_B64 TEE_PUBKEY_JWK");
		if (cct_kbs_sample_evidence(&body, argv[0], argv[1], argv[2], NULL, 1, &err) != CCT_OK) {
			fprintf(stderr, "cctrust: %s\n", err.msg);
			return CCT_EXIT_USAGE;
		}
		printf("%s\n", body);
		free(body);
		return 0;
	}
	if (!strcmp(cmd, "admin-keygen") || !strcmp(cmd, "sample-init")) {
		if (!strcmp(cmd, "sample-init")) {
			if (argc != 1)
				return cct_cli_usage_error("sample-init DIR");
			if (cct_kbs_sample_init(argv[0], &err) != CCT_OK) {
				fprintf(stderr, "cctrust: %s\n", err.msg);
				return CCT_EXIT_USAGE;
			}
			fprintf(stderr, "cctrust: INSECURE sample TEE keys written to %s\n", argv[0]);
			return 0;
		} else {
			EVP_PKEY *k;
			int rc;

			if (argc != 2)
				return cct_cli_usage_error("admin-keygen PRIVATE.pem PUBLIC.pem");
			k = cct_jose_keygen("Ed25519");
			rc = k && cct_jose_pem_write(argv[0], k, 1, &err) == CCT_OK &&
			     cct_jose_pem_write(argv[1], k, 0, &err) == CCT_OK;
			EVP_PKEY_free(k);
			if (!rc) {
				fprintf(stderr, "cctrust: cannot write admin keys\n");
				return CCT_EXIT_USAGE;
			}
			return 0;
		}
	}
	if (!strcmp(cmd, "get-resource") || !strcmp(cmd, "bench")) {
		if (need(&c, 0))
			return CCT_EXIT_USAGE;
		if (argc != 1)
			return cct_cli_usage_error("%s needs REPO/TYPE/TAG", cmd);
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
		if (read_file(&b, &n, argv[0]))
			return CCT_EXIT_USAGE;
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
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!body)
			return CCT_EXIT_USAGE;
		ex = admin_call(&c, "POST", "/kbs/v0/reference-value", (uint8_t *)body, strlen(body));
		free(body);
		return ex;
	}
	if (!strcmp(cmd, "audit")) {
		char path[128];

		snprintf(path, sizeof(path), "/kbs/v0/audit?after=%ld&limit=%ld", c.after, c.limit);
		if (!c.role)
			c.role = "auditor";
		return admin_call(&c, "GET", path, NULL, 0);
	}
	if (!strcmp(cmd, "list-resources"))
		return admin_call(&c, "GET", "/kbs/v0/admin/resources", NULL, 0);
	return cct_cli_usage_error("unknown kbs command '%s' (cctrust kbs --help)", cmd);
}
