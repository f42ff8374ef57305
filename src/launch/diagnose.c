/* launch diagnose: does this evidence come from this plan, and if not, which plan variation
 * reproduces it?
 *
 * SNP: the report's MEASUREMENT is recomputed over the variations seen in the field: vCPU count
 * 1..256, vCPU type (the distinct CPUID signatures of QEMU's EPYC models), VMM type (QEMU, EC2
 * current and older VMSA, GCE), guest features (SEV_FEATURES values KVM/VMMs are known to set)
 * and kernel hashes on/off. The OVMF page digest is computed once and every (type, vmm, features,
 * hashes) combination costs one launch digest for all vCPU counts (cct_measure_snp_vcpu_scan).
 * The variation changing the fewest plan keys wins. SVSM is not searched (the plan names no
 * SVSM image); the output says so.
 *
 * Evidence is never trusted here: no signature is checked (that is `cctrust verify`'s job);
 * this only explains values. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "cctrust/snp.h"
#include "cctrust/tdx.h"
#include "launch/launch_int.h"
#include "composite/internal.h"

/* SEV_FEATURES values seen in the field: SNPActive alone (QEMU default), + DebugSwap (0x20,
 * Linux >= 6.5 KVM default), + vTOM/ReflectVC/RestrictedInjection/AlternateInjection/
 * PreventHostIBS/BTBIsolation/SecureTSC combinations used by Hyper-V/EC2/GCE guests. */
static const uint64_t field_features[] = { 0x1,  0x21, 0x3,  0x23, 0x5,   0x25,  0x9,  0x29,
					   0x11, 0x31, 0x41, 0x61, 0x81,  0xa1,  0x201, 0x221,
					   0x1b, 0x3b, 0x221, 0x8001, 0x8021 };
static const char *const vcpu_types[] = { "EPYC-v4", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa",
					  "EPYC-Turin" };

typedef struct vmm_var {
	cct_measure_vmm vmm;
	int version;
	const char *name;
} vmm_var;
static const vmm_var vmms[] = { { CCT_MEASURE_VMM_QEMU, 0, "qemu" },
				{ CCT_MEASURE_VMM_EC2, 0, "ec2" },
				{ CCT_MEASURE_VMM_EC2, 1, "ec2" },
				{ CCT_MEASURE_VMM_GCE, 0, "gce" } };

static json_t *hexs(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];

	cct_hex_encode(h, p, n);
	return json_string(h);
}

static void field(json_t *fields, const char *name, const uint8_t *exp, const uint8_t *act,
		  size_t n, int *all)
{
	int eq = !memcmp(exp, act, n);

	json_object_set_new(fields, name, json_pack("{s:o,s:o,s:b}", "expected", hexs(exp, n),
						    "actual", hexs(act, n), "match", eq));
	if (!eq)
		*all = 0;
}

/* The CPU evidence bytes: raw SNP report / TDX quote (binary, hex or base64), or the CPU
 * evidence of a KBS attest request. *tee set to 1 (SNP) or 2 (TDX). */
