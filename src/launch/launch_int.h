/* cctrust launch: semi-private helpers shared by the launch sources (not installed). */
#ifndef CCT_LAUNCH_INT_H
#define CCT_LAUNCH_INT_H

#include <jansson.h>

#include "cctrust/launch.h"

/* The plan's guest memory (key "memory"): 64 MiB .. 64 TiB (4-level paging's guest physical
 * space), a size QEMU's -m takes. */
#define CCT_LAUNCH_MIN_MEMORY (64ull << 20)
#define CCT_LAUNCH_MAX_MEMORY (64ull << 40)

/* 1 if s is a PCI address "dddd:bb:dd.f" (lowercase hex). */
int cct_launch__bdf_valid(const char *s);

/* The values the plan's inputs determine (read from the firmware, kernel, initrd, init-data and
 * ID keys named by the plan). */
typedef struct cct_launch_values {
	uint8_t measurement[48];   /* SNP launch digest */
	uint8_t ovmf_hash[48];     /* SNP digest of the OVMF pages */
	int has_init_data;
	char init_alg[8];
	uint8_t init_digest[64];
	size_t init_digest_len;
	uint8_t host_data[32];     /* SNP */
	uint8_t mrconfigid[48];    /* TDX */
	uint8_t mrtd[48];          /* TDX */
	int has_id_block;
	uint8_t id_block[96];
	uint8_t id_auth[4096];
	uint8_t id_key_digest[48];
	int has_author_key;
	uint8_t author_key_digest[48];
	int has_rtmr12;            /* TDX direct boot: RTMR1/RTMR2 derived */
	uint8_t rtmr1[48], rtmr2[48];
	json_t *rtmr_events;       /* owned: the TDX boot events replayed, or NULL */
	uint8_t kernel_sha256[32], initrd_sha256[32];
} cct_launch_values;

/* Compute them. SNP ID block signatures are fresh (ECDSA) on every call. */
int cct_launch__values(cct_launch_values *v, const cct_launch_plan *p, cct_err *err);
void cct_launch__values_clear(cct_launch_values *v);

/* SNP launch-digest options for the plan over already-read firmware/kernel/initrd. */
void cct_launch__snp_opts(cct_measure_snp_opts *o, const cct_launch_plan *p, const uint8_t *fw,
			  size_t fw_n, const uint8_t *k, size_t kn, const uint8_t *i, size_t in);

/* TDX direct boot: RTMR1/RTMR2 and their events (tdx_rtmr.c); sets v->has_rtmr12. */
int cct_launch__tdx_rtmrs(cct_launch_values *v, const cct_launch_plan *p, const uint8_t *k,
			  size_t kn, const uint8_t *i, size_t in, cct_err *err);

/* QEMU -m size ("64G", "4096" = MiB) in bytes. */
int cct_launch__memory_bytes(uint64_t *out, const char *s);

/* expected.json / policy.json contents for computed values. */
json_t *cct_launch__expected_json(const cct_launch_plan *p, const cct_launch_values *v);
json_t *cct_launch__policy_json(const cct_launch_plan *p, const cct_launch_values *v);

/* Read a plan input file (firmware, kernel, ...) naming the plan key on failure. */
int cct_launch__read(uint8_t **out, size_t *n, const char *path, size_t max, const char *key,
		     cct_err *err);

#endif
