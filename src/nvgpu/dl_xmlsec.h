/* libxml2 + xmlsec1 (OpenSSL back end), loaded on first use (core/dl.h): only RIM parsing and
 * XML-DSig verification (nvgpu/rim.c) and the simulated GPU's RIM signing (sim/sim_gpu.c) need
 * them, so no other command loads them (and libxml2's ICU, libxslt) at start-up.
 * Include this instead of the libxml2/xmlsec headers' functions: their names are routed through
 * a table filled by cct_dl_xmlsec_ok(), which every caller runs first (cct_rim_xml_init does).
 *
 * xmlsec's crypto entry points are macros in its headers (xmlSecCryptoInit ->
 * xmlSecOpenSSLInit, xmlSecTransformSha384Id -> xmlSecOpenSSLTransformSha384GetKlass(),
 * xmlSecCheckVersion() -> xmlSecCheckVersionExt(...)): the table holds the functions those
 * macros expand to, and the OpenSSL back end is libxmlsec1-openssl.so.1, loaded explicitly
 * (the build uses XMLSEC_NO_CRYPTO_DYNAMIC_LOADING). libxml2's xmlFree is a global variable
 * holding a function pointer: the table holds its address. */
#ifndef CCT_NVGPU_DL_XMLSEC_H
#define CCT_NVGPU_DL_XMLSEC_H

#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/list.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#ifdef xmlFree
#error "libxml2 built with per-thread allocators: xmlFree is not a variable here"
#endif

#define CCT_DL_LIBXML2_SONAME "libxml2.so.2"
#define CCT_DL_XMLSEC_SONAME "libxmlsec1.so.1"
#define CCT_DL_XMLSEC_OPENSSL_SONAME "libxmlsec1-openssl.so.1"

/* libxml2.so.2 (xmlFree: the variable's address) */
#define CCT_LIBXML2_FUNCS(X)                                                                  \
	X(xmlInitParser) X(xmlSetGenericErrorFunc) X(xmlReadMemory) X(xmlFreeDoc)             \
	X(xmlDocGetRootElement) X(xmlGetNsProp) X(xmlGetNoNsProp) X(xmlNodeGetContent)        \
	X(xmlFree) X(xmlAddChild) X(xmlFreeNode) X(xmlUnlinkNode) X(xmlIsBlankNode)           \
	X(xmlNewTextChild) X(xmlBufferCreate) X(xmlBufferFree) X(xmlBufferLength)             \
	X(xmlBufferContent) X(xmlSaveToBuffer) X(xmlSaveDoc) X(xmlSaveClose)
/* libxmlsec1.so.1 (xmlSecTransform*GetKlass: what the xmlSecTransform*Id macros call) */
#define CCT_XMLSEC_FUNCS(X)                                                                   \
	X(xmlSecInit) X(xmlSecCheckVersionExt) X(xmlSecErrorsSetCallback) X(xmlSecKeyCreate)  \
	X(xmlSecKeySetValue) X(xmlSecKeyDestroy) X(xmlSecKeyDataDestroy)                      \
	X(xmlSecDSigCtxCreate) X(xmlSecDSigCtxDestroy) X(xmlSecDSigCtxVerify)                 \
	X(xmlSecDSigCtxSign) X(xmlSecPtrListGetSize) X(xmlSecTmplSignatureCreateNsPref)       \
	X(xmlSecTmplSignatureAddReference) X(xmlSecTmplReferenceAddTransform)                 \
	X(xmlSecTmplSignatureEnsureKeyInfo) X(xmlSecTmplKeyInfoAddX509Data)                   \
	X(xmlSecTransformEnvelopedGetKlass) X(xmlSecTransformInclC14N11GetKlass)
/* libxmlsec1-openssl.so.1 (xmlSecCryptoAppInit, xmlSecCryptoInit, the OpenSSL transforms) */
#define CCT_XMLSEC_OPENSSL_FUNCS(X)                                                           \
	X(xmlSecOpenSSLAppInit) X(xmlSecOpenSSLInit) X(xmlSecOpenSSLEvpKeyAdopt)              \
	X(xmlSecOpenSSLTransformEcdsaSha384GetKlass) X(xmlSecOpenSSLTransformSha384GetKlass)

typedef struct cct_dl_xmlsec_table {
#define CCT_X(f) __typeof__(&f) f;
	CCT_LIBXML2_FUNCS(CCT_X) CCT_XMLSEC_FUNCS(CCT_X) CCT_XMLSEC_OPENSSL_FUNCS(CCT_X)
#undef CCT_X
} cct_dl_xmlsec_table;

extern cct_dl_xmlsec_table cct_dl_xmlsec_fns;
/* Load libxml2.so.2, libxmlsec1.so.1 and libxmlsec1-openssl.so.1 once (thread-safe): 1 when
 * every name resolved, else 0 with the reason in why (if not NULL): which shared object, and
 * the Debian package that provides it. Loading only: xmlsec's initialisation is
 * cct_rim_xml_init's (nvgpu/rim.h). */
int cct_dl_xmlsec_ok(char *why, size_t size);

