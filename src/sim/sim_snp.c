/* Simulated SEV-SNP platform: AMD-shaped test PKI and signed reports. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "sim/presign.h"
#include "sim/sim_snp.h"
#include "cctrust/core.h"
#include "x509/mint.h"
#include "x509/x509.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t tcb_encode(const cct_snp_tcb *t, cct_snp_product p)
{
	if (p == CCT_SNP_PRODUCT_TURIN)
		return (uint64_t)t->fmc | (uint64_t)t->bootloader << 8 | (uint64_t)t->tee << 16 |
		       (uint64_t)t->snp << 24 | (uint64_t)t->microcode << 56;
	return (uint64_t)t->bootloader | (uint64_t)t->tee << 8 | (uint64_t)t->snp << 48 |
	       (uint64_t)t->microcode << 56;
}

static X509 *mint_vcek(const cct_sim_snp *s, const cct_sim_snp_opts *o, time_t nb, time_t na)
{
	static const char *spl_oids[] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
					   "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8",
					   "1.3.6.1.4.1.3704.1.3.9" };
	cct_snp_tcb t = s->tcb;
	long vals[5];
	uint8_t *der[8] = { 0 };
	size_t len[8];
	cct_mint_ext ext[8];
	cct_mint_spec spec;
	size_t i, n = 0;
	X509 *x;
	const char *pname = s->product == CCT_SNP_PRODUCT_TURIN	  ? "Turin"
			    : s->product == CCT_SNP_PRODUCT_GENOA ? "Genoa-B1"
								  : "Milan-B0";

	if (o && o->vcek_tcb_mismatch)
		t.snp = (uint8_t)(t.snp + 1);
	vals[0] = t.bootloader;
	vals[1] = t.tee;
	vals[2] = t.snp;
	vals[3] = t.microcode;
	vals[4] = t.fmc;
	der[n] = cct_mint_der_ia5(pname, &len[n]);
	ext[n] = (cct_mint_ext){ "1.3.6.1.4.1.3704.1.2", der[n], len[n], 0 };
	n++;
	for (i = 0; i < (s->product == CCT_SNP_PRODUCT_TURIN ? 5u : 4u); i++) {
		der[n] = cct_mint_der_integer(vals[i], &len[n]);
		ext[n] = (cct_mint_ext){ spl_oids[i], der[n], len[n], 0 };
		n++;
	}
	if (!s->vlek) { /* a VLEK is not bound to one chip: no hwID */
		der[n] = cct_mint_der_octets(s->chip_id,
					     s->product == CCT_SNP_PRODUCT_TURIN ? 8 : 64, &len[n]);
		ext[n] = (cct_mint_ext){ "1.3.6.1.4.1.3704.1.4", der[n], len[n], 0 };
		n++;
	}
	memset(&spec, 0, sizeof(spec));
	spec.cn = s->vlek ? "SEV-VLEK" : "SEV-VCEK";
	spec.org = "Advanced Micro Devices (SIMULATED)";
	spec.ou = "Engineering";
	spec.key = s->vcek_key;
	spec.issuer = s->ask;
	spec.issuer_key = s->ask_key;
	spec.serial = o && o->vcek_serial ? o->vcek_serial : 1;
	spec.not_before = nb;
	spec.not_after = na;
	spec.pss = 1;
	spec.exts = ext;
	spec.ext_count = n;
	x = cct_mint_cert(&spec);
	for (i = 0; i < n; i++)
		OPENSSL_free(der[i]);
	return x;
}