static int evidence_bytes(uint8_t **out, size_t *out_n, int *tee, const uint8_t *ev, size_t n,
			  cct_err *err)
{
	size_t i = 0;
	int rc;

	*out = NULL;
	while (i < n && (ev[i] == ' ' || ev[i] == '\n' || ev[i] == '\r' || ev[i] == '\t'))
		i++;
	if (i < n && ev[i] == '{') {
		cct_request r;
		const char *b64 = NULL;

		if ((rc = cct_composite__request_parse(&r, ev, n, NULL, err)) != CCT_OK)
			return rc;
		switch (r.cpu_form) {
		case CCT_CPU_SNP_RAW:
			b64 = json_string_value(json_object_get(r.primary, "report"));
			*tee = CCT_LAUNCH_SNP;
			break;
		case CCT_CPU_SNP_TSM:
			b64 = json_string_value(json_object_get(r.primary, "outblob"));
			*tee = CCT_LAUNCH_SNP;
			break;
		case CCT_CPU_TDX:
			b64 = json_string_value(json_object_get(r.primary, "quote"));
			if (!b64)
				b64 = json_string_value(json_object_get(r.primary, "outblob"));
			*tee = CCT_LAUNCH_TDX;
			break;
		default:
			break;
		}
		if (!b64) {
			cct_composite__request_clear(&r);
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					   "diagnose: this request's CPU evidence form is not "
					   "supported (raw/TSM SNP reports and TDX quotes are)");
		}
		rc = cct_b64_decode(out, out_n, b64, strlen(b64), err);
		cct_composite__request_clear(&r);
		if (rc == CCT_OK && *tee == CCT_LAUNCH_SNP && *out_n > CCT_SNP_REPORT_SIZE)
			*out_n = CCT_SNP_REPORT_SIZE; /* a GHCB certificate table may follow */
		return rc;
	}
	if ((rc = cct_input_decode(out, out_n, ev, n, CCT_SNP_REPORT_SIZE, err)) != CCT_OK)
		return rc;
	/* a TDX quote header: version 4/5, attestation key type 2, TEE type 0x81 */
	if (*out_n >= 8 && ((*out)[0] == 4 || (*out)[0] == 5) && (*out)[1] == 0 &&
	    (*out)[2] == 2 && (*out)[3] == 0 && (*out)[4] == 0x81 && !(*out)[5] && !(*out)[6] &&
	    !(*out)[7]) {
		*tee = CCT_LAUNCH_TDX;
	} else {
		*tee = CCT_LAUNCH_SNP; /* a report, possibly followed by its certificate table */
		if (*out_n > CCT_SNP_REPORT_SIZE)
			*out_n = CCT_SNP_REPORT_SIZE;
	}
	return CCT_OK;
}

typedef struct snp_match {
	int found;
	int changes;
	uint32_t vcpus, sig;
	const char *vcpu_type;
	size_t vmm;
	uint64_t features;
	int hashes;
} snp_match;

