/* tpm area internals (semi-private). */
#ifndef CCT_TPM_INT_H
#define CCT_TPM_INT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/tpm.h"

#define CCT_EV_POST_CODE 0x1u
#define CCT_EV_NO_ACTION 0x3u
#define CCT_EV_SEPARATOR 0x4u
#define CCT_EV_ACTION 0x5u
#define CCT_EV_EVENT_TAG 0x6u
#define CCT_EV_S_CRTM_CONTENTS 0x7u
#define CCT_EV_S_CRTM_VERSION 0x8u
#define CCT_EV_IPL 0xdu
#define CCT_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define CCT_EV_EFI_VARIABLE_BOOT 0x80000002u
#define CCT_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define CCT_EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define CCT_EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define CCT_EV_EFI_GPT_EVENT 0x80000006u
#define CCT_EV_EFI_ACTION 0x80000007u
#define CCT_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define CCT_EV_EFI_HANDOFF_TABLES 0x80000009u
#define CCT_EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define CCT_EV_EFI_VARIABLE_BOOT2 0x8000000cu
#define CCT_EV_EFI_VARIABLE_AUTHORITY 0x800000e0u

static inline uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* UEFI_VARIABLE_DATA (PFP 10.4.3.1): parsed view, borrowed. */
typedef struct cct_efi_var {
	const uint8_t *guid;        /* 16 bytes */
	char name[128];             /* UTF-16LE name as ASCII ('?' for others), NUL-terminated */
	const uint8_t *value;
	size_t value_len;
} cct_efi_var;

/* 0 on success, -1 when the bytes are not a UEFI_VARIABLE_DATA. */
int cct_efi_var_parse(cct_efi_var *v, const uint8_t *p, size_t n);
/* EFI GUID as text (36 chars + NUL). */
void cct_efi_guid_str(char out[37], const uint8_t *g);

/* GRUB's EV_IPL text in PCR 8: the measured string after its prefix (without the NUL). */
int cct_grub_payload(const cct_evlog_event *e, const uint8_t **x, size_t *xn);
/* Index (PCR or MR) GRUB's command measurements land in: PCR 8, or MR 3 (RTMR2) in a CCEL. */
uint32_t cct_evlog_grub_index(const cct_evlog *log);
/* 1 when it is a kernel command line event ("kernel_cmdline: ", "grub_kernel_cmdline "). */
int cct_grub_is_cmdline(const cct_evlog_event *e);

const EVP_MD *cct_tpm_md(uint16_t alg);
/* Digest length, or -1 for an unknown algorithm. */
int cct_tpm_hash(uint16_t alg, const void *p, size_t n, uint8_t *out);

/* az-tdx-vtpm (hcl_tdx.c): the HCL's TD report and the TD quote: quote verified (collateral per
 * opts), debug refused, the TD report equal to the quote body; claims.tdx set; report_data gets
 * the TD report's REPORTDATA for the runtime-data check. */
int cct_tpm__az_tdx_hw(json_t *claims, const cct_hcl_report *h, const uint8_t *tdq,
		       size_t tdq_len, const cct_vtpm_opts *opts, uint8_t report_data[64],
		       int *simulated, cct_err *err);

#endif
