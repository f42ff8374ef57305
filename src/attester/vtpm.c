/* Guest side of Azure-style vTPM evidence (Trustee az-snp-vtpm / az-tdx-vtpm v1), through
 * tpm2-tss (ESYS):
 *   1. user data (64 bytes) written to the HCL request NV index 0x01400002 (when it exists), so
 *      the paravisor refreshes the HCL report;
 *   2. the HCL report read back from NV index 0x01400001;
 *   3. a TPM2_Quote over SHA-256 PCRs 0..23 with the AK at persistent handle 0x81000003 and
 *      qualifyingData = the caller's nonce; then the PCR values (TPM2_PCR_Read, 8 per call);
 *   4. az-tdx-vtpm: the HCL report's TD report sent to Azure IMDS for the TD quote (imds.c);
 *      az-snp-vtpm: the VCEK from a file or from IMDS THIM.
 * The TCTI is the caller's (e.g. "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321"), or
 * tpm2-tss's default. Nothing here is trusted: the verifier checks all of it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attester/dl_tss2.h"
#include "attester/internal.h"
#include "cctrust/attester.h"
#include "cctrust/core.h"

#define HCL_REPORT_INDEX 0x01400001u
#define HCL_REQUEST_INDEX 0x01400002u
#define AK_HANDLE 0x81000003u
#define NV_CHUNK 512
#define MAX_HCL (16u * 1024u)

static int tss_err(cct_err *err, const char *what, TSS2_RC rc)
{
	return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "vTPM: %s failed (TSS2 0x%x)", what,
			   (unsigned)rc);
}

static int nv_size(ESYS_CONTEXT *ctx, ESYS_TR nv, uint16_t *size)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	TSS2_RC r = Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
				       NULL);

	if (r != TSS2_RC_SUCCESS)
		return -1;
	*size = pub->nvPublic.dataSize;
	Esys_Free(pub);
	return 0;
}

static int read_hcl(ESYS_CONTEXT *ctx, uint8_t **out, size_t *n, cct_err *err)
{
	ESYS_TR nv;
	uint16_t size = 0, off = 0;
	TSS2_RC r;

	r = Esys_TR_FromTPMPublic(ctx, HCL_REPORT_INDEX, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				  &nv);
	if (r != TSS2_RC_SUCCESS || nv_size(ctx, nv, &size))
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "vTPM: no HCL report NV index 0x%08x (not a paravisor vTPM?)",
				   HCL_REPORT_INDEX);
	if (!size || size > MAX_HCL)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "vTPM: HCL report NV index of %u bytes", size);
	*out = malloc(size);
	if (!*out)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	while (off < size) {
		TPM2B_MAX_NV_BUFFER *d = NULL;
		uint16_t k = (uint16_t)(size - off > NV_CHUNK ? NV_CHUNK : size - off);

		r = Esys_NV_Read(ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				 ESYS_TR_NONE, k, off, &d);
		if (r != TSS2_RC_SUCCESS || d->size != k) {
			Esys_Free(d);
			free(*out);
			*out = NULL;
			return tss_err(err, "NV_Read of the HCL report", r);
		}
		memcpy(*out + off, d->buffer, k);
		off = (uint16_t)(off + k);
		Esys_Free(d);
	}
	*n = size;
	return CCT_OK;
}

static int write_user_data(ESYS_CONTEXT *ctx, const uint8_t ud[64], cct_err *err)
{
	ESYS_TR nv;
	TPM2B_MAX_NV_BUFFER b;
	TSS2_RC r;
	uint16_t size = 0;

	r = Esys_TR_FromTPMPublic(ctx, HCL_REQUEST_INDEX, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				  &nv);
	if (r != TSS2_RC_SUCCESS || nv_size(ctx, nv, &size))
		return CCT_OK; /* no request index: the boot-time report is used */
	memset(&b, 0, sizeof(b));
	b.size = size < 64 ? size : 64;
	memcpy(b.buffer, ud, b.size);
	r = Esys_NV_Write(ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			  &b, 0);
	return r == TSS2_RC_SUCCESS ? CCT_OK : tss_err(err, "NV_Write of the report request", r);
}

static char *hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s)
		cct_hex_encode(s, p, n);
	return s;
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = hex(p, n);

	json_object_set_new(o, k, s ? json_string(s) : json_null());
	free(s);
}

