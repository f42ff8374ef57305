#define _GNU_SOURCE
/* SQLite back end of the store: one file, WAL, synchronous=FULL (an acknowledged write survives
 * kill -9 and power loss), one connection serialized by a mutex, prepared statements only,
 * migrations keyed on PRAGMA user_version. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cctrust/store.h"

/* Migration i brings user_version from i to i+1. Only ever append. */
static const char *const migrations[] = {
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY, tee TEXT NOT NULL, nonce TEXT NOT NULL,"
	"  created INTEGER NOT NULL, expires INTEGER NOT NULL,"
	"  nonce_used INTEGER NOT NULL DEFAULT 0,"
	"  token TEXT, claims TEXT, tee_pubkey TEXT, evidence_digest TEXT);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	"CREATE TABLE objects ("
	"  kind TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
	"  updated INTEGER NOT NULL, PRIMARY KEY (kind, name));"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, record TEXT NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum {
	Q_SESSION_PUT,
	Q_SESSION_GET,
	Q_SESSION_CONSUME,
	Q_SESSION_ATTESTED,
	Q_SESSION_GC,
	Q_OBJ_PUT,
	Q_OBJ_GET,
	Q_OBJ_DELETE,
	Q_OBJ_LIST,
	Q_AUDIT_APPEND,
	Q_AUDIT_QUERY,
	Q_PING,
	Q_OBJ_CREATE,
	Q_SESSION_CAP,
	Q_SESSION_COUNT,
	Q_AUDIT_PRUNE,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_SESSION_PUT] = "INSERT INTO sessions (id, tee, nonce, created, expires, nonce_used) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, 0)",
	[Q_SESSION_GET] = "SELECT tee, nonce, created, expires, nonce_used, token, claims, "
			  "tee_pubkey, evidence_digest FROM sessions WHERE id = ?1",
	[Q_SESSION_CONSUME] = "UPDATE sessions SET nonce_used = 1 WHERE id = ?1 AND nonce = ?2 "
			      "AND nonce_used = 0 AND expires > ?3",
	[Q_SESSION_ATTESTED] = "UPDATE sessions SET token = ?2, claims = ?3, tee_pubkey = ?4, "
			       "evidence_digest = ?5 WHERE id = ?1 AND token IS NULL",
	[Q_SESSION_GC] = "DELETE FROM sessions WHERE expires <= ?1",
	[Q_OBJ_PUT] = "INSERT INTO objects (kind, name, value, updated) VALUES (?1, ?2, ?3, ?4) "
		      "ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value, "
		      "updated = excluded.updated",
	[Q_OBJ_GET] = "SELECT value FROM objects WHERE kind = ?1 AND name = ?2",
	[Q_OBJ_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
	[Q_OBJ_LIST] = "SELECT name FROM objects WHERE kind = ?1 ORDER BY name LIMIT 10000",
	[Q_AUDIT_APPEND] = "INSERT INTO audit (time, record) VALUES (?1, ?2)",
	[Q_AUDIT_QUERY] = "SELECT id, time, record FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
	[Q_PING] = "SELECT 1",
	[Q_OBJ_CREATE] = "INSERT INTO objects (kind, name, value, updated) VALUES (?1, ?2, ?3, ?4) "
			 "ON CONFLICT (kind, name) DO NOTHING",
	[Q_SESSION_CAP] = "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY "
			  "created DESC, id LIMIT -1 OFFSET ?1)",
	[Q_SESSION_COUNT] = "SELECT count(*) FROM sessions",
	[Q_AUDIT_PRUNE] = "DELETE FROM audit WHERE time < ?1",
};

typedef struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
	pthread_mutex_t lock;
} sq;

static int dberr(sq *s, cct_err *err, const char *what)
{
	return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "sqlite %s: %s", what,
			   s->db ? sqlite3_errmsg(s->db) : "no database");
}

/* Lock and reset statement q; return it. */
static sqlite3_stmt *begin(sq *s, int q)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_reset(s->st[q]);
	sqlite3_clear_bindings(s->st[q]);
	return s->st[q];
}

static void end(sq *s, int q)
{
	sqlite3_reset(s->st[q]);
	sqlite3_clear_bindings(s->st[q]);
	pthread_mutex_unlock(&s->lock);
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static int sq_session_put(void *impl, const cct_store_session *ss, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_SESSION_PUT);
	int rc;

	sqlite3_bind_text(st, 1, ss->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ss->tee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ss->nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ss->created);
	sqlite3_bind_int64(st, 5, ss->expires);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "session insert");
	end(s, Q_SESSION_PUT);
	return rc;
}

