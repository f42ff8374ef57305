/* Store: SQLite back end, sealed secrets, nonce single use, migrations, audit. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/store.h"

static const char *db_path(const char *name)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/%s", cct_test_tmpdir(), name);
	return p;
}

static cct_store *open_store(const char *name, uint8_t fill)
{
	uint8_t mk[32];
	char url[700];
	cct_store *st = NULL;
	cct_err err;

	memset(mk, fill, sizeof(mk));
	snprintf(url, sizeof(url), "sqlite:%s", db_path(name));
	if (cct_store_open(&st, url, mk, &err) != CCT_OK)
		fail_msg("open: %s", err.msg);
	return st;
}

static void secrets_sealed_at_rest(void **state)
{
	cct_store *st = open_store("s1.db", 1);
	uint8_t *v = NULL, *raw;
	size_t n = 0, rn = 0, i;
	cct_err err;
	const char *secret = "PLAINTEXT-MODEL-KEY-0123456789";
	int found = 0;

	(void)state;
	assert_int_equal(cct_store_secret_put(st, "r/t/g", (const uint8_t *)secret, strlen(secret),
					      1, &err), CCT_OK);
	assert_int_equal(cct_store_secret_get(st, "r/t/g", &v, &n, &err), CCT_OK);
	assert_int_equal(n, strlen(secret));
	assert_memory_equal(v, secret, n);
	free(v);
	assert_int_equal(cct_store_secret_get(st, "r/t/none", &v, &n, &err), CCT_EINVAL);
	cct_store_free(st);
	/* the plaintext is in no database file */
	raw = cct_test_read_file(db_path("s1.db"), &rn);
	assert_non_null(raw);
	for (i = 0; raw && i + 10 <= rn; i++)
		if (!memcmp(raw + i, "PLAINTEXT-", 10))
			found = 1;
	free(raw);
	raw = cct_test_read_file(db_path("s1.db-wal"), &rn);
	for (i = 0; raw && i + 10 <= rn; i++)
		if (!memcmp(raw + i, "PLAINTEXT-", 10))
			found = 1;
	free(raw);
	assert_int_equal(found, 0);
	/* another master key cannot read it */
	st = open_store("s1.db", 2);
	assert_int_equal(cct_store_secret_get(st, "r/t/g", &v, &n, &err), CCT_ESIGNATURE);
	cct_store_free(st);
}

static void sealed_row_bound_to_name_and_tamper_evident(void **state)
{
	uint8_t key[32], *s = NULL, *o = NULL;
	size_t sn = 0, on = 0, i;

	(void)state;
	memset(key, 9, sizeof(key));
	assert_int_equal(cct_store_seal(&s, &sn, key, "a", (const uint8_t *)"xyz", 3, NULL), CCT_OK);
	assert_int_equal(sn, 1 + 12 + 3 + 16);
	assert_int_equal(cct_store_unseal(&o, &on, key, "b", s, sn, NULL), CCT_ESIGNATURE);
	for (i = 0; i < sn; i++) {
		s[i] ^= 0x01;
		assert_int_not_equal(cct_store_unseal(&o, &on, key, "a", s, sn, NULL), CCT_OK);
		s[i] ^= 0x01;
	}
	for (i = 0; i < sn; i++)
		assert_int_not_equal(cct_store_unseal(&o, &on, key, "a", s, i, NULL), CCT_OK);
	assert_int_equal(cct_store_unseal(&o, &on, key, "a", s, sn, NULL), CCT_OK);
	assert_memory_equal(o, "xyz", 3);
	free(o);
	free(s);
}

static void nonce_is_single_use_and_expires(void **state)
{
	cct_store *st = open_store("s2.db", 1);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_store_session s, g;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.id, "abc");
	strcpy(s.tee, "snp");
	strcpy(s.nonce, "bm9uY2U=");
	s.created = 100;
	s.expires = 400;
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_EIO); /* id unique */
	assert_int_equal(ops->session_consume_nonce(impl, "abc", "other", 200, NULL), CCT_ENONCE);
	assert_int_equal(ops->session_consume_nonce(impl, "abc", "bm9uY2U=", 400, NULL), CCT_ENONCE);
	assert_int_equal(ops->session_consume_nonce(impl, "abc", "bm9uY2U=", 200, NULL), CCT_OK);
	assert_int_equal(ops->session_consume_nonce(impl, "abc", "bm9uY2U=", 200, NULL), CCT_ENONCE);
	assert_int_equal(ops->session_set_attested(impl, "abc", "t", "{}", "{}", "d", NULL), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, "abc", "t2", "{}", "{}", "d", NULL),
			 CCT_EINVAL);
	assert_int_equal(ops->session_get(impl, "abc", &g, NULL), CCT_OK);
	assert_string_equal(g.token, "t");
	assert_int_equal(g.nonce_used, 1);
	cct_store_session_clear(&g);
	assert_int_equal(ops->session_gc(impl, 500, NULL), CCT_OK);
	assert_int_equal(ops->session_get(impl, "abc", &g, NULL), CCT_EINVAL);
	cct_store_free(st);
}

/* Group commit: writers from many threads share commits, yet each write succeeds or fails on
 * its own (a duplicate id or a spent nonce fails only that write, not its batch), every
 * acknowledged write is visible to the readers at once and still there after a reopen; lazy
 * attest commits interleaved with durable writes (their batches alternate synchronous levels)
 * lose nothing either. */
#define GC_THREADS 8
#define GC_ROUNDS 40

typedef struct gc_arg {
	cct_store *st;
	int t, dup_ok, nonce_ok, audit_ok, put_ok, attest_ok;
	int64_t audit_ids[GC_ROUNDS];
} gc_arg;

static void *gc_writer(void *p)
{
	gc_arg *a = p;
	void *impl;
	const cct_store_ops *ops = cct_store_backend(a->st, &impl);
	cct_store_session s, g;
	int i;

	for (i = 0; i < GC_ROUNDS; i++) {
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "t%d-%d", a->t, i);
		strcpy(s.tee, "snp");
		strcpy(s.nonce, "n");
		s.created = 1;
		s.expires = 1000;
		if (ops->session_put(impl, &s, NULL) == CCT_OK &&
		    ops->session_get(impl, s.id, &g, NULL) == CCT_OK) { /* read after write */
			a->put_ok++;
			cct_store_session_clear(&g);
		}
		snprintf(s.id, sizeof(s.id), "dup-%d", i);
		a->dup_ok += ops->session_put(impl, &s, NULL) == CCT_OK;
		a->nonce_ok += ops->session_consume_nonce(impl, "race", "n", 10, NULL) == CCT_OK;
		a->audit_ok += ops->audit_append(impl, 5, "{\"event\":\"gc\"}", &a->audit_ids[i],
						 NULL) == CCT_OK;
		/* a lazy write (no fsync of its own) between durable ones */
		snprintf(s.id, sizeof(s.id), "a%d-%d", a->t, i);
		s.token = (char *)"tok";
		s.claims = (char *)"{}";
		s.tee_pubkey = (char *)"{}";
		a->attest_ok += cct_store_session_attest_commit(a->st, &s, NULL, 10,
								"{\"event\":\"attest\"}",
								NULL) == CCT_OK;
		s.token = s.claims = s.tee_pubkey = NULL;
	}
	return NULL;
}

