/* cctrust store: the key broker's state (sessions, nonces, resources, policies, reference
 * values, audit) behind one interface with two back ends: SQLite (embedded default, one file,
 * WAL) and PostgreSQL (several cctrustd replicas share one database).
 *
 * Secrets are encrypted at rest by this layer, never by a back end: AES-256-GCM under a 32-byte
 * master key, a fresh 96-bit nonce per row, the object's kind and name as associated data (so
 * a row copied under another name does not decrypt). Back ends only see ciphertext.
 * Every statement is prepared; SQL text is never built from request data. */
#ifndef CCTRUST_STORE_H
#define CCTRUST_STORE_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_STORE_MAX_NAME 256            /**< object name (e.g. "repo/type/tag") */
#define CCT_STORE_MAX_VALUE (1u << 20)    /**< one object (secret, policy) */
#define CCT_STORE_MAX_SESSION_TEXT (256u * 1024u) /**< token / claims kept with a session */
#define CCT_STORE_MAX_AUDIT 1000          /**< audit records returned by one query */
#define CCT_STORE_KEY_SIZE 32

/** Object kinds kept in the generic object table. */
#define CCT_STORE_KIND_RESOURCE "resource"      /**< secret bytes: encrypted at rest */
#define CCT_STORE_KIND_ATT_POLICY "attestation-policy"
#define CCT_STORE_KIND_RES_POLICY "resource-policy"
#define CCT_STORE_KIND_REFVAL "reference-value"
/** The admin key set (JWKS) when kept in the store: sealed under the row key. */
#define CCT_STORE_KIND_ADMIN_KEYS "admin-keys"
/** The eviction horizon of the session cap (name "evicted"): the creation time (unix seconds,
 *  decimal text) of the newest session row the cap deleted before it expired. */
#define CCT_STORE_KIND_SESSION_HORIZON "session-horizon"
/** The service's own keys (e.g. the EAR signing key): encrypted at rest, never reachable
 *  through the admin or resource API. */
#define CCT_STORE_KIND_SERVICE_KEY "service-key"

/** One KBS session (auth -> attest -> resource). Strings are NUL-terminated; the three
 *  malloc'd members are NULL until the session is attested. */
typedef struct cct_store_session {
	char id[65];          /**< hex SHA-256 of the cookie value (the cookie itself is not kept) */
	char tee[33];
	char nonce[64];       /**< base64 of the 32-byte challenge */
	int64_t created;      /**< unix seconds */
	int64_t expires;      /**< session (and nonce) expiry */
	int nonce_used;       /**< 1 once an attest consumed the nonce */
	char evidence_digest[65]; /**< hex SHA-256 of the attest request body ("" before) */
	char *token;          /**< EAR JWT issued on attest (malloc'd) */
	char *claims;         /**< verified claims JSON (malloc'd) */
	char *tee_pubkey;     /**< attested tee-pubkey JWK JSON (malloc'd) */
} cct_store_session;

/** Release the malloc'd members of s (not s itself). */
CCT_EXTERN void cct_store_session_clear(cct_store_session *s);

/** A back end: plain rows, no crypto. Every call is thread-safe; each write is one
 *  transaction that is durable when the call returns CCT_OK, except session_attest_commit:
 *  committed (visible, and it survives the process being killed) but durable against power
 *  loss only from the back end's next durable commit, which a release's audit record is;
 *  see docs/kbs.md "Storage". Errors: CCT_EIO (database),
 *  CCT_EINVAL (missing row where one is needed), CCT_ENONCE (nonce already used / expired). */
