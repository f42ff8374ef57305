/* Attested TLS wire format (docs/ratls.md), encoded and decoded with libcbor.
 *
 *   evidence  = tagged-evidence / cmw-collection
 *   tagged-evidence = #6.<tag>([ evidence: bstr, claims-buffer: bstr ])   ; CCC RA-TLS
 *       tag 0x1a7501 Intel quote (TDX or SGX), 0x1a7504 AMD SEV-SNP (cctrust: the ABI report)
 *   cmw-collection = { "__cmwc_t": CCT_RATLS_CMWC_TYPE,
 *                      "cpu":   [ CCT_RATLS_MT_EVIDENCE,  bstr .cbor tagged-evidence, 4 ],
 *                      ? "snp-certs": [ CCT_RATLS_MT_SNP_CERTS, bstr, 2 ],
 *                      ? "gpus": [ CCT_RATLS_MT_GPUS, bstr (JSON text), 4 ] }
 *   claims-buffer = { "pubkey-hash": bstr .cbor [ alg: uint, hash: bstr ],
 *                     ? "nonce": bstr, ? "cctrust-exporter": bstr .size 32,
 *                     ? "cctrust-gpus": bstr .cbor { "count": uint, "cc-mode": tstr,
 *                                                     "ppcie-mode": bool } }
 * Every input is untrusted: sizes are capped before libcbor sees them, only definite-length
 * items are accepted, no trailing bytes, every field checked with a distinct message.
 * libcbor is loaded on first use (ratls/dl_cbor.h): each entry point below checks it first. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/core.h"
#include "ratls/dl_cbor.h" /* libcbor, loaded on first use */
#include "ratls/ratls_int.h"

#define MAX_MAP 16 /* members of any map we read */

static int bad(cct_err *err, int code, const char *fmt, const char *what)
{
	return cct_err_set(err, code, CCT_STAGE_PARSE, 0, fmt, what);
}

/* libcbor loaded (first use), or why not: before any cbor_* call */
static int need_cbor(cct_err *err)
{
	char why[512];

	if (cct_dl_cbor_ok(why, sizeof(why)))
		return CCT_OK;
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
			   "attested TLS evidence needs libcbor: %s", why);
}

/* Before cbor_load (libcbor 0.8 allocates every array/map for its declared size up front and
 * frees nested items recursively): walk the input with libcbor's streaming decoder and refuse
 * indefinite lengths, nesting deeper than MAX_DEPTH, declared container sizes that the input
 * cannot hold (their sum above the input length), and more than one top-level item. */
#define MAX_DEPTH 16
typedef struct pre {
	size_t left[MAX_DEPTH + 1]; /* elements still expected by each open container */
	int depth;
	size_t declared, limit, top;
	int bad;                    /* 1 indefinite length, 2 too deep, 3 sizes beyond the input,
				       4 a break byte outside an indefinite item */
} pre;

static void pre_item(pre *s, int container, uint64_t n)
{
	if (s->bad)
		return;
	if (s->depth > 0)
		s->left[s->depth]--;
	else
		s->top++;
	if (container && n > 0) {
		if (n > s->limit || s->declared + n > s->limit) {
			s->bad = 3;
			return;
		}
		if (s->depth >= MAX_DEPTH) {
			s->bad = 2;
			return;
		}
		s->declared += n;
		s->left[++s->depth] = (size_t)n;
		return;
	}
	while (s->depth > 0 && s->left[s->depth] == 0)
		s->depth--;
}

static void pre_u8(void *c, uint8_t v) { (void)v; pre_item(c, 0, 0); }
static void pre_u16(void *c, uint16_t v) { (void)v; pre_item(c, 0, 0); }
static void pre_u32(void *c, uint32_t v) { (void)v; pre_item(c, 0, 0); }
static void pre_u64(void *c, uint64_t v) { (void)v; pre_item(c, 0, 0); }
static void pre_str(void *c, cbor_data d, size_t n) { (void)d; (void)n; pre_item(c, 0, 0); }
static void pre_simple(void *c) { pre_item(c, 0, 0); }
static void pre_indef(void *c) { ((pre *)c)->bad = ((pre *)c)->bad ? ((pre *)c)->bad : 1; }
static void pre_break(void *c) { ((pre *)c)->bad = ((pre *)c)->bad ? ((pre *)c)->bad : 4; }
static void pre_array(void *c, size_t n) { pre_item(c, 1, n); }
static void pre_map(void *c, size_t n)
{
	pre_item(c, 1, n > SIZE_MAX / 2 ? SIZE_MAX : 2 * (uint64_t)n);
}
static void pre_tag(void *c, uint64_t v) { (void)v; pre_item(c, 1, 1); }
static void pre_f(void *c, float v) { (void)v; pre_item(c, 0, 0); }
static void pre_d(void *c, double v) { (void)v; pre_item(c, 0, 0); }
static void pre_b(void *c, bool v) { (void)v; pre_item(c, 0, 0); }

