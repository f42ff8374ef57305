/* The simulated TEE (`cctrust sim`): a directory with an AMD-shaped SNP PKI (sim_snp), an
 * Intel-shaped TDX DCAP PKI with collateral (sim_tdx), NVIDIA-shaped GPUs with signed RIMs and
 * OCSP responses (sim_gpu), the verifier's token signing key and the simulated guest's launch
 * measurements; evidence in the real formats, bound to the request exactly as a real guest binds
 * it.
 *
 * DIR/snp/{ark,ask,vcek}.{pem,key} info.json crl.pem   simulated AMD platform
 * DIR/tdx/  root_ca.pem collateral.json pcs/ ...       simulated Intel platform (sim_tdx.h)
 * DIR/gpu/  device-root.pem rim-root.pem rims/ ocsp/   simulated NVIDIA GPUs (sim_gpu.h)
 * DIR/token.key                                        verifier's EAR signing key (P-256)
 * DIR/sim.json                                         {"simulated":true,"measurement":hex,
 *                                                       "tdx":{"mrtd":hex,"rtmr":[4 hex]},..} */
#define _GNU_SOURCE /* struct stat st_mtim */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>
#include <openssl/x509.h>

#include "attester/internal.h"
#include "cctrust/sim.h"
#include "sim/sim_gpu.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "sim/sim_vtpm.h"
#include "cctrust/core.h"
#include "cctrust/token.h"
#include "x509/vcache.h"

/* ---- simulated platforms loaded once per process ----
 * Loading a simulated platform parses its private keys (RSA/EC PEM), which costs more than the
 * evidence it then signs; load tests call these per flow. A loaded platform is kept in the
 * shared cache (x509/vcache) under its directory's identity and modification time (every save
 * goes through rename, which changes the directory's mtime), and used read-only. */
typedef int (*sim_loader)(void **out, const char *dir, cct_err *err);

static int load_snp(void **out, const char *dir, cct_err *err)
{
	return cct_sim_snp_load((cct_sim_snp **)out, dir, err);
}

static int load_gpu(void **out, const char *dir, cct_err *err)
{
	return cct_sim_gpu_load((cct_sim_gpu **)out, dir, err);
}

static void free_snp(void *p)
{
	cct_sim_snp_free(p);
}

static void free_gpu(void *p)
{
	cct_sim_gpu_free(p);
}

static pthread_mutex_t sim_load_lock = PTHREAD_MUTEX_INITIALIZER;

/* the platform of dir, pinned (release it), or NULL with err set */
static cct_vcache_entry *sim_loaded(const char *kind, const char *dir, sim_loader load,
				    void (*fr)(void *), cct_err *err)
{
	cct_vcache *cache = cct_vcache_shared();
	struct stat st;
	int64_t id[5];
	cct_vcache_part parts[2] = { { dir, strlen(dir) }, { id, sizeof(id) } };
	cct_vcache_entry *e;
	uint8_t key[32];
	void *obj = NULL;

	if (stat(dir, &st) != 0)
		cache = NULL; /* the loader reports the missing directory */
	else {
		id[0] = (int64_t)st.st_dev;
		id[1] = (int64_t)st.st_ino;
		id[2] = (int64_t)st.st_mtim.tv_sec;
		id[3] = (int64_t)st.st_mtim.tv_nsec;
		id[4] = (int64_t)st.st_ctim.tv_nsec;
	}
	if (cache && !cct_vcache_key(key, kind, parts, 2))
		cache = NULL;
	if (cache && (e = cct_vcache_get(cache, key, 0)) != NULL)
		return e;
	/* one loader at a time: threads that missed together (a load generator's clients at
	 * start) wait for the first one's keys instead of each parsing them again */
	pthread_mutex_lock(&sim_load_lock);
	if (cache && (e = cct_vcache_get(cache, key, 0)) != NULL) {
		pthread_mutex_unlock(&sim_load_lock);
		return e;
	}
	if (load(&obj, dir, err) != CCT_OK) {
		pthread_mutex_unlock(&sim_load_lock);
		return NULL;
	}
	e = cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK, NULL,
			   obj, fr);
	pthread_mutex_unlock(&sim_load_lock);
	if (!e)
		cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	return e;
}