typedef struct cct_store_ops {
	const char *name; /**< "sqlite", "postgres" */
	int (*session_put)(void *impl, const cct_store_session *s, cct_err *err);
	/** CCT_OK and *out filled, or CCT_EINVAL when absent. */
	int (*session_get)(void *impl, const char *id, cct_store_session *out, cct_err *err);
	/** Atomically: nonce unused, matching and session not expired at now -> mark used. */
	int (*session_consume_nonce)(void *impl, const char *id, const char *nonce, int64_t now,
				     cct_err *err);
	int (*session_set_attested)(void *impl, const char *id, const char *token,
				    const char *claims, const char *tee_pubkey,
				    const char *evidence_digest, cct_err *err);
	/** Delete sessions expired before now. */
	int (*session_gc)(void *impl, int64_t now, cct_err *err);
	int (*obj_put)(void *impl, const char *kind, const char *name, const uint8_t *v, size_t n,
		       int64_t now, cct_err *err);
	/** CCT_OK with *v malloc'd, or CCT_EINVAL when absent. */
	int (*obj_get)(void *impl, const char *kind, const char *name, uint8_t **v, size_t *n,
		       cct_err *err);
	/** CCT_OK, or CCT_EINVAL when absent. */
	int (*obj_delete)(void *impl, const char *kind, const char *name, cct_err *err);
	/** JSON array text of names of that kind (malloc'd). */
	int (*obj_list)(void *impl, const char *kind, char **json_out, cct_err *err);
	/** Append one audit record (JSON object text); *id_out (may be NULL) its sequence. */
	int (*audit_append)(void *impl, int64_t time, const char *record_json, int64_t *id_out,
			    cct_err *err);
	/** JSON array text of records with id > after_id, oldest first, at most limit. */
	int (*audit_query)(void *impl, int64_t after_id, int limit, char **json_out, cct_err *err);
	/** 1 if the database answers (readiness). */
	int (*ping)(void *impl);
	void (*close)(void *impl);
	/** Insert only if (kind, name) is absent (replicas racing to create the same row: one
	 *  wins, all then read the winner). *created = 1 when this call inserted it. */
	int (*obj_create)(void *impl, const char *kind, const char *name, const uint8_t *v,
			  size_t n, int64_t now, int *created, cct_err *err);
	/** Delete sessions expired at now, then the oldest beyond max_rows (0: no cap);
	 *  *remaining (may be NULL) = rows left. */
	int (*session_prune)(void *impl, int64_t now, int64_t max_rows, int64_t *remaining,
			     cct_err *err);
	/** Delete audit records older than before (retention). */
	int (*audit_prune)(void *impl, int64_t before, cct_err *err);
	/** Optional (NULL: the store front runs session_put when the row is absent,
	 *  session_consume_nonce, session_set_attested and audit_append one after the other). All
	 *  or nothing in one transaction: insert the session's row from s (id, tee, nonce,
	 *  created, expires; nonce unused) unless it exists, consume the nonce s->nonce as
	 *  session_consume_nonce does (CCT_ENONCE when spent), set the attested state as
	 *  session_set_attested does, append the audit record. */
	int (*session_attest_commit)(void *impl, const cct_store_session *s, int64_t now,
				     const char *token, const char *claims, const char *tee_pubkey,
				     const char *evidence_digest, int64_t audit_time,
				     const char *audit_record, cct_err *err);
} cct_store_ops;

typedef struct cct_store cct_store;

/** Connections a back end keeps open: SQLite reader connections (beside its one writer), or
 *  the PostgreSQL pool. Each request holds one for the length of one statement or
 *  transaction, so a broker with more worker threads than connections queues there. */
#define CCT_STORE_CONNECTIONS_DEFAULT 4
#define CCT_STORE_CONNECTIONS_MAX 256

typedef struct cct_store_open_opts {
	unsigned connections; /**< 0: CCT_STORE_CONNECTIONS_DEFAULT; 1..CCT_STORE_CONNECTIONS_MAX */
	/** A file keeping the newest generation of every sealed row this store wrote or opened
	 *  (MAC'd under the master key), so that a row a database writer rolls back to an older
	 *  sealed version is refused also after a restart. NULL: kept in memory only. */
	const char *generations;
} cct_store_open_opts;

/** Open a store from a URL: "sqlite:PATH", "sqlite::memory:", or any URL handled by a back
 *  end registered with cct_store_register (e.g. "postgres://..." from cctrustd).
 *  master_key: 32 bytes; copied (and wiped on free). *out freed with cct_store_free().
 *  Errors: CCT_EINVAL (URL), CCT_EUNSUPPORTED (no back end), CCT_EIO (open / migrate). */
CCT_EXTERN int cct_store_open(cct_store **out, const char *url,
			      const uint8_t master_key[CCT_STORE_KEY_SIZE], cct_err *err);
/** cct_store_open with options (opts may be NULL: the defaults). Errors as cct_store_open,
 *  and CCT_EINVAL for connections over CCT_STORE_CONNECTIONS_MAX. */
