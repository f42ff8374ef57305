/* PostgreSQL back end of the store (postgres.c). It is a library of its own (cctrust_pg, linked
 * only into what serves a fleet: cctrustd and its tests), so the CLI never loads libpq. */
#ifndef CCT_STORE_POSTGRES_H
#define CCT_STORE_POSTGRES_H

/* Register the PostgreSQL back end (postgres:// and postgresql://) with cct_store_register.
 * Returns 1 when registered, 0 when this build has no libpq. */
int cct_store_postgres_register(void);

/* 1 when the connection string (a URI or key=value words, as libpq reads it) holds a password,
 * 0 when it holds none, does not parse, or this build has no libpq. */
int cct_store_postgres_has_password(const char *conninfo);

#endif
