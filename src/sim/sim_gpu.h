/* Simulated NVIDIA GPU (semi-private; test-only): an NVIDIA-shaped PKI generated at run time,
 * SPDM evidence in NVIDIA's real formats signed by it, signed RIMs whose golden measurements
 * match that evidence, and OCSP responses for every simulated certificate. Nothing minted here
 * is trusted unless a caller configures it explicitly (cct_nvgpu_opts.device_root_path_insecure
 * and .rim_root_path_insecure, or `cctrust gpu verify --device-root F --rim-root F`).
 *
 * Architecture: HOPPER (GH100, default) as described below, or BLACKWELL (GB100: the same
 * shape with GB100 names, the leaf's FWID in a TCG DiceTcbInfo extension 2.23.133.5.4.1.1, and the
 * driver RIM id NV_GPU_CC_DRIVER_GB100_<ver>).
 *
 * PKI (all keys ECDSA P-384, certificates signed with ecdsa-with-SHA384):
 *   device identity:  "SIMULATED NVIDIA Device Identity CA" (self-signed root)
 *                     -> "SIMULATED NVIDIA GH100 Identity" -> "SIMULATED NVIDIA GH100 Provisioner
 *                     ICA 1" -> per device "GH100 A01 GSP BROM" -> per device "GH100 A01 GSP FMC
 *                     LF" (leaf). 5 levels, like a real H100 chain. The BROM CN is what the
 *                     verifier reports as hwmodel; the leaf serial number (its SKI with the top bit
 *                     cleared, as NVIDIA does) is the device's UEID; the leaf carries the TCG DICE
 *                     FWID extension 2.23.133.5.4.1 {version 1, BROM SPKI, {sha384, FWID}}.
 *   RIM signing:      "SIMULATED NVIDIA CoRIM signing Root CA" -> "SIMULATED NVIDIA Reference Value
 *                     GH100 CA" -> "SIMULATED NVIDIA Reference Value L3 GH100 001" -> "SIMULATED
 *                     HCC RIM L4 Signer" (leaf). KeyInfo of each RIM carries all four, leaf first.
 *
 * Measurements (64 SPDM blocks, DMTF, SHA-384): the VBIOS RIM appraises RIM indices 0-6 and 8-12,
 * the driver RIM 7 and 21-40 (RIM index = SPDM block index - 1; the same split as NVIDIA's
 * GH100 RIMs). Value of RIM index i = SHA-384("cctrust-sim/vbios/<vbios version>/<i>") or
 * SHA-384("cctrust-sim/driver/<driver version>/<i>"); other blocks are zero. So the evidence for
 * a driver/VBIOS version matches exactly the RIMs generated for that version.
 *
 * Directory layout written by cct_sim_gpu_save() + cct_sim_gpu_write_collateral() (the caller
 * chooses DIR; `cctrust sim init ROOT` is expected to use ROOT/gpu):
 *   DIR/info.json                 {"simulated":true,"arch":"HOPPER","driver_version",
 *                                  "vbios_version","project","project_sku","chip_sku",
 *                                  "devices":[{"uuid","ueid"}...]}
 *   DIR/device-root.pem           device trust anchor to inject (CCT_SIM_GPU_DEVICE_ROOT)
 *   DIR/rim-root.pem              RIM trust anchor to inject (CCT_SIM_GPU_RIM_ROOT)
 *   DIR/{device-root,identity,ica}.{pem,key}, DIR/rim-{root,ca,l3,signer}.{pem,key}
 *   DIR/devices/<i>/{brom,leaf}.{pem,key}, DIR/devices/<i>/chain.pem (leaf first, root last)
 *   DIR/rims/<RIM id>.xml         driver + VBIOS RIMs (--rim-dir; CCT_SIM_GPU_RIM_SUBDIR)
 *   DIR/ocsp/<serial hex>.der     OCSP responses, good, for every non-root certificate of both
 *                                 PKIs (--ocsp-dir; CCT_SIM_GPU_OCSP_SUBDIR); valid 7 days by
 *                                 default: rewrite them with cct_sim_gpu_ocsp() when producing
 *                                 fresh evidence later.
 *   *.key files are written 0600.
 *
 * Typical use (composite `cctrust sim`):
 *   init:     cct_sim_gpu_init_dir(NULL, "ROOT/gpu", NULL, &err);
 *   evidence: cct_sim_gpu_load(&g, "ROOT/gpu", &err);
 *             cct_sim_gpu_ocsp(g, "ROOT/gpu/ocsp", NULL, &err);          (refresh, optional)
 *             cct_sim_gpu_evidence(&kbs_json, NULL, g, nonce32, &eo, &err);  (eo.gpu_count = N)
 *   verify:   cct_nvgpu_opts: device_root_path_insecure = "ROOT/gpu/device-root.pem",
 *             rim_root_path_insecure = "ROOT/gpu/rim-root.pem", rim_dir = "ROOT/gpu/rims",
 *             ocsp_dir = "ROOT/gpu/ocsp", offline = 1.
 * The SPDM nonce is the caller's 32 bytes (the composite binding: first 32 bytes of
 * SHA-384(JCS({"nonce","tee-pubkey"}))).
 *
 * Every function returns CCT_OK or a negative cct_status with err filled (stage NONE or INPUT);
 * strings returned through out parameters are malloc'd and freed by the caller. */
