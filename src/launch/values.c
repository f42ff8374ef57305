/* Expected values of a launch plan (SNP MEASUREMENT / HOST_DATA / ID block; TDX MRTD /
 * MRCONFIGID / RTMRs where the inputs determine them) and the cctrust.policy/v1 document pinning
 * them. The SNP digest is cct_measure_launch_digest (identical to sev-snp-measure). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "cctrust/policy.h"
#include "launch/launch_int.h"
#include "composite/internal.h"

int cct_launch__read(uint8_t **out, size_t *n, const char *path, size_t max, const char *key,
		     cct_err *err)
{
	int rc = cct_file_read(out, n, path, max, err);

	if (rc != CCT_OK) {
		char m[CCT_ERR_MSG_SIZE];

		snprintf(m, sizeof(m), "%s", err ? err->msg : "");
		cct_err_set(err, rc, CCT_STAGE_INPUT, 0, "launch plan %s (%.200s): %s", key, path,
			    m);
	}
	return rc;
}

void cct_launch__snp_opts(cct_measure_snp_opts *o, const cct_launch_plan *p, const uint8_t *fw,
			  size_t fw_n, const uint8_t *k, size_t kn, const uint8_t *i, size_t in)
{
	memset(o, 0, sizeof(*o));
	o->mode = CCT_MEASURE_MODE_SNP;
	o->ovmf = fw;
	o->ovmf_size = fw_n;
	o->has_kernel = p->kernel_hashes;
	o->kernel = k;
	o->kernel_size = kn;
	o->initrd = i;
	o->initrd_size = in;
	o->append = p->cmdline;
	o->vcpus = p->vcpus;
	o->vcpu_sig = p->vcpu_sig;
	o->guest_features = p->guest_features;
	o->vmm = p->vmm;
	o->vmm_version = p->vmm_version;
}

static int init_data_digest(cct_launch_values *v, const char *path, cct_err *err)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	json_t *req = NULL;
	cct_init_data d;
	int rc;

	if ((rc = cct_launch__read(&buf, &n, path, 256u * 1024u, "init_data", err)) != CCT_OK)
		return rc;
	if (strlen((char *)buf) != n) {
		free(buf);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "launch plan init_data: NUL byte in the TOML file");
	}
	req = json_pack("{s:s,s:s}", "format", "toml", "body", (char *)buf);
	free(buf);
	if (!req)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "launch plan init_data: not UTF-8 text");
	rc = cct_composite__init_data(&d, req, err);
	json_decref(req);
	if (rc != CCT_OK)
		return rc;
	v->has_init_data = 1;
	snprintf(v->init_alg, sizeof(v->init_alg), "%s", d.algorithm);
	memcpy(v->init_digest, d.digest, d.digest_len);
	v->init_digest_len = d.digest_len;
	/* Trustee's regularize_data: zero-pad or truncate to the field */
	memcpy(v->host_data, d.digest, d.digest_len < 32 ? d.digest_len : 32);
	memcpy(v->mrconfigid, d.digest, d.digest_len < 48 ? d.digest_len : 48);
	cct_composite__init_data_clear(&d);
	return CCT_OK;
}

static int id_block(cct_launch_values *v, const cct_launch_plan *p, cct_err *err)
{
	cct_measure_id_block_opts o;
	uint8_t id_pub[CCT_MEASURE_SNP_PUBKEY_SIZE], id_sig[CCT_MEASURE_SNP_SIG_SIZE];
	uint8_t au_pub[CCT_MEASURE_SNP_PUBKEY_SIZE], au_sig[CCT_MEASURE_SNP_SIG_SIZE];
	uint8_t *idk = NULL, *auk = NULL;
	size_t idk_n = 0, auk_n = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(au_pub, 0, sizeof(au_pub));
	memset(au_sig, 0, sizeof(au_sig));
	memcpy(o.launch_digest, v->measurement, 48);
	memcpy(o.family_id, p->family_id, 16);
	memcpy(o.image_id, p->image_id, 16);
	o.version = 1;
	o.guest_svn = p->guest_svn;
	o.policy = p->policy;
	cct_measure_id_block_encode(v->id_block, &o);
	if ((rc = cct_launch__read(&idk, &idk_n, p->id_key, 64u * 1024u, "id_block.id_key", err)))
		goto out;
	if ((rc = cct_measure_snp_pubkey(id_pub, idk, idk_n, err)) ||
	    (rc = cct_measure_snp_sign(id_sig, v->id_block, 96, idk, idk_n, err)) ||
	    (rc = cct_measure_key_digest(v->id_key_digest, idk, idk_n, err)))
		goto out;
	if (p->author_key) {
		if ((rc = cct_launch__read(&auk, &auk_n, p->author_key, 64u * 1024u,
					   "id_block.author_key", err)))
			goto out;
		if ((rc = cct_measure_snp_pubkey(au_pub, auk, auk_n, err)) ||
		    (rc = cct_measure_snp_sign(au_sig, id_pub, sizeof(id_pub), auk, auk_n, err)) ||
		    (rc = cct_measure_key_digest(v->author_key_digest, auk, auk_n, err)))
			goto out;
		v->has_author_key = 1;
	}
	cct_measure_id_auth_encode(v->id_auth, id_sig, id_pub, au_sig, au_pub);
	v->has_id_block = 1;
out:
	if (idk)
		cct_wipe(idk, idk_n);
	if (auk)
		cct_wipe(auk, auk_n);
	free(idk);
	free(auk);
	return rc;
}

