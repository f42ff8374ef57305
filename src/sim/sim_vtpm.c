/* Simulated Azure paravisor vTPM (test-only): Trustee az-snp-vtpm / az-tdx-vtpm v1 evidence
 * whose every part is in the real format and signed by the simulated roots:
 *   - the vTPM attestation key: RSA-2048 in DIR/vtpm/ak.key (made on first use, 0600);
 *   - HCL runtime data: JSON {"keys":[{"kid":"HCLAkPub",...RSA JWK}],"vm-configuration":{..},
 *     "user-data":hex} (what Azure's paravisor puts there);
 *   - the hardware report over SHA-256(runtime data): a simulated SNP report (VMPL 0), or a TD
 *     report (TDREPORT_STRUCT) plus the TD quote the simulated quoting enclave makes from it;
 *   - the HCL report ("HCLA" header, the hardware report, IGVM request data);
 *   - a TPM2_Quote (TPMS_ATTEST, SHA-256 PCRs 0..23) over the caller's qualifying data, signed
 *     RSASSA-PKCS1-v1_5/SHA-256 by the AK (Azure's raw signature form), and the PCR values.
 * Nothing here is trusted unless a verifier is told --trust-sim DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cctrust/core.h"
#include "cctrust/sim.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "sim/sim_vtpm.h"
#include "x509/x509.h"

#define HCL_HW 1184

/* ---- the AK ---- */

static int ak_load(EVP_PKEY **out, const char *dir, cct_err *err)
{
	char path[4096], tmp[4200];
	EVP_PKEY *k = NULL;
	FILE *f;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/vtpm/ak.key", dir);
	f = fopen(path, "r");
	if (f) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (!k)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "%.200s: not a private key", path);
		*out = k;
		return CCT_OK;
	}
	/* first use: a fresh AK, written atomically (temp + rename), private */
	k = EVP_RSA_gen(2048);
	if (!k)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "RSA key generation failed");
	snprintf(tmp, sizeof(tmp), "%s/vtpm", dir);
	if (mkdir(tmp, 0700) != 0 && access(tmp, W_OK) != 0) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot create %.200s", tmp);
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	{
		mode_t old = umask(077);

		f = fopen(tmp, "w");
		umask(old);
	}
	if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) {
		if (f)
			fclose(f);
		unlink(tmp);
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot write %.200s", path);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot write %.200s", path);
	}
	*out = k;
	return CCT_OK;
}

static json_t *bn_b64url(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	char *s;
	json_t *j = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(k, name, &bn))
		return NULL;
	n = BN_num_bytes(bn);
	if (n > 0 && n <= (int)sizeof(buf) && BN_bn2bin(bn, buf) == n &&
	    (s = cct_b64_encode(buf, (size_t)n, 1)) != NULL) {
		j = json_string(s);
		free(s);
	}
	BN_free(bn);
	return j;
}