#ifndef CCT_ATTESTER_SIM_GPU_H
#define CCT_ATTESTER_SIM_GPU_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/errors.h"

#define CCT_SIM_GPU_MAX_DEVICES 64      /* = CCT_NVGPU_MAX_DEVICES */
#define CCT_SIM_GPU_DEFAULT_DEVICES 8   /* devices minted by default */
#define CCT_SIM_GPU_BLOCKS 64           /* SPDM measurement blocks per evidence */
#define CCT_SIM_GPU_NONCE_SIZE 32
#define CCT_SIM_GPU_DEVICE_ROOT "device-root.pem"
#define CCT_SIM_GPU_RIM_ROOT "rim-root.pem"
#define CCT_SIM_GPU_RIM_SUBDIR "rims"
#define CCT_SIM_GPU_OCSP_SUBDIR "ocsp"
#define CCT_SIM_GPU_DEFAULT_DRIVER "590.12"
#define CCT_SIM_GPU_DEFAULT_VBIOS "96.00.A5.00.01"

/** Options of a new simulated PKI (NULL or zeroed: defaults). Strings are copied. */
typedef struct cct_sim_gpu_opts {
	unsigned device_count;      /**< GPUs minted (default 8, at most 64) */
	const char *arch;           /**< "HOPPER" (GH100, default) or "BLACKWELL" (GB100) */
	const char *driver_version; /**< default "590.12" */
	const char *vbios_version;  /**< "AA.BB.CC.DD.EE" hex bytes (default "96.00.A5.00.01") */
	const char *project;        /**< opaque PROJECT (default "G520") */
	const char *project_sku;    /**< opaque PROJECT_SKU (default "0200") */
	const char *chip_sku;       /**< opaque CHIP_SKU (default "885") */
	time_t rim_signer_not_after; /**< RIM L4 signer expiry (default now + 2 years) */
} cct_sim_gpu_opts;

