/* Simulated SEV-SNP platform (semi-private): an AMD-shaped PKI generated at run time
 * (ARK -> ASK RSASSA-PSS/SHA-384, VCEK P-384 with the AMD TCB/hwID extensions) and reports in
 * the real ABI format signed by the simulated VCEK. Never trusted unless configured explicitly. */
#ifndef CCT_ATTESTER_SIM_SNP_H
#define CCT_ATTESTER_SIM_SNP_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/snp.h"

typedef struct cct_sim_snp_opts {
	int rsa_bits;              /* ARK/ASK key size (default 4096, as AMD) */
	cct_snp_product product;   /* default Milan */
	cct_snp_tcb tcb;           /* reported TCB the VCEK is issued for */
	uint8_t chip_id[64];       /* default: random */
	int has_chip_id;
	time_t not_before, not_after; /* VCEK validity (default now-1d .. now+7y) */
	long vcek_serial;          /* default 1 (real VCEKs use 0) */
	int vcek_tcb_mismatch;     /* test: issue the VCEK for another TCB */
	int vlek;                  /* endorse with a VLEK (ASVK "SEV-VLEK-<product>") instead */
} cct_sim_snp_opts;

typedef struct cct_sim_snp {
	cct_snp_product product;
	cct_snp_tcb tcb;
	uint8_t chip_id[64];
	int vlek;                  /* the endorsement key is a VLEK */
	EVP_PKEY *ark_key, *ask_key, *vcek_key;
	X509 *ark, *ask, *vcek;
} cct_sim_snp;

int cct_sim_snp_new(cct_sim_snp **out, const cct_sim_snp_opts *opts, cct_err *err);
void cct_sim_snp_free(cct_sim_snp *s);

typedef struct cct_sim_snp_report_opts {
	uint32_t version;          /* default 3 (v2 and v5 supported) */
	uint64_t policy;           /* default 0x30000 (SMT allowed, reserved bit 17) */
	uint32_t vmpl;
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint32_t guest_svn;
} cct_sim_snp_report_opts;

/* A signed report in the ABI format. */
int cct_sim_snp_report(uint8_t out[CCT_SNP_REPORT_SIZE], const cct_sim_snp *s,
		       const cct_sim_snp_report_opts *o, cct_err *err);
/* (Re)sign bytes 0x000-0x29F of a report with key (r, s little-endian at 0x2A0/0x2E8). */
int cct_sim_snp_sign(uint8_t report[CCT_SNP_REPORT_SIZE], EVP_PKEY *key);
/* A CRL signed by the simulated ARK revoking serials, valid [last, next]. PEM, malloc'd. */
char *cct_sim_snp_crl_pem(const cct_sim_snp *s, const long *serials, size_t n, time_t last,
			  time_t next);
/* Save to / load from a directory: ark.pem ask.pem vcek.pem vcek.key ark.key ask.key info.json */
int cct_sim_snp_save(const cct_sim_snp *s, const char *dir, cct_err *err);
int cct_sim_snp_load(cct_sim_snp **out, const char *dir, cct_err *err);

#endif