/* the runtime data (compact JSON text, malloc'd) */
static char *runtime_data(EVP_PKEY *ak, const uint8_t user_data[64])
{
	json_t *n = bn_b64url(ak, "n"), *e = bn_b64url(ak, "e"), *o;
	char ud[129], *s;

	if (!n || !e) {
		json_decref(n);
		json_decref(e);
		return NULL;
	}
	cct_hex_encode(ud, user_data, 64);
	o = json_pack("{s:[{s:s,s:[s],s:s,s:o,s:o}],s:{s:b,s:b,s:b,s:s},s:s}", "keys", "kid",
		      "HCLAkPub", "key_ops", "sign", "kty", "RSA", "e", e, "n", n,
		      "vm-configuration", "console-enabled", 0, "secure-boot", 1, "tpm-enabled", 1,
		      "vmUniqueId", "cctrust-simulated-paravisor", "user-data", ud);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* "HCLA" header + hardware report + IGVM request data (SHA-256 hash type). malloc'd. */
static uint8_t *hcl_report(size_t *n, const uint8_t *hw, size_t hw_len, uint32_t type,
			   const char *rt)
{
	size_t rl = strlen(rt), igvm = 20 + rl, total = 32 + HCL_HW + igvm;
	uint8_t *p = calloc(1, total);
	uint32_t v[5];
	size_t i;

	if (!p)
		return NULL;
	memcpy(p, "HCLA", 4);
	v[0] = 1;                               /* version */
	v[1] = (uint32_t)total;                 /* report_size */
	v[2] = 2;                               /* request_type */
	v[3] = 0;                               /* status */
	for (i = 0; i < 4; i++)
		le32(p + 4 + 4 * i, v[i]);
	memcpy(p + 32, hw, hw_len);
	v[0] = (uint32_t)igvm;                  /* data_size */
	v[1] = 1;                               /* version */
	v[2] = type;                            /* report_type: 2 SNP, 4 TDX */
	v[3] = 1;                               /* report_data_hash_type: SHA-256 */
	v[4] = (uint32_t)rl;                    /* variable_data_size */
	for (i = 0; i < 5; i++)
		le32(p + 32 + HCL_HW + 4 * i, v[i]);
	memcpy(p + 32 + HCL_HW + 20, rt, rl);
	*n = total;
	return p;
}

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

static void be64(uint8_t *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

/* The simulated PCR values: PCR i = SHA-256("cctrust simulated vTPM PCR <i>"). */
static void sim_pcr(uint8_t out[32], int i)
{
	char label[64];

	snprintf(label, sizeof(label), "cctrust simulated vTPM PCR %d", i);
	cct_sha256(label, strlen(label), out);
}

/* tpm_quote {signature, message, pcrs} (hex), Trustee v1's TpmQuote */
static json_t *tpm_quote(EVP_PKEY *ak, const uint8_t *nonce, size_t nn, cct_err *err)
{
	uint8_t msg[256], pcrs[24][32], all[24 * 32], sig[512], name[34];
	uint8_t *der = NULL;
	size_t off = 0, sl = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	json_t *q = NULL, *pa;
	char hex[1025];
	int i, dl;

	if (nn > 64) {
		cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "qualifying data over 64 bytes");
		return NULL;
	}
	for (i = 0; i < 24; i++) {
		sim_pcr(pcrs[i], i);
		memcpy(all + 32 * i, pcrs[i], 32);
	}
	/* qualifiedSigner: nameAlg SHA-256 || SHA-256 of the AK (a stand-in for its TPMT_PUBLIC) */
	be16(name, 0x000B);
	dl = i2d_PUBKEY(ak, &der);
	cct_sha256(der, dl > 0 ? (size_t)dl : 0, name + 2);
	OPENSSL_free(der);
	be32(msg + off, 0xff544347u); off += 4;   /* TPM_GENERATED_VALUE */
	be16(msg + off, 0x8018); off += 2;        /* TPM_ST_ATTEST_QUOTE */
	be16(msg + off, sizeof(name)); off += 2;  /* qualifiedSigner */
	memcpy(msg + off, name, sizeof(name)); off += sizeof(name);
	be16(msg + off, (unsigned)nn); off += 2;  /* extraData */
	memcpy(msg + off, nonce, nn); off += nn;
	be64(msg + off, 86400000u); off += 8;     /* clockInfo.clock (ms) */
	be32(msg + off, 3); off += 4;             /* resetCount */
	be32(msg + off, 0); off += 4;             /* restartCount */
	msg[off++] = 1;                           /* safe */
	be64(msg + off, 0x2000100000000ull); off += 8; /* firmwareVersion */
	be32(msg + off, 1); off += 4;             /* TPML_PCR_SELECTION: one bank */
	be16(msg + off, 0x000B); off += 2;        /* SHA-256 */
	msg[off++] = 3;                           /* sizeofSelect */
	msg[off++] = 0xff;                        /* PCRs 0..23 */
	msg[off++] = 0xff;
	msg[off++] = 0xff;
	be16(msg + off, 32); off += 2;            /* pcrDigest */
	cct_sha256(all, sizeof(all), msg + off); off += 32;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ak) != 1 ||
	    EVP_DigestSign(md, sig, &sl, msg, off) != 1) {
		EVP_MD_CTX_free(md);
		cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot sign the TPM quote");
		return NULL;
	}
	EVP_MD_CTX_free(md);
	q = json_object();
	cct_hex_encode(hex, sig, sl);
	json_object_set_new(q, "signature", json_string(hex));
	cct_hex_encode(hex, msg, off);
	json_object_set_new(q, "message", json_string(hex));
	pa = json_array();
	for (i = 0; i < 24; i++) {
		cct_hex_encode(hex, pcrs[i], 32);
		json_array_append_new(pa, json_string(hex));
	}
	json_object_set_new(q, "pcrs", pa);
	return q;
}

