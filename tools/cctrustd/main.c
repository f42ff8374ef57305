/* cctrustd: the key broker and attestation service daemon. HTTP/1.1 over libmicrohttpd (TLS
 * with a configured certificate; plain HTTP only on loopback unless --insecure-http) in front
 * of the transport-free handler cct_kbs_handle(). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cctrust/core.h"
#include "cctrustd.h"

#define DEFAULT_THREADS 4
#define CONN_LIMIT 1024
#define CONN_TIMEOUT_S 30
#define CONN_MEMORY (4 * CCT_KBS_MAX_HEADER)
#define CONFIG_MAX_LINES 64
#define GC_INTERVAL_S 30

typedef struct opts {
	const char *store, *listen, *tls_cert, *tls_key, *admin_pubkey, *trust_sim, *policy;
	const char *master_key, *ca_cert, *ca_key, *port_file, *config;
	const char *collateral, *certs, *token_key, *token_cert, *admin_audience;
	int insecure_http, session_ttl, cert_ttl, threads, offline, token_ttl, admin_require_jti;
	long long admin_max_lifetime;
} opts;

typedef struct conn {
	uint8_t *body;
	size_t len;
	int too_big;
} conn;

static cct_kbs_server *g_srv;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_json(void *ctx, const char *line)
{
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

static void logf_(const char *level, const char *fmt, ...)
{
	char msg[512], ts[32];
	va_list ap;
	json_t *j;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cct_time_format(ts, sizeof(ts), time(NULL));
	j = json_pack("{s:s,s:s,s:s}", "time", ts, "level", level, "msg", msg);
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (line)
		log_json(NULL, line);
	free(line);
	json_decref(j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cctrustd --store sqlite:PATH|postgres://... --listen ADDR:PORT\n"
		"                [--tls-cert F --tls-key F] [--insecure-http] --admin-pubkey FILE\n"
		"                [--trust-sim DIR] [--policy FILE] [--master-key FILE]\n"
		"                [--collateral DIR] [--offline] [--certs PATH]\n"
		"                [--token-key FILE] [--token-ttl S] [--token-cert FILE]\n"
		"                [--admin-max-token-lifetime S] [--admin-audience AUD]\n"
		"                [--admin-require-jti]\n"
		"                [--session-ttl S] [--cert-ttl S]\n"
		"                [--ca-cert F --ca-key F] [--threads N] [--port-file F] [--config F]\n"
		"Key broker and attestation service (KBS protocol 0.4.0). See cctrustd(8).\n");
}

static void wipe_free(void *p)
{
	if (p) {
		cct_wipe(p, strlen(p));
		free(p);
	}
}

static enum MHD_Result send_resp(struct MHD_Connection *c, cct_kbs_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = r->body ? r->body : strdup("");

	if (!body)
		return MHD_NO;
	/* the body may be a JWE: MHD keeps our buffer and wipes it through wipe_free */
	resp = MHD_create_response_from_buffer_with_free_callback(r->body ? r->body_len : 0, body,
								  wipe_free);
	if (!resp) {
		wipe_free(body);
		r->body = NULL;
		return MHD_NO;
	}
	r->body = NULL;
	r->body_len = 0;
	MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type
								       : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->set_cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	cct_wipe(r->set_cookie, sizeof(r->set_cookie));
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	conn *cn = *con_cls;
	cct_kbs_request req;
	cct_kbs_response resp;
	char query[128] = "", peer[64] = "";
	const char *after, *limit;
	const union MHD_ConnectionInfo *ci;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!cn) {
		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && *upload_size <= CCT_KBS_MAX_BODY - cn->len) {
			uint8_t *nb = realloc(cn->body, cn->len + *upload_size + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + cn->len, upload, *upload_size);
			cn->body = nb;
			cn->len += *upload_size;
			cn->body[cn->len] = 0;
		} else {
			cn->too_big = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id");
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	if (after || limit) {
		snprintf(query, sizeof(query), "after=%.20s&limit=%.10s", after ? after : "0",
			 limit ? limit : "100");
		req.query = query;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer,
				  sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer,
				  sizeof(peer));
		req.peer = peer;
	}
	req.body = cn->body;
	req.body_len = cn->too_big ? (size_t)CCT_KBS_MAX_BODY + 1 : cn->len;
	cct_kbs_handle(g_srv, &req, &resp);
	ret = send_resp(c, &resp);
	cct_kbs_response_clear(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!cn)
		return;
	if (cn->body) {
		cct_wipe(cn->body, cn->len);
		free(cn->body);
	}
	free(cn);
	*con_cls = NULL;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, int *loopback)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		*len = sizeof(*a);
	}
	return 0;
}

