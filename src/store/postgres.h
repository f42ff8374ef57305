/* PostgreSQL back end of the store (postgres.c). It is a library of its own (cctrust_pg, linked
 * only into what serves a fleet: cctrustd and its tests), so the CLI never loads libpq. */
#ifndef CCT_STORE_POSTGRES_H
#define CCT_STORE_POSTGRES_H

/* Register the PostgreSQL back end (postgres:// and postgresql://) with cct_store_register.
 * Returns 1 when registered, 0 when this build has no libpq. */
int cct_store_postgres_register(void);

#endif
