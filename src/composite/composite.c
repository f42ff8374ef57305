/* Composite verification: request -> modules -> binding -> policy -> result + EAR claims.
 * Order matters and is fail closed: nothing is appraised before its evidence verified, and a
 * binding mismatch rejects the whole request (no token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cctrust/core.h"
#include "composite/internal.h"
#include "json/json.h"
#include "cctrust/collateral.h"

static const char *const tv_names[] = { "instance-identity", "configuration", "executables",
					"file-system", "hardware", "runtime-opaque",
					"storage-opaque", "sourced-data" };

static const char *form_name(cct_cpu_form f)
{
	switch (f) {
	case CCT_CPU_SNP_RAW: return "snp-report";
	case CCT_CPU_SNP_TSM: return "snp-configfs-tsm";
	case CCT_CPU_SNP_SERDE: return "snp-virtee-serde";
	case CCT_CPU_TDX: return "tdx-quote";
	case CCT_CPU_AZ_SNP_VTPM: return "az-snp-vtpm";
	case CCT_CPU_AZ_TDX_VTPM: return "az-tdx-vtpm";
	default: return "unknown";
	}
}

static json_t *hexj(const uint8_t *p, size_t n)
{
	char buf[257];

	if (n > 128)
		n = 128;
	cct_hex_encode(buf, p, n);
	return json_string(buf);
}

/* EAR submod name of device i as Trustee names it: NVSwitches (arch LS10) are switch0..,
 * GPUs gpu0.. (each counted among its own kind). */
static void submod_name(char *buf, size_t size, const json_t *devices, size_t i)
{
	size_t j, k = 0;
	const char *a = json_string_value(json_object_get(json_array_get(devices, i), "arch"));
	int sw = a && !strcasecmp(a, "LS10");

	for (j = 0; j < i; j++) {
		const char *b = json_string_value(json_object_get(json_array_get(devices, j), "arch"));

		if ((b && !strcasecmp(b, "LS10")) == sw)
			k++;
	}
	snprintf(buf, size, "%s%zu", sw ? "switch" : "gpu", k);
}

/* What one submod's verification established, for its AR4SI trust vector. */
typedef struct {
	int ref_exec;          /* executables compared with reference values (and matched) */
	int ref_fs;            /* file system (model specs) appraised */
	int simulated;         /* rooted in a simulated / overriding root, not the vendor's */
	int revocation_skipped;/* CRL / OCSP not checked: the key may be revoked */
	int binding_skipped;   /* evidence not bound to this request (replayable) */
	int nonce_unchecked;   /* no session nonce: freshness not established */
	int tcb_warning;       /* genuine, but its TCB is not up to date (policy accepted it) */
} tv_facts;

/* AR4SI trust vector (draft-ietf-rats-ar4si, values as in veraison/ear) of one submod, derived
 * from what was verified: hardware 2 only for a chain to the vendor's root (97 "unrecognized"
 * for a simulated root, 32 for an out-of-date TCB); instance-identity 2 only when revocation,
 * binding and freshness were all checked (0 "no claim" when one was skipped, 97 when
 * simulated); executables/file-system 2 only when appraised against references; 96
 * (contraindicated) for every category with a failing rule. */
static json_t *trust_vector(const json_t *failures, const tv_facts *t)
{
	json_t *tv = json_object(), *f;
	size_t i, j;
	int ident = 2, hw = 2;

	if (t->revocation_skipped || t->binding_skipped || t->nonce_unchecked)
		ident = 0;
	if (t->tcb_warning)
		hw = 32;
	if (t->simulated)
		ident = hw = 97;
	json_object_set_new(tv, "instance-identity", json_integer(ident));
	json_object_set_new(tv, "configuration", json_integer(2));
	json_object_set_new(tv, "executables", json_integer(t->ref_exec ? 2 : 0));
	json_object_set_new(tv, "file-system", json_integer(t->ref_fs ? 2 : 0));
	json_object_set_new(tv, "hardware", json_integer(hw));
	json_object_set_new(tv, "runtime-opaque", json_integer(0));
	json_object_set_new(tv, "storage-opaque", json_integer(0));
	json_object_set_new(tv, "sourced-data", json_integer(0));
	json_array_foreach(failures, i, f) {
		const char *cat = json_string_value(json_object_get(f, "category"));

		for (j = 0; j < sizeof(tv_names) / sizeof(tv_names[0]); j++)
			if (cat && !strcmp(cat, tv_names[j]))
				json_object_set_new(tv, tv_names[j], json_integer(96));
	}
	return tv;
}