static void group_commit_keeps_writes_apart_and_durable(void **state)
{
	cct_store *st = open_store("gc.db", 3);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	pthread_t th[GC_THREADS];
	gc_arg args[GC_THREADS];
	cct_store_session s, g;
	int i, j, k, dup = 0, nonce = 0, puts = 0, audits = 0, attests = 0;
	char *txt = NULL, id[64];
	json_t *arr;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.id, "race");
	strcpy(s.tee, "snp");
	strcpy(s.nonce, "n");
	s.expires = 1000;
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	for (i = 0; i < GC_THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].st = st;
		args[i].t = i;
		assert_int_equal(pthread_create(&th[i], NULL, gc_writer, &args[i]), 0);
	}
	for (i = 0; i < GC_THREADS; i++) {
		pthread_join(th[i], NULL);
		dup += args[i].dup_ok;
		nonce += args[i].nonce_ok;
		puts += args[i].put_ok;
		audits += args[i].audit_ok;
		attests += args[i].attest_ok;
	}
	assert_int_equal(puts, GC_THREADS * GC_ROUNDS);
	assert_int_equal(dup, GC_ROUNDS);      /* each dup-i id: exactly one winner */
	assert_int_equal(nonce, 1);            /* the nonce: spent exactly once */
	assert_int_equal(audits, GC_THREADS * GC_ROUNDS);
	assert_int_equal(attests, GC_THREADS * GC_ROUNDS);
	for (i = 0; i < GC_THREADS; i++)       /* every audit id distinct */
		for (j = 0; j < GC_ROUNDS; j++)
			for (k = j + 1; k < GC_ROUNDS; k++)
				assert_true(args[i].audit_ids[j] != args[i].audit_ids[k]);
	cct_store_free(st);
	/* all of it survived a close and reopen */
	st = open_store("gc.db", 3);
	ops = cct_store_backend(st, &impl);
	for (i = 0; i < GC_THREADS; i++)
		for (j = 0; j < GC_ROUNDS; j++) {
			snprintf(id, sizeof(id), "t%d-%d", i, j);
			assert_int_equal(ops->session_get(impl, id, &g, NULL), CCT_OK);
			cct_store_session_clear(&g);
			snprintf(id, sizeof(id), "a%d-%d", i, j);
			assert_int_equal(cct_store_session_open(st, id, &g, NULL, NULL), CCT_OK);
			assert_non_null(g.token);
			assert_int_equal(g.nonce_used, 1);
			cct_store_session_clear(&g);
		}
	assert_int_equal(ops->session_get(impl, "race", &g, NULL), CCT_OK);
	assert_int_equal(g.nonce_used, 1);
	cct_store_session_clear(&g);
	assert_int_equal(ops->audit_query(impl, 0, 1000, &txt, NULL), CCT_OK);
	arr = json_loads(txt, 0, NULL);
	assert_int_equal(json_array_size(arr), 2 * GC_THREADS * GC_ROUNDS);
	json_decref(arr);
	free(txt);
	cct_store_free(st);
}

/* Sealed sessions: the v2 and v3 layouts round-trip every field (meta included); rows sealed
 * in the v1 JSON layout and the v2 layout by older brokers still open; a changed byte or a row copied to another id
 * is refused as not sealed by this broker. */
