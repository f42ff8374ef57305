/* cctrust measure: reference values computed from the launch artifacts themselves.
 *
 * - AMD SEV / SEV-ES / SEV-SNP launch digests from an OVMF image (the algorithm of
 *   virtee/sev-snp-measure: OVMF pages, the SEV hashes table for kernel/initrd/cmdline, the
 *   OVMF SEV metadata sections, one VMSA page per vCPU), optionally with an SVSM image.
 * - SNP ID block / ID_AUTH_INFO generation with an ID key and an author key (ECDSA P-384).
 * - Intel TDX MRTD from the TDVF metadata of a TDX firmware image.
 *
 * Parsers never allocate: parsed structures borrow the caller's firmware buffer. */
#ifndef CCTRUST_MEASURE_H
#define CCTRUST_MEASURE_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Named caps. */
#define CCT_MEASURE_MAX_TABLE_ENTRIES 32   /**< GUIDed entries in the OVMF footer table */
#define CCT_MEASURE_MAX_SECTIONS 64        /**< SEV metadata / TDVF sections */
#define CCT_MEASURE_MAX_FIRMWARE (256u * 1024u * 1024u) /**< largest firmware image read */
#define CCT_MEASURE_MAX_SECTION_SIZE (1024u * 1024u * 1024u) /**< bytes in one section */
#define CCT_MEASURE_MAX_VCPUS 4096

#define CCT_MEASURE_SNP_DIGEST_SIZE 48
#define CCT_MEASURE_SEV_DIGEST_SIZE 32
#define CCT_MEASURE_PAGE_SIZE 4096
#define CCT_MEASURE_VMSA_SIZE 4096

/** OVMF SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm). */
typedef enum {
	CCT_MEASURE_SECTION_SNP_SEC_MEM = 1,
	CCT_MEASURE_SECTION_SNP_SECRETS = 2,
	CCT_MEASURE_SECTION_CPUID = 3,
	CCT_MEASURE_SECTION_SVSM_CAA = 4,
	CCT_MEASURE_SECTION_SNP_KERNEL_HASHES = 0x10
} cct_measure_section_type;

/** One entry of the OVMF footer GUID table; data borrowed from the image. */
typedef struct cct_measure_table_entry {
	uint8_t guid[16];  /**< as stored (little-endian GUID layout) */
	cct_slice data;
} cct_measure_table_entry;

/** One OVMF SEV metadata section descriptor. */
typedef struct cct_measure_sev_section {
	uint32_t gpa;
	uint32_t size;
	uint32_t type;     /**< cct_measure_section_type */
} cct_measure_sev_section;

/** A parsed OVMF (or SVSM) image. Borrows the image bytes. */
typedef struct cct_measure_ovmf {
	cct_slice image;
	size_t table_count;
	cct_measure_table_entry table[CCT_MEASURE_MAX_TABLE_ENTRIES];
	size_t section_count;
	cct_measure_sev_section sections[CCT_MEASURE_MAX_SECTIONS];
} cct_measure_ovmf;

/** Parse the footer GUID table and the SEV metadata of an OVMF image. An image without the
 *  footer GUID parses to an empty table (as sev-snp-measure does); a malformed table or
 *  metadata is EFORMAT/ETRUNC with the offset. */
CCT_EXTERN int cct_measure_ovmf_parse(cct_measure_ovmf *out, const uint8_t *image, size_t n,
				      cct_err *err);
/** Table entry data for a GUID given as text ("96b582de-1fb2-..."), or NULL. Borrowed. */
CCT_EXTERN const cct_slice *cct_measure_ovmf_table_find(const cct_measure_ovmf *o,
							 const char *guid);

typedef enum {
	CCT_MEASURE_MODE_SNP = 0,
	CCT_MEASURE_MODE_SEV,
	CCT_MEASURE_MODE_SEVES,
	CCT_MEASURE_MODE_SNP_SVSM
} cct_measure_mode;