CCT_EXTERN int cct_store_open_ex(cct_store **out, const char *url,
				 const uint8_t master_key[CCT_STORE_KEY_SIZE],
				 const cct_store_open_opts *opts, cct_err *err);
/** Back-end factory for a URL scheme prefix ("postgres://", "postgresql://"). At most 4.
 *  connections: 1..CCT_STORE_CONNECTIONS_MAX, as cct_store_open_opts says. */
typedef int (*cct_store_open_fn)(const cct_store_ops **ops, void **impl, const char *url,
				 unsigned connections, cct_err *err);
CCT_EXTERN int cct_store_register(const char *prefix, cct_store_open_fn open_fn);
/** The SQLite back end (path or ":memory:"): WAL, migrations keyed on user_version; one
 *  writer connection and `readers` reader connections (none for an in-memory database). */
CCT_EXTERN int cct_store_sqlite_open(const cct_store_ops **ops, void **impl, const char *path,
				     unsigned readers, cct_err *err);
CCT_EXTERN void cct_store_free(cct_store *st);
/** The back end (for sessions, policies, audit: plain rows). Borrowed. */
CCT_EXTERN const cct_store_ops *cct_store_backend(const cct_store *st, void **impl);

/** Secrets: encrypted with the master key before they reach the back end. */
CCT_EXTERN int cct_store_secret_put(cct_store *st, const char *name, const uint8_t *v, size_t n,
				    int64_t now, cct_err *err);
/** *v malloc'd: wipe it (cct_wipe) and free. CCT_EINVAL absent; CCT_ESIGNATURE when the row
 *  does not decrypt (wrong master key, tampered row). */
CCT_EXTERN int cct_store_secret_get(cct_store *st, const char *name, uint8_t **v, size_t *n,
				    cct_err *err);

/** Master key from a file (32 raw bytes, or 64 hex digits, or base64) or from the environment
 *  variable env (same encodings). Exactly one of path/env is used: path when not NULL. */
CCT_EXTERN int cct_store_master_key_load(uint8_t key[CCT_STORE_KEY_SIZE], const char *path,
					 const char *env, cct_err *err);

/** Sealed objects of any kind (AES-256-GCM under the master key, aad = kind and name), e.g.
 *  CCT_STORE_KIND_SERVICE_KEY. _create inserts only when absent (*created says whether it
 *  did). _get: as cct_store_secret_get. Each write seals the row's generation with it (one
 *  more than the newest this store knows, or the stored row's when newer); a row opened
 *  older than the newest generation this store has written or opened is CCT_ESIGNATURE (a
 *  roll-back), and CCT_EIO when the generations file (cct_store_open_opts) cannot be
 *  updated. */
CCT_EXTERN int cct_store_sealed_put(cct_store *st, const char *kind, const char *name,
				    const uint8_t *v, size_t n, int64_t now, cct_err *err);
CCT_EXTERN int cct_store_sealed_create(cct_store *st, const char *kind, const char *name,
				       const uint8_t *v, size_t n, int64_t now, int *created,
				       cct_err *err);
CCT_EXTERN int cct_store_sealed_get(cct_store *st, const char *kind, const char *name,
				    uint8_t **v, size_t *n, cct_err *err);
/** Delete a sealed object, leaving a sealed tombstone (kind "tombstone:KIND", same name) with
 *  the deletion's generation, so that _get tells a deletion from a row a database writer
 *  removed: a row absent while this store knows a generation of it and no deletion at least
 *  as new is recorded is CCT_ESIGNATURE. CCT_EINVAL when there is no such row. A later _put
 *  writes a generation after the deletion's. */
CCT_EXTERN int cct_store_sealed_delete(cct_store *st, const char *kind, const char *name,
				       int64_t now, cct_err *err);

/** Row integrity. Every security-relevant row (attestation and resource policies, reference
 *  values, admin keys, attested sessions) is sealed with AES-256-GCM under a key derived from
 *  the master key (HKDF-SHA256, info "cctrust-store row integrity v1"); the associated data
 *  binds the table/kind and the row's identity, so a row cannot be forged, edited, or copied
 *  under another name or session id by someone who can write the database but lacks the master
 *  key. Use cct_store_sealed_put/get with these kinds; a row that fails is CCT_ESIGNATURE. */
