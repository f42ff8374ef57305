/* PostgreSQL back end of the store (libpq): several cctrustd replicas share sessions, nonces,
 * resources, policies and audit. A small pool of connections, each with its own prepared
 * statements; migrations under an advisory lock keyed on a schema-version table; nonce
 * consumption is a single conditional UPDATE, so a nonce is used once across replicas.
 * Built only when libpq is found (CMake links PkgConfig::PQ into cctrustd). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/store.h"
#include "store/postgres.h"

#if defined(__has_include)
#if __has_include(<libpq-fe.h>)
#define HAVE_PQ 1
#endif
#endif

#ifdef HAVE_PQ
#include <jansson.h>
#include <libpq-fe.h>

#define MIGRATION_LOCK 0x63637472 /* "cctr" */

static const char *const migrations[] = {
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY, tee TEXT NOT NULL, nonce TEXT NOT NULL,"
	"  created BIGINT NOT NULL, expires BIGINT NOT NULL, nonce_used INT NOT NULL DEFAULT 0,"
	"  token TEXT, claims TEXT, tee_pubkey TEXT, evidence_digest TEXT);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	"CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, value BYTEA NOT NULL,"
	"  updated BIGINT NOT NULL, PRIMARY KEY (kind, name));"
	"CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, record TEXT NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const struct {
	const char *name, *sql;
	int nparams;
} stmts[] = {
	{ "session_put", "INSERT INTO sessions (id, tee, nonce, created, expires) "
			 "VALUES ($1, $2, $3, $4::bigint, $5::bigint)", 5 },
	{ "session_ensure", "INSERT INTO sessions (id, tee, nonce, created, expires) "
			    "VALUES ($1, $2, $3, $4::bigint, $5::bigint) ON CONFLICT (id) DO NOTHING",
	  5 },
	{ "session_get", "SELECT tee, nonce, created, expires, nonce_used, token, claims, "
			 "tee_pubkey, evidence_digest FROM sessions WHERE id = $1", 1 },
	{ "session_consume", "UPDATE sessions SET nonce_used = 1 WHERE id = $1 AND nonce = $2 "
			     "AND nonce_used = 0 AND expires > $3::bigint", 3 },
	{ "session_attested", "UPDATE sessions SET token = $2, claims = $3, tee_pubkey = $4, "
			      "evidence_digest = $5 WHERE id = $1 AND token IS NULL", 5 },
	{ "session_gc", "DELETE FROM sessions WHERE expires <= $1::bigint", 1 },
	{ "obj_put", "INSERT INTO objects (kind, name, value, updated) VALUES ($1, $2, $3, "
		     "$4::bigint) ON CONFLICT (kind, name) DO UPDATE SET value = EXCLUDED.value, "
		     "updated = EXCLUDED.updated", 4 },
	{ "obj_get", "SELECT value FROM objects WHERE kind = $1 AND name = $2", 2 },
	{ "obj_delete", "DELETE FROM objects WHERE kind = $1 AND name = $2", 2 },
	{ "obj_list", "SELECT name FROM objects WHERE kind = $1 ORDER BY name LIMIT 10000", 1 },
	{ "audit_append", "INSERT INTO audit (time, record) VALUES ($1::bigint, $2) RETURNING id",
	  2 },
	{ "audit_query", "SELECT id, time, record FROM audit WHERE id > $1::bigint ORDER BY id "
			 "LIMIT $2::int", 2 },
	{ "ping", "SELECT 1", 0 },
	{ "obj_create", "INSERT INTO objects (kind, name, value, updated) VALUES ($1, $2, $3, "
			"$4::bigint) ON CONFLICT (kind, name) DO NOTHING", 4 },
	{ "session_cap", "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY "
			 "created DESC, id OFFSET $1::bigint)", 1 },
	{ "session_horizon",
	  "INSERT INTO objects (kind, name, value, updated) SELECT '" CCT_STORE_KIND_SESSION_HORIZON
	  "', 'evicted', convert_to(created::text, 'UTF8'), $2::bigint FROM (SELECT created FROM "
	  "sessions ORDER BY created DESC, id OFFSET $1::bigint LIMIT 1) s ON CONFLICT (kind, name) "
	  "DO UPDATE SET value = CASE WHEN convert_from(EXCLUDED.value, 'UTF8')::bigint > "
	  "convert_from(objects.value, 'UTF8')::bigint THEN EXCLUDED.value ELSE objects.value END, "
	  "updated = EXCLUDED.updated", 2 },
	{ "session_count", "SELECT count(*) FROM sessions", 0 },
	{ "audit_prune", "DELETE FROM audit WHERE time < $1::bigint", 1 },
};