int cct_launch__values(cct_launch_values *v, const cct_launch_plan *p, cct_err *err)
{
	uint8_t *fw = NULL, *k = NULL, *i = NULL;
	size_t fw_n = 0, kn = 0, in = 0, len = 0;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = cct_launch__read(&fw, &fw_n, p->firmware, CCT_MEASURE_MAX_FIRMWARE, "firmware",
				   err)) != CCT_OK)
		goto out;
	if (p->kernel &&
	    (rc = cct_launch__read(&k, &kn, p->kernel, CCT_LAUNCH_MAX_KERNEL, "kernel", err)))
		goto out;
	if (p->initrd &&
	    (rc = cct_launch__read(&i, &in, p->initrd, CCT_LAUNCH_MAX_KERNEL, "initrd", err)))
		goto out;
	if (k)
		SHA256(k, kn, v->kernel_sha256);
	if (p->kernel)
		SHA256(i ? i : (const uint8_t *)"", in, v->initrd_sha256);
	if (p->init_data && (rc = init_data_digest(v, p->init_data, err)) != CCT_OK)
		goto out;
	if (p->tee == CCT_LAUNCH_SNP) {
		cct_measure_snp_opts o;

		cct_launch__snp_opts(&o, p, fw, fw_n, k, kn, i, in);
		if (p->ovmf_hash) {
			if ((rc = cct_hex_decode_fixed(v->ovmf_hash, 48, p->ovmf_hash, err)))
				goto out;
			o.ovmf_hash = v->ovmf_hash;
		} else if ((rc = cct_measure_snp_ovmf_hash(v->ovmf_hash, fw, fw_n, err)) != CCT_OK) {
			goto out;
		}
		if ((rc = cct_measure_launch_digest(v->measurement, &len, &o, err)) != CCT_OK)
			goto out;
		if (p->id_key && (rc = id_block(v, p, err)) != CCT_OK)
			goto out;
	} else {
		cct_measure_tdvf *t = calloc(1, sizeof(*t));

		if (!t) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		rc = cct_measure_tdvf_parse(t, fw, fw_n, err);
		if (rc == CCT_OK)
			rc = cct_measure_tdx_mrtd(v->mrtd, t, p->tdx_two_pass, err);
		free(t);
		if (rc != CCT_OK)
			goto out;
		if (k && (rc = cct_launch__tdx_rtmrs(v, p, k, kn, i, in, err)) != CCT_OK)
			goto out;
	}
	rc = CCT_OK;
out:
	free(fw);
	free(k);
	free(i);
	if (rc != CCT_OK)
		cct_launch__values_clear(v);
	return rc;
}

void cct_launch__values_clear(cct_launch_values *v)
{
	if (!v)
		return;
	json_decref(v->rtmr_events);
	cct_wipe(v, sizeof(*v));
}

#define RTMR_CAVEAT                                                                          \
	"event digest forms checked on real TDX CCEL logs; the QEMU kernel-header patch and the "  \
	"EFI-stub events follow the QEMU/edk2/Linux sources and were not validated on a real "     \
	"direct-boot log (docs/launch.md): compare with cctrust tdx eventlog"

static json_t *hexs(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];

	cct_hex_encode(h, p, n);
	return json_string(h);
}

static json_t *val(json_t *value, int derived, const char *from)
{
	return json_pack("{s:o,s:b,s:s}", "value", value ? value : json_null(), "derived", derived,
			 "from", from);
}

static const char *vmm_name(cct_measure_vmm v)
{
	return v == CCT_MEASURE_VMM_EC2 ? "ec2" : v == CCT_MEASURE_VMM_GCE ? "gce" : "qemu";
}

