#define _GNU_SOURCE
/* SQLite back end of the store: one file, WAL, synchronous=FULL (an acknowledged write survives
 * kill -9 and power loss), prepared statements only, migrations keyed on PRAGMA user_version.
 *
 * Concurrency: one writer connection and a few reader connections. WAL lets readers run while
 * the writer commits, so a request's reads never wait behind another request's fsync. Writes
 * use group commit: each write runs inside the writer's open transaction and returns only once
 * a COMMIT holding it is durable; the first writer of a batch commits it after the writers
 * already queued behind it have added theirs, so concurrent requests share one fsync instead
 * of taking turns at one each. A batch whose COMMIT fails fails every write in it (none is
 * acknowledged without being stored).
 *
 * One kind of write is lazy: a session's attest commit (session row, nonce spent, sealed
 * attested state, attestation audit record) commits with synchronous=NORMAL, without an fsync
 * of its own. It survives kill -9 at once (the WAL is in the page cache) and power loss from
 * the next durable commit on: the WAL is one ordered log, so the fsync of any later batch (the
 * release's audit record, which every secret waits for) makes every earlier frame durable.
 * What a power loss can take is attestations that no release or other durable write followed;
 * their guests attest again. A lazy write joins an open durable batch; a durable write waits
 * for an open lazy batch to commit and opens its own, so it never shares a lazy COMMIT. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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
	Q_SESSION_ENSURE,
	Q_SESSION_HORIZON,
	/* the writer's transaction control, prepared once like the rest (sqlite3_exec would
	 * compile each of them again for every batch) */
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_COUNT
};

static const char *const sql[Q_COUNT] = {
	[Q_SESSION_PUT] = "INSERT INTO sessions (id, tee, nonce, created, expires, nonce_used) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, 0)",
	[Q_SESSION_ENSURE] = "INSERT INTO sessions (id, tee, nonce, created, expires, nonce_used) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT (id) DO NOTHING",
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
	/* before the cap: the creation time of the newest row it evicts (never lowered) */
	[Q_SESSION_HORIZON] =
		"INSERT INTO objects (kind, name, value, updated) SELECT '"
		CCT_STORE_KIND_SESSION_HORIZON "', 'evicted', CAST(created AS TEXT), ?2 FROM "
		"(SELECT created FROM sessions ORDER BY created DESC, id LIMIT 1 OFFSET ?1) WHERE 1 "
		"ON CONFLICT (kind, name) DO UPDATE SET value = CASE WHEN CAST(excluded.value AS "
		"INTEGER) > CAST(objects.value AS INTEGER) THEN excluded.value ELSE objects.value "
		"END, updated = excluded.updated",
	[Q_SESSION_COUNT] = "SELECT count(*) FROM sessions",
	[Q_AUDIT_PRUNE] = "DELETE FROM audit WHERE time < ?1",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT attest",
	[Q_RELEASE] = "RELEASE attest",
	[Q_ROLLBACK_TO] = "ROLLBACK TO attest",
};

/* statements run on the reader connections; every other one is a write */
static int is_read(int q)
{
	return q == Q_SESSION_GET || q == Q_OBJ_GET || q == Q_OBJ_LIST || q == Q_AUDIT_QUERY ||
	       q == Q_PING || q == Q_SESSION_COUNT;
}

#define SQ_JOIN_SPINS 64 /* yields a batch leader waits for queued writers to join */

typedef struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
	pthread_mutex_t lock;
} sq_conn;

typedef struct sq {
	sq_conn w;                /* the writer; its lock also guards the batch state below */
	sq_conn *r;               /* readers; none for an in-memory database (reads use w) */
	int nreaders, nalloc;     /* open readers; reader slots (locks initialised) */
	atomic_uint next_reader;
	atomic_int arriving;      /* writers between arrival and the writer lock */
	pthread_cond_t batch_done;
	int txn_open, leader, broken;
	int batch_lazy;  /* the open batch commits without an fsync (only lazy writes joined) */
	int sync_normal; /* the writer's PRAGMA synchronous is NORMAL (else FULL) */
	int durable_waiting; /* durable writers waiting for a lazy batch to commit */
	uint64_t batch, done, failed; /* open batch id, last finished, last failed */
} sq;

static int dberr_db(sqlite3 *db, cct_err *err, const char *what)
{
	return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "sqlite %s: %s", what,
			   db ? sqlite3_errmsg(db) : "no database");
}