static void copy_str(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static int sq_session_get(void *impl, const char *id, cct_store_session *out, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_SESSION_GET);
	int rc, r;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(out->id, sizeof(out->id), "%s", id);
		copy_str(out->tee, sizeof(out->tee), sqlite3_column_text(st, 0));
		copy_str(out->nonce, sizeof(out->nonce), sqlite3_column_text(st, 1));
		out->created = sqlite3_column_int64(st, 2);
		out->expires = sqlite3_column_int64(st, 3);
		out->nonce_used = sqlite3_column_int(st, 4);
		out->token = dup_col(st, 5);
		out->claims = dup_col(st, 6);
		out->tee_pubkey = dup_col(st, 7);
		copy_str(out->evidence_digest, sizeof(out->evidence_digest),
			 sqlite3_column_text(st, 8));
		rc = CCT_OK;
	} else if (r == SQLITE_DONE) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no such session");
	} else {
		rc = dberr(s, err, "session read");
	}
	end(s, Q_SESSION_GET);
	return rc;
}

static int sq_session_consume(void *impl, const char *id, const char *nonce, int64_t now,
			      cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_SESSION_CONSUME);
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "nonce update");
	else if (sqlite3_changes(s->db) != 1)
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
				 "nonce already used, not this session's, or the session expired");
	else
		rc = CCT_OK;
	end(s, Q_SESSION_CONSUME);
	return rc;
}

static int sq_session_attested(void *impl, const char *id, const char *token,
			       const char *claims, const char *tee_pubkey, const char *digest,
			       cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_SESSION_ATTESTED);
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, claims, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tee_pubkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "session update");
	else
		rc = sqlite3_changes(s->db) == 1
			     ? CCT_OK
			     : cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
					   "no such session, or it is attested already");
	end(s, Q_SESSION_ATTESTED);
	return rc;
}

static int sq_session_gc(void *impl, int64_t now, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_SESSION_GC);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "session gc");
	end(s, Q_SESSION_GC);
	return rc;
}

static int sq_obj_put(void *impl, const char *kind, const char *name, const uint8_t *v, size_t n,
		      int64_t now, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st;
	int rc;

	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	st = begin(s, Q_OBJ_PUT);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, n ? (const void *)v : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "object write");
	end(s, Q_OBJ_PUT);
	return rc;
}

static int sq_obj_create(void *impl, const char *kind, const char *name, const uint8_t *v,
			 size_t n, int64_t now, int *created, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st;
	int rc;

	*created = 0;
	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	st = begin(s, Q_OBJ_CREATE);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, n ? (const void *)v : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "object create");
	if (rc == CCT_OK)
		*created = sqlite3_changes(s->db) == 1;
	end(s, Q_OBJ_CREATE);
	return rc;
}

static int sq_obj_get(void *impl, const char *kind, const char *name, uint8_t **v, size_t *n,
		      cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_OBJ_GET);
	int rc, r;

	*v = NULL;
	*n = 0;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		int len = sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);

		*v = malloc((size_t)len + 1);
		if (!*v) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		} else {
			if (len)
				memcpy(*v, p, (size_t)len);
			(*v)[len] = 0;
			*n = (size_t)len;
			rc = CCT_OK;
		}
	} else if (r == SQLITE_DONE) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind, name);
	} else {
		rc = dberr(s, err, "object read");
	}
	end(s, Q_OBJ_GET);
	return rc;
}

static int sq_obj_delete(void *impl, const char *kind, const char *name, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_OBJ_DELETE);
	int rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "object delete");
	else
		rc = sqlite3_changes(s->db) == 1
			     ? CCT_OK
			     : cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s",
					   kind, name);
	end(s, Q_OBJ_DELETE);
	return rc;
}

static int sq_obj_list(void *impl, const char *kind, char **json_out, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_OBJ_LIST);
	json_t *arr = json_array();
	int rc = CCT_OK, r;

	*json_out = NULL;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "object list");
	end(s, Q_OBJ_LIST);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

static int sq_audit_append(void *impl, int64_t time, const char *record, int64_t *id_out,
			   cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_AUDIT_APPEND);
	int rc;

	sqlite3_bind_int64(st, 1, time);
	sqlite3_bind_text(st, 2, record, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "audit append");
	if (rc == CCT_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	end(s, Q_AUDIT_APPEND);
	return rc;
}

