/* NVIDIA RIM parsing (libxml2) and XML signature verification (xmlsec1). See rim.h.
 *
 * Signature profile accepted (what NVIDIA's RIM service signs, nothing wider, so that no
 * signature-wrapping or external-reference trick can make xmlsec vouch for other bytes than
 * the ones whose measurements we read):
 *  - exactly one ds:Signature, a direct child of the SoftwareIdentity root;
 *  - exactly one ds:Reference with URI="" (the whole document), transforms limited to
 *    enveloped-signature and C14N (1.0, 1.1, exclusive);
 *  - SignatureMethod ecdsa-sha256/384/512; DigestMethod sha256/384/512;
 *  - the verifying key is the public key of the first X509Certificate in KeyInfo, whose chain
 *    the caller checks to a pinned root (cct_rim_verify_chain); KeyInfo is not otherwise used. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cctrust/core.h"
#include "nvgpu/dl_xmlsec.h" /* libxml2 + xmlsec1, loaded on first use */
#include "nvgpu/rim.h"
#include "x509/x509.h"

#define NS_SWID "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define NS_RIM "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
#define NS_SHA384 "http://www.w3.org/2001/04/xmlenc#sha384"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static int xml_ready;
static int xml_fail = CCT_EUNSUPPORTED; /* not installed; CCT_ERROR: installed, init failed */
static char xml_why[512] = "libxml2/xmlsec1 were not initialised";

static void quiet_xml_errors(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void quiet_xmlsec_errors(const char *file, int line, const char *func,
				const char *errorObject, const char *errorSubject, int reason,
				const char *msg)
{
	(void)file; (void)line; (void)func; (void)errorObject; (void)errorSubject;
	(void)reason; (void)msg;
}

/* Load the libraries (first use in this process), then initialise them, once. */
static void xml_init(void)
{
	if (!cct_dl_xmlsec_ok(xml_why, sizeof(xml_why)))
		return;
	xml_fail = CCT_ERROR;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet_xml_errors);
	if (xmlSecInit() < 0) {
		snprintf(xml_why, sizeof(xml_why), "xmlSecInit failed");
		return;
	}
	if (xmlSecCheckVersion() != 1) {
		snprintf(xml_why, sizeof(xml_why),
			 "%s is not ABI compatible with xmlsec1 %d.%d.%d, which cctrust was built with",
			 CCT_DL_XMLSEC_SONAME, XMLSEC_VERSION_MAJOR, XMLSEC_VERSION_MINOR,
			 XMLSEC_VERSION_SUBMINOR);
		return;
	}
	xmlSecErrorsSetCallback(quiet_xmlsec_errors);
	if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
		snprintf(xml_why, sizeof(xml_why), "xmlsec1's OpenSSL back end failed to initialise");
		return;
	}
	xml_ready = 1;
}

int cct_rim_xml_ready(cct_stage stage, cct_err *err)
{
	pthread_once(&xml_once, xml_init);
	if (xml_ready)
		return CCT_OK;
	return cct_err_set(err, xml_fail, stage, 0,
			   "NVIDIA RIMs need libxml2 and xmlsec1 (OpenSSL): %s", xml_why);
}

int cct_rim_xml_init(void)
{
	return cct_rim_xml_ready(CCT_STAGE_NONE, NULL) == CCT_OK;
}

static int is_el(const xmlNode *n, const char *name, const char *ns)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name) &&
	       n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

static const xmlNode *child_el(const xmlNode *parent, const char *name, const char *ns)
{
	const xmlNode *c;

	for (c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, name, ns))
			return c;
	return NULL;
}

static int count_el(const xmlNode *parent, const char *name, const char *ns)
{
	const xmlNode *c;
	int n = 0;

	for (c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, name, ns))
			n++;
	return n;
}

/* attribute value (no namespace when ns == NULL) into buf; 1 if present */
static int attr(const xmlNode *n, const char *name, const char *ns, char *buf, size_t size)
{
	xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns)
			: xmlGetNoNsProp(n, (const xmlChar *)name);

	if (size)
		buf[0] = '\0';
	if (!v)
		return 0;
	snprintf(buf, size, "%s", (const char *)v);
	xmlFree(v);
	return 1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int alg_is(const char *a, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(a, *list))
			return 1;
	return 0;
}