static int snp_search(snp_match *best, size_t *searched, const cct_launch_plan *p,
		      const uint8_t target[48], cct_err *err)
{
	uint8_t *fw = NULL, *k = NULL, *i = NULL, oh[48];
	uint8_t(*scan)[48] = NULL;
	size_t fw_n = 0, kn = 0, in = 0, t, v, f, h;
	uint64_t feats[sizeof(field_features) / sizeof(field_features[0]) + 1];
	size_t nfeat = 0;
	int rc;

	memset(best, 0, sizeof(*best));
	*searched = 0;
	if ((rc = cct_launch__read(&fw, &fw_n, p->firmware, CCT_MEASURE_MAX_FIRMWARE, "firmware",
				   err)))
		goto out;
	if (p->kernel &&
	    (rc = cct_launch__read(&k, &kn, p->kernel, CCT_LAUNCH_MAX_KERNEL, "kernel", err)))
		goto out;
	if (p->initrd &&
	    (rc = cct_launch__read(&i, &in, p->initrd, CCT_LAUNCH_MAX_KERNEL, "initrd", err)))
		goto out;
	if (p->ovmf_hash) {
		if ((rc = cct_hex_decode_fixed(oh, 48, p->ovmf_hash, err)) != CCT_OK)
			goto out;
	} else if ((rc = cct_measure_snp_ovmf_hash(oh, fw, fw_n, err)) != CCT_OK) {
		goto out;
	}
	if (!(scan = malloc(CCT_LAUNCH_MAX_VCPUS * sizeof(*scan)))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	feats[nfeat++] = p->guest_features;
	for (f = 0; f < sizeof(field_features) / sizeof(field_features[0]); f++) {
		size_t j;
		int dup = 0;

		for (j = 0; j < nfeat; j++)
			dup |= feats[j] == field_features[f];
		if (!dup)
			feats[nfeat++] = field_features[f];
	}
	/* t == 0 is the plan's own type; then the other signatures */
	for (h = 0; h < (p->kernel ? 2u : 1u); h++)
		for (v = 0; v <= sizeof(vmms) / sizeof(vmms[0]); v++)
			for (t = 0; t <= sizeof(vcpu_types) / sizeof(vcpu_types[0]); t++)
				for (f = 0; f < nfeat; f++) {
					cct_measure_snp_opts o;
					const char *tname = t ? vcpu_types[t - 1] : p->vcpu_type;
					uint32_t sig = p->vcpu_sig, n;
					int changes;
					cct_err e2;

					if (t && (cct_measure_vcpu_sig(&sig, tname) ||
						  sig == p->vcpu_sig))
						continue;
					if (v && vmms[v - 1].vmm == p->vmm &&
					    vmms[v - 1].version == p->vmm_version)
						continue;
					cct_launch__snp_opts(&o, p, fw, fw_n, k, kn, i, in);
					o.ovmf_hash = oh;
					o.has_kernel = h ? !p->kernel_hashes : p->kernel_hashes;
					if (v) {
						o.vmm = vmms[v - 1].vmm;
						o.vmm_version = vmms[v - 1].version;
					}
					o.vcpu_sig = sig;
					o.guest_features = feats[f];
					changes = (h != 0) + (v != 0) + (t != 0) + (f != 0);
					if (best->found && changes >= best->changes)
						continue;
					(*searched)++;
					if (cct_measure_snp_vcpu_scan(scan, CCT_LAUNCH_MAX_VCPUS, &o,
								      &e2) != CCT_OK)
						continue; /* e.g. no kernel-hashes section */
					for (n = 0; n < CCT_LAUNCH_MAX_VCPUS; n++) {
						int c = changes + (n + 1 != p->vcpus);

						if (memcmp(scan[n], target, 48) ||
						    (best->found && c >= best->changes))
							continue;
						best->found = 1;
						best->changes = c;
						best->vcpus = n + 1;
						best->sig = sig;
						best->vcpu_type = tname;
						best->vmm = v;
						best->features = feats[f];
						best->hashes = o.has_kernel;
					}
				}
	rc = CCT_OK;
out:
	free(scan);
	free(fw);
	free(k);
	free(i);
	return rc;
}

static int diagnose_snp(json_t *o, const cct_launch_plan *p, const cct_launch_values *v,
			const uint8_t *rep_bytes, size_t rn, cct_err *err)
{
	cct_snp_report r;
	json_t *fields = json_object(), *ev = json_object();
	int all = 1, rc;
	char buf[40];

	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "evidence", ev);
	if ((rc = cct_snp_report_parse(&r, rep_bytes, rn, err)) != CCT_OK)
		return rc;
	json_object_set_new(ev, "measurement", hexs(r.measurement, 48));
	json_object_set_new(ev, "host_data", hexs(r.host_data, 32));
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)r.policy);
	json_object_set_new(ev, "policy", json_string(buf));
	field(fields, "measurement", v->measurement, r.measurement, 48, &all);
	field(fields, "host_data", v->host_data, r.host_data, 32, &all);
	{
		int eq = r.policy == p->policy;
		char e[40];

		snprintf(e, sizeof(e), "0x%llx", (unsigned long long)p->policy);
		json_object_set_new(fields, "policy", json_pack("{s:s,s:s,s:b}", "expected", e,
								"actual", buf, "match", eq));
		all &= eq;
	}
	if (v->has_id_block) {
		field(fields, "id_key_digest", v->id_key_digest, r.id_key_digest, 48, &all);
		field(fields, "family_id", p->family_id, r.family_id, 16, &all);
		field(fields, "image_id", p->image_id, r.image_id, 16, &all);
		if (v->has_author_key)
			field(fields, "author_key_digest", v->author_key_digest,
			      r.author_key_digest, 48, &all);
	} else {
		uint8_t z[48] = { 0 };

		field(fields, "id_key_digest", z, r.id_key_digest, 48, &all);
	}
	json_object_set_new(o, "matches", json_boolean(all));
	json_object_set_new(o, "explained_by", json_null());
	if (memcmp(v->measurement, r.measurement, 48)) {
		snp_match m;
		size_t searched = 0;

		if ((rc = snp_search(&m, &searched, p, r.measurement, err)) != CCT_OK)
			return rc;
		json_object_set_new(o, "searched", json_integer((json_int_t)searched));
		json_object_set_new(o, "not_searched",
				    json_pack("[s,s]", "SNP with an SVSM (the plan names no SVSM "
						       "image)",
					      "other firmware builds (the plan's firmware is the "
					      "one measured)"));
		if (m.found) {
			json_t *x = json_object();

			if (m.vcpus != p->vcpus)
				json_object_set_new(x, "vcpus", json_integer(m.vcpus));
			if (m.sig != p->vcpu_sig) {
				json_object_set_new(x, "vcpu_type", json_string(m.vcpu_type));
				snprintf(buf, sizeof(buf), "0x%08x", m.sig);
				json_object_set_new(x, "vcpu_sig", json_string(buf));
			}
			if (m.vmm) {
				json_object_set_new(x, "vmm", json_string(vmms[m.vmm - 1].name));
				if (vmms[m.vmm - 1].version)
					json_object_set_new(
						x, "vmm_version",
						json_integer(vmms[m.vmm - 1].version));
			}
			if (m.features != p->guest_features) {
				snprintf(buf, sizeof(buf), "0x%llx",
					 (unsigned long long)m.features);
				json_object_set_new(x, "guest_features", json_string(buf));
			}
			if (m.hashes != p->kernel_hashes)
				json_object_set_new(x, "kernel_hashes", json_boolean(m.hashes));
			json_object_set_new(o, "explained_by", x);
		}
	}
	return CCT_OK;
}