typedef struct pg {
	PGconn **c;
	pthread_mutex_t *lock;
	unsigned n; /* connections (cct_store_open_opts.connections) */
	unsigned next;
	pthread_mutex_t next_lock;
} pg;

static int prepare_all(PGconn *c)
{
	size_t i;

	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		PGresult *r = PQprepare(c, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

/* A locked, live connection index. */
static int acquire(pg *p)
{
	unsigned i, start;

	pthread_mutex_lock(&p->next_lock);
	start = p->next++;
	pthread_mutex_unlock(&p->next_lock);
	for (i = 0; i < p->n; i++)
		if (pthread_mutex_trylock(&p->lock[(start + i) % p->n]) == 0)
			return (int)((start + i) % p->n);
	pthread_mutex_lock(&p->lock[start % p->n]);
	return (int)(start % p->n);
}

static void release(pg *p, int i)
{
	pthread_mutex_unlock(&p->lock[i]);
}

/* Reconnect connection ci and prepare its statements again: 0, or -1. */
static int reconnect(pg *p, int ci)
{
	PQreset(p->c[ci]);
	return PQstatus(p->c[ci]) == CONNECTION_OK && !prepare_all(p->c[ci]) ? 0 : -1;
}

/* Run prepared statement (results as text, or binary); reconnect once if the connection
 * dropped. */
static PGresult *run_as(pg *p, int ci, const char *name, int n, const char *const *vals,
			const int *lens, const int *fmts, int binary)
{
	PGresult *r = PQexecPrepared(p->c[ci], name, n, vals, lens, fmts, binary);

	if (PQstatus(p->c[ci]) == CONNECTION_BAD) {
		PQclear(r);
		if (reconnect(p, ci))
			return NULL;
		r = PQexecPrepared(p->c[ci], name, n, vals, lens, fmts, binary);
	}
	return r;
}

static PGresult *run(pg *p, int ci, const char *name, int n, const char *const *vals,
		     const int *lens, const int *fmts)
{
	return run_as(p, ci, name, n, vals, lens, fmts, 0);
}

static int pgerr(pg *p, int ci, PGresult *r, cct_err *err, const char *what)
{
	return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "postgres %s: %.160s", what,
			   r ? PQresultErrorMessage(r) : PQerrorMessage(p->c[ci]));
}

static int exec_cmd(pg *p, const char *name, int n, const char *const *v, const int *lens,
		    const int *fmts, int want_rows, int *affected, cct_err *err, const char *what)
{
	int ci = acquire(p), rc;
	PGresult *r = run(p, ci, name, n, v, lens, fmts);

	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = pgerr(p, ci, r, err, what);
	} else {
		rc = CCT_OK;
		if (affected)
			*affected = atoi(PQcmdTuples(r));
	}
	(void)want_rows;
	PQclear(r);
	release(p, ci);
	return rc;
}

static int pq_session_put(void *impl, const cct_store_session *s, cct_err *err)
{
	char c[24], e[24];
	const char *v[5] = { s->id, s->tee, s->nonce, c, e };

	snprintf(c, sizeof(c), "%lld", (long long)s->created);
	snprintf(e, sizeof(e), "%lld", (long long)s->expires);
	return exec_cmd(impl, "session_put", 5, v, NULL, NULL, 0, NULL, err, "session insert");
}

static char *dupv(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? NULL : strdup(PQgetvalue(r, 0, col));
}