int cct_sim_snp_new(cct_sim_snp **out, const cct_sim_snp_opts *o, cct_err *err)
{
	cct_sim_snp *s = calloc(1, sizeof(*s));
	cct_mint_spec spec;
	time_t now = time(NULL);
	int bits = o && o->rsa_bits ? o->rsa_bits : 4096;
	const char *pn;
	char cn[64];

	*out = NULL;
	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	s->product = o && o->product ? o->product : CCT_SNP_PRODUCT_MILAN;
	pn = cct_snp_product_name(s->product);
	if (o && (o->tcb.bootloader || o->tcb.tee || o->tcb.snp || o->tcb.microcode || o->tcb.fmc))
		s->tcb = o->tcb;
	else
		s->tcb = (cct_snp_tcb){ .bootloader = 3, .tee = 0, .snp = 8, .microcode = 115 };
	if (o && o->has_chip_id)
		memcpy(s->chip_id, o->chip_id, 64);
	else
		RAND_bytes(s->chip_id, 64);
	s->ark_key = cct_mint_rsa_key(bits);
	s->ask_key = cct_mint_rsa_key(bits);
	s->vcek_key = cct_mint_ec_key("P-384");
	if (!s->ark_key || !s->ask_key || !s->vcek_key)
		goto fail;
	memset(&spec, 0, sizeof(spec));
	snprintf(cn, sizeof(cn), "ARK-%s", pn);
	spec.cn = cn;
	spec.org = "Advanced Micro Devices (SIMULATED)";
	spec.ou = "Engineering";
	spec.key = s->ark_key;
	spec.issuer_key = s->ark_key;
	spec.serial = 0x10000;
	spec.not_before = now - 86400;
	spec.not_after = now + 25L * 365 * 86400;
	spec.is_ca = 1;
	spec.pss = 1;
	s->ark = cct_mint_cert(&spec);
	s->vlek = o && o->vlek;
	snprintf(cn, sizeof(cn), s->vlek ? "SEV-VLEK-%s" : "SEV-%s", pn);
	spec.cn = cn;
	spec.key = s->ask_key;
	spec.issuer = s->ark;
	spec.serial = 0x10001;
	s->ask = cct_mint_cert(&spec);
	if (!s->ark || !s->ask)
		goto fail;
	s->vcek = mint_vcek(s, o, o && o->not_before ? o->not_before : now - 86400,
			    o && o->not_after ? o->not_after : now + 7L * 365 * 86400);
	if (!s->vcek)
		goto fail;
	*out = s;
	return CCT_OK;
fail:
	cct_sim_snp_free(s);
	return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot mint the simulated SNP PKI");
}

void cct_sim_snp_free(cct_sim_snp *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->ark_key);
	EVP_PKEY_free(s->ask_key);
	EVP_PKEY_free(s->vcek_key);
	X509_free(s->ark);
	X509_free(s->ask);
	X509_free(s->vcek);
	free(s);
}

int cct_sim_snp_sign(uint8_t report[CCT_SNP_REPORT_SIZE], EVP_PKEY *key)
{
	uint8_t dgst[48], rs[144];
	int i;

	cct_sha384(report, CCT_SNP_SIGNED_SIZE, dgst);
	if (cct_sim__ecdsa_sign_raw(key, dgst, sizeof(dgst), rs, 72) != 0)
		return -1;
	/* the report carries r and s little-endian, 72 bytes each */
	for (i = 0; i < 72; i++) {
		report[0x2A0 + i] = rs[71 - i];
		report[0x2E8 + i] = rs[143 - i];
	}
	return 0;
}

int cct_sim_snp_report(uint8_t out[CCT_SNP_REPORT_SIZE], const cct_sim_snp *s,
		       const cct_sim_snp_report_opts *o, cct_err *err)
{
	uint64_t tcb = tcb_encode(&s->tcb, s->product);
	uint32_t version = o && o->version ? o->version : 3;

	memset(out, 0, CCT_SNP_REPORT_SIZE);
	put_u32(out + 0x000, version);
	put_u32(out + 0x004, o ? o->guest_svn : 0);
	put_u64(out + 0x008, o && o->policy ? o->policy : 0x30000);
	put_u32(out + 0x030, o ? o->vmpl : 0);
	put_u32(out + 0x034, 1);
	put_u64(out + 0x038, tcb);
	put_u64(out + 0x040, 1);
	put_u32(out + 0x048, s->vlek ? 1u << 2 : 0); /* SIGNING_KEY: 0 VCEK, 1 VLEK */
	if (o) {
		memcpy(out + 0x050, o->report_data, 64);
		memcpy(out + 0x090, o->measurement, 48);
		memcpy(out + 0x0C0, o->host_data, 32);
	}
	RAND_bytes(out + 0x140, 32);
	memset(out + 0x160, 0xff, 32);
	put_u64(out + 0x180, tcb);
	if (version >= 3) {
		out[0x188] = s->product == CCT_SNP_PRODUCT_TURIN ? 0x1a : 0x19;
		out[0x189] = s->product == CCT_SNP_PRODUCT_GENOA ? 0x11 : 0x01;
		out[0x18A] = 1;
	}
	memcpy(out + 0x1A0, s->chip_id, 64);
	put_u64(out + 0x1E0, tcb);
	out[0x1E8] = 4;
	out[0x1E9] = 55;
	out[0x1EA] = 1;
	out[0x1EC] = 4;
	out[0x1ED] = 55;
	out[0x1EE] = 1;
	put_u64(out + 0x1F0, tcb);
	if (cct_sim_snp_sign(out, s->vcek_key) != 0)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "signing failed");
	return CCT_OK;
}