/* Fresh simulated OCSP responses in dir, as a responder serves them: rewritten when this process
 * has not written them yet, when anyone else changed the directory since (a revocation, say), or
 * when a quarter of their validity has passed; otherwise the ones written are still current. */
static pthread_mutex_t ocsp_memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char dir[512];
	time_t written;
	struct timespec mtime;
} ocsp_memo[8];

static int sim_gpu_ocsp_fresh(const cct_sim_gpu *g, const char *dir, cct_err *err)
{
	struct stat st;
	time_t now = time(NULL);
	size_t i, slot = 0;
	int rc, fresh = 0;

	pthread_mutex_lock(&ocsp_memo_lock);
	for (i = 0; i < 8; i++)
		if (!strcmp(ocsp_memo[i].dir, dir)) {
			fresh = stat(dir, &st) == 0 &&
				st.st_mtim.tv_sec == ocsp_memo[i].mtime.tv_sec &&
				st.st_mtim.tv_nsec == ocsp_memo[i].mtime.tv_nsec &&
				now - ocsp_memo[i].written < 7 * 86400 / 4 && now >= ocsp_memo[i].written;
			slot = i;
			break;
		}
	if (fresh) {
		pthread_mutex_unlock(&ocsp_memo_lock);
		return CCT_OK;
	}
	rc = cct_sim_gpu_ocsp(g, dir, NULL, err);
	if (rc == CCT_OK && strlen(dir) < sizeof(ocsp_memo[0].dir) && stat(dir, &st) == 0) {
		if (i == 8) /* not memoised yet: take a slot (round robin) */
			for (slot = 0; slot < 7 && ocsp_memo[slot].dir[0]; slot++)
				;
		snprintf(ocsp_memo[slot].dir, sizeof(ocsp_memo[slot].dir), "%s", dir);
		ocsp_memo[slot].written = now;
		ocsp_memo[slot].mtime = st.st_mtim;
	}
	pthread_mutex_unlock(&ocsp_memo_lock);
	return rc;
}