static int precheck(const uint8_t *p, size_t n, const char *what, cct_err *err)
{
	struct cbor_callbacks cb = {
		.uint8 = pre_u8, .uint16 = pre_u16, .uint32 = pre_u32, .uint64 = pre_u64,
		.negint8 = pre_u8, .negint16 = pre_u16, .negint32 = pre_u32, .negint64 = pre_u64,
		.byte_string_start = pre_indef, .byte_string = pre_str, .string = pre_str,
		.string_start = pre_indef, .indef_array_start = pre_indef, .array_start = pre_array,
		.indef_map_start = pre_indef, .map_start = pre_map, .tag = pre_tag, .float2 = pre_f,
		.float4 = pre_f, .float8 = pre_d, .undefined = pre_simple, .null = pre_simple,
		.boolean = pre_b, .indef_break = pre_break,
	};
	pre s;
	size_t off = 0;

	memset(&s, 0, sizeof(s));
	s.limit = n;
	while (off < n && !s.bad) {
		struct cbor_decoder_result r = cbor_stream_decode(p + off, n - off, &cb, &s);

		if (r.status != CBOR_DECODER_FINISHED || !r.read)
			return cct_err_set(err, r.status == CBOR_DECODER_NEDATA ? CCT_ETRUNC : CCT_EENCODING,
					   CCT_STAGE_PARSE, off, "%s: %s at byte %zu", what,
					   r.status == CBOR_DECODER_NEDATA ? "CBOR ends inside an item"
									   : "not CBOR",
					   off);
		off += r.read;
		if (s.top > 1 || (s.top == 1 && !s.depth && off < n && !s.bad))
			return cct_err_set(err, CCT_ETRAILING, CCT_STAGE_PARSE, off,
					   "%s: %zu bytes after the CBOR item", what, n - off);
	}
	if (s.bad)
		return cct_err_set(err, s.bad == 3 ? CCT_ETOOBIG : s.bad == 4 ? CCT_EENCODING : CCT_EFORMAT,
				   CCT_STAGE_PARSE, off, "%s: %s", what,
				   s.bad == 1 ? "indefinite-length item (only definite lengths are accepted)"
				   : s.bad == 2 ? "nested deeper than 16 levels"
				   : s.bad == 3 ? "container sizes larger than the input can hold"
						: "break byte outside an indefinite-length item");
	if (s.depth)
		return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, off, "%s: CBOR ends inside a container",
				   what);
	return CCT_OK;
}

/* cbor_load with the caps: whole input consumed, definite lengths only (checked per item). */
static int load(cbor_item_t **out, const uint8_t *p, size_t n, const char *what, cct_err *err)
{
	struct cbor_load_result r;
	int rc;

	*out = NULL;
	if (!p || !n)
		return bad(err, CCT_ETRUNC, "%s: empty", what);
	if (n > CCT_RATLS_MAX_EVIDENCE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "%s: %zu bytes; the limit is %u",
				   what, n, CCT_RATLS_MAX_EVIDENCE);
	if ((rc = precheck(p, n, what, err)) != CCT_OK)
		return rc;
	*out = cbor_load(p, n, &r);
	if (!*out || r.error.code != CBOR_ERR_NONE) {
		if (*out)
			cbor_decref(out);
		return cct_err_set(err, r.error.code == CBOR_ERR_NOTENOUGHDATA ? CCT_ETRUNC : CCT_EENCODING,
				   CCT_STAGE_PARSE, r.error.position, "%s: not CBOR (libcbor error %d)",
				   what, (int)r.error.code);
	}
	if (r.read != n) {
		cbor_decref(out);
		return cct_err_set(err, CCT_ETRAILING, CCT_STAGE_PARSE, r.read,
				   "%s: %zu bytes after the CBOR item", what, n - r.read);
	}
	return CCT_OK;
}