static int pq_session_get(void *impl, const char *id, cct_store_session *out, cct_err *err)
{
	pg *p = impl;
	const char *v[1] = { id };
	int ci = acquire(p), rc;
	PGresult *r = run(p, ci, "session_get", 1, v, NULL, NULL);

	memset(out, 0, sizeof(*out));
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pgerr(p, ci, r, err, "session read");
	} else if (PQntuples(r) != 1) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no such session");
	} else {
		snprintf(out->id, sizeof(out->id), "%s", id);
		snprintf(out->tee, sizeof(out->tee), "%s", PQgetvalue(r, 0, 0));
		snprintf(out->nonce, sizeof(out->nonce), "%s", PQgetvalue(r, 0, 1));
		out->created = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		out->expires = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
		out->nonce_used = atoi(PQgetvalue(r, 0, 4));
		out->token = dupv(r, 5);
		out->claims = dupv(r, 6);
		out->tee_pubkey = dupv(r, 7);
		snprintf(out->evidence_digest, sizeof(out->evidence_digest), "%s",
			 PQgetvalue(r, 0, 8));
		rc = CCT_OK;
	}
	PQclear(r);
	release(p, ci);
	return rc;
}

static int pq_session_consume(void *impl, const char *id, const char *nonce, int64_t now,
			      cct_err *err)
{
	char t[24];
	const char *v[3] = { id, nonce, t };
	int n = 0, rc;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	rc = exec_cmd(impl, "session_consume", 3, v, NULL, NULL, 0, &n, err, "nonce update");
	if (rc == CCT_OK && n != 1)
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
				 "nonce already used, not this session's, or the session expired");
	return rc;
}

static int pq_session_attested(void *impl, const char *id, const char *token,
			       const char *claims, const char *pub, const char *digest,
			       cct_err *err)
{
	const char *v[5] = { id, token, claims, pub, digest };
	int n = 0, rc = exec_cmd(impl, "session_attested", 5, v, NULL, NULL, 0, &n, err,
				 "session update");

	if (rc == CCT_OK && n != 1)
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "no such session, or it is attested already");
	return rc;
}

static int pq_session_gc(void *impl, int64_t now, cct_err *err)
{
	char t[24];
	const char *v[1] = { t };

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return exec_cmd(impl, "session_gc", 1, v, NULL, NULL, 0, NULL, err, "session gc");
}

static int pq_obj_put(void *impl, const char *kind, const char *name, const uint8_t *val,
		      size_t n, int64_t now, cct_err *err)
{
	char t[24];
	const char *v[4] = { kind, name, n ? (const char *)val : "", t };
	int lens[4] = { 0, 0, (int)n, 0 }, fmts[4] = { 0, 0, 1, 0 };

	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	snprintf(t, sizeof(t), "%lld", (long long)now);
	return exec_cmd(impl, "obj_put", 4, v, lens, fmts, 0, NULL, err, "object write");
}

static int pq_obj_create(void *impl, const char *kind, const char *name, const uint8_t *val,
			 size_t n, int64_t now, int *created, cct_err *err)
{
	char t[24];
	const char *v[4] = { kind, name, n ? (const char *)val : "", t };
	int lens[4] = { 0, 0, (int)n, 0 }, fmts[4] = { 0, 0, 1, 0 }, rows = 0, rc;

	*created = 0;
	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	snprintf(t, sizeof(t), "%lld", (long long)now);
	rc = exec_cmd(impl, "obj_create", 4, v, lens, fmts, 0, &rows, err, "object create");
	if (rc == CCT_OK)
		*created = rows == 1;
	return rc;
}

static int pq_obj_get(void *impl, const char *kind, const char *name, uint8_t **val, size_t *n,
		      cct_err *err)
{
	pg *p = impl;
	const char *v[2] = { kind, name };
	int ci = acquire(p), rc;
	PGresult *r;

	*val = NULL;
	*n = 0;
	/* result in binary so BYTEA arrives as raw bytes */
	r = run_as(p, ci, "obj_get", 2, v, NULL, NULL, 1);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pgerr(p, ci, r, err, "object read");
	} else if (PQntuples(r) != 1) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind, name);
	} else {
		int len = PQgetlength(r, 0, 0);

		*val = malloc((size_t)len + 1);
		if (!*val) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		} else {
			memcpy(*val, PQgetvalue(r, 0, 0), (size_t)len);
			(*val)[len] = 0;
			*n = (size_t)len;
			rc = CCT_OK;
		}
	}
	PQclear(r);
	release(p, ci);
	return rc;
}