static int dberr(sq *s, cct_err *err, const char *what)
{
	return dberr_db(s->w.db, err, what);
}

static void stmt_reset(sq_conn *c, int q)
{
	sqlite3_reset(c->st[q]);
	sqlite3_clear_bindings(c->st[q]);
}

/* Run one transaction-control statement of the writer: SQLITE_OK or the error (the message
 * stays in sqlite3_errmsg). */
static int ctl(sq_conn *c, int q)
{
	int rc = sqlite3_step(c->st[q]);

	sqlite3_reset(c->st[q]);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A reader connection for read statement q, locked; its statement ready to bind. */
static sq_conn *rbegin(sq *s, int q)
{
	sq_conn *c;
	unsigned i, start;

	if (!s->nreaders) {
		c = &s->w;
		pthread_mutex_lock(&c->lock);
	} else {
		start = atomic_fetch_add(&s->next_reader, 1u) % (unsigned)s->nreaders;
		c = NULL;
		for (i = 0; i < (unsigned)s->nreaders && !c; i++)
			if (!pthread_mutex_trylock(&s->r[(start + i) % (unsigned)s->nreaders].lock))
				c = &s->r[(start + i) % (unsigned)s->nreaders];
		if (!c) {
			c = &s->r[start];
			pthread_mutex_lock(&c->lock);
		}
	}
	stmt_reset(c, q);
	return c;
}

static void rend(sq_conn *c, int q)
{
	stmt_reset(c, q);
	pthread_mutex_unlock(&c->lock);
}

enum { SQ_DURABLE, SQ_LAZY };

/* Join the open write batch (or open one) and return the writer with statement q ready, its
 * lock held; NULL (err set, lock released) when no transaction could be opened. A durable
 * write (SQ_DURABLE) is acknowledged once its COMMIT is fsynced; a lazy one (SQ_LAZY, the
 * attest commit only: see the top of this file) once it is committed. */
static sq_conn *wbegin_as(sq *s, int q, int lazy, cct_err *err)
{
	atomic_fetch_add(&s->arriving, 1);
	pthread_mutex_lock(&s->w.lock);
	atomic_fetch_sub(&s->arriving, 1);
	/* a batch SQLite rolled back on its own is finished (failed) by its leader first; a
	 * durable write does not join a lazy batch (its synchronous level is fixed at BEGIN) */
	while (s->txn_open && (s->broken || (!lazy && s->batch_lazy))) {
		s->durable_waiting += !lazy;
		pthread_cond_wait(&s->batch_done, &s->w.lock);
		s->durable_waiting -= !lazy;
	}
	if (!s->txn_open) {
		/* a lazy write opens a durable batch while a durable write waits, so a stream of
		 * attests cannot keep durable writes out */
		if (s->durable_waiting)
			lazy = SQ_DURABLE;
		/* PRAGMA synchronous cannot change inside a transaction: set it for this batch */
		if (lazy != s->sync_normal) {
			if (sqlite3_exec(s->w.db,
					 lazy ? "PRAGMA synchronous = NORMAL"
					      : "PRAGMA synchronous = FULL",
					 NULL, NULL, NULL) != SQLITE_OK) {
				dberr(s, err, "synchronous");
				pthread_mutex_unlock(&s->w.lock);
				return NULL;
			}
			s->sync_normal = lazy;
		}
		if (ctl(&s->w, Q_BEGIN) != SQLITE_OK) {
			dberr(s, err, "begin");
			pthread_mutex_unlock(&s->w.lock);
			return NULL;
		}
		s->txn_open = 1;
		s->batch_lazy = lazy;
		s->leader = 0;
		s->batch++;
	}
	stmt_reset(&s->w, q);
	return &s->w;
}

static sq_conn *wbegin(sq *s, int q, cct_err *err)
{
	return wbegin_as(s, q, SQ_DURABLE, err);
}

/* After the caller's statement ran (result rc): wait until its batch is committed (and, unless
 * the batch is lazy, durable), committing it if this writer leads the batch. The write's
 * result, or EIO when the batch was lost. */
static int wend(sq *s, int q, int rc, cct_err *err)
{
	uint64_t my = s->batch;
	int spins, failed;

	stmt_reset(&s->w, q);
	if (sqlite3_get_autocommit(s->w.db))
		s->broken = 1; /* SQLite rolled the whole transaction back (I/O error, full disk) */
	if (!s->leader) {
		s->leader = 1;
		/* writers already queued on the lock join this batch before it commits */
		for (spins = 0; spins < SQ_JOIN_SPINS && !s->broken &&
				atomic_load(&s->arriving) > 0;
		     spins++) {
			pthread_mutex_unlock(&s->w.lock);
			sched_yield();
			pthread_mutex_lock(&s->w.lock);
		}
		if (s->broken ||
		    ctl(&s->w, Q_COMMIT) != SQLITE_OK) {
			if (!sqlite3_get_autocommit(s->w.db))
				ctl(&s->w, Q_ROLLBACK);
			s->failed = my;
		}
		s->txn_open = 0;
		s->broken = 0;
		s->done = my;
		pthread_cond_broadcast(&s->batch_done);
	} else {
		while (s->done < my)
			pthread_cond_wait(&s->batch_done, &s->w.lock);
	}
	failed = s->failed == my;
	pthread_mutex_unlock(&s->w.lock);
	if (failed && rc == CCT_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0,
				 "sqlite commit failed: the write was not stored");
	return rc;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

/* ?1..?5 of the session inserts: id, tee, nonce, created, expires. */
static void bind_session(sqlite3_stmt *st, const cct_store_session *ss)
{
	sqlite3_bind_text(st, 1, ss->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ss->tee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ss->nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ss->created);
	sqlite3_bind_int64(st, 5, ss->expires);
}

static int sq_session_put(void *impl, const cct_store_session *ss, cct_err *err)
{
	sq *s = impl;
	sq_conn *c = wbegin(s, Q_SESSION_PUT, err);
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return CCT_EIO;
	st = c->st[Q_SESSION_PUT];
	bind_session(st, ss);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "session insert");
	return wend(s, Q_SESSION_PUT, rc, err);
}

static void copy_str(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static int sq_session_get(void *impl, const char *id, cct_store_session *out, cct_err *err)
{
	sq *s = impl;
	sq_conn *c = rbegin(s, Q_SESSION_GET);
	sqlite3_stmt *st = c->st[Q_SESSION_GET];
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
		rc = dberr_db(c->db, err, "session read");
	}
	rend(c, Q_SESSION_GET);
	return rc;
}

/* On the writer, in the open batch: spend the nonce (CCT_ENONCE when it cannot be). */
static int step_consume(sq *s, sq_conn *c, const char *id, const char *nonce, int64_t now,
			cct_err *err)
{
	sqlite3_stmt *st = c->st[Q_SESSION_CONSUME];
	int rc;

	stmt_reset(c, Q_SESSION_CONSUME);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "nonce update");
	else if (sqlite3_changes(c->db) != 1)
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
				 "nonce already used, not this session's, or the session expired");
	else
		rc = CCT_OK;
	stmt_reset(c, Q_SESSION_CONSUME);
	return rc;
}