static const char *const c14n_algs[] = {
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
	"http://www.w3.org/2006/12/xml-c14n11",
	"http://www.w3.org/2006/12/xml-c14n11#WithComments",
	"http://www.w3.org/2001/10/xml-exc-c14n#",
	"http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
	NULL
};
static const char *const sig_algs[] = {
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
	NULL
};
static const char *const digest_algs[] = {
	"http://www.w3.org/2001/04/xmlenc#sha256",
	"http://www.w3.org/2001/04/xmldsig-more#sha384",
	"http://www.w3.org/2001/04/xmlenc#sha512",
	NULL
};

static int check_signature_profile(const xmlNode *sig, cct_err *err)
{
	const xmlNode *si = child_el(sig, "SignedInfo", NS_DSIG), *ref, *tr, *c;
	char a[160];
	int enveloped = 0;

	if (!si || count_el(sig, "SignedInfo", NS_DSIG) != 1)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: ds:Signature has no single ds:SignedInfo");
	c = child_el(si, "CanonicalizationMethod", NS_DSIG);
	if (!c || !attr(c, "Algorithm", NULL, a, sizeof(a)) || !alg_is(a, c14n_algs))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: CanonicalizationMethod '%s' not accepted", a);
	c = child_el(si, "SignatureMethod", NS_DSIG);
	if (!c || !attr(c, "Algorithm", NULL, a, sizeof(a)) || !alg_is(a, sig_algs))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: SignatureMethod '%s' not accepted (want ECDSA with SHA-2)",
				   a);
	if (count_el(si, "Reference", NS_DSIG) != 1)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: SignedInfo must hold exactly one Reference");
	ref = child_el(si, "Reference", NS_DSIG);
	if (!attr(ref, "URI", NULL, a, sizeof(a)) || a[0] != '\0')
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: Reference URI must be \"\" (the whole document)");
	tr = child_el(ref, "Transforms", NS_DSIG);
	for (c = tr ? tr->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_el(c, "Transform", NS_DSIG) || !attr(c, "Algorithm", NULL, a, sizeof(a)))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "RIM: malformed ds:Transforms");
		if (!strcmp(a, "http://www.w3.org/2000/09/xmldsig#enveloped-signature"))
			enveloped = 1;
		else if (!alg_is(a, c14n_algs))
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
					   "RIM: transform '%s' not accepted", a);
	}
	if (!enveloped)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: signature is not an enveloped signature");
	c = child_el(ref, "DigestMethod", NS_DSIG);
	if (!c || !attr(c, "Algorithm", NULL, a, sizeof(a)) || !alg_is(a, digest_algs))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: DigestMethod '%s' not accepted", a);
	return CCT_OK;
}

static int read_keyinfo_certs(cct_rim *rim, const xmlNode *sig, cct_err *err)
{
	const xmlNode *ki = child_el(sig, "KeyInfo", NS_DSIG);
	const xmlNode *xd = child_el(ki, "X509Data", NS_DSIG), *c;

	if (!xd)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: no ds:KeyInfo/ds:X509Data with the signing certificate");
	for (c = xd->children; c; c = c->next) {
		xmlChar *txt;
		uint8_t *der = NULL;
		size_t dlen = 0;
		const unsigned char *p;
		X509 *x;
		int rc;

		if (!is_el(c, "X509Certificate", NS_DSIG))
			continue;
		if (sk_X509_num(rim->certs) >= CCT_RIM_MAX_CERTS)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
					   "RIM: more than %d certificates in KeyInfo",
					   CCT_RIM_MAX_CERTS);
		txt = xmlNodeGetContent(c);
		if (!txt)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		rc = cct_b64_decode(&der, &dlen, (const char *)txt, strlen((const char *)txt), err);
		xmlFree(txt);
		if (rc != CCT_OK)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "RIM: X509Certificate is not base64");
		p = der;
		x = d2i_X509(NULL, &p, (long)dlen);
		ERR_clear_error();
		if (!x || p != der + dlen) {
			X509_free(x);
			free(der);
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "RIM: X509Certificate %d does not decode as DER",
					   sk_X509_num(rim->certs));
		}
		free(der);
		cct_x509_freeze(x); /* a RIM is remembered per content hash and shared */
		sk_X509_push(rim->certs, x);
	}
	if (sk_X509_num(rim->certs) == 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: KeyInfo holds no X509Certificate");
	return CCT_OK;
}