static int is_bstr(const cbor_item_t *i)
{
	return i && cbor_isa_bytestring(i) && cbor_bytestring_is_definite(i);
}

static int is_tstr(const cbor_item_t *i, const char *want)
{
	return i && cbor_isa_string(i) && cbor_string_is_definite(i) &&
	       cbor_string_length(i) == strlen(want) &&
	       !memcmp(cbor_string_handle(i), want, strlen(want));
}

static int dup_bytes(uint8_t **out, size_t *n, const cbor_item_t *b)
{
	size_t l = cbor_bytestring_length(b);

	*out = malloc(l ? l : 1);
	if (!*out)
		return -1;
	if (l)
		memcpy(*out, cbor_bytestring_handle(b), l);
	*n = l;
	return 0;
}

/* Map member by text key (definite map, text keys checked by the caller's loop). */
static cbor_item_t *member(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pp = cbor_map_handle(map);
	size_t i, n = cbor_map_size(map);

	for (i = 0; i < n; i++)
		if (is_tstr(pp[i].key, key))
			return pp[i].value;
	return NULL;
}

static int check_map(const cbor_item_t *m, const char *what, cct_err *err)
{
	struct cbor_pair *pp;
	size_t i, j, n;

	if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
		return bad(err, CCT_EFORMAT, "%s: not a definite-length CBOR map", what);
	n = cbor_map_size(m);
	if (n > MAX_MAP)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 0, "%s: %zu members; the limit is %d",
				   what, n, MAX_MAP);
	pp = cbor_map_handle(m);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pp[i].key) || !cbor_string_is_definite(pp[i].key))
			return bad(err, CCT_EFORMAT, "%s: a key is not a definite text string", what);
		for (j = 0; j < i; j++)
			if (cbor_string_length(pp[j].key) == cbor_string_length(pp[i].key) &&
			    !memcmp(cbor_string_handle(pp[j].key), cbor_string_handle(pp[i].key),
				    cbor_string_length(pp[i].key)))
				return bad(err, CCT_EFORMAT, "%s: duplicate key", what);
	}
	return CCT_OK;
}

static int hash_len(int alg)
{
	return alg == 1 ? 32 : alg == 7 ? 48 : alg == 8 ? 64 : 0;
}

static int printable(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	return 1;
}

static int decode_gpu_claim(cct_ratls_ev *e, const cbor_item_t *b, cct_err *err)
{
	cbor_item_t *m = NULL, *c, *cm, *pp;
	int rc;

	rc = load(&m, cbor_bytestring_handle(b), cbor_bytestring_length(b), "claims.cctrust-gpus", err);
	if (rc != CCT_OK)
		return rc;
	if ((rc = check_map(m, "claims.cctrust-gpus", err)) != CCT_OK)
		goto out;
	c = member(m, "count");
	cm = member(m, "cc-mode");
	pp = member(m, "ppcie-mode");
	if (!c || !cbor_isa_uint(c) || cbor_get_int(c) > CCT_COMPOSITE_MAX_GPUS) {
		rc = bad(err, CCT_EFORMAT, "%s: missing, not an unsigned integer or above the GPU cap",
			 "claims.cctrust-gpus.count");
		goto out;
	}
	if (!cm || !cbor_isa_string(cm) || !cbor_string_is_definite(cm) ||
	    cbor_string_length(cm) >= sizeof(e->gpu_cc_mode) || !cbor_string_length(cm) ||
	    !printable(cbor_string_handle(cm), cbor_string_length(cm))) {
		/* printable ASCII: a NUL would end the C string compared with the GPU evidence's
		 * cc_mode early ("on\0..." would match "on") */
		rc = bad(err, CCT_EFORMAT, "%s: missing or not a short printable ASCII text string",
			 "claims.cctrust-gpus.cc-mode");
		goto out;
	}
	if (!pp || !cbor_is_bool(pp)) {
		rc = bad(err, CCT_EFORMAT, "%s: missing or not a boolean", "claims.cctrust-gpus.ppcie-mode");
		goto out;
	}
	e->gpu_count = (unsigned)cbor_get_int(c);
	memcpy(e->gpu_cc_mode, cbor_string_handle(cm), cbor_string_length(cm));
	e->gpu_cc_mode[cbor_string_length(cm)] = 0;
	e->gpu_ppcie = cbor_get_bool(pp);
	e->has_gpu_claim = 1;
out:
	cbor_decref(&m);
	return rc;
}