static void path_of(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

uint8_t *cct_attester__cert_table(size_t *n, const char *const *guids, const uint8_t *const *der,
				  const size_t *der_len, size_t count)
{
	size_t hdr = (count + 1) * 24, total = hdr, i, off;
	uint8_t *t;

	for (i = 0; i < count; i++)
		total += der_len[i];
	t = calloc(1, total);
	if (!t)
		return NULL;
	off = hdr;
	for (i = 0; i < count; i++) {
		uint8_t g[16];

		{
			char hex[33];
			size_t k = 0, j;

			for (j = 0; guids[i][j] && k < 32; j++)
				if (guids[i][j] != '-')
					hex[k++] = guids[i][j];
			hex[k] = 0;
			if (cct_hex_decode_fixed(g, 16, hex, NULL) != CCT_OK) {
				free(t);
				return NULL;
			}
		}
		memcpy(t + i * 24, g, 16);
		t[i * 24 + 16] = (uint8_t)off;
		t[i * 24 + 17] = (uint8_t)(off >> 8);
		t[i * 24 + 18] = (uint8_t)(off >> 16);
		t[i * 24 + 19] = (uint8_t)(off >> 24);
		t[i * 24 + 20] = (uint8_t)der_len[i];
		t[i * 24 + 21] = (uint8_t)(der_len[i] >> 8);
		t[i * 24 + 22] = (uint8_t)(der_len[i] >> 16);
		t[i * 24 + 23] = (uint8_t)(der_len[i] >> 24);
		memcpy(t + off, der[i], der_len[i]);
		off += der_len[i];
	}
	*n = total;
	return t;
}

/* Simulated GPUs minted by `sim init` (each costs two P-384 keys; --gpus N takes the first N). */
#define SIM_GPU_DEVICES 8

static void random_hex(char *out, size_t bytes)
{
	uint8_t b[64];

	RAND_bytes(b, (int)bytes);
	cct_hex_encode(out, b, bytes);
}

int cct_sim_init(const char *dir, cct_err *err)
{
	cct_sim_snp_opts so;
	cct_sim_snp *s = NULL;
	cct_sim_tdx *t = NULL;
	cct_sim_gpu_opts go;
	cct_token_signer *signer = NULL;
	char path[4096], *pem = NULL, *crl = NULL, meas[97], mrtd[97], rtmr[4][97], info[1024];
	time_t now = time(NULL);
	int rc = CCT_ERROR, i;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot create %s", dir);
	memset(&so, 0, sizeof(so));
	so.rsa_bits = 2048; /* AMD uses 4096; 2048 keeps `sim init` fast (the shape is the same) */
	so.product = CCT_SNP_PRODUCT_MILAN;
	so.tcb.bootloader = 4;
	so.tcb.tee = 0;
	so.tcb.snp = 22;
	so.tcb.microcode = 213;
	rc = cct_sim_snp_new(&s, &so, err);
	if (rc != CCT_OK)
		goto out;
	path_of(path, sizeof(path), dir, "snp");
	rc = cct_sim_snp_save(s, path, err);
	if (rc != CCT_OK)
		goto out;
	crl = cct_sim_snp_crl_pem(s, NULL, 0, now - 86400, now + 3650L * 86400);
	path_of(path, sizeof(path), dir, "snp/crl.pem");
	if (!crl || (rc = cct_file_write(path, crl, strlen(crl), 0, err)) != CCT_OK) {
		rc = crl ? rc : cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "CRL minting failed");
		goto out;
	}
	/* Intel-shaped TDX platform + collateral in DIR/tdx/ */
	if ((rc = cct_sim_tdx_new(&t, NULL, err)) != CCT_OK ||
	    (rc = cct_sim_tdx_save(t, dir, err)) != CCT_OK)
		goto out;
	/* NVIDIA-shaped GPUs, RIMs and OCSP responses in DIR/gpu/ */
	memset(&go, 0, sizeof(go));
	go.device_count = SIM_GPU_DEVICES;
	path_of(path, sizeof(path), dir, "gpu");
	if ((rc = cct_sim_gpu_init_dir(NULL, path, &go, err)) != CCT_OK)
		goto out;
	rc = cct_token_signer_generate(&signer, err);
	if (rc != CCT_OK)
		goto out;
	pem = cct_token_signer_pem(signer);
	path_of(path, sizeof(path), dir, "token.key");
	if (!pem || (rc = cct_file_write(path, pem, strlen(pem), 1, err)) != CCT_OK) {
		rc = pem ? rc : cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "key export failed");
		goto out;
	}
	random_hex(meas, 48);
	random_hex(mrtd, 48);
	for (i = 0; i < 4; i++)
		random_hex(rtmr[i], 48);
	snprintf(info, sizeof(info),
		 "{\"simulated\":true,\"measurement\":\"%s\",\"tee\":[\"snp\",\"tdx\"],"
		 "\"tdx\":{\"mrtd\":\"%s\",\"rtmr\":[\"%s\",\"%s\",\"%s\",\"%s\"]},"
		 "\"gpus\":%d}\n",
		 meas, mrtd, rtmr[0], rtmr[1], rtmr[2], rtmr[3], SIM_GPU_DEVICES);
	path_of(path, sizeof(path), dir, "sim.json");
	rc = cct_file_write(path, info, strlen(info), 0, err);
out:
	if (pem) {
		cct_wipe(pem, strlen(pem));
		free(pem);
	}
	free(crl);
	cct_token_signer_free(signer);
	cct_sim_tdx_free(t);
	cct_sim_snp_free(s);
	return rc;
}