/** One simulated GPU: its per-device certificates. */
typedef struct cct_sim_gpu_device {
	EVP_PKEY *brom_key, *leaf_key;
	X509 *brom, *leaf;
	uint8_t fwid[48];          /**< FWID in the leaf's DICE extension */
	char uuid[48];             /**< "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
} cct_sim_gpu_device;

/** The simulated PKI (owns every key and certificate). */
typedef struct cct_sim_gpu {
	char arch[16];             /**< "HOPPER" or "BLACKWELL" */
	char chip[8];              /**< "GH100" or "GB100" */
	char driver_version[32], vbios_version[32];
	char project[16], project_sku[16], chip_sku[16];
	EVP_PKEY *root_key, *identity_key, *ica_key;
	X509 *root, *identity, *ica;
	EVP_PKEY *rim_root_key, *rim_ca_key, *rim_l3_key, *rim_signer_key;
	X509 *rim_root, *rim_ca, *rim_l3, *rim_signer;
	unsigned device_count;
	cct_sim_gpu_device *dev;   /**< device_count entries */
} cct_sim_gpu;

/** Mint a new PKI. Errors: EINVAL (bad option), ENOMEM, ERROR (OpenSSL). */
int cct_sim_gpu_new(cct_sim_gpu **out, const cct_sim_gpu_opts *opts, cct_err *err);
/** Free (NULL is fine). */
void cct_sim_gpu_free(cct_sim_gpu *g);
/** Write the PKI (certificates, keys, info.json) into dir (created if missing). EIO. */
int cct_sim_gpu_save(const cct_sim_gpu *g, const char *dir, cct_err *err);
/** Read a PKI written by cct_sim_gpu_save. EIO (missing file), EFORMAT. */
int cct_sim_gpu_load(cct_sim_gpu **out, const char *dir, cct_err *err);
/** PEM chain of one device, leaf first, root last (malloc'd; NULL on error). */
char *cct_sim_gpu_chain_pem(const cct_sim_gpu *g, unsigned device);

/** Evidence options (NULL or zeroed: one honest HOPPER GPU). */
typedef struct cct_sim_gpu_evidence_opts {
	unsigned gpu_count;         /**< entries (default 1; at most the sim's device_count) */
	const char *driver_version; /**< reported and measured (default: the sim's) */
	const char *vbios_version;  /**< reported and measured (default: the sim's) */
	int ppcie;                  /**< FEATURE_FLAG = PPCIe (2) instead of SPT (0) */
	unsigned alter_index;       /**< test: SPDM block index (1..64) whose value is altered
				     *   (then signed, so only the golden comparison can see it) */
	int fwid_mismatch;          /**< test: opaque FWID differs from the leaf's (signed) */
	int duplicate_device;       /**< test: every entry comes from device 0 (same UEID) */
} cct_sim_gpu_evidence_opts;

/** SPDM evidence of one device: the 37-byte GET_MEASUREMENTS request with nonce, then the
 *  signed MEASUREMENTS response (raw r||s over SHA-384(request || response-without-signature)).
 *  *out malloc'd. Errors: EINVAL (device index, version strings), ERROR. */
int cct_sim_gpu_spdm(uint8_t **out, size_t *out_size, const cct_sim_gpu *g, unsigned device,
		     const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
		     const cct_sim_gpu_evidence_opts *o, cct_err *err);
/** Evidence for o->gpu_count GPUs with that nonce. *kbs_json_out (optional) gets
 *  {"device_evidence_list":[{"arch","uuid","evidence","certificate"}]} (evidence: base64 SPDM;
 *  certificate: base64 of the PEM chain, leaf first); *nvidia_json_out (optional) NVIDIA's
 *  [{"arch","nonce","evidence","certificate"}]. Both malloc'd. */
int cct_sim_gpu_evidence(char **kbs_json_out, char **nvidia_json_out, const cct_sim_gpu *g,
			 const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
			 const cct_sim_gpu_evidence_opts *o, cct_err *err);
/** The same as documents: *kbs_out the {"device_evidence_list":[...]} object, *nvidia_out the
 *  array; each optional (not both NULL), the caller's to json_decref. */
int cct_sim_gpu_evidence_doc(json_t **kbs_out, json_t **nvidia_out, const cct_sim_gpu *g,
			     const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
			     const cct_sim_gpu_evidence_opts *o, cct_err *err);

typedef enum {
	CCT_SIM_GPU_RIM_DRIVER = 1,
	CCT_SIM_GPU_RIM_VBIOS = 2
} cct_sim_gpu_rim_kind;

/** RIM options (NULL or zeroed: honest RIMs for the sim's versions). */
typedef struct cct_sim_gpu_rim_opts {
	const char *driver_version;  /**< version the driver RIM measures and states */
	const char *vbios_version;   /**< version the VBIOS RIM measures and states */
	const char *driver_id_version; /**< test: version in the driver RIM's id/file name
					 *   (default driver_version): a RIM for another version */
	const char *vbios_id_version;  /**< same for the VBIOS RIM */
	unsigned wrong_index;        /**< test: SPDM block index (1..64) whose golden value differs,
				      *   in the RIM that appraises it */
	int conflict;                /**< test: the driver RIM also marks VBIOS index 1 active */
	int alternatives;            /**< every active value gets a decoy Hash0, the real is Hash1 */
} cct_sim_gpu_rim_opts;

/** RIM id the verifier looks up: NV_GPU_DRIVER_GH100_<ver> (Hopper),
 *  NV_GPU_CC_DRIVER_GB100_<ver> (Blackwell), or NV_GPU_VBIOS_<project>_<project sku>_<chip sku>_<VER without dots, upper case>. */
void cct_sim_gpu_rim_id(char *buf, size_t size, const cct_sim_gpu *g, cct_sim_gpu_rim_kind kind,
			const char *version);
/** One signed RIM (SWID XML, enveloped XML-DSig ecdsa-sha384 / C14N 1.1 made with xmlsec1, KeyInfo
 *  with the RIM chain). *xml_out malloc'd, NUL-terminated; *len_out (optional) its length. */
int cct_sim_gpu_rim_xml(char **xml_out, size_t *len_out, const cct_sim_gpu *g,
			cct_sim_gpu_rim_kind kind, const cct_sim_gpu_rim_opts *o, cct_err *err);
/** Write the driver and VBIOS RIMs as dir/<id>.xml (dir created if missing). */
int cct_sim_gpu_rims(const cct_sim_gpu *g, const char *dir, const cct_sim_gpu_rim_opts *o,
		     cct_err *err);

typedef enum {
	CCT_SIM_GPU_REVOKE_NONE = 0,
	CCT_SIM_GPU_REVOKE_DEVICE_LEAF, /**< device 0's leaf */
	CCT_SIM_GPU_REVOKE_RIM_SIGNER   /**< the RIM L4 signer */
} cct_sim_gpu_revoke_target;

/** OCSP options (NULL or zeroed: all good, thisUpdate now - 60 s, nextUpdate + 7 days). */
typedef struct cct_sim_gpu_ocsp_opts {
	time_t this_update, next_update;
	cct_sim_gpu_revoke_target revoke;
	int reason;                 /**< CRLReason of the revoked one (1 keyCompromise, 6 hold) */
} cct_sim_gpu_ocsp_opts;

/** OCSP responses (DER, signed by each certificate's issuer) for every non-root certificate of
 *  both PKIs, as dir/<serial hex>.der (the names cct_nvgpu_opts.ocsp_dir looks up). */
int cct_sim_gpu_ocsp(const cct_sim_gpu *g, const char *dir, const cct_sim_gpu_ocsp_opts *o,
		     cct_err *err);
/** RIMs into dir/rims and OCSP responses into dir/ocsp (defaults of both). */
int cct_sim_gpu_write_collateral(const cct_sim_gpu *g, const char *dir, cct_err *err);
/** new + save + write_collateral in dir. *out (optional) keeps the PKI for the caller. */
int cct_sim_gpu_init_dir(cct_sim_gpu **out, const char *dir, const cct_sim_gpu_opts *opts,
			 cct_err *err);

#endif
