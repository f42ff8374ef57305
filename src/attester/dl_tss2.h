/* tpm2-tss (ESYS, MU, TCTI loader), loaded on first use (core/dl.h): only a guest collecting
 * vTPM evidence needs it, so no other command loads it at start-up. Include this instead of the
 * tss2 headers' functions: their names are routed through a table filled by cct_dl_tss2_ok(). */
#ifndef CCT_ATTESTER_DL_TSS2_H
#define CCT_ATTESTER_DL_TSS2_H

#include <stddef.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#define CCT_TSS2_ESYS_FUNCS(X)                                                                \
	X(Esys_Initialize) X(Esys_Finalize) X(Esys_Free) X(Esys_TR_FromTPMPublic)             \
	X(Esys_ReadPublic) X(Esys_Quote) X(Esys_PCR_Read) X(Esys_NV_Write)                    \
	X(Esys_NV_ReadPublic) X(Esys_NV_Read)
#define CCT_TSS2_MU_FUNCS(X) X(Tss2_MU_TPMT_SIGNATURE_Marshal)
#define CCT_TSS2_TCTILDR_FUNCS(X) X(Tss2_TctiLdr_Initialize) X(Tss2_TctiLdr_Finalize)

typedef struct cct_dl_tss2_table {
#define CCT_X(f) __typeof__(&f) f;
	CCT_TSS2_ESYS_FUNCS(CCT_X) CCT_TSS2_MU_FUNCS(CCT_X) CCT_TSS2_TCTILDR_FUNCS(CCT_X)
#undef CCT_X
} cct_dl_tss2_table;

extern cct_dl_tss2_table cct_dl_tss2_fns;
/* Load libtss2-esys, -mu and -tctildr once: 1 when all resolved, else 0 with the reason in why. */
int cct_dl_tss2_ok(char *why, size_t size);

#ifndef CCT_DL_TSS2_IMPL
#define Esys_Initialize (cct_dl_tss2_fns.Esys_Initialize)
#define Esys_Finalize (cct_dl_tss2_fns.Esys_Finalize)
#define Esys_Free (cct_dl_tss2_fns.Esys_Free)
#define Esys_TR_FromTPMPublic (cct_dl_tss2_fns.Esys_TR_FromTPMPublic)
#define Esys_ReadPublic (cct_dl_tss2_fns.Esys_ReadPublic)
#define Esys_Quote (cct_dl_tss2_fns.Esys_Quote)
#define Esys_PCR_Read (cct_dl_tss2_fns.Esys_PCR_Read)
#define Esys_NV_Write (cct_dl_tss2_fns.Esys_NV_Write)
#define Esys_NV_ReadPublic (cct_dl_tss2_fns.Esys_NV_ReadPublic)
#define Esys_NV_Read (cct_dl_tss2_fns.Esys_NV_Read)
#define Tss2_MU_TPMT_SIGNATURE_Marshal (cct_dl_tss2_fns.Tss2_MU_TPMT_SIGNATURE_Marshal)
#define Tss2_TctiLdr_Initialize (cct_dl_tss2_fns.Tss2_TctiLdr_Initialize)
#define Tss2_TctiLdr_Finalize (cct_dl_tss2_fns.Tss2_TctiLdr_Finalize)
#endif

#endif