static char *read_text(const char *path, cct_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;

	if (cct_file_read(&b, &n, path, 1u << 20, err) != CCT_OK)
		return NULL;
	return (char *)b;
}

/* Config file: "key = value" lines, keys are the long option names; flags win. */
static int load_config(opts *o, const char *path, char **store_lines)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	if (!f) {
		logf_("error", "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) && n < CONFIG_MAX_LINES) {
		char *k = line, *v, *e;

		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\n' || !*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			fclose(f);
			logf_("error", "config %s: line without '=': %.60s", path, k);
			return -1;
		}
		*v++ = 0;
		for (e = v + strlen(v); e > v && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\r'); e--)
			;
		*e = 0;
		while (*v == ' ')
			v++;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		store_lines[n] = strdup(v);
		if (!store_lines[n])
			break;
		v = store_lines[n++];
#define CFG(name, field) else if (!strcmp(k, name)) { if (!o->field) o->field = v; }
		if (0) {
		}
		CFG("store", store) CFG("listen", listen) CFG("tls-cert", tls_cert)
		CFG("tls-key", tls_key) CFG("admin-pubkey", admin_pubkey) CFG("trust-sim", trust_sim)
		CFG("policy", policy) CFG("master-key", master_key)
		CFG("ca-cert", ca_cert) CFG("ca-key", ca_key)
		CFG("collateral", collateral) CFG("certs", certs) CFG("token-key", token_key)
		CFG("token-cert", token_cert) CFG("admin-audience", admin_audience)
		else if (!strcmp(k, "admin-max-token-lifetime") && !o->admin_max_lifetime)
			o->admin_max_lifetime = atoll(v);
		else if (!strcmp(k, "admin-require-jti")) o->admin_require_jti |= !strcmp(v, "true");
		else if (!strcmp(k, "token-ttl") && !o->token_ttl) o->token_ttl = atoi(v);
		else if (!strcmp(k, "offline")) o->offline |= !strcmp(v, "true");
		else if (!strcmp(k, "session-ttl") && !o->session_ttl) o->session_ttl = atoi(v);
		else if (!strcmp(k, "cert-ttl") && !o->cert_ttl) o->cert_ttl = atoi(v);
		else if (!strcmp(k, "threads") && !o->threads) o->threads = atoi(v);
		else if (!strcmp(k, "insecure-http")) o->insecure_http |= !strcmp(v, "true");
		else {
			fclose(f);
			logf_("error", "config %s: unknown key %.60s", path, k);
			return -1;
		}
#undef CFG
	}
	fclose(f);
	return 0;
}

/* Master key: --master-key FILE, else $CCTRUSTD_MASTER_KEY, else (SQLite only) PATH.key
 * created 0600 next to the database on first start. */