typedef enum {
	CCT_MEASURE_VMM_QEMU = 0,
	CCT_MEASURE_VMM_EC2,
	CCT_MEASURE_VMM_GCE
} cct_measure_vmm;

/** Inputs of a launch digest. Byte ranges are borrowed. */
typedef struct cct_measure_snp_opts {
	cct_measure_mode mode;
	const uint8_t *ovmf;       /**< the OVMF image (footer-only is enough with ovmf_hash) */
	size_t ovmf_size;
	const uint8_t *ovmf_hash;  /**< optional 48-byte precomputed SNP digest of the OVMF pages */
	int has_kernel;            /**< kernel/initrd/cmdline measured (SEV hashes table) */
	const uint8_t *kernel; size_t kernel_size;
	const uint8_t *initrd; size_t initrd_size; /**< may be NULL: hashed as empty */
	const char *append;        /**< kernel command line or NULL */
	uint32_t vcpus;
	uint32_t vcpu_sig;         /**< CPUID signature (family/model/stepping) */
	uint64_t guest_features;   /**< SEV features in the VMSA (SNP; default 0x1) */
	cct_measure_vmm vmm;
	int vmm_version;           /**< 0 = latest; EC2: 1 = the older EC2 VMSA (rdx 0 on the BSP) */
	const uint8_t *svsm;       /**< SNP_SVSM: the SVSM image */
	size_t svsm_size;
	uint64_t ovmf_vars_size;   /**< SNP_SVSM: size of the OVMF variable store below OVMF */
} cct_measure_snp_opts;

/** Launch digest: 48 bytes (SNP, SNP_SVSM) or 32 bytes (SEV, SEV-ES) into out; *out_len set.
 *  Errors: EFORMAT (firmware lacks what the inputs need, e.g. kernel hashes), EINVAL. */
CCT_EXTERN int cct_measure_launch_digest(uint8_t out[CCT_MEASURE_SNP_DIGEST_SIZE], size_t *out_len,
					 const cct_measure_snp_opts *o, cct_err *err);
/** SNP page-measurement of the OVMF image alone (the value --ovmf-hash takes). */
CCT_EXTERN int cct_measure_snp_ovmf_hash(uint8_t out[CCT_MEASURE_SNP_DIGEST_SIZE],
					 const uint8_t *ovmf, size_t n, cct_err *err);
/** SNP launch digests for 1..max_vcpus vCPUs in one pass (out[i] is the digest for i+1 vCPUs):
 *  the chain is shared up to the VMSA pages, so this costs one launch digest. Needs SNP mode
 *  and o->ovmf_hash (the OVMF page digest computed once); o->vcpus is ignored. */
CCT_EXTERN int cct_measure_snp_vcpu_scan(uint8_t (*out)[CCT_MEASURE_SNP_DIGEST_SIZE],
					 uint32_t max_vcpus, const cct_measure_snp_opts *o,
					 cct_err *err);
/** CPUID signature of a QEMU vCPU model name ("EPYC-v4", "EPYC-Milan", ...). */
CCT_EXTERN int cct_measure_vcpu_sig(uint32_t *out, const char *name);
/** CPUID signature from family/model/stepping (AMD CPUID Fn0000_0001_EAX). */
CCT_EXTERN uint32_t cct_measure_cpu_sig(uint32_t family, uint32_t model, uint32_t stepping);
/** The 4096-byte VMSA page of vCPU index i for these options (for inspection / dumps). */
CCT_EXTERN int cct_measure_vmsa_page(uint8_t out[CCT_MEASURE_VMSA_SIZE],
				     const cct_measure_snp_opts *o, uint32_t i, cct_err *err);

/* ---- SNP ID block and ID_AUTH_INFO (SNP firmware ABI, SNP_LAUNCH_FINISH) ---- */
#define CCT_MEASURE_ID_BLOCK_SIZE 96
#define CCT_MEASURE_ID_AUTH_SIZE 4096
#define CCT_MEASURE_SNP_PUBKEY_SIZE 0x404
#define CCT_MEASURE_SNP_SIG_SIZE 512

