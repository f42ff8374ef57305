/* NVIDIA GPUs through NVML, loaded with dlopen (no build-time dependency on the driver):
 * confidential-computing state (CC on / devtools / off, protected-PCIe multi-GPU mode),
 * per-GPU attestation report for a nonce (SPDM GET_MEASUREMENTS request + response) and the
 * device certificate chain, and the "GPUs ready" switch the boot gate flips after attesting.
 * $CCT_NVML_LIB names another library (tests build a fake libnvidia-ml). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attester/internal.h"

/* NVML ABI (nvml.h, CUDA 12.x): only what is used here. */
typedef int nvml_ret;
typedef void *nvml_dev;
#define NVML_OK 0
#define NV_CERT_CHAIN_SIZE 0x1000
#define NV_ATT_CERT_CHAIN_SIZE 0x1400
#define NV_NONCE_SIZE 0x20
#define NV_REPORT_SIZE 0x2000
#define NV_CEC_REPORT_SIZE 0x1000
#define NV_ARCH_HOPPER 9
#define NV_ARCH_BLACKWELL 10

typedef struct {
	unsigned int environment, cc_feature, devtools_mode;
} nv_cc_state;
typedef struct {
	unsigned int version, environment, cc_feature, devtools_mode, multi_gpu_mode;
} nv_cc_settings;
#define NV_CC_SETTINGS_V1 ((unsigned int)(sizeof(nv_cc_settings) | (1u << 24)))
typedef struct {
	unsigned int cert_chain_size, attestation_cert_chain_size;
	unsigned char cert_chain[NV_CERT_CHAIN_SIZE];
	unsigned char attestation_cert_chain[NV_ATT_CERT_CHAIN_SIZE];
} nv_cert;
typedef struct {
	unsigned int is_cec_present, report_size, cec_report_size;
	unsigned char nonce[NV_NONCE_SIZE];
	unsigned char report[NV_REPORT_SIZE];
	unsigned char cec_report[NV_CEC_REPORT_SIZE];
} nv_report;

typedef struct nvml {
	void *lib;
	nvml_ret (*init)(void);
	nvml_ret (*shutdown)(void);
	nvml_ret (*count)(unsigned int *);
	nvml_ret (*handle)(unsigned int, nvml_dev *);
	nvml_ret (*uuid)(nvml_dev, char *, unsigned int);
	nvml_ret (*arch)(nvml_dev, unsigned int *);
	nvml_ret (*cc_state)(nv_cc_state *);
	nvml_ret (*cc_settings)(nv_cc_settings *);
	nvml_ret (*report)(nvml_dev, nv_report *);
	nvml_ret (*cert)(nvml_dev, nv_cert *);
	nvml_ret (*set_ready)(unsigned int);
	nvml_ret (*get_ready)(unsigned int *);
} nvml;

#define SYM(field, name) (*(void **)(&n->field) = dlsym(n->lib, name))

/* 1 loaded, 0 absent (no library: no GPUs), <0 error. */
static int nvml_open(nvml *n, cct_err *err)
{
	const char *path = getenv(CCT_ATTESTER_NVML_ENV);

	memset(n, 0, sizeof(*n));
	n->lib = dlopen(path ? path : CCT_ATTESTER_NVML_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!n->lib)
		return 0;
	SYM(init, "nvmlInit_v2");
	SYM(shutdown, "nvmlShutdown");
	SYM(count, "nvmlDeviceGetCount_v2");
	SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
	SYM(uuid, "nvmlDeviceGetUUID");
	SYM(arch, "nvmlDeviceGetArchitecture");
	SYM(cc_state, "nvmlSystemGetConfComputeState");
	SYM(cc_settings, "nvmlSystemGetConfComputeSettings");
	SYM(report, "nvmlDeviceGetConfComputeGpuAttestationReport");
	SYM(cert, "nvmlDeviceGetConfComputeGpuCertificate");
	SYM(set_ready, "nvmlSystemSetConfComputeGpusReadyState");
	SYM(get_ready, "nvmlSystemGetConfComputeGpusReadyState");
	if (!n->init || !n->shutdown || !n->count || !n->handle || !n->cc_state) {
		dlclose(n->lib);
		n->lib = NULL;
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "NVML lacks the confidential-computing API (driver too old?)");
	}
	if (n->init() != NVML_OK) {
		dlclose(n->lib);
		n->lib = NULL;
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "nvmlInit failed");
	}
	return 1;
}

static void nvml_close(nvml *n)
{
	if (n->lib) {
		n->shutdown();
		dlclose(n->lib);
	}
	memset(n, 0, sizeof(*n));
}