/* PCR 0..23 of the SHA-256 bank in index order; the TPM returns at most 8 per read. */
static int read_pcrs(ESYS_CONTEXT *ctx, uint8_t vals[24][32], cct_err *err)
{
	uint32_t want = 0xffffff, got = 0;
	int rounds;

	for (rounds = 0; want & ~got && rounds < 8; rounds++) {
		TPML_PCR_SELECTION sel, *osel = NULL;
		TPML_DIGEST *dig = NULL;
		uint32_t rest = want & ~got, k, i, j = 0;
		TSS2_RC r;

		memset(&sel, 0, sizeof(sel));
		sel.count = 1;
		sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
		sel.pcrSelections[0].sizeofSelect = 3;
		for (i = 0; i < 3; i++)
			sel.pcrSelections[0].pcrSelect[i] = (uint8_t)(rest >> (8 * i));
		r = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL, &osel,
				  &dig);
		if (r != TSS2_RC_SUCCESS)
			return tss_err(err, "PCR_Read", r);
		for (k = 0; k < osel->count; k++) {
			if (osel->pcrSelections[k].hash != TPM2_ALG_SHA256)
				continue;
			for (i = 0; i < 24 && j < dig->count; i++) {
				if (!(osel->pcrSelections[k].pcrSelect[i / 8] & (1u << (i % 8))))
					continue;
				if (dig->digests[j].size == 32) {
					memcpy(vals[i], dig->digests[j].buffer, 32);
					got |= 1u << i;
				}
				j++;
			}
		}
		Esys_Free(osel);
		Esys_Free(dig);
	}
	if (want & ~got)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "vTPM: the SHA-256 PCR bank is not fully readable");
	return CCT_OK;
}

static int quote(ESYS_CONTEXT *ctx, const uint8_t *nonce, size_t nn, json_t *q, cct_err *err)
{
	ESYS_TR ak;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_DATA qd;
	TPMT_SIG_SCHEME scheme;
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	uint8_t pcrs[24][32];
	json_t *pa;
	TSS2_RC r;
	int rc, i;

	if (nn > sizeof(qd.buffer))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "vTPM: a nonce of %zu bytes (at most 64)", nn);
	r = Esys_TR_FromTPMPublic(ctx, AK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak);
	if (r != TSS2_RC_SUCCESS)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "vTPM: no attestation key at persistent handle 0x%08x", AK_HANDLE);
	r = Esys_ReadPublic(ctx, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
	if (r != TSS2_RC_SUCCESS)
		return tss_err(err, "ReadPublic of the AK", r);
	memset(&scheme, 0, sizeof(scheme));
	if (pub->publicArea.type == TPM2_ALG_RSA &&
	    pub->publicArea.parameters.rsaDetail.scheme.scheme == TPM2_ALG_NULL) {
		scheme.scheme = TPM2_ALG_RSASSA;
		scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
	} else if (pub->publicArea.type == TPM2_ALG_ECC &&
		   pub->publicArea.parameters.eccDetail.scheme.scheme == TPM2_ALG_NULL) {
		scheme.scheme = TPM2_ALG_ECDSA;
		scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	} else {
		scheme.scheme = TPM2_ALG_NULL; /* the key's own scheme */
	}
	Esys_Free(pub);
	memset(&qd, 0, sizeof(qd));
	qd.size = (UINT16)nn;
	if (nn)
		memcpy(qd.buffer, nonce, nn);
	memset(&sel, 0, sizeof(sel));
	sel.count = 1;
	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	sel.pcrSelections[0].pcrSelect[0] = sel.pcrSelections[0].pcrSelect[1] =
		sel.pcrSelections[0].pcrSelect[2] = 0xff;
	r = Esys_Quote(ctx, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &sel,
		       &att, &sig);
	if (r != TSS2_RC_SUCCESS)
		return tss_err(err, "Quote", r);
	set_hex(q, "message", att->attestationData, att->size);
	if (sig->sigAlg == TPM2_ALG_RSASSA || sig->sigAlg == TPM2_ALG_RSAPSS) {
		/* Trustee's format: the bare RSA signature */
		set_hex(q, "signature", sig->signature.rsassa.sig.buffer,
			sig->signature.rsassa.sig.size);
	} else {
		uint8_t buf[sizeof(TPMT_SIGNATURE)];
		size_t off = 0;

		if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
			Esys_Free(att);
			Esys_Free(sig);
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "vTPM: cannot marshal the quote signature");
		}
		set_hex(q, "signature", buf, off);
	}
	Esys_Free(att);
	Esys_Free(sig);
	rc = read_pcrs(ctx, pcrs, err);
	if (rc != CCT_OK)
		return rc;
	pa = json_array();
	for (i = 0; i < 24; i++) {
		char *s = hex(pcrs[i], 32);

		json_array_append_new(pa, s ? json_string(s) : json_null());
		free(s);
	}
	json_object_set_new(q, "pcrs", pa);
	return CCT_OK;
}

