/* Attested TLS parsers: the evidence extension (CCC tagged evidence, CMW collection, claims
 * buffer, pubkey-hash hash-entry, cctrust-gpus claim), certificates carrying it, the verifier
 * path up to the composite (offline, default policy) and the HTTP head helpers.
 * The first byte picks the target; the rest is the input:
 *   0 evidence describe, 1 certificate describe (DER or PEM), 2 verify the evidence for a fixed
 *   key (offline), 3 HTTP response head (status, Content-Length). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/ratls.h"
#include "ratls/ratls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	static cct_policy *pol;
	const uint8_t *p = data + 1;
	size_t n = size ? size - 1 : 0;
	json_t *out = NULL;
	cct_err err;

	if (!key) {
		key = EVP_EC_gen("P-384");
		if (!key || cct_policy_default(&pol, NULL) != CCT_OK)
			abort();
	}
	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		cct_ratls_evidence_describe(&out, p, n, &err);
		break;
	case 1:
		cct_ratls_cert_describe(&out, p, n, &err);
		break;
	case 2: {
		cct_ratls_verify_opts o;
		uint8_t nonce[4] = { 1, 2, 3, 4 }, exp[CCT_RATLS_EXPORTER_LEN] = { 0 };
		char check[48];

		memset(&o, 0, sizeof(o));
		o.composite.offline = 1;
		o.composite.at = 1800000000;
		cct_ratls__verify_ev(&out, check, p, n, key, "fresh", nonce, sizeof(nonce), exp, pol, &o,
				     &err);
		break;
	}
	default: {
		cct_ratls_head *h = calloc(1, sizeof(*h));
		char *e;

		if (!h)
			return 0;
		h->have = n < CCT_RATLS_MAX_HEAD ? n : CCT_RATLS_MAX_HEAD;
		memcpy(h->buf, p, h->have);
		h->buf[h->have] = 0;
		e = strstr(h->buf, "\r\n\r\n");
		h->head_len = e ? (size_t)(e - h->buf) + 4 : h->have;
		cct_ratls__status(h);
		cct_ratls__content_length(h);
		free(h);
		break;
	}
	}
	json_decref(out);
	return 0;
}