char *cct_sim_snp_crl_pem(const cct_sim_snp *s, const long *serials, size_t n, time_t last,
			  time_t next)
{
	X509_CRL *crl = cct_mint_crl(s->ark, s->ark_key, 1, serials, n, -1, last, next);
	char *pem = crl ? cct_mint_crl_pem(crl) : NULL;

	X509_CRL_free(crl);
	return pem;
}

int cct_sim_snp_save(const cct_sim_snp *s, const char *dir, cct_err *err)
{
	char *t[6];
	char hex[129], info[512];
	int rc = CCT_OK, i;

	mkdir(dir, 0755);
	t[0] = cct_mint_cert_pem(s->ark);
	t[1] = cct_mint_cert_pem(s->ask);
	t[2] = cct_mint_cert_pem(s->vcek);
	t[3] = cct_mint_key_pem(s->vcek_key);
	t[4] = cct_mint_key_pem(s->ark_key);
	t[5] = cct_mint_key_pem(s->ask_key);
	cct_hex_encode(hex, s->chip_id, 64);
	snprintf(info, sizeof(info),
		 "{\"product\":\"%s\",\"chip_id\":\"%s\",\"tcb\":{\"bootloader\":%u,\"tee\":%u,"
		 "\"snp\":%u,\"microcode\":%u,\"fmc\":%u},\"simulated\":true}\n",
		 cct_snp_product_name(s->product), hex, s->tcb.bootloader, s->tcb.tee, s->tcb.snp,
		 s->tcb.microcode, s->tcb.fmc);
	static const char *const names[6] = { "ark.pem", "ask.pem", "vcek.pem",
					      "vcek.key", "ark.key", "ask.key" };

	/* each text is owned (wiped and freed) by cct_mint_save_text, saved or not */
	for (i = 0; i < 6; i++)
		if (rc == CCT_OK)
			rc = cct_mint_save_text(dir, names[i], t[i], i >= 3, err);
		else if (t[i]) {
			cct_wipe(t[i], strlen(t[i]));
			free(t[i]);
		}
	if (rc == CCT_OK)
		rc = cct_mint_save_text(dir, "info.json", strdup(info), 0, err);
	return rc;
}

int cct_sim_snp_load(cct_sim_snp **out, const char *dir, cct_err *err)
{
	cct_sim_snp *s = calloc(1, sizeof(*s));
	char path[4096];
	json_t *info = NULL, *t;
	const char *p;
	int rc;

	*out = NULL;
	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if ((rc = cct_mint_load_pem(dir, "ark.pem", &s->ark, NULL, err)) ||
	    (rc = cct_mint_load_pem(dir, "ask.pem", &s->ask, NULL, err)) ||
	    (rc = cct_mint_load_pem(dir, "vcek.pem", &s->vcek, NULL, err)) ||
	    (rc = cct_mint_load_pem(dir, "vcek.key", NULL, &s->vcek_key, err)) ||
	    (rc = cct_mint_load_pem(dir, "ark.key", NULL, &s->ark_key, err)) ||
	    (rc = cct_mint_load_pem(dir, "ask.key", NULL, &s->ask_key, err)))
		goto fail;
	snprintf(path, sizeof(path), "%s/info.json", dir);
	info = json_load_file(path, 0, NULL);
	p = json_string_value(json_object_get(info, "product"));
	s->product = p && !strcmp(p, "Turin")	? CCT_SNP_PRODUCT_TURIN
		     : p && !strcmp(p, "Genoa") ? CCT_SNP_PRODUCT_GENOA
						: CCT_SNP_PRODUCT_MILAN;
	p = json_string_value(json_object_get(info, "chip_id"));
	if (!p || cct_hex_decode_fixed(s->chip_id, 64, p, err) != CCT_OK) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "%s: bad chip_id", path);
		goto fail;
	}
	t = json_object_get(info, "tcb");
	s->tcb.bootloader = (uint8_t)json_integer_value(json_object_get(t, "bootloader"));
	s->tcb.tee = (uint8_t)json_integer_value(json_object_get(t, "tee"));
	s->tcb.snp = (uint8_t)json_integer_value(json_object_get(t, "snp"));
	s->tcb.microcode = (uint8_t)json_integer_value(json_object_get(t, "microcode"));
	s->tcb.fmc = (uint8_t)json_integer_value(json_object_get(t, "fmc"));
	json_decref(info);
	*out = s;
	return CCT_OK;
fail:
	json_decref(info);
	cct_sim_snp_free(s);
	return rc;
}