static int pq_obj_delete(void *impl, const char *kind, const char *name, cct_err *err)
{
	const char *v[2] = { kind, name };
	int n = 0, rc = exec_cmd(impl, "obj_delete", 2, v, NULL, NULL, 0, &n, err, "delete");

	if (rc == CCT_OK && n != 1)
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind, name);
	return rc;
}

static int pq_obj_list(void *impl, const char *kind, char **json_out, cct_err *err)
{
	pg *p = impl;
	const char *v[1] = { kind };
	int ci = acquire(p), rc = CCT_OK, i;
	PGresult *r = run(p, ci, "obj_list", 1, v, NULL, NULL);
	json_t *arr = json_array();

	*json_out = NULL;
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pgerr(p, ci, r, err, "object list");
	else
		for (i = 0; i < PQntuples(r); i++)
			json_array_append_new(arr, json_string(PQgetvalue(r, i, 0)));
	PQclear(r);
	release(p, ci);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

/* Run the prepared statement name, whose answer is one row of one integer (*out, may be NULL). */
static int query_int(pg *p, const char *name, int n, const char *const *vals, int64_t *out,
		     const char *what, cct_err *err)
{
	int ci = acquire(p), rc;
	PGresult *r = run(p, ci, name, n, vals, NULL, NULL);

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		rc = pgerr(p, ci, r, err, what);
	} else {
		if (out)
			*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = CCT_OK;
	}
	PQclear(r);
	release(p, ci);
	return rc;
}

static int pq_audit_append(void *impl, int64_t time, const char *rec, int64_t *id_out,
			   cct_err *err)
{
	char t[24];
	const char *v[2] = { t, rec };

	snprintf(t, sizeof(t), "%lld", (long long)time);
	return query_int(impl, "audit_append", 2, v, id_out, "audit append", err);
}

static int pq_audit_query(void *impl, int64_t after, int limit, char **json_out, cct_err *err)
{
	pg *p = impl;
	char a[24], l[16];
	const char *v[2] = { a, l };
	int ci, rc = CCT_OK, i;
	PGresult *r;
	json_t *arr = json_array();

	*json_out = NULL;
	if (limit <= 0 || limit > CCT_STORE_MAX_AUDIT)
		limit = CCT_STORE_MAX_AUDIT;
	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(l, sizeof(l), "%d", limit);
	ci = acquire(p);
	r = run(p, ci, "audit_query", 2, v, NULL, NULL);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pgerr(p, ci, r, err, "audit query");
	} else {
		for (i = 0; i < PQntuples(r); i++) {
			json_t *rec = json_loads(PQgetvalue(r, i, 2), 0, NULL);

			if (!json_is_object(rec)) {
				json_decref(rec);
				rec = json_object();
			}
			json_object_set_new(rec, "id",
					    json_integer(strtoll(PQgetvalue(r, i, 0), NULL, 10)));
			json_object_set_new(rec, "time",
					    json_integer(strtoll(PQgetvalue(r, i, 1), NULL, 10)));
			json_array_append_new(arr, rec);
		}
	}
	PQclear(r);
	release(p, ci);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

static int pq_ping(void *impl)
{
	pg *p = impl;
	int ci = acquire(p);
	PGresult *r = run(p, ci, "ping", 0, NULL, NULL, NULL);
	int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	release(p, ci);
	return ok;
}

static void pq_close(void *impl)
{
	pg *p = impl;
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		if (p->c[i])
			PQfinish(p->c[i]);
		pthread_mutex_destroy(&p->lock[i]);
	}
	pthread_mutex_destroy(&p->next_lock);
	free(p->c);
	free(p->lock);
	free(p);
}

static int pq_session_prune(void *impl, int64_t now, int64_t max_rows, int64_t *remaining,
			    cct_err *err)
{
	pg *p = impl;
	char t[24];
	const char *v[1] = { t };
	int rc;

	if ((rc = pq_session_gc(impl, now, err)) != CCT_OK)
		return rc;
	if (max_rows > 0) {
		char tn[24];
		const char *vh[2] = { t, tn };

		snprintf(t, sizeof(t), "%lld", (long long)max_rows);
		snprintf(tn, sizeof(tn), "%lld", (long long)now);
		/* the eviction horizon first: a crash between the two leaves it set, never short */
		if ((rc = exec_cmd(impl, "session_horizon", 2, vh, NULL, NULL, 0, NULL, err,
				   "session horizon")) != CCT_OK ||
		    (rc = exec_cmd(impl, "session_cap", 1, v, NULL, NULL, 0, NULL, err,
				   "session cap")) != CCT_OK)
			return rc;
	}
	return query_int(p, "session_count", 0, NULL, remaining, "session count", err);
}