static int decode_claims(cct_ratls_ev *e, cct_err *err)
{
	cbor_item_t *m = NULL, *h = NULL, *v;
	cbor_item_t **a;
	int rc, alg;

	rc = load(&m, e->claims, e->claims_len, "claims buffer", err);
	if (rc != CCT_OK)
		return rc;
	if ((rc = check_map(m, "claims buffer", err)) != CCT_OK)
		goto out;
	v = member(m, "pubkey-hash");
	if (!is_bstr(v)) {
		rc = bad(err, CCT_EFORMAT, "%s: missing or not a byte string (CCC RA-TLS requires it)",
			 "claims.pubkey-hash");
		goto out;
	}
	if ((rc = load(&h, cbor_bytestring_handle(v), cbor_bytestring_length(v), "claims.pubkey-hash",
		       err)) != CCT_OK)
		goto out;
	if (!cbor_isa_array(h) || !cbor_array_is_definite(h) || cbor_array_size(h) != 2) {
		rc = bad(err, CCT_EFORMAT, "%s: not a CoSWID hash-entry [alg, hash]", "claims.pubkey-hash");
		goto out;
	}
	a = cbor_array_handle(h);
	if (!cbor_isa_uint(a[0]) || !is_bstr(a[1])) {
		rc = bad(err, CCT_EFORMAT, "%s: hash-entry is not [uint, bstr]", "claims.pubkey-hash");
		goto out;
	}
	alg = cbor_get_int(a[0]) < 64 ? (int)cbor_get_int(a[0]) : 0;
	if (!hash_len(alg)) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
				 "claims.pubkey-hash: hash algorithm %llu (sha-256 1, sha-384 7, sha-512 8)",
				 (unsigned long long)cbor_get_int(a[0]));
		goto out;
	}
	if (cbor_bytestring_length(a[1]) != (size_t)hash_len(alg)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "claims.pubkey-hash: %zu hash bytes for algorithm %d, expected %d",
				 cbor_bytestring_length(a[1]), alg, hash_len(alg));
		goto out;
	}
	e->pk_alg = alg;
	e->pk_hash_len = cbor_bytestring_length(a[1]);
	memcpy(e->pk_hash, cbor_bytestring_handle(a[1]), e->pk_hash_len);
	if ((v = member(m, "nonce"))) {
		if (!is_bstr(v) || cbor_bytestring_length(v) > CCT_RATLS_MAX_NONCE) {
			rc = bad(err, CCT_EFORMAT, "%s: not a byte string of at most 64 bytes", "claims.nonce");
			goto out;
		}
		e->has_nonce = 1;
		e->nonce_len = cbor_bytestring_length(v);
		memcpy(e->nonce, cbor_bytestring_handle(v), e->nonce_len);
	}
	if ((v = member(m, "cctrust-exporter"))) {
		if (!is_bstr(v) || cbor_bytestring_length(v) != CCT_RATLS_EXPORTER_LEN) {
			rc = bad(err, CCT_EFORMAT, "%s: not a 32-byte byte string", "claims.cctrust-exporter");
			goto out;
		}
		e->has_exporter = 1;
		memcpy(e->exporter, cbor_bytestring_handle(v), CCT_RATLS_EXPORTER_LEN);
	}
	if ((v = member(m, "cctrust-gpus"))) {
		if (!is_bstr(v)) {
			rc = bad(err, CCT_EFORMAT, "%s: not a byte string", "claims.cctrust-gpus");
			goto out;
		}
		rc = decode_gpu_claim(e, v, err);
	}
out:
	if (h)
		cbor_decref(&h);
	cbor_decref(&m);
	return rc;
}