/* VCEK file (PEM or DER) as DER. */
static int vcek_der(uint8_t **out, size_t *n, const char *path, cct_err *err)
{
	uint8_t *b = NULL;
	size_t bn = 0;
	const unsigned char *p;
	X509 *x = NULL;
	BIO *bio;
	int len, rc;

	rc = cct_file_read(&b, &bn, path, 1u << 20, err);
	if (rc != CCT_OK)
		return rc;
	bio = BIO_new_mem_buf(b, (int)bn);
	x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!x) {
		p = b;
		x = d2i_X509(NULL, &p, (long)bn);
	}
	free(b);
	if (!x)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "--vcek: not a PEM or DER certificate");
	*out = NULL;
	len = i2d_X509(x, out);
	X509_free(x);
	if (len <= 0)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	*n = (size_t)len;
	return CCT_OK;
}

/* The HCL report (IGVM request data after header 0x20 + hardware report 1184) says which hardware
 * report it holds: report_type 2 SNP, 4 TDX. The attester only locates the TD report to send it
 * to IMDS; the verifier parses and judges all of it. */
#define HCL_HW_OFF 0x20u
#define HCL_TYPE_OFF (0x20u + 1184u + 8u)
#define TD_REPORT_SIZE 1024u

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cct_attester_vtpm_collect_ex(json_t **out, const cct_attester_vtpm_opts *vo,
				 const uint8_t *nonce, size_t nonce_len, cct_err *err)
{
	static const cct_attester_vtpm_opts zero;
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx = NULL;
	uint8_t ud[64], *hcl = NULL, *vc = NULL, *log = NULL, *tdq = NULL;
	size_t hn = 0, vn = 0, ln = 0, tdqn = 0;
	json_t *ev = NULL, *q = json_object();
	char *s;
	TSS2_RC r;
	int rc, tdx;

	*out = NULL;
	if (!vo)
		vo = &zero;
	tdx = vo->tee && !strcmp(vo->tee, "az-tdx-vtpm");
	if (vo->tee && !tdx && strcmp(vo->tee, "az-snp-vtpm")) {
		json_decref(q);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "vTPM TEE \"%.20s\" (az-snp-vtpm, az-tdx-vtpm)", vo->tee);
	}
	{
		char why[256];

		if (!cct_dl_tss2_ok(why, sizeof(why))) {
			json_decref(q);
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					   "vTPM collection needs tpm2-tss (libtss2-esys, -mu, "
					   "-tctildr): %s",
					   why);
		}
	}
	r = Tss2_TctiLdr_Initialize(vo->tcti, &tcti);
	if (r != TSS2_RC_SUCCESS) {
		json_decref(q);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "vTPM: cannot open the TPM (TCTI \"%s\", TSS2 0x%x)",
				   vo->tcti ? vo->tcti : "default", (unsigned)r);
	}
	r = Esys_Initialize(&ctx, tcti, NULL);
	if (r != TSS2_RC_SUCCESS) {
		rc = tss_err(err, "Esys_Initialize", r);
		goto out;
	}
	/* user data: the nonce, zero-padded (Trustee v2 carries it in the runtime data) */
	memset(ud, 0, sizeof(ud));
	memcpy(ud, nonce, nonce_len < 64 ? nonce_len : 64);
	rc = write_user_data(ctx, ud, err);
	if (rc == CCT_OK)
		rc = read_hcl(ctx, &hcl, &hn, err);
	if (rc == CCT_OK && hn >= HCL_TYPE_OFF + 4 &&
	    le32_at(hcl + HCL_TYPE_OFF) != (tdx ? 4u : 2u))
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "vTPM: the HCL report holds a %s report (report_type %u), not %s",
				 le32_at(hcl + HCL_TYPE_OFF) == 4 ? "TDX" : "non-TDX",
				 le32_at(hcl + HCL_TYPE_OFF), tdx ? "TDX: --tee az-snp-vtpm?"
							      : "SNP: --tee az-tdx-vtpm?");
	if (rc == CCT_OK && hn < HCL_TYPE_OFF + 4)
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "vTPM: HCL report of %zu bytes", hn);
	if (rc == CCT_OK)
		rc = quote(ctx, nonce, nonce_len, q, err);
	if (rc == CCT_OK && tdx) /* the host's quoting enclave, through IMDS */
		rc = cct_attester__imds_td_quote(&tdq, &tdqn, vo->imds_url, hcl + HCL_HW_OFF,
						 TD_REPORT_SIZE, err);
	if (rc == CCT_OK && !tdx)
		rc = vo->vcek_path ? vcek_der(&vc, &vn, vo->vcek_path, err)
				   : cct_attester__imds_vcek(&vc, &vn, vo->imds_url, err);
	if (rc == CCT_OK && vo->event_log_path)
		rc = cct_file_read(&log, &ln, vo->event_log_path, 16u << 20, err);
	if (rc != CCT_OK)
		goto out;
	ev = json_object();
	json_object_set_new(ev, "version", json_integer(1));
	json_object_set(ev, "tpm_quote", q);
	s = cct_b64_encode(hcl, hn, 1);
	json_object_set_new(ev, "hcl_report", s ? json_string(s) : json_null());
	free(s);
	if (tdx) {
		s = cct_b64_encode(tdq, tdqn, 1);
		json_object_set_new(ev, "td_quote", s ? json_string(s) : json_null());
	} else {
		s = cct_b64_encode(vc, vn, 1);
		json_object_set_new(ev, "vcek", s ? json_string(s) : json_string(""));
	}
	free(s);
	if (log) {
		s = cct_b64_encode(log, ln, 0);
		json_object_set_new(ev, "event_log", s ? json_string(s) : json_null());
		free(s);
	}
	*out = ev;
	rc = CCT_OK;
