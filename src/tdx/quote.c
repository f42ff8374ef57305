/* TDX DCAP quote v4 / v5 parser. Every byte goes through the bounded reader; nothing outside a
 * length-prefixed region is read. Offsets: Intel TDX DCAP Quoting Library API, A.3 (docs/tdx.md). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "core/rd.h"

#define ATT_KEY_ECDSA_P256 2
#define CERT_TYPE_PCK_CHAIN 5
#define CERT_TYPE_QE_REPORT 6
#define BODY_TYPE_SGX 1
#define BODY_TYPE_TD10 2
#define BODY_TYPE_TD15 3

static void parse_td_report(cct_rd *r, cct_tdx_td_report *b, int td15)
{
	int i;

	cct_rd_field(r, "TEE_TCB_SVN");
	cct_rd_copy(r, b->tee_tcb_svn, 16);          /* 0x000 */
	cct_rd_field(r, "MRSEAM");
	cct_rd_copy(r, b->mrseam, 48);               /* 0x010 */
	cct_rd_field(r, "MRSIGNERSEAM");
	cct_rd_copy(r, b->mrsignerseam, 48);         /* 0x040 */
	cct_rd_field(r, "SEAMATTRIBUTES");
	cct_rd_copy(r, b->seam_attributes, 8);       /* 0x070 */
	cct_rd_field(r, "TDATTRIBUTES");
	cct_rd_copy(r, b->td_attributes, 8);         /* 0x078 */
	cct_rd_field(r, "XFAM");
	cct_rd_copy(r, b->xfam, 8);                  /* 0x080 */
	cct_rd_field(r, "MRTD");
	cct_rd_copy(r, b->mrtd, 48);                 /* 0x088 */
	cct_rd_field(r, "MRCONFIGID");
	cct_rd_copy(r, b->mrconfigid, 48);           /* 0x0B8 */
	cct_rd_field(r, "MROWNER");
	cct_rd_copy(r, b->mrowner, 48);              /* 0x0E8 */
	cct_rd_field(r, "MROWNERCONFIG");
	cct_rd_copy(r, b->mrownerconfig, 48);        /* 0x118 */
	cct_rd_field(r, "RTMR");
	for (i = 0; i < 4; i++)
		cct_rd_copy(r, b->rtmr[i], 48);      /* 0x148 .. 0x1D8 */
	cct_rd_field(r, "REPORTDATA");
	cct_rd_copy(r, b->report_data, 64);          /* 0x208 */
	cct_rd_expect_off(r, CCT_TDX_TD10_BODY_SIZE);
	if (td15) {
		cct_rd_field(r, "TEE_TCB_SVN2");
		cct_rd_copy(r, b->tee_tcb_svn2, 16); /* 0x248 */
		cct_rd_field(r, "MRSERVICETD");
		cct_rd_copy(r, b->mrservicetd, 48);  /* 0x258 */
		cct_rd_expect_off(r, CCT_TDX_TD15_BODY_SIZE);
	}
}

static void parse_qe_report(cct_rd *r, cct_tdx_qe_report *q)
{
	cct_rd_field(r, "QE report CPUSVN");
	cct_rd_copy(r, q->cpu_svn, 16);              /* 0x000 */
	cct_rd_field(r, "QE report MISCSELECT");
	q->misc_select = cct_rd_u32le(r);            /* 0x010 */
	cct_rd_field(r, "QE report reserved");
	cct_rd_take(r, 28);                          /* 0x014 reserved1 + ISVEXTPRODID (signed) */
	cct_rd_field(r, "QE report ATTRIBUTES");
	cct_rd_copy(r, q->attributes, 16);           /* 0x030 */
	cct_rd_field(r, "QE report MRENCLAVE");
	cct_rd_copy(r, q->mr_enclave, 32);           /* 0x040 */
	cct_rd_field(r, "QE report reserved");
	cct_rd_take(r, 32);                          /* 0x060 */
	cct_rd_field(r, "QE report MRSIGNER");
	cct_rd_copy(r, q->mr_signer, 32);            /* 0x080 */
	cct_rd_field(r, "QE report reserved");
	cct_rd_take(r, 96);                          /* 0x0A0 reserved3 + CONFIGID */
	cct_rd_field(r, "QE report ISVPRODID");
	q->isv_prod_id = cct_rd_u16le(r);            /* 0x100 */
	cct_rd_field(r, "QE report ISVSVN");
	q->isv_svn = cct_rd_u16le(r);                /* 0x102 */
	cct_rd_field(r, "QE report reserved");
	cct_rd_take(r, 60);                          /* 0x104 CONFIGSVN, reserved4, ISVFAMILYID */
	cct_rd_field(r, "QE report REPORTDATA");
	cct_rd_copy(r, q->report_data, 64);          /* 0x140 */
	cct_rd_expect_off(r, CCT_TDX_QE_REPORT_SIZE);
}