static void sealed_session_layouts(void **state)
{
	cct_store *st = open_store("sess.db", 4);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_store_session s, g;
	uint8_t mk[32], rk[32], *sealed = NULL;
	size_t sn = 0;
	char *meta = NULL, *b64, col[4096], *env, *v3col = NULL, v3tok[256];
	cct_err err;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.tee, "snp");
	strcpy(s.nonce, "n");
	s.expires = 900;
	strcpy(s.id, "v2");
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	strcpy(s.id, "v1");
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	strcpy(s.id, "other");
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);

	strcpy(s.id, "v2");
	s.expires = 700;
	strcpy(s.evidence_digest, "ab12");
	s.token = (char *)"tok.en.sig";
	s.claims = (char *)"{\"ear.status\":\"affirming\",\"q\":\"\\\"\"}";
	s.tee_pubkey = (char *)"{\"kty\":\"EC\"}";
	assert_int_equal(cct_store_session_seal_attested(st, &s, "{\"passed\":[\"default\"]}", &err),
			 CCT_OK);
	assert_int_equal(cct_store_session_open(st, "v2", &g, &meta, &err), CCT_OK);
	assert_string_equal(g.token, s.token);
	assert_string_equal(g.claims, s.claims);
	assert_string_equal(g.tee_pubkey, s.tee_pubkey);
	assert_string_equal(g.tee, "snp");
	assert_string_equal(g.evidence_digest, "ab12");
	assert_int_equal(g.expires, 700);
	assert_string_equal(meta, "{\"passed\":[\"default\"]}");
	free(meta);
	cct_store_session_clear(&g);
	/* an EAR token carries the claims as its payload: sealed once, opened identical */
	{
		const char *ear = "{\"ear.status\":\"affirming\",\"submods\":{}}";
		char *pl = cct_b64_encode((const uint8_t *)ear, strlen(ear), 1), tok[256], *c1;
		cct_store_session t = s;
		size_t full, once;

		assert_int_equal(ops->session_get(impl, "v2", &g, NULL), CCT_OK);
		full = strlen(g.claims);
		assert_string_equal(g.token, "sealed"); /* the token itself is sealed only */
		cct_store_session_clear(&g);
		pl[strcspn(pl, "=")] = 0;
		snprintf(tok, sizeof(tok), "eyJhbGciOiJFUzI1NiJ9.%s.c2ln", pl);
		strcpy(t.id, "p1");
		assert_int_equal(ops->session_put(impl, &t, NULL), CCT_OK);
		strcpy(t.id, "p2");
		assert_int_equal(ops->session_put(impl, &t, NULL), CCT_OK);
		strcpy(t.id, "p1");
		t.token = tok;
		t.claims = (char *)ear;
		assert_int_equal(cct_store_session_seal_attested(st, &t, NULL, &err), CCT_OK);
		assert_int_equal(cct_store_session_open(st, "p1", &g, NULL, &err), CCT_OK);
		assert_string_equal(g.claims, ear);
		assert_string_equal(g.token, tok);
		cct_store_session_clear(&g);
		assert_int_equal(ops->session_get(impl, "p1", &g, NULL), CCT_OK);
		c1 = g.claims;
		once = strlen(c1);
		/* v3: the token's payload left out, the claims whole */
		assert_non_null(strstr(c1, "cct-sealed-v3:"));
		v3col = strdup(c1);
		snprintf(v3tok, sizeof(v3tok), "%s", tok);
		cct_store_session_clear(&g);
		(void)full;
		/* the same state whose claims differ from the payload in one byte: sealed twice */
		strcpy(t.id, "p2");
		t.claims = (char *)"{\"ear.status\":\"affirming\",\"submods\":[]}";
		assert_int_equal(cct_store_session_seal_attested(st, &t, NULL, &err), CCT_OK);
		assert_int_equal(ops->session_get(impl, "p2", &g, NULL), CCT_OK);
		assert_true(strlen(g.claims) >= once + strlen(ear));
		cct_store_session_clear(&g);
		free(pl);
	}
	/* the v2 column copied onto another session: refused */
	assert_int_equal(ops->session_get(impl, "v2", &g, NULL), CCT_OK);
	assert_non_null(strstr(g.claims, "cct-sealed-v2:"));
	snprintf(col, sizeof(col), "%s", g.claims);
	cct_store_session_clear(&g);
	assert_int_equal(ops->session_set_attested(impl, "other", "t", col, "{}", "d", NULL), CCT_OK);
	assert_int_equal(cct_store_session_open(st, "other", &g, NULL, &err), CCT_ESIGNATURE);

	/* a v1 row, sealed the way earlier brokers did */
	memset(mk, 4, sizeof(mk));
	assert_int_equal(cct_store_derive_key(rk, mk, "cctrust-store row integrity v1"), CCT_OK);
	/* a v2 row of an earlier broker whose claims were the token's payload (claims field
	 * empty): still opens, the claims taken from the token */
	{
		static const char *const fields[] = {
			"o2", "snp", "640", "ef",
			"eyJhbGciOiJFUzI1NiJ9.eyJlYXIuc3RhdHVzIjoiYWZmaXJtaW5nIn0.c2ln", "",
			"{\"kty\":\"EC\"}", ""
		};
		uint8_t pt[512], *w = pt;
		size_t i, fl;

		for (i = 0; i < 8; i++) {
			fl = strlen(fields[i]);
			w[0] = (uint8_t)fl;
			w[1] = w[2] = w[3] = 0;
			memcpy(w + 4, fields[i], fl);
			w += 4 + fl;
		}
		strcpy(s.id, "o2");
		assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
		assert_int_equal(cct_store_seal(&sealed, &sn, rk, "cctrust-store:sessions:o2", pt,
						(size_t)(w - pt), &err),
				 CCT_OK);
		b64 = cct_b64_encode(sealed, sn, 0);
		snprintf(col, sizeof(col), "cct-sealed-v2:%s", b64);
		free(b64);
		free(sealed);
		sealed = NULL;
		assert_int_equal(ops->session_set_attested(impl, "o2", "sealed", col, "{}", "ef",
							   NULL),
				 CCT_OK);
		assert_int_equal(cct_store_session_open(st, "o2", &g, &meta, &err), CCT_OK);
		assert_string_equal(g.claims, "{\"ear.status\":\"affirming\"}");
		assert_string_equal(g.token, fields[4]);
		assert_int_equal(g.expires, 640);
		assert_null(meta);
		cct_store_session_clear(&g);
	}
	env = "{\"id\":\"v1\",\"tee\":\"tdx\",\"expires\":650,\"evidence_digest\":\"cd\","
	      "\"token\":\"t1\",\"claims\":\"{}\",\"tee_pubkey\":\"{}\",\"meta\":{\"passed\":[]}}";
	assert_int_equal(cct_store_seal(&sealed, &sn, rk, "cctrust-store:sessions:v1",
					(const uint8_t *)env, strlen(env), &err), CCT_OK);
	b64 = cct_b64_encode(sealed, sn, 0);
	snprintf(col, sizeof(col), "cct-sealed-v1:%s", b64);
	free(b64);
	free(sealed);
	assert_int_equal(ops->session_set_attested(impl, "v1", "t1", col, "{}", "cd", NULL), CCT_OK);
	assert_int_equal(cct_store_session_open(st, "v1", &g, &meta, &err), CCT_OK);
	assert_string_equal(g.token, "t1");
	assert_string_equal(g.tee, "tdx");
	assert_int_equal(g.expires, 650);
	assert_string_equal(meta, "{\"passed\":[]}");
	free(meta);
	cct_store_session_clear(&g);

	/* the v3 version is authenticated: p1's column called v2 is refused, as v3 it opens (the
	 * row made again, as a database writer could) */
	assert_non_null(v3col);
	memcpy(strstr(v3col, "-v3:"), "-v2:", 4);
	assert_int_equal(ops->session_gc(impl, 1000, NULL), CCT_OK);
	strcpy(s.id, "p1");
	s.expires = 2000;
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, "p1", "sealed", v3col, "{}", "d", NULL),
			 CCT_OK);
	assert_int_equal(cct_store_session_open(st, "p1", &g, NULL, &err), CCT_ESIGNATURE);
	memcpy(strstr(v3col, "-v2:"), "-v3:", 4);
	assert_int_equal(ops->session_gc(impl, 2000, NULL), CCT_OK);
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, "p1", "sealed", v3col, "{}", "d", NULL),
			 CCT_OK);
	assert_int_equal(cct_store_session_open(st, "p1", &g, NULL, &err), CCT_OK);
	assert_string_equal(g.token, v3tok);
	cct_store_session_clear(&g);
	free(v3col);
	cct_store_free(st);
}