static int diagnose_tdx(json_t *o, const cct_launch_plan *p, const cct_launch_values *v,
			const uint8_t *q_bytes, size_t qn, cct_err *err)
{
	cct_tdx_quote *q = calloc(1, sizeof(*q));
	json_t *fields = json_object(), *ev = json_object();
	int all = 1, rc;
	uint8_t z[48] = { 0 }, own[48], ownc[48];

	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "evidence", ev);
	if (!q)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if ((rc = cct_tdx_quote_parse(q, q_bytes, qn, err)) != CCT_OK) {
		free(q);
		return rc;
	}
	memcpy(own, z, 48);
	memcpy(ownc, z, 48);
	if (p->mrowner)
		cct_hex_decode_fixed(own, 48, p->mrowner, NULL);
	if (p->mrownerconfig)
		cct_hex_decode_fixed(ownc, 48, p->mrownerconfig, NULL);
	json_object_set_new(ev, "mrtd", hexs(q->body.mrtd, 48));
	field(fields, "mrtd", v->mrtd, q->body.mrtd, 48, &all);
	field(fields, "mrconfigid", v->mrconfigid, q->body.mrconfigid, 48, &all);
	field(fields, "mrowner", own, q->body.mrowner, 48, &all);
	field(fields, "mrownerconfig", ownc, q->body.mrownerconfig, 48, &all);
	if (v->has_rtmr12) {
		field(fields, "rtmr1", v->rtmr1, q->body.rtmr[1], 48, &all);
		field(fields, "rtmr2", v->rtmr2, q->body.rtmr[2], 48, &all);
	}
	json_object_set_new(o, "matches", json_boolean(all));
	json_object_set_new(o, "explained_by", json_null());
	if (memcmp(v->mrtd, q->body.mrtd, 48)) {
		/* the one MRTD variation: the page-add / extend order of older VMMs */
		uint8_t *fw = NULL, alt[48];
		size_t fw_n = 0;
		cct_measure_tdvf *t = calloc(1, sizeof(*t));

		json_object_set_new(o, "searched", json_integer(1));
		if (t && cct_launch__read(&fw, &fw_n, p->firmware, CCT_MEASURE_MAX_FIRMWARE,
					  "firmware", err) == CCT_OK &&
		    cct_measure_tdvf_parse(t, fw, fw_n, err) == CCT_OK &&
		    cct_measure_tdx_mrtd(alt, t, !p->tdx_two_pass, err) == CCT_OK &&
		    !memcmp(alt, q->body.mrtd, 48))
			json_object_set_new(o, "explained_by",
					    json_pack("{s:b}", "two_pass", !p->tdx_two_pass));
		free(t);
		free(fw);
	}
	free(q);
	return CCT_OK;
}