/* Certification data type 6: QE report, its signature, QE auth data, nested type 5 PCK chain. */
static void parse_qe_cert_data(cct_rd *r, cct_tdx_quote *q)
{
	cct_rd rep, auth, cert;
	uint16_t auth_size;
	uint32_t cert_size;

	q->off_qe_report = cct_rd_pos(r);
	cct_rd_field(r, "QE report");
	cct_rd_sub(r, CCT_TDX_QE_REPORT_SIZE, &rep);
	q->qe_report_raw.p = rep.p;
	q->qe_report_raw.size = rep.len;
	parse_qe_report(&rep, &q->qe_report);
	cct_rd_join(r, &rep);
	q->off_qe_sig = cct_rd_pos(r);
	cct_rd_field(r, "QE report signature");
	cct_rd_copy(r, q->qe_report_sig, 64);
	cct_rd_field(r, "QE authentication data size");
	auth_size = cct_rd_u16le(r);
	q->off_qe_auth = cct_rd_pos(r);
	cct_rd_field(r, "QE authentication data");
	cct_rd_sub(r, auth_size, &auth);
	q->qe_auth_data.p = cct_rd_take(&auth, auth_size);
	q->qe_auth_data.size = q->qe_auth_data.p ? auth_size : 0;
	cct_rd_join(r, &auth);
	cct_rd_field(r, "PCK certification data type");
	q->pck_cert_type = cct_rd_u16le(r);
	if (!r->err && q->pck_cert_type != CERT_TYPE_PCK_CHAIN) {
		cct_rd_fail_at(r, CCT_EUNSUPPORTED, cct_rd_pos(r) - 2);
		return;
	}
	cct_rd_field(r, "PCK certification data size");
	cert_size = cct_rd_u32le(r);
	q->off_pck_chain = cct_rd_pos(r);
	cct_rd_field(r, "PCK certificate chain");
	cct_rd_sub(r, cert_size, &cert);
	q->pck_chain_pem.p = cct_rd_take(&cert, cert_size);
	q->pck_chain_pem.size = q->pck_chain_pem.p ? cert_size : 0;
	cct_rd_join(r, &cert);
}

static void parse_sig_data(cct_rd *r, cct_tdx_quote *q)
{
	cct_rd cd;
	uint32_t cert_size;

	cct_rd_field(r, "quote signature");
	cct_rd_copy(r, q->quote_sig, 64);            /* +0x00 */
	cct_rd_field(r, "attestation public key");
	cct_rd_copy(r, q->att_key, 64);              /* +0x40 */
	cct_rd_field(r, "certification data type");
	q->cert_type = cct_rd_u16le(r);              /* +0x80 */
	if (!r->err && q->cert_type != CERT_TYPE_QE_REPORT) {
		cct_rd_fail_at(r, CCT_EUNSUPPORTED, cct_rd_pos(r) - 2);
		return;
	}
	cct_rd_field(r, "certification data size");
	cert_size = cct_rd_u32le(r);                 /* +0x82 */
	cct_rd_field(r, "certification data");
	cct_rd_sub(r, cert_size, &cd);               /* +0x86 */
	parse_qe_cert_data(&cd, q);
	cct_rd_join(r, &cd);
}

