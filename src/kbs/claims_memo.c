/* The claims of recently attested sessions, kept parsed between /attest and the session's
 * resource requests, so a release evaluates its policy without parsing the claims text
 * (~15 KB per SNP + GPU EAR, the broker's largest JSON parse after the evidence itself)
 * again.
 *
 * Content-addressed: an entry is found by the SHA-256 of the claims text it was made from,
 * and that text is exactly json_dumps of the document (the EAR payload), so a hit is the
 * document the text parses to. The text itself comes from the sealed session row, opened and
 * authenticated by the store as before: the memo never decides what a session's claims are,
 * it only saves their parse. A bounded ring: the oldest entry goes first; a miss is parsed as
 * before. Documents are shared read-only (jansson's reference counts are atomic). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kbs/kbs_int.h"
#include "x509/x509.h"

#define MEMO_SLOTS 64

struct cct_kbs_claims_memo {
	pthread_mutex_t lock;
	size_t next;
	struct {
		uint8_t key[32];
		json_t *doc;
	} slot[MEMO_SLOTS];
};


cct_kbs_claims_memo *cct_kbs__claims_memo_new(void)
{
	cct_kbs_claims_memo *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void cct_kbs__claims_memo_free(cct_kbs_claims_memo *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < MEMO_SLOTS; i++)
		json_decref(m->slot[i].doc);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void cct_kbs__claims_memo_put(cct_kbs_claims_memo *m, const char *text, json_t *doc)
{
	uint8_t key[32];
	json_t *old;

	if (!m || !text || !json_is_object(doc))
		return;
	cct_sha256(text, strlen(text), key);
	pthread_mutex_lock(&m->lock);
	old = m->slot[m->next].doc;
	memcpy(m->slot[m->next].key, key, sizeof(key));
	m->slot[m->next].doc = json_incref(doc);
	m->next = (m->next + 1) % MEMO_SLOTS;
	pthread_mutex_unlock(&m->lock);
	json_decref(old); /* outside the lock: freeing a large document takes a while */
}

json_t *cct_kbs__claims_memo_get(cct_kbs_claims_memo *m, const char *text)
{
	uint8_t key[32];
	json_t *doc = NULL;
	size_t i;

	if (!m || !text)
		return NULL;
	cct_sha256(text, strlen(text), key);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < MEMO_SLOTS && !doc; i++)
		if (m->slot[i].doc && !memcmp(m->slot[i].key, key, sizeof(key)))
			doc = json_incref(m->slot[i].doc);
	pthread_mutex_unlock(&m->lock);
	return doc;
}