/* Attest commit: nonce, attested state and audit record in one commit, all or nothing. */
static void attest_commit_all_or_nothing(void **state)
{
	cct_store *st = open_store("ac.db", 5);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_store_session s, g;
	char *txt = NULL;
	json_t *arr;
	cct_err err;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.id, "a1");
	strcpy(s.tee, "snp");
	strcpy(s.nonce, "n1");
	s.expires = 900;
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	s.token = (char *)"tok";
	s.claims = (char *)"{}";
	s.tee_pubkey = (char *)"{}";
	/* the nonce was spent (a failed attempt, or a concurrent one that won): nothing written */
	assert_int_equal(ops->session_consume_nonce(impl, "a1", "n1", 10, NULL), CCT_OK);
	assert_int_equal(cct_store_session_attest_commit(st, &s, NULL, 10, "{\"e\":1}", &err),
			 CCT_ENONCE);
	assert_int_equal(cct_store_session_open(st, "a1", &g, NULL, &err), CCT_OK);
	assert_null(g.token);
	cct_store_session_clear(&g);
	assert_int_equal(ops->audit_query(impl, 0, 10, &txt, NULL), CCT_OK);
	assert_string_equal(txt, "[]");
	free(txt);
	/* a fresh session: spent, sealed and audited together */
	strcpy(s.id, "a2");
	strcpy(s.nonce, "n2");
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	assert_int_equal(cct_store_session_attest_commit(st, &s, NULL, 10, "{\"e\":2}", &err),
			 CCT_OK);
	assert_int_equal(cct_store_session_open(st, "a2", &g, NULL, &err), CCT_OK);
	assert_string_equal(g.token, "tok");
	assert_int_equal(g.nonce_used, 1);
	cct_store_session_clear(&g);
	assert_int_equal(cct_store_session_attest_commit(st, &s, NULL, 11, "{\"e\":3}", &err),
			 CCT_ENONCE);
	assert_int_equal(ops->audit_query(impl, 0, 10, &txt, NULL), CCT_OK);
	arr = json_loads(txt, 0, NULL);
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "e")), 2);
	json_decref(arr);
	free(txt);
	cct_store_free(st);
}

/* A session without a row (its challenge is in the cookie) gets one with its attest commit;
 * the cap records the creation time of the newest row it evicts, and never lowers it. */
static void attest_commit_inserts_row_and_cap_keeps_horizon(void **state)
{
	cct_store *st = open_store("hz.db", 6);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_store_session s, g;
	int64_t h = -1, left = -1;
	cct_err err;
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.id, "fresh");
	strcpy(s.tee, "snp");
	strcpy(s.nonce, "nf");
	s.created = 5;
	s.expires = 900;
	s.token = (char *)"tok";
	s.claims = (char *)"{}";
	s.tee_pubkey = (char *)"{}";
	assert_int_equal(ops->session_get(impl, "fresh", &g, NULL), CCT_EINVAL);
	assert_int_equal(cct_store_session_attest_commit(st, &s, NULL, 10, "{\"e\":1}", &err),
			 CCT_OK);
	assert_int_equal(cct_store_session_open(st, "fresh", &g, NULL, &err), CCT_OK);
	assert_int_equal(g.nonce_used, 1);
	assert_string_equal(g.token, "tok");
	cct_store_session_clear(&g);
	/* a failed attest spends a row-less session's nonce: the row appears, spent */
	strcpy(s.id, "failed");
	strcpy(s.nonce, "nx");
	assert_int_equal(cct_store_session_spend(st, &s, 10, &err), CCT_OK);
	assert_int_equal(ops->session_get(impl, "failed", &g, NULL), CCT_OK);
	assert_int_equal(g.nonce_used, 1);
	cct_store_session_clear(&g);
	/* five more rows created at 20..24; a cap of 3 evicts the four oldest (5, 5, 20, 21) */
	assert_int_equal(cct_store_session_horizon(st, &h, &err), CCT_OK);
	assert_int_equal(h, 0);
	for (i = 0; i < 5; i++) {
		snprintf(s.id, sizeof(s.id), "r%d", i);
		s.created = 20 + i;
		assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	}
	assert_int_equal(ops->session_prune(impl, 10, 3, &left, &err), CCT_OK);
	assert_int_equal(left, 3);
	assert_int_equal(cct_store_session_horizon(st, &h, &err), CCT_OK);
	assert_int_equal(h, 21);
	/* within the cap: unchanged; an older row evicted later does not lower it */
	assert_int_equal(ops->session_prune(impl, 10, 3, &left, &err), CCT_OK);
	strcpy(s.id, "old");
	s.created = 1;
	assert_int_equal(ops->session_put(impl, &s, NULL), CCT_OK);
	assert_int_equal(ops->session_prune(impl, 10, 3, &left, &err), CCT_OK);
	assert_int_equal(cct_store_session_horizon(st, &h, &err), CCT_OK);
	assert_int_equal(h, 21);
	cct_store_free(st);
}