/* On the writer, in the open batch: the session's row unless it exists. */
static int step_ensure(sq *s, sq_conn *c, const cct_store_session *ss, cct_err *err)
{
	sqlite3_stmt *st = c->st[Q_SESSION_ENSURE];
	int rc;

	stmt_reset(c, Q_SESSION_ENSURE);
	bind_session(st, ss);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "session insert");
	stmt_reset(c, Q_SESSION_ENSURE);
	return rc;
}

/* On the writer, in the open batch: the attested state (CCT_EINVAL when already attested). */
static int step_attested(sq *s, sq_conn *c, const char *id, const char *token,
			 const char *claims, const char *tee_pubkey, const char *digest,
			 cct_err *err)
{
	sqlite3_stmt *st = c->st[Q_SESSION_ATTESTED];
	int rc;

	stmt_reset(c, Q_SESSION_ATTESTED);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, claims, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tee_pubkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "session update");
	else if (sqlite3_changes(c->db) != 1)
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "no such session, or it is attested already");
	else
		rc = CCT_OK;
	stmt_reset(c, Q_SESSION_ATTESTED);
	return rc;
}

/* On the writer, in the open batch: one audit record; *id (may be NULL) its sequence. */
static int step_audit(sq *s, sq_conn *c, int64_t time, const char *record, int64_t *id,
		      cct_err *err)
{
	sqlite3_stmt *st = c->st[Q_AUDIT_APPEND];
	int rc;

	stmt_reset(c, Q_AUDIT_APPEND);
	sqlite3_bind_int64(st, 1, time);
	sqlite3_bind_text(st, 2, record, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "audit append");
	if (rc == CCT_OK && id)
		*id = sqlite3_last_insert_rowid(c->db);
	stmt_reset(c, Q_AUDIT_APPEND);
	return rc;
}