int cct_sim_jwks(json_t **out, const char *dir, cct_err *err)
{
	char path[4096];
	uint8_t *b = NULL;
	size_t n = 0;
	cct_token_signer *s = NULL;
	int rc;

	*out = NULL;
	path_of(path, sizeof(path), dir, "token.key");
	rc = cct_file_read(&b, &n, path, 1u << 16, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_token_signer_load_pem(&s, b, n, err);
	cct_wipe(b, n);
	free(b);
	if (rc != CCT_OK)
		return rc;
	*out = cct_token_signer_jwks(s);
	cct_token_signer_free(s);
	return CCT_OK;
}

static json_t *bytes_array(const uint8_t *p, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(p[i]));
	return a;
}

static json_t *tcb_obj(const uint8_t *p)
{ /* Milan/Genoa layout (the simulator is Milan) */
	return json_pack("{s:i,s:i,s:i,s:i,s:n}", "bootloader", p[0], "tee", p[1], "snp", p[6],
			 "microcode", p[7], "fmc");
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* virtee sev serde JSON of a report (what Trustee's guest-components send). */
static json_t *serde_report(const uint8_t *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "version", json_integer((json_int_t)le(r, 4)));
	json_object_set_new(o, "guest_svn", json_integer((json_int_t)le(r + 4, 4)));
	json_object_set_new(o, "policy", json_integer((json_int_t)le(r + 8, 8)));
	json_object_set_new(o, "family_id", bytes_array(r + 0x10, 16));
	json_object_set_new(o, "image_id", bytes_array(r + 0x20, 16));
	json_object_set_new(o, "vmpl", json_integer((json_int_t)le(r + 0x30, 4)));
	json_object_set_new(o, "sig_algo", json_integer((json_int_t)le(r + 0x34, 4)));
	json_object_set_new(o, "current_tcb", tcb_obj(r + 0x38));
	json_object_set_new(o, "plat_info", json_integer((json_int_t)le(r + 0x40, 8)));
	json_object_set_new(o, "key_info", json_integer((json_int_t)le(r + 0x48, 4)));
	json_object_set_new(o, "report_data", bytes_array(r + 0x50, 64));
	json_object_set_new(o, "measurement", bytes_array(r + 0x90, 48));
	json_object_set_new(o, "host_data", bytes_array(r + 0xC0, 32));
	json_object_set_new(o, "id_key_digest", bytes_array(r + 0xE0, 48));
	json_object_set_new(o, "author_key_digest", bytes_array(r + 0x110, 48));
	json_object_set_new(o, "report_id", bytes_array(r + 0x140, 32));
	json_object_set_new(o, "report_id_ma", bytes_array(r + 0x160, 32));
	json_object_set_new(o, "reported_tcb", tcb_obj(r + 0x180));
	json_object_set_new(o, "cpuid_fam_id", json_integer(r[0x188]));
	json_object_set_new(o, "cpuid_mod_id", json_integer(r[0x189]));
	json_object_set_new(o, "cpuid_step", json_integer(r[0x18A]));
	json_object_set_new(o, "chip_id", bytes_array(r + 0x1A0, 64));
	json_object_set_new(o, "committed_tcb", tcb_obj(r + 0x1E0));
	json_object_set_new(o, "current", json_pack("{s:i,s:i,s:i}", "build", r[0x1E8], "minor",
						    r[0x1E9], "major", r[0x1EA]));
	json_object_set_new(o, "committed", json_pack("{s:i,s:i,s:i}", "build", r[0x1EC], "minor",
						      r[0x1ED], "major", r[0x1EE]));
	json_object_set_new(o, "launch_tcb", tcb_obj(r + 0x1F0));
	json_object_set_new(o, "signature", json_pack("{s:o,s:o}", "r", bytes_array(r + 0x2A0, 72),
						      "s", bytes_array(r + 0x2E8, 72)));
	return o;
}

static uint8_t *cert_der(X509 *x, size_t *n)
{
	uint8_t *d = NULL;
	int l = i2d_X509(x, &d);

	if (l <= 0)
		return NULL;
	*n = (size_t)l;
	return d;
}

/* Simulated GPUs' evidence bound to the GPU nonce, as the attester records it:
 * {"nvidia":{"device_evidence_list":[..],"cc_mode","ppcie_mode"}} (compact JSON text). */
static int sim_gpus(char **out, const char *dir, const cct_attester_opts *o,
		    const cct_sim_opts *so, cct_err *err)
{
	const cct_sim_gpu *g = NULL;
	cct_vcache_entry *pin = NULL;
	cct_sim_gpu_evidence_opts eo;
	uint8_t nonce[32];
	char path[4096];
	json_t *nv = NULL, *a = NULL;
	int rc;

	*out = NULL;
	if (o->report_data && o->gpu_nonce)
		memcpy(nonce, o->gpu_nonce, 32);
	else if ((rc = cct_attester__gpu_nonce(nonce, o->nonce_b64, o->tee_pubkey, err)) != CCT_OK)
		return rc;
	path_of(path, sizeof(path), dir, "gpu");
	pin = sim_loaded("sim-gpu", path, load_gpu, free_gpu, err);
	g = pin ? cct_vcache_entry_obj(pin) : NULL;
	rc = pin ? CCT_OK : err->code ? err->code : CCT_ERROR;
	if (rc != CCT_OK) {
		cct_err_set(err, rc, CCT_STAGE_INPUT, 0,
			    "%.200s (simulated GPUs missing: run 'cctrust sim init %.200s')", err->msg,
			    dir);
		goto out;
	}
	if ((unsigned)so->gpus > g->device_count) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "--gpus %d: the simulated platform has %u GPUs", so->gpus,
				 g->device_count);
		goto out;
	}
	/* fresh OCSP responses, as a responder would serve them now */
	path_of(path, sizeof(path), dir, "gpu/" CCT_SIM_GPU_OCSP_SUBDIR);
	if ((rc = sim_gpu_ocsp_fresh(g, path, err)) != CCT_OK)
		goto out;
	memset(&eo, 0, sizeof(eo));
	eo.gpu_count = (unsigned)so->gpus;
	rc = cct_sim_gpu_evidence_doc(&nv, NULL, g, nonce, &eo, err);
	if (rc != CCT_OK)
		goto out;
	json_object_set_new(nv, "cc_mode", json_string(so->gpu_cc_mode ? so->gpu_cc_mode : "on"));
	json_object_set_new(nv, "ppcie_mode", json_false());
	a = json_pack("{s:O}", "nvidia", nv);
	*out = a ? json_dumps(a, JSON_COMPACT) : NULL;
	if (!*out)
		goto nomem;
	rc = CCT_OK;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	json_decref(a);
	json_decref(nv);
	cct_vcache_release(pin);
	return rc;
}