static void migrations_and_audit(void **state)
{
	cct_store *st = open_store("s3.db", 1);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	char *txt = NULL;
	int64_t id = 0;
	sqlite3 *db;
	sqlite3_stmt *q;

	(void)state;
	assert_int_equal(ops->audit_append(impl, 5, "{\"event\":\"x\"}", &id, NULL), CCT_OK);
	assert_int_equal(ops->audit_append(impl, 6, "{\"event\":\"y\"}", &id, NULL), CCT_OK);
	assert_int_equal(id, 2);
	assert_int_equal(ops->audit_query(impl, 1, 10, &txt, NULL), CCT_OK);
	assert_string_equal(txt, "[{\"event\":\"y\",\"id\":2,\"time\":6}]");
	free(txt);
	assert_int_equal(ops->ping(impl), 1);
	cct_store_free(st);
	st = open_store("s3.db", 1); /* reopen: migrations idempotent */
	cct_store_free(st);
	assert_int_equal(sqlite3_open(db_path("s3.db"), &db), SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	sqlite3_finalize(q);
	/* a newer schema is refused, not used */
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	{
		uint8_t mk[32] = { 1 };
		char url[700];
		cct_err err;

		snprintf(url, sizeof(url), "sqlite:%s", db_path("s3.db"));
		assert_int_equal(cct_store_open(&st, url, mk, &err), CCT_EUNSUPPORTED);
		assert_int_equal(cct_store_open(&st, "mysql://x", mk, &err), CCT_EUNSUPPORTED);
	}
}

static void master_key_encodings(void **state)
{
	uint8_t k[32];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

	(void)state;
	setenv("CCT_TEST_MK", hex, 1);
	assert_int_equal(cct_store_master_key_load(k, NULL, "CCT_TEST_MK", NULL), CCT_OK);
	assert_int_equal(k[31], 0x1f);
	setenv("CCT_TEST_MK", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1);
	assert_int_equal(cct_store_master_key_load(k, NULL, "CCT_TEST_MK", NULL), CCT_OK);
	assert_int_equal(k[31], 0x1f);
	setenv("CCT_TEST_MK", "short", 1);
	assert_int_equal(cct_store_master_key_load(k, NULL, "CCT_TEST_MK", NULL), CCT_EFORMAT);
	unsetenv("CCT_TEST_MK");
	assert_int_equal(cct_store_master_key_load(k, NULL, "CCT_TEST_MK", NULL), CCT_EINVAL);
	{ /* a raw 32-byte key file whose last bytes look like whitespace is still raw */
		uint8_t raw[32];
		int i;

		for (i = 0; i < 32; i++)
			raw[i] = (uint8_t)(i + 1);
		raw[30] = ' ';
		raw[31] = '\n';
		assert_int_equal(cct_file_write(db_path("raw.key"), raw, 32, 1, NULL), CCT_OK);
		assert_int_equal(cct_store_master_key_load(k, db_path("raw.key"), NULL, NULL), CCT_OK);
		assert_memory_equal(k, raw, 32);
	}
}

/* Sealed objects of other kinds (the EAR signing key): bound to kind + name; create-if-absent
 * keeps the first value. */
static void sealed_service_keys(void **state)
{
	cct_store *st = NULL;
	uint8_t mk[32], *v = NULL;
	size_t n = 0;
	char url[700];
	int created = -1;
	cct_err err;
	void *impl;
	const cct_store_ops *ops;

	(void)state;
	memset(mk, 3, sizeof(mk));
	snprintf(url, sizeof(url), "sqlite:%s", db_path("svc.db"));
	assert_int_equal(cct_store_open(&st, url, mk, &err), CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_SERVICE_KEY, "k", &v, &n, &err),
			 CCT_EINVAL);
	assert_int_equal(cct_store_sealed_create(st, CCT_STORE_KIND_SERVICE_KEY, "k",
						 (const uint8_t *)"first", 5, 1, &created, &err),
			 CCT_OK);
	assert_int_equal(created, 1);
	assert_int_equal(cct_store_sealed_create(st, CCT_STORE_KIND_SERVICE_KEY, "k",
						 (const uint8_t *)"second", 6, 2, &created, &err),
			 CCT_OK);
	assert_int_equal(created, 0);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_SERVICE_KEY, "k", &v, &n, &err),
			 CCT_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(v, "first", 5);
	free(v);
	/* not reachable as a resource of the same name, and sealed at rest */
	assert_int_equal(cct_store_secret_get(st, "k", &v, &n, &err), CCT_EINVAL);
	ops = cct_store_backend(st, &impl);
	assert_int_equal(ops->obj_get(impl, CCT_STORE_KIND_SERVICE_KEY, "k", &v, &n, &err), CCT_OK);
	assert_null(memmem(v, n, "first", 5));
	/* a row copied to another kind does not decrypt */
	assert_int_equal(ops->obj_put(impl, CCT_STORE_KIND_RESOURCE, "k", v, n, 3, &err), CCT_OK);
	free(v);
	assert_int_equal(cct_store_secret_get(st, "k", &v, &n, &err), CCT_ESIGNATURE);
	cct_store_free(st);
}

/* Issue 11: policies and sessions are authenticated under a row key derived from the master
 * key (HKDF): the row key is not the master key, a policy row does not open under another
 * master key, a sealed session opens only under its own id, and its expiry is the sealed one. */
static void rows_authenticated_under_derived_key(void **state)
{
	cct_store *st = open_store("rows.db", 5), *other;
	uint8_t mk[32], k1[32], k2[32], *v = NULL;
	size_t n = 0;
	cct_store_session ss, got;
	char *meta = NULL;
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_err err;

	(void)state;
	memset(mk, 5, sizeof(mk));
	assert_int_equal(cct_store_derive_key(k1, mk, "cctrust-store row integrity v1"), CCT_OK);
	assert_int_equal(cct_store_derive_key(k2, mk, "another purpose"), CCT_OK);
	assert_memory_not_equal(k1, mk, 32);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "default",
					      (const uint8_t *)"{}", 2, 1, &err), CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "default", &v, &n,
					      &err), CCT_OK);
	assert_int_equal(n, 2);
	free(v);
	/* sealed under the row key, not the master key: a secret-style unseal fails */
	assert_int_equal(ops->obj_get(impl, CCT_STORE_KIND_RES_POLICY, "default", &v, &n, &err),
			 CCT_OK);
	{
		uint8_t *pt = NULL;
		size_t pn = 0;

		assert_int_equal(cct_store_unseal(&pt, &pn, mk,
						  "cctrust-store-g:resource-policy:default", v, n,
						  &err), CCT_ESIGNATURE);
		assert_int_equal(cct_store_unseal(&pt, &pn, k1,
						  "cctrust-store-g:resource-policy:default", v, n,
						  &err), CCT_OK);
		/* the row's generation (8 bytes, little-endian: the first write), then the value */
		assert_int_equal(pn, 8 + 2);
		assert_memory_equal(pt, "\x01\0\0\0\0\0\0\0{}", 10);
		free(pt);
	}
	free(v);
	cct_store_free(st);
	other = open_store("rows.db", 6);
	assert_int_equal(cct_store_sealed_get(other, CCT_STORE_KIND_RES_POLICY, "default", &v, &n,
					      &err), CCT_ESIGNATURE);
	cct_store_free(other);

	st = open_store("rows.db", 5);
	ops = cct_store_backend(st, &impl);
	memset(&ss, 0, sizeof(ss));
	strcpy(ss.id, "aaaa");
	strcpy(ss.tee, "snp");
	strcpy(ss.nonce, "n");
	ss.created = 1;
	ss.expires = 100;
	assert_int_equal(ops->session_put(impl, &ss, &err), CCT_OK);
	ss.token = "tok";
	ss.claims = "{\"c\":1}";
	ss.tee_pubkey = "{\"kty\":\"EC\"}";
	assert_int_equal(cct_store_session_seal_attested(st, &ss, "{\"passed\":[\"default\"]}",
							 &err), CCT_OK);
	assert_int_equal(cct_store_session_open(st, "aaaa", &got, &meta, &err), CCT_OK);
	assert_string_equal(got.claims, "{\"c\":1}");
	assert_string_equal(got.tee_pubkey, "{\"kty\":\"EC\"}");
	assert_string_equal(meta, "{\"passed\":[\"default\"]}");
	free(meta);
	cct_store_session_clear(&got);
	/* the expiry column is not believed; the row copied under another id does not open */
	assert_int_equal(ops->session_get(impl, "aaaa", &got, &err), CCT_OK);
	strcpy(ss.id, "bbbb");
	ss.token = ss.claims = ss.tee_pubkey = NULL;
	ss.expires = 999999;
	assert_int_equal(ops->session_put(impl, &ss, &err), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, "bbbb", got.token, got.claims,
						   got.tee_pubkey, "", &err), CCT_OK);
	cct_store_session_clear(&got);
	assert_int_equal(cct_store_session_open(st, "bbbb", &got, NULL, &err), CCT_ESIGNATURE);
	assert_null(got.claims);
	/* an unattested session opens with its challenge state only */
	strcpy(ss.id, "cccc");
	assert_int_equal(ops->session_put(impl, &ss, &err), CCT_OK);
	assert_int_equal(cct_store_session_open(st, "cccc", &got, NULL, &err), CCT_OK);
	assert_null(got.claims);
	assert_string_equal(got.nonce, "n");
	/* pruning: expired rows, then the oldest above the cap; audit retention */
	{
		int64_t left = -1;
		char *txt = NULL;

		assert_int_equal(ops->session_prune(impl, 150, 0, &left, &err), CCT_OK);
		assert_int_equal(left, 2); /* "aaaa" (expires 100) gone */
		assert_int_equal(ops->session_prune(impl, 150, 1, &left, &err), CCT_OK);
		assert_int_equal(left, 1);
		assert_int_equal(ops->audit_append(impl, 10, "{\"e\":\"old\"}", NULL, &err), CCT_OK);
		assert_int_equal(ops->audit_append(impl, 20, "{\"e\":\"new\"}", NULL, &err), CCT_OK);
		assert_int_equal(ops->audit_prune(impl, 15, &err), CCT_OK);
		assert_int_equal(ops->audit_query(impl, 0, 10, &txt, &err), CCT_OK);
		assert_null(strstr(txt, "old"));
		assert_non_null(strstr(txt, "new"));
		free(txt);
	}
	cct_store_free(st);
}

