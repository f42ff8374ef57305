/* nvgpu internals shared by the files of this area (not installed). */
#ifndef CCT_NVGPU_INTERNAL_H
#define CCT_NVGPU_INTERNAL_H

#include <jansson.h>

#include "cctrust/nvgpu.h"

extern const char cct_nvgpu__device_root_pem[];
extern const char cct_nvgpu__rim_root_pem[];

#define CCT_NVGPU_MAX_CHAIN_PEM (64u * 1024u)

typedef struct cct_nvgpu_entry {
	char arch[32];        /* as given, upper-cased */
	char uuid[80];        /* KBS form only */
	char nonce_hex[80];   /* NVIDIA form only ("" when absent) */
	uint8_t *evidence;    /* decoded SPDM bytes (owned) */
	size_t evidence_size;
	uint8_t *chain_pem;   /* decoded PEM chain (owned) */
	size_t chain_pem_size;
} cct_nvgpu_entry;

struct cct_nvgpu_evidence_list {
	cct_nvgpu_entry *e;
	size_t count;
};

/* Same as cct_nvgpu_verify, claims as a jansson object (new reference; caller decrefs). */
int cct_nvgpu__verify_claims(json_t **claims_out, cct_nvgpu_verifier *v,
			     const cct_nvgpu_evidence_list *ev, const uint8_t *nonce,
			     size_t nonce_size, cct_err *err);
/* Build one evidence list of one entry from raw parts (arch, SPDM bytes, PEM chain). */
int cct_nvgpu__entry_add(cct_nvgpu_evidence_list *l, const char *arch, const uint8_t *ev,
			 size_t ev_size, const uint8_t *pem, size_t pem_size, cct_err *err);
/* RIM fetch (libcurl GET <base><id>, JSON {"rim": base64}) into *xml (malloc'd). */
int cct_nvgpu__rim_fetch(uint8_t **xml, size_t *len, const char *base, const char *id,
			 cct_err *err);

#endif
