/* TCG DICE certificate extensions on NVIDIA device leaves, as OpenSSL ASN.1 templates
 * (semi-private): read by the verifier, written by the simulated GPU, one schema for both.
 *   FWID extension 2.23.133.5.4.1 (Hopper):
 *     SEQUENCE { INTEGER version, SubjectPublicKeyInfo, SEQUENCE { OID hashAlg, OCTET STRING } }
 *   DiceTcbInfo 2.23.133.5.4.1.1 (Blackwell): [0..10] IMPLICIT optional members, fwids = [6]. */
#ifndef CCT_NVGPU_DICE_H
#define CCT_NVGPU_DICE_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#define CCT_OID_DICE_FWID "2.23.133.5.4.1"
#define CCT_OID_DICE_TCBINFO "2.23.133.5.4.1.1"

typedef struct {
	ASN1_OBJECT *alg;
	ASN1_OCTET_STRING *digest;
} NV_FWID;
DECLARE_ASN1_ITEM(NV_FWID)
DEFINE_STACK_OF(NV_FWID)

typedef struct {
	ASN1_INTEGER *version;
	X509_PUBKEY *key;
	NV_FWID *fwid;
} NV_FWID_EXT;
DECLARE_ASN1_ITEM(NV_FWID_EXT)

typedef struct {
	ASN1_UTF8STRING *vendor, *model, *version;
	ASN1_INTEGER *svn, *layer, *index;
	STACK_OF(NV_FWID) *fwids;
	ASN1_BIT_STRING *flags;
	ASN1_OCTET_STRING *vendor_info, *type;
	ASN1_BIT_STRING *flags_mask;
} NV_TCBINFO;
DECLARE_ASN1_ITEM(NV_TCBINFO)

#endif
