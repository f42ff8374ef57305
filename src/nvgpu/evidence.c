/* Evidence JSON (NVIDIA form and KBS form) to a list of decoded entries (jansson). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/spdm.h"

void cct_nvgpu_evidence_list_free(cct_nvgpu_evidence_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->e[i].evidence);
		free(l->e[i].chain_pem);
	}
	free(l->e);
	free(l);
}

size_t cct_nvgpu_evidence_list_count(const cct_nvgpu_evidence_list *l)
{
	return l ? l->count : 0;
}

static int grow(cct_nvgpu_evidence_list *l, cct_err *err)
{
	cct_nvgpu_entry *ne;

	if (l->count >= CCT_NVGPU_MAX_DEVICES)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "more than %d device evidences", CCT_NVGPU_MAX_DEVICES);
	ne = realloc(l->e, (l->count + 1) * sizeof(*ne));
	if (!ne)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	l->e = ne;
	memset(&l->e[l->count], 0, sizeof(l->e[0]));
	return CCT_OK;
}

static void upper_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

int cct_nvgpu__entry_add(cct_nvgpu_evidence_list *l, const char *arch, const uint8_t *ev,
			 size_t ev_size, const uint8_t *pem, size_t pem_size, cct_err *err)
{
	cct_nvgpu_entry *e;
	int rc = grow(l, err);

	if (rc != CCT_OK)
		return rc;
	e = &l->e[l->count];
	upper_copy(e->arch, sizeof(e->arch), arch ? arch : "");
	e->evidence = malloc(ev_size ? ev_size : 1);
	e->chain_pem = malloc(pem_size + 1);
	if (!e->evidence || !e->chain_pem) {
		free(e->evidence);
		free(e->chain_pem);
		e->evidence = NULL;
		e->chain_pem = NULL;
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	memcpy(e->evidence, ev, ev_size);
	e->evidence_size = ev_size;
	memcpy(e->chain_pem, pem, pem_size);
	e->chain_pem[pem_size] = 0;
	e->chain_pem_size = pem_size;
	l->count++;
	return CCT_OK;
}

static int b64_field(uint8_t **out, size_t *n, json_t *o, const char *key, size_t idx,
		     size_t cap, cct_err *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"%s\" missing or not a string", idx, key);
	s = json_string_value(v);
	if (json_string_length(v) > cap * 2)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"%s\" too large", idx, key);
	/* SPDM evidence: hex first (guest-components before v0.16 sent hex; Trustee tries hex
	 * first too), then base64. The certificate chain is always base64. */
	if (!strcmp(key, "evidence") && json_string_length(v) % 2 == 0 &&
	    strspn(s, "0123456789abcdefABCDEF") == json_string_length(v) &&
	    cct_hex_decode(out, n, s, json_string_length(v), NULL) == CCT_OK) {
		/* decoded as hex */
	} else if (cct_b64_decode(out, n, s, json_string_length(v), err) != CCT_OK) {
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"%s\" is neither hex nor base64", idx,
				   key);
	}
	if (*n > cap) {
		free(*out);
		*out = NULL;
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"%s\" decodes to %zu bytes (cap %zu)",
				   idx, key, *n, cap);
	}
	return CCT_OK;
}

static int add_json_entry(cct_nvgpu_evidence_list *l, json_t *o, size_t idx, cct_err *err)
{
	uint8_t *ev = NULL, *pem = NULL;
	size_t evn = 0, pemn = 0;
	json_t *arch, *v;
	int rc;

	if (!json_is_object(o))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "device evidence %zu is not a JSON object", idx);
	arch = json_object_get(o, "arch");
	if (!arch)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"arch\" missing", idx);
	if (!json_is_string(arch))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "device evidence %zu: \"arch\" is not a string (want HOPPER, "
				   "BLACKWELL or LS10)", idx);
	rc = b64_field(&ev, &evn, o, "evidence", idx, CCT_SPDM_MAX_EVIDENCE, err);
	if (rc == CCT_OK)
		rc = b64_field(&pem, &pemn, o, "certificate", idx, CCT_NVGPU_MAX_CHAIN_PEM, err);
	if (rc == CCT_OK)
		rc = cct_nvgpu__entry_add(l, json_string_value(arch), ev, evn, pem, pemn, err);
	if (rc == CCT_OK) {
		cct_nvgpu_entry *e = &l->e[l->count - 1];

		v = json_object_get(o, "nonce");
		if (json_is_string(v))
			snprintf(e->nonce_hex, sizeof(e->nonce_hex), "%s", json_string_value(v));
		v = json_object_get(o, "uuid");
		if (json_is_string(v))
			snprintf(e->uuid, sizeof(e->uuid), "%s", json_string_value(v));
	}
	free(ev);
	free(pem);
	return rc;
}

int cct_nvgpu_evidence_list_from_json(cct_nvgpu_evidence_list **out, const json_t *root,
				      cct_err *err)
{
	int rc = CCT_ERROR;
	cct_nvgpu_evidence_list *l = NULL;
	const json_t *arr;
	size_t i;

	*out = NULL;
	arr = json_is_array(root) ? root : json_object_get(root, "device_evidence_list");
	if (!json_is_array(arr))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "evidence JSON must be [{\"arch\",\"nonce\",\"evidence\","
				   "\"certificate\"}] or {\"device_evidence_list\":[...]}");
	if (json_array_size(arr) == 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "evidence list is empty");
	l = calloc(1, sizeof(*l));
	if (!l)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	for (i = 0; i < json_array_size(arr); i++) {
		rc = add_json_entry(l, json_array_get(arr, i), i, err);
		if (rc != CCT_OK) {
			cct_nvgpu_evidence_list_free(l);
			return rc;
		}
	}
	*out = l;
	return CCT_OK;
}

int cct_nvgpu_evidence_list_parse(cct_nvgpu_evidence_list **out, const uint8_t *json, size_t len,
				  cct_err *err)
{
	json_t *root;
	json_error_t je;
	int rc;

	*out = NULL;
	if (len > CCT_NVGPU_MAX_JSON)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "evidence JSON is %zu bytes (cap %u)", len, CCT_NVGPU_MAX_JSON);
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "evidence is not JSON (line %d: %s)", je.line, je.text);
	rc = cct_nvgpu_evidence_list_from_json(out, root, err);
	json_decref(root);
	return rc;
}

int cct_nvgpu_evidence_list_append(cct_nvgpu_evidence_list *dst,
				   const cct_nvgpu_evidence_list *src, cct_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < src->count; i++) {
		const cct_nvgpu_entry *s = &src->e[i];

		rc = cct_nvgpu__entry_add(dst, s->arch, s->evidence, s->evidence_size,
					  s->chain_pem, s->chain_pem_size, err);
		if (rc != CCT_OK)
			return rc;
		memcpy(dst->e[dst->count - 1].uuid, s->uuid, sizeof(s->uuid));
		memcpy(dst->e[dst->count - 1].nonce_hex, s->nonce_hex, sizeof(s->nonce_hex));
	}
	return CCT_OK;
}