int cct_launch_diagnose(json_t **out, const cct_launch_plan *p, const uint8_t *evidence,
			size_t n, cct_err *err)
{
	cct_launch_values v;
	uint8_t *cpu = NULL;
	size_t cn = 0;
	int tee = 0, rc;
	json_t *o = NULL;
	struct timespec t0, t1;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = evidence_bytes(&cpu, &cn, &tee, evidence, n, err)) != CCT_OK)
		return rc;
	if (tee != (int)p->tee) {
		free(cpu);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "diagnose: the evidence is %s, the plan is %s",
				   tee == CCT_LAUNCH_SNP ? "an SNP report" : "a TDX quote",
				   p->tee == CCT_LAUNCH_SNP ? "SNP" : "TDX");
	}
	if ((rc = cct_launch__values(&v, p, err)) != CCT_OK) {
		free(cpu);
		return rc;
	}
	o = json_object();
	json_object_set_new(o, "tee", json_string(tee == CCT_LAUNCH_SNP ? "snp" : "tdx"));
	json_object_set_new(o, "plan", json_string(p->name));
	json_object_set_new(o, "signature_checked", json_false());
	rc = tee == CCT_LAUNCH_SNP ? diagnose_snp(o, p, &v, cpu, cn, err)
				   : diagnose_tdx(o, p, &v, cpu, cn, err);
	free(cpu);
	cct_launch__values_clear(&v);
	if (rc != CCT_OK) {
		json_decref(o);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	json_object_set_new(o, "elapsed_ms",
			    json_integer((json_int_t)((t1.tv_sec - t0.tv_sec) * 1000 +
						      (t1.tv_nsec - t0.tv_nsec) / 1000000)));
	{
		const json_t *x = json_object_get(o, "explained_by");
		char msg[1024];
		size_t off = 0;
		const char *k;
		json_t *val, *fields = json_object_get(o, "fields");

		if (json_is_true(json_object_get(o, "matches"))) {
			snprintf(msg, sizeof(msg), "the evidence matches the plan");
		} else if (json_is_object(x)) {
			off += (size_t)snprintf(msg, sizeof(msg),
						"the measurement is reproduced by the plan with");
			json_object_foreach((json_t *)x, k, val) {
				char *s = json_dumps(val, JSON_ENCODE_ANY);

				if (off < sizeof(msg))
					off += (size_t)snprintf(msg + off, sizeof(msg) - off,
								" %s = %s", k, s ? s : "?");
				free(s);
			}
		} else {
			off += (size_t)snprintf(msg, sizeof(msg), "no variation reproduces the "
								  "evidence; fields that match:");
			json_object_foreach(fields, k, val)
				if (json_is_true(json_object_get(val, "match")) &&
				    off < sizeof(msg))
					off += (size_t)snprintf(msg + off, sizeof(msg) - off,
								" %s", k);
		}
		json_object_set_new(o, "message", json_string(msg));
	}
	*out = o;
	return json_is_true(json_object_get(o, "matches"))
		       ? CCT_OK
		       : cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_POLICY, 0,
				     "the evidence does not match the plan");
}