static int hex48(uint8_t out[48], const json_t *v)
{
	const char *h = json_string_value(v);

	return h && cct_hex_decode_fixed(out, 48, h, NULL) == CCT_OK ? 0 : -1;
}

/* TDX primary evidence: a fresh quote over report_data with MRCONFIGID = init-data digest. */
static int tdx_primary(json_t **primary, const char *dir, const json_t *sim,
		       const cct_sim_opts *so, const uint8_t rd[64],
		       const uint8_t *init_digest, size_t init_len, cct_err *err)
{
	cct_sim_tdx *t = NULL;
	cct_sim_tdx_quote_opts qo;
	cct_tdx_ccel ccel;
	const json_t *td = json_object_get(sim, "tdx");
	uint8_t *quote = NULL;
	size_t qn = 0, i;
	json_t *p = NULL;
	int rc;

	*primary = NULL;
	memset(&qo, 0, sizeof(qo));
	memset(&ccel, 0, sizeof(ccel));
	memcpy(qo.report_data, rd, 64);
	if (init_digest)
		memcpy(qo.mrconfigid, init_digest, init_len < 48 ? init_len : 48);
	qo.debug = so->debug;
	if (hex48(qo.mrtd, json_object_get(td, "mrtd")))
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "%s/sim.json has no TDX measurements: run 'cctrust sim init %s'",
				   dir, dir);
	for (i = 0; i < 4; i++)
		if (hex48(qo.rtmr[i], json_array_get(json_object_get(td, "rtmr"), i)))
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					   "%s/sim.json: tdx.rtmr[%zu] missing", dir, i);
	if (so->measurement)
		memcpy(qo.mrtd, so->measurement, 48);
	if (so->ccel) { /* RTMRs as this event log replays them */
		rc = cct_tdx_ccel_parse(&ccel, NULL, 0, so->ccel, so->ccel_len, err);
		if (rc != CCT_OK)
			return rc;
		memcpy(qo.rtmr, ccel.rtmr, sizeof(qo.rtmr));
		cct_tdx_ccel_free(&ccel);
	}
	rc = cct_sim_tdx_load(&t, dir, err);
	if (rc != CCT_OK)
		return rc;
	if (t->coll_next_update <= time(NULL) + 86400) { /* Intel re-issues collateral monthly */
		if ((rc = cct_sim_tdx_collateral(t, NULL, err)) != CCT_OK ||
		    (rc = cct_sim_tdx_save(t, dir, err)) != CCT_OK)
			goto out;
	}
	rc = cct_sim_tdx_quote(&quote, &qn, t, &qo, err);
	if (rc != CCT_OK)
		goto out;
	p = json_object();
	if (so->form && !strcmp(so->form, "tsm")) {
		if (cct_attester__b64_member(p, "outblob", quote, qn))
			goto nomem;
		json_object_set_new(p, "provider", json_string("tdx_guest"));
	} else if (!so->form || !strcmp(so->form, "quote") || !strcmp(so->form, "report")) {
		if (cct_attester__b64_member(p, "quote", quote, qn))
			goto nomem;
	} else {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "unknown TDX evidence form \"%.20s\" (quote, tsm)", so->form);
		goto out;
	}
	if (so->ccel) {
		if (cct_attester__b64_member(p, "cc_eventlog", so->ccel, so->ccel_len))
			goto nomem;
	} else {
		json_object_set_new(p, "cc_eventlog", json_null());
	}
	*primary = p;
	p = NULL;
	rc = CCT_OK;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	json_decref(p);
	free(quote);
	cct_sim_tdx_free(t);
	return rc;
}