typedef struct reader_arg {
	cct_store *st;
	int ok;
} reader_arg;

static cct_store *open_store_gens(const char *name, uint8_t fill, const char *gens,
				  cct_err *err)
{
	uint8_t mk[32];
	char url[700];
	cct_store *st = NULL;
	cct_store_open_opts o;

	memset(&o, 0, sizeof(o));
	o.generations = gens;
	memset(mk, fill, sizeof(mk));
	snprintf(url, sizeof(url), "sqlite:%s", db_path(name));
	if (cct_store_open_ex(&st, url, mk, &o, err) != CCT_OK)
		return NULL;
	return st;
}

/* The raw sealed row of kind/name (what a database writer can copy and put back). */
static uint8_t *raw_row(cct_store *st, const char *kind, const char *name, size_t *n)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	uint8_t *v = NULL;
	cct_err err;

	assert_int_equal(ops->obj_get(impl, kind, name, &v, n, &err), CCT_OK);
	return v;
}

static void put_raw_row(cct_store *st, const char *kind, const char *name, const uint8_t *v,
			size_t n)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(st, &impl);
	cct_err err;

	assert_int_equal(ops->obj_put(impl, kind, name, v, n, 9, &err), CCT_OK);
}

static void get_text(cct_store *st, const char *kind, const char *name, const char *want)
{
	uint8_t *v = NULL;
	size_t n = 0;
	cct_err err;

	if (cct_store_sealed_get(st, kind, name, &v, &n, &err) != CCT_OK)
		fail_msg("%s %s: %s", kind, name, err.msg);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
	free(v);
}

/* A database writer who puts back an older sealed row (a policy or secret the admin has since
 * replaced) was obeyed: the seal bound kind and name, not a version. Each row now carries its
 * generation; one older than the newest this store wrote or opened is refused, across a
 * restart when a generations file is kept, and the file itself is MAC'd. */