static void set_error(cct_composite_result *out, int rc, const cct_err *e)
{
	json_t *o = json_object();

	out->status = rc;
	if (e && e != &out->err)
		out->err = *e;
	json_object_set_new(o, "code", json_string(cct_code_name(rc)));
	json_object_set_new(o, "stage", json_string(cct_stage_name(out->err.stage)));
	json_object_set_new(o, "message", json_string(out->err.msg[0] ? out->err.msg : cct_strerror(rc)));
	json_object_set_new(out->result, "error", o);
}

/* pol's and other's GPU rules and RIM requirement, the policy parts the GPU verification
 * itself reads (step 5): equal, so a GPU verified under one is verified under the other */
static int same_gpu_checks(const cct_policy *pol, const cct_policy *other)
{
	const json_t *a = cct_policy_section(pol, "gpu"), *b = cct_policy_section(other, "gpu");
	const json_t *ra = json_object_get(a, "authorization_rules");
	const json_t *rb = json_object_get(b, "authorization_rules");

	return json_is_false(json_object_get(a, "require_measres")) ==
		       json_is_false(json_object_get(b, "require_measres")) &&
	       (ra == rb || (ra && rb && json_equal((json_t *)ra, (json_t *)rb)));
}

/* The verified evidence judged under each of opts->also_policies, from the failures the
 * verification recorded before pol's own rules are added (steps 1-4 do not read the policy;
 * step 5 reads only what same_gpu_checks compares): what cct_composite_verify with that
 * policy would decide. -1 where its GPU checks differ from pol's; also_ok is 0 on entry. */
static void also_appraise(const cct_composite_opts *opts, const cct_policy *pol,
			  const cct_policy_claims *c, int gpu_rc, json_t *cpu_fail,
			  json_t *const *gpu_fail, size_t ngpu)
{
	size_t j, i;

	for (j = 0; opts->also_ok && j < opts->also_count; j++) {
		const cct_policy *p = opts->also_policies ? opts->also_policies[j] : NULL;
		json_t *cf, *gf[CCT_COMPOSITE_MAX_GPUS] = { 0 };
		int ok;

		if (!p)
			continue;
		if (ngpu && !same_gpu_checks(pol, p)) {
			opts->also_ok[j] = -1;
			continue;
		}
		if (gpu_rc != CCT_OK)
			continue;
		cf = json_copy(cpu_fail);
		ok = cf != NULL;
		for (i = 0; i < ngpu; i++)
			ok &= (gf[i] = json_copy(gpu_fail[i])) != NULL;
		if (ok) {
			cct_policy_evaluate(p, c, cf, gf);
			ok = json_array_size(cf) == 0;
			for (i = 0; i < ngpu; i++)
				ok &= json_array_size(gf[i]) == 0;
		}
		for (i = 0; i < ngpu; i++)
			json_decref(gf[i]);
		json_decref(cf);
		opts->also_ok[j] = ok;
	}
}