static int pq_audit_prune(void *impl, int64_t before, cct_err *err)
{
	char t[24];
	const char *v[1] = { t };

	snprintf(t, sizeof(t), "%lld", (long long)before);
	return exec_cmd(impl, "audit_prune", 1, v, NULL, NULL, 0, NULL, err, "audit prune");
}

static int simple(PGconn *c, const char *sql);

/* Run one prepared statement on connection ci inside an open transaction (no reconnect: a
 * dropped connection loses the transaction, so the whole write fails). Rows affected in *n. */
static int tx_cmd(pg *p, int ci, const char *name, int nparams, const char *const *v,
		  ExecStatusType want, int *n, cct_err *err, const char *what)
{
	PGresult *r = PQexecPrepared(p->c[ci], name, nparams, v, NULL, NULL, 0);
	int rc = r && PQresultStatus(r) == want ? CCT_OK : pgerr(p, ci, r, err, what);

	if (rc == CCT_OK && n)
		*n = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
}

/* The session's row (unless it exists), nonce spent, attested state set and audit record
 * appended in one transaction, committed lazily (below). */
static int pq_session_attest_commit(void *impl, const cct_store_session *ss, int64_t now,
				    const char *token, const char *claims, const char *pub,
				    const char *digest, int64_t audit_time, const char *record,
				    cct_err *err)
{
	pg *p = impl;
	char t[24], at[24], cr[24], ex[24];
	const char *id = ss->id, *nonce = ss->nonce;
	const char *vc[3] = { id, nonce, t }, *va[5] = { id, token, claims, pub, digest };
	const char *vr[2] = { at, record }, *ve[5] = { id, ss->tee, nonce, cr, ex };
	int ci = acquire(p), rc, n = 0;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	snprintf(at, sizeof(at), "%lld", (long long)audit_time);
	snprintf(cr, sizeof(cr), "%lld", (long long)ss->created);
	snprintf(ex, sizeof(ex), "%lld", (long long)ss->expires);
	if (PQstatus(p->c[ci]) != CONNECTION_OK && reconnect(p, ci)) {
		rc = pgerr(p, ci, NULL, err, "reconnect");
		release(p, ci);
		return rc;
	}
	/* lazy, as on SQLite (sqlite.c says why): the commit does not wait for its WAL flush; the
	 * next synchronous commit on the server (a release's audit record) flushes it too */
	if (simple(p->c[ci], "BEGIN; SET LOCAL synchronous_commit TO OFF")) {
		rc = pgerr(p, ci, NULL, err, "begin");
		simple(p->c[ci], "ROLLBACK");
		release(p, ci);
		return rc;
	}
	rc = tx_cmd(p, ci, "session_ensure", 5, ve, PGRES_COMMAND_OK, NULL, err, "session insert");
	if (rc == CCT_OK)
		rc = tx_cmd(p, ci, "session_consume", 3, vc, PGRES_COMMAND_OK, &n, err,
			    "nonce update");
	if (rc == CCT_OK && n != 1)
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
				 "nonce already used, not this session's, or the session expired");
	if (rc == CCT_OK &&
	    (rc = tx_cmd(p, ci, "session_attested", 5, va, PGRES_COMMAND_OK, &n, err,
			 "session update")) == CCT_OK &&
	    n != 1)
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "no such session, or it is attested already");
	if (rc == CCT_OK)
		rc = tx_cmd(p, ci, "audit_append", 2, vr, PGRES_TUPLES_OK, NULL, err,
			    "audit append");
	if (rc == CCT_OK && simple(p->c[ci], "COMMIT"))
		rc = pgerr(p, ci, NULL, err, "commit");
	else if (rc != CCT_OK)
		simple(p->c[ci], "ROLLBACK");
	release(p, ci);
	return rc;
}