static void rolled_back_rows_refused(void **state)
{
	char gens[600], *text;
	uint8_t *old_pol, *old_sec, *legacy = NULL, rk[32], mk[32];
	size_t on = 0, sn = 0, ln = 0, tn = 0;
	cct_store *st, *other;
	cct_err err;
	uint8_t *v = NULL;
	size_t n = 0;

	(void)state;
	snprintf(gens, sizeof(gens), "%s/gens.json", cct_test_tmpdir());
	unlink(gens);
	unlink(db_path("gens.db"));
	st = open_store_gens("gens.db", 7, gens, &err);
	assert_non_null(st);
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "default",
					      (const uint8_t *)"loose", 5, 1, &err), CCT_OK);
	assert_int_equal(cct_store_secret_put(st, "r/t/k", (const uint8_t *)"old-key", 7, 1, &err),
			 CCT_OK);
	old_pol = raw_row(st, CCT_STORE_KIND_RES_POLICY, "default", &on);
	old_sec = raw_row(st, CCT_STORE_KIND_RESOURCE, "r/t/k", &sn);
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "default",
					      (const uint8_t *)"tight", 5, 2, &err), CCT_OK);
	assert_int_equal(cct_store_secret_put(st, "r/t/k", (const uint8_t *)"new-key", 7, 2, &err),
			 CCT_OK);
	get_text(st, CCT_STORE_KIND_RES_POLICY, "default", "tight");
	/* the writer puts the older rows back: refused, named */
	put_raw_row(st, CCT_STORE_KIND_RES_POLICY, "default", old_pol, on);
	put_raw_row(st, CCT_STORE_KIND_RESOURCE, "r/t/k", old_sec, sn);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "default", &v, &n,
					      &err), CCT_ESIGNATURE);
	assert_null(v);
	if (!strstr(err.msg, "resource-policy:default is generation 1, older than generation 2"))
		fail_msg("roll-back not named: %s", err.msg);
	assert_int_equal(cct_store_secret_get(st, "r/t/k", &v, &n, &err), CCT_ESIGNATURE);
	/* the admin's next write supersedes both (generation 3) */
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "default",
					      (const uint8_t *)"tight2", 6, 3, &err), CCT_OK);
	get_text(st, CCT_STORE_KIND_RES_POLICY, "default", "tight2");
	cct_store_free(st);

	/* after a restart with the generations file: the roll-back is still refused */
	st = open_store_gens("gens.db", 7, gens, &err);
	assert_non_null(st);
	assert_int_equal(cct_store_secret_get(st, "r/t/k", &v, &n, &err), CCT_ESIGNATURE);
	put_raw_row(st, CCT_STORE_KIND_RES_POLICY, "default", old_pol, on);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "default", &v, &n,
					      &err), CCT_ESIGNATURE);
	cct_store_free(st);
	/* without it (memory only) the restarted store has not seen generation 2: documented */
	st = open_store_gens("gens.db", 7, NULL, &err);
	assert_non_null(st);
	get_text(st, CCT_STORE_KIND_RESOURCE, "r/t/k", "old-key");
	cct_store_free(st);

	/* another replica (a second store on the database) writes generation 2; this one learns
	 * it on reading, and then refuses generation 1 */
	st = open_store_gens("gens.db", 7, NULL, &err);
	other = open_store_gens("gens.db", 7, NULL, &err);
	assert_non_null(st);
	assert_non_null(other);
	get_text(st, CCT_STORE_KIND_RESOURCE, "r/t/k", "old-key");
	assert_int_equal(cct_store_secret_put(other, "r/t/k", (const uint8_t *)"k2", 2, 3, &err),
			 CCT_OK);
	get_text(st, CCT_STORE_KIND_RESOURCE, "r/t/k", "k2");
	put_raw_row(other, CCT_STORE_KIND_RESOURCE, "r/t/k", old_sec, sn);
	assert_int_equal(cct_store_secret_get(st, "r/t/k", &v, &n, &err), CCT_ESIGNATURE);
	cct_store_free(other);

	/* a row written before generations (no generation: 0) still opens, until a newer one
	 * has been seen */
	memset(mk, 7, sizeof(mk));
	assert_int_equal(cct_store_derive_key(rk, mk, "cctrust-store row integrity v1"), CCT_OK);
	assert_int_equal(cct_store_seal(&legacy, &ln, rk, "cctrust-store:reference-value:rv",
					(const uint8_t *)"[]", 2, &err), CCT_OK);
	put_raw_row(st, CCT_STORE_KIND_REFVAL, "rv", legacy, ln);
	get_text(st, CCT_STORE_KIND_REFVAL, "rv", "[]");
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_REFVAL, "rv",
					      (const uint8_t *)"[1]", 3, 4, &err), CCT_OK);
	put_raw_row(st, CCT_STORE_KIND_REFVAL, "rv", legacy, ln);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_REFVAL, "rv", &v, &n, &err),
			 CCT_ESIGNATURE);
	cct_store_free(st);
	free(legacy);

	/* the file is MAC'd: lowering a generation in it refuses the start */
	text = (char *)cct_test_read_file(gens, &tn);
	assert_non_null(text);
	{
		char *g3 = strstr(text, "\"resource-policy:default\": 3");

		assert_non_null(g3);
		g3[strlen("\"resource-policy:default\": ")] = '1';
	}
	assert_int_equal(cct_file_write(gens, text, strlen(text), 1, &err), CCT_OK);
	free(text);
	assert_null(open_store_gens("gens.db", 7, gens, &err));
	assert_int_equal(err.code, CCT_ESIGNATURE);
	assert_non_null(strstr(err.msg, "MAC does not verify"));
	/* and another master key's broker cannot take it over */
	unlink(gens);
	st = open_store_gens("gens.db", 7, gens, &err);
	assert_non_null(st);
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "p",
					      (const uint8_t *)"x", 1, 5, &err), CCT_OK);
	cct_store_free(st);
	assert_null(open_store_gens("gens.db", 8, gens, &err));
	assert_int_equal(err.code, CCT_ESIGNATURE);
	free(old_pol);
	free(old_sec);
}

/* A database writer who deletes a row (a per-resource policy tighter than the default, so
 * that the default judges the resource) was obeyed: absence looked like "never stored". A
 * deletion through the store leaves a sealed tombstone; a row this store knows a generation of
 * that is absent with no tombstone at least as new is refused. */