out:
	json_decref(q);
	free(hcl);
	free(log);
	free(tdq);
	OPENSSL_free(vc);
	if (ctx)
		Esys_Finalize(&ctx);
	Tss2_TctiLdr_Finalize(&tcti);
	return rc;
}

const char *cct_attester_event_log_default(void)
{
	const char *e = getenv(CCT_ATTESTER_EVENT_LOG_ENV);
	const char *p = e && *e ? e : CCT_ATTESTER_EVENT_LOG;

	return access(p, R_OK) == 0 ? p : NULL;
}

int cct_attester_vtpm_collect(json_t **out, const char *tcti_conf, const uint8_t *nonce,
			      size_t nonce_len, const char *vcek_path, const char *event_log_path,
			      cct_err *err)
{
	cct_attester_vtpm_opts vo;

	memset(&vo, 0, sizeof(vo));
	vo.tcti = tcti_conf;
	vo.vcek_path = vcek_path;
	vo.event_log_path = event_log_path;
	return cct_attester_vtpm_collect_ex(out, &vo, nonce, nonce_len, err);
}

int cct_attester_collect_vtpm_ex(char **out, const cct_attester_opts *o,
				 const cct_attester_vtpm_opts *vo, cct_err *err)
{
	uint8_t rd[64], gpu_nonce[32];
	json_t *ev = NULL, *nv = NULL;
	char *additional = NULL;
	int rc;

	*out = NULL;
	if (!o || !o->nonce_b64 || !o->tee_pubkey)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "nonce and tee-pubkey required");
	if (o->init_data_toml)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "%s evidence carries no init-data field",
				   vo && vo->tee ? vo->tee : "az-snp-vtpm");
	/* GPUs first, as with SNP/TDX: their SPDM nonce is the runtime data's, and the vTPM quote
	 * then covers the GPU evidence through the additional-evidence member of the hash */
	if (!o->no_gpu) {
		rc = cct_attester__gpu_nonce(gpu_nonce, o->nonce_b64, o->tee_pubkey, err);
		if (rc == CCT_OK)
			rc = cct_attester__nvml_evidence(&nv, gpu_nonce, err);
		if (rc != CCT_OK)
			return rc;
	}
	if (nv) {
		json_t *a = json_pack("{s:o}", "nvidia", nv);

		additional = a ? json_dumps(a, JSON_COMPACT) : NULL;
		json_decref(a);
		if (!additional)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	/* the quote's qualifyingData is Trustee's runtime-data hash (SHA-384, 48 bytes) */
	rc = cct_attester__report_data(rd, o->nonce_b64, o->tee_pubkey, additional, err);
	if (rc == CCT_OK)
		rc = cct_attester_vtpm_collect_ex(&ev, vo, rd, 48, err);
	if (rc == CCT_OK)
		rc = cct_attester__body(out, o, ev, additional, err);
	free(additional);
	return rc;
}

int cct_attester_collect_vtpm(char **out, const cct_attester_opts *o, const char *tcti_conf,
			      const char *vcek_path, const char *event_log_path, cct_err *err)
{
	cct_attester_vtpm_opts vo;

	memset(&vo, 0, sizeof(vo));
	vo.tcti = tcti_conf;
	vo.vcek_path = vcek_path;
	vo.event_log_path = event_log_path;
	return cct_attester_collect_vtpm_ex(out, o, &vo, err);
}