/* SNP primary evidence in one of the three shapes the composite accepts. */
static int snp_primary(json_t **primary, const char *dir, const json_t *sim,
		       const cct_sim_opts *so, const uint8_t rd[64],
		       const uint8_t *init_digest, size_t init_len, cct_err *err)
{
	static const char *const guids[3] = { CCT_SNP_GUID_VCEK, CCT_SNP_GUID_ASK, CCT_SNP_GUID_ARK };
	static const char *const names[3] = { "VCEK", "ASK", "ARK" };
	const cct_sim_snp *s = NULL;
	cct_vcache_entry *spin = NULL;
	cct_sim_snp_report_opts ro;
	uint8_t report[CCT_SNP_REPORT_SIZE], *der[3] = { 0 }, *table = NULL;
	size_t der_len[3] = { 0 }, tn = 0, i;
	char path[4096];
	json_t *p = NULL;
	int rc = CCT_ERROR;

	*primary = NULL;
	memset(&ro, 0, sizeof(ro));
	ro.version = 3;
	ro.policy = 0x30000 | (so->debug ? (1ull << CCT_SNP_POLICY_DEBUG_BIT) : 0);
	memcpy(ro.report_data, rd, 64);
	if (init_digest)
		memcpy(ro.host_data, init_digest, init_len < 32 ? init_len : 32); /* HOST_DATA: 32 */
	if (so->measurement) {
		memcpy(ro.measurement, so->measurement, 48);
	} else {
		const char *m = json_string_value(json_object_get(sim, "measurement"));

		if (!m || cct_hex_decode_fixed(ro.measurement, 48, m, NULL) != CCT_OK)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					   "%s/sim.json missing or damaged: run 'cctrust sim init %s'",
					   dir, dir);
	}
	path_of(path, sizeof(path), dir, "snp");
	spin = sim_loaded("sim-snp", path, load_snp, free_snp, err);
	if (!spin) {
		rc = err->code ? err->code : CCT_ERROR;
		goto out;
	}
	s = cct_vcache_entry_obj(spin);
	rc = cct_sim_snp_report(report, s, &ro, err);
	if (rc != CCT_OK)
		goto out;
	der[0] = cert_der(s->vcek, &der_len[0]);
	der[1] = cert_der(s->ask, &der_len[1]);
	der[2] = cert_der(s->ark, &der_len[2]);
	if (!der[0] || !der[1] || !der[2]) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "certificate encoding failed");
		goto out;
	}
	p = json_object();
	if (!so->form || !strcmp(so->form, "report")) {
		table = cct_attester__cert_table(&tn, guids, (const uint8_t *const *)der, der_len, 3);
		if (!table || cct_attester__b64_member(p, "report", report, sizeof(report)) ||
		    cct_attester__b64_member(p, "cert_table", table, tn))
			goto nomem;
	} else if (!strcmp(so->form, "tsm")) {
		table = cct_attester__cert_table(&tn, guids, (const uint8_t *const *)der, der_len, 3);
		if (!table || cct_attester__b64_member(p, "outblob", report, sizeof(report)) ||
		    cct_attester__b64_member(p, "auxblob", table, tn))
			goto nomem;
		json_object_set_new(p, "provider", json_string("sev_guest"));
	} else if (!strcmp(so->form, "serde")) {
		json_t *chain = json_array();

		json_object_set_new(p, "attestation_report", serde_report(report));
		for (i = 0; i < 3; i++)
			json_array_append_new(chain, json_pack("{s:s,s:o}", "cert_type", names[i],
							       "data", bytes_array(der[i], der_len[i])));
		json_object_set_new(p, "cert_chain", chain);
	} else {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "unknown SNP evidence form \"%.20s\" (report, tsm, serde)", so->form);
		goto out;
	}
	*primary = p;
	p = NULL;
	rc = CCT_OK;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	for (i = 0; i < 3; i++)
		OPENSSL_free(der[i]);
	free(table);
	json_decref(p);
	cct_vcache_release(spin);
	return rc;
}