static void deleted_rows_refused(void **state)
{
	cct_store *st, *other;
	cct_err err;
	uint8_t *v = NULL, *tomb, *row;
	size_t n = 0, tn = 0, rn = 0;
	void *impl;
	const cct_store_ops *ops;

	(void)state;
	unlink(db_path("del.db"));
	st = open_store_gens("del.db", 7, NULL, &err);
	other = open_store_gens("del.db", 7, NULL, &err);
	assert_non_null(st);
	assert_non_null(other);
	ops = cct_store_backend(st, &impl);
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "r/t/k",
					      (const uint8_t *)"tight", 5, 1, &err), CCT_OK);
	row = raw_row(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &rn);
	/* the writer deletes it: this store wrote it, so absence is refused, named */
	assert_int_equal(ops->obj_delete(impl, CCT_STORE_KIND_RES_POLICY, "r/t/k", &err), CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_ESIGNATURE);
	assert_null(v);
	if (!strstr(err.msg, "resource-policy:r/t/k is missing") ||
	    !strstr(err.msg, "generation 1") || !strstr(err.msg, "deleted in the database"))
		fail_msg("deletion not named: %s", err.msg);
	/* a replica that never read it cannot tell (documented) */
	assert_int_equal(cct_store_sealed_get(other, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_EINVAL);
	/* a row never stored is simply absent */
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "never", &v, &n,
					      &err), CCT_EINVAL);
	assert_int_equal(cct_store_sealed_delete(st, CCT_STORE_KIND_RES_POLICY, "never", 2, &err),
			 CCT_EINVAL);

	/* deleted through a store: absent for every replica, the one that knew it included */
	put_raw_row(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", row, rn);
	get_text(other, CCT_STORE_KIND_RES_POLICY, "r/t/k", "tight");
	assert_int_equal(cct_store_sealed_delete(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", 3, &err),
			 CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_EINVAL);
	assert_int_equal(cct_store_sealed_get(other, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_EINVAL);
	/* the deleted row put back is a roll-back for both (the tombstone is generation 2) */
	put_raw_row(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", row, rn);
	assert_int_equal(cct_store_sealed_get(other, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_ESIGNATURE);
	assert_int_equal(ops->obj_delete(impl, CCT_STORE_KIND_RES_POLICY, "r/t/k", &err), CCT_OK);

	/* written again by a replica that never saw it: after the deletion's generation, so the
	 * store that knows generation 2 takes it */
	cct_store_free(other);
	other = open_store_gens("del.db", 7, NULL, &err);
	assert_non_null(other);
	assert_int_equal(cct_store_sealed_put(other, CCT_STORE_KIND_RES_POLICY, "r/t/k",
					      (const uint8_t *)"tighter", 7, 4, &err), CCT_OK);
	get_text(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", "tighter");
	/* the writer deletes it: the older tombstone (generation 2 < 3) does not excuse it, nor
	 * no tombstone, nor a forged one */
	tomb = raw_row(st, "tombstone:" CCT_STORE_KIND_RES_POLICY, "r/t/k", &tn);
	assert_non_null(tomb);
	assert_int_equal(ops->obj_delete(impl, CCT_STORE_KIND_RES_POLICY, "r/t/k", &err), CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_ESIGNATURE);
	assert_int_equal(ops->obj_delete(impl, "tombstone:" CCT_STORE_KIND_RES_POLICY, "r/t/k",
					 &err), CCT_OK);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_ESIGNATURE);
	put_raw_row(st, "tombstone:" CCT_STORE_KIND_RES_POLICY, "r/t/k",
		    (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
	assert_int_equal(cct_store_sealed_get(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", &v, &n,
					      &err), CCT_ESIGNATURE);
	/* the admin's next write supersedes everything */
	assert_int_equal(cct_store_sealed_put(st, CCT_STORE_KIND_RES_POLICY, "r/t/k",
					      (const uint8_t *)"again", 5, 5, &err), CCT_OK);
	get_text(st, CCT_STORE_KIND_RES_POLICY, "r/t/k", "again");
	get_text(other, CCT_STORE_KIND_RES_POLICY, "r/t/k", "again");
	/* secrets: the tombstone opens under the secret key, deleting twice is "no such row" */
	assert_int_equal(cct_store_secret_put(st, "a/b/c", (const uint8_t *)"s", 1, 6, &err),
			 CCT_OK);
	assert_int_equal(cct_store_sealed_delete(st, CCT_STORE_KIND_RESOURCE, "a/b/c", 7, &err),
			 CCT_OK);
	assert_int_equal(cct_store_secret_get(st, "a/b/c", &v, &n, &err), CCT_EINVAL);
	assert_int_equal(cct_store_sealed_delete(st, CCT_STORE_KIND_RESOURCE, "a/b/c", 8, &err),
			 CCT_EINVAL);
	assert_int_equal(cct_store_secret_get(st, "a/b/c", &v, &n, &err), CCT_EINVAL);
	cct_store_free(other);
	cct_store_free(st);
	free(tomb);
	free(row);
}

typedef struct gen_race {
	cct_store *st;
	int stop, refused, read; /* __atomic: the readers and the writer share them */
} gen_race;

static void *read_while_written(void *p)
{
	gen_race *g = p;
	uint8_t *v;
	size_t n;
	cct_err err;

	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		v = NULL;
		if (cct_store_sealed_get(g->st, CCT_STORE_KIND_ATT_POLICY, "race", &v, &n, &err) ==
		    CCT_ESIGNATURE) {
			if (__atomic_add_fetch(&g->refused, 1, __ATOMIC_RELAXED) == 1)
				print_message("refused: %s\n", err.msg);
		}
		else
			__atomic_add_fetch(&g->read, 1, __ATOMIC_RELAXED);
		free(v);
	}
	return NULL;
}

/* Readers of a row the admin rewrites in the same process: a read that fetched the previous
 * generation just before a write committed and recorded the next is not a roll-back. */
static void concurrent_writes_are_not_roll_backs(void **state)
{
	gen_race g;
	pthread_t t[3];
	cct_err err;
	int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	unlink(db_path("race.db"));
	g.st = open_store("race.db", 3);
	assert_int_equal(cct_store_sealed_put(g.st, CCT_STORE_KIND_ATT_POLICY, "race",
					      (const uint8_t *)"0", 1, 1, &err), CCT_OK);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, read_while_written, &g), 0);
	for (i = 0; i < 300; i++)
		assert_int_equal(cct_store_sealed_put(g.st, CCT_STORE_KIND_ATT_POLICY, "race",
						      (const uint8_t *)"x", 1, 2, &err), CCT_OK);
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(g.refused, 0);
	assert_true(g.read > 0);
	cct_store_free(g.st);
}

static void *read_many(void *p)
{
	reader_arg *a = p;
	int i;

	for (i = 0; i < 50; i++) {
		uint8_t *v = NULL;
		size_t n = 0;
		cct_err err;

		if (cct_store_secret_get(a->st, "c/o/n", &v, &n, &err) == CCT_OK && n == 6 &&
		    !memcmp(v, "shared", 6))
			a->ok++;
		free(v);
	}
	return NULL;
}

/* cct_store_open_ex: the connection count is bounded, and any count in range serves
 * concurrent readers beside the writer (with one reader connection they take turns). */
static void store_connections_option(void **state)
{
	static const unsigned counts[] = { 1, 2, 32 };
	cct_store_open_opts o = { .connections = CCT_STORE_CONNECTIONS_MAX + 1 };
	cct_store *st = NULL;
	uint8_t mk[32];
	char url[700];
	cct_err err;
	size_t c;
	int i;

	(void)state;
	memset(mk, 5, sizeof(mk));
	snprintf(url, sizeof(url), "sqlite:%s", db_path("conns.db"));
	assert_int_equal(cct_store_open_ex(&st, url, mk, &o, &err), CCT_EINVAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "connections"));
	o.connections = 2;
	assert_int_equal(cct_store_open_ex(&st, "sqlite::memory:", mk, &o, &err), CCT_OK);
	cct_store_free(st);
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		pthread_t t[8];
		reader_arg a[8];

		o.connections = counts[c];
		assert_int_equal(cct_store_open_ex(&st, url, mk, &o, &err), CCT_OK);
		assert_int_equal(cct_store_secret_put(st, "c/o/n", (const uint8_t *)"shared", 6, 1,
						      &err), CCT_OK);
		for (i = 0; i < 8; i++) {
			a[i].st = st;
			a[i].ok = 0;
			assert_int_equal(pthread_create(&t[i], NULL, read_many, &a[i]), 0);
		}
		for (i = 0; i < 20; i++) /* writes meanwhile, through the one writer */
			assert_int_equal(cct_store_secret_put(st, "c/o/w", (const uint8_t *)"w", 1,
							      2 + i, &err), CCT_OK);
		for (i = 0; i < 8; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(a[i].ok, 50);
		}
		cct_store_free(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secrets_sealed_at_rest),
		cmocka_unit_test(sealed_row_bound_to_name_and_tamper_evident),
		cmocka_unit_test(nonce_is_single_use_and_expires),
		cmocka_unit_test(migrations_and_audit),
		cmocka_unit_test(master_key_encodings),
		cmocka_unit_test(sealed_service_keys),
		cmocka_unit_test(rows_authenticated_under_derived_key),
		cmocka_unit_test(group_commit_keeps_writes_apart_and_durable),
		cmocka_unit_test(sealed_session_layouts),
		cmocka_unit_test(attest_commit_all_or_nothing),
		cmocka_unit_test(attest_commit_inserts_row_and_cap_keeps_horizon),
		cmocka_unit_test(store_connections_option),
		cmocka_unit_test(rolled_back_rows_refused),
		cmocka_unit_test(deleted_rows_refused),
		cmocka_unit_test(concurrent_writes_are_not_roll_backs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