json_t *cct_launch__expected_json(const cct_launch_plan *p, const cct_launch_values *v)
{
	json_t *o = json_object(), *vals = json_object(), *in = json_object();
	char from[512], buf[32];
	size_t i;

	json_object_set_new(o, "version", json_string("cctrust.launch/v1"));
	json_object_set_new(o, "plan", json_string(p->name));
	json_object_set_new(o, "tee", json_string(p->tee == CCT_LAUNCH_SNP ? "snp" : "tdx"));
	if (p->kernel) {
		json_object_set_new(in, "kernel_sha256", hexs(v->kernel_sha256, 32));
		json_object_set_new(in, "initrd_sha256", hexs(v->initrd_sha256, 32));
		json_object_set_new(in, "cmdline", json_string(p->cmdline ? p->cmdline : ""));
	}
	json_object_set_new(in, "vcpus", json_integer(p->vcpus));
	if (v->has_init_data)
		json_object_set_new(in, "init_data_digest",
				    json_pack("{s:s,s:o}", "algorithm", v->init_alg, "value",
					      hexs(v->init_digest, v->init_digest_len)));
	if (p->tee == CCT_LAUNCH_SNP) {
		snprintf(from, sizeof(from),
			 "firmware%s, %u vCPUs of type %s (signature 0x%08x), vmm %s, guest_features "
			 "0x%llx (cctrust measure snp; identical to sev-snp-measure)",
			 p->kernel_hashes ? " + kernel/initrd/cmdline hashes" : "", p->vcpus,
			 p->vcpu_type, p->vcpu_sig, vmm_name(p->vmm),
			 (unsigned long long)p->guest_features);
		json_object_set_new(vals, "measurement", val(hexs(v->measurement, 48), 1, from));
		json_object_set_new(in, "ovmf_hash", hexs(v->ovmf_hash, 48));
		json_object_set_new(in, "vcpu_type", json_string(p->vcpu_type));
		json_object_set_new(in, "vmm", json_string(vmm_name(p->vmm)));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)p->guest_features);
		json_object_set_new(in, "guest_features", json_string(buf));
		json_object_set_new(vals, "host_data",
				    val(hexs(v->host_data, 32), 1,
					v->has_init_data ? "init-data digest (first 32 bytes)"
							 : "no init_data: QEMU's default (zero)"));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)p->policy);
		json_object_set_new(vals, "policy", val(json_string(buf), 1, "plan policy"));
		if (v->has_id_block) {
			json_object_set_new(vals, "id_key_digest",
					    val(hexs(v->id_key_digest, 48), 1, "id_block.id_key"));
			json_object_set_new(vals, "family_id",
					    val(hexs(p->family_id, 16), 1, "id_block.family_id"));
			json_object_set_new(vals, "image_id",
					    val(hexs(p->image_id, 16), 1, "id_block.image_id"));
			json_object_set_new(vals, "guest_svn",
					    val(json_integer(p->guest_svn), 1, "id_block.guest_svn"));
			if (v->has_author_key)
				json_object_set_new(vals, "author_key_digest",
						    val(hexs(v->author_key_digest, 48), 1,
							"id_block.author_key"));
		}
	} else {
		json_object_set_new(vals, "mrtd",
				    val(hexs(v->mrtd, 48), 1,
					p->tdx_two_pass ? "TDVF metadata (two-pass order)"
							: "TDVF metadata (cctrust measure tdx)"));
		json_object_set_new(vals, "mrconfigid",
				    val(hexs(v->mrconfigid, 48), 1,
					v->has_init_data ? "init-data digest"
							 : "no init_data: QEMU's default (zero)"));
		{
			uint8_t z[48] = { 0 };

			json_object_set_new(vals, "mrowner",
					    p->mrowner ? val(json_string(p->mrowner), 1, "tdx.mrowner")
						       : val(hexs(z, 48), 1, "QEMU's default (zero)"));
			json_object_set_new(vals, "mrownerconfig",
					    p->mrownerconfig
						    ? val(json_string(p->mrownerconfig), 1,
							  "tdx.mrownerconfig")
						    : val(hexs(z, 48), 1, "QEMU's default (zero)"));
		}
		json_object_set_new(vals, "rtmr0",
				    val(NULL, 0,
					"TDVF configuration events (TD HOB, ACPI tables, CFV/"
					"variables): depend on QEMU's memory map and devices, not on "
					"the plan's files"));
		if (v->has_rtmr12) {
			json_object_set_new(vals, "rtmr1",
					    val(hexs(v->rtmr1, 48), 1,
						"kernel Authenticode digest and TDVF boot events "
						"(cctrust measure tdx --kernel)"));
			json_object_set_new(vals, "rtmr2",
					    val(hexs(v->rtmr2, 48), 1,
						"kernel command line and initrd events"));
			json_object_set_new(json_object_get(vals, "rtmr1"), "caveat",
					    json_string(RTMR_CAVEAT));
			json_object_set_new(json_object_get(vals, "rtmr2"), "caveat",
					    json_string(RTMR_CAVEAT));
			if (v->rtmr_events)
				json_object_set_new(o, "rtmr_events", json_incref(v->rtmr_events));
		} else {
			json_object_set_new(vals, "rtmr1",
					    val(NULL, 0,
						p->kernel ? "not derived" :
						"firmware boot (no kernel in the plan): the boot "
						"loader and its events come from the guest disk"));
			json_object_set_new(vals, "rtmr2",
					    val(NULL, 0, p->kernel ? "not derived" :
						"firmware boot: the boot loader measures the "
						"command line and initrd"));
		}
		json_object_set_new(vals, "rtmr3",
				    val(NULL, 0, "runtime extensions by the guest"));
	}
	json_object_set_new(o, "values", vals);
	json_object_set_new(o, "inputs", in);
	{
		json_t *g = json_array(), *m = json_array();

		for (i = 0; i < p->gpu_count; i++)
			json_array_append_new(g, json_string(p->gpus[i]));
		for (i = 0; i < p->model_count; i++)
			json_array_append_new(m, json_string(p->models[i]));
		json_object_set_new(o, "gpus", g);
		json_object_set_new(o, "models", m);
	}
	return o;
}