int cct_sim_evidence(char **out, const char *dir, const cct_attester_opts *o,
			      const cct_sim_opts *so, cct_err *err)
{
	cct_sim_opts dso;
	uint8_t rd[64], digest[64];
	size_t dn = 0;
	char path[4096], *add = NULL;
	const char *additional = "", *tee;
	json_t *sim = NULL, *primary = NULL;
	int rc = CCT_ERROR;

	*out = NULL;
	if (!so) {
		memset(&dso, 0, sizeof(dso));
		so = &dso;
	}
	tee = so->tee ? so->tee : "snp";
	if (!o || (o->report_data ? !o->gpu_nonce : !o->nonce_b64 || !o->tee_pubkey))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "nonce and tee-pubkey (or report_data and gpu_nonce) required");
	if (strcmp(tee, "snp") && strcmp(tee, "tdx") && strcmp(tee, "az-snp-vtpm") &&
	    strcmp(tee, "az-tdx-vtpm"))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "simulated TEE \"%.20s\": snp, tdx, az-snp-vtpm or az-tdx-vtpm",
				   tee);
	if (!strncmp(tee, "az-", 3) && o->init_data_toml)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "%s evidence carries no init-data field", tee);
	if (so->gpus < 0 || so->gpus > CCT_ATTESTER_MAX_GPUS)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "--gpus: 0..%d",
				   CCT_ATTESTER_MAX_GPUS);
	path_of(path, sizeof(path), dir, "sim.json");
	sim = json_load_file(path, 0, NULL);
	/* GPUs first (as a real guest): their SPDM nonce does not depend on the CPU report */
	if (so->additional_evidence) {
		additional = so->additional_evidence;
		if (so->gpu_cc_mode) {
			/* the simulated GPUs' CC switch: rewrite the recorded mode before binding it */
			json_t *a = json_loads(so->additional_evidence, 0, NULL);
			json_t *nv = json_object_get(a, "nvidia");

			if (!json_is_object(nv)) {
				json_decref(a);
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
						 "--gpu-cc-mode needs additional evidence with an "
						 "\"nvidia\" object");
				goto out;
			}
			json_object_set_new(nv, "cc_mode", json_string(so->gpu_cc_mode));
			add = json_dumps(a, JSON_COMPACT);
			json_decref(a);
			if (!add)
				goto nomem;
			additional = add;
		}
	} else if (so->gpus > 0) {
		rc = sim_gpus(&add, dir, o, so, err);
		if (rc != CCT_OK)
			goto out;
		additional = add;
	}
	if (o->report_data)
		memcpy(rd, o->report_data, 64);
	else if ((rc = cct_attester__report_data(rd, o->nonce_b64, o->tee_pubkey, additional,
						 err)) != CCT_OK)
		goto out;
	if (o->init_data_toml) {
		rc = cct_attester__init_data_digest(digest, &dn, o->init_data_toml, err);
		if (rc != CCT_OK)
			goto out;
	}
	if (!strncmp(tee, "az-", 3)) /* the TPM quote's qualifying data: Trustee's 48-byte hash */
		rc = cct_sim__vtpm_primary(&primary, dir, so, rd, 48, err);
	else if (!strcmp(tee, "tdx"))
		rc = tdx_primary(&primary, dir, sim, so, rd, dn ? digest : NULL, dn, err);
	else
		rc = snp_primary(&primary, dir, sim, so, rd, dn ? digest : NULL, dn, err);
	if (rc != CCT_OK)
		goto out;
	rc = cct_attester__body(out, o, primary, additional, err);
	primary = NULL;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	free(add);
	json_decref(primary);
	json_decref(sim);
	return rc;
}