CCT_EXTERN int cct_store_derive_key(uint8_t out[CCT_STORE_KEY_SIZE],
				    const uint8_t master[CCT_STORE_KEY_SIZE], const char *info);
/** Record a session as attested: s->id, tee, expires, token, claims, tee_pubkey and
 *  evidence_digest (and meta: JSON text or NULL, e.g. the policies it satisfied) are sealed
 *  into the row (aad "cctrust-store:sessions:<id>"). */
CCT_EXTERN int cct_store_session_seal_attested(cct_store *st, const cct_store_session *s,
					       const char *meta, cct_err *err);
/** The same, and in the same transaction (one commit where the back end can): spend the
 *  session's nonce s->nonce at now (CCT_ENONCE when it is spent already: a concurrent attempt
 *  won) and append audit_record (JSON object text) at now. Committed lazily: no fsync of its
 *  own; the next durable write (every release's audit record) makes it durable too. */
CCT_EXTERN int cct_store_session_attest_commit(cct_store *st, const cct_store_session *s,
					       const char *meta, int64_t now,
					       const char *audit_record, cct_err *err);
/** Longest session challenge cookie (cct_store_challenge_seal), and how one begins. */
#define CCT_STORE_MAX_CHALLENGE 256
#define CCT_STORE_CHALLENGE_PREFIX "c1."
/** A new session's challenge, held by the client instead of a row: s->tee, nonce, created and
 *  expires sealed with AES-256-GCM under a key derived from the master key (HKDF-SHA256, info
 *  "cctrust-store session challenge v1") into a cookie value: "c1." + base64url, at most
 *  CCT_STORE_MAX_CHALLENGE characters, NUL-terminated in out. Issuing a challenge writes
 *  nothing, so an unauthenticated caller cannot fill the database, and someone who can write
 *  the database but lacks the master key cannot mint one. The session's row appears at its
 *  attest (cct_store_session_attest_commit), or when a failed attest spends its nonce
 *  (cct_store_session_spend). */
CCT_EXTERN int cct_store_challenge_seal(cct_store *st, const cct_store_session *s,
				       char out[CCT_STORE_MAX_CHALLENGE + 1], cct_err *err);
/** Open a cookie made by cct_store_challenge_seal: out->tee, nonce, created, expires (the rest
 *  zero). CCT_EFORMAT when it is not one, CCT_ESIGNATURE when it was not sealed under this
 *  master key (forged, altered, or another broker's). The caller checks expiry. */
CCT_EXTERN int cct_store_challenge_open(cct_store *st, const char *cookie, cct_store_session *out,
				       cct_err *err);
/** The session cap's eviction horizon (CCT_STORE_KIND_SESSION_HORIZON), 0 when it never
 *  evicted. A challenge created at or before it whose session has no row may have been spent
 *  and evicted: it is not fresh. */
CCT_EXTERN int cct_store_session_horizon(cct_store *st, int64_t *horizon, cct_err *err);
/** Spend the nonce of a session that has no row yet or an unattested one (a failed attest):
 *  the row is created if absent (s->id, tee, nonce, created, expires), then its nonce marked
 *  used. Best effort: returns the back end's result. */
CCT_EXTERN int cct_store_session_spend(cct_store *st, const cct_store_session *s, int64_t now,
				      cct_err *err);
/** Read a session. Not yet attested: challenge state, token/claims/tee_pubkey NULL. Attested:
 *  the sealed state (expiry included) after its integrity check, *meta (may be NULL) malloc'd.
 *  CCT_EINVAL absent; CCT_ESIGNATURE for a row this broker did not seal. */
CCT_EXTERN int cct_store_session_open(cct_store *st, const char *id, cct_store_session *out,
				      char **meta, cct_err *err);

/** The encryption of a row (exposed for tests): out = 0x01 || nonce(12) || ct || tag(16). */
CCT_EXTERN int cct_store_seal(uint8_t **out, size_t *out_len, const uint8_t key[32],
			      const char *aad, const uint8_t *pt, size_t n, cct_err *err);
CCT_EXTERN int cct_store_unseal(uint8_t **out, size_t *out_len, const uint8_t key[32],
				const char *aad, const uint8_t *in, size_t n, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
