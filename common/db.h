/*
 * db.h - the SQLite database both programs share (the only channel between them).
 *
 * One file under the data folder, WAL mode, busy_timeout set, foreign keys on, schema
 * versioned with PRAGMA user_version. The file is created 0600 (it holds tokens).
 *
 * Ownership: pts_db_open() returns a handle the caller closes with pts_db_close()
 * (NULL safe). Statements made with pts_db_prepare() are the caller's to finalize.
 * Every failure is logged here with sqlite3_errmsg(); callers only check the status.
 */
#ifndef PTS_DB_H
#define PTS_DB_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>

/* pts_now/pts_now_ms live in clock.h; included here while callers that stamp rows get them
 * through db.h (new code includes clock.h itself). */
#include "clock.h"

/* How long a writer waits for the other program's transaction before SQLITE_BUSY. */
#define PTS_DB_BUSY_TIMEOUT_MS 5000

/* The schema version (PRAGMA user_version) is the number of steps in schema.sql.h. */

/*
 * Open (creating 0600 and migrating if needed) the database at path: the installation's
 * file, which is also profile 1's (pts_profile() = 1). 0 or -1.
 */
int pts_db_open(const char *path, sqlite3 **out);

/*
 * Households (common/dbprofile.h opens a profile's connection). Every connection registers
 * the SQL function pts_profile(), its profile id: 1 on a plain connection. Queries on the
 * installation's tables that belong to a person (jobs, now_playing) filter or set
 * profile = pts_profile(). This is the C side of it (1 when it cannot be read).
 */
int64_t pts_db_profile(sqlite3 *db);

/*
 * The common part of every open, for dbprofile.c: create the file 0600 (never through a
 * symbolic link), open it, busy timeout, WAL, foreign keys, pts_profile() = profile. No
 * migration. 0 or -1 (logged).
 */
int pts_db_connect(const char *path, int64_t profile, sqlite3 **out);
void pts_db_close(sqlite3 *db);

/* Run SQL with no result rows. 0 or -1 (logged). */
int pts_db_exec(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 or -1. Rollback is safe without a transaction. */
int pts_db_begin(sqlite3 *db);
int pts_db_commit(sqlite3 *db);
void pts_db_rollback(sqlite3 *db);

/* Prepare a statement; NULL on error (logged). The caller finalizes it. */
sqlite3_stmt *pts_db_prepare(sqlite3 *db, const char *sql);

/*
 * A statement from the process's cache of prepared statements (prepared on first use with
 * SQLITE_PREPARE_PERSISTENT): parsing and planning a query costs more than running most of
 * ours. The caller binds and steps it, then hands it back with pts_db_done() (never
 * sqlite3_finalize). NULL on error (logged). The same SQL in use twice at once gets a second,
 * uncached statement. pts_db_close() finalizes a connection's cached statements.
 */
sqlite3_stmt *pts_db_cached(sqlite3 *db, const char *sql);
/* Give a pts_db_cached() statement back: reset, bindings cleared (NULL safe). */
void pts_db_done(sqlite3_stmt *st);

/*
 * Run one statement with text/int64 bindings given by a format string: 's' = const char *
 * (NULL binds NULL), 'i' = int64_t, 'n' = NULL. Returns 0 or -1 (logged). This function and
 * the two after it use the statement cache (pts_db_cached).
 */
int pts_db_run(sqlite3 *db, const char *sql, const char *fmt, ...);

/* Bind values to stmt from a format string as pts_db_run() does. 0 or -1. */
int pts_db_bindv(sqlite3_stmt *st, const char *fmt, va_list ap);

/* The first column of the first row as int64 (dflt when no row or NULL). 0 or -1. */
int pts_db_int(sqlite3 *db, int64_t *out, int64_t dflt, const char *sql, const char *fmt, ...);

/* The first column of the first row as a malloc'd string (NULL when no row/NULL). 0 or -1. */
int pts_db_text(sqlite3 *db, char **out, const char *sql, const char *fmt, ...);

/*
 * Internal key/value state (client identifier, schedule, ...): malloc'd copy or NULL. Keys of
 * the installation (pts_db_meta_installation: the client identifier, the settings wake-up,
 * the webhook token, the live scrobbler's poll, the server's identity) are pts.db's on every
 * connection; the others are the connection's profile's.
 */
int pts_db_meta_installation(const char *key);
char *pts_db_meta_get(sqlite3 *db, const char *key);
int pts_db_meta_set(sqlite3 *db, const char *key, const char *value);

#endif
