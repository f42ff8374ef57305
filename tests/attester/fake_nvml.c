/* A fake libnvidia-ml for the attester tests, built at test time with `cc -shared -fPIC`.
 * Environment: FAKE_NVML_GPUS (count, default 1), FAKE_NVML_CC (on|off|devtools, default on),
 * FAKE_NVML_PPCIE (0/1), FAKE_NVML_READY_FILE (the ready state is written there).
 * FAKE_NVML_GPUS may be a list "0,1,fail": the value for each nvmlInit of a run, in turn (the
 * last one repeats; "fail": nvmlInit fails), counted in FAKE_NVML_INIT_COUNT_FILE.
 * The "attestation report" is the ASCII tag "FAKE-SPDM" followed by the 32-byte nonce it was
 * asked for, so tests can check which nonce the attester sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned int environment, ccFeature, devToolsMode; } st_t;
typedef struct { unsigned int version, environment, ccFeature, devToolsMode, multiGpuMode; } set_t;
typedef struct {
	unsigned int certChainSize, attestationCertChainSize;
	unsigned char certChain[0x1000], attestationCertChain[0x1400];
} cert_t;
typedef struct {
	unsigned int isCec, reportSize, cecSize;
	unsigned char nonce[0x20], report[0x2000], cec[0x1000];
} rep_t;

static const char *env(const char *k, const char *d) { const char *v = getenv(k); return v ? v : d; }

static char gpus[32] = "1";

int nvmlInit_v2(void)
{
	const char *f = getenv("FAKE_NVML_INIT_COUNT_FILE"), *v = env("FAKE_NVML_GPUS", "1"), *c;
	unsigned int i = 0, k;
	FILE *fp;

	if (f && (fp = fopen(f, "r"))) {
		if (fscanf(fp, "%u", &i) != 1)
			i = 0;
		fclose(fp);
	}
	if (f && (fp = fopen(f, "w"))) {
		fprintf(fp, "%u\n", i + 1);
		fclose(fp);
	}
	for (k = 0; k < i && (c = strchr(v, ',')); k++)
		v = c + 1;
	snprintf(gpus, sizeof(gpus), "%.*s", (int)strcspn(v, ","), v);
	return strcmp(gpus, "fail") ? 0 : 999; /* NVML_ERROR_UNKNOWN */
}
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = (unsigned)atoi(gpus); return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) { *d = (void *)(unsigned long)(i + 1); return 0; }
/* FAKE_NVML_BAD_UUID=N: GPU index N answers a UUID that is not UTF-8 */
int nvmlDeviceGetUUID(void *d, char *b, unsigned int n)
{
	const char *bad = getenv("FAKE_NVML_BAD_UUID");

	if (bad && (unsigned long)atoi(bad) + 1 == (unsigned long)d)
		snprintf(b, n, "GPU-\xff\xfe");
	else
		snprintf(b, n, "GPU-fake-%lu", (unsigned long)d);
	return 0;
}
int nvmlDeviceGetArchitecture(void *d, unsigned int *a) { (void)d; *a = 9; return 0; }
int nvmlSystemGetConfComputeState(st_t *s)
{
	const char *cc = env("FAKE_NVML_CC", "on");

	s->environment = 2;
	s->ccFeature = strcmp(cc, "off") != 0;
	s->devToolsMode = !strcmp(cc, "devtools");
	return 0;
}
int nvmlSystemGetConfComputeSettings(set_t *s)
{
	st_t st;

	if (s->version != (unsigned)(sizeof(set_t) | (1u << 24)))
		return 25; /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
	nvmlSystemGetConfComputeState(&st);
	s->environment = st.environment;
	s->ccFeature = st.ccFeature;
	s->devToolsMode = st.devToolsMode;
	s->multiGpuMode = (unsigned)atoi(env("FAKE_NVML_PPCIE", "0"));
	return 0;
}
int nvmlDeviceGetConfComputeGpuAttestationReport(void *d, rep_t *r)
{
	(void)d;
	memcpy(r->report, "FAKE-SPDM", 9);
	memcpy(r->report + 9, r->nonce, 32);
	r->reportSize = 41;
	return 0;
}
int nvmlDeviceGetConfComputeGpuCertificate(void *d, cert_t *c)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n";

	(void)d;
	memcpy(c->attestationCertChain, pem, sizeof(pem) - 1);
	c->attestationCertChainSize = sizeof(pem) - 1;
	return 0;
}
int nvmlSystemSetConfComputeGpusReadyState(unsigned int ready)
{
	FILE *f = fopen(env("FAKE_NVML_READY_FILE", "/dev/null"), "w");

	if (f) {
		fprintf(f, "%u\n", ready);
		fclose(f);
	}
	return 0;
}
int nvmlSystemGetConfComputeGpusReadyState(unsigned int *r) { *r = 0; return 0; }