static int master_key(uint8_t key[32], const opts *o, cct_err *err)
{
	char p[4096];
	struct stat st;

	if (o->master_key)
		return cct_store_master_key_load(key, o->master_key, NULL, err);
	if (getenv("CCTRUSTD_MASTER_KEY"))
		return cct_store_master_key_load(key, NULL, "CCTRUSTD_MASTER_KEY", err);
	if (strncmp(o->store, "sqlite:", 7) || !strcmp(o->store + 7, ":memory:")) {
		if (!strncmp(o->store, "sqlite:", 7)) {
			FILE *r = fopen("/dev/urandom", "rb");
			int ok = r && fread(key, 1, 32, r) == 32;

			if (r)
				fclose(r);
			return ok ? CCT_OK : cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "no urandom");
		}
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "a shared store needs --master-key FILE or CCTRUSTD_MASTER_KEY");
	}
	snprintf(p, sizeof(p), "%s.key", o->store + 7);
	if (stat(p, &st) != 0) {
		FILE *r = fopen("/dev/urandom", "rb");
		uint8_t k[32];
		int ok = r && fread(k, 1, 32, r) == 32;
		int rc;

		if (r)
			fclose(r);
		if (!ok)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "no urandom");
		rc = cct_file_write(p, k, 32, 1, err);
		cct_wipe(k, sizeof(k));
		if (rc != CCT_OK)
			return rc;
		logf_("warning", "created master key %s (keep it apart from the database in "
				 "production: --master-key)", p);
	}
	return cct_store_master_key_load(key, p, NULL, err);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "store", 1, 0, 's' }, { "listen", 1, 0, 'l' }, { "tls-cert", 1, 0, 'c' },
		{ "tls-key", 1, 0, 'k' }, { "insecure-http", 0, 0, 'I' },
		{ "admin-pubkey", 1, 0, 'a' }, { "trust-sim", 1, 0, 'T' }, { "policy", 1, 0, 'p' },
		{ "master-key", 1, 0, 'm' },
		{ "session-ttl", 1, 0, 't' }, { "cert-ttl", 1, 0, 'e' }, { "ca-cert", 1, 0, 'C' },
		{ "ca-key", 1, 0, 'K' }, { "threads", 1, 0, 'n' }, { "port-file", 1, 0, 'P' },
		{ "config", 1, 0, 'f' }, { "collateral", 1, 0, 'D' }, { "offline", 0, 0, 'O' },
		{ "certs", 1, 0, 'X' }, { "token-key", 1, 0, 'y' }, { "token-ttl", 1, 0, 'Y' },
		{ "token-cert", 1, 0, 'Z' }, { "admin-max-token-lifetime", 1, 0, 'L' },
		{ "admin-audience", 1, 0, 'U' }, { "admin-require-jti", 0, 0, 'J' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	opts o;
	char *cfg_lines[CONFIG_MAX_LINES] = { 0 };
	int ch, rc = 2, loopback = 0, i, sig;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	cct_err err;
	uint8_t key[32];
	cct_store *store = NULL;
	cct_kbs_verifier *ver = NULL;
	cct_kbs_config cfg;
	char *admin_pem = NULL, *policy = NULL, *tls_cert = NULL, *tls_key = NULL;
	char *ca_cert = NULL, *ca_key = NULL, *token_cert = NULL;
	struct MHD_Daemon *d = NULL;
	unsigned int flags;
	sigset_t set;

	memset(&o, 0, sizeof(o));
	memset(&cfg, 0, sizeof(cfg));
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o.store = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'c': o.tls_cert = optarg; break;
		case 'k': o.tls_key = optarg; break;
		case 'I': o.insecure_http = 1; break;
		case 'a': o.admin_pubkey = optarg; break;
		case 'T': o.trust_sim = optarg; break;
		case 'p': o.policy = optarg; break;
		case 'm': o.master_key = optarg; break;
		case 't': o.session_ttl = atoi(optarg); break;
		case 'e': o.cert_ttl = atoi(optarg); break;
		case 'C': o.ca_cert = optarg; break;
		case 'K': o.ca_key = optarg; break;
		case 'n': o.threads = atoi(optarg); break;
		case 'P': o.port_file = optarg; break;
		case 'f': o.config = optarg; break;
		case 'D': o.collateral = optarg; break;
		case 'O': o.offline = 1; break;
		case 'X': o.certs = optarg; break;
		case 'y': o.token_key = optarg; break;
		case 'Y': o.token_ttl = atoi(optarg); break;
		case 'Z': o.token_cert = optarg; break;
		case 'L': {
			char *e = NULL;

			o.admin_max_lifetime = strtoll(optarg, &e, 10);
			if (!e || *e || o.admin_max_lifetime <= 0) {
				fprintf(stderr, "cctrustd: --admin-max-token-lifetime: seconds > 0\n");
				return 2;
			}
			break;
		}
		case 'U': o.admin_audience = optarg; break;
		case 'J': o.admin_require_jti = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.config && load_config(&o, o.config, cfg_lines) != 0)
		goto out;
	if (!o.store || !o.listen || !o.admin_pubkey) {
		usage(stderr);
		goto out;
	}
	if (!!o.tls_cert != !!o.tls_key || !!o.ca_cert != !!o.ca_key) {
		logf_("error", "--tls-cert/--tls-key and --ca-cert/--ca-key go in pairs");
		goto out;
	}
	if (parse_listen(o.listen, &ss, &sslen, &loopback) != 0) {
		logf_("error", "--listen must be IPv4:PORT or [IPv6]:PORT, got %s", o.listen);
		goto out;
	}
	if (!o.tls_cert && !loopback && !o.insecure_http) {
		logf_("error", "refusing plain HTTP on non-loopback %s: give --tls-cert/--tls-key "
			       "(or --insecure-http for development)", o.listen);
		goto out;
	}
	if (o.tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		logf_("error", "this libmicrohttpd has no TLS support");
		goto out;
	}
	if (cct_store_postgres_register() == 0 && strncmp(o.store, "sqlite:", 7))
		logf_("warning", "this cctrustd has no PostgreSQL support (built without libpq)");
	if (master_key(key, &o, &err) != CCT_OK) {
		logf_("error", "master key: %s", err.msg);
		goto out;
	}
	rc = cct_store_open(&store, o.store, key, &err);
	cct_wipe(key, sizeof(key));
	if (rc != CCT_OK) {
		logf_("error", "store %s: %s", strncmp(o.store, "sqlite:", 7) ? "(postgres)" : o.store,
		      err.msg);
		rc = 2;
		goto out;
	}
	rc = 2;
	if (!(admin_pem = read_text(o.admin_pubkey, &err)) ||
	    (o.policy && !(policy = read_text(o.policy, &err))) ||
	    (o.tls_cert && (!(tls_cert = read_text(o.tls_cert, &err)) ||
			    !(tls_key = read_text(o.tls_key, &err)))) ||
	    (o.token_cert && !(token_cert = read_text(o.token_cert, &err))) ||
	    (o.ca_cert && (!(ca_cert = read_text(o.ca_cert, &err)) ||
			   !(ca_key = read_text(o.ca_key, &err))))) {
		logf_("error", "%s", err.msg);
		goto out;
	}
	{
		cctrustd_verifier_opts vo;
		const char *key_src = "";

		memset(&vo, 0, sizeof(vo));
		vo.trust_sim_dir = o.trust_sim;
		vo.policy_text = policy;
		vo.collateral_dir = o.collateral;
		vo.offline = o.offline;
		vo.certs_path = o.certs;
		vo.token_key_path = o.token_key;
		vo.token_ttl_s = o.token_ttl;
		vo.token_cert_pem = token_cert;
		if (cctrustd_composite_verifier_new(&ver, &vo, store, &key_src, &err) != CCT_OK) {
			logf_("error", "attestation service: %s%s%s", o.policy ? o.policy : "",
			      o.policy ? ": " : "", err.msg);
			goto out;
		}
		logf_("info", "attestation service: composite verifier (policy %s, EAR key from %s%s%s)",
		      o.policy ? o.policy : "built-in default", key_src,
		      o.collateral ? ", collateral " : "", o.collateral ? o.collateral : "");
		if (o.trust_sim)
			logf_("warning", "SIMULATED TEE trusted (--trust-sim %s): test roots are "
					 "accepted; results and tokens are marked simulated", o.trust_sim);
	}
	cfg.store = store;
	cfg.verifier = ver;
	cfg.admin_pubkey_pem = admin_pem;
	cfg.attestation_policy = policy;
	cfg.session_ttl_s = o.session_ttl;
	cfg.cert_ttl_s = o.cert_ttl;
	cfg.ca_cert_pem = ca_cert;
	cfg.ca_key_pem = ca_key;
	cfg.secure_cookie = o.tls_cert != NULL;
	cfg.log = log_json;
	cfg.admin_max_token_lifetime_s = o.admin_max_lifetime;
	cfg.admin_audience = o.admin_audience;
	cfg.admin_require_jti = o.admin_require_jti;
	if (cct_kbs_server_new(&g_srv, &cfg, &err) != CCT_OK) {
		logf_("error", "%s", err.msg);
		goto out;
	}
	/* signals are taken synchronously by the main thread */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls_cert)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o.threads > 0 ? o.threads : DEFAULT_THREADS),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		/* headers must fit: a Bearer EAR with GPU claims is tens of KiB (Trustee's too) */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_cert,
		MHD_OPTION_HTTPS_MEM_KEY, tls_key, MHD_OPTION_END);
	if (!d) {
		logf_("error", "cannot listen on %s: %s", o.listen, strerror(errno));
		goto out;
	}
	{
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		unsigned port = di ? di->port : 0;

		logf_("info", "cctrustd %s listening on %s (port %u, %s, store %s)", cct_version(),
		      o.listen, port, tls_cert ? "TLS" : "plain HTTP", strncmp(o.store, "sqlite:", 7) ? "postgres" : "sqlite");
		if (o.port_file) {
			char pbuf[16];

			snprintf(pbuf, sizeof(pbuf), "%u\n", port);
			if (cct_file_write(o.port_file, pbuf, strlen(pbuf), 0, &err) != CCT_OK)
				logf_("error", "%s", err.msg);
		}
	}
	for (;;) {
		struct timespec to = { GC_INTERVAL_S, 0 };
		void *impl;
		const cct_store_ops *ops;

		sig = sigtimedwait(&set, NULL, &to);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		ops = cct_store_backend(store, &impl);
		if (ops->session_gc(impl, (int64_t)time(NULL) - 60, &err) != CCT_OK)
			logf_("warning", "session gc: %s", err.msg);
	}
	logf_("info", "cctrustd stopping");
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	cct_kbs_server_free(g_srv);
	cct_kbs_verifier_free(ver);
	cct_store_free(store);
	free(admin_pem);
	free(policy);
	free(tls_cert);
	if (tls_key) {
		cct_wipe(tls_key, strlen(tls_key));
		free(tls_key);
	}
	free(ca_cert);
	free(token_cert);
	if (ca_key) {
		cct_wipe(ca_key, strlen(ca_key));
		free(ca_key);
	}
	for (i = 0; i < CONFIG_MAX_LINES; i++)
		free(cfg_lines[i]);
	return rc;
}