static int sq_session_consume(void *impl, const char *id, const char *nonce, int64_t now,
			      cct_err *err)
{
	sq *s = impl;
	sq_conn *c = wbegin(s, Q_SESSION_CONSUME, err);

	if (!c)
		return CCT_EIO;
	return wend(s, Q_SESSION_CONSUME, step_consume(s, c, id, nonce, now, err), err);
}

static int sq_session_attested(void *impl, const char *id, const char *token,
			       const char *claims, const char *tee_pubkey, const char *digest,
			       cct_err *err)
{
	sq *s = impl;
	sq_conn *c = wbegin(s, Q_SESSION_ATTESTED, err);

	if (!c)
		return CCT_EIO;
	return wend(s, Q_SESSION_ATTESTED,
		    step_attested(s, c, id, token, claims, tee_pubkey, digest, err), err);
}

/* The session's row (unless it exists), nonce spent, attested state set and audit record
 * appended in one savepoint of the open batch: all or none, one commit for them; a lazy
 * write (durable with the next durable commit: the top of this file says why). */
static int sq_session_attest_commit(void *impl, const cct_store_session *ss, int64_t now,
				    const char *token, const char *claims, const char *tee_pubkey,
				    const char *digest, int64_t audit_time, const char *record,
				    cct_err *err)
{
	const char *id = ss->id, *nonce = ss->nonce;
	sq *s = impl;
	sq_conn *c = wbegin_as(s, Q_SESSION_CONSUME, SQ_LAZY, err);
	int rc;

	if (!c)
		return CCT_EIO;
	if (ctl(c, Q_SAVEPOINT) != SQLITE_OK)
		return wend(s, Q_SESSION_CONSUME, dberr(s, err, "savepoint"), err);
	rc = step_ensure(s, c, ss, err);
	if (rc == CCT_OK)
		rc = step_consume(s, c, id, nonce, now, err);
	if (rc == CCT_OK)
		rc = step_attested(s, c, id, token, claims, tee_pubkey, digest, err);
	if (rc == CCT_OK)
		rc = step_audit(s, c, audit_time, record, NULL, err);
	if (rc != CCT_OK && !sqlite3_get_autocommit(c->db))
		ctl(c, Q_ROLLBACK_TO);
	if (!sqlite3_get_autocommit(c->db))
		ctl(c, Q_RELEASE);
	return wend(s, Q_SESSION_CONSUME, rc, err);
}

/* One bound-only-by-time write (session gc, audit prune, session cap). */
static int write_i64(sq *s, int q, int64_t v, const char *what, cct_err *err)
{
	sq_conn *c = wbegin(s, q, err);
	int rc;

	if (!c)
		return CCT_EIO;
	sqlite3_bind_int64(c->st[q], 1, v);
	rc = sqlite3_step(c->st[q]) == SQLITE_DONE ? CCT_OK : dberr(s, err, what);
	return wend(s, q, rc, err);
}

static int sq_session_gc(void *impl, int64_t now, cct_err *err)
{
	return write_i64(impl, Q_SESSION_GC, now, "session gc", err);
}

static int sq_obj_put(void *impl, const char *kind, const char *name, const uint8_t *v, size_t n,
		      int64_t now, cct_err *err)
{
	sq *s = impl;
	sq_conn *c;
	sqlite3_stmt *st;
	int rc;

	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	if (!(c = wbegin(s, Q_OBJ_PUT, err)))
		return CCT_EIO;
	st = c->st[Q_OBJ_PUT];
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, n ? (const void *)v : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "object write");
	return wend(s, Q_OBJ_PUT, rc, err);
}