/* #6.tag([evidence, claims]) */
static int decode_tagged(cct_ratls_ev *e, const cbor_item_t *t, cct_err *err)
{
	cbor_item_t *arr;
	cbor_item_t **a;
	int rc = CCT_OK;

	if (!cbor_isa_tag(t))
		return bad(err, CCT_EFORMAT, "%s: not a CBOR tag", "tagged evidence");
	e->tag = cbor_tag_value(t);
	arr = cbor_tag_item(t);
	if (!arr || !cbor_isa_array(arr) || !cbor_array_is_definite(arr) || cbor_array_size(arr) != 2) {
		rc = bad(err, CCT_EFORMAT, "%s: not a 2-element array [evidence, claims-buffer]",
			 "tagged evidence");
		goto out;
	}
	a = cbor_array_handle(arr);
	if (!is_bstr(a[0]) || !is_bstr(a[1])) {
		rc = bad(err, CCT_EFORMAT, "%s: evidence and claims-buffer must be byte strings",
			 "tagged evidence");
		goto out;
	}
	if (dup_bytes(&e->cpu, &e->cpu_len, a[0]) || dup_bytes(&e->claims, &e->claims_len, a[1])) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	switch (e->tag) {
	case CCT_RATLS_TAG_SEV_SNP:
		strcpy(e->tee, "snp");
		break;
	case CCT_RATLS_TAG_INTEL_QUOTE: /* v4/v5 header: tee_type at offset 4 (0x81 TDX, 0 SGX) */
		strcpy(e->tee, e->cpu_len >= 8 && e->cpu[4] == 0x81 ? "tdx" : "sgx");
		break;
	case CCT_RATLS_TAG_INTEL_REPORT:
	case CCT_RATLS_TAG_SGX_LEGACY:
		strcpy(e->tee, "sgx");
		break;
	default:
		strcpy(e->tee, "?");
	}
	rc = decode_claims(e, err);
out:
	if (arr)
		cbor_decref(&arr);
	return rc;
}

/* CMW record [type: tstr, value: bstr, ? ind: uint] with the expected media type. */
static const cbor_item_t *record(const cbor_item_t *r, const char *mt, const char *what, cct_err *err)
{
	cbor_item_t **a;

	if (!r || !cbor_isa_array(r) || !cbor_array_is_definite(r) ||
	    (cbor_array_size(r) != 2 && cbor_array_size(r) != 3)) {
		bad(err, CCT_EFORMAT, "%s: not a CMW record [type, value, ind?]", what);
		return NULL;
	}
	a = cbor_array_handle(r);
	if (!is_tstr(a[0], mt)) {
		cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0, "%s: media type is not %s", what, mt);
		return NULL;
	}
	if (!is_bstr(a[1]) || (cbor_array_size(r) == 3 && !cbor_isa_uint(a[2]))) {
		bad(err, CCT_EFORMAT, "%s: value not a byte string or indicator not a uint", what);
		return NULL;
	}
	return a[1];
}