json_t *cct_launch__policy_json(const cct_launch_plan *p, const cct_launch_values *v)
{
	json_t *o = json_object(), *gpu = json_object();
	char id[160];
	size_t i;

	json_object_set_new(o, "version", json_string(CCT_POLICY_VERSION));
	snprintf(id, sizeof(id), "launch-plan:%.120s", p->name);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "comment",
			    json_string("generated by cctrust launch plan: pins the values the "
					"plan determines (expected.json)"));
	json_object_set_new(o, "tee",
			    json_pack("[s]", p->tee == CCT_LAUNCH_SNP ? "snp" : "tdx"));
	if (p->tee == CCT_LAUNCH_SNP) {
		json_t *s = json_object();

		json_object_set_new(s, "measurements", json_pack("[o]", hexs(v->measurement, 48)));
		json_object_set_new(s, "host_data", hexs(v->host_data, 32));
		json_object_set_new(s, "allow_debug", json_boolean(p->policy & (1ull << 19)));
		if (v->has_id_block) {
			json_object_set_new(s, "require_id_block", json_true());
			json_object_set_new(s, "id_key_digests",
					    json_pack("[o]", hexs(v->id_key_digest, 48)));
			json_object_set_new(s, "family_id", hexs(p->family_id, 16));
			json_object_set_new(s, "image_id", hexs(p->image_id, 16));
			json_object_set_new(s, "min_guest_svn", json_integer(p->guest_svn));
			if (v->has_author_key) {
				json_object_set_new(s, "require_author_key", json_true());
				json_object_set_new(s, "author_key_digests",
						    json_pack("[o]",
							      hexs(v->author_key_digest, 48)));
			}
		}
		json_object_set_new(o, "snp", s);
	} else {
		json_t *t = json_object();
		uint8_t z[48] = { 0 };

		json_object_set_new(t, "mrtd", json_pack("[o]", hexs(v->mrtd, 48)));
		json_object_set_new(t, "mrconfigid", hexs(v->mrconfigid, 48));
		json_object_set_new(t, "mrowner",
				    p->mrowner ? json_string(p->mrowner) : hexs(z, 48));
		json_object_set_new(t, "mrownerconfig",
				    p->mrownerconfig ? json_string(p->mrownerconfig) : hexs(z, 48));
		if (v->has_rtmr12) {
			json_object_set_new(t, "rtmr1", json_pack("[o]", hexs(v->rtmr1, 48)));
			json_object_set_new(t, "rtmr2", json_pack("[o]", hexs(v->rtmr2, 48)));
		}
		json_object_set_new(t, "allow_debug", json_boolean(p->tdx_debug));
		json_object_set_new(o, "tdx", t);
	}
	json_object_set_new(gpu, "count", json_integer((json_int_t)p->gpu_count));
	json_object_set_new(gpu, "cc_mode", json_pack("[s]", "on"));
	if (p->gpu_count)
		json_object_set_new(gpu, "required", json_true());
	json_object_set_new(o, "gpu", gpu);
	if (p->model_count) {
		json_t *specs = json_array();

		for (i = 0; i < p->model_count; i++)
			json_array_append_new(specs, json_string(p->models[i]));
		json_object_set_new(o, "model", json_pack("{s:o}", "specs", specs));
	}
	if (v->has_init_data)
		json_object_set_new(o, "init_data",
				    json_pack("{s:b,s:[o]}", "required", 1, "digests",
					      hexs(v->init_digest, v->init_digest_len)));
	return o;
}