static int parse_measurement(cct_rim_measurement *m, const xmlNode *n, cct_err *err)
{
	char v[160], name[16];
	unsigned k;

	memset(m, 0, sizeof(*m));
	if (!attr(n, "index", NULL, v, sizeof(v)) || parse_uint(v, 1000, &m->index) != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: Measurement without a valid index");
	if (!attr(n, "active", NULL, v, sizeof(v)) ||
	    (strcmp(v, "True") && strcmp(v, "False") && strcmp(v, "true") && strcmp(v, "false")))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: Measurement %u: active must be True or False", m->index);
	m->active = (v[0] == 'T' || v[0] == 't');
	if (!attr(n, "alternatives", NULL, v, sizeof(v)) ||
	    parse_uint(v, CCT_RIM_MAX_ALTERNATIVES, &m->alt_count) != 0 || m->alt_count == 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "RIM: Measurement %u: alternatives must be 1..%d", m->index,
				   CCT_RIM_MAX_ALTERNATIVES);
	if (!attr(n, "size", NULL, v, sizeof(v)) || parse_uint(v, 1024, &m->size) != 0 ||
	    m->size != CCT_RIM_HASH_SIZE)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "RIM: Measurement %u: size must be 48 (SHA-384)", m->index);
	for (k = 0; k < m->alt_count; k++) {
		snprintf(name, sizeof(name), "Hash%u", k);
		if (!attr(n, name, NS_SHA384, v, sizeof(v)) ||
		    cct_hex_decode_fixed(m->hash[k], CCT_RIM_HASH_SIZE, v, NULL) != CCT_OK)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "RIM: Measurement %u: %s missing or not 96 hex digits",
					   m->index, name);
	}
	return CCT_OK;
}

static int parse_payload(cct_rim *rim, const xmlNode *payload, cct_err *err)
{
	const xmlNode *c;
	char type[32];
	int rc;

	rim->meas = calloc(CCT_RIM_MAX_MEASUREMENTS, sizeof(*rim->meas));
	if (!rim->meas)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	for (c = payload->children; c; c = c->next) {
		size_t i;

		if (!is_el(c, "Resource", NS_SWID))
			continue;
		if (!attr(c, "type", NULL, type, sizeof(type)) || strcmp(type, "Measurement"))
			continue;
		if (rim->meas_count >= CCT_RIM_MAX_MEASUREMENTS)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
					   "RIM: more than %d measurements",
					   CCT_RIM_MAX_MEASUREMENTS);
		rc = parse_measurement(&rim->meas[rim->meas_count], c, err);
		if (rc != CCT_OK)
			return rc;
		for (i = 0; i < rim->meas_count; i++)
			if (rim->meas[i].index == rim->meas[rim->meas_count].index)
				return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
						   "RIM: measurement index %u appears twice",
						   rim->meas[i].index);
		rim->meas_count++;
	}
	return CCT_OK;
}

int cct_rim_parse(cct_rim **out, const uint8_t *xml, size_t len, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_rim *rim = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root, *meta, *payload, *sig;

	*out = NULL;
	if ((rc = cct_rim_xml_ready(CCT_STAGE_COLLATERAL, err)) != CCT_OK)
		return rc;
	if (len > CCT_RIM_MAX_SIZE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
				   "RIM is %zu bytes (cap %u)", len, CCT_RIM_MAX_SIZE);
	/* no network, no DTD loading, no entity substitution */
	doc = xmlReadMemory((const char *)xml, (int)len, "rim.xml", NULL, XML_PARSE_NONET);
	if (!doc) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM is not well-formed XML");
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM carries a DOCTYPE (not allowed)");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!is_el(root, "SoftwareIdentity", NS_SWID)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM root is not a SWID SoftwareIdentity element");
		goto out;
	}
	rim = calloc(1, sizeof(*rim));
	if (!rim || !(rim->certs = sk_X509_new_null())) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	attr(root, "tagId", NULL, rim->tag_id, sizeof(rim->tag_id));
	attr(root, "name", NULL, rim->name, sizeof(rim->name));
	meta = child_el(root, "Meta", NS_SWID);
	payload = child_el(root, "Payload", NS_SWID);
	if (!meta || !payload || count_el(root, "Meta", NS_SWID) != 1 ||
	    count_el(root, "Payload", NS_SWID) != 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM needs exactly one Meta and one Payload element");
		goto out;
	}
	if (!attr(meta, "colloquialVersion", NULL, rim->version, sizeof(rim->version)) ||
	    !rim->version[0]) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM Meta has no colloquialVersion");
		goto out;
	}
	attr(meta, "product", NULL, rim->product, sizeof(rim->product));
	attr(meta, "edition", NULL, rim->edition, sizeof(rim->edition));
	attr(meta, "FirmwareManufacturerId", NS_RIM, rim->manufacturer_id,
	     sizeof(rim->manufacturer_id));
	attr(meta, "PlatformModel", NS_RIM, rim->platform_model, sizeof(rim->platform_model));
	rc = parse_payload(rim, payload, err);
	if (rc != CCT_OK)
		goto out;
	sig = child_el(root, "Signature", NS_DSIG);
	if (!sig || count_el(root, "Signature", NS_DSIG) != 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "RIM must hold exactly one ds:Signature under its root");
		goto out;
	}
	rc = check_signature_profile(sig, err);
	if (rc != CCT_OK)
		goto out;
	rc = read_keyinfo_certs(rim, sig, err);
	if (rc != CCT_OK)
		goto out;
	rim->doc = doc;
	doc = NULL;
	*out = rim;
	rim = NULL;
	rc = CCT_OK;