int cct_ratls__decode(cct_ratls_ev *e, const uint8_t *p, size_t n, cct_err *err)
{
	cbor_item_t *root = NULL, *inner = NULL;
	const cbor_item_t *v;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = need_cbor(err)) != CCT_OK)
		return rc;
	rc = load(&root, p, n, "evidence", err);
	if (rc != CCT_OK)
		return rc;
	if (cbor_isa_tag(root)) {
		rc = decode_tagged(e, root, err);
		goto out;
	}
	if ((rc = check_map(root, "evidence (CMW collection)", err)) != CCT_OK)
		goto out;
	e->cmw = 1;
	if (!is_tstr(member(root, "__cmwc_t"), CCT_RATLS_CMWC_TYPE)) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
				 "CMW collection: __cmwc_t is not \"%s\"", CCT_RATLS_CMWC_TYPE);
		goto out;
	}
	if (!(v = record(member(root, "cpu"), CCT_RATLS_MT_EVIDENCE, "CMW cpu", err))) {
		rc = err ? err->code : CCT_EFORMAT;
		goto out;
	}
	if ((rc = load(&inner, cbor_bytestring_handle(v), cbor_bytestring_length(v), "CMW cpu", err)) !=
		    CCT_OK ||
	    (rc = decode_tagged(e, inner, err)) != CCT_OK)
		goto out;
	if (member(root, "snp-certs")) {
		if (!(v = record(member(root, "snp-certs"), CCT_RATLS_MT_SNP_CERTS, "CMW snp-certs", err))) {
			rc = err ? err->code : CCT_EFORMAT;
			goto out;
		}
		if (dup_bytes(&e->snp_certs, &e->snp_certs_len, v))
			goto nomem;
	}
	if (member(root, "gpus")) {
		if (!(v = record(member(root, "gpus"), CCT_RATLS_MT_GPUS, "CMW gpus", err))) {
			rc = err ? err->code : CCT_EFORMAT;
			goto out;
		}
		e->gpus_len = cbor_bytestring_length(v);
		e->gpus = malloc(e->gpus_len + 1);
		if (!e->gpus)
			goto nomem;
		memcpy(e->gpus, cbor_bytestring_handle(v), e->gpus_len);
		e->gpus[e->gpus_len] = 0;
		if (strlen(e->gpus) != e->gpus_len) {
			rc = bad(err, CCT_EFORMAT, "%s: NUL byte in the JSON text", "CMW gpus");
			goto out;
		}
	}
	rc = CCT_OK;
	goto out;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	if (inner)
		cbor_decref(&inner);
	cbor_decref(&root);
	if (rc != CCT_OK)
		cct_ratls__ev_clear(e);
	return rc;
}

void cct_ratls__ev_clear(cct_ratls_ev *e)
{
	if (!e)
		return;
	free(e->cpu);
	free(e->claims);
	free(e->snp_certs);
	free(e->gpus);
	memset(e, 0, sizeof(*e));
}

/* ---- encoding ---- */

static int serialize(uint8_t **out, size_t *n, cbor_item_t *it, cct_err *err)
{
	size_t cap = 0;

	*out = NULL;
	*n = it ? cbor_serialize_alloc(it, out, &cap) : 0;
	if (it)
		cbor_decref(&it);
	if (!*n) {
		free(*out);
		*out = NULL;
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "CBOR encoding failed");
	}
	return CCT_OK;
}

static int put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	int ok;

	if (!v)
		return -1;
	ok = cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(cbor_build_string(k)),
						 .value = cbor_move(v) });
	return ok ? 0 : -1;
}

int cct_ratls__claims_encode(uint8_t **out, size_t *n, const cct_ratls_claims_in *in, cct_err *err)
{
	cbor_item_t *m, *h, *g = NULL;
	uint8_t *hb = NULL, *gb = NULL;
	size_t hn = 0, gn = 0;
	int rc, bad_ = 0;

	*out = NULL;
	if ((rc = need_cbor(err)) != CCT_OK)
		return rc;
	m = cbor_new_definite_map(4);
	h = cbor_new_definite_array(2);
	if (!m || !h) {
		if (m)
			cbor_decref(&m);
		if (h)
			cbor_decref(&h);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	bad_ |= !cbor_array_push(h, cbor_move(cbor_build_uint8(7))); /* sha-384 */
	bad_ |= !cbor_array_push(h, cbor_move(cbor_build_bytestring(in->spki_sha384, 48)));
	if ((rc = serialize(&hb, &hn, h, err)) != CCT_OK) {
		cbor_decref(&m);
		return rc;
	}
	bad_ |= put(m, "pubkey-hash", cbor_build_bytestring(hb, hn));
	if (in->nonce)
		bad_ |= put(m, "nonce", cbor_build_bytestring(in->nonce, in->nonce_len));
	if (in->exporter)
		bad_ |= put(m, "cctrust-exporter", cbor_build_bytestring(in->exporter, CCT_RATLS_EXPORTER_LEN));
	if (in->gpus > 0) {
		g = cbor_new_definite_map(3);
		if (!g)
			bad_ = 1;
		else {
			bad_ |= put(g, "count", cbor_build_uint8((uint8_t)in->gpus));
			bad_ |= put(g, "cc-mode", cbor_build_string(in->gpu_cc_mode ? in->gpu_cc_mode : "on"));
			bad_ |= put(g, "ppcie-mode", cbor_build_bool(in->gpu_ppcie != 0));
			if ((rc = serialize(&gb, &gn, g, err)) != CCT_OK) {
				free(hb);
				cbor_decref(&m);
				return rc;
			}
			bad_ |= put(m, "cctrust-gpus", cbor_build_bytestring(gb, gn));
		}
	}
	free(hb);
	free(gb);
	if (bad_) {
		cbor_decref(&m);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "claims encoding failed");
	}
	return serialize(out, n, m, err);
}