#ifndef CCT_DL_XMLSEC_IMPL
#define xmlInitParser (cct_dl_xmlsec_fns.xmlInitParser)
#define xmlSetGenericErrorFunc (cct_dl_xmlsec_fns.xmlSetGenericErrorFunc)
#define xmlReadMemory (cct_dl_xmlsec_fns.xmlReadMemory)
#define xmlFreeDoc (cct_dl_xmlsec_fns.xmlFreeDoc)
#define xmlDocGetRootElement (cct_dl_xmlsec_fns.xmlDocGetRootElement)
#define xmlGetNsProp (cct_dl_xmlsec_fns.xmlGetNsProp)
#define xmlGetNoNsProp (cct_dl_xmlsec_fns.xmlGetNoNsProp)
#define xmlNodeGetContent (cct_dl_xmlsec_fns.xmlNodeGetContent)
#define xmlFree (*cct_dl_xmlsec_fns.xmlFree)
#define xmlAddChild (cct_dl_xmlsec_fns.xmlAddChild)
#define xmlFreeNode (cct_dl_xmlsec_fns.xmlFreeNode)
#define xmlUnlinkNode (cct_dl_xmlsec_fns.xmlUnlinkNode)
#define xmlIsBlankNode (cct_dl_xmlsec_fns.xmlIsBlankNode)
#define xmlNewTextChild (cct_dl_xmlsec_fns.xmlNewTextChild)
#define xmlBufferCreate (cct_dl_xmlsec_fns.xmlBufferCreate)
#define xmlBufferFree (cct_dl_xmlsec_fns.xmlBufferFree)
#define xmlBufferLength (cct_dl_xmlsec_fns.xmlBufferLength)
#define xmlBufferContent (cct_dl_xmlsec_fns.xmlBufferContent)
#define xmlSaveToBuffer (cct_dl_xmlsec_fns.xmlSaveToBuffer)
#define xmlSaveDoc (cct_dl_xmlsec_fns.xmlSaveDoc)
#define xmlSaveClose (cct_dl_xmlsec_fns.xmlSaveClose)
#define xmlSecInit (cct_dl_xmlsec_fns.xmlSecInit)
#define xmlSecCheckVersionExt (cct_dl_xmlsec_fns.xmlSecCheckVersionExt)
#define xmlSecErrorsSetCallback (cct_dl_xmlsec_fns.xmlSecErrorsSetCallback)
#define xmlSecKeyCreate (cct_dl_xmlsec_fns.xmlSecKeyCreate)
#define xmlSecKeySetValue (cct_dl_xmlsec_fns.xmlSecKeySetValue)
#define xmlSecKeyDestroy (cct_dl_xmlsec_fns.xmlSecKeyDestroy)
#define xmlSecKeyDataDestroy (cct_dl_xmlsec_fns.xmlSecKeyDataDestroy)
#define xmlSecDSigCtxCreate (cct_dl_xmlsec_fns.xmlSecDSigCtxCreate)
#define xmlSecDSigCtxDestroy (cct_dl_xmlsec_fns.xmlSecDSigCtxDestroy)
#define xmlSecDSigCtxVerify (cct_dl_xmlsec_fns.xmlSecDSigCtxVerify)
#define xmlSecDSigCtxSign (cct_dl_xmlsec_fns.xmlSecDSigCtxSign)
#define xmlSecPtrListGetSize (cct_dl_xmlsec_fns.xmlSecPtrListGetSize)
#define xmlSecTmplSignatureCreateNsPref (cct_dl_xmlsec_fns.xmlSecTmplSignatureCreateNsPref)
#define xmlSecTmplSignatureAddReference (cct_dl_xmlsec_fns.xmlSecTmplSignatureAddReference)
#define xmlSecTmplReferenceAddTransform (cct_dl_xmlsec_fns.xmlSecTmplReferenceAddTransform)
#define xmlSecTmplSignatureEnsureKeyInfo (cct_dl_xmlsec_fns.xmlSecTmplSignatureEnsureKeyInfo)
#define xmlSecTmplKeyInfoAddX509Data (cct_dl_xmlsec_fns.xmlSecTmplKeyInfoAddX509Data)
#define xmlSecTransformEnvelopedGetKlass (cct_dl_xmlsec_fns.xmlSecTransformEnvelopedGetKlass)
#define xmlSecTransformInclC14N11GetKlass (cct_dl_xmlsec_fns.xmlSecTransformInclC14N11GetKlass)
#define xmlSecOpenSSLAppInit (cct_dl_xmlsec_fns.xmlSecOpenSSLAppInit)
#define xmlSecOpenSSLInit (cct_dl_xmlsec_fns.xmlSecOpenSSLInit)
#define xmlSecOpenSSLEvpKeyAdopt (cct_dl_xmlsec_fns.xmlSecOpenSSLEvpKeyAdopt)
#define xmlSecOpenSSLTransformEcdsaSha384GetKlass \
	(cct_dl_xmlsec_fns.xmlSecOpenSSLTransformEcdsaSha384GetKlass)
#define xmlSecOpenSSLTransformSha384GetKlass (cct_dl_xmlsec_fns.xmlSecOpenSSLTransformSha384GetKlass)
#endif

#endif