static const cct_store_ops pg_ops = {
	.session_prune = pq_session_prune,
	.audit_prune = pq_audit_prune,
	.name = "postgres",
	.session_put = pq_session_put,
	.session_get = pq_session_get,
	.session_consume_nonce = pq_session_consume,
	.session_set_attested = pq_session_attested,
	.session_gc = pq_session_gc,
	.obj_put = pq_obj_put,
	.obj_get = pq_obj_get,
	.obj_delete = pq_obj_delete,
	.obj_list = pq_obj_list,
	.audit_append = pq_audit_append,
	.audit_query = pq_audit_query,
	.ping = pq_ping,
	.close = pq_close,
	.obj_create = pq_obj_create,
	.session_attest_commit = pq_session_attest_commit,
};

static int simple(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok ? 0 : -1;
}

static int migrate(PGconn *c, cct_err *err)
{
	PGresult *r;
	int ver, i;
	char lock[96];

	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", MIGRATION_LOCK);
	if (simple(c, "BEGIN") || simple(c, lock) ||
	    simple(c, "CREATE TABLE IF NOT EXISTS cctrust_schema (version INT NOT NULL)"))
		goto fail;
	r = PQexec(c, "SELECT version FROM cctrust_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		goto fail;
	}
	ver = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	if (ver > SCHEMA_VERSION) {
		simple(c, "ROLLBACK");
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				   "postgres schema version %d is newer than this build (%d)", ver,
				   SCHEMA_VERSION);
	}
	for (i = ver; i < SCHEMA_VERSION; i++)
		if (simple(c, migrations[i]))
			goto fail;
	if (ver != SCHEMA_VERSION) {
		char set[96];

		snprintf(set, sizeof(set), "%s cctrust_schema %s%d",
			 ver ? "UPDATE" : "INSERT INTO", ver ? "SET version = " : "VALUES (",
			 SCHEMA_VERSION);
		if (!ver)
			strcat(set, ")");
		if (simple(c, set))
			goto fail;
	}
	if (simple(c, "COMMIT"))
		goto fail;
	return CCT_OK;
fail:
	{
		int rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "postgres migration: %.160s",
				     PQerrorMessage(c));

		simple(c, "ROLLBACK");
		return rc;
	}
}

static int pg_open(const cct_store_ops **ops, void **impl, const char *url, unsigned conns,
		   cct_err *err)
{
	pg *p = calloc(1, sizeof(*p));
	unsigned i;
	int rc;

	if (!p)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	pthread_mutex_init(&p->next_lock, NULL);
	if (conns < 1 || conns > CCT_STORE_CONNECTIONS_MAX) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "postgres: %u connections: expected 1..%d", conns,
				 CCT_STORE_CONNECTIONS_MAX);
		goto fail;
	}
	p->c = calloc(conns, sizeof(*p->c));
	p->lock = calloc(conns, sizeof(*p->lock));
	if (!p->c || !p->lock) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto fail;
	}
	p->n = conns;
	for (i = 0; i < p->n; i++)
		pthread_mutex_init(&p->lock[i], NULL);
	for (i = 0; i < p->n; i++) {
		p->c[i] = PQconnectdb(url);
		if (PQstatus(p->c[i]) != CONNECTION_OK) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "postgres connect: %.160s",
					 PQerrorMessage(p->c[i]));
			goto fail;
		}
		if (i == 0 && (rc = migrate(p->c[0], err)) != CCT_OK)
			goto fail;
		if (prepare_all(p->c[i])) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "postgres prepare: %.160s",
					 PQerrorMessage(p->c[i]));
			goto fail;
		}
	}
	*ops = &pg_ops;
	*impl = p;
	return CCT_OK;
fail:
	pq_close(p);
	return rc;
}

int cct_store_postgres_register(void)
{
	cct_store_register("postgres://", pg_open);
	cct_store_register("postgresql://", pg_open);
	return 1;
}

int cct_store_postgres_has_password(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	int found = 0;

	for (o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val)
			found = 1;
	PQconninfoFree(opts);
	return found;
}

#else

int cct_store_postgres_register(void)
{
	return 0;
}

int cct_store_postgres_has_password(const char *conninfo)
{
	(void)conninfo;
	return 0;
}

#endif