static int hex48(uint8_t out[48], const json_t *v)
{
	const char *h = json_string_value(v);

	return h && cct_hex_decode_fixed(out, 48, h, NULL) == CCT_OK ? 0 : -1;
}

/* TD quote options from DIR/sim.json (MRTD, RTMR0..3) and the knobs */
static int tdx_opts(cct_sim_tdx_quote_opts *qo, const char *dir, const cct_sim_opts *so,
		    cct_err *err)
{
	char path[4096];
	json_t *sim, *td;
	int i, bad = 0;

	memset(qo, 0, sizeof(*qo));
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	sim = json_load_file(path, 0, NULL);
	td = json_object_get(sim, "tdx");
	bad = hex48(qo->mrtd, json_object_get(td, "mrtd"));
	for (i = 0; i < 4; i++)
		bad |= hex48(qo->rtmr[i], json_array_get(json_object_get(td, "rtmr"), (size_t)i));
	json_decref(sim);
	if (bad)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "%.200s has no TDX measurements: run 'cctrust sim init'", path);
	if (so && so->measurement)
		memcpy(qo->mrtd, so->measurement, 48);
	qo->debug = so ? so->debug : 0;
	return CCT_OK;
}

static int tdx_platform(cct_sim_tdx **t, const char *dir, cct_err *err)
{
	int rc = cct_sim_tdx_load(t, dir, err);

	if (rc == CCT_OK && (*t)->coll_next_update <= time(NULL) + 86400) {
		/* Intel re-issues collateral monthly */
		if ((rc = cct_sim_tdx_collateral(*t, NULL, err)) != CCT_OK ||
		    (rc = cct_sim_tdx_save(*t, dir, err)) != CCT_OK) {
			cct_sim_tdx_free(*t);
			*t = NULL;
		}
	}
	return rc;
}

int cct_sim_td_report(uint8_t out[1024], const char *dir, const uint8_t report_data[64],
		      cct_err *err)
{
	cct_sim_tdx_quote_opts qo;
	cct_sim_tdx *t = NULL;
	int rc;

	rc = tdx_opts(&qo, dir, NULL, err);
	if (rc == CCT_OK)
		rc = cct_sim_tdx_load(&t, dir, err);
	if (rc != CCT_OK)
		return rc;
	memcpy(qo.report_data, report_data, 64);
	rc = cct_sim_tdx_td_report(out, t, &qo);
	cct_sim_tdx_free(t);
	return rc;
}