typedef struct cct_measure_id_block_opts {
	uint8_t launch_digest[48];
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t version;          /**< 1 */
	uint32_t guest_svn;
	uint64_t policy;           /**< guest policy (default 0x30000) */
} cct_measure_id_block_opts;

/** CCT_OK when policy is an SNP guest policy the firmware can launch with: bit 17 (reserved)
 *  set, as SNP_LAUNCH_START requires and as the verifier requires of a report; else
 *  CCT_EINVAL naming the bit. */
CCT_EXTERN int cct_measure_snp_policy_check(uint64_t policy, cct_err *err);
/** Serialize the 96-byte ID block. */
CCT_EXTERN void cct_measure_id_block_encode(uint8_t out[CCT_MEASURE_ID_BLOCK_SIZE],
					    const cct_measure_id_block_opts *o);
/** Public key of a P-384 key (PEM, private or public) in the SNP ABI layout (0x404 bytes). */
CCT_EXTERN int cct_measure_snp_pubkey(uint8_t out[CCT_MEASURE_SNP_PUBKEY_SIZE],
				      const uint8_t *pem, size_t pem_len, cct_err *err);
/** SHA-384 of that public key: what the report carries as ID_KEY_DIGEST/AUTHOR_KEY_DIGEST. */
CCT_EXTERN int cct_measure_key_digest(uint8_t out[48], const uint8_t *pem, size_t pem_len,
				      cct_err *err);
/** ECDSA P-384/SHA-384 signature of msg with a private key PEM, in the SNP ABI layout
 *  (r and s little-endian, 72 bytes each, zero-padded to 512). */
CCT_EXTERN int cct_measure_snp_sign(uint8_t out[CCT_MEASURE_SNP_SIG_SIZE], const uint8_t *msg,
				    size_t n, const uint8_t *key_pem, size_t key_len, cct_err *err);
/** Verify such a signature with a key PEM (private or public): OK or ESIGNATURE. */
CCT_EXTERN int cct_measure_snp_sig_verify(const uint8_t sig[CCT_MEASURE_SNP_SIG_SIZE],
					  const uint8_t *msg, size_t n, const uint8_t *key_pem,
					  size_t key_len, cct_err *err);
/** Assemble ID_AUTH_INFO from the two signatures and two public keys (0x404 layouts). */
CCT_EXTERN void cct_measure_id_auth_encode(uint8_t out[CCT_MEASURE_ID_AUTH_SIZE],
					   const uint8_t id_block_sig[CCT_MEASURE_SNP_SIG_SIZE],
					   const uint8_t id_pubkey[CCT_MEASURE_SNP_PUBKEY_SIZE],
					   const uint8_t id_key_sig[CCT_MEASURE_SNP_SIG_SIZE],
					   const uint8_t author_pubkey[CCT_MEASURE_SNP_PUBKEY_SIZE]);

/* ---- Intel TDX: TDVF metadata and MRTD ---- */
typedef enum {
	CCT_MEASURE_TDVF_BFV = 0, CCT_MEASURE_TDVF_CFV = 1, CCT_MEASURE_TDVF_TD_HOB = 2,
	CCT_MEASURE_TDVF_TEMP_MEM = 3, CCT_MEASURE_TDVF_PERM_MEM = 4,
	CCT_MEASURE_TDVF_PAYLOAD = 5, CCT_MEASURE_TDVF_PAYLOAD_PARAM = 6
} cct_measure_tdvf_type;
#define CCT_MEASURE_TDVF_ATTR_MR_EXTEND 0x1u
#define CCT_MEASURE_TDVF_ATTR_PAGE_AUG 0x2u

typedef struct cct_measure_tdvf_section {
	uint32_t data_offset;      /**< offset of the raw data in the image */
	uint32_t raw_size;
	uint64_t gpa;
	uint64_t mem_size;
	uint32_t type;
	uint32_t attributes;
} cct_measure_tdvf_section;

