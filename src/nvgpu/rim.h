/* NVIDIA RIM (reference integrity manifest): SWID XML (ISO/IEC 19770-2) with TCG RIM
 * attributes and an enveloped XML signature (semi-private).
 * Parsing uses libxml2; the signature is verified by xmlsec1 with the key of the leaf
 * certificate in KeyInfo, after that certificate's chain has been built to a pinned root.
 * Both libraries are loaded on first use (nvgpu/dl_xmlsec.h): no other command maps them. */
#ifndef CCT_NVGPU_RIM_H
#define CCT_NVGPU_RIM_H

#include <time.h>
#include <openssl/x509.h>

#include "cctrust/errors.h"

#define CCT_RIM_MAX_SIZE (4u * 1024u * 1024u) /* one RIM document */
#define CCT_RIM_MAX_MEASUREMENTS 256          /* Resource elements of type Measurement */
#define CCT_RIM_MAX_ALTERNATIVES 16           /* Hash0..Hash15 */
#define CCT_RIM_HASH_SIZE 48                  /* SHA-384 */
#define CCT_RIM_MAX_CERTS 8                   /* X509Certificate elements in KeyInfo */

typedef struct cct_rim_measurement {
	unsigned index;                   /* 0-based RIM index (SPDM block index - 1) */
	int active;
	unsigned alt_count;
	unsigned size;
	uint8_t hash[CCT_RIM_MAX_ALTERNATIVES][CCT_RIM_HASH_SIZE];
} cct_rim_measurement;

typedef struct cct_rim {
	char tag_id[160];
	char name[64];                    /* SoftwareIdentity@name */
	char version[64];                 /* Meta@colloquialVersion */
	char product[64];                 /* Meta@product */
	char edition[32];                 /* Meta@edition: GPU, SWITCH */
	char manufacturer_id[16];         /* Meta@FirmwareManufacturerId */
	char platform_model[64];          /* Meta@PlatformModel */
	cct_rim_measurement *meas;        /* owned */
	size_t meas_count;
	STACK_OF(X509) *certs;            /* KeyInfo certificates, leaf first (owned) */
	void *doc;                        /* xmlDocPtr (owned) */
	int signature_ok;                 /* set by cct_rim_verify_signature */
} cct_rim;

/* Load (first use: nvgpu/dl_xmlsec.h, dlopen) and initialise libxml2 + xmlsec1 (OpenSSL) once
 * for the process, thread-safe. CCT_OK when ready; else CCT_EUNSUPPORTED when a library is not
 * installed (the message names the shared object and the package to install) or CCT_ERROR when
 * xmlsec1 fails to initialise, at the given stage. Also used by the simulated GPU
 * (src/sim/sim_gpu.c), which signs RIMs with the same xmlsec instance. */
int cct_rim_xml_ready(cct_stage stage, cct_err *err);
/* cct_rim_xml_ready without the reason: 1 when ready. */
int cct_rim_xml_init(void);
/* Parse a RIM document (no trust decision). Errors (stage COLLATERAL): ETOOBIG, EFORMAT,
 * EUNSUPPORTED (signature profile other than enveloped, URI="", C14N, ECDSA/SHA-2). */
int cct_rim_parse(cct_rim **out, const uint8_t *xml, size_t len, cct_err *err);
void cct_rim_free(cct_rim *rim);
/* Verify the enveloped XML signature with the KeyInfo leaf key (xmlsec1): ESIGNATURE. */
int cct_rim_verify_signature(cct_rim *rim, const char *what, cct_err *err);
/* Chain of the KeyInfo certificates to roots at time at (stage COLLATERAL): ECHAIN,
 * EEXPIRED. *chain_out (optional) gets the built chain, leaf first. */
int cct_rim_verify_chain(STACK_OF(X509) **chain_out, const cct_rim *rim, STACK_OF(X509) *roots,
			 time_t at, const char *what, cct_err *err);
/* Measurement with that 0-based index, or NULL. */
const cct_rim_measurement *cct_rim_find(const cct_rim *rim, unsigned index);
/* A VBIOS / switch BIOS version as a RIM id spells it: "96.00.5e.00.01" -> "96005E0001"
 * (dots dropped, upper case; cut to size - 1). The verifier, collateral validation and the
 * simulated GPU build ids with it. */
void cct_rim_id_version(char *dst, size_t size, const char *version);

#endif