static int sq_obj_create(void *impl, const char *kind, const char *name, const uint8_t *v,
			 size_t n, int64_t now, int *created, cct_err *err)
{
	sq *s = impl;
	sq_conn *c;
	sqlite3_stmt *st;
	int rc, made = 0;

	*created = 0;
	if (n > CCT_STORE_MAX_VALUE + 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0, "object too large");
	if (!(c = wbegin(s, Q_OBJ_CREATE, err)))
		return CCT_EIO;
	st = c->st[Q_OBJ_CREATE];
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, n ? (const void *)v : "", (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? CCT_OK : dberr(s, err, "object create");
	if (rc == CCT_OK)
		made = sqlite3_changes(c->db) == 1;
	rc = wend(s, Q_OBJ_CREATE, rc, err);
	*created = rc == CCT_OK && made; /* created only once it is durable */
	return rc;
}

static int sq_obj_get(void *impl, const char *kind, const char *name, uint8_t **v, size_t *n,
		      cct_err *err)
{
	sq *s = impl;
	sq_conn *c = rbegin(s, Q_OBJ_GET);
	sqlite3_stmt *st = c->st[Q_OBJ_GET];
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
		rc = dberr_db(c->db, err, "object read");
	}
	rend(c, Q_OBJ_GET);
	return rc;
}

static int sq_obj_delete(void *impl, const char *kind, const char *name, cct_err *err)
{
	sq *s = impl;
	sq_conn *c = wbegin(s, Q_OBJ_DELETE, err);
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return CCT_EIO;
	st = c->st[Q_OBJ_DELETE];
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(s, err, "object delete");
	else
		rc = sqlite3_changes(c->db) == 1
			     ? CCT_OK
			     : cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s",
					   kind, name);
	return wend(s, Q_OBJ_DELETE, rc, err);
}