int cct_sim_raw_report(uint8_t **report, size_t *report_len, uint8_t **table,
				size_t *table_len, const char *dir, const uint8_t report_data[64],
				cct_err *err)
{
	static const char *const guids[3] = { CCT_SNP_GUID_VCEK, CCT_SNP_GUID_ASK, CCT_SNP_GUID_ARK };
	cct_sim_snp_report_opts ro;
	const cct_sim_snp *s = NULL;
	cct_vcache_entry *spin = NULL;
	uint8_t *der[3] = { 0 };
	size_t der_len[3] = { 0 }, i;
	char path[4096];
	json_t *sim = NULL;
	const char *m;
	int rc = CCT_ERROR;

	*report = *table = NULL;
	*report_len = *table_len = 0;
	memset(&ro, 0, sizeof(ro));
	ro.version = 3;
	memcpy(ro.report_data, report_data, 64);
	path_of(path, sizeof(path), dir, "sim.json");
	sim = json_load_file(path, 0, NULL);
	m = json_string_value(json_object_get(sim, "measurement"));
	if (!m || cct_hex_decode_fixed(ro.measurement, 48, m, NULL) != CCT_OK) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s missing or damaged", path);
		goto out;
	}
	path_of(path, sizeof(path), dir, "snp");
	spin = sim_loaded("sim-snp", path, load_snp, free_snp, err);
	if (!spin) {
		rc = err->code ? err->code : CCT_ERROR;
		goto out;
	}
	s = cct_vcache_entry_obj(spin);
	*report = malloc(CCT_SNP_REPORT_SIZE);
	if (!*report || (rc = cct_sim_snp_report(*report, s, &ro, err)) != CCT_OK) {
		rc = *report ? rc : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	*report_len = CCT_SNP_REPORT_SIZE;
	der[0] = cert_der(s->vcek, &der_len[0]);
	der[1] = cert_der(s->ask, &der_len[1]);
	der[2] = cert_der(s->ark, &der_len[2]);
	if (!der[0] || !der[1] || !der[2] ||
	    !(*table = cct_attester__cert_table(table_len, guids, (const uint8_t *const *)der,
						 der_len, 3))) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "certificate table failed");
		goto out;
	}
	rc = CCT_OK;
out:
	if (rc != CCT_OK) {
		free(*report);
		*report = NULL;
		*report_len = 0;
	}
	for (i = 0; i < 3; i++)
		OPENSSL_free(der[i]);
	json_decref(sim);
	cct_vcache_release(spin);
	return rc;
}
