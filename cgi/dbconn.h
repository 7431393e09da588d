/*
 * dbconn.h - this process's database handle, opened lazily on the first request that needs
 * it (each preforked child opens its own, after the fork) and kept for the next ones.
 * A failed open is retried on the next request; a handle that failed mid-request is closed
 * so the next request starts from a fresh one.
 */
#ifndef PTS_CGI_DBCONN_H
#define PTS_CGI_DBCONN_H

#include <sqlite3.h>

/* The open handle, opening it now if needed; NULL when the database is unavailable. */
sqlite3 *dbc_get(void);
/* The handle if it is open now, else NULL (never opens one). */
sqlite3 *dbc_peek(void);
/* Close the handle (NULL safe to call twice); the next dbc_get() reopens. */
void dbc_close(void);

#endif