out:
	cct_rim_free(rim);
	if (doc)
		xmlFreeDoc(doc);
	return rc;
}

void cct_rim_free(cct_rim *rim)
{
	if (!rim)
		return;
	free(rim->meas);
	if (rim->certs)
		sk_X509_pop_free(rim->certs, X509_free);
	if (rim->doc)
		xmlFreeDoc((xmlDocPtr)rim->doc);
	free(rim);
}

int cct_rim_verify_signature(cct_rim *rim, const char *what, cct_err *err)
{
	int rc = CCT_ERROR;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecKeyPtr key = NULL;
	xmlSecKeyDataPtr data = NULL;
	EVP_PKEY *pk = NULL;
	xmlNodePtr root, sig;

	rim->signature_ok = 0;
	root = xmlDocGetRootElement((xmlDocPtr)rim->doc);
	sig = (xmlNodePtr)child_el(root, "Signature", NS_DSIG);
	pk = X509_get_pubkey(sk_X509_value(rim->certs, 0));
	if (!sig || !pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				 "%s: signing certificate does not carry an EC key", what);
		goto out;
	}
	data = xmlSecOpenSSLEvpKeyAdopt(pk);
	if (!data) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "xmlsec key failed");
		goto out;
	}
	pk = NULL; /* owned by data now */
	key = xmlSecKeyCreate();
	if (!key || xmlSecKeySetValue(key, data) < 0) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "xmlsec key failed");
		goto out;
	}
	data = NULL; /* owned by key now */
	ctx = xmlSecDSigCtxCreate(NULL);
	if (!ctx) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "xmlsec context failed");
		goto out;
	}
	ctx->signKey = key;
	key = NULL; /* owned by ctx now */
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty; /* URI="" only: no fetching */
	ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	if (xmlSecDSigCtxVerify(ctx, sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				 "%s: XML signature does not verify with the key of its signing "
				 "certificate (document altered or signature broken)", what);
		goto out;
	}
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				 "%s: signature must cover exactly one reference", what);
		goto out;
	}
	rim->signature_ok = 1;
	rc = CCT_OK;
out:
	ERR_clear_error();
	if (ctx)
		xmlSecDSigCtxDestroy(ctx);
	if (key)
		xmlSecKeyDestroy(key);
	if (data)
		xmlSecKeyDataDestroy(data);
	EVP_PKEY_free(pk);
	return rc;
}

int cct_rim_verify_chain(STACK_OF(X509) **chain_out, const cct_rim *rim, STACK_OF(X509) *roots,
			 time_t at, const char *what, cct_err *err)
{
	cct_x509_verify_in in;
	STACK_OF(X509) *inter = NULL;
	int rc, i;

	inter = sk_X509_new_null();
	if (!inter)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	for (i = 1; i < sk_X509_num(rim->certs); i++)
		sk_X509_push(inter, sk_X509_value(rim->certs, i));
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(rim->certs, 0);
	in.untrusted = inter;
	in.roots = roots;
	in.at = at;
	in.what = what;
	in.stage = CCT_STAGE_COLLATERAL;
	rc = cct_x509_chain_verify(chain_out, &in, err);
	sk_X509_free(inter);
	return rc;
}

const cct_rim_measurement *cct_rim_find(const cct_rim *rim, unsigned index)
{
	size_t i;

	for (i = 0; i < rim->meas_count; i++)
		if (rim->meas[i].index == index)
			return &rim->meas[i];
	return NULL;
}

void cct_rim_id_version(char *dst, size_t size, const char *version)
{
	size_t j = 0;

	for (; *version && j + 1 < size; version++)
		if (*version != '.')
			dst[j++] = (char)toupper((unsigned char)*version);
	dst[j] = '\0';
}
