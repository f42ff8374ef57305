/* Evidence module: one NVIDIA GPU's evidence -> verified claims (src/nvgpu does the work).
 *
 * Input: one device_evidence_list entry {"arch":"HOPPER|BLACKWELL","uuid"?,"evidence": b64 SPDM
 * GET_MEASUREMENTS request + response,"certificate": b64 PEM chain} (NVIDIA's own entries add
 * "nonce", which is ignored: the composite binds the SPDM requester nonce itself).
 * Trust and collateral:
 *   --trust-sim DIR   DIR/gpu/device-root.pem and rim-root.pem replace the pinned NVIDIA roots;
 *                     RIMs from DIR/gpu/rims, OCSP responses from DIR/gpu/ocsp; never the network
 *   otherwise         the pinned NVIDIA roots; RIMs from COLLATERAL/nvidia/rims, OCSP responses
 *                     from COLLATERAL/nvidia/ocsp, fetched ones cached in COLLATERAL/nvidia;
 *                     missing ones fetched from NVIDIA unless offline (then: fail closed)
 * OCSP is checked unless in->crl_check_off_insecure; the RIM golden comparison runs unless
 * in->gpu_no_rim (policy gpu.require_measres = false; measres is then "skipped").
 * The module returns the SPDM requester nonce in out->bound; composite.c compares it with
 * Trustee's GPU binding, rules.c applies the "gpu" policy over the claims (NVIDIA claims v3
 * names verbatim, plus "arch"). One nvgpu verifier is shared by the GPUs of one request
 * (*in->gpu_ctx), so chains and RIMs are verified once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "sim/sim_gpu.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/spdm.h"
#include "composite/internal.h"

typedef struct gpu_ctx {
	cct_nvgpu_verifier *v;
	char dev_root[4096], rim_root[4096], rim_dir[4096], ocsp_dir[4096], cache_dir[4096];
} gpu_ctx;

void cct_composite__ev_gpu_ctx_free(void *ctx)
{
	gpu_ctx *c = ctx;

	if (!c)
		return;
	cct_nvgpu_verifier_free(c->v);
	free(c);
}

static int dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ctx_new(gpu_ctx **out, const cct_ev_in *in, cct_err *err)
{
	cct_nvgpu_opts o;
	gpu_ctx *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	cct_nvgpu_opts_init(&o);
	o.at = in->at;
	o.offline = in->offline;
	o.no_ocsp = in->crl_check_off_insecure;
	o.no_rim = in->gpu_no_rim;
	o.collateral = in->collateral;
	if (in->trust_sim_dir) {
		snprintf(c->dev_root, sizeof(c->dev_root), "%s/gpu/%s", in->trust_sim_dir,
			 CCT_SIM_GPU_DEVICE_ROOT);
		snprintf(c->rim_root, sizeof(c->rim_root), "%s/gpu/%s", in->trust_sim_dir,
			 CCT_SIM_GPU_RIM_ROOT);
		snprintf(c->rim_dir, sizeof(c->rim_dir), "%s/gpu/%s", in->trust_sim_dir,
			 CCT_SIM_GPU_RIM_SUBDIR);
		snprintf(c->ocsp_dir, sizeof(c->ocsp_dir), "%s/gpu/%s", in->trust_sim_dir,
			 CCT_SIM_GPU_OCSP_SUBDIR);
		o.device_root_path_insecure = c->dev_root;
		o.rim_root_path_insecure = c->rim_root;
		o.rim_dir = c->rim_dir;
		o.ocsp_dir = c->ocsp_dir;
		o.offline = 1; /* the simulated PKI has no responders */
	}
	/* --trust-sim: the sim's RIMs and OCSP responses, whatever --collateral says (docs/
	 * composite.md); a --collateral PATH there is for the CPU (a TDX collateral file, an AMD
	 * cache) and must not replace them, let alone with a PATH/nvidia/... that is not there */
	if (in->collateral_dir && !in->trust_sim_dir) {
		snprintf(c->cache_dir, sizeof(c->cache_dir), "%s/nvidia", in->collateral_dir);
		snprintf(c->rim_dir, sizeof(c->rim_dir), "%s/nvidia/rims", in->collateral_dir);
		snprintf(c->ocsp_dir, sizeof(c->ocsp_dir), "%s/nvidia/ocsp", in->collateral_dir);
		if (dir_exists(c->rim_dir))
			o.rim_dir = c->rim_dir;
		if (dir_exists(c->ocsp_dir))
			o.ocsp_dir = c->ocsp_dir;
		if (!in->offline)
			o.cache_dir = c->cache_dir;
	}
	rc = cct_nvgpu_verifier_new(&c->v, &o, err);
	if (rc != CCT_OK) {
		if (err->stage == CCT_STAGE_INPUT || err->stage == CCT_STAGE_NONE)
			err->stage = CCT_STAGE_CHAIN;
		free(c);
		return rc;
	}
	*out = c;
	return CCT_OK;
}

static void prefix_msg(cct_err *err, int index)
{
	char m[CCT_ERR_MSG_SIZE];

	snprintf(m, sizeof(m), "gpu%d: %.220s", index, err->msg);
	memcpy(err->msg, m, sizeof(m));
}

int cct_composite__ev_gpu(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	cct_nvgpu_evidence_list *l = NULL;
	cct_spdm_evidence *sp = NULL;
	gpu_ctx *ctx = in->gpu_ctx ? *in->gpu_ctx : NULL, *own = NULL;
	json_t *one = NULL, *claims = NULL;
	uint8_t nonce[CCT_SPDM_NONCE_SIZE];
	int rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	one = json_pack("[O]", in->evidence);
	if (!one) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	/* the device's entry as parsed from the request (no re-serialising and re-parsing) */
	rc = cct_nvgpu_evidence_list_from_json(&l, one, err);
	if (rc != CCT_OK)
		goto fail;
	/* the SPDM requester nonce as signed: the composite binds it (not the JSON "nonce") */
	sp = malloc(sizeof(*sp));
	if (!sp) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	rc = cct_spdm_evidence_parse(sp, l->e[0].evidence, l->e[0].evidence_size, err);
	if (rc != CCT_OK)
		goto fail;
	memcpy(nonce, sp->req_nonce, sizeof(nonce));
	if (!ctx) {
		rc = ctx_new(&ctx, in, err);
		if (rc != CCT_OK)
			goto fail;
		if (in->gpu_ctx)
			*in->gpu_ctx = ctx;
		else
			own = ctx;
	}
	rc = cct_nvgpu__verify_claims(&claims, ctx->v, l, nonce, sizeof(nonce), err);
	if (rc != CCT_OK)
		goto fail;
	out->claims = cct_nvgpu_device_claims(claims, 0);
	if (!out->claims) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "gpu%d: no claims", in->index);
		goto out;
	}
	cct_composite__trustee_gpu_claims(out->claims, l->e[0].evidence, l->e[0].evidence_size,
					  l->e[0].uuid);
	memcpy(out->bound, nonce, sizeof(nonce));
	out->bound_len = sizeof(nonce);
	out->simulated = in->trust_sim_dir != NULL ||
			 json_is_true(json_object_get(out->claims, "x-cctrust-simulated"));
	out->crl_checked = !in->crl_check_off_insecure;
	rc = CCT_OK;
	goto out;
fail:
	prefix_msg(err, in->index);
out:
	json_decref(claims);
	json_decref(one);
	free(sp);
	cct_nvgpu_evidence_list_free(l);
	cct_composite__ev_gpu_ctx_free(own);
	return rc;
}
