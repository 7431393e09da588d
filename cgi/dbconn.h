/*
 * dbconn.h - this process's database handle, opened lazily on the first request that needs
 * it (each preforked child opens its own, after the fork) and kept for the next ones.
 * A failed open is retried on the next request; a handle that failed mid-request is closed
 * so the next request starts from a fresh one.
 *
 * Households: the handles of profiles other than 1 (common/dbprofile.h) are kept the same
 * way, a few at a time; dbc_close() closes them all with the main one. Handles are this
 * module's: callers never close them.
 */
#ifndef PTS_CGI_DBCONN_H
#define PTS_CGI_DBCONN_H

#include <sqlite3.h>
#include <stdint.h>

/* Profiles' handles kept open per process (a household has a handful of people). */
#define DBC_PROFILES_MAX 8

/* The open handle, opening it now if needed; NULL when the database is unavailable. */
sqlite3 *dbc_get(void);
/* The handle if it is open now, else NULL (never opens one). */
sqlite3 *dbc_peek(void);
/*
 * The handle of profile id (1: dbc_get()), checked against pts.db's profiles table on every
 * call. 0 with *out set, 1 when there is no such profile, -1 when a database is unavailable.
 */
int dbc_profile(int64_t id, sqlite3 **out);
/* Close profile id's cached handle, if any (before its file is removed). */
void dbc_profile_forget(int64_t id);
/* Close the handle (NULL safe to call twice); the next dbc_get() reopens. */
void dbc_close(void);

#endif