int cct_tdx_quote_parse(cct_tdx_quote *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r, body, sig;
	size_t signed_end;

	if (!out || (!buf && len))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	memset(out, 0, sizeof(*out));
	if (len > CCT_TDX_MAX_QUOTE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 0,
				   "quote: %zu bytes is above the %u-byte cap", len,
				   CCT_TDX_MAX_QUOTE);
	cct_rd_init(&r, buf, len);

	cct_rd_field(&r, "header version");
	out->version = cct_rd_u16le(&r);                             /* 0x00 */
	if (!r.err && out->version != 4 && out->version != 5) {
		cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
			    "quote: version %u is not supported (want 4 or 5%s)", out->version,
			    out->version == 3 ? "; version 3 is an SGX quote" : "");
		return CCT_EUNSUPPORTED;
	}
	cct_rd_field(&r, "attestation key type");
	out->att_key_type = cct_rd_u16le(&r);                        /* 0x02 */
	if (!r.err && out->att_key_type != ATT_KEY_ECDSA_P256)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 2,
				   "quote: attestation key type %u is not supported (want 2, "
				   "ECDSA-256 with P-256)", out->att_key_type);
	cct_rd_field(&r, "TEE type");
	out->tee_type = cct_rd_u32le(&r);                            /* 0x04 */
	if (!r.err && out->tee_type != CCT_TDX_TEE_TYPE)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 4,
				   "quote: TEE type 0x%x is not TDX (0x81)", out->tee_type);
	cct_rd_field(&r, "QE SVN");
	out->qe_svn = cct_rd_u16le(&r);                              /* 0x08 */
	cct_rd_field(&r, "PCE SVN");
	out->pce_svn = cct_rd_u16le(&r);                             /* 0x0A */
	cct_rd_field(&r, "QE vendor ID");
	cct_rd_copy(&r, out->qe_vendor_id, 16);                      /* 0x0C */
	cct_rd_field(&r, "user data");
	cct_rd_copy(&r, out->user_data, 20);                         /* 0x1C */
	cct_rd_expect_off(&r, CCT_TDX_HEADER_SIZE);

	if (out->version == 4) {
		out->body_type = BODY_TYPE_TD10;
		out->body_size = CCT_TDX_TD10_BODY_SIZE;
	} else {
		cct_rd_field(&r, "body type");
		out->body_type = cct_rd_u16le(&r);                   /* 0x30 */
		cct_rd_field(&r, "body size");
		out->body_size = cct_rd_u32le(&r);                   /* 0x32 */
		if (!r.err && out->body_type != BODY_TYPE_TD10 &&
		    out->body_type != BODY_TYPE_TD15)
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0x30,
					   "quote: body type %u is not a TD report (want 2 or 3%s)",
					   out->body_type,
					   out->body_type == BODY_TYPE_SGX ? "; 1 is SGX" : "");
		if (!r.err && out->body_size != (out->body_type == BODY_TYPE_TD10
							 ? CCT_TDX_TD10_BODY_SIZE
							 : CCT_TDX_TD15_BODY_SIZE))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0x32,
					   "quote: body size %u does not match body type %u",
					   out->body_size, out->body_type);
	}
	cct_rd_field(&r, "TD report");
	cct_rd_sub(&r, out->body_size, &body);
	parse_td_report(&body, &out->body, out->body_type == BODY_TYPE_TD15);
	cct_rd_join(&r, &body);
	signed_end = r.off;
	out->signed_data.p = buf;
	out->signed_data.size = r.err ? 0 : signed_end;

	cct_rd_field(&r, "signature data size");
	out->sig_data_size = cct_rd_u32le(&r);
	out->off_sig_data = cct_rd_pos(&r);
	cct_rd_field(&r, "signature data");
	cct_rd_sub(&r, out->sig_data_size, &sig);
	parse_sig_data(&sig, out);
	cct_rd_join(&r, &sig);
	if (cct_rd_check(&r, err, "quote") != CCT_OK)
		return r.err;
	out->size = r.off;
	out->trailing_size = r.len - r.off;
	return CCT_OK;
}

int cct_tdx_input_decode(uint8_t **out, size_t *out_len, const uint8_t *in, size_t n,
			 cct_err *err)
{
	size_t i = 0;

	*out = NULL;
	*out_len = 0;
	/* ASCII hex with a "0x" prefix (dcap-qvl samples): strip the prefix, then let the core
	 * decoder tell hex from base64 from raw bytes */
	while (i < n && isspace(in[i]))
		i++;
	if (n - i >= 2 && in[i] == '0' && (in[i + 1] == 'x' || in[i + 1] == 'X')) {
		size_t j;

		for (j = i + 2; j < n; j++)
			if (!isxdigit(in[j]) && !isspace(in[j]))
				break;
		if (j == n) {
			int rc = cct_hex_decode(out, out_len, (const char *)in + i + 2,
						n - i - 2, err);

			if (rc == CCT_OK && *out_len > CCT_TDX_MAX_QUOTE) {
				free(*out);
				*out = NULL;
				return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
						   "quote: above the %u-byte cap",
						   CCT_TDX_MAX_QUOTE);
			}
			return rc;
		}
	}
	return cct_input_decode(out, out_len, in, n, 0, err);
}