int cct_sim_td_quote(uint8_t **quote, size_t *len, const char *dir, const uint8_t *td_report,
		     size_t n, cct_err *err)
{
	cct_sim_tdx *t = NULL;
	int rc;

	*quote = NULL;
	*len = 0;
	rc = tdx_platform(&t, dir, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_sim_tdx_quote_for_td_report(quote, len, t, td_report, n, err);
	cct_sim_tdx_free(t);
	return rc;
}

static int set_b64url(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = cct_b64_encode(p, n, 1);

	if (!s)
		return -1;
	json_object_set_new(o, k, json_string(s));
	free(s);
	return 0;
}

int cct_sim__vtpm_primary(json_t **primary, const char *dir, const cct_sim_opts *so,
			  const uint8_t *nonce, size_t nonce_len, cct_err *err)
{
	int tdx = so && so->tee && !strcmp(so->tee, "az-tdx-vtpm");
	EVP_PKEY *ak = NULL;
	cct_sim_snp *s = NULL;
	cct_sim_tdx *t = NULL;
	uint8_t ud[64], rd[64], hw[HCL_HW], *hcl = NULL, *tdq = NULL, *der = NULL;
	size_t hn = 0, tdqn = 0;
	char *rt = NULL, path[4096];
	json_t *ev = NULL, *q;
	int rc, dl;

	*primary = NULL;
	memset(hw, 0, sizeof(hw));
	memset(ud, 0, sizeof(ud));
	memcpy(ud, nonce, nonce_len < 64 ? nonce_len : 64); /* user data, as the attester writes */
	rc = ak_load(&ak, dir, err);
	if (rc != CCT_OK)
		return rc;
	rt = runtime_data(ak, ud);
	if (!rt) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	memset(rd, 0, sizeof(rd));
	cct_sha256(rt, strlen(rt), rd);
	ev = json_object();
	json_object_set_new(ev, "version", json_integer(1));
	if (tdx) {
		cct_sim_tdx_quote_opts qo;

		rc = tdx_opts(&qo, dir, so, err);
		if (rc == CCT_OK)
			rc = tdx_platform(&t, dir, err);
		if (rc != CCT_OK)
			goto out;
		memcpy(qo.report_data, rd, 64);
		cct_sim_tdx_td_report(hw, t, &qo);
		rc = cct_sim_tdx_quote(&tdq, &tdqn, t, &qo, err);
		if (rc != CCT_OK)
			goto out;
	} else {
		cct_sim_snp_report_opts ro;
		char *m = NULL;
		json_t *sim;

		memset(&ro, 0, sizeof(ro));
		ro.version = 3;
		ro.policy = 0x30000 | (so && so->debug ? (1ull << CCT_SNP_POLICY_DEBUG_BIT) : 0);
		memcpy(ro.report_data, rd, 64);
		snprintf(path, sizeof(path), "%s/sim.json", dir);
		sim = json_load_file(path, 0, NULL);
		m = (char *)json_string_value(json_object_get(sim, "measurement"));
		if (so && so->measurement)
			memcpy(ro.measurement, so->measurement, 48);
		else if (!m || cct_hex_decode_fixed(ro.measurement, 48, m, NULL) != CCT_OK) {
			json_decref(sim);
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "%.200s missing or damaged", path);
			goto out;
		}
		json_decref(sim);
		snprintf(path, sizeof(path), "%s/snp", dir);
		rc = cct_sim_snp_load(&s, path, err);
		if (rc == CCT_OK)
			rc = cct_sim_snp_report(hw, s, &ro, err);
		if (rc != CCT_OK)
			goto out;
		dl = i2d_X509(s->vcek, &der);
		if (dl <= 0 || set_b64url(ev, "vcek", der, (size_t)dl))
			goto nomem;
	}
	q = tpm_quote(ak, nonce, nonce_len, err);
	if (!q) {
		rc = err && err->code ? err->code : CCT_ERROR;
		goto out;
	}
	json_object_set_new(ev, "tpm_quote", q);
	hcl = hcl_report(&hn, hw, sizeof(hw), tdx ? 4 : 2, rt);
	if (!hcl || set_b64url(ev, "hcl_report", hcl, hn) ||
	    (tdx && set_b64url(ev, "td_quote", tdq, tdqn)))
		goto nomem;
	*primary = ev;
	ev = NULL;
	rc = CCT_OK;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	json_decref(ev);
	EVP_PKEY_free(ak);
	cct_sim_snp_free(s);
	cct_sim_tdx_free(t);
	OPENSSL_free(der);
	free(rt);
	free(hcl);
	free(tdq);
	return rc;
}