static int sq_audit_query(void *impl, int64_t after, int limit, char **json_out, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_AUDIT_QUERY);
	json_t *arr = json_array();
	int rc = CCT_OK, r;

	*json_out = NULL;
	if (limit <= 0 || limit > CCT_STORE_MAX_AUDIT)
		limit = CCT_STORE_MAX_AUDIT;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *rec = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);

		if (!json_is_object(rec)) {
			json_decref(rec);
			rec = json_object();
		}
		json_object_set_new(rec, "id", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(rec, "time", json_integer(sqlite3_column_int64(st, 1)));
		json_array_append_new(arr, rec);
	}
	if (r != SQLITE_DONE)
		rc = dberr(s, err, "audit query");
	end(s, Q_AUDIT_QUERY);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

static int sq_ping(void *impl)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_PING);
	int ok = sqlite3_step(st) == SQLITE_ROW;

	end(s, Q_PING);
	return ok;
}

static void sq_close(void *impl)
{
	sq *s = impl;
	int i;

	if (!s)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sq_session_prune(void *impl, int64_t now, int64_t max_rows, int64_t *remaining,
			    cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sq_session_gc(impl, now, err)) != CCT_OK)
		return rc;
	if (max_rows > 0) {
		st = begin(s, Q_SESSION_CAP);
		sqlite3_bind_int64(st, 1, max_rows);
		rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "session cap");
		end(s, Q_SESSION_CAP);
		if (rc != CCT_OK)
			return rc;
	}
	st = begin(s, Q_SESSION_COUNT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (remaining)
			*remaining = sqlite3_column_int64(st, 0);
	} else {
		rc = dberr(s, err, "session count");
	}
	end(s, Q_SESSION_COUNT);
	return rc;
}

static int sq_audit_prune(void *impl, int64_t before, cct_err *err)
{
	sq *s = impl;
	sqlite3_stmt *st = begin(s, Q_AUDIT_PRUNE);
	int rc;

	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "audit prune");
	end(s, Q_AUDIT_PRUNE);
	return rc;
}

static const cct_store_ops sqlite_ops = {
	.session_prune = sq_session_prune,
	.audit_prune = sq_audit_prune,
	.name = "sqlite",
	.session_put = sq_session_put,
	.session_get = sq_session_get,
	.session_consume_nonce = sq_session_consume,
	.session_set_attested = sq_session_attested,
	.session_gc = sq_session_gc,
	.obj_put = sq_obj_put,
	.obj_get = sq_obj_get,
	.obj_delete = sq_obj_delete,
	.obj_list = sq_obj_list,
	.audit_append = sq_audit_append,
	.audit_query = sq_audit_query,
	.ping = sq_ping,
	.close = sq_close,
	.obj_create = sq_obj_create,
};

static int exec(sq *s, const char *q, cct_err *err)
{
	char *msg = NULL;
	int rc = CCT_OK;

	if (sqlite3_exec(s->db, q, NULL, NULL, &msg) != SQLITE_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "sqlite: %s",
				 msg ? msg : "exec failed");
	sqlite3_free(msg);
	return rc;
}

static int migrate(sq *s, cct_err *err)
{
	sqlite3_stmt *st = NULL;
	int ver = -1, rc;
	char setver[64];

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return dberr(s, err, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver < 0)
		return dberr(s, err, "user_version");
	if (ver > SCHEMA_VERSION)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				   "database schema version %d is newer than this build (%d)", ver,
				   SCHEMA_VERSION);
	for (; ver < SCHEMA_VERSION; ver++) {
		/* each step is one transaction: a crash leaves the old or the new version */
		snprintf(setver, sizeof(setver), "PRAGMA user_version = %d;", ver + 1);
		if ((rc = exec(s, "BEGIN IMMEDIATE", err)) != CCT_OK)
			return rc;
		if ((rc = exec(s, migrations[ver], err)) != CCT_OK ||
		    (rc = exec(s, setver, err)) != CCT_OK) {
			exec(s, "ROLLBACK", NULL);
			return rc;
		}
		if ((rc = exec(s, "COMMIT", err)) != CCT_OK)
			return rc;
	}
	return CCT_OK;
}

int cct_store_sqlite_open(const cct_store_ops **ops, void **impl, const char *path,
			  cct_err *err)
{
	sq *s = calloc(1, sizeof(*s));
	int i, rc = CCT_ERROR;

	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	if (!path || !*path) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "sqlite: empty path");
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = dberr(s, err, "open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if ((rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
			  "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
		       err)) != CCT_OK ||
	    (rc = migrate(s, err)) != CCT_OK)
		goto fail;
	for (i = 0; i < Q_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			rc = dberr(s, err, "prepare");
			goto fail;
		}
	}
	*ops = &sqlite_ops;
	*impl = s;
	return CCT_OK;
fail:
	sq_close(s);
	return rc;
}