static int sq_obj_list(void *impl, const char *kind, char **json_out, cct_err *err)
{
	sq *s = impl;
	sq_conn *c = rbegin(s, Q_OBJ_LIST);
	sqlite3_stmt *st = c->st[Q_OBJ_LIST];
	json_t *arr = json_array();
	int rc = CCT_OK, r;

	*json_out = NULL;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
	if (r != SQLITE_DONE)
		rc = dberr_db(c->db, err, "object list");
	rend(c, Q_OBJ_LIST);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

static int sq_audit_append(void *impl, int64_t time, const char *record, int64_t *id_out,
			   cct_err *err)
{
	sq *s = impl;
	sq_conn *c = wbegin(s, Q_AUDIT_APPEND, err);
	int64_t id = 0;
	int rc;

	if (!c)
		return CCT_EIO;
	rc = step_audit(s, c, time, record, &id, err);
	rc = wend(s, Q_AUDIT_APPEND, rc, err);
	if (rc == CCT_OK && id_out)
		*id_out = id;
	return rc;
}

static int sq_audit_query(void *impl, int64_t after, int limit, char **json_out, cct_err *err)
{
	sq *s = impl;
	sq_conn *c = rbegin(s, Q_AUDIT_QUERY);
	sqlite3_stmt *st = c->st[Q_AUDIT_QUERY];
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
		rc = dberr_db(c->db, err, "audit query");
	rend(c, Q_AUDIT_QUERY);
	if (rc == CCT_OK && !(*json_out = json_dumps(arr, JSON_COMPACT)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(arr);
	return rc;
}

static int sq_ping(void *impl)
{
	sq *s = impl;
	sq_conn *c = rbegin(s, Q_PING);
	int ok = sqlite3_step(c->st[Q_PING]) == SQLITE_ROW;

	rend(c, Q_PING);
	return ok;
}

static void conn_close(sq_conn *c)
{
	int i;

	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->lock);
}

static void sq_close(void *impl)
{
	sq *s = impl;
	int i;

	if (!s)
		return;
	for (i = 0; i < s->nalloc; i++)
		conn_close(&s->r[i]);
	free(s->r);
	conn_close(&s->w);
	pthread_cond_destroy(&s->batch_done);
	free(s);
}

static int sq_session_prune(void *impl, int64_t now, int64_t max_rows, int64_t *remaining,
			    cct_err *err)
{
	sq *s = impl;
	sq_conn *c;
	int rc;

	if ((rc = sq_session_gc(impl, now, err)) != CCT_OK)
		return rc;
	if (max_rows > 0) {
		/* one write: the eviction horizon, then the cap (sessions.c: a challenge created
		 * at or before the horizon without a row was evicted, not fresh) */
		if (!(c = wbegin(s, Q_SESSION_HORIZON, err)))
			return CCT_EIO;
		sqlite3_bind_int64(c->st[Q_SESSION_HORIZON], 1, max_rows);
		sqlite3_bind_int64(c->st[Q_SESSION_HORIZON], 2, now);
		rc = sqlite3_step(c->st[Q_SESSION_HORIZON]) == SQLITE_DONE
			     ? CCT_OK
			     : dberr(s, err, "session horizon");
		if (rc == CCT_OK) {
			stmt_reset(c, Q_SESSION_CAP);
			sqlite3_bind_int64(c->st[Q_SESSION_CAP], 1, max_rows);
			rc = sqlite3_step(c->st[Q_SESSION_CAP]) == SQLITE_DONE
				     ? CCT_OK
				     : dberr(s, err, "session cap");
			stmt_reset(c, Q_SESSION_CAP);
		}
		if ((rc = wend(s, Q_SESSION_HORIZON, rc, err)) != CCT_OK)
			return rc;
	}
	c = rbegin(s, Q_SESSION_COUNT);
	if (sqlite3_step(c->st[Q_SESSION_COUNT]) == SQLITE_ROW) {
		if (remaining)
			*remaining = sqlite3_column_int64(c->st[Q_SESSION_COUNT], 0);
	} else {
		rc = dberr_db(c->db, err, "session count");
	}
	rend(c, Q_SESSION_COUNT);
	return rc;
}

static int sq_audit_prune(void *impl, int64_t before, cct_err *err)
{
	return write_i64(impl, Q_AUDIT_PRUNE, before, "audit prune", err);
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
	.session_attest_commit = sq_session_attest_commit,
};

static int exec(sq *s, const char *q, cct_err *err)
{
	char *msg = NULL;
	int rc = CCT_OK;

	if (sqlite3_exec(s->w.db, q, NULL, NULL, &msg) != SQLITE_OK)
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

	if (sqlite3_prepare_v2(s->w.db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
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

/* Open one connection; the writer gets every statement, a reader only the read ones and
 * refuses writes (query_only). */
static int conn_open(sq_conn *c, const char *path, int reader, cct_err *err)
{
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return dberr_db(c->db, err, "open");
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db,
			 reader ? "PRAGMA query_only = ON;"
				: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
				  "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return dberr_db(c->db, err, "pragmas");
	return CCT_OK;
}

static int conn_prepare(sq_conn *c, int reader, cct_err *err)
{
	int i;

	for (i = 0; i < Q_COUNT; i++) {
		if (reader && !is_read(i))
			continue;
		if (sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
				       NULL) != SQLITE_OK)
			return dberr_db(c->db, err, "prepare");
	}
	return CCT_OK;
}

int cct_store_sqlite_open(const cct_store_ops **ops, void **impl, const char *path,
			  unsigned readers, cct_err *err)
{
	sq *s = calloc(1, sizeof(*s));
	int i, rc = CCT_ERROR;

	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	pthread_mutex_init(&s->w.lock, NULL);
	pthread_cond_init(&s->batch_done, NULL);
	if (readers < 1 || readers > CCT_STORE_CONNECTIONS_MAX) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "sqlite: %u reader connections: expected 1..%d", readers,
				 CCT_STORE_CONNECTIONS_MAX);
		goto fail;
	}
	s->r = calloc(readers, sizeof(*s->r));
	if (!s->r) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto fail;
	}
	s->nalloc = (int)readers;
	for (i = 0; i < s->nalloc; i++)
		pthread_mutex_init(&s->r[i].lock, NULL);
	if (!path || !*path) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "sqlite: empty path");
		goto fail;
	}
	if ((rc = conn_open(&s->w, path, 0, err)) != CCT_OK || (rc = migrate(s, err)) != CCT_OK ||
	    (rc = conn_prepare(&s->w, 0, err)) != CCT_OK)
		goto fail;
	/* an in-memory database is private to its connection: reads go through the writer */
	s->nreaders = !strcmp(path, ":memory:") || strstr(path, "mode=memory") ? 0 : s->nalloc;
	for (i = 0; i < s->nreaders; i++)
		if ((rc = conn_open(&s->r[i], path, 1, err)) != CCT_OK ||
		    (rc = conn_prepare(&s->r[i], 1, err)) != CCT_OK)
			goto fail;
	*ops = &sqlite_ops;
	*impl = s;
	return CCT_OK;
fail:
	sq_close(s);
	return rc;
}
