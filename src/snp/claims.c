/* SNP report -> claims (stable JSON names; see docs/snp.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "snp/claims.h"

static void hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[129];

	cct_hex_encode(buf, p, n);
	json_object_set_new(o, k, json_string(buf));
}

json_t *cct_snp__tcb_json(uint64_t raw, cct_snp_product p)
{
	cct_snp_tcb t = cct_snp_tcb_decode(raw, p);
	json_t *o = json_object();
	char r[32];

	json_object_set_new(o, "bootloader", json_integer(t.bootloader));
	json_object_set_new(o, "tee", json_integer(t.tee));
	json_object_set_new(o, "snp", json_integer(t.snp));
	json_object_set_new(o, "microcode", json_integer(t.microcode));
	if (p == CCT_SNP_PRODUCT_TURIN)
		json_object_set_new(o, "fmc", json_integer(t.fmc));
	snprintf(r, sizeof(r), "0x%016llx", (unsigned long long)raw);
	json_object_set_new(o, "raw", json_string(r));
	return o;
}

json_t *cct_snp_claims(const cct_snp_report *rep, const cct_snp_result *res)
{
	json_t *o = json_object(), *pb;
	cct_snp_product p = res && res->product ? res->product : cct_snp_report_product(rep);
	cct_snp_signing_key k = cct_snp_report_signing_key(rep);
	char v[32];

	json_object_set_new(o, "version", json_integer(rep->version));
	json_object_set_new(o, "guest_svn", json_integer(rep->guest_svn));
	json_object_set_new(o, "policy", json_integer((json_int_t)rep->policy));
	json_object_set_new(o, "vmpl", json_integer(rep->vmpl));
	hex(o, "measurement", rep->measurement, 48);
	hex(o, "host_data", rep->host_data, 32);
	hex(o, "report_data", rep->report_data, 64);
	hex(o, "chip_id", rep->chip_id, 64);
	hex(o, "id_key_digest", rep->id_key_digest, 48);
	hex(o, "author_key_digest", rep->author_key_digest, 48);
	json_object_set_new(o, "reported_tcb", cct_snp__tcb_json(rep->reported_tcb, p));
	json_object_set_new(o, "committed_tcb", cct_snp__tcb_json(rep->committed_tcb, p));
	json_object_set_new(o, "launch_tcb", cct_snp__tcb_json(rep->launch_tcb, p));
	json_object_set_new(o, "current_tcb", cct_snp__tcb_json(rep->current_tcb, p));
	json_object_set_new(o, "product",
			    p == CCT_SNP_PRODUCT_UNKNOWN ? json_null()
							 : json_string(cct_snp_product_name(p)));
	json_object_set_new(o, "signing_key",
			    json_string(k == CCT_SNP_KEY_VLEK	? "vlek"
					: k == CCT_SNP_KEY_VCEK ? "vcek"
								: "none"));
	hex(o, "family_id", rep->family_id, 16);
	hex(o, "image_id", rep->image_id, 16);
	hex(o, "report_id", rep->report_id, 32);
	hex(o, "report_id_ma", rep->report_id_ma, 32);
	json_object_set_new(o, "signature_algo", json_integer(rep->signature_algo));
	json_object_set_new(o, "platform_info", json_integer((json_int_t)rep->platform_info));
	json_object_set_new(o, "signer_info", json_integer(rep->flags));
	json_object_set_new(o, "author_key_en", json_boolean(rep->flags & 1));
	json_object_set_new(o, "mask_chip_key", json_boolean(rep->flags & 2));
	snprintf(v, sizeof(v), "%u.%u.%u", rep->current_major, rep->current_minor,
		 rep->current_build);
	json_object_set_new(o, "current_version", json_string(v));
	snprintf(v, sizeof(v), "%u.%u.%u", rep->committed_major, rep->committed_minor,
		 rep->committed_build);
	json_object_set_new(o, "committed_version", json_string(v));
	if (rep->version >= 3) {
		json_object_set_new(o, "cpuid_fam_id", json_integer(rep->cpuid_fam_id));
		json_object_set_new(o, "cpuid_mod_id", json_integer(rep->cpuid_mod_id));
		json_object_set_new(o, "cpuid_step", json_integer(rep->cpuid_step));
	}
	if (rep->version >= 5) {
		json_object_set_new(o, "launch_mit_vector",
				    json_integer((json_int_t)rep->launch_mit_vector));
		json_object_set_new(o, "current_mit_vector",
				    json_integer((json_int_t)rep->current_mit_vector));
	}
	pb = json_object();
	json_object_set_new(pb, "abi_major", json_integer((json_int_t)(rep->policy >> 8 & 0xff)));
	json_object_set_new(pb, "abi_minor", json_integer((json_int_t)(rep->policy & 0xff)));
	json_object_set_new(pb, "smt", json_boolean(rep->policy >> CCT_SNP_POLICY_SMT_BIT & 1));
	json_object_set_new(pb, "migrate_ma",
			    json_boolean(rep->policy >> CCT_SNP_POLICY_MIGRATE_MA_BIT & 1));
	json_object_set_new(pb, "debug", json_boolean(rep->policy >> CCT_SNP_POLICY_DEBUG_BIT & 1));
	json_object_set_new(pb, "single_socket",
			    json_boolean(rep->policy >> CCT_SNP_POLICY_SINGLE_SOCKET_BIT & 1));
	json_object_set_new(o, "policy_bits", pb);
	return o;
}

char *cct_snp_claims_json(const cct_snp_report *rep, const cct_snp_result *res)
{
	json_t *o = cct_snp_claims(rep, res);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(o);
	return s;
}

json_t *cct_snp_checks_skipped(const cct_snp_result *res, int report_data_checked)
{
	json_t *a = json_array();

	if (!report_data_checked)
		json_array_append_new(a, json_string("report_data"));
	if (!res || !res->crl_checked)
		json_array_append_new(a, json_string("crl"));
	if (res && res->chip_id_masked)
		json_array_append_new(a, json_string("chip_id"));
	return a;
}