typedef struct cct_measure_tdvf {
	cct_slice image;
	size_t section_count;
	cct_measure_tdvf_section sections[CCT_MEASURE_MAX_SECTIONS];
} cct_measure_tdvf;

/** Parse the TDVF metadata (located through the OVMF footer table). */
CCT_EXTERN int cct_measure_tdvf_parse(cct_measure_tdvf *out, const uint8_t *image, size_t n,
				      cct_err *err);
/** MRTD: SHA-384 over the TDH.MEM.PAGE.ADD / TDH.MR.EXTEND records the TDX module hashes.
 *  two_pass = 0: per page PAGE.ADD then its MR.EXTENDs (current KVM/QEMU); 1: all PAGE.ADDs
 *  of a section first, then all its MR.EXTENDs (older VMMs). */
CCT_EXTERN int cct_measure_tdx_mrtd(uint8_t out[48], const cct_measure_tdvf *t, int two_pass,
				    cct_err *err);

/* ---- Intel TDX direct kernel boot: RTMR1 / RTMR2 (docs/launch.md says what is validated) ---- */
#define CCT_MEASURE_TDX_BOOT_MAX_EVENTS 16

/** PE/COFF Authenticode digest ("sha384", "sha256", ...) of a PE image: headers without
 *  CheckSum and the certificate-table entry, sections in file order, trailing data less a
 *  certificate table. Errors EFORMAT/ETRUNC/ETOOBIG (stage PARSE) with the offset. */
CCT_EXTERN int cct_measure_pe_authenticode(uint8_t *out, size_t *out_len, const char *digest,
					   const uint8_t *pe, size_t n, cct_err *err);
/** Patch a bzImage's setup header in place as QEMU's x86_load_linux does for -kernel on a q35
 *  machine with ram_size bytes (loader type, heap end, command-line pointer, vga=, initrd
 *  address and size). */
CCT_EXTERN int cct_measure_qemu_kernel_patch(uint8_t *kernel, size_t n, uint64_t ram_size,
					     size_t initrd_size, const char *cmdline,
					     cct_err *err);

typedef enum {
	CCT_MEASURE_TDX_EV_DATA = 0,         /**< SHA-384 of the event data (EFI actions,
						  separators, initrd contents) */
	CCT_MEASURE_TDX_EV_GRUB_STRING,      /**< GRUB EV_IPL: "kernel_cmdline: X\0" measures X */
	CCT_MEASURE_TDX_EV_LOAD_OPTIONS      /**< EFI stub: UTF-16LE of the ASCII text + NUL */
} cct_measure_tdx_event_form;

/** SHA-384 event digest of event data in one of the forms above. */
CCT_EXTERN int cct_measure_tdx_event_digest(uint8_t out[48], cct_measure_tdx_event_form form,
					    const uint8_t *data, size_t n);

typedef struct cct_measure_tdx_boot_event {
	uint32_t rtmr;            /**< 1 or 2 (CCEL MR index rtmr + 1) */
	uint32_t event_type;      /**< TCG event type */
	const char *description;  /**< static text */
	uint8_t sha384[48];
} cct_measure_tdx_boot_event;

typedef struct cct_measure_tdx_boot {
	size_t count;
	cct_measure_tdx_boot_event events[CCT_MEASURE_TDX_BOOT_MAX_EVENTS];
	uint8_t rtmr[4][48];      /**< only [1] and [2] are computed (from zero) */
	uint8_t kernel_authenticode[48];
} cct_measure_tdx_boot;

/** RTMR1/RTMR2 of a TDVF direct boot with QEMU -kernel [-initrd] [-append] on a q35 machine
 *  with ram_size bytes of memory: the events in log order and their replay. */
CCT_EXTERN int cct_measure_tdx_direct_boot(cct_measure_tdx_boot *out, const uint8_t *kernel,
					   size_t kn, const uint8_t *initrd, size_t in,
					   const char *cmdline, uint64_t ram_size, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