static int read_state(nvml *n, cct_attester_gpu_state *st, cct_err *err)
{
	nv_cc_settings s;
	nv_cc_state cs;
	unsigned int cnt = 0, ready = 0;

	memset(&s, 0, sizeof(s));
	s.version = NV_CC_SETTINGS_V1;
	if (n->cc_settings && n->cc_settings(&s) == NVML_OK) {
		cs.cc_feature = s.cc_feature;
		cs.devtools_mode = s.devtools_mode;
		st->ppcie = s.multi_gpu_mode == 1;
	} else if (n->cc_state(&cs) != NVML_OK) {
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "nvmlSystemGetConfComputeState failed");
	}
	snprintf(st->cc_mode, sizeof(st->cc_mode), "%s",
		 !cs.cc_feature ? "off" : cs.devtools_mode ? "devtools" : "on");
	if (n->count(&cnt) != NVML_OK)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "nvmlDeviceGetCount failed");
	if (cnt > CCT_ATTESTER_MAX_GPUS)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "%u GPUs; at most %d", cnt,
				   CCT_ATTESTER_MAX_GPUS);
	st->gpu_count = cnt;
	st->present = cnt > 0;
	if (n->get_ready && n->get_ready(&ready) == NVML_OK)
		st->ready = ready == 1;
	return CCT_OK;
}

int cct_attester_gpu_state_get(cct_attester_gpu_state *out, cct_err *err)
{
	nvml n;
	int r, rc;

	memset(out, 0, sizeof(*out));
	r = nvml_open(&n, err);
	if (r <= 0)
		return r == 0 ? CCT_OK : r;
	rc = read_state(&n, out, err);
	nvml_close(&n);
	return rc;
}

int cct_attester_gpu_set_ready(int ready, cct_err *err)
{
	nvml n;
	int r, rc = CCT_OK;

	r = nvml_open(&n, err);
	if (r == 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "NVML not available");
	if (r < 0)
		return r;
	if (!n.set_ready || n.set_ready(ready ? 1u : 0u) != NVML_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				 "nvmlSystemSetConfComputeGpusReadyState failed");
	nvml_close(&n);
	return rc;
}

int cct_attester__nvml_evidence(json_t **out, const uint8_t nonce[32], cct_err *err)
{
	cct_attester_gpu_state st;
	nv_report *rep = NULL;
	nv_cert *cert = NULL;
	json_t *list = NULL, *nv = NULL;
	unsigned int i;
	nvml n;
	int r, rc = CCT_ERROR;

	*out = NULL;
	memset(&st, 0, sizeof(st));
	r = nvml_open(&n, err);
	if (r <= 0)
		return r == 0 ? CCT_OK : r;
	rc = read_state(&n, &st, err);
	if (rc != CCT_OK || !st.present)
		goto out;
	rc = CCT_ERROR;
	if (!n.report || !n.cert || !n.arch || !n.uuid) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "NVML lacks the GPU attestation report API");
		goto out;
	}
	rep = calloc(1, sizeof(*rep));
	cert = calloc(1, sizeof(*cert));
	list = json_array();
	if (!rep || !cert || !list) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < st.gpu_count; i++) {
		nvml_dev d = NULL;
		unsigned int arch = 0;
		char uuid[96] = "";
		json_t *e;

		memset(rep, 0, sizeof(*rep));
		memset(cert, 0, sizeof(*cert));
		memcpy(rep->nonce, nonce, NV_NONCE_SIZE);
		if (n.handle(i, &d) != NVML_OK || n.arch(d, &arch) != NVML_OK ||
		    n.uuid(d, uuid, sizeof(uuid)) != NVML_OK || n.report(d, rep) != NVML_OK ||
		    n.cert(d, cert) != NVML_OK) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "NVML: GPU %u attestation report / certificate failed", i);
			goto out;
		}
		uuid[sizeof(uuid) - 1] = 0;
		if (rep->report_size == 0 || rep->report_size > NV_REPORT_SIZE ||
		    cert->attestation_cert_chain_size == 0 ||
		    cert->attestation_cert_chain_size > NV_ATT_CERT_CHAIN_SIZE) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "NVML: GPU %u returned sizes out of range", i);
			goto out;
		}
		e = json_pack("{s:s,s:s}", "arch",
			      arch == NV_ARCH_HOPPER      ? "HOPPER"
			      : arch == NV_ARCH_BLACKWELL ? "BLACKWELL"
							  : "UNKNOWN",
			      "uuid", uuid);
		/* a GPU is never left out of the list silently: one missing from the evidence would
		 * not be missed by the verifier */
		if (!e) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "NVML: GPU %u UUID is not UTF-8 text", i);
			goto out;
		}
		if (cct_attester__b64_member(e, "evidence", rep->report, rep->report_size) ||
		    cct_attester__b64_member(e, "certificate", cert->attestation_cert_chain,
					     cert->attestation_cert_chain_size)) {
			json_decref(e);
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		if (json_array_append_new(list, e)) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
	}
	nv = json_pack("{s:O,s:s,s:b}", "device_evidence_list", list, "cc_mode", st.cc_mode,
		       "ppcie_mode", st.ppcie);
	*out = nv;
	rc = CCT_OK;
out:
	json_decref(list);
	free(rep);
	free(cert);
	nvml_close(&n);
	return rc;
}