static cbor_item_t *cmw_record(const char *mt, const uint8_t *p, size_t n, unsigned ind)
{
	cbor_item_t *r = cbor_new_definite_array(3);

	if (!r)
		return NULL;
	if (!cbor_array_push(r, cbor_move(cbor_build_string(mt))) ||
	    !cbor_array_push(r, cbor_move(cbor_build_bytestring(p, n))) ||
	    !cbor_array_push(r, cbor_move(cbor_build_uint8((uint8_t)ind)))) {
		cbor_decref(&r);
		return NULL;
	}
	return r;
}

int cct_ratls__encode(uint8_t **out, size_t *n, const char *tee, const uint8_t *cpu, size_t cpu_len,
		      const uint8_t *snp_certs, size_t snp_certs_len, const char *gpus,
		      const uint8_t *claims, size_t claims_len, cct_err *err)
{
	int snp = !strcmp(tee, "snp");
	cbor_item_t *arr, *t, *m;
	uint8_t *tb = NULL;
	size_t tn = 0;
	int rc, bad_ = 0;

	*out = NULL;
	if ((rc = need_cbor(err)) != CCT_OK)
		return rc;
	arr = cbor_new_definite_array(2);
	if (!arr)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	bad_ |= !cbor_array_push(arr, cbor_move(cbor_build_bytestring(cpu, cpu_len)));
	bad_ |= !cbor_array_push(arr, cbor_move(cbor_build_bytestring(claims, claims_len)));
	t = cbor_build_tag(snp ? CCT_RATLS_TAG_SEV_SNP : CCT_RATLS_TAG_INTEL_QUOTE, cbor_move(arr));
	if (bad_ || !t) {
		if (t)
			cbor_decref(&t);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	if (!snp && !gpus) /* the interoperable form: a CCC RA-TLS verifier reads it as is */
		return serialize(out, n, t, err);
	if ((rc = serialize(&tb, &tn, t, err)) != CCT_OK)
		return rc;
	m = cbor_new_definite_map(4);
	if (!m) {
		free(tb);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	bad_ |= put(m, "__cmwc_t", cbor_build_string(CCT_RATLS_CMWC_TYPE));
	bad_ |= put(m, "cpu", cmw_record(CCT_RATLS_MT_EVIDENCE, tb, tn, 4));
	if (snp_certs)
		bad_ |= put(m, "snp-certs", cmw_record(CCT_RATLS_MT_SNP_CERTS, snp_certs, snp_certs_len, 2));
	if (gpus)
		bad_ |= put(m, "gpus", cmw_record(CCT_RATLS_MT_GPUS, (const uint8_t *)gpus, strlen(gpus), 4));
	free(tb);
	if (bad_) {
		cbor_decref(&m);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "CMW encoding failed");
	}
	return serialize(out, n, m, err);
}

void cct_ratls__binding(uint8_t rd[64], uint8_t gpu[32], const uint8_t *claims, size_t n)
{
	uint8_t d[48];
	unsigned int dl = 0;

	EVP_Digest(claims, n, d, &dl, EVP_sha384(), NULL);
	memset(rd, 0, 64);
	memcpy(rd, d, 48);
	memcpy(gpu, d, 32);
}

int cct_ratls__spki_hash(uint8_t *out, size_t *out_len, int alg, EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	unsigned int dl = 0;
	int n = pk ? i2d_PUBKEY(pk, &der) : -1;
	const EVP_MD *md = alg == 1 ? EVP_sha256() : alg == 7 ? EVP_sha384() : alg == 8 ? EVP_sha512() : NULL;
	int ok;

	if (n <= 0 || !md) {
		OPENSSL_free(der);
		return -1;
	}
	ok = EVP_Digest(der, (size_t)n, out, &dl, md, NULL);
	OPENSSL_free(der);
	*out_len = dl;
	return ok ? 0 : -1;
}