int cct_composite_verify(cct_composite_result *out, const uint8_t *body, size_t len,
			 const cct_policy *pol, const cct_composite_opts *opts,
			 const cct_token_signer *signer)
{
	cct_composite_opts dflt;
	cct_request req;
	cct_init_data init;
	cct_ev_out cpu, gpu[CCT_COMPOSITE_MAX_GPUS];
	json_t *gpu_claims[CCT_COMPOSITE_MAX_GPUS] = { 0 }, *gpu_fail[CCT_COMPOSITE_MAX_GPUS] = { 0 };
	json_t *cpu_fail = json_array(), *insecure = json_array(), *all_fail = json_array();
	json_t *skipped = json_array();
	json_t *submods = json_object(), *rd_claims = NULL;
	uint8_t want_cpu[64], want_gpu[32], want_init[48];
	cct_ev_in in;
	void *gpu_ctx = NULL;
	cct_coll_bundle *own_bundle = NULL;
	cct_collateral_source own_src;
	const cct_collateral_source *coll_src = NULL;
	const char *coll_dir = NULL;
	cct_err e;
	size_t ngpu = 0, i;
	time_t now;
	int rc = CCT_ERROR, gpu_rc = CCT_OK, simulated = 0, cpu_ok = 0;

	memset(out, 0, sizeof(*out));
	memset(&req, 0, sizeof(req));
	memset(&init, 0, sizeof(init));
	memset(&cpu, 0, sizeof(cpu));
	memset(gpu, 0, sizeof(gpu));
	cct_err_clear(&e);
	if (!opts) {
		memset(&dflt, 0, sizeof(dflt));
		opts = &dflt;
	}
	now = opts->at ? opts->at : time(NULL);
	for (i = 0; opts->also_ok && i < opts->also_count; i++)
		opts->also_ok[i] = 0; /* what does not get as far as the policy satisfies none */
	out->result = json_object();
	json_object_set_new(out->result, "verified", json_false());
	json_object_set_new(out->result, "status", json_string("contraindicated"));
	json_object_set_new(out->result, "error", json_null());
	json_object_set_new(out->result, "policy_id", json_string(cct_policy_id(pol)));
	if (!pol) {
		cct_err_set(&e, CCT_EINVAL, CCT_STAGE_POLICY, 0, "no policy given");
		rc = CCT_EINVAL;
		goto fail;
	}

	/* 1. shape */
	rc = cct_composite__request_parse_root(&req, body, len, opts->parsed_request,
					       opts->tee_hint, &e);
	if (rc != CCT_OK)
		goto fail;
	json_object_set_new(out->result, "tee", json_string(req.tee));
	json_object_set_new(out->result, "evidence_form", json_string(form_name(req.cpu_form)));
	ngpu = req.gpu_devices ? json_array_size(req.gpu_devices) : 0;
	json_object_set_new(out->result, "gpu_count", json_integer((json_int_t)ngpu));
	rd_claims = json_object();
	if (opts->bound_report_data) { /* the caller binds (attested TLS): no runtime data */
		if (req.runtime_data || !opts->bound_gpu_nonce) {
			rc = cct_err_set(&e, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 req.runtime_data ? "runtime-data present but the caller "
							    "binds the evidence itself"
							  : "bound_gpu_nonce missing");
			goto fail;
		}
		memcpy(want_cpu, opts->bound_report_data, 64);
		memcpy(want_gpu, opts->bound_gpu_nonce, 32);
		json_object_set_new(out->result, "runtime_data", json_null());
		rc = cct_composite__init_data(&init, req.init_data, &e);
		if (rc != CCT_OK)
			goto fail;
		goto bound;
	}
	if (!req.runtime_data) {
		rc = cct_err_set(&e, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "runtime-data: missing or not an object");
		goto fail;
	}
	json_object_set_new(rd_claims, "nonce", json_string(req.nonce));
	json_object_set(rd_claims, "tee-pubkey", (json_t *)req.tee_pubkey);
	json_object_set(out->result, "runtime_data", rd_claims);
	{ /* the tee-pubkey must be a usable key: the broker wraps secrets to it */
		void *pk = NULL;

		rc = cct_token_jwk_to_pkey(&pk, req.tee_pubkey, &e);
		EVP_PKEY_free((EVP_PKEY *)pk);
		if (rc != CCT_OK) {
			e.stage = CCT_STAGE_INPUT;
			goto fail;
		}
	}
	rc = cct_composite__init_data(&init, req.init_data, &e);
	if (rc != CCT_OK)
		goto fail;
	rc = cct_composite__cpu_binding(want_cpu, &req, &e);
	if (rc == CCT_OK)
		rc = cct_composite__gpu_binding(want_gpu, &req, &e);
	if (rc != CCT_OK)
		goto fail;

	/* 2. freshness: the nonce is the session's */
bound:
	if (opts->expected_nonce && opts->bound_report_data) {
		rc = cct_err_set(&e, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "expected_nonce with bound_report_data: the caller checks its nonce");
		goto fail;
	} else if (opts->bound_report_data) {
		json_object_set_new(out->result, "nonce", json_string("caller-bound"));
	} else if (opts->expected_nonce) {
		uint8_t *nb = NULL;
		size_t nn = 0;
		int same;

		cct_b64_decode(&nb, &nn, req.nonce, strlen(req.nonce), NULL);
		same = nb && nn == opts->expected_nonce_len &&
		       cct_ct_eq(nb, opts->expected_nonce, nn);
		free(nb);
		if (!same) {
			rc = cct_err_set(&e, CCT_ENONCE, CCT_STAGE_BINDING, 0,
					 "runtime-data.nonce is not the expected (session) nonce: "
					 "replayed or stale evidence");
			goto fail;
		}
		json_object_set_new(out->result, "nonce", json_string("checked"));
	} else {
		json_object_set_new(out->result, "nonce", json_string("not-checked"));
		json_array_append_new(insecure, json_string("nonce-not-checked"));
		json_array_append_new(skipped, json_string("nonce"));
	}

	/* collateral: a source, or a directory that is a bundle, or the per-vendor directories */
	coll_src = opts->collateral;
	coll_dir = opts->collateral_dir;
	if (!coll_src && coll_dir && cct_coll_is_bundle(coll_dir)) {
		rc = cct_coll_bundle_open(&own_bundle, coll_dir, 0, &e);
		if (rc != CCT_OK)
			goto fail;
		cct_coll_bundle_source(&own_src, own_bundle);
		coll_src = &own_src;
		coll_dir = NULL;
	}

	/* 3. CPU evidence */
	memset(&in, 0, sizeof(in));
	in.evidence = req.primary;
	in.cpu_form = req.cpu_form;
	in.expected = want_cpu;
	in.expected_len = 64;
	in.at = now;
	in.collateral_dir = coll_dir;
	in.collateral = coll_src;
	in.offline = opts->offline;
	in.certs_path = opts->certs_path;
	in.crl_check_off_insecure = opts->crl_check_off_insecure;
	in.trust_sim_dir = opts->trust_sim_dir;
	rc = !strcmp(req.tee, "snp")	     ? cct_composite__ev_snp(&cpu, &in, &e)
	     : !strncmp(req.tee, "az-", 3) ? cct_composite__ev_vtpm(&cpu, &in, &e)
					       : cct_composite__ev_tdx(&cpu, &in, &e);
	if (rc != CCT_OK)
		goto fail;
	simulated |= cpu.simulated;
	if (opts->crl_check_off_insecure)
		json_array_append_new(insecure, json_string("no-crl"));
	if (!cpu.crl_checked)
		json_array_append_new(skipped, json_string("crl"));
	if (cpu.chip_id_unchecked)
		json_array_append_new(skipped, json_string("chip_id"));

	/* 4. binding (Trustee): REPORT_DATA = pad64(SHA-384(JCS(runtime data + GPU evidence))) */
	if (opts->skip_binding_insecure) {
		json_object_set_new(out->result, "binding", json_string("skipped"));
		json_array_append_new(insecure, json_string("skip-binding"));
		json_array_append_new(skipped, json_string("binding"));
	} else {
		if (cpu.bound_len != 64 || !cct_ct_eq(cpu.bound, want_cpu, 64)) {
			char h1[129], h2[129];

			cct_hex_encode(h1, want_cpu, 64);
			cct_hex_encode(h2, cpu.bound, 64);
			rc = cct_err_set(&e, CCT_EBINDING, CCT_STAGE_BINDING, 0x50,
					 opts->bound_report_data
						 ? "REPORT_DATA is not the caller's binding (attested "
						   "TLS: the hash of the claims buffer): evidence made for "
						   "other claims (expected %.24s..., report has %.24s...)"
						 : "REPORT_DATA is not SHA-384(JCS({additional-evidence, "
						   "nonce, tee-pubkey})): the evidence was made for another "
						   "nonce, key or GPU evidence (expected %.24s..., report "
						   "has %.24s...)",
					 h1, h2);
			goto fail;
		}
		if (init.present) {
			size_t fl = cpu.init_field_len;

			memset(want_init, 0, sizeof(want_init));
			memcpy(want_init, init.digest, init.digest_len < fl ? init.digest_len : fl);
			if (!fl || !cct_ct_eq(cpu.init_field, want_init, fl)) {
				rc = cct_err_set(&e, CCT_EBINDING, CCT_STAGE_BINDING, 0,
						 "init-data digest does not match the %s: the guest "
						 "was launched with other init-data",
						 !strcmp(req.tee, "snp")	   ? "SNP HOST_DATA"
						 : !strcmp(req.tee, "tdx") ? "TDX MRCONFIGID"
									   : "vTPM evidence (it "
									     "carries no init-data "
									     "field)");
				goto fail;
			}
		}
		json_object_set_new(out->result, "binding", json_string("verified"));
	}
	cpu_ok = 1;

	/* 5. GPU evidence, each bound to the runtime data */
	for (i = 0; i < ngpu; i++) {
		cct_err ge;

		gpu_fail[i] = json_array();
		in.evidence = json_array_get(req.gpu_devices, i);
		in.expected = want_gpu;
		in.expected_len = 32;
		in.index = (int)i;
		in.gpu_rules = json_object_get(cct_policy_section(pol, "gpu"), "authorization_rules");
		in.gpu_no_rim = json_is_false(json_object_get(cct_policy_section(pol, "gpu"),
							      "require_measres"));
		in.gpu_ctx = &gpu_ctx;
		cct_err_clear(&ge);
		if (!json_is_object(in.evidence))
			rc = cct_err_set(&ge, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "device_evidence_list[%zu] is not an object", i);
		else
			rc = cct_composite__ev_gpu(&gpu[i], &in, &ge);
		if (rc == CCT_OK && !opts->skip_binding_insecure &&
		    (gpu[i].bound_len != 32 || !cct_ct_eq(gpu[i].bound, want_gpu, 32)))
			rc = cct_err_set(&ge, CCT_EBINDING, CCT_STAGE_BINDING, 0,
					 opts->bound_report_data
						 ? "gpu%zu SPDM nonce is not the caller's GPU binding: "
						   "GPU evidence not bound to these claims"
						 : "gpu%zu SPDM nonce is not the first 32 bytes of "
						   "SHA-384(JCS({nonce, tee-pubkey})): GPU evidence not "
						   "bound to this request",
					 i);
		if (rc != CCT_OK) {
			if (gpu_rc == CCT_OK) {
				gpu_rc = rc;
				e = ge;
			}
			continue;
		}
		simulated |= gpu[i].simulated;
		if (opts->skip_binding_insecure) {
			/* the SPDM nonce was compared with itself: nothing was checked */
			const char *arch = json_string_value(json_object_get(gpu[i].claims,
									     "x-cctrust-arch"));

			json_object_set_new(gpu[i].claims,
					    arch && !strcasecmp(arch, "LS10")
						    ? "x-nvidia-switch-attestation-report-nonce-match"
						    : "x-nvidia-gpu-attestation-report-nonce-match",
					    json_string("not_checked"));
			json_object_set_new(gpu[i].claims, "x-cctrust-freshness",
					    json_string("not-established"));
		}
		gpu_claims[i] = gpu[i].claims;
	}
	{ /* GPU checks not performed (OCSP, golden measurements, FWID), once each */
		size_t gi, xi;
		json_t *x;

		for (gi = 0; gi < ngpu; gi++) {
			char name[32];

			json_array_foreach(json_object_get(gpu_claims[gi], "x-cctrust-checks-skipped"),
					   xi, x) {
				snprintf(name, sizeof(name), "gpu-%s", json_string_value(x));
				cct_json__append_string_once(skipped, name);
			}
		}
	}

	/* 6. policy over verified claims (also when a GPU failed: every failing rule is named) */
	{
		cct_policy_claims c;

		memset(&c, 0, sizeof(c));
		c.tee = req.tee;
		c.cpu_claims = cpu.claims;
		c.gpu_claims = (const json_t *const *)gpu_claims;
		c.gpu_count = ngpu;
		c.nvidia = req.nvidia;
		c.gpu_devices = req.gpu_devices;
		c.init_present = init.present;
		c.init_digest = init.digest;
		c.init_digest_len = init.digest_len;
		c.init_claims = init.claims;
		c.binding_checked = !opts->skip_binding_insecure;
		also_appraise(opts, pol, &c, gpu_rc, cpu_fail, gpu_fail, ngpu);
		cct_policy_evaluate(pol, &c, cpu_fail, gpu_fail);
	}
	if (gpu_rc != CCT_OK) {
		rc = gpu_rc;
		goto fail;
	}

	/* 7. EAR claims: Trustee profile */
	{
		json_t *ear = json_object(), *vid = json_object(), *cpu0 = json_object(),
		       *ae = json_object();
		/* the section that judged this TEE's launch measurement: tdx for tdx and
		 * az-tdx-vtpm, snp for snp and az-snp-vtpm (an SNP measurement pinned in a policy
		 * that also allows az-tdx-vtpm compared nothing of that TD) */
		int is_tdx = strstr(req.tee, "tdx") != NULL;
		const json_t *psec = cct_policy_section(pol, is_tdx ? "tdx" : "snp");
		int ref_exec = json_object_get(psec, is_tdx ? "mrtd" : "measurements") != NULL;
		/* az-tdx-vtpm: the TD quote's claims are under claims.tdx */
		const json_t *tdxc = !strcmp(req.tee, "az-tdx-vtpm")
					     ? json_object_get(cpu.claims, "tdx")
					     : cpu.claims;
		int ref_fs = json_object_get(cct_policy_section(pol, "model"), "specs") != NULL;
		int ok;

		json_object_set_new(ear, "eat_profile", json_string(CCT_TOKEN_EAR_PROFILE));
		json_object_set_new(ear, "iat", json_integer((json_int_t)now));
		json_object_set_new(ear, "exp",
				    json_integer((json_int_t)now + (opts->token_ttl_s > 0
									    ? opts->token_ttl_s
									    : 300)));
		json_object_set_new(ear, "iss", json_string(opts->issuer ? opts->issuer : "cctrust"));
		json_object_set_new(vid, "developer", json_string("https://github.com/cctrust"));
		json_object_set_new(vid, "build", json_string("cctrust " CCT_VERSION_STRING));
		json_object_set_new(ear, "ear.verifier-id", vid);
		cct_composite__trustee_cpu_claims(cpu.claims, req.tee);
		json_object_set(ae, req.tee, cpu.claims);
		json_object_set_new(ae, "report_data", hexj(cpu.bound, cpu.bound_len));
		json_object_set_new(ae, "init_data",
				    init.present ? hexj(cpu.init_field, cpu.init_field_len) : json_null());
		json_object_set(ae, "init_data_claims", init.present ? init.claims : json_null());
		json_object_set(ae, "runtime_data_claims", rd_claims);
		ok = json_array_size(cpu_fail) == 0;
		json_object_set_new(cpu0, "ear.status", json_string(ok ? "affirming" : "contraindicated"));
		{
			tv_facts t;
			const char *tcb = json_string_value(json_object_get(tdxc, "tcb_status"));

			memset(&t, 0, sizeof(t));
			t.ref_exec = ref_exec;
			t.ref_fs = ref_fs;
			t.simulated = cpu.simulated;
			t.revocation_skipped = !cpu.crl_checked;
			t.binding_skipped = opts->skip_binding_insecure;
			t.nonce_unchecked = !opts->expected_nonce;
			t.tcb_warning = tcb && strcmp(tcb, "UpToDate") != 0;
			json_object_set_new(cpu0, "ear.trustworthiness-vector", trust_vector(cpu_fail, &t));
		}
		json_object_set_new(cpu0, "ear.appraisal-policy-id", json_string(cct_policy_id(pol)));
		json_object_set_new(cpu0, "ear.veraison.annotated-evidence", ae);
		if (simulated)
			json_object_set_new(cpu0, "cctrust.simulated", json_true());
		if (opts->skip_binding_insecure)
			json_object_set_new(cpu0, "cctrust.binding", json_string("skipped"));
		json_object_set(cpu0, "cctrust.checks_skipped", skipped);
		if (!ok)
			json_object_set(cpu0, "cctrust.failures", cpu_fail);
		json_object_set_new(submods, "cpu0", cpu0);
		for (i = 0; i < ngpu; i++) {
			json_t *g = json_object(), *gae = json_object(), *gc;
			char name[32];
			const json_t *cm;

			gc = json_deep_copy(gpu_claims[i]);
			cm = json_object_get(json_array_get(req.gpu_devices, i), "cc_mode");
			if (!cm && req.nvidia)
				cm = json_object_get(req.nvidia, "cc_mode");
			json_object_set_new(gc, "x-cctrust-gpu-cc-mode", cm ? json_deep_copy(cm) : json_null());
			json_object_set_new(gae, "nvidia", gc);
			json_object_set(gae, "runtime_data_claims", rd_claims);
			ok = json_array_size(gpu_fail[i]) == 0;
			json_object_set_new(g, "ear.status", json_string(ok ? "affirming" : "contraindicated"));
			{
				tv_facts t;

				memset(&t, 0, sizeof(t));
				t.ref_exec = !strcmp(json_string_value(json_object_get(gpu_claims[i], "measres"))
							     ? json_string_value(json_object_get(gpu_claims[i], "measres"))
							     : "", "success");
				t.simulated = gpu[i].simulated;
				t.revocation_skipped = !gpu[i].crl_checked;
				t.binding_skipped = opts->skip_binding_insecure;
				t.nonce_unchecked = !opts->expected_nonce;
				json_object_set_new(g, "ear.trustworthiness-vector",
						    trust_vector(gpu_fail[i], &t));
			}
			if (gpu[i].simulated)
				json_object_set_new(g, "cctrust.simulated", json_true());
			json_object_set_new(g, "ear.appraisal-policy-id", json_string(cct_policy_id(pol)));
			json_object_set_new(g, "ear.veraison.annotated-evidence", gae);
			if (!ok)
				json_object_set(g, "cctrust.failures", gpu_fail[i]);
			submod_name(name, sizeof(name), req.gpu_devices, i);
			json_object_set_new(submods, name, g);
		}
		json_object_set(ear, "submods", submods);
		out->ear = ear;
	}
	rc = CCT_OK;
fail:
	/* what the options turned off is listed whatever the stage reached (a refusal before
	 * the CPU evidence or the binding is judged still says what would not have been) */
	if (opts->crl_check_off_insecure) {
		cct_json__append_string_once(insecure, "no-crl");
		cct_json__append_string_once(skipped, "crl");
		if (ngpu)
			cct_json__append_string_once(skipped, "gpu-ocsp");
	}
	if (opts->skip_binding_insecure) {
		cct_json__append_string_once(insecure, "skip-binding");
		cct_json__append_string_once(skipped, "binding");
	}
	if (!opts->expected_nonce && !opts->bound_report_data) {
		cct_json__append_string_once(insecure, "nonce-not-checked");
		cct_json__append_string_once(skipped, "nonce");
	}
	/* result document */
	json_array_extend(all_fail, cpu_fail);
	for (i = 0; i < ngpu; i++)
		if (gpu_fail[i])
			json_array_extend(all_fail, gpu_fail[i]);
	json_object_set(out->result, "failures", all_fail);
	if (cpu_ok || cpu.claims) {
		json_t *rs = json_object(), *c0 = json_object();

		json_object_set_new(c0, "tee", json_string(req.tee));
		json_object_set_new(c0, "status", json_string(json_array_size(cpu_fail) || !cpu_ok
								      ? "contraindicated"
								      : "affirming"));
		json_object_set(c0, "claims", cpu.claims);
		json_object_set(c0, "failures", cpu_fail);
		json_object_set_new(rs, "cpu0", c0);
		for (i = 0; i < ngpu; i++) {
			json_t *g = json_object();
			char name[32];

			json_object_set_new(g, "status",
					    json_string(gpu_claims[i] && json_array_size(gpu_fail[i]) == 0
								? "affirming"
								: "contraindicated"));
			json_object_set_new(g, "verified", json_boolean(gpu_claims[i] != NULL));
			json_object_set(g, "claims", gpu_claims[i] ? gpu_claims[i] : json_null());
			json_object_set(g, "failures", gpu_fail[i]);
			submod_name(name, sizeof(name), req.gpu_devices, i);
			json_object_set_new(rs, name, g);
		}
		json_object_set_new(out->result, "submods", rs);
	}
	if (init.present) {
		json_t *id = json_object();

		json_object_set_new(id, "algorithm", json_string(init.algorithm));
		json_object_set_new(id, "digest", hexj(init.digest, init.digest_len));
		json_object_set(id, "claims", init.claims);
		json_object_set_new(out->result, "init_data", id);
	}
	json_object_set_new(out->result, "simulated", json_boolean(simulated));
	if (simulated)
		json_array_append_new(insecure, json_string("simulated-tee"));
	json_object_set(out->result, "insecure", insecure);
	json_object_set(out->result, "checks_skipped", skipped);
	if (rc == CCT_OK && json_array_size(all_fail))
		rc = cct_policy_failures_error(all_fail, &e);
	if (rc != CCT_OK) {
		set_error(out, rc, &e);
	} else {
		out->status = CCT_OK;
		json_object_set_new(out->result, "verified", json_true());
		json_object_set_new(out->result, "status", json_string("affirming"));
	}
	if (out->ear && signer) {
		cct_err te;

		if (cct_token_sign(&out->token, signer, out->ear, &te) != CCT_OK) {
			json_decref(out->ear);
			out->ear = NULL;
			out->token = NULL;
			if (out->status == CCT_OK)
				set_error(out, te.code, &te);
		}
	}
	cct_composite__ev_gpu_ctx_free(gpu_ctx);
	cct_coll_bundle_free(own_bundle);
	json_decref(rd_claims);
	json_decref(cpu_fail);
	json_decref(all_fail);
	json_decref(insecure);
	json_decref(skipped);
	json_decref(submods);
	for (i = 0; i < CCT_COMPOSITE_MAX_GPUS; i++) {
		json_decref(gpu_fail[i]);
		cct_composite__ev_out_clear(&gpu[i]);
	}
	cct_composite__ev_out_clear(&cpu);
	cct_composite__init_data_clear(&init);
	cct_composite__request_clear(&req);
	return out->status;
}

void cct_composite_result_clear(cct_composite_result *r)
{
	if (!r)
		return;
	json_decref(r->result);
	json_decref(r->ear);
	if (r->token) {
		cct_wipe(r->token, strlen(r->token));
		free(r->token);
	}
	memset(r, 0, sizeof(*r));
}
